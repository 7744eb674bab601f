//! Link tokens and other bearer secrets: 256 bits from the OS CSPRNG, base64url without
//! padding (43 characters). Only SHA-256 of a token is stored, so a leaked database opens
//! no link.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{Result, random_bytes, sha256};

pub const TOKEN_LEN: usize = 43;

/// A freshly generated or client-presented secret token. Not printable by accident.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Token(String);

impl Token {
    pub fn generate() -> Result<Self> {
        let mut raw = [0u8; 32];
        random_bytes(&mut raw)?;
        let t = URL_SAFE_NO_PAD.encode(raw);
        raw.zeroize();
        Ok(Self(t))
    }

    /// Accepts a presented token only if it has the exact shape of one we issue; anything else
    /// is rejected before touching the database.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = s.len() == TOKEN_LEN
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && URL_SAFE_NO_PAD.decode(s).is_ok_and(|raw| raw.len() == 32);
        ok.then(|| Self(s.to_owned()))
    }

    /// The value to hand to the user (in a link or a cookie). Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database stores and looks up.
    pub fn hash(&self) -> Vec<u8> {
        sha256(self.0.as_bytes()).to_vec()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_chars_unique_and_parse_back() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.expose().len(), TOKEN_LEN);
        assert_ne!(a.expose(), b.expose());
        assert_eq!(Token::parse(a.expose()).unwrap().hash(), a.hash());
        assert_eq!(format!("{a:?}"), "Token(..)");
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = Token::generate().unwrap();
        let long = format!("{}A", good.expose());
        let short = &good.expose()[1..];
        let bad_char = format!("{}*", &good.expose()[1..]);
        for s in ["", "abc", long.as_str(), short, bad_char.as_str(), "../../../../../../../../../../etc/passwd/x"] {
            assert!(Token::parse(s).is_none(), "{s}");
        }
    }
}
