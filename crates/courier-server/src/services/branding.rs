//! The firm's brand on client and share pages: its name, logo, colour, contact line and time
//! zone, checked once at start-up so that a wrong file or colour stops the server with a clear
//! error instead of showing clients a broken page. The name, colour, contact line and time zone
//! and the logo may also come from the profile the first administrator gives on the setup page
//! (stored in the database); a setting in the configuration file or the environment wins over
//! it. The
//! brand is live: saving the profile changes every page from the next request.

use std::path::Path;
use std::sync::{Arc, RwLock};

use courier_store::firm_profile::FirmProfile;

use crate::Config;
use crate::error::{Reason, Said, SaidArg, said_with};

/// Largest logo file accepted (it is held in memory and served to every client page).
pub const MAX_LOGO: u64 = 512 * 1024;
pub const MAX_CONTACT_CHARS: usize = 300;
pub const MAX_FIRM_NAME_CHARS: usize = 120;

/// The brand as clients see it.
#[derive(Debug)]
pub struct Branding {
    pub firm_name: String,
    /// The logo's bytes and content type (`image/png` or `image/svg+xml`).
    pub logo: Option<(Vec<u8>, &'static str)>,
    /// `#rrggbb`, dark enough for white text on it.
    pub color: Option<String>,
    pub contact: Option<String>,
    pub timezone: jiff::tz::TimeZone,
    /// The time zone's IANA name, as pages show it.
    pub zone_name: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self {
            firm_name: Config::default().firm_name,
            logo: None,
            color: None,
            contact: None,
            timezone: jiff::tz::TimeZone::UTC,
            zone_name: "UTC".into(),
        }
    }
}

impl Branding {
    /// Whether `other` shows clients the same brand.
    pub fn same_as(&self, other: &Self) -> bool {
        (&self.firm_name, &self.logo, &self.color, &self.contact, &self.zone_name)
            == (&other.firm_name, &other.logo, &other.color, &other.contact, &other.zone_name)
    }

    /// The brand of `config`, with its `firm_logo` file or else `stored_logo` (the setup page's;
    /// one that no longer checks is logged and left out, never fatal).
    pub fn load(config: &Config, stored_logo: Option<&[u8]>) -> Result<Self, String> {
        let logo = match (config.firm_logo.as_deref(), stored_logo) {
            (Some(path), _) => Some(read_logo(path)?),
            (None, Some(bytes)) => logo_type(bytes)
                .inspect_err(|e| tracing::warn!(error = %e, "the stored firm logo does not check; left out"))
                .ok()
                .map(|kind| (bytes.to_vec(), kind)),
            (None, None) => None,
        };
        Self::from_config(config, logo)
    }

    /// The brand of `config` with a logo already read.
    pub fn from_config(config: &Config, logo: Option<(Vec<u8>, &'static str)>) -> Result<Self, String> {
        let profile = FirmProfile {
            firm_name: Some(config.firm_name.clone()),
            brand_color: config.brand_color.clone(),
            client_contact: config.client_contact.clone(),
            timezone: Some(config.timezone.clone()),
            logo: None,
        };
        let checked = check_profile(&profile).map_err(|e| e.to_string())?;
        let zone_name = checked.timezone.unwrap_or_else(|| "UTC".into());
        Ok(Self {
            firm_name: checked.firm_name.unwrap_or_else(|| Config::default().firm_name),
            logo,
            color: checked.brand_color,
            contact: checked.client_contact,
            timezone: jiff::tz::TimeZone::get(&zone_name).map_err(|e| format!("timezone {zone_name:?}: {e}"))?,
            zone_name,
        })
    }
}

/// The settings of a profile, checked and trimmed (empty ones become unset).
pub fn check_profile(p: &FirmProfile) -> Result<FirmProfile, Reason> {
    let mut checked = p.clone();
    for (key, value) in checked.fields_mut() {
        *value = check_setting(key, value.as_deref())?;
    }
    if checked.logo.as_ref().is_some_and(|l| l.is_empty()) {
        checked.logo = None;
    }
    if let Some(logo) = &checked.logo {
        logo_type(logo)?;
    }
    Ok(checked)
}

/// One setting of a profile, checked and trimmed (empty becomes unset).
fn check_setting(key: &str, value: Option<&str>) -> Result<Option<String>, Reason> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(None) };
    let one_line = |max: usize| {
        if value.chars().count() > max || value.chars().any(hidden) {
            let label = if key == "firm_name" { "staff-setup-firm-name" } else { "staff-setup-contact" };
            let said = Said::new("staff-refused-setting-line")
                .with("setting", SaidArg::Messages(vec![label.to_owned()]))
                .with("max", SaidArg::Text(max.to_string()));
            Err(Reason::said(format!("{key} must be one line of at most {max} characters"), said))
        } else {
            Ok(Some(value.to_owned()))
        }
    };
    match key {
        "firm_name" => one_line(MAX_FIRM_NAME_CHARS),
        "client_contact" => one_line(MAX_CONTACT_CHARS),
        "brand_color" => check_color(value).map(Some),
        // Under its canonical name (`europe/paris` is found, and shown as `Europe/Paris`).
        _ => match jiff::tz::TimeZone::get(value) {
            Ok(tz) => Ok(Some(tz.iana_name().unwrap_or(value).to_owned())),
            Err(_) => Err(Reason::said(
                format!("timezone {value:?} is not an IANA time zone name (e.g. Europe/Paris)"),
                said_with("staff-refused-timezone", "value", value),
            )),
        },
    }
}

/// Control characters, and the invisible ones that change how text around them reads
/// (zero-width spaces and joiners, direction overrides and isolates, the byte-order mark).
fn hidden(c: char) -> bool {
    // The same set as every other staff text field, plus the line and paragraph separators
    // (a setting is one line) and the invisible tag characters.
    c.is_control()
        || courier_core::is_invisible_format_char(c)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{E0000}'..='\u{E007F}')
}

/// Lays the stored profile over the settings the configuration leaves unset (a setting in the
/// file or the environment wins). A stored value that no longer checks (a time zone removed
/// from the system's database, a hand-edited row) is logged and left out, never fatal.
pub fn apply_profile(config: &mut Config, stored: &FirmProfile) {
    // What the configuration leaves unset starts from its default, so that a value cleared
    // from the profile goes back to it (the running configuration has the old profile in it).
    let defaults = Config::default();
    if !config.explicit.contains("firm_name") {
        config.firm_name = defaults.firm_name;
    }
    if !config.explicit.contains("brand_color") {
        config.brand_color = defaults.brand_color;
    }
    if !config.explicit.contains("client_contact") {
        config.client_contact = defaults.client_contact;
    }
    if !config.explicit.contains("timezone") {
        config.timezone = defaults.timezone;
    }
    let mut kept = stored.clone();
    for (key, value) in kept.fields_mut() {
        // Each stored value checked on its own, so that one bad value leaves the others in.
        *value = if config.explicit.contains(key) {
            None
        } else {
            check_setting(key, value.as_deref()).unwrap_or_else(|e| {
                tracing::warn!(setting = key, error = %e, "the stored firm profile has a bad value; left out");
                None
            })
        };
    }
    if let Some(v) = kept.firm_name {
        config.firm_name = v;
    }
    if kept.brand_color.is_some() {
        config.brand_color = kept.brand_color;
    }
    if kept.client_contact.is_some() {
        config.client_contact = kept.client_contact;
    }
    if let Some(v) = kept.timezone {
        config.timezone = v;
    }
}

/// The live brand, shared by the services and the pages.
#[derive(Clone, Default)]
pub struct BrandCell(Arc<RwLock<Arc<Branding>>>);

impl BrandCell {
    pub fn new(brand: Branding) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(brand))))
    }

    pub fn get(&self) -> Arc<Branding> {
        self.0.read().map(|b| Arc::clone(&b)).unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    pub fn set(&self, brand: Branding) {
        let brand = Arc::new(brand);
        match self.0.write() {
            Ok(mut b) => *b = brand,
            Err(poisoned) => *poisoned.into_inner() = brand,
        }
    }
}

fn read_logo(path: &Path) -> Result<(Vec<u8>, &'static str), String> {
    let shown = path.display();
    // A device or a pipe (/dev/zero, a FIFO) would never end or never open, and a kernel file
    // (/proc/kmsg) may block on read: opened without waiting, then the opened file itself must
    // be a regular file outside /proc and /sys.
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("firm_logo {shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("firm_logo {shown}: {e}"))?;
    let real = std::fs::canonicalize(path).map_err(|e| format!("firm_logo {shown}: {e}"))?;
    if !meta.is_file() || real.starts_with("/proc") || real.starts_with("/sys") {
        return Err(format!("firm_logo {shown} is not a regular file"));
    }
    // The length is read, not trusted: the file may grow between the two.
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_LOGO + 1), &mut bytes)
        .map_err(|e| format!("firm_logo {shown}: {e}"))?;
    let kind = logo_type(&bytes).map_err(|e| format!("firm_logo {shown}: {e}"))?;
    Ok((bytes, kind))
}

/// The content type of a logo: a PNG or an SVG of at most `MAX_LOGO` bytes.
pub fn logo_type(bytes: &[u8]) -> Result<&'static str, Reason> {
    if bytes.len() as u64 > MAX_LOGO {
        return Err(Reason::said(
            format!("the logo is larger than {} KiB, the most accepted", MAX_LOGO / 1024),
            Said::new("staff-refused-logo-size").with("max", SaidArg::Size(MAX_LOGO)),
        ));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok("image/png");
    }
    // An SVG is served as an image with a policy that forbids its scripts (see `web::brand`);
    // still, it must look like one.
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    if head.contains("<svg") {
        return Ok("image/svg+xml");
    }
    Err(Reason::said("the logo is neither a PNG nor an SVG file", Said::new("staff-refused-logo-type")))
}

/// `#rrggbb` with at least 4.5:1 contrast for white text on it (WCAG AA), since buttons and
/// links on client pages use it.
fn check_color(given: &str) -> Result<String, Reason> {
    let hex = given.trim().strip_prefix('#').unwrap_or("");
    let channels: Option<Vec<u8>> = (hex.len() == 6 && hex.is_ascii())
        .then(|| (0..3).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect())
        .flatten();
    let Some(rgb) = channels else {
        return Err(Reason::said(
            format!("brand_color {given:?} is not a colour like #1f4fa3"),
            said_with("staff-refused-colour", "value", given),
        ));
    };
    let contrast = 1.05 / (luminance(&rgb) + 0.05);
    if contrast < 4.5 {
        let said = Said::new("staff-refused-colour-light")
            .with("value", SaidArg::Text(given.to_owned()))
            .with("contrast", SaidArg::Decimal(contrast));
        return Err(Reason::said(
            format!(
                "brand_color {given} is too light: white text on it has a contrast of {contrast:.1}:1, \
                 and clients need at least 4.5:1 to read it (WCAG AA); choose a darker shade"
            ),
            said,
        ));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// Relative luminance (WCAG 2.x).
fn luminance(rgb: &[u8]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_checked_for_form_and_contrast() {
        assert_eq!(check_color("#1F4FA3").unwrap(), "#1f4fa3");
        assert!(check_color("#ffff00").unwrap_err().contains("too light"));
        for bad in ["1f4fa3", "#1f4fa", "#1f4fa3ff", "red", "#gg0000", "#ééé"] {
            assert!(check_color(bad).unwrap_err().contains("not a colour"), "{bad}");
        }
    }

    #[test]
    fn a_logo_must_be_a_small_png_or_svg_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = |path: &Path| Config { firm_logo: Some(path.to_owned()), ..Config::default() };
        let load = |path: &Path| Branding::load(&cfg(path), None);
        let missing = dir.path().join("logo.png");
        assert!(load(&missing).unwrap_err().contains("logo.png"));
        std::fs::write(&missing, b"GIF89a").unwrap();
        assert!(load(&missing).unwrap_err().contains("neither"));
        std::fs::write(&missing, [b"\x89PNG\r\n\x1a\n".as_slice(), &[0; 16]].concat()).unwrap();
        assert_eq!(load(&missing).unwrap().logo.unwrap().1, "image/png");
        let svg = dir.path().join("logo.svg");
        std::fs::write(&svg, b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        assert_eq!(load(&svg).unwrap().logo.unwrap().1, "image/svg+xml");
        std::fs::write(&svg, vec![b' '; MAX_LOGO as usize + 1]).unwrap();
        assert!(load(&svg).unwrap_err().contains("larger than"));
        // Neither a device that never ends nor a directory is read.
        assert!(load(Path::new("/dev/zero")).unwrap_err().contains("not a regular file"));
        assert!(load(dir.path()).unwrap_err().contains("not a regular file"));
        assert!(load(Path::new("/proc/kmsg")).is_err(), "a kernel file that blocks on read");
        let fifo = dir.path().join("fifo.png");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(load(&fifo).unwrap_err().contains("not a regular file"), "a pipe nobody writes");
        let long = Config { client_contact: Some("x".repeat(301)), ..Config::default() };
        assert!(Branding::load(&long, None).is_err());
        let two_lines = Config { client_contact: Some("a\nb".into()), ..Config::default() };
        assert!(Branding::load(&two_lines, None).is_err());
    }

    #[test]
    fn the_configuration_wins_over_the_stored_profile_and_bad_stored_values_are_left_out() {
        let stored = FirmProfile {
            firm_name: Some("Cabinet Durand".into()),
            brand_color: Some("#ffff00".into()), // too light: left out, not fatal
            client_contact: Some("Maître Durand".into()),
            timezone: Some("Europe/Paris".into()),
            logo: None,
        };
        let mut config = Config::default();
        config.explicit.insert("timezone".into());
        config.timezone = "America/New_York".into();
        apply_profile(&mut config, &stored);
        assert_eq!(config.firm_name, "Cabinet Durand");
        assert_eq!(config.client_contact.as_deref(), Some("Maître Durand"));
        assert_eq!(config.brand_color, None);
        assert_eq!(config.timezone, "America/New_York", "set in the configuration: it wins");
        let brand = Branding::load(&config, None).unwrap();
        assert_eq!(brand.zone_name, "America/New_York");
        assert!(check_profile(&FirmProfile { firm_name: Some("a\nb".into()), ..Default::default() }).is_err());
        let invisible = FirmProfile { firm_name: Some("Durand\u{202E}snoitcA".into()), ..Default::default() };
        assert!(check_profile(&invisible).is_err(), "a direction override");
        for c in ['\u{061C}', '\u{00AD}', '\u{2028}', '\u{2029}', '\u{E0041}', '\u{FFF9}'] {
            let name = FirmProfile { firm_name: Some(format!("Durand{c}X")), ..Default::default() };
            assert!(check_profile(&name).is_err(), "U+{:04X} is invisible or breaks the line", c as u32);
        }
        let logo = |bytes: &[u8]| check_profile(&FirmProfile { logo: Some(bytes.to_vec()), ..Default::default() });
        assert_eq!(logo(b"").unwrap().logo, None, "no file chosen");
        assert!(logo(b"GIF89a").unwrap_err().to_string().contains("neither a PNG nor an SVG"));
        assert!(logo(b"\x89PNG\r\n\x1a\n").unwrap().logo.is_some());
        let zone = FirmProfile { timezone: Some("europe/paris".into()), ..Default::default() };
        assert_eq!(check_profile(&zone).unwrap().timezone.as_deref(), Some("Europe/Paris"));
        assert_eq!(
            check_profile(&FirmProfile { firm_name: Some("  ".into()), ..Default::default() }).unwrap().firm_name,
            None
        );
    }
}
