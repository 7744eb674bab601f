//! Matter rows, their members, break-glass grants and access reviews.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Executor};

use crate::{Result, StoreError, col};

/// The firm-wide matter that portals created without a matter belong to.
pub const GENERAL: &str = "general";

#[derive(Debug, Clone)]
pub struct MatterRecord {
    pub id: String,
    pub name: String,
    pub department: String,
    pub sensitivity: courier_core::Sensitivity,
    pub firm_wide: bool,
    pub created_at: i64,
    pub archived_at: Option<i64>,
    pub last_reviewed_at: Option<i64>,
    /// The matter's own retention (ms); `None`: the firm's.
    pub retention_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct MemberRecord {
    pub matter_id: String,
    pub user_id: String,
    pub email: String,
    pub role: courier_core::MemberRole,
    pub added_at: i64,
}

const SELECT: &str = "SELECT id, name, department, sensitivity, firm_wide, created_at, archived_at, last_reviewed_at, \
     retention_ms FROM matters";

fn from_row(row: &AnyRow) -> Result<MatterRecord> {
    Ok(MatterRecord {
        id: col(row, "id")?,
        name: col(row, "name")?,
        department: col(row, "department")?,
        sensitivity: crate::word(row, "sensitivity")?,
        firm_wide: col::<i64>(row, "firm_wide")? != 0,
        created_at: col(row, "created_at")?,
        archived_at: col(row, "archived_at")?,
        last_reviewed_at: col(row, "last_reviewed_at")?,
        retention_ms: col(row, "retention_ms")?,
    })
}

pub async fn insert(conn: &mut AnyConnection, m: &MatterRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO matters (id, name, department, sensitivity, firm_wide, created_at, retention_ms) \
         VALUES ($1, $2, $3, $4, 0, $5, $6)",
    )
    .bind(&m.id)
    .bind(&m.name)
    .bind(&m.department)
    .bind(m.sensitivity.as_str())
    .bind(m.created_at)
    .bind(m.retention_ms)
    .execute(conn)
    .await
    .map_err(StoreError::on_conflict)?;
    Ok(())
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id: &str) -> Result<Option<MatterRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1")).bind(id).fetch_optional(ex).await?;
    row.as_ref().map(from_row).transpose()
}

/// Who a decision about a matter looks at: its members with their roles, and the holders of
/// an unexpired break-glass grant (once each).
#[derive(Debug, Clone)]
pub struct MatterAccess {
    pub matter: MatterRecord,
    pub members: Vec<(String, courier_core::MemberRole)>,
    pub break_glass: Vec<String>,
}

/// Matter `id` with its [`MatterAccess`], in one statement: every decision about a matter's
/// portal, document or share reads this, and three round trips were a third of an API
/// request's.
pub async fn with_access<'c, E: Executor<'c, Database = sqlx::Any>>(
    ex: E,
    id: &str,
    now: i64,
) -> Result<Option<MatterAccess>> {
    let rows = sqlx::query(
        "SELECT m.id, m.name, m.department, m.sensitivity, m.firm_wide, m.created_at, m.archived_at, \
         m.last_reviewed_at, m.retention_ms, a.user_id AS access_user, a.kind AS access_kind \
         FROM matters m LEFT JOIN ( \
             SELECT user_id, role AS kind FROM matter_members WHERE matter_id = $1 \
             UNION ALL \
             SELECT user_id, 'break_glass' AS kind FROM break_glass WHERE matter_id = $1 AND expires_at > $2 \
         ) a ON 1 = 1 WHERE m.id = $1",
    )
    .bind(id)
    .bind(now)
    .fetch_all(ex)
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let mut access = MatterAccess { matter: from_row(first)?, members: Vec::new(), break_glass: Vec::new() };
    for row in &rows {
        let Some(user) = col::<Option<String>>(row, "access_user")? else { continue };
        match col::<String>(row, "access_kind")?.as_str() {
            "break_glass" if !access.break_glass.contains(&user) => access.break_glass.push(user),
            "break_glass" => {}
            role => {
                let role = role.parse().map_err(|e| StoreError::Corrupt(format!("column role: {e}")))?;
                access.members.push((user, role));
            }
        }
    }
    Ok(Some(access))
}

/// A matter named by its id or, failing that, its name.
pub async fn find<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, id_or_name: &str) -> Result<Option<MatterRecord>> {
    let row = sqlx::query(&format!("{SELECT} WHERE id = $1 OR name = $1 ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END"))
        .bind(id_or_name)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<Vec<MatterRecord>> {
    let rows = sqlx::query(&format!("{SELECT} ORDER BY firm_wide DESC, name")).fetch_all(ex).await?;
    rows.iter().map(from_row).collect()
}

pub async fn set_archived(conn: &mut AnyConnection, id: &str, at: Option<i64>) -> Result<bool> {
    let r = sqlx::query("UPDATE matters SET archived_at = $1 WHERE id = $2 AND firm_wide = 0")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Sets (or, with `None`, clears) the matter's own retention.
pub async fn set_retention(conn: &mut AnyConnection, id: &str, retention_ms: Option<i64>) -> Result<bool> {
    let r = sqlx::query("UPDATE matters SET retention_ms = $1 WHERE id = $2")
        .bind(retention_ms)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

const MEMBERS: &str = "SELECT mm.matter_id, mm.user_id, u.email, mm.role, mm.added_at \
     FROM matter_members mm JOIN users u ON u.id = mm.user_id";

fn member_from_row(row: &AnyRow) -> Result<MemberRecord> {
    Ok(MemberRecord {
        matter_id: col(row, "matter_id")?,
        user_id: col(row, "user_id")?,
        email: col(row, "email")?,
        role: crate::word(row, "role")?,
        added_at: col(row, "added_at")?,
    })
}

pub async fn members<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, matter_id: &str) -> Result<Vec<MemberRecord>> {
    let rows = sqlx::query(&format!("{MEMBERS} WHERE mm.matter_id = $1 ORDER BY u.email"))
        .bind(matter_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(member_from_row).collect()
}

pub async fn memberships<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E, user_id: &str) -> Result<Vec<MemberRecord>> {
    let rows = sqlx::query(&format!("{MEMBERS} WHERE mm.user_id = $1 ORDER BY mm.matter_id"))
        .bind(user_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(member_from_row).collect()
}

/// Adds a member or changes its role; returns the previous role, if any.
pub async fn upsert_member(
    conn: &mut AnyConnection,
    matter_id: &str,
    user_id: &str,
    role: courier_core::MemberRole,
    now: i64,
) -> Result<Option<courier_core::MemberRole>> {
    let before = sqlx::query("SELECT role FROM matter_members WHERE matter_id = $1 AND user_id = $2")
        .bind(matter_id)
        .bind(user_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| crate::word(&r, "role"))
        .transpose()?;
    sqlx::query(
        "INSERT INTO matter_members (matter_id, user_id, role, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (matter_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(matter_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(before)
}

pub async fn remove_member(conn: &mut AnyConnection, matter_id: &str, user_id: &str) -> Result<bool> {
    let r = sqlx::query("DELETE FROM matter_members WHERE matter_id = $1 AND user_id = $2")
        .bind(matter_id)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(r.rows_affected() == 1)
}

pub async fn insert_break_glass(
    conn: &mut AnyConnection,
    id: &str,
    matter_id: &str,
    user_id: &str,
    reason: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO break_glass (id, matter_id, user_id, reason, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(matter_id)
    .bind(user_id)
    .bind(reason)
    .bind(now)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_review(
    conn: &mut AnyConnection,
    id: &str,
    matter_id: &str,
    reviewer: &str,
    now: i64,
    removed: &str,
    note: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO access_reviews (id, matter_id, reviewer, at, removed, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(matter_id)
    .bind(reviewer)
    .bind(now)
    .bind(removed)
    .bind(note)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE matters SET last_reviewed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(matter_id)
        .execute(conn)
        .await?;
    Ok(())
}
