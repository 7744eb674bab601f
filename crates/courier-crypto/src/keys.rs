//! Key management: per-document data keys (DEKs) wrapped by a versioned master key ring.
//!
//! A wrapped DEK is `version (u32 BE) ‖ nonce (12) ‖ AES-256-GCM(master_v, DEK) ‖ tag (16)`
//! with the document id as associated data, so a wrapped key copied onto another document's
//! row does not open. Wrapped keys live only in the metadata database; deleting one shreds
//! its document.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{CryptoError, Result, random_bytes};

pub const KEY_LEN: usize = 32;
pub const WRAPPED_DEK_LEN: usize = 4 + NONCE_LEN + KEY_LEN + 16;
const WRAP_CONTEXT: &[u8] = b"courier dek v1";

/// A 256-bit document data key. Never printed, zeroed on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Dek([u8; KEY_LEN]);

impl Dek {
    pub fn generate() -> Result<Self> {
        let mut k = [0u8; KEY_LEN];
        random_bytes(&mut k)?;
        Ok(Self(k))
    }
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for Dek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dek(..)")
    }
}

/// 32 secret bytes read from a key file.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let k: [u8; KEY_LEN] =
            bytes.try_into().map_err(|_| CryptoError::BadKeyMaterial("key file must hold exactly 32 bytes"))?;
        Ok(Self(k))
    }
    pub fn generate() -> Result<Self> {
        let mut k = Zeroizing::new([0u8; KEY_LEN]);
        random_bytes(&mut k[..])?;
        Self::from_slice(&k[..])
    }
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// The master keys by version; new DEKs are wrapped with the newest.
pub struct KeyRing {
    keys: BTreeMap<u32, SecretKey>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing").field("versions", &self.keys.keys().collect::<Vec<_>>()).finish()
    }
}

impl KeyRing {
    pub fn new(keys: impl IntoIterator<Item = (u32, SecretKey)>) -> Result<Self> {
        let keys: BTreeMap<_, _> = keys.into_iter().collect();
        if keys.is_empty() || keys.contains_key(&0) {
            return Err(CryptoError::BadKeyMaterial("a key ring needs versions 1 and up"));
        }
        Ok(Self { keys })
    }

    /// The versions this ring holds, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    pub fn current_version(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(1)
    }

    pub fn wrap(&self, dek: &Dek, document_id: &[u8; 16]) -> Result<Vec<u8>> {
        self.seal(WRAP_CONTEXT, document_id, dek.as_bytes())
    }

    pub fn unwrap(&self, wrapped: &[u8], document_id: &[u8; 16]) -> Result<Dek> {
        if wrapped.len() != WRAPPED_DEK_LEN {
            return Err(CryptoError::BadWrappedKey);
        }
        let plain = self.open(WRAP_CONTEXT, document_id, wrapped)?;
        let k: [u8; KEY_LEN] = plain[..].try_into().map_err(|_| CryptoError::BadWrappedKey)?;
        Ok(Dek(k))
    }

    /// Encrypts a small secret (a TOTP seed, say) under the current master key, bound to a
    /// purpose and an owner id. Same layout as a wrapped DEK.
    pub fn seal(&self, purpose: &[u8], owner: &[u8; 16], plaintext: &[u8]) -> Result<Vec<u8>> {
        let version = self.current_version();
        let key = self.aead(version)?;
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let mut out = Vec::with_capacity(4 + NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        let mut body = Zeroizing::new(plaintext.to_vec());
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                seal_aad(purpose, version, owner),
                &mut body,
            )
            .map_err(|_| CryptoError::BadWrappedKey)?;
        out.extend_from_slice(&body);
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    pub fn open(&self, purpose: &[u8], owner: &[u8; 16], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let version = Self::wrapped_version(sealed).ok_or(CryptoError::BadWrappedKey)?;
        let key = self.aead(version)?;
        let nonce = sealed.get(4..4 + NONCE_LEN).ok_or(CryptoError::BadWrappedKey)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::BadWrappedKey)?;
        let mut body = Zeroizing::new(sealed[4 + NONCE_LEN..].to_vec());
        let len = key
            .open_in_place(nonce, seal_aad(purpose, version, owner), &mut body[..])
            .map_err(|_| CryptoError::BadWrappedKey)?
            .len();
        body.truncate(len);
        Ok(body)
    }

    /// The master key version a wrapped DEK was made with.
    pub fn wrapped_version(wrapped: &[u8]) -> Option<u32> {
        wrapped.get(..4).map(|v| u32::from_be_bytes([v[0], v[1], v[2], v[3]]))
    }

    fn aead(&self, version: u32) -> Result<LessSafeKey> {
        let secret = self.keys.get(&version).ok_or(CryptoError::UnknownKeyVersion(version))?;
        let key =
            UnboundKey::new(&AES_256_GCM, secret.as_bytes()).map_err(|_| CryptoError::BadKeyMaterial("master key"))?;
        Ok(LessSafeKey::new(key))
    }
}

fn seal_aad(purpose: &[u8], version: u32, owner: &[u8; 16]) -> Aad<Vec<u8>> {
    let mut aad = Vec::with_capacity(purpose.len() + 4 + 16);
    aad.extend_from_slice(purpose);
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(owner);
    Aad::from(aad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_ring() -> KeyRing {
        KeyRing::new([(1, SecretKey::generate().unwrap())]).unwrap()
    }

    #[test]
    fn wrap_round_trips_and_binds_the_document() {
        let ring = new_ring();
        let dek = Dek::generate().unwrap();
        let wrapped = ring.wrap(&dek, &[1; 16]).unwrap();
        assert_eq!(wrapped.len(), WRAPPED_DEK_LEN);
        assert_eq!(ring.unwrap(&wrapped, &[1; 16]).unwrap().as_bytes(), dek.as_bytes());
        assert_eq!(ring.unwrap(&wrapped, &[2; 16]).unwrap_err(), CryptoError::BadWrappedKey);
        assert!(new_ring().unwrap(&wrapped, &[1; 16]).is_err(), "another master key opened it");
        for i in 0..wrapped.len() * 8 {
            let mut bad = wrapped.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(ring.unwrap(&bad, &[1; 16]).is_err(), "bit {i} flip accepted");
        }
    }

    #[test]
    fn newest_version_wraps_and_old_versions_still_open() {
        let v1 = SecretKey::generate().unwrap();
        let old = KeyRing::new([(1, v1.clone())]).unwrap();
        let dek = Dek::generate().unwrap();
        let wrapped_v1 = old.wrap(&dek, &[7; 16]).unwrap();
        let rotated = KeyRing::new([(1, v1), (2, SecretKey::generate().unwrap())]).unwrap();
        let wrapped_v2 = rotated.wrap(&dek, &[7; 16]).unwrap();
        assert_eq!(KeyRing::wrapped_version(&wrapped_v2), Some(2));
        assert_eq!(rotated.unwrap(&wrapped_v1, &[7; 16]).unwrap().as_bytes(), dek.as_bytes());
        assert_eq!(old.unwrap(&wrapped_v2, &[7; 16]).unwrap_err(), CryptoError::UnknownKeyVersion(2));
    }

    #[test]
    fn sealed_values_are_bound_to_purpose_and_owner() {
        let ring = new_ring();
        let sealed = ring.seal(b"totp", &[3; 16], b"seed").unwrap();
        assert_eq!(&ring.open(b"totp", &[3; 16], &sealed).unwrap()[..], b"seed");
        assert!(ring.open(b"dek", &[3; 16], &sealed).is_err());
        assert!(ring.open(b"totp", &[4; 16], &sealed).is_err());
        assert!(ring.open(b"totp", &[3; 16], &sealed[..10]).is_err());
    }
}
