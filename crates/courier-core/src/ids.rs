//! Typed identifiers. Ids are random UUIDv4s: they are not secrets (access to a portal is
//! granted by its token, never by its id) but they reveal nothing about order or volume.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($name:ident) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn random() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = crate::ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| crate::ParseError::new(concat!("not a valid ", stringify!($name)), s))
            }
        }
    };
}

typed_id!(PortalId);
typed_id!(DocumentId);
typed_id!(UserId);
// A resumable (tus) upload in progress.
typed_id!(UploadId);

/// A finished resumable upload's document takes the upload's id: the partial file, sealed for
/// that id (format v1 binds a blob to its document id), becomes the document's blob as it is.
impl From<UploadId> for DocumentId {
    fn from(upload: UploadId) -> Self {
        Self(upload.0)
    }
}
