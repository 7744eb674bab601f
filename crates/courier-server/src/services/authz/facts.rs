//! The facts a decision needs: the principal, and a resource's matter with its members and
//! break-glass grants (read in one statement, `matters::with_access`).

use courier_core::MemberRole;
use courier_store::matters::MatterAccess;
use courier_store::users::UserRecord;

#[derive(Debug, Clone)]
pub struct Principal {
    pub id: String,
    pub role: String,
    pub department: String,
}

impl From<&UserRecord> for Principal {
    fn from(u: &UserRecord) -> Self {
        Self { id: u.id.clone(), role: u.role.as_str().to_owned(), department: u.department.clone() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MatterFacts {
    pub id: String,
    pub department: String,
    pub sensitivity: String,
    pub firm_wide: bool,
    pub archived: bool,
    pub attorneys: Vec<String>,
    pub paralegals: Vec<String>,
    pub break_glass: Vec<String>,
}

impl From<MatterAccess> for MatterFacts {
    fn from(a: MatterAccess) -> Self {
        let m = a.matter;
        let with_role =
            |role: MemberRole| a.members.iter().filter(|(_, r)| *r == role).map(|(user, _)| user.clone()).collect();
        Self {
            department: m.department,
            sensitivity: m.sensitivity.as_str().to_owned(),
            firm_wide: m.firm_wide,
            archived: m.archived_at.is_some(),
            attorneys: with_role(MemberRole::Attorney),
            paralegals: with_role(MemberRole::Paralegal),
            break_glass: a.break_glass,
            id: m.id,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Resource {
    Firm,
    Matter(MatterFacts),
    Document { matter: MatterFacts, id: String, kind: String, scan_status: String, held: bool, watermarkable: bool },
    Portal { matter: MatterFacts, id: String },
    Share { matter: MatterFacts, id: String },
}

impl Resource {
    pub fn matter(&self) -> Option<&MatterFacts> {
        match self {
            Self::Firm => None,
            Self::Matter(m) => Some(m),
            Self::Document { matter, .. } | Self::Portal { matter, .. } | Self::Share { matter, .. } => Some(matter),
        }
    }

    /// How the audit trail names it.
    pub fn target(&self) -> String {
        match self {
            Self::Firm => "firm".into(),
            Self::Matter(m) => format!("matter:{}", m.id),
            Self::Document { id, .. } => format!("document:{id}"),
            Self::Portal { id, .. } => format!("portal:{id}"),
            Self::Share { id, .. } => format!("share:{id}"),
        }
    }
}
