//! The audit trail's chain hash and its Ed25519-signed head (DESIGN.md, `docs/format.md`).

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::keys::SecretKey;
use crate::{CryptoError, Result};

/// `prev_hash` of the first event.
pub const GENESIS: [u8; 32] = [0u8; 32];

/// The fields of one audit event, as hashed.
pub struct EventFields<'a> {
    pub seq: i64,
    pub at_ms: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub ip: &'a str,
    pub details: &'a str,
}

/// Canonical encoding: `seq (i64 BE) ‖ at_ms (i64 BE)` then each text field as
/// `length (u32 BE) ‖ UTF-8 bytes`, in the order actor, action, target, ip, details.
pub fn canonical_encoding(e: &EventFields<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + e.details.len());
    out.extend_from_slice(&e.seq.to_be_bytes());
    out.extend_from_slice(&e.at_ms.to_be_bytes());
    for field in [e.actor, e.action, e.target, e.ip, e.details] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// `hash = SHA-256(prev_hash ‖ canonical encoding)`.
pub fn chain_hash(prev_hash: &[u8; 32], e: &EventFields<'_>) -> [u8; 32] {
    let mut h = crate::Sha256::default();
    h.update(prev_hash);
    h.update(&canonical_encoding(e));
    h.finish()
}

/// The message a head signature covers.
pub fn head_message(seq: i64, hash: &[u8; 32], at_ms: i64) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(b"courier audit head v1");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&at_ms.to_be_bytes());
    m
}

/// Signs audit heads with the Ed25519 key whose 32-byte seed is the audit key file.
pub struct HeadSigner {
    pair: Ed25519KeyPair,
}

impl HeadSigner {
    pub fn from_seed(seed: &SecretKey) -> Result<Self> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_bytes())
            .map_err(|_| CryptoError::BadKeyMaterial("audit key"))?;
        Ok(Self { pair })
    }

    pub fn sign(&self, seq: i64, hash: &[u8; 32], at_ms: i64) -> Vec<u8> {
        self.pair.sign(&head_message(seq, hash, at_ms)).as_ref().to_vec()
    }

    /// Signs a document (a certificate of deletion's canonical JSON). Head messages start with
    /// their own prefix, so a signed document can never pass for a head, nor the reverse.
    pub fn sign_bytes(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    pub fn public_key(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    pub fn verify(&self, seq: i64, hash: &[u8; 32], at_ms: i64, signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.public_key()).verify(&head_message(seq, hash, at_ms), signature).is_ok()
    }
}

/// Checks an Ed25519 signature with a public key alone (offline certificate checks).
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key).verify(message, signature).is_ok()
}

/// Checks a signed head with a public key alone.
pub fn verify_head(public_key: &[u8], seq: i64, hash: &[u8; 32], at_ms: i64, signature: &[u8]) -> bool {
    verify_signature(public_key, &head_message(seq, hash, at_ms), signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(details: &str) -> EventFields<'_> {
        EventFields { seq: 1, at_ms: 2, actor: "system", action: "a", target: "t", ip: "", details }
    }

    #[test]
    fn encoding_is_unambiguous() {
        let a = EventFields { actor: "ab", action: "c", ..event("{}") };
        let b = EventFields { actor: "a", action: "bc", ..event("{}") };
        assert_ne!(chain_hash(&GENESIS, &a), chain_hash(&GENESIS, &b));
        assert_ne!(chain_hash(&GENESIS, &event("{}")), chain_hash(&[1; 32], &event("{}")));
    }

    #[test]
    fn heads_verify_only_unchanged() {
        let signer = HeadSigner::from_seed(&SecretKey::generate().unwrap()).unwrap();
        let sig = signer.sign(5, &[9; 32], 100);
        assert!(signer.verify(5, &[9; 32], 100, &sig));
        assert!(!signer.verify(4, &[9; 32], 100, &sig));
        assert!(!signer.verify(5, &[8; 32], 100, &sig));
        let other = HeadSigner::from_seed(&SecretKey::generate().unwrap()).unwrap();
        assert!(!other.verify(5, &[9; 32], 100, &sig));
    }
}
