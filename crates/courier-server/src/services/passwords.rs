//! argon2id for staff passwords and link passcodes, computed on the blocking pool with a
//! bounded number in flight so a login flood cannot starve uploads.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{Output, ParamsString, PasswordHash, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Memory per hash, KiB. Above OWASP's minimum (m = 19 MiB, t = 2, p = 1), tuned so that one
/// hash takes 100–300 ms on the 2-core reference machine (`cargo bench --bench passwords`:
/// see docs/performance.md). Stored hashes carry their parameters, so older ones still verify.
pub const MEMORY_KIB: u32 = 64 * 1024;
pub const ITERATIONS: u32 = 3;

fn params() -> Params {
    #[allow(clippy::expect_used)] // constant parameters, checked by the tests
    Params::new(MEMORY_KIB, ITERATIONS, 1, None).expect("valid argon2 parameters")
}

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// What an unknown account's password is verified against, so that an unknown email costs the
/// same time as a wrong password: a stored hash of the same parameters, with a random salt and a
/// random output. Verifying recomputes argon2 from the salt whatever the output is, so nothing
/// is hashed to make it (hashing a throwaway password took 64 MiB and a CPU core at every start).
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let hash = (|| {
        let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
            OsRng.fill_bytes(out);
            Ok(())
        })?;
        let params = ParamsString::try_from(&params())?;
        let hash = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params,
            salt: Some(salt.as_salt()),
            hash: Some(output),
        };
        Ok::<_, argon2::password_hash::Error>(hash.to_string())
    })();
    // It cannot fail with constant parameters; were it to, hashing a throwaway password still
    // gives a stand-in that costs a real verification (an empty one would answer at once).
    hash.unwrap_or_else(|_| {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(b"courier stand-in", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
});

/// One queue of hashes. Staff sign-in and link passcodes have one each, so that guessing
/// passcodes from many addresses cannot delay the firm's own sign-ins (review finding 4d).
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// How long a hash may wait for its turn before the request is answered 503.
    wait: std::time::Duration,
}

impl PasswordHasher {
    pub fn new(max_in_flight: usize, wait: std::time::Duration) -> Self {
        Self { permits: Arc::new(Semaphore::new(max_in_flight)), wait }
    }

    async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>> {
        match tokio::time::timeout(self.wait, self.permits.acquire()).await {
            Ok(permit) => permit.map_err(|e| Error::internal("hash permits", e)),
            Err(_) => Err(Error::Busy("Too many sign-ins at once; please try again in a moment.".into())),
        }
    }

    pub async fn hash(&self, secret: Zeroizing<String>) -> Result<String> {
        let _permit = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .map_err(|e| Error::internal("hash task", e))?
        .map_err(|e| Error::internal("argon2", e))
    }

    /// Verifies `secret` against `stored`, or against a dummy hash when `stored` is `None`
    /// (always false then, in the same time).
    pub async fn verify(&self, secret: Zeroizing<String>, stored: Option<String>) -> Result<bool> {
        let _permit = self.turn().await?;
        tokio::task::spawn_blocking(move || {
            let exists = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            argon2().verify_password(secret.as_bytes(), &parsed).is_ok() && exists
        })
        .await
        .map_err(|e| Error::internal("verify task", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_do() {
        let h = PasswordHasher::new(1, std::time::Duration::from_secs(60));
        let stored = h.hash(Zeroizing::new("correct horse battery".into())).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=65536,t=3,p=1$"));
        assert!(h.verify(Zeroizing::new("correct horse battery".into()), Some(stored.clone())).await.unwrap());
        assert!(!h.verify(Zeroizing::new("wrong".into()), Some(stored)).await.unwrap());
        assert!(!h.verify(Zeroizing::new("courier dummy password for timing".into()), None).await.unwrap());
    }

    /// An unknown account costs what a known one does only if its stand-in hash makes argon2 do
    /// the same work: same algorithm, version, memory, passes, lanes and output length.
    #[test]
    fn the_stand_in_hash_costs_what_a_real_one_does() {
        let salt = SaltString::generate(&mut OsRng);
        let real = argon2().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        let (real, dummy) = (PasswordHash::new(&real).unwrap(), PasswordHash::new(&DUMMY_HASH).unwrap());
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
        assert_eq!(dummy.salt.unwrap().len(), real.salt.unwrap().len());
        // Verifying against it runs argon2 (and fails), as against a real hash.
        assert!(argon2().verify_password(b"courier dummy password for timing", &dummy).is_err());
    }
}
