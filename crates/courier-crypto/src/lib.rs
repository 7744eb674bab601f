//! Courier's cryptography, on top of aws-lc-rs. Nothing here is a hand-rolled primitive: this
//! crate fixes how AES-256-GCM, SHA-256 and Ed25519 are composed into Courier's formats
//! (`docs/format.md`).

pub mod audit;
pub mod keys;
pub mod stream;
pub mod token;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("blob header is not a Courier v1 header")]
    BadHeader,
    #[error("segment {0} failed authentication")]
    BadSegment(u32),
    #[error("blob is truncated")]
    Truncated,
    #[error("blob has data after its last segment")]
    TrailingData,
    #[error("too many segments")]
    TooLong,
    #[error("wrapped key does not open with the key ring")]
    BadWrappedKey,
    #[error("unknown master key version {0}")]
    UnknownKeyVersion(u32),
    #[error("key material is malformed: {0}")]
    BadKeyMaterial(&'static str),
    #[error("the system random generator failed")]
    Random,
}

pub type Result<T> = std::result::Result<T, CryptoError>;

/// Fills `buf` from the OS CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    aws_lc_rs::rand::fill(buf).map_err(|_| CryptoError::Random)
}

/// SHA-256 of a byte string.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Incremental SHA-256, for hashing a document's plaintext as it streams past.
#[derive(Clone)]
pub struct Sha256(aws_lc_rs::digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Self(aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256))
    }
}

impl Sha256 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.0.finish().as_ref());
        out
    }
}

/// Constant-time equality for secrets and their hashes.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Plain HMAC-SHA256 of `data` under `key` (webhook signatures, which receivers check with
/// their own HMAC; no length prefixes).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let mut out = [0u8; 32];
    out.copy_from_slice(aws_lc_rs::hmac::sign(&key, data).as_ref());
    out
}

/// HMAC-SHA256 key for short-lived signed values (cookies, CSRF tokens).
pub struct MacKey(aws_lc_rs::hmac::Key);

impl MacKey {
    /// Derives a key for one purpose from a secret key (HMAC as the KDF).
    pub fn derive(secret: &keys::SecretKey, purpose: &[u8]) -> Self {
        let prk = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
        let derived = aws_lc_rs::hmac::sign(&prk, purpose);
        Self(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, derived.as_ref()))
    }

    /// MAC over `parts`, each length-prefixed so they cannot run together.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut ctx = aws_lc_rs::hmac::Context::with_key(&self.0);
        for p in parts {
            ctx.update(&(p.len() as u32).to_be_bytes());
            ctx.update(p);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }
}
