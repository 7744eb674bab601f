//! The firm's profile after setup: an administrator changes the name, colour, contact line,
//! time zone and logo clients see, audited before and after, in force at once on this
//! instance and within one upkeep tick on the others.

use courier_store::firm_profile::{self as rows, FirmProfile};
use serde::Serialize;
use serde_json::{Value, json};

use super::audit::AuditAction;
use super::{Caller, Courier};
use crate::Result;

/// What happens to the stored logo when the profile is saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoChange {
    Keep,
    Replace(Vec<u8>),
    Remove,
}

/// The profile as the settings page shows it: the brand in force, and which of its settings
/// the configuration fixes (the page cannot change those).
#[derive(Debug, Serialize)]
pub struct FirmProfileView {
    pub firm_name: String,
    pub brand_color: Option<String>,
    pub client_contact: Option<String>,
    pub timezone: String,
    pub has_logo: bool,
    pub configured: Vec<&'static str>,
}

/// The brand settings a configuration may fix, by their names there.
const SETTINGS: [&str; 5] = ["firm_name", "brand_color", "client_contact", "timezone", "firm_logo"];

impl Courier {
    pub(super) fn firm_profile_view(&self) -> FirmProfileView {
        let b = self.branding.get();
        FirmProfileView {
            firm_name: b.firm_name.clone(),
            brand_color: b.color.clone(),
            client_contact: b.contact.clone(),
            timezone: b.zone_name.clone(),
            has_logo: b.logo.is_some(),
            configured: self.configured_brand_settings(),
        }
    }

    /// The brand settings the configuration gives (they win over the setup and settings pages).
    pub fn configured_brand_settings(&self) -> Vec<&'static str> {
        SETTINGS.into_iter().filter(|k| self.config.explicit.contains(*k)).collect()
    }

    /// Checks `given` whole before anything is written (a bad colour changes nothing, not even
    /// the name given with it), then saves it with its audit event and puts it in force.
    pub(super) async fn change_firm_profile(
        &self,
        caller: &Caller,
        given: &FirmProfile,
        logo: LogoChange,
    ) -> Result<()> {
        let mut tx = self.audit.begin(&self.db).await?;
        let before = rows::get(tx.conn()).await?;
        let mut wanted = given.clone();
        wanted.logo = match logo {
            LogoChange::Keep => before.logo.clone(),
            LogoChange::Replace(bytes) => Some(bytes),
            LogoChange::Remove => None,
        };
        // What the configuration fixes is neither checked nor changed here: the stored value
        // stays, for the day the configuration's line is removed.
        let fixed = self.configured_brand_settings();
        for (key, value) in wanted.fields_mut() {
            if fixed.contains(&key) {
                *value = None;
            }
        }
        let mut after = self.profile_to_store(&wanted)?;
        let mut kept = before.clone();
        for ((key, value), (_, stored)) in after.fields_mut().into_iter().zip(kept.fields_mut()) {
            if fixed.contains(&key) {
                *value = stored.take();
            }
        }
        if fixed.contains(&"firm_logo") {
            after.logo = before.logo.clone();
        }
        self.branded(&after)?;
        let details = json!({ "before": described(&before), "after": described(&after) });
        tx.record(caller, AuditAction::FirmProfileChange, "firm", details).await?;
        rows::save(tx.conn(), &after, self.clock.now_ms()).await?;
        tx.commit().await?;
        self.rebrand(&after);
        Ok(())
    }

    /// Upkeep on every instance: the profile as stored now, so that a change made through
    /// another instance reaches this one's pages and mails.
    pub(super) async fn follow_firm_profile(&self) -> Result<()> {
        let stored = rows::get(self.db.pool()).await?;
        let brand = self.branded(&stored)?;
        if !self.branding.get().same_as(&brand) {
            tracing::info!("the firm profile changed on another instance; applied");
            self.branding.set(brand);
        }
        Ok(())
    }
}

/// A profile for the audit trail: its settings, and the logo as its size and SHA-256.
pub(super) fn described(p: &FirmProfile) -> Value {
    json!({ "firm_name": p.firm_name, "brand_color": p.brand_color, "client_contact": p.client_contact,
        "timezone": p.timezone,
        "logo": p.logo.as_ref().map(|l| json!({ "bytes": l.len(), "sha256": hex::encode(courier_crypto::sha256(l)) })) })
}
