//! The firm's profile (`firm_profile`): its name, colour, contact line, time zone and logo as
//! the setup page stored them. One row, absent until first saved.

use sqlx::{AnyConnection, Executor};

use crate::{Result, col};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirmProfile {
    pub firm_name: Option<String>,
    pub brand_color: Option<String>,
    pub client_contact: Option<String>,
    pub timezone: Option<String>,
    /// The logo file's bytes (a PNG or an SVG; the server checks it before it is stored).
    pub logo: Option<Vec<u8>>,
}

impl FirmProfile {
    /// Each setting with its name (the configuration's name for it).
    pub fn fields_mut(&mut self) -> [(&'static str, &mut Option<String>); 4] {
        [
            ("firm_name", &mut self.firm_name),
            ("brand_color", &mut self.brand_color),
            ("client_contact", &mut self.client_contact),
            ("timezone", &mut self.timezone),
        ]
    }
}

pub async fn get<'c, E: Executor<'c, Database = sqlx::Any>>(ex: E) -> Result<FirmProfile> {
    let row =
        sqlx::query("SELECT firm_name, brand_color, client_contact, timezone, logo FROM firm_profile WHERE id = 1")
            .fetch_optional(ex)
            .await?;
    let Some(row) = row else { return Ok(FirmProfile::default()) };
    // A value that does not read as text (a hand-edited row) is left out, never fatal: every
    // command opens the installation through here.
    let text = |name: &str| {
        col::<Option<String>>(&row, name).unwrap_or_else(|e| {
            tracing::warn!(column = name, error = %e, "a firm profile value does not read as text; left out");
            None
        })
    };
    Ok(FirmProfile {
        firm_name: text("firm_name"),
        brand_color: text("brand_color"),
        client_contact: text("client_contact"),
        timezone: text("timezone"),
        logo: col::<Option<Vec<u8>>>(&row, "logo").unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the firm's stored logo does not read as bytes; left out");
            None
        }),
    })
}

/// Replaces the profile.
pub async fn save(conn: &mut AnyConnection, p: &FirmProfile, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM firm_profile WHERE id = 1").execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO firm_profile (id, firm_name, brand_color, client_contact, timezone, logo, updated_at) \
         VALUES (1, $1, $2, $3, $4, $5, $6)",
    )
    .bind(&p.firm_name)
    .bind(&p.brand_color)
    .bind(&p.client_contact)
    .bind(&p.timezone)
    .bind(&p.logo)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
