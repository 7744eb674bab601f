//! Staff accounts and sign-in: password (argon2id) then TOTP, sessions with idle and absolute
//! timeouts, the one-time setup link for the first admin. The full ASVS level 2 work (lockout,
//! passkeys, recovery codes, password strength) builds on this in its own issue.

use std::time::Duration;

use courier_core::UserId;
use courier_core::time_fmt::now_ms;
use courier_crypto::token::Token;
use courier_store::users::{self as rows, UserRecord};
use serde::Serialize;
use serde_json::json;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use super::{Actor, Caller, Courier};
use crate::{Error, Result};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub(crate) const TOTP_PURPOSE: &[u8] = b"courier totp v1";
const SETUP_LINK_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Attorney,
    Paralegal,
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Self::Admin),
            "attorney" => Ok(Self::Attorney),
            "paralegal" => Ok(Self::Paralegal),
            _ => Err(Error::BadRequest("the role must be admin, attorney or paralegal".into())),
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Attorney => "attorney",
            Self::Paralegal => "paralegal",
        }
    }
}

/// A new account's enrolment data, shown once.
#[derive(Debug, Serialize)]
pub struct Enrolment {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub totp_secret: String,
    pub otpauth_uri: String,
}

/// A signed-in staff member, as the web layer sees it.
#[derive(Debug, Clone)]
pub struct StaffSession {
    pub user_id: String,
    pub email: String,
    pub role: String,
    pub csrf_token: String,
    /// Password given, TOTP not yet.
    pub awaiting_mfa: bool,
}

impl StaffSession {
    pub fn caller(&self, ip: Option<std::net::IpAddr>) -> Caller {
        Caller { actor: Actor::Staff(self.user_id.clone()), ip }
    }
}

pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid { Ok(email) } else { Err(Error::BadRequest("that is not a valid email address".into())) }
}

/// Length 12 to 128 characters (any Unicode, never truncated, no composition rules), not the
/// e-mail name, and not guessable: zxcvbn's estimate (its frequency lists, with the e-mail and
/// the firm's name as known words) of the password without the firm's name must need more
/// than 10^10 guesses (score 4).
pub fn check_password_policy(password: &str, email: &str, firm: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(Error::BadRequest(format!("the password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(Error::BadRequest(format!("the password may have at most {MAX_PASSWORD_CHARS} characters")));
    }
    // Short local parts ("bo") would match ordinary words; only check meaningful ones.
    let name = email.split('@').next().unwrap_or(email);
    if name.chars().count() >= 4 && password.to_lowercase().contains(name) {
        return Err(Error::BadRequest("the password must not contain your email name".into()));
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
        return Err(Error::BadRequest(format!(
            "this password is too easy to guess{why}.{hint} A few unrelated words make a strong one."
        )));
    }
    Ok(())
}

fn totp(secret: &[u8], email: &str, issuer: &str) -> Result<TOTP> {
    // The otpauth URI format reserves ':' in the issuer and account name.
    let issuer = issuer.replace(':', " ");
    TOTP::new(Algorithm::SHA1, 6, 1, 30, secret.to_vec(), Some(issuer), email.to_owned())
        .map_err(|e| Error::internal("totp", e))
}

impl Courier {
    /// Creates a staff account with a fresh TOTP secret.
    pub async fn create_user(
        &self,
        caller: &Caller,
        email: &str,
        role: Role,
        password: Zeroizing<String>,
    ) -> Result<Enrolment> {
        let (record, enrolment) = self.prepare_user(email, role, password).await?;
        let mut tx = self.db.begin().await?;
        let head = self.insert_user(&mut tx, caller, &record).await?;
        self.audit.commit(tx, head).await?;
        Ok(enrolment)
    }

    /// Sets the department that attribute-based policies see; audited with before and after.
    pub async fn set_user_department(&self, caller: &Caller, user_id: &str, department: &str) -> Result<()> {
        let department = department.trim();
        if department.chars().count() > 200 || department.chars().any(char::is_control) {
            return Err(Error::BadRequest("the department must be at most 200 characters".into()));
        }
        let mut tx = self.db.begin().await?;
        let before = rows::by_id(&mut *tx, user_id).await?.ok_or(Error::NotFound)?.department;
        rows::set_department(&mut tx, user_id, department).await?;
        let details = json!({ "user_id": user_id, "before": before, "after": department });
        let head = self.audit.append(&mut tx, caller, "user.department", &format!("user:{user_id}"), details).await?;
        self.audit.commit(tx, head).await
    }

    /// Checks the input and does the slow work (argon2) before any transaction starts.
    async fn prepare_user(
        &self,
        email: &str,
        role: Role,
        password: Zeroizing<String>,
    ) -> Result<(UserRecord, Enrolment)> {
        let email = normalize_email(email)?;
        check_password_policy(&password, &email, &self.config.firm_name)?;
        let id = UserId::random();
        let mut secret = Zeroizing::new([0u8; 20]);
        courier_crypto::random_bytes(&mut secret[..])?;
        let totp = totp(&secret[..], &email, &self.config.firm_name)?;
        let record = UserRecord {
            id: id.to_string(),
            email: email.clone(),
            role: role.as_str().to_owned(),
            password_hash: self.passwords.hash(password).await?,
            totp_sealed: self.keys.seal(TOTP_PURPOSE, id.as_uuid().as_bytes(), &secret[..])?,
            totp_last_step: 0,
            disabled: false,
            department: String::new(),
            last_login_at: None,
        };
        let enrolment = Enrolment {
            id: record.id.clone(),
            email,
            role,
            totp_secret: totp.get_secret_base32(),
            otpauth_uri: totp.get_url(),
        };
        Ok((record, enrolment))
    }

    async fn insert_user(
        &self,
        tx: &mut courier_store::Tx,
        caller: &Caller,
        record: &UserRecord,
    ) -> Result<courier_store::audit::HeadRecord> {
        rows::insert(tx, record, now_ms()).await.map_err(|e| match e {
            courier_store::StoreError::Conflict => Error::Conflict("a user with this email exists".into()),
            other => other.into(),
        })?;
        let details = json!({ "user_id": record.id, "role": record.role });
        self.audit.append(tx, caller, "user.create", &format!("user:{}", record.id), details).await
    }

    /// First step of sign-in. Unknown email and wrong password take the same time and give
    /// the same answer; both are audited. Returns a session id awaiting TOTP.
    pub async fn login_password(
        &self,
        ip: Option<std::net::IpAddr>,
        email: &str,
        password: Zeroizing<String>,
    ) -> Result<Token> {
        let email = super::lockout::login_key(email);
        self.throttle(ip).await?;
        self.refuse_if_locked(ip, &email).await?;
        let user = rows::by_email(self.db.pool(), &email).await?.filter(|u| !u.disabled);
        let ok = self.passwords.verify(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
        let Some(user) = user.filter(|_| ok) else {
            let caller = Caller { actor: Actor::System, ip };
            self.audit.record(&self.db, &caller, "login.failed", "login", json!({ "step": "password" })).await?;
            self.sign_in_failed(ip, &email).await?;
            return Err(Error::Unauthenticated);
        };
        let session = Token::generate()?;
        let csrf = Token::generate()?;
        let mut tx = self.db.begin().await?;
        rows::insert_session(&mut tx, &session.hash(), &user.id, "mfa", csrf.expose(), now_ms()).await?;
        let caller = Caller { actor: Actor::Staff(user.id.clone()), ip };
        let head =
            self.audit.append(&mut tx, &caller, "login.password_ok", &format!("user:{}", user.id), json!({})).await?;
        self.audit.commit(tx, head).await?;
        Ok(session)
    }

    /// Second step: a TOTP code (±1 step, each step usable once). On success the session is
    /// replaced by a fresh one (new id at the privilege change) and the user's other sessions
    /// end (single session).
    pub async fn login_totp(&self, ip: Option<std::net::IpAddr>, session: &str, code: &str) -> Result<Token> {
        let pending = self.session(session).await?.filter(|s| s.awaiting_mfa).ok_or(Error::Unauthenticated)?;
        let user = rows::by_id(self.db.pool(), &pending.user_id)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(Error::Unauthenticated)?;
        self.throttle(ip).await?;
        self.refuse_if_locked(ip, &user.email).await?;
        let caller = Caller { actor: Actor::Staff(user.id.clone()), ip };
        let step = self.matching_totp_step(&user, code.trim())?;
        let mut tx = self.db.begin().await?;
        let fresh = match step {
            Some(step) if rows::advance_totp_step(&mut tx, &user.id, step).await? => {
                rows::delete_user_sessions(&mut tx, &user.id).await?;
                let fresh = Token::generate()?;
                let csrf = Token::generate()?;
                rows::insert_session(&mut tx, &fresh.hash(), &user.id, "full", csrf.expose(), now_ms()).await?;
                rows::set_last_login(&mut *tx, &user.id, now_ms()).await?;
                Some(fresh)
            }
            _ => None,
        };
        let (action, details) = match (&fresh, step) {
            (Some(_), _) => ("login.success", json!({ "method": "totp" })),
            (None, Some(_)) => ("login.failed", json!({ "step": "totp", "reason": "code already used" })),
            (None, None) => ("login.failed", json!({ "step": "totp" })),
        };
        let head = self.audit.append(&mut tx, &caller, action, &format!("user:{}", user.id), details).await?;
        self.audit.commit(tx, head).await?;
        match fresh {
            Some(fresh) => {
                self.sign_in_succeeded(&user.email).await?;
                Ok(fresh)
            }
            None => {
                self.sign_in_failed(ip, &user.email).await?;
                Err(Error::Unauthenticated)
            }
        }
    }

    fn matching_totp_step(&self, user: &UserRecord, code: &str) -> Result<Option<i64>> {
        let id: UserId = user.id.parse().map_err(|e| Error::internal("user id", e))?;
        let secret = self.keys.open_sealed(TOTP_PURPOSE, id.as_uuid().as_bytes(), &user.totp_sealed)?;
        let totp = totp(&secret, &user.email, &self.config.firm_name)?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let now = (now_ms() / 1000) as u64;
        let current = (now / 30) as i64;
        Ok([current - 1, current, current + 1]
            .into_iter()
            .find(|step| courier_crypto::ct_eq(totp.generate(*step as u64 * 30).as_bytes(), code.as_bytes())))
    }

    /// Looks up a session, enforcing the idle and absolute timeouts, and marks it used.
    pub async fn session(&self, session: &str) -> Result<Option<StaffSession>> {
        let Some(token) = Token::parse(session) else {
            return Ok(None);
        };
        let hash = token.hash();
        let Some(s) = rows::session(self.db.pool(), &hash).await? else {
            return Ok(None);
        };
        let now = now_ms();
        let idle = self.config.session_idle_timeout().as_millis() as i64;
        let absolute = self.config.session_absolute_timeout().as_millis() as i64;
        if now - s.last_seen > idle || now - s.created_at > absolute {
            rows::delete_session(self.db.pool(), &hash).await?;
            return Ok(None);
        }
        let Some(user) = rows::by_id(self.db.pool(), &s.user_id).await?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        // Writing on every request would serialise reads behind SQLite's writer; a minute's
        // precision is plenty for a 30-minute idle timeout.
        if now - s.last_seen > 60_000 {
            rows::touch_session(self.db.pool(), &hash, now).await?;
        }
        Ok(Some(StaffSession {
            user_id: user.id,
            email: user.email,
            role: user.role,
            csrf_token: s.csrf_token,
            awaiting_mfa: s.stage != "full",
        }))
    }

    pub async fn logout(&self, caller: &Caller, session: &str) -> Result<()> {
        let Some(token) = Token::parse(session) else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        rows::delete_session(&mut *tx, &token.hash()).await?;
        let head = self.audit.append(&mut tx, caller, "logout", "session", json!({})).await?;
        self.audit.commit(tx, head).await
    }

    pub async fn admin_exists(&self) -> Result<bool> {
        Ok(rows::count_admins(self.db.pool()).await? > 0)
    }

    /// A one-time link through which the first admin is created (valid one hour).
    pub async fn issue_setup_link(&self) -> Result<String> {
        let token = Token::generate()?;
        let mut tx = self.db.begin().await?;
        rows::insert_setup_token(&mut tx, &token.hash(), now_ms() + SETUP_LINK_TTL.as_millis() as i64).await?;
        let head = self.audit.append(&mut tx, &Caller::system(), "setup.link_issued", "setup", json!({})).await?;
        self.audit.commit(tx, head).await?;
        Ok(format!("{}/setup/{}", self.config.public_url(), token.expose()))
    }

    pub async fn setup_link_valid(&self, token: &str) -> Result<bool> {
        let Some(token) = Token::parse(token) else {
            return Ok(false);
        };
        Ok(rows::setup_token_valid(self.db.pool(), &token.hash(), now_ms()).await?)
    }

    /// Uses up the setup link and creates the first admin, in one transaction.
    pub async fn complete_setup(
        &self,
        ip: Option<std::net::IpAddr>,
        token: &str,
        email: &str,
        password: Zeroizing<String>,
    ) -> Result<Enrolment> {
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        if !self.setup_link_valid(token.expose()).await? {
            return Err(Error::LinkNotFound);
        }
        let (record, enrolment) = self.prepare_user(email, Role::Admin, password).await?;
        let mut tx = self.db.begin().await?;
        if !rows::consume_setup_token(&mut tx, &token.hash(), now_ms()).await? {
            return Err(Error::LinkNotFound);
        }
        let caller = Caller { actor: Actor::System, ip };
        self.audit.append(&mut tx, &caller, "setup.link_used", "setup", json!({})).await?;
        let head = self.insert_user(&mut tx, &caller, &record).await?;
        self.audit.commit(tx, head).await?;
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
