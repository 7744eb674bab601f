//! The facts a decision needs, read from the database: the principal, a resource's matter
//! with its members and break-glass grants.

use courier_core::MemberRole;
use courier_store::Db;
use courier_store::matters::{self, MatterRecord};
use courier_store::users::UserRecord;

use crate::Result;

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

impl MatterFacts {
    /// Loads a matter's members and its unexpired break-glass grants.
    pub async fn load(db: &Db, m: &MatterRecord, now: i64) -> Result<Self> {
        let members = matters::members(db.pool(), &m.id).await?;
        let break_glass = matters::break_glass_users(db.pool(), &m.id, now).await?;
        let with_role =
            |role: MemberRole| members.iter().filter(|x| x.role == role).map(|x| x.user_id.clone()).collect();
        Ok(Self {
            id: m.id.clone(),
            department: m.department.clone(),
            sensitivity: m.sensitivity.as_str().to_owned(),
            firm_wide: m.firm_wide,
            archived: m.archived_at.is_some(),
            attorneys: with_role(MemberRole::Attorney),
            paralegals: with_role(MemberRole::Paralegal),
            break_glass,
        })
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
