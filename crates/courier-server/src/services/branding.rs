//! The firm's brand on client and share pages: its logo, its colour and a contact line,
//! checked once at start-up so that a wrong file or colour stops the server with a clear
//! error instead of showing clients a broken page.

use std::path::Path;

use crate::Config;

/// Largest logo file accepted (it is held in memory and served to every client page).
pub const MAX_LOGO: u64 = 512 * 1024;
pub const MAX_CONTACT_CHARS: usize = 300;

/// The brand as clients see it.
#[derive(Debug, Default)]
pub struct Branding {
    /// The logo's bytes and content type (`image/png` or `image/svg+xml`).
    pub logo: Option<(Vec<u8>, &'static str)>,
    /// `#rrggbb`, dark enough for white text on it.
    pub color: Option<String>,
    pub contact: Option<String>,
}

impl Branding {
    pub fn load(config: &Config) -> Result<Self, String> {
        let logo = config.firm_logo.as_deref().map(read_logo).transpose()?;
        let color = config.brand_color.as_deref().map(check_color).transpose()?;
        let contact = config.client_contact.as_deref().map(str::trim).filter(|c| !c.is_empty());
        if let Some(c) = contact
            && (c.chars().count() > MAX_CONTACT_CHARS || c.chars().any(char::is_control))
        {
            return Err(format!("client_contact must be one line of at most {MAX_CONTACT_CHARS} characters"));
        }
        Ok(Self { logo, color, contact: contact.map(str::to_owned) })
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
    if bytes.len() as u64 > MAX_LOGO {
        return Err(format!("firm_logo {shown} is larger than {MAX_LOGO} bytes, the most accepted"));
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok((bytes, "image/png"));
    }
    // An SVG is served as an image with a policy that forbids its scripts (see `web::brand`);
    // still, it must look like one.
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    if head.contains("<svg") {
        return Ok((bytes, "image/svg+xml"));
    }
    Err(format!("firm_logo {shown} is neither a PNG nor an SVG file"))
}

/// `#rrggbb` with at least 4.5:1 contrast for white text on it (WCAG AA), since buttons and
/// links on client pages use it.
fn check_color(given: &str) -> Result<String, String> {
    let hex = given.trim().strip_prefix('#').unwrap_or("");
    let channels: Option<Vec<u8>> = (hex.len() == 6 && hex.is_ascii())
        .then(|| (0..3).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect())
        .flatten();
    let Some(rgb) = channels else {
        return Err(format!("brand_color {given:?} is not a colour like #1f4fa3"));
    };
    let contrast = 1.05 / (luminance(&rgb) + 0.05);
    if contrast < 4.5 {
        return Err(format!(
            "brand_color {given} is too light: white text on it has a contrast of {contrast:.1}:1, \
             and clients need at least 4.5:1 to read it (WCAG AA); choose a darker shade"
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
        let missing = dir.path().join("logo.png");
        assert!(Branding::load(&cfg(&missing)).unwrap_err().contains("logo.png"));
        std::fs::write(&missing, b"GIF89a").unwrap();
        assert!(Branding::load(&cfg(&missing)).unwrap_err().contains("neither"));
        std::fs::write(&missing, [b"\x89PNG\r\n\x1a\n".as_slice(), &[0; 16]].concat()).unwrap();
        assert_eq!(Branding::load(&cfg(&missing)).unwrap().logo.unwrap().1, "image/png");
        let svg = dir.path().join("logo.svg");
        std::fs::write(&svg, b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
        assert_eq!(Branding::load(&cfg(&svg)).unwrap().logo.unwrap().1, "image/svg+xml");
        std::fs::write(&svg, vec![b' '; MAX_LOGO as usize + 1]).unwrap();
        assert!(Branding::load(&cfg(&svg)).unwrap_err().contains("larger than"));
        // Neither a device that never ends nor a directory is read.
        assert!(Branding::load(&cfg(Path::new("/dev/zero"))).unwrap_err().contains("not a regular file"));
        assert!(Branding::load(&cfg(dir.path())).unwrap_err().contains("not a regular file"));
        assert!(Branding::load(&cfg(Path::new("/proc/kmsg"))).is_err(), "a kernel file that blocks on read");
        let fifo = dir.path().join("fifo.png");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
        assert!(Branding::load(&cfg(&fifo)).unwrap_err().contains("not a regular file"), "a pipe nobody writes");
        let long = Config { client_contact: Some("x".repeat(301)), ..Config::default() };
        assert!(Branding::load(&long).is_err());
        let two_lines = Config { client_contact: Some("a\nb".into()), ..Config::default() };
        assert!(Branding::load(&two_lines).is_err());
    }
}
