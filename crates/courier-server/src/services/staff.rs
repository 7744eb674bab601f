//! Staff accounts and sign-in: the password policy, password (argon2id) then a second factor
//! (TOTP or a recovery code), and the one-time setup link for the first admin. Sessions are in
//! `sessions`, second factors in `mfa`, account management in `users`.

use std::time::Duration;

use courier_core::UserId;
use courier_crypto::token::Token;
use courier_store::recovery_codes;
use courier_store::users::{self as rows, UserRecord};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::audit::{AuditAction, AuditedTx};
use super::mfa::{SecondFactor, looks_like_recovery_code, new_recovery_codes};
use super::sessions::Origin;
use super::{Actor, Caller, Courier};
use crate::error::{Said, bad_request, conflict, said_with};
use crate::{Error, Result};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;
const SETUP_LINK_TTL: Duration = Duration::from_secs(3600);

pub use courier_core::Role;

/// A new account's enrolment data, shown once.
// No `Debug`: it holds the TOTP secret and recovery codes, which must never reach a log.
#[derive(Serialize)]
pub struct Enrolment {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub totp_secret: String,
    pub otpauth_uri: String,
    /// Ten single-use codes for when the authenticator is lost.
    pub recovery_codes: Vec<String>,
}

pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(bad_request("that is not a valid email address", Said::new("staff-refused-email")))
    }
}

/// Length 12 to 128 characters (any Unicode, never truncated, no composition rules), not the
/// e-mail name, and not guessable: zxcvbn's estimate (its frequency lists, with the e-mail and
/// the firm's name as known words) of the password without the firm's name must need more
/// than 10^10 guesses (score 4).
pub fn check_password_policy(password: &str, email: &str, firm: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(bad_request(
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
            said_with("staff-refused-password-short", "min", MIN_PASSWORD_CHARS),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(bad_request(
            format!("the password may have at most {MAX_PASSWORD_CHARS} characters"),
            said_with("staff-refused-password-long", "max", MAX_PASSWORD_CHARS),
        ));
    }
    // Short local parts ("bo") would match ordinary words; only check meaningful ones.
    let name = email.split('@').next().unwrap_or(email);
    if name.chars().count() >= 4 && password.to_lowercase().contains(name) {
        return Err(bad_request(
            "the password must not contain your email name",
            Said::new("staff-refused-password-email"),
        ));
    }
    let firm = firm.to_lowercase();
    let mut known: Vec<&str> = vec![email, name, &firm];
    known.extend(firm.split_whitespace().filter(|w| w.chars().count() >= 4));
    // The firm's own name adds nothing an attacker would not try first: judge what is left.
    let mut rest = password.to_lowercase();
    for word in &known[2..] {
        rest = rest.replace(word, "");
    }
    let estimate = zxcvbn::zxcvbn(&rest, &known);
    if estimate.score() < zxcvbn::Score::Four {
        let why = estimate.feedback().and_then(|f| f.warning()).map(|w| format!(" ({w})")).unwrap_or_default();
        let hint =
            estimate.feedback().and_then(|f| f.suggestions().first()).map(|s| format!(" {s}")).unwrap_or_default();
        // The checker's advice is English only; other languages get the sentence without it.
        return Err(bad_request(
            format!("this password is too easy to guess{why}.{hint} A few unrelated words make a strong one."),
            Said::new("staff-refused-password-weak"),
        ));
    }
    Ok(())
}

impl Courier {
    /// Creates a staff account with a fresh TOTP secret.
    pub(super) async fn create_user(
        &self,
        caller: &Caller,
        email: &str,
        role: Role,
        password: Zeroizing<String>,
    ) -> Result<Enrolment> {
        let (record, enrolment, hashes) = self.prepare_user(email, role, password, &self.firm_name()).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        self.insert_user(&mut tx, caller, &record, &hashes).await?;
        tx.commit().await?;
        Ok(enrolment)
    }

    /// Sets the department that attribute-based policies see; audited with before and after.
    pub(super) async fn set_user_department(&self, caller: &Caller, user_id: &str, department: &str) -> Result<()> {
        let department = super::text_field("department", department, true, super::matters::MAX_NAME_CHARS)?;
        let mut tx = self.audit.begin(&self.db).await?;
        let before = rows::by_id(tx.conn(), user_id).await?.ok_or(Error::NotFound)?.department;
        rows::set_department(&mut tx, user_id, &department).await?;
        let details = json!({ "user_id": user_id, "before": before, "after": department });
        tx.record(caller, AuditAction::UserDepartment, &format!("user:{user_id}"), details).await?;
        tx.commit().await
    }

    /// Checks the input and does the slow work (argon2) before any transaction starts.
    async fn prepare_user(
        &self,
        email: &str,
        role: Role,
        password: Zeroizing<String>,
        firm: &str,
    ) -> Result<(UserRecord, Enrolment, Vec<[u8; 32]>)> {
        let email = normalize_email(email)?;
        check_password_policy(&password, &email, firm)?;
        let id = UserId::random().to_string();
        let (totp_sealed, offer) = self.new_totp_for(&id, &email, firm)?;
        let (codes, hashes) = new_recovery_codes(&id)?;
        let record = UserRecord {
            id: id.clone(),
            email: email.clone(),
            role,
            password_hash: self.passwords.hash(password).await?,
            totp_sealed,
            totp_last_step: 0,
            disabled: false,
            department: String::new(),
            last_login_at: None,
            language: None,
            mfa_enrolled: true,
        };
        let enrolment = Enrolment {
            id,
            email,
            role,
            totp_secret: offer.totp_secret,
            otpauth_uri: offer.otpauth_uri,
            recovery_codes: codes,
        };
        Ok((record, enrolment, hashes))
    }

    /// Inserts a user (and their recovery codes, if enrolled) with the `user.create` event.
    pub(super) async fn insert_user(
        &self,
        tx: &mut AuditedTx<'_>,
        caller: &Caller,
        record: &UserRecord,
        recovery: &[[u8; 32]],
    ) -> Result<()> {
        let now = self.clock.now_ms();
        rows::insert(tx, record, now).await.map_err(|e| match e {
            courier_store::StoreError::Conflict => {
                conflict("a user with this email exists", Said::new("staff-refused-user-exists"))
            }
            other => other.into(),
        })?;
        recovery_codes::replace(tx, &record.id, recovery, now).await?;
        // The first-start setup link must not make a second administrator.
        let setup_links_revoked =
            if record.role == Role::Admin { rows::revoke_setup_tokens(tx, now).await? } else { 0 };
        let details = json!({ "user_id": record.id, "email": record.email, "role": record.role,
            "invited": record.invited(), "setup_links_revoked": setup_links_revoked });
        tx.record(caller, AuditAction::UserCreate, &format!("user:{}", record.id), details).await
    }

    /// First step of sign-in. Unknown email, invited (no password yet), disabled account and
    /// wrong password take the same time and give the same answer; all are audited. Returns a
    /// session id awaiting the second factor (or enrolment of one).
    pub async fn login_password(&self, origin: &Origin, email: &str, password: Zeroizing<String>) -> Result<Token> {
        let ip = origin.ip;
        let email = super::lockout::login_key(email);
        self.begin_sign_in(ip, &email).await?;
        let user = rows::by_email(self.db.pool(), &email).await?.filter(|u| !u.disabled && !u.invited());
        let ok = self.passwords.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        let Some(user) = user.filter(|_| ok) else {
            let caller = Caller::new(Actor::System, ip);
            self.audit
                .record(&self.db, &caller, AuditAction::LoginFailed, "login", json!({ "step": "password" }))
                .await?;
            self.sign_in_failed(ip, &email).await?;
            return Err(Error::Unauthenticated);
        };
        // Guesses sent alongside may have locked the account while this one was hashed.
        self.sign_in_step_passed(ip, &email).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let stage = if user.mfa_enrolled { courier_core::SessionStage::Mfa } else { courier_core::SessionStage::Enrol };
        let session = self.start_pending_session(&mut tx, &user.id, stage, origin).await?;
        let caller = Caller::new(Actor::Staff(user.id.clone()), ip);
        tx.record(&caller, AuditAction::LoginPasswordOk, &format!("user:{}", user.id), json!({})).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// Second step: a TOTP code (±1 step, each step usable once) or one of the user's unused
    /// recovery codes. On success the session is replaced by a fresh full one.
    pub async fn login_second_factor(&self, ip: Option<std::net::IpAddr>, session: &str, code: &str) -> Result<Token> {
        let pending = self.session(session).await?.filter(|s| s.awaiting_mfa && !s.must_enrol);
        let pending = pending.ok_or(Error::Unauthenticated)?;
        let user = rows::by_id(self.db.pool(), &pending.user_id)
            .await?
            .filter(|u| !u.disabled && u.mfa_enrolled)
            .ok_or(Error::Unauthenticated)?;
        self.begin_sign_in(ip, &user.email).await?;
        let caller = Caller::new(Actor::Staff(user.id.clone()), ip);
        let code = code.trim();
        // Passkeys answer a challenge of their own (`finish_passkey_second_factor`).
        let recovery = looks_like_recovery_code(code);
        let (factor, step) = if recovery {
            (SecondFactor::RecoveryCode, None)
        } else {
            (SecondFactor::Totp, self.matching_totp_step(&user, code)?)
        };
        self.refuse_if_locked(ip, &user.email).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let accepted = if recovery {
            self.consume_recovery_code(&mut tx, &user.id, code).await?
        } else if let Some(step) = step {
            rows::advance_totp_step(&mut tx, &user.id, step).await?
        } else {
            false
        };
        let target = format!("user:{}", user.id);
        let fresh = if accepted {
            let fresh = self.start_full_session(&mut tx, &caller, session, &user.id, factor).await?;
            if factor == SecondFactor::RecoveryCode {
                let left = recovery_codes::unused(tx.conn(), &user.id).await?;
                let details = json!({ "remaining": left });
                tx.record(&caller, AuditAction::MfaRecoveryCodeUsed, &target, details).await?;
            }
            Some(fresh)
        } else {
            None
        };
        let (action, details) = match (&fresh, step) {
            (Some(_), _) => (AuditAction::LoginSuccess, json!({ "method": factor.as_str() })),
            (None, Some(_)) => (AuditAction::LoginFailed, json!({ "step": "totp", "reason": "code already used" })),
            (None, None) => (AuditAction::LoginFailed, json!({ "step": factor.as_str() })),
        };
        tx.record(&caller, action, &target, details).await?;
        tx.commit().await?;
        match fresh {
            Some(fresh) => {
                self.sign_in_succeeded(ip, &user.email).await?;
                Ok(fresh)
            }
            None => {
                self.sign_in_failed(ip, &user.email).await?;
                Err(Error::Unauthenticated)
            }
        }
    }

    pub async fn admin_exists(&self) -> Result<bool> {
        Ok(rows::count_admins(self.db.pool()).await? > 0)
    }

    /// A one-time link through which the first admin is created (valid one hour).
    pub(super) async fn issue_setup_link(&self) -> Result<String> {
        let token = Token::generate()?;
        let mut tx = self.audit.begin(&self.db).await?;
        let expires = self.clock.now_ms() + SETUP_LINK_TTL.as_millis() as i64;
        rows::insert_setup_token(&mut tx, &token.hash(), expires).await?;
        tx.record(&Caller::system(), AuditAction::SetupLinkIssued, "setup", json!({})).await?;
        tx.commit().await?;
        Ok(format!("{}/setup/{}", self.config.public_url(), token.expose()))
    }

    pub async fn setup_link_valid(&self, token: &str) -> Result<bool> {
        let Some(token) = Token::parse(token) else {
            return Ok(false);
        };
        // Once an administrator exists (made by the CLI, say) the link is dead (finding 9).
        Ok(!rows::any_admin(self.db.pool()).await?
            && rows::setup_token_valid(self.db.pool(), &token.hash(), self.clock.now_ms()).await?)
    }

    /// Uses up the setup link and creates the first admin, in one transaction.
    pub async fn complete_setup(
        &self,
        ip: Option<std::net::IpAddr>,
        token: &str,
        email: &str,
        password: Zeroizing<String>,
        profile: &courier_store::firm_profile::FirmProfile,
    ) -> Result<Enrolment> {
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        if !self.setup_link_valid(token.expose()).await? {
            return Err(Error::LinkNotFound);
        }
        // The firm's profile, checked before anything is made. Its name is the authenticator
        // entry's issuer and is refused as a password; nothing of it is in force before the
        // account and the profile are committed together. What the configuration sets is not
        // stored (it would win anyway, and come back if the line were removed).
        let profile = self.profile_to_store(profile)?;
        let firm = self.branded(&profile)?.firm_name;
        let enrolment = self.create_first_admin(ip, &token, email, password, &profile, &firm).await?;
        self.rebrand(&profile);
        Ok(enrolment)
    }

    async fn create_first_admin(
        &self,
        ip: Option<std::net::IpAddr>,
        token: &Token,
        email: &str,
        password: Zeroizing<String>,
        profile: &courier_store::firm_profile::FirmProfile,
        firm: &str,
    ) -> Result<Enrolment> {
        let (record, enrolment, hashes) = self.prepare_user(email, Role::Admin, password, firm).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if rows::any_admin(tx.conn()).await?
            || !rows::consume_setup_token(&mut tx, &token.hash(), self.clock.now_ms()).await?
        {
            return Err(Error::LinkNotFound);
        }
        let caller = Caller::new(Actor::System, ip);
        let given = super::firm::described(profile);
        tx.record(&caller, AuditAction::SetupLinkUsed, "setup", json!({ "firm_profile": given })).await?;
        self.insert_user(&mut tx, &caller, &record, &hashes).await?;
        courier_store::firm_profile::save(tx.conn(), profile, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(enrolment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_policy() {
        let firm = "Hartley Mendes LLP";
        assert!(check_password_policy("short", "a@b.c", firm).is_err());
        assert!(check_password_policy(&"x".repeat(129), "a@b.c", firm).is_err());
        assert!(check_password_policy("alice-is-my-password", "alice@firm.example", firm).is_err());
        assert!(check_password_policy("tortoise umbrella quartz", "alice@firm.example", firm).is_ok());
        // Common passwords, keyboard walks and the firm's own name are refused, with a reason.
        for weak in ["password1234", "qwertyuiop123", "Hartley Mendes 2026!", "aaaaaaaaaaaaaaaa"] {
            let e = check_password_policy(weak, "alice@firm.example", firm).map_err(|e| e.to_string());
            let e = e.err().unwrap_or_else(|| panic!("{weak} accepted"));
            assert!(e.contains("too easy to guess"), "{weak}: {e}");
        }
        // Any Unicode, counted in characters, not bytes.
        assert!(check_password_policy("ключ фиалка гора туман", "alice@firm.example", firm).is_ok());
        assert!(check_password_policy(&"é".repeat(128), "a@b.c", firm).is_err(), "not guessable only by length");
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(normalize_email(" Alice@Firm.Example ").unwrap(), "alice@firm.example");
        for bad in ["", "alice", "@firm.example", "alice@firm", "a b@firm.example", "alice@.example"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
