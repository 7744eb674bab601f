//! The closed sets of the domain, stored as short words: roles, a portal's status, what to do
//! with personal data, how far a sign-in got. Each parses strictly (an unknown word is an
//! error, never a default), prints the word it parses, and is matched exhaustively.

use std::fmt;
use std::str::FromStr;

/// Defines a word-valued enum: `as_str`, `FromStr` (strict), `Display`, `Serialize`, `ALL`.
macro_rules! word_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $word),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, UnknownWord> {
                match s {
                    $($word => Ok(Self::$variant),)+
                    _ => Err(UnknownWord {
                        what: $what,
                        given: s.chars().take(40).collect(),
                        known: &[$($word),+],
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let word = String::deserialize(d)?;
                word.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A word that is not one of its set's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{given:?} is not a {what} (one of: {})", known.join(", "))]
pub struct UnknownWord {
    pub what: &'static str,
    pub given: String,
    pub known: &'static [&'static str],
}

word_enum!(
    /// A staff member's firm-wide role.
    Role, "role" {
        Admin => "admin",
        Attorney => "attorney",
        Paralegal => "paralegal",
    }
);

word_enum!(
    /// A member's role on one matter.
    MemberRole, "matter role" {
        Attorney => "attorney",
        Paralegal => "paralegal",
    }
);

word_enum!(
    /// How closely a matter is held: restricted matters are for their members alone.
    Sensitivity, "sensitivity" {
        Normal => "normal",
        Confidential => "confidential",
        Restricted => "restricted",
    }
);

word_enum!(
    /// What happens to an upload in which personal data was found.
    DlpAction, "personal-data action" {
        /// Accept it and show the findings.
        Flag => "flag",
        /// Accept it but hold it until staff release it.
        Quarantine => "quarantine",
        /// Refuse it.
        Block => "block",
    }
);

word_enum!(
    /// A language the client and share pages are written in.
    Language, "language" {
        En => "en",
        Fr => "fr",
    }
);

word_enum!(
    /// How far a staff session got.
    SessionStage, "session stage" {
        /// Password given, second factor owed.
        Mfa => "mfa",
        /// Password given, an authenticator must be enrolled first.
        Enrol => "enrol",
        /// Signed in.
        Full => "full",
    }
);

word_enum!(
    /// Where a portal's link stands, in the order the rules are checked.
    PortalStatus, "portal status" {
        Active => "active",
        Disabled => "disabled",
        Expired => "expired",
        /// Its matter is archived.
        Closed => "closed",
        Deleted => "deleted",
        /// Its stored rules (file types) do not parse: changed behind Courier's back. It takes
        /// nothing; `PortalStatus::of` never says this, the reader of the rules does.
        Unreadable => "unreadable",
    }
);

word_enum!(
    /// Where a share's link stands.
    ShareStatus, "share status" {
        Active => "active",
        Revoked => "revoked",
        Expired => "expired",
        /// Its matter is archived.
        Closed => "closed",
    }
);

word_enum!(
    /// What the scanners made of a stored document.
    ScanStatus, "scan status" {
        Clean => "clean",
        /// Personal data found; served with the findings shown.
        Flagged => "flagged",
        /// Personal data found; held until released.
        Quarantined => "quarantined",
        /// Malware found and the firm keeps such files (held).
        Infected => "infected",
        /// No scanner could look inside (scanning off, or no text to read).
        Unscanned => "unscanned",
    }
);

impl ShareStatus {
    /// Revoked beats expired beats closed.
    pub fn of(revoked: bool, expires_at: Option<i64>, matter_archived: bool, now_ms: i64) -> Self {
        if revoked {
            Self::Revoked
        } else if expires_at.is_some_and(|e| e <= now_ms) {
            Self::Expired
        } else if matter_archived {
            Self::Closed
        } else {
            Self::Active
        }
    }
}

/// The facts a portal's status follows from.
#[derive(Debug, Clone, Copy)]
pub struct PortalFacts {
    pub deleted: bool,
    pub expires_at: Option<i64>,
    pub enabled: bool,
    pub matter_archived: bool,
}

impl PortalStatus {
    /// Deleted beats expired beats disabled beats closed; only a portal none of them applies
    /// to takes uploads.
    pub fn of(p: PortalFacts, now_ms: i64) -> Self {
        if p.deleted {
            Self::Deleted
        } else if p.expires_at.is_some_and(|e| e <= now_ms) {
            Self::Expired
        } else if !p.enabled {
            Self::Disabled
        } else if p.matter_archived {
            Self::Closed
        } else {
            Self::Active
        }
    }

    pub fn takes_uploads(self) -> bool {
        matches!(self, Self::Active)
    }
}

word_enum!(
    /// Why a document was shredded (`deletion_reason`).
    ShredReason, "deletion reason" {
        /// A staff member or the operator deleted it.
        Staff => "staff",
        /// Its retention ran out.
        Retention => "retention",
        /// It was filed in the firm's DMS and the grace period after that ran out.
        Filed => "filed",
        /// Its portal was deleted with it.
        PortalDeleted => "portal_deleted",
        /// A restore replayed the deletion journal.
        RestoredJournal => "restored_journal",
    }
);

/// What decides when a live document is shredded by itself (all times Unix milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleFacts {
    pub uploaded_at: i64,
    /// The portal's own retention, the matter's, and the firm's (the setting `retention`).
    pub portal_retention: Option<i64>,
    pub matter_retention: Option<i64>,
    pub default_retention: i64,
    pub filed_at: Option<i64>,
    pub filed_grace: i64,
    /// Under a legal hold (its own or its matter's).
    pub on_hold: bool,
}

impl LifecycleFacts {
    /// The retention in force: the most specific one wins (portal, then matter, then firm).
    pub fn retention(&self) -> i64 {
        self.portal_retention.or(self.matter_retention).unwrap_or(self.default_retention)
    }

    /// When and why upkeep shreds the document: the earlier of its retention and the grace
    /// after filing; never while it is on hold.
    pub fn shred_at(&self) -> Option<(i64, ShredReason)> {
        if self.on_hold {
            return None;
        }
        let by_retention = (self.uploaded_at.saturating_add(self.retention()), ShredReason::Retention);
        match self.filed_at {
            Some(filed) if filed.saturating_add(self.filed_grace) < by_retention.0 => {
                Some((filed.saturating_add(self.filed_grace), ShredReason::Filed))
            }
            _ => Some(by_retention),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn every_word_parses_back_to_its_value_and_nothing_else_parses() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(*r));
        }
        for a in DlpAction::ALL {
            assert_eq!(a.as_str().parse::<DlpAction>(), Ok(*a));
        }
        for s in SessionStage::ALL {
            assert_eq!(s.as_str().parse::<SessionStage>(), Ok(*s));
        }
        for s in PortalStatus::ALL {
            assert_eq!(s.as_str().parse::<PortalStatus>(), Ok(*s));
        }
        for s in ShareStatus::ALL {
            assert_eq!(s.as_str().parse::<ShareStatus>(), Ok(*s));
        }
        for s in ScanStatus::ALL {
            assert_eq!(s.as_str().parse::<ScanStatus>(), Ok(*s));
        }
        for bad in ["", "Admin", "admin ", "owner", "full\n", "FLAG"] {
            assert!(bad.parse::<Role>().is_err() && bad.parse::<DlpAction>().is_err());
            assert!(bad.parse::<SessionStage>().is_err());
        }
        let e = "block!".parse::<DlpAction>().unwrap_err().to_string();
        assert!(e.contains("flag, quarantine, block"), "{e}");
    }

    #[test]
    fn a_portal_status_follows_the_order_of_the_rules() {
        let open = PortalFacts { deleted: false, expires_at: None, enabled: true, matter_archived: false };
        assert_eq!(PortalStatus::of(open, 0), PortalStatus::Active);
        assert_eq!(PortalStatus::of(PortalFacts { matter_archived: true, ..open }, 0), PortalStatus::Closed);
        assert_eq!(
            PortalStatus::of(PortalFacts { enabled: false, matter_archived: true, ..open }, 0),
            PortalStatus::Disabled
        );
        assert_eq!(
            PortalStatus::of(PortalFacts { expires_at: Some(5), enabled: false, ..open }, 5),
            PortalStatus::Expired
        );
        assert_eq!(PortalStatus::of(PortalFacts { expires_at: Some(6), ..open }, 5), PortalStatus::Active);
        assert_eq!(
            PortalStatus::of(PortalFacts { deleted: true, expires_at: Some(1), ..open }, 5),
            PortalStatus::Deleted
        );
    }

    proptest! {
        /// Only a portal that is not deleted, not expired, enabled and in an open matter takes
        /// uploads, whatever the facts and the time.
        #[test]
        fn only_a_live_portal_takes_uploads(deleted: bool, expires in proptest::option::of(-5i64..5),
                                            enabled: bool, archived: bool, now in -5i64..5) {
            let facts = PortalFacts { deleted, expires_at: expires, enabled, matter_archived: archived };
            let live = !deleted && expires.is_none_or(|e| e > now) && enabled && !archived;
            prop_assert_eq!(PortalStatus::of(facts, now).takes_uploads(), live);
        }

        /// Only a share that is not revoked, not expired and in an open matter is active.
        #[test]
        fn only_a_live_share_is_active(revoked: bool, expires in proptest::option::of(-5i64..5),
                                        archived: bool, now in -5i64..5) {
            let live = !revoked && expires.is_none_or(|e| e > now) && !archived;
            prop_assert_eq!(ShareStatus::of(revoked, expires, archived, now) == ShareStatus::Active, live);
        }

        /// A held document is never due; otherwise it is due at the earlier of its retention
        /// (the most specific one) and its filing grace, and never before it was uploaded.
        #[test]
        fn shredding_follows_the_most_specific_rule(uploaded in 0i64..1000, portal in proptest::option::of(1i64..100),
                                                     matter in proptest::option::of(1i64..100), firm in 1i64..100,
                                                     filed in proptest::option::of(0i64..1200), grace in 0i64..100,
                                                     on_hold: bool) {
            let facts = LifecycleFacts { uploaded_at: uploaded, portal_retention: portal, matter_retention: matter,
                default_retention: firm, filed_at: filed, filed_grace: grace, on_hold };
            let retention = portal.unwrap_or(matter.unwrap_or(firm));
            match facts.shred_at() {
                None => prop_assert!(on_hold),
                Some((at, reason)) => {
                    prop_assert!(!on_hold);
                    prop_assert!(at <= uploaded + retention && at > uploaded - 1 - 1200 - 100);
                    match reason {
                        ShredReason::Filed => prop_assert_eq!(Some(at), filed.map(|f| f + grace)),
                        _ => prop_assert_eq!(at, uploaded + retention),
                    }
                }
            }
        }

        /// Parsing never accepts a word it would not print.
        #[test]
        fn parsing_is_exact(word in "\\PC{0,12}") {
            if let Ok(r) = word.parse::<Role>() { prop_assert_eq!(r.as_str(), word.as_str()); }
            if let Ok(a) = word.parse::<DlpAction>() { prop_assert_eq!(a.as_str(), word.as_str()); }
            if let Ok(s) = word.parse::<PortalStatus>() { prop_assert_eq!(s.as_str(), word.as_str()); }
        }
    }
}
