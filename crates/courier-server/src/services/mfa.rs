//! Second factors: TOTP (RFC 6238) with enrolment at sign-in, and single-use recovery codes.

use courier_core::UserId;
use courier_crypto::token::Token;
use courier_store::recovery_codes;
use courier_store::users::{self as rows, UserRecord};
use serde::Serialize;
use serde_json::json;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::audit::AuditAction;
use super::{Caller, Courier};
use crate::{Error, Result};

pub(crate) const TOTP_PURPOSE: &[u8] = b"courier totp v1";
pub const RECOVERY_CODES: usize = 10;
/// 20 characters of a 32-letter alphabet: 100 bits per code.
const RECOVERY_CODE_CHARS: usize = 20;
/// No 0/o, 1/l: codes are read off paper.
const RECOVERY_ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// An authenticator secret offered at enrolment, shown once.
// No `Debug`: it holds the TOTP secret.
#[derive(Serialize)]
pub struct TotpOffer {
    pub totp_secret: String,
    pub otpauth_uri: String,
}

/// A second factor that was accepted, as recorded on the session and in the trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
    Passkey,
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
            Self::Passkey => "passkey",
        }
    }
}

pub(crate) fn totp(secret: &[u8], email: &str, issuer: &str) -> Result<TOTP> {
    // The otpauth URI format reserves ':' in the issuer and account name.
    let issuer = issuer.replace(':', " ");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec(), Some(issuer), email.to_owned())
        .map_err(|e| Error::internal("totp", e))
}

/// Ten fresh codes (shown once, grouped for reading) and their hashes (stored).
pub(crate) fn new_recovery_codes(user_id: &str) -> Result<(Vec<String>, Vec<[u8; 32]>)> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut raw = Zeroizing::new([0u8; RECOVERY_CODE_CHARS]);
        courier_crypto::random_bytes(&mut raw[..])?;
        let chars: Vec<char> = raw.iter().map(|b| RECOVERY_ALPHABET[usize::from(b & 31)] as char).collect();
        let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
        codes.push(groups.join("-"));
    }
    let hashes = codes.iter().map(|c| recovery_hash(user_id, c)).collect();
    Ok((codes, hashes))
}

/// SHA-256 over a label, the user id (unique and random: the salt) and the code without its
/// separators. A fast hash is enough for 100-bit random secrets.
fn recovery_hash(user_id: &str, code: &str) -> [u8; 32] {
    let normalized: String = code.chars().filter(|c| !matches!(c, '-' | ' ')).flat_map(char::to_lowercase).collect();
    let mut h = courier_crypto::Sha256::default();
    for part in [b"courier recovery code v1".as_slice(), user_id.as_bytes(), normalized.as_bytes()] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finish()
}

/// Whether `code` is shaped like a recovery code (rather than a six-digit TOTP code).
pub(crate) fn looks_like_recovery_code(code: &str) -> bool {
    code.chars().filter(|c| !matches!(c, '-' | ' ')).count() == RECOVERY_CODE_CHARS
}

impl Courier {
    /// The second factors a user has enrolled, as listings and the access review name them:
    /// `totp`, and `passkey` when they have one.
    pub(super) async fn mfa_methods(&self, user: &UserRecord) -> Result<Vec<&'static str>> {
        let mut methods = Vec::new();
        if user.mfa_enrolled {
            methods.push("totp");
        }
        if !courier_store::passkeys::for_user(self.db.pool(), &user.id).await?.is_empty() {
            methods.push("passkey");
        }
        Ok(methods)
    }

    /// The TOTP step `code` matches (±1 step around now), if any. Whether the step was used
    /// already is for the caller to check, inside its transaction.
    pub(super) fn matching_totp_step(&self, user: &UserRecord, code: &str) -> Result<Option<i64>> {
        let id: UserId = user.id.parse().map_err(|e| Error::internal("user id", e))?;
        let secret = self.keys.open_sealed(TOTP_PURPOSE, id.as_uuid().as_bytes(), &user.totp_sealed)?;
        let totp = totp(&secret, &user.email, &self.firm_name())?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let current = self.clock.now_ms() / 1000 / 30;
        Ok([current - 1, current, current + 1]
            .into_iter()
            .find(|step| courier_crypto::ct_eq(totp.generate(*step as u64 * 30).as_bytes(), code.as_bytes())))
    }

    /// A fresh sealed TOTP secret for `user_id`, and what the authenticator app needs.
    pub(super) fn new_totp(&self, user_id: &str, email: &str) -> Result<(Vec<u8>, TotpOffer)> {
        self.new_totp_for(user_id, email, &self.firm_name())
    }

    /// `new_totp` with the authenticator entry's issuer given (the firm's name being set up).
    pub(super) fn new_totp_for(&self, user_id: &str, email: &str, firm: &str) -> Result<(Vec<u8>, TotpOffer)> {
        let id: UserId = user_id.parse().map_err(|e| Error::internal("user id", e))?;
        let mut secret = Zeroizing::new([0u8; 20]);
        courier_crypto::random_bytes(&mut secret[..])?;
        let totp = totp(&secret[..], email, firm)?;
        let sealed = self.keys.seal(TOTP_PURPOSE, id.as_uuid().as_bytes(), &secret[..])?;
        Ok((sealed, TotpOffer { totp_secret: totp.get_secret_base32(), otpauth_uri: totp.get_url() }))
    }

    /// Uses up one of the user's recovery codes, inside the caller's transaction.
    pub(super) async fn consume_recovery_code(
        &self,
        tx: &mut courier_store::Tx,
        user_id: &str,
        code: &str,
    ) -> Result<bool> {
        let hash = recovery_hash(user_id, code);
        Ok(recovery_codes::consume(tx, user_id, &hash, self.clock.now_ms()).await?)
    }

    /// Offers a new authenticator to a session that must enrol one (invited, or MFA reset).
    /// Each call offers a new secret; the one shown last is the one a code must match.
    pub async fn offer_enrolment(&self, session: &str) -> Result<TotpOffer> {
        let s = self.session(session).await?.filter(|s| s.must_enrol).ok_or(Error::Unauthenticated)?;
        let (sealed, offer) = self.new_totp(&s.user_id, &s.email)?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::offer_totp(&mut tx, &s.user_id, &sealed).await? {
            return Err(Error::Unauthenticated);
        }
        let caller = Caller::new(super::Actor::Staff(s.user_id.clone()), None);
        let target = format!("user:{}", s.user_id);
        tx.record(&caller, AuditAction::MfaEnrolmentOffered, &target, json!({})).await?;
        tx.commit().await?;
        Ok(offer)
    }

    /// Completes enrolment with a code from the offered authenticator: the session becomes a
    /// full one (fresh id) and the user gets ten recovery codes, shown once.
    pub async fn complete_enrolment(
        &self,
        ip: Option<std::net::IpAddr>,
        session: &str,
        code: &str,
    ) -> Result<(Token, Vec<String>)> {
        let pending = self.session(session).await?.filter(|s| s.must_enrol).ok_or(Error::Unauthenticated)?;
        let user = rows::by_id(self.db.pool(), &pending.user_id)
            .await?
            .filter(|u| !u.disabled && !u.mfa_enrolled)
            .ok_or(Error::Unauthenticated)?;
        self.begin_sign_in(ip, &user.email).await?;
        let caller = Caller::new(super::Actor::Staff(user.id.clone()), ip);
        let Some(step) = self.matching_totp_step(&user, code.trim())? else {
            let details = json!({ "step": "enrol" });
            self.audit
                .record(&self.db, &caller, AuditAction::LoginFailed, &format!("user:{}", user.id), details)
                .await?;
            self.sign_in_failed(ip, &user.email).await?;
            return Err(Error::Unauthenticated);
        };
        let (codes, hashes) = new_recovery_codes(&user.id)?;
        let mut tx = self.audit.begin(&self.db).await?;
        // The secret must still be the one the code matched (no newer offer in another tab).
        if !rows::confirm_totp(&mut tx, &user.id, &user.totp_sealed).await?
            || !rows::advance_totp_step(&mut tx, &user.id, step).await?
        {
            return Err(Error::Unauthenticated);
        }
        recovery_codes::replace(&mut tx, &user.id, &hashes, self.clock.now_ms()).await?;
        tx.record(&caller, AuditAction::MfaEnrolled, &format!("user:{}", user.id), json!({ "method": "totp" })).await?;
        let fresh = self.start_full_session(&mut tx, &caller, session, &user.id, SecondFactor::Totp).await?;
        tx.record(
            &caller,
            AuditAction::LoginSuccess,
            &format!("user:{}", user.id),
            json!({ "method": "totp", "enrolled": true }),
        )
        .await?;
        tx.commit().await?;
        self.sign_in_succeeded(ip, &user.email).await?;
        Ok((fresh, codes))
    }

    /// Replaces the signed-in user's recovery codes with ten new ones, shown once.
    pub(super) async fn regenerate_recovery_codes(&self, caller: &Caller) -> Result<Vec<String>> {
        let super::Actor::Staff(user_id) = &caller.actor else {
            return Err(Error::Forbidden);
        };
        let (codes, hashes) = new_recovery_codes(user_id)?;
        let mut tx = self.audit.begin(&self.db).await?;
        recovery_codes::replace(&mut tx, user_id, &hashes, self.clock.now_ms()).await?;
        let details = json!({ "count": codes.len() });
        tx.record(caller, AuditAction::MfaRecoveryCodesRegenerated, &format!("user:{user_id}"), details).await?;
        tx.commit().await?;
        Ok(codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_random_grouped_and_hash_by_user() {
        let (codes, hashes) = new_recovery_codes("user-a").unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for (code, hash) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 24, "{code}");
            assert!(looks_like_recovery_code(code));
            assert!(code.chars().all(|c| c == '-' || RECOVERY_ALPHABET.contains(&(c as u8))));
            // Typed without dashes, with spaces or in capitals, it is the same code.
            assert_eq!(recovery_hash("user-a", &code.replace('-', "")), *hash);
            assert_eq!(recovery_hash("user-a", &code.replace('-', " ").to_uppercase()), *hash);
            // The user id salts it: the same code is another hash for someone else.
            assert_ne!(recovery_hash("user-b", code), *hash);
        }
        assert!(!looks_like_recovery_code("123456"));
    }
}
