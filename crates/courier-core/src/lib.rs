//! Courier domain types. No I/O here: parsing at the edge, newtypes that can only hold valid
//! values, and the few rules every other crate shares.

pub mod domain;
pub mod filename;
pub mod ids;
pub mod time_fmt;
pub mod units;

pub use domain::{
    DlpAction, Language, LifecycleFacts, MemberRole, PortalFacts, PortalStatus, Role, ScanStatus, Sensitivity,
    SessionStage, ShareStatus, ShredReason, UnknownWord,
};
pub use filename::{FileName, is_invisible_format_char};
pub use ids::{DocumentId, PortalId, UploadId, UserId};
pub use units::{ByteSize, DurationSpec, ParseError, ParseKind};
