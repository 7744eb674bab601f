//! HTML templates (minijinja, auto-escaping), compiled into the binary.

use axum::response::Html;
use courier_core::Language;
use fluent_bundle::{FluentArgs, FluentValue};
use minijinja::value::Kwargs;
use minijinja::{Environment, ErrorKind, State};
use serde::Serialize;

use crate::Error;
use crate::i18n::Catalog;
use crate::services::branding::BrandCell;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("client_portal.html", include_str!("../../templates/client_portal.html")),
    // The upload script's words, shared by the client's page and the staff matter page.
    ("upload_words.html", include_str!("../../templates/upload_words.html")),
    ("pager.html", include_str!("../../templates/pager.html")),
    ("client_passcode.html", include_str!("../../templates/client_passcode.html")),
    ("client_receipt.html", include_str!("../../templates/client_receipt.html")),
    ("instructions.html", include_str!("../../templates/instructions.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("login_mfa.html", include_str!("../../templates/login_mfa.html")),
    ("setup.html", include_str!("../../templates/setup.html")),
    ("setup_done.html", include_str!("../../templates/setup_done.html")),
    ("portals.html", include_str!("../../templates/portals.html")),
    ("portal.html", include_str!("../../templates/portal.html")),
    ("portal_link.html", include_str!("../../templates/portal_link.html")),
    ("matters.html", include_str!("../../templates/matters.html")),
    ("matter.html", include_str!("../../templates/matter.html")),
    ("share.html", include_str!("../../templates/share.html")),
    ("share_link.html", include_str!("../../templates/share_link.html")),
    ("client_share.html", include_str!("../../templates/client_share.html")),
    ("client_share_passcode.html", include_str!("../../templates/client_share_passcode.html")),
    ("access_review.html", include_str!("../../templates/access_review.html")),
    ("enrol.html", include_str!("../../templates/enrol.html")),
    ("recovery_list.html", include_str!("../../templates/recovery_list.html")),
    ("recovery_codes.html", include_str!("../../templates/recovery_codes.html")),
    ("invitation.html", include_str!("../../templates/invitation.html")),
    ("invitation_link.html", include_str!("../../templates/invitation_link.html")),
    ("users.html", include_str!("../../templates/users.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("api_token.html", include_str!("../../templates/api_token.html")),
    ("holds.html", include_str!("../../templates/holds.html")),
    ("certificate.html", include_str!("../../templates/certificate.html")),
    ("alerts.html", include_str!("../../templates/alerts.html")),
    ("notifications.html", include_str!("../../templates/notifications.html")),
    ("firm.html", include_str!("../../templates/firm.html")),
];

pub struct Templates {
    env: Environment<'static>,
    brand: BrandCell,
    catalog: &'static Catalog,
}

/// "2026-12-08 12:08 Europe/Paris": a moment as pages show it, in the firm's time zone.
fn local_time(brand: &BrandCell, at: jiff::Timestamp) -> String {
    let b = brand.get();
    format!("{} {}", at.to_zoned(b.timezone.clone()).strftime("%Y-%m-%d %H:%M"), b.zone_name)
}

/// The language a template is rendered in: its `lang`, else English.
fn page_language(state: &State) -> Language {
    state.lookup("lang").and_then(|v| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(Language::En)
}

impl Templates {
    /// `brand` is the firm's, live: its logo, colour, contact line and time zone (in which
    /// pages show times) are read at each render.
    pub fn new(catalog: &'static Catalog, brand: BrandCell) -> Self {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            // Templates are compiled in; a broken one is a build defect caught by every test.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        // "1.4 MiB", "1,4 Mio": as the page's language writes sizes.
        env.add_filter("size", |state: &State, n: u64| crate::i18n::size_in(page_language(state), n));
        // "30d" (a rule as settings write it) -> "30 days", "30 jours": in the page's language.
        let said = catalog;
        env.add_filter("duration", move |state: &State, rule: String| match rule.parse() {
            Ok(d) => said.duration(page_language(state), d).unwrap_or(rule),
            Err(_) => rule,
        });
        // "payment_card" -> "payment card numbers", as a finding is described to people.
        env.add_filter("finding", |kind: String| {
            serde_json::from_value::<courier_scan::FindingKind>(serde_json::Value::String(kind.clone()))
                .map_or(kind, |k| k.describe().to_owned())
        });
        // "2026-12-08T11:08:51Z" -> "2026-12-08 12:08 Europe/Paris", in the firm's time zone.
        let zone = brand.clone();
        env.add_filter("when", move |t: String| match t.parse::<jiff::Timestamp>() {
            Ok(at) => local_time(&zone, at),
            Err(_) => t,
        });
        // tk("prefix", value): the message `prefix-value` (a status, a role) in the page's
        // language; a value without a message is shown as it is rather than failing the page.
        let words = catalog;
        env.add_function("tk", move |state: &State, prefix: &str, value: minijinja::Value| {
            let value = value.to_string();
            let key = format!("{prefix}-{value}");
            let lang = page_language(state);
            Ok(if words.has(lang, &key) { words.message(lang, &key, None).unwrap_or(value) } else { value })
        });
        // t("key", var=value, …): the message in the page's language (`lang`, else English).
        env.add_function("t", move |state: &State, key: &str, vars: Kwargs| {
            let lang = page_language(state);
            let mut args = FluentArgs::new();
            for name in vars.args() {
                let value: minijinja::Value = vars.get(name)?;
                let value = match value.as_i64() {
                    Some(n) => FluentValue::from(n),
                    None => FluentValue::from(value.to_string()),
                };
                args.set(name.to_owned(), value);
            }
            catalog.message(lang, key, Some(&args)).map_err(|e| minijinja::Error::new(ErrorKind::InvalidOperation, e))
        });
        Self { env, brand, catalog }
    }

    /// Names of templates that failed to compile (the tests require none).
    #[cfg(test)]
    fn broken(&self) -> Vec<&'static str> {
        TEMPLATES.iter().filter(|(n, _)| self.env.get_template(n).is_err()).map(|(n, _)| *n).collect()
    }

    /// Renders a staff page in `lang` (`<html lang>`, the messages of `t()`).
    pub fn render(&self, name: &str, lang: Language, ctx: impl Serialize) -> Result<Html<String>, Error> {
        let t = self.env.get_template(name).map_err(|e| Error::internal("template", e))?;
        let b = self.brand.get();
        let ctx = minijinja::context! {
            lang => lang.as_str(),
            brand_logo => b.logo.is_some(),
            brand_css => b.color.is_some(),
            client_contact => b.contact.clone(),
            firm_timezone => b.zone_name.clone(),
            ..minijinja::Value::from_serialize(&ctx)
        };
        t.render(ctx).map(Html).map_err(|e| Error::internal("template render", e))
    }

    /// Renders a client or share page in `lang`: a staff page's rendering, plus the firm's
    /// brand (logo, colour, contact line).
    pub fn render_in(&self, name: &str, lang: Language, ctx: impl Serialize) -> Result<Html<String>, Error> {
        let ctx = minijinja::context! { client_page => true, ..minijinja::Value::from_serialize(&ctx) };
        self.render(name, lang, ctx)
    }

    /// Every language's messages.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The message `key` (without variables) in `lang`, for a sentence a handler says; English
    /// if `lang` lacks it (the completeness test makes that a defect).
    pub fn say(&self, lang: Language, key: &str) -> String {
        self.catalog.message(lang, key, None).or_else(|_| self.catalog.message(Language::En, key, None)).unwrap_or_else(
            |e| {
                tracing::error!(error = %e, "a handler's message is missing");
                key.to_owned()
            },
        )
    }

    /// A service's message in `lang`, its moments in the firm's time zone.
    pub fn said(&self, lang: Language, said: &crate::error::Said) -> Result<String, String> {
        let when = |ms: i64| match jiff::Timestamp::from_millisecond(ms) {
            Ok(at) => local_time(&self.brand, at),
            Err(_) => ms.to_string(),
        };
        self.catalog.said(lang, said, &when)
    }

    /// Why a request was refused, in `lang` where the service said it as a message, else in
    /// English (its text as the API and the CLI give it).
    pub fn reason(&self, lang: Language, reason: &crate::error::Reason) -> String {
        match &reason.said {
            Some(said) if lang != Language::En || said.has_time() => self.said(lang, said).unwrap_or_else(|e| {
                tracing::error!(error = %e, "a refusal has no message in the page's language");
                reason.text.clone()
            }),
            _ => reason.text.clone(),
        }
    }

    /// A session's one-time notice in `lang`. Notices are stored as a code with its number
    /// (`sessions_ended:2`); text stored by an older version is shown as it is.
    pub fn notice(&self, lang: Language, stored: &str) -> String {
        let Some(n) =
            stored.strip_prefix(crate::services::sessions::SESSIONS_ENDED).and_then(|n| n.parse::<i64>().ok())
        else {
            return stored.to_owned();
        };
        let mut args = FluentArgs::new();
        args.set("n", n);
        self.catalog.message(lang, "staff-notice-sessions-ended", Some(&args)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a notice has no message");
            stored.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// The quoted first argument of every call of `function` in a template's source.
    fn first_arguments<'a>(source: &'a str, function: &str) -> Vec<&'a str> {
        let mut found = Vec::new();
        for quote in ['"', '\''] {
            let call = format!("{function}({quote}");
            for (at, _) in source.match_indices(&call) {
                let rest = &source[at + call.len()..];
                found.push(&rest[..rest.find(quote).unwrap_or(0)]);
            }
        }
        found
    }

    /// Every `t("key")` in a template names a message of every language, also in branches the
    /// rendering test does not take.
    #[test]
    fn every_message_a_template_asks_for_exists_in_every_language() {
        let catalog = crate::i18n::Catalog::new();
        let mut asked = 0;
        for (name, source) in super::TEMPLATES {
            for key in first_arguments(source, "t") {
                asked += 1;
                for lang in courier_core::Language::ALL {
                    assert!(catalog.has(*lang, key), "{name} asks for {key:?}, missing in {lang}");
                }
            }
        }
        assert!(asked > 300, "only {asked} messages found: the scan is broken");
    }

    /// Every `tk("prefix", value)` family has messages in every language, and every message a
    /// handler says (`"staff-…"` in the web layer's code) exists in every language.
    #[test]
    fn message_families_and_handler_messages_exist_in_every_language() {
        let catalog = crate::i18n::Catalog::new();
        let mut families = 0;
        for (name, source) in super::TEMPLATES {
            for family in first_arguments(source, "tk") {
                let prefix = format!("{family}-");
                families += 1;
                for lang in courier_core::Language::ALL {
                    assert!(catalog.any_with_prefix(*lang, &prefix), "{name}: no {prefix}… message in {lang}");
                }
            }
        }
        assert!(families > 5, "only {families} families found: the scan is broken");
        let code = [
            include_str!("auth.rs"),
            include_str!("templates.rs"),
            include_str!("account.rs"),
            include_str!("instructions.rs"),
        ];
        let mut said = 0;
        for source in code {
            for (at, _) in source.match_indices("\"staff-") {
                let rest = &source[at + 1..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                // Only whole ids (this test's own pattern and prose mentions are not).
                if key.ends_with('-') || !key.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    continue;
                }
                said += 1;
                for lang in courier_core::Language::ALL {
                    assert!(catalog.has(*lang, key), "the web layer says {key:?}, missing in {lang}");
                }
            }
        }
        assert!(said > 4, "only {said} handler messages found: the scan is broken");
    }

    #[test]
    fn every_template_compiles_renders_and_escapes() {
        let t = super::Templates::new(
            crate::i18n::catalog(),
            crate::services::branding::BrandCell::new(crate::services::branding::Branding {
                logo: Some((Vec::new(), "image/png")),
                color: Some("#000000".into()),
                contact: Some("<script>alert(1)</script>".into()),
                ..Default::default()
            }),
        );
        assert!(t.broken().is_empty(), "broken templates: {:?}", t.broken());
        let hostile = "<script>alert(1)</script>";
        let mut ctx = json!({
            "firm": hostile, "label": hostile, "token": "t", "max_file_size": 1024, "max_files": 3, "user": "a@b.c",
            "csrf_token": "c", "files": [{"id": "d", "name": hostile, "size": 1, "sha256": "00", "downloads": 0}],
            "portals": [], "documents": [], "matters": [], "shares": [], "role": "admin", "may_create": true,
            "error": null, "break_glass": true, "may_revoke": true, "recipient": hostile, "expires_at": null,
            "max_downloads": 2,
            "may": {"matter_manage_members": true, "matter_archive": true, "matter_review": true,
                "document_upload": true, "share_create": true, "portal_create": true},
            "matter": {"id": "m", "name": hostile, "department": hostile, "sensitivity": "normal", "firm_wide": false,
                "archived": false, "created_at": "x", "last_reviewed_at": null,
                "members": [{"email": hostile, "role": "attorney", "added_at": "x"}]},
            "share": {"id": "s", "matter_id": "m", "recipient": hostile, "status": "active", "has_passcode": true,
                "expires_at": null, "max_downloads": 2, "created_by": hostile, "created_at": "x",
                "files": [{"id": "d", "name": hostile, "size": 1, "watermarked": true, "downloads": 0}],
                "downloads": [{"at": "x", "name": hostile, "ip": "1", "user_agent": hostile}]},
            "report": {"generated_at": "x",
                "users": [{"email": hostile, "role": "attorney", "mfa": ["totp"], "last_login_at": null,
                    "disabled": false, "matters": [{"name": hostile, "role": "attorney"}],
                    "api_tokens": [{"name": hostile, "scopes": ["documents:read"], "status": "active", "expires_at": "x"}],
                    "flags": [hostile]}],
                "matters": [{"id": "m", "name": hostile, "archived": true, "sensitivity": "normal",
                    "members": [{"email": hostile, "role": "paralegal"}], "portals": [{"label": hostile, "expires_at": null}],
                    "shares": [{"recipient": hostile, "expires_at": null}], "last_reviewed_at": null, "flags": [hostile]}]},
            "sheet": {"label": hostile, "url": hostile, "link_prefix": hostile, "has_passcode": true,
                "expires_at": "2026-01-01T00:00:00Z", "kept_n": 2, "kept_unit": "week"},
            "qr_svg": "<svg></svg>", "printed_at": "2026-01-01T00:00:00Z", "portal_id": "p", "logo_src": hostile,
            "standalone": false, "css": null, "staff_words": {"nav": hostile, "print": hostile, "download": hostile, "back": hostile},
            "portal": {"id": "p", "label": hostile, "status": "active", "enabled": true, "max_file_size": 5, "created_at": "x"},
            "switch": "p", "url": "u", "qr_svg": "<svg></svg>", "email": "e", "totp_secret": "s", "receipt_id": "r", "received_at": "now",
        });
        let accounts = json!({
            "codes": [hostile], "continue": "/", "has_passkey": true, "passwordless": true, "reset": true, "notice": hostile, "me": "u1", "single_session": true,
            "invitation": {"email": hostile, "url": hostile, "expires_at": "x"},
            "users": [{"id": "u1", "email": hostile, "role": "admin", "department": hostile, "status": "active",
                "mfa": ["totp"], "recovery_codes_left": 10, "locked_until": "x", "last_login_at": null, "sessions": 1,
                "invitation_expires_at": "x"}],
            "account": {"email": hostile, "role": "attorney", "language": "fr", "department": hostile, "mfa": ["totp"], "recovery_codes_left": 3,
                "passkeys": [{"id": "k", "name": hostile, "created_at": "x", "last_used_at": null}]},
            "sessions": [{"handle": "ab", "created_at": "x", "last_seen": "x", "ip": "1", "device": hostile,
                "current": false, "signed_in": true}],
            "tokens": [{"id": "t", "name": hostile, "scopes": ["documents:read"], "status": "active", "expires_at": "x",
                "last_used_at": null}],
            "scopes": ["documents:read"],
            "api_token": {"name": hostile, "token": hostile, "scopes": [hostile], "expires_at": "x"},
            "holds": [{"id": "h", "matter_id": "m", "document_id": null, "reason": hostile, "placed_by": hostile,
                "placed_at": "x", "active": true, "released_by": null, "released_at": null, "release_reason": null},
                {"id": "h2", "matter_id": null, "document_id": "d", "reason": hostile, "placed_by": hostile,
                "placed_at": "x", "active": false, "released_by": hostile, "released_at": "x", "release_reason": hostile}],
            "shredded": [{"id": "d", "name": hostile, "size": 1, "uploaded_at": "x", "deleted_at": "x",
                "deletion_reason": "retention"}],
            "cert": {"document": {"id": "d", "name": hostile, "size": 1, "sha256": "00", "uploaded_at": "x",
                "shredded_at": "x", "reason": "staff"}, "shredding_event": {"seq": 1, "hash": "00"},
                "audit_head": {"seq": 2, "at": "x"}, "issued_at": "x", "public_key": "00"},
            "json": hostile,
            "kept_n": 30, "kept_unit": "day",
            "overview": {"lockdown": {"active": true, "reason": hostile, "changed_by": hostile, "changed_at": "x"},
                "alerts": [{"seq": 1, "at": "x", "alert": "link_probing", "summary": hostile, "from": hostile, "actor": hostile}],
                "pending": 1, "failed": 0, "mail": true, "webhook": true, "alert_to": [hostile],
                "deliveries": [{"id": "o", "channel": "mail", "topic": "alert", "created_at": "x", "attempts": 1,
                    "state": "retrying", "last_error": hostile}]},
            "notifications": [{"portal_id": "p", "label": hostile, "files": 3, "bytes": 10, "from": "x", "to": "x", "read": false}],
            "unread": 1,
            "pages": {"newest": "/portals/p", "older": hostile},
            "email": hostile, "profile": {"firm_name": hostile, "brand_color": hostile, "client_contact": hostile,
                "timezone": hostile}, "zones": [hostile], "configured": [hostile],
        });
        if let (Some(all), serde_json::Value::Object(more)) = (ctx.as_object_mut(), accounts) {
            all.extend(more);
        }
        for (name, _) in super::TEMPLATES {
            for lang in courier_core::Language::ALL {
                let html = t.render_in(name, *lang, &ctx).unwrap_or_else(|e| panic!("{name} in {lang}: {e:?}")).0;
                assert!(!html.contains(hostile), "{name} does not escape");
            }
        }
    }
}
