//! WebAuthn passkeys (`webauthn-rs`): people register several and name them; a passkey with
//! user verification is a second factor after the password, and, where the firm turns on
//! `passwordless_passkeys`, a whole sign-in by itself (e-mail, then the passkey). The state of
//! a ceremony stays in the database between its two requests, bound to the session (or
//! pre-login cookie) that started it, and is used once.

use courier_core::time_fmt::rfc3339;
use courier_crypto::token::Token;
use courier_store::passkeys::{self as rows, PasskeyRecord};
use courier_store::users;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};

use super::audit::{AuditAction, AuditedTx};
use super::mfa::SecondFactor;
use super::sessions::{Origin, StaffSession};
use super::{Actor, Caller, Courier};
use crate::error::{Said, bad_request, conflict};
use crate::{Config, Error, Result};

/// Longest passkey name.
const MAX_NAME_CHARS: usize = 100;
/// How long a started ceremony may take (the authenticator's own timeout is shorter).
const CEREMONY_MS: i64 = 5 * 60 * 1000;

/// The relying party: the public URL's host name (WebAuthn needs a domain, not an address),
/// shown to the member by the firm's name.
pub fn relying_party(config: &Config, firm_name: &str) -> Option<Webauthn> {
    let url = Url::parse(&config.public_url()).ok()?;
    let host = url.domain()?.to_owned();
    WebauthnBuilder::new(&host, &url).ok()?.rp_name(firm_name).build().ok()
}

/// A passkey as its owner's account page lists it.
#[derive(Debug, Serialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

fn view(p: &PasskeyRecord) -> PasskeyView {
    PasskeyView {
        id: p.id.clone(),
        name: p.name.clone(),
        created_at: rfc3339(p.created_at),
        last_used_at: p.last_used_at.map(rfc3339),
    }
}

fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal("webauthn state", e))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| Error::internal("webauthn state", e))
}

impl Courier {
    /// The relying party under the firm's name as it is now (the setup page may have changed
    /// it since start); ceremonies keep their state apart, so each may have its own.
    fn webauthn(&self) -> Result<Webauthn> {
        relying_party(&self.config, &self.firm_name()).ok_or_else(|| {
            bad_request(
                "passkeys need a public_url with a host name (not an IP address)",
                Said::new("staff-refused-passkeys-off"),
            )
        })
    }

    /// Whether the user signing in with `session` has a passkey (the second-factor page
    /// offers it).
    pub async fn has_passkey(&self, session: &StaffSession) -> Result<bool> {
        Ok(!self.passkeys_of(&session.user_id).await?.is_empty())
    }

    pub(super) async fn passkeys_of(&self, user_id: &str) -> Result<Vec<PasskeyView>> {
        Ok(rows::for_user(self.db.pool(), user_id).await?.iter().map(view).collect())
    }

    async fn keep_ceremony(&self, key: &[u8], kind: &str, user_id: &str, state: String) -> Result<()> {
        let mut tx = self.db.begin().await?;
        rows::put_ceremony(&mut tx, key, kind, user_id, &state, self.clock.now_ms() + CEREMONY_MS).await?;
        tx.commit().await.map_err(courier_store::StoreError::from)?;
        Ok(())
    }

    /// Starts registering a passkey for the signed-in user.
    pub(super) async fn start_passkey_registration(&self, me: &StaffSession) -> Result<CreationChallengeResponse> {
        let webauthn = self.webauthn()?;
        let uuid: uuid::Uuid = me.user_id.parse().map_err(|e| Error::internal("user id", e))?;
        let existing: Vec<Passkey> = rows::for_user(self.db.pool(), &me.user_id)
            .await?
            .iter()
            .map(|p| from_json(&p.passkey))
            .collect::<Result<_>>()?;
        let exclude = Some(existing.iter().map(|p| p.cred_id().clone()).collect());
        let (challenge, state) = webauthn
            .start_passkey_registration(uuid, &me.email, &me.email, exclude)
            .map_err(|e| Error::internal("webauthn", e))?;
        self.keep_ceremony(&me.id_hash, "register", &me.user_id, to_json(&state)?).await?;
        Ok(challenge)
    }

    /// Completes a registration with the authenticator's answer; audited `mfa.passkey_added`.
    pub(super) async fn finish_passkey_registration(
        &self,
        caller: &Caller,
        me: &StaffSession,
        name: &str,
        credential: &RegisterPublicKeyCredential,
    ) -> Result<PasskeyView> {
        let name = super::text_field("passkey name", name, false, MAX_NAME_CHARS)?;
        let webauthn = self.webauthn()?;
        let mut tx = self.audit.begin(&self.db).await?;
        let (user_id, state) = rows::take_ceremony(&mut tx, &me.id_hash, "register", self.clock.now_ms())
            .await?
            .filter(|(u, _)| *u == me.user_id)
            .ok_or_else(|| bad_request("start the registration again", Said::new("staff-refused-passkey-restart")))?;
        let state: PasskeyRegistration = from_json(&state)?;
        let passkey = webauthn.finish_passkey_registration(credential, &state).map_err(|e| {
            bad_request(format!("the passkey was not accepted ({e})"), Said::new("staff-refused-passkey"))
        })?;
        let record = PasskeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            user_id,
            name,
            credential_id: passkey.cred_id().to_vec(),
            passkey: to_json(&passkey)?,
            created_at: self.clock.now_ms(),
            last_used_at: None,
        };
        rows::insert(&mut tx, &record).await.map_err(|e| match e {
            courier_store::StoreError::Conflict => {
                conflict("this passkey is registered already", Said::new("staff-refused-passkey-exists"))
            }
            other => other.into(),
        })?;
        let details = json!({ "passkey_id": record.id, "name": record.name });
        tx.record(caller, AuditAction::MfaPasskeyAdded, &format!("user:{}", me.user_id), details).await?;
        tx.commit().await?;
        Ok(view(&record))
    }

    /// Removes one of the signed-in user's passkeys; their other sessions end (a factor changed).
    pub(super) async fn remove_passkey(&self, caller: &Caller, me: &StaffSession, id: &str) -> Result<()> {
        let mut tx = self.audit.begin(&self.db).await?;
        let removed = rows::delete(&mut tx, &me.user_id, id).await?.ok_or(Error::NotFound)?;
        let ended = courier_store::sessions::delete_others(&mut tx, &me.user_id, &me.id_hash).await?;
        let details = json!({ "passkey_id": removed.id, "name": removed.name, "sessions_ended": ended });
        tx.record(caller, AuditAction::MfaPasskeyRemoved, &format!("user:{}", me.user_id), details).await?;
        tx.commit().await
    }

    /// Starts a passkey assertion as the second factor of the session `session` (password given).
    pub async fn start_passkey_second_factor(&self, session: &str) -> Result<RequestChallengeResponse> {
        let pending = self.session(session).await?.filter(|s| s.awaiting_mfa && !s.must_enrol);
        let pending = pending.ok_or(Error::Unauthenticated)?;
        self.start_assertion(&pending.id_hash, "second_factor", &pending.user_id).await
    }

    async fn start_assertion(&self, key: &[u8], kind: &str, user_id: &str) -> Result<RequestChallengeResponse> {
        let webauthn = self.webauthn()?;
        let passkeys: Vec<Passkey> = rows::for_user(self.db.pool(), user_id)
            .await?
            .iter()
            .map(|p| from_json(&p.passkey))
            .collect::<Result<_>>()?;
        if passkeys.is_empty() {
            return Err(bad_request(
                "no passkey is registered for this account",
                Said::new("staff-refused-no-passkey"),
            ));
        }
        let (challenge, state) =
            webauthn.start_passkey_authentication(&passkeys).map_err(|e| Error::internal("webauthn", e))?;
        self.keep_ceremony(key, kind, user_id, to_json(&state)?).await?;
        Ok(challenge)
    }

    /// Checks an assertion against the ceremony `kind` started under `key`: the user it
    /// signs in, with the passkey's counter updated. A failure is audited and counted
    /// towards the lockout.
    async fn finish_assertion(
        &self,
        ip: Option<std::net::IpAddr>,
        key: &[u8],
        kind: &str,
        credential: &PublicKeyCredential,
    ) -> Result<(users::UserRecord, AuditedTx<'_>)> {
        let webauthn = self.webauthn()?;
        // The ceremony is used up in a transaction of its own: the throttle below may sleep,
        // and no write transaction may be held across that (review finding 5).
        let mut tx = self.db.begin().await?;
        let taken = rows::take_ceremony(&mut tx, key, kind, self.clock.now_ms()).await?;
        tx.commit().await.map_err(courier_store::StoreError::from)?;
        let Some((user_id, state)) = taken else {
            return Err(Error::Unauthenticated);
        };
        let user =
            users::by_id(self.db.pool(), &user_id).await?.filter(|u| !u.disabled).ok_or(Error::Unauthenticated)?;
        self.begin_sign_in(ip, &user.email).await?;
        let state: PasskeyAuthentication = from_json(&state)?;
        let verified = webauthn.finish_passkey_authentication(credential, &state);
        let caller = Caller::new(Actor::Staff(user.id.clone()), ip);
        let Ok(result) = verified else {
            let details = json!({ "step": "passkey" });
            self.audit
                .record(&self.db, &caller, AuditAction::LoginFailed, &format!("user:{}", user.id), details)
                .await?;
            self.sign_in_failed(ip, &user.email).await?;
            return Err(Error::Unauthenticated);
        };
        self.refuse_if_locked(ip, &user.email).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let stored = rows::for_user(tx.conn(), &user.id).await?;
        for record in stored {
            let mut passkey: Passkey = from_json(&record.passkey)?;
            if passkey.cred_id() == result.cred_id() {
                passkey.update_credential(&result);
                rows::record_use(&mut tx, &record.id, &to_json(&passkey)?, self.clock.now_ms()).await?;
            }
        }
        Ok((user, tx))
    }

    /// Completes the second factor with a passkey: a fresh full session.
    pub async fn finish_passkey_second_factor(
        &self,
        ip: Option<std::net::IpAddr>,
        session: &str,
        credential: &PublicKeyCredential,
    ) -> Result<Token> {
        let pending = self.session(session).await?.filter(|s| s.awaiting_mfa && !s.must_enrol);
        let pending = pending.ok_or(Error::Unauthenticated)?;
        let (user, mut tx) = self.finish_assertion(ip, &pending.id_hash, "second_factor", credential).await?;
        if user.id != pending.user_id {
            return Err(Error::Unauthenticated);
        }
        let caller = Caller::new(Actor::Staff(user.id.clone()), ip);
        let fresh = self.start_full_session(&mut tx, &caller, session, &user.id, SecondFactor::Passkey).await?;
        let details = json!({ "method": "passkey" });
        tx.record(&caller, AuditAction::LoginSuccess, &format!("user:{}", user.id), details).await?;
        tx.commit().await?;
        self.sign_in_succeeded(ip, &user.email).await?;
        Ok(fresh)
    }

    /// Passwordless sign-in, step one (only with `passwordless_passkeys`): a challenge for the
    /// passkeys of `email`. Unknown e-mails, disabled accounts and accounts without a passkey
    /// get the same answer, for a credential that does not exist (derived from the e-mail, so
    /// asking twice gives the same id), and can never finish.
    pub async fn start_passwordless(&self, pre_login: &str, email: &str) -> Result<RequestChallengeResponse> {
        if !self.config.passwordless_passkeys {
            return Err(Error::Forbidden);
        }
        let key = Token::parse(pre_login).ok_or(Error::Forbidden)?.hash();
        let email = super::lockout::login_key(email);
        let user = users::by_email(self.db.pool(), &email).await?.filter(|u| !u.disabled && !u.invited());
        if let Some(user) = &user
            && !rows::for_user(self.db.pool(), &user.id).await?.is_empty()
        {
            return self.start_assertion(&key, "passwordless", &user.id).await;
        }
        let webauthn = self.webauthn()?;
        let (challenge, state) =
            webauthn.start_discoverable_authentication().map_err(|e| Error::internal("webauthn", e))?;
        // Shaped like a real one: no conditional mediation, no extensions, one credential.
        use base64::Engine;
        let fake = self.mac(&[b"passwordless decoy", email.as_bytes()]);
        let mut value = serde_json::to_value(&challenge).map_err(|e| Error::internal("webauthn", e))?;
        if let Some(object) = value.as_object_mut() {
            object.remove("mediation");
        }
        if let Some(public_key) = value.get_mut("publicKey").and_then(|v| v.as_object_mut()) {
            public_key.remove("extensions");
            let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fake);
            public_key.insert("allowCredentials".into(), json!([{ "type": "public-key", "id": id }]));
        }
        let challenge: RequestChallengeResponse =
            serde_json::from_value(value).map_err(|e| Error::internal("webauthn", e))?;
        self.keep_ceremony(&key, "passwordless-decoy", "", to_json(&state)?).await?;
        Ok(challenge)
    }

    /// Passwordless sign-in, step two: a verified passkey assertion is a full session.
    pub async fn finish_passwordless(
        &self,
        origin: &Origin,
        pre_login: &str,
        credential: &PublicKeyCredential,
    ) -> Result<Token> {
        if !self.config.passwordless_passkeys {
            return Err(Error::Forbidden);
        }
        let key = Token::parse(pre_login).ok_or(Error::Unauthenticated)?.hash();
        let (user, mut tx) = self.finish_assertion(origin.ip, &key, "passwordless", credential).await?;
        let pending = self.start_pending_session(&mut tx, &user.id, courier_core::SessionStage::Mfa, origin).await?;
        let caller = Caller::new(Actor::Staff(user.id.clone()), origin.ip);
        let fresh =
            self.start_full_session(&mut tx, &caller, pending.expose(), &user.id, SecondFactor::Passkey).await?;
        let details = json!({ "method": "passkey", "passwordless": true });
        tx.record(&caller, AuditAction::LoginSuccess, &format!("user:{}", user.id), details).await?;
        tx.commit().await?;
        self.sign_in_succeeded(origin.ip, &user.email).await?;
        Ok(fresh)
    }
}
