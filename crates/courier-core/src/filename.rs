//! Display names for uploaded files. A client's file name is hostile input: it is only ever
//! shown (escaped) and put into `Content-Disposition`, never used as a path. `FileName` keeps a
//! name that is safe on every common file system and cannot spoof its own extension.

use std::fmt;

use serde::Serialize;

/// Longest stored name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 200;

const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FileName(String);

impl FileName {
    /// Turns any client-supplied name into a safe display name. Never fails: a name with
    /// nothing usable left becomes `unnamed`.
    pub fn sanitize(raw: &str) -> Self {
        // Only the last path component counts, whichever separator the client's OS uses.
        let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
        let mut name: String = base
            .chars()
            .filter(|c| !c.is_control() && !is_invisible_format_char(*c))
            .map(|c| if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') { '_' } else { c })
            .collect();
        name = name.trim_matches(|c: char| c == '.' || c.is_whitespace()).to_owned();
        if name.is_empty() {
            name = "unnamed".to_owned();
        }
        let stem = name.split('.').next().unwrap_or_default();
        if WINDOWS_RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem.trim())) {
            name.insert(0, '_');
        }
        Self(truncate_keeping_extension(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// ASCII-only fallback for `Content-Disposition: filename=` (RFC 6266); the full name goes
    /// into `filename*` percent-encoded.
    pub fn ascii_fallback(&self) -> String {
        self.0
            .chars()
            .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' { c } else { '_' })
            .collect()
    }
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // File names are client data: keep them out of debug output (and so out of logs).
        f.write_str("FileName(..)")
    }
}

/// Bidirectional overrides and zero-width characters let `invoice\u{202E}fdp.exe` display as
/// `invoiceexe.pdf`; none of them belongs in a file name, nor in any text staff type.
pub fn is_invisible_format_char(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

fn truncate_keeping_extension(name: String) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if name.len() - dot <= 16 && dot > 0 => name.split_at(dot),
        _ => (name.as_str(), ""),
    };
    let mut cut = MAX_NAME_BYTES - ext.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", &stem[..cut], ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(raw: &str) -> String {
        FileName::sanitize(raw).0
    }

    #[test]
    fn hostile_names_become_safe_display_names() {
        assert_eq!(s("../../etc/passwd"), "passwd");
        assert_eq!(s("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(s("a\0b.pdf"), "ab.pdf");
        assert_eq!(s("evil\r\nSet-Cookie: x.pdf"), "evilSet-Cookie_ x.pdf");
        assert_eq!(s("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(s("CON"), "_CON");
        assert_eq!(s("nul.txt"), "_nul.txt");
        assert_eq!(s("..."), "unnamed");
        assert_eq!(s(". ."), "unnamed");
        assert_eq!(s(""), "unnamed");
        assert_eq!(s("dir/"), "unnamed");
        assert_eq!(s("Brief für Mandant.pdf"), "Brief für Mandant.pdf");
        let long = format!("{}.pdf", "é".repeat(1000));
        let out = s(&long);
        assert!(out.len() <= MAX_NAME_BYTES && out.ends_with(".pdf"), "{out}");
    }

    proptest! {
        #[test]
        fn sanitized_names_are_always_safe(raw in any::<String>()) {
            let out = s(&raw);
            prop_assert!(!out.is_empty() && out.len() <= MAX_NAME_BYTES);
            prop_assert!(!out.contains(['/', '\\', '\0', '\r', '\n']));
            prop_assert!(!out.chars().any(|c| c.is_control() || is_invisible_format_char(c)));
            prop_assert!(!out.starts_with('.') && out != "..");
            prop_assert_eq!(s(&out), out.clone());
        }
    }
}
