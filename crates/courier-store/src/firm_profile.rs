//! The firm's profile (`firm_profile`): its name, colour, contact line and time zone as the
//! setup page stored them. One row, absent until first saved.

use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirmProfile {
    pub firm_name: Option<String>,
    pub brand_color: Option<String>,
    pub client_contact: Option<String>,
    pub timezone: Option<String>,
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<FirmProfile> {
    let row = sqlx::query("SELECT firm_name, brand_color, client_contact, timezone FROM firm_profile WHERE id = 1")
        .fetch_optional(ex)
        .await?;
    let Some(row) = row else { return Ok(FirmProfile::default()) };
    Ok(FirmProfile {
        firm_name: col(&row, "firm_name")?,
        brand_color: col(&row, "brand_color")?,
        client_contact: col(&row, "client_contact")?,
        timezone: col(&row, "timezone")?,
    })
}

/// Replaces the profile.
pub async fn save(conn: &mut AnyConnection, p: &FirmProfile, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM firm_profile WHERE id = 1").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO firm_profile (id, firm_name, brand_color, client_contact, timezone, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5)",
    )
    .bind(&p.firm_name)
    .bind(&p.brand_color)
    .bind(&p.client_contact)
    .bind(&p.timezone)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
