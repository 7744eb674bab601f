//! The watch settings, parsed once at start: where mails and webhooks go, the alert
//! thresholds, the firm's time zone and office hours.

use std::time::Duration;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use zeroize::Zeroizing;

use courier_core::Language;

use crate::Config;

/// Mail, webhook and alert settings, checked and ready to use.
pub struct WatchSettings {
    pub public_url: String,
    pub mail: Option<MailSettings>,
    pub alert_to: Vec<String>,
    /// The language of alert mails (the webhook and the audit trail stay English).
    pub alert_language: Language,
    pub webhook: Option<WebhookSettings>,
    pub notify_batch: Duration,
    pub timezone: TimeZone,
    pub timezone_name: String,
    /// The live brand, whose time zone wins once set (the setup page may change it while the
    /// server runs); the zone above is the one read at start.
    pub brand: Option<crate::services::branding::BrandCell>,
    pub office_hours: Option<OfficeHours>,
    pub probe: Threshold,
    pub bulk_download: Threshold,
    pub audit_verify_interval: Duration,
    pub give_up: Duration,
}

/// `count` events within `window` raise the alert.
#[derive(Debug, Clone, Copy)]
pub struct Threshold {
    pub count: i64,
    pub window: Duration,
}

/// The SMTP relay.
pub struct MailSettings {
    pub host: String,
    pub port: u16,
    /// `smtps://`: TLS from the first byte; `smtp://`: STARTTLS when the server offers it.
    pub implicit_tls: bool,
    pub credentials: Option<(String, Zeroizing<String>)>,
    pub from: String,
}

pub struct WebhookSettings {
    pub url: String,
    pub secret: Zeroizing<Vec<u8>>,
}

/// Days and hours when staff normally sign in, e.g. `Mon-Fri 07:00-20:00`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeHours {
    pub days: Vec<Weekday>,
    pub from: Time,
    pub to: Time,
}

impl WatchSettings {
    /// Checks every watch setting without keeping them (at configuration load).
    pub fn check(config: &Config) -> Result<(), String> {
        Self::load(config).map(|_| ())
    }

    pub fn load(config: &Config) -> Result<Self, String> {
        let timezone = TimeZone::get(&config.timezone)
            .map_err(|_| format!("timezone {:?} is not an IANA time zone name (e.g. Europe/Paris)", config.timezone))?;
        let office_hours = config.office_hours.as_deref().map(OfficeHours::parse).transpose()?;
        let alert_language =
            config.alert_language.trim().parse::<Language>().map_err(|e| format!("alert_language: {e}"))?;
        let mail = config.smtp_url.as_deref().map(|url| mail_settings(url, config)).transpose()?;
        for to in &config.alert_to {
            check_address(to).map_err(|e| format!("alert_to: {e}"))?;
        }
        check_address(&config.mail_from).map_err(|e| format!("mail_from: {e}"))?;
        let webhook = match (&config.webhook_url, &config.webhook_secret_file) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(
                    "webhook_url needs webhook_secret_file (COURIER_WEBHOOK_SECRET_FILE): webhooks are always \
                            signed"
                        .into(),
                );
            }
            (Some(url), Some(file)) => {
                // The URL may carry credentials: errors never repeat it.
                if !(url.starts_with("https://") || url.starts_with("http://")) || reqwest::Url::parse(url).is_err() {
                    return Err("webhook_url is not an http(s) URL".into());
                }
                let secret = std::fs::read(file)
                    .map_err(|e| format!("webhook_secret_file {}: cannot read it ({e})", file.display()))?;
                let secret = Zeroizing::new(secret.trim_ascii().to_vec());
                if secret.len() < 16 {
                    return Err(format!(
                        "webhook_secret_file {} must hold at least 16 bytes of secret (e.g. `openssl rand -hex 32`)",
                        file.display()
                    ));
                }
                Some(WebhookSettings { url: url.clone(), secret })
            }
        };
        let positive = |name: &str, n: i64| {
            if n < 1 { Err(format!("{name} must be at least 1")) } else { Ok(n) }
        };
        Ok(Self {
            public_url: config.public_url(),
            mail,
            alert_to: config.alert_to.clone(),
            alert_language,
            webhook,
            notify_batch: config.notify_batch.0,
            timezone,
            timezone_name: config.timezone.clone(),
            brand: None,
            office_hours,
            probe: Threshold {
                count: positive("probe_alert_threshold", config.probe_alert_threshold)?,
                window: config.probe_alert_window.0,
            },
            bulk_download: Threshold {
                count: positive("bulk_download_threshold", config.bulk_download_threshold)?,
                window: config.bulk_download_window.0,
            },
            audit_verify_interval: config.audit_verify_interval.0,
            give_up: config.outbox_give_up.0,
        })
    }

    /// Whether alerts go out by mail.
    pub fn mails_alerts(&self) -> bool {
        self.mail.is_some() && !self.alert_to.is_empty()
    }

    /// The firm's time zone now, and its name.
    fn zone(&self) -> (TimeZone, String) {
        match &self.brand {
            Some(cell) => {
                let brand = cell.get();
                (brand.timezone.clone(), brand.zone_name.clone())
            }
            None => (self.timezone.clone(), self.timezone_name.clone()),
        }
    }

    /// A time as the firm reads it, e.g. `2026-12-03 14:05 Europe/Paris`.
    pub fn local_time(&self, ms: i64) -> String {
        let (zone, name) = self.zone();
        match jiff::Timestamp::from_millisecond(ms) {
            Ok(t) => format!("{} {name}", t.to_zoned(zone).strftime("%Y-%m-%d %H:%M")),
            Err(_) => ms.to_string(),
        }
    }

    /// Whether `ms` falls outside the office hours (false when none are set).
    pub fn off_hours(&self, ms: i64) -> bool {
        let (Some(hours), Ok(t)) = (&self.office_hours, jiff::Timestamp::from_millisecond(ms)) else {
            return false;
        };
        let local = t.to_zoned(self.zone().0);
        !hours.contains(local.weekday(), local.time())
    }
}

/// `smtp://[user[:password]@]host[:port]` or `smtps://…`; `smtp_username`/`smtp_password`
/// (or their `_FILE` forms) when the URL carries none.
fn mail_settings(url: &str, config: &Config) -> Result<MailSettings, String> {
    // The URL may hold a password: errors never repeat it.
    let parsed = reqwest::Url::parse(url).map_err(|_| "smtp_url is not a URL (smtp://host:port)".to_owned())?;
    let implicit_tls = match parsed.scheme() {
        "smtp" => false,
        "smtps" => true,
        _ => return Err("smtp_url must start with smtp:// (STARTTLS when offered) or smtps://".into()),
    };
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or("smtp_url names no host")?.to_owned();
    let port = parsed.port().unwrap_or(if implicit_tls { 465 } else { 587 });
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|d| d.into_owned())
            .map_err(|_| "smtp_url: a user or password is not valid UTF-8".to_owned())
    };
    let from_url = (!parsed.username().is_empty())
        .then(|| {
            Ok::<_, String>((decode(parsed.username())?, Zeroizing::new(decode(parsed.password().unwrap_or(""))?)))
        })
        .transpose()?;
    let credentials = match (from_url, &config.smtp_username, &config.smtp_password) {
        (Some(c), None, None) => Some(c),
        (Some(_), _, _) => {
            return Err("give the SMTP user in smtp_url or in smtp_username/smtp_password, not both".into());
        }
        (None, Some(user), password) => Some((user.clone(), Zeroizing::new(password.clone().unwrap_or_default()))),
        (None, None, Some(_)) => return Err("smtp_password is set without smtp_username".into()),
        (None, None, None) => None,
    };
    Ok(MailSettings { host, port, implicit_tls, credentials, from: config.mail_from.clone() })
}

/// A plain `local@domain` address (or `Name <local@domain>`), as lettre parses it.
fn check_address(raw: &str) -> Result<(), String> {
    raw.parse::<lettre::message::Mailbox>().map(|_| ()).map_err(|_| format!("{raw:?} is not an e-mail address"))
}

impl OfficeHours {
    /// `Mon-Fri 07:00-20:00`, `Mon,Tue,Thu 09:00-17:30`, or `Mon-Sun 06:00-22:00`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || format!("office_hours {raw:?} is not like \"Mon-Fri 07:00-20:00\"");
        let (days, hours) = raw.trim().split_once(' ').ok_or_else(bad)?;
        let day = |d: &str| -> Result<Weekday, String> {
            Ok(match d.trim().to_ascii_lowercase().as_str() {
                "mon" => Weekday::Monday,
                "tue" => Weekday::Tuesday,
                "wed" => Weekday::Wednesday,
                "thu" => Weekday::Thursday,
                "fri" => Weekday::Friday,
                "sat" => Weekday::Saturday,
                "sun" => Weekday::Sunday,
                _ => return Err(bad()),
            })
        };
        let mut list = Vec::new();
        for part in days.split(',') {
            match part.split_once('-') {
                Some((a, b)) => {
                    let (mut d, end) = (day(a)?, day(b)?);
                    list.push(d);
                    while d != end {
                        d = d.wrapping_add(1);
                        list.push(d);
                    }
                }
                None => list.push(day(part)?),
            }
        }
        let (from, to) = hours.trim().split_once('-').ok_or_else(bad)?;
        let time = |t: &str| t.trim().parse::<Time>().map_err(|_| bad());
        let (from, to) = (time(from)?, time(to)?);
        if from >= to {
            return Err(format!("office_hours {raw:?}: the day must start before it ends"));
        }
        Ok(Self { days: list, from, to })
    }

    pub fn contains(&self, day: Weekday, time: Time) -> bool {
        self.days.contains(&day) && time >= self.from && time < self.to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_hours_parse_ranges_lists_and_refuse_nonsense() {
        let h = OfficeHours::parse("Mon-Fri 07:00-20:00").unwrap();
        assert_eq!(h.days.len(), 5);
        assert!(h.contains(Weekday::Wednesday, Time::constant(7, 0, 0, 0)));
        assert!(!h.contains(Weekday::Wednesday, Time::constant(20, 0, 0, 0)));
        assert!(!h.contains(Weekday::Saturday, Time::constant(12, 0, 0, 0)));
        let wrap = OfficeHours::parse("Sat-Mon 09:00-10:00").unwrap();
        assert_eq!(wrap.days, vec![Weekday::Saturday, Weekday::Sunday, Weekday::Monday]);
        assert_eq!(OfficeHours::parse("mon,thu 09:00-17:30").unwrap().days, vec![Weekday::Monday, Weekday::Thursday]);
        for bad in ["", "Mon-Fri", "Mon-Fri 20:00-07:00", "Monday 09:00-10:00", "Mon 9-10"] {
            assert!(OfficeHours::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn alert_mails_are_english_unless_another_language_is_named() {
        let mut config = Config::default();
        assert_eq!(WatchSettings::load(&config).unwrap().alert_language, Language::En);
        config.alert_language = " fr ".into();
        assert_eq!(WatchSettings::load(&config).unwrap().alert_language, Language::Fr);
        for bad in ["de", "FR-fr", ""] {
            config.alert_language = bad.into();
            let e = WatchSettings::load(&config).err().unwrap_or_default();
            assert!(e.starts_with("alert_language"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn smtp_errors_never_repeat_the_password() {
        let mut config = Config::default();
        for url in ["ftp://u:hunter2secret@h", "smtp://u:hunter2secret@", "not a url hunter2secret"] {
            config.smtp_url = Some(url.into());
            let e = WatchSettings::load(&config).err().unwrap_or_default();
            assert!(!e.is_empty() && !e.contains("hunter2secret"), "{url}: {e}");
        }
        config.smtp_url = Some("smtp://mailer:p%40ss@relay.example:2525".into());
        let mail = WatchSettings::load(&config).unwrap().mail.unwrap();
        assert_eq!((mail.host.as_str(), mail.port, mail.implicit_tls), ("relay.example", 2525, false));
        let (user, password) = mail.credentials.unwrap();
        assert_eq!((user.as_str(), password.as_str()), ("mailer", "p@ss"));
    }

    #[test]
    fn times_are_told_in_the_firms_zone() {
        let config = Config {
            timezone: "Europe/Paris".into(),
            office_hours: Some("Mon-Fri 08:00-19:00".into()),
            ..Config::default()
        };
        let w = WatchSettings::load(&config).unwrap();
        // 2026-12-03 (a Thursday) 18:30 UTC is 19:30 in Paris: after hours there.
        let ms = 1_796_322_600_000;
        assert_eq!(w.local_time(ms), "2026-12-03 19:30 Europe/Paris");
        assert!(w.off_hours(ms));
        assert!(!w.off_hours(ms - 2 * 3_600_000));
        assert!(WatchSettings::load(&Config { timezone: "Mars/Olympus".into(), ..Config::default() }).is_err());
        // Following the live brand: a zone saved on the setup page applies at once.
        let cell = crate::services::branding::BrandCell::new(crate::services::branding::Branding::default());
        let w = WatchSettings { brand: Some(cell.clone()), ..w };
        assert_eq!(w.local_time(ms), "2026-12-03 18:30 UTC");
        let paris = Config { timezone: "Europe/Paris".into(), ..Config::default() };
        cell.set(crate::services::branding::Branding::load(&paris, None).unwrap());
        assert_eq!(w.local_time(ms), "2026-12-03 19:30 Europe/Paris");
        assert!(w.off_hours(ms));
    }
}
