//! Capability handles: the only public way to read or change Courier's data.
//!
//! A caller first gets a handle that carries who it is, then acts through it:
//!
//! - [`Courier::staff`] for a signed-in web session, [`Courier::api`] for a personal API
//!   token, [`Courier::operator`] for the local operator running the CLI: all give an
//!   [`Acting`], whose every method decides (Cedar policies, and the token's scopes) before it
//!   touches data;
//! - [`Courier::portal_link`] and [`Courier::share_link`] for a client or a share recipient
//!   holding a link: the handle exists only for a live link, and reaches only that link.
//!
//! The service functions behind these handles are private to `services`, and `Courier`'s
//! fields are private, so a handler cannot forget the decision: there is nothing else to call.
//! The sign-in steps (`login_password`, `complete_setup`, …) stay on `Courier`: each is decided
//! by the secret it is given. `tests/handles.rs` calls every method of [`Acting`] as an outsider,
//! and the e2e `outsider.rs` every route.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use courier_core::DurationSpec;
use courier_crypto::token::Token;
use courier_store::documents::Scope as Listing;
use courier_store::users::UserRecord;
use futures_util::Stream;
use serde_json::Value;
use zeroize::Zeroizing;

use super::access::{AccessReport, MatterDocument};
use super::api_tokens::{NewToken, Scope, TokenView};
use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::documents::{DocumentView, IncomingFiles};
use super::keys::{KeyStatus, Rewrapped};
use super::lifecycle::{HoldSubject, HoldView};
use super::maintenance::MaintenanceReport;
use super::matters::{MatterRequest, MatterView};
use super::pages::{Page, PageRequest};
use super::passkeys::PasskeyView;
use super::portals::{IssuedLink, OpenPortal, PortalRequest, PortalView};
use super::sessions::{SessionView, StaffSession};
use super::shares::{CreatedShare, OpenShare, ShareRequest, ShareView, SharedDownload, SharedFile};
use super::staff::{Enrolment, Role};
use super::users::{Change, Invitation, UserView};
use super::{Actor, Caller, Courier, OperatorKey, Unlock, Via};
use crate::{Error, Result};

/// Who a user is, without what they sign in with (no password hash, no sealed TOTP secret).
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub role: Role,
}

impl From<UserRecord> for Person {
    fn from(u: UserRecord) -> Self {
        Self { id: u.id, email: u.email, role: u.role }
    }
}

/// A staff member (web session or API token) or the operator, bound to the service.
pub struct Acting {
    courier: Arc<Courier>,
    caller: Caller,
    /// The web session acted through; own-account steps need it.
    session: Option<StaffSession>,
}

impl Courier {
    /// The handle of a signed-in staff member (from [`Courier::session`]); a session still
    /// owing its second factor (or an authenticator's enrolment) gets `Unauthenticated`.
    pub fn staff(self: &Arc<Self>, session: &StaffSession, ip: Option<IpAddr>) -> Result<Acting> {
        if session.awaiting_mfa() || session.must_enrol {
            return Err(Error::Unauthenticated);
        }
        Ok(Acting { courier: self.clone(), caller: session.caller(ip), session: Some(session.clone()) })
    }

    /// The handle of an API token's holder. An unknown, revoked or expired token, or a disabled
    /// user, gets `Unauthenticated` (and an audit event); every use is audited.
    pub async fn api(self: &Arc<Self>, bearer: &str, ip: Option<IpAddr>, method: &str, route: &str) -> Result<Acting> {
        let caller = self.api_caller(bearer, ip, method, route).await?;
        Ok(Acting { courier: self.clone(), caller, session: None })
    }

    /// The handle of the local operator (the CLI): every right, every action audited under
    /// the operating-system user. Only the holder of the [`OperatorKey`] gets one.
    pub fn operator(self: &Arc<Self>, _key: &OperatorKey) -> Acting {
        Acting { courier: self.clone(), caller: Caller::cli(), session: None }
    }
}

impl Acting {
    /// Who acts, as the audit trail names them.
    pub fn actor(&self) -> &Actor {
        &self.caller.actor
    }

    /// The API token's scopes, when acting through one.
    pub fn scopes(&self) -> Option<&[Scope]> {
        match &self.caller.via {
            Via::Api(grant) => Some(&grant.scopes),
            _ => None,
        }
    }

    /// The base of the links this instance hands out, when it is only the default
    /// (`http://<bind>`): `public_url` is not set, and a client elsewhere cannot open them.
    pub fn default_link_base(&self) -> Option<String> {
        self.c().config.public_url.is_none().then(|| self.c().config.public_url())
    }

    /// The API token acted through, by id.
    pub fn token_id(&self) -> Option<&str> {
        match &self.caller.via {
            Via::Api(grant) => Some(&grant.token_id),
            _ => None,
        }
    }

    /// The web session, for steps only its owner may take in a browser.
    fn session(&self) -> Result<&StaffSession> {
        self.session.as_ref().ok_or(Error::Forbidden)
    }

    /// Steps only the operator (or the system) may take: keys, users by command line, upkeep.
    fn operator_only(&self) -> Result<()> {
        match self.caller.actor {
            Actor::Cli(_) | Actor::System => Ok(()),
            _ => Err(Error::Forbidden),
        }
    }

    fn c(&self) -> &Arc<Courier> {
        &self.courier
    }

    /// Whether the caller may do `action` on `resource` (to show or hide a button); nothing
    /// is audited and nothing is read but the resource's facts.
    pub async fn may(&self, action: Action, on: &Resource) -> Result<bool> {
        self.c().may(&self.caller, action, on).await
    }

    /// Whether the caller may do `action` on matter `id`, which they must be able to see.
    pub async fn may_on_matter(&self, action: Action, id: &str) -> Result<bool> {
        let resource = self.c().matter_resource(id).await?;
        self.c().authorize(&self.caller, Action::MatterView, &resource).await?;
        self.c().may(&self.caller, action, &resource).await
    }

    /// Records that the operator read something (CLI listings and shows): DESIGN.md has every
    /// CLI action in the trail.
    pub async fn audit_read(&self, action: AuditAction, target: &str, details: Value) -> Result<()> {
        self.operator_only()?;
        self.c().audit.record(&self.c().db, &self.caller, action, target, details).await
    }

    // --- Matters -------------------------------------------------------------------------

    pub async fn list_matters(&self) -> Result<Vec<MatterView>> {
        self.caller.via.require(Scope::MattersRead)?;
        self.c().list_matters(&self.caller).await
    }

    pub async fn matter(&self, id_or_name: &str) -> Result<MatterView> {
        self.c().matter_for(&self.caller, id_or_name).await
    }

    /// The id of a matter named by id or name; the operator may create it on the way.
    pub async fn resolve_matter(&self, id_or_name: &str, create: bool) -> Result<String> {
        Ok(self.c().resolve_matter(&self.caller, id_or_name, create).await?.id)
    }

    pub async fn create_matter(&self, req: MatterRequest) -> Result<MatterView> {
        self.c().create_matter(&self.caller, req).await
    }

    pub async fn add_member(&self, matter: &str, email: &str, role: &str) -> Result<MatterView> {
        self.c().add_member(&self.caller, matter, email, role).await
    }

    pub async fn remove_member(&self, matter: &str, email: &str) -> Result<MatterView> {
        self.c().remove_member(&self.caller, matter, email).await
    }

    pub async fn set_matter_archived(&self, matter: &str, archived: bool) -> Result<MatterView> {
        self.c().set_matter_archived(&self.caller, matter, archived).await
    }

    pub async fn break_glass(&self, matter: &str, reason: &str, for_ms: i64) -> Result<String> {
        self.c().break_glass(&self.caller, matter, reason, for_ms).await
    }

    /// One page of a matter's live documents, each with what the caller may do with it.
    pub async fn matter_documents(&self, matter_id: &str, page: &PageRequest) -> Result<Page<MatterDocument>> {
        self.c().matter_documents(&self.caller, matter_id, page).await
    }

    pub async fn access_review(&self) -> Result<AccessReport> {
        self.c().access_review(&self.caller).await
    }

    pub async fn record_review(&self, matter: &str, removed: &str, note: &str) -> Result<String> {
        self.c().record_review(&self.caller, matter, removed, note).await
    }

    // --- Portals -------------------------------------------------------------------------

    pub async fn create_portal(&self, req: PortalRequest) -> Result<IssuedLink> {
        self.c().create_portal(&self.caller, req).await
    }

    pub async fn list_portals(&self) -> Result<Vec<PortalView>> {
        self.c().list_portals(&self.caller).await
    }

    pub async fn portal(&self, id: &str) -> Result<PortalView> {
        self.c().portal_for(&self.caller, id).await
    }

    /// One page of a portal's live documents, for someone who may see the portal.
    pub async fn portal_documents(&self, id: &str, page: &PageRequest) -> Result<Page<DocumentView>> {
        self.caller.via.require(Scope::DocumentsRead)?;
        self.c().authorize_portal(&self.caller, Action::PortalView, id).await?;
        let c = self.c();
        Ok(c.document_page(Listing::Portal(id), false, page).await?.map(|d| c.doc_view(&d)))
    }

    /// What the staff portal page shows, on one decision: the portal, one page of its live
    /// documents, and until when wrong passcodes lock its link (three calls took the same
    /// decision three times, each reading the caller and the matter again).
    pub async fn portal_overview(&self, id: &str, page: &PageRequest) -> Result<PortalOverview> {
        self.caller.via.require(Scope::DocumentsRead)?;
        let c = self.c();
        let portal = c.portal_for(&self.caller, id).await?;
        let documents = c.document_page(Listing::Portal(id), false, page).await?.map(|d| c.doc_view(&d));
        let link_locked_until = c.link_locked_until(Unlock::Portal, id).await?;
        Ok(PortalOverview { portal, documents, link_locked_until })
    }

    /// Until when wrong passcodes lock a portal's or a share's link, for someone who may see it.
    pub async fn link_locked_until(&self, unlock: Unlock, id: &str) -> Result<Option<i64>> {
        match unlock {
            Unlock::Portal => self.c().authorize_portal(&self.caller, Action::PortalView, id).await?,
            Unlock::Share => drop(self.c().share(&self.caller, id).await?),
        }
        self.c().link_locked_until(unlock, id).await
    }

    pub async fn set_portal_enabled(&self, id: &str, enabled: bool) -> Result<PortalView> {
        self.c().set_portal_enabled(&self.caller, id, enabled).await
    }

    pub async fn unlock_portal_passcode(&self, id: &str) -> Result<bool> {
        self.c().unlock_portal_passcode(&self.caller, id).await
    }

    /// What the client's instruction sheet says, for the portal's current link `url`.
    pub async fn instruction_sheet(&self, id: &str, url: &str) -> Result<super::portals::InstructionSheet> {
        self.c().instruction_sheet(&self.caller, id, url).await
    }

    pub async fn new_portal_link(&self, id: &str) -> Result<IssuedLink> {
        self.c().new_portal_link(&self.caller, id).await
    }

    pub async fn delete_portal(&self, id: &str) -> Result<usize> {
        self.c().delete_portal(&self.caller, id).await
    }

    /// A zip of the portal's released documents, streamed.
    pub async fn portal_archive(
        &self,
        id: &str,
    ) -> Result<(String, impl Stream<Item = std::io::Result<Bytes>> + Send + 'static)> {
        self.c().portal_archive(&self.caller, id).await
    }

    // --- Documents -----------------------------------------------------------------------

    /// A page of every document (or of one portal's), shredded ones too on request: the
    /// operator's view.
    pub async fn all_documents(
        &self,
        portal_id: Option<&str>,
        include_deleted: bool,
        page: &PageRequest,
    ) -> Result<Page<DocumentView>> {
        self.operator_only()?;
        let listing = portal_id.map_or(Listing::All, Listing::Portal);
        let c = self.c();
        Ok(c.document_page(listing, include_deleted, page).await?.map(|d| c.doc_view(&d)))
    }

    /// A document's description, for someone who may see its portal (or its matter).
    pub async fn document(&self, id: &str) -> Result<DocumentView> {
        let doc = self.c().document(id).await?;
        match &doc.portal_id {
            Some(p) => self.c().authorize_portal(&self.caller, Action::PortalView, p).await?,
            None => {
                let resource = self.c().matter_resource(doc.matter_id.as_deref().unwrap_or_default()).await?;
                self.c().authorize(&self.caller, Action::MatterView, &resource).await?;
            }
        }
        Ok(doc)
    }

    /// Stores files into a matter, all or nothing (see `documents::ingest_all`).
    pub async fn upload_to_matter<F: IncomingFiles>(&self, matter: &str, files: &mut F) -> Result<Vec<DocumentView>> {
        self.c().ingest_all(&self.caller, super::documents::Destination::Matter(matter), files).await
    }

    pub async fn open_document(
        &self,
        id: &str,
    ) -> Result<(DocumentView, impl Stream<Item = std::io::Result<Bytes>> + Send + 'static)> {
        self.c().open_document(&self.caller, id).await
    }

    pub async fn delete_document(&self, id: &str) -> Result<bool> {
        self.c().delete_document(&self.caller, id).await
    }

    pub async fn release_document(&self, id: &str, reason: &str) -> Result<()> {
        self.c().release_document(&self.caller, id, reason).await
    }

    // --- Lifecycle -----------------------------------------------------------------------

    /// Marks documents as filed in the firm's DMS (all or none).
    pub async fn mark_filed(&self, ids: &[String], reference: Option<&str>) -> Result<Vec<DocumentView>> {
        self.c().mark_filed(&self.caller, ids, reference).await
    }

    /// Marks every live, unfiled document of a portal as filed; how many.
    pub async fn mark_portal_filed(&self, portal_id: &str, reference: Option<&str>) -> Result<usize> {
        self.c().mark_portal_filed(&self.caller, portal_id, reference).await
    }

    pub async fn place_hold(&self, subject: HoldSubject, reason: &str) -> Result<HoldView> {
        self.c().place_hold(&self.caller, subject, reason).await
    }

    pub async fn release_hold(&self, id: &str, reason: &str) -> Result<HoldView> {
        self.c().release_hold(&self.caller, id, reason).await
    }

    /// The holds on matters the caller may see.
    pub async fn list_holds(&self, include_released: bool) -> Result<Vec<HoldView>> {
        self.c().list_holds(&self.caller, include_released).await
    }

    /// A matter's shredded documents, newest first (for their certificates).
    pub async fn shredded_documents(&self, matter: &str) -> Result<Vec<DocumentView>> {
        let resource = self.c().matter_resource(matter).await?;
        self.c().authorize(&self.caller, Action::MatterView, &resource).await?;
        let rows = courier_store::documents::list_shredded_in_matter(self.c().db.pool(), matter).await?;
        Ok(rows.iter().map(|d| self.c().doc_view(d)).collect())
    }

    /// The active holds that keep one document, for someone who may see it.
    pub async fn holds_on_document(&self, id: &str) -> Result<Vec<HoldView>> {
        self.document(id).await?;
        let d = courier_store::documents::get(self.c().db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.c().holds_on(&d).await
    }

    // --- The firm's profile --------------------------------------------------------------------

    /// The brand in force and what the configuration fixes of it (administrators).
    pub async fn firm_profile(&self) -> Result<super::firm::FirmProfileView> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        Ok(self.c().firm_profile_view())
    }

    /// Changes the firm's profile after setup (administrators), audited.
    pub async fn set_firm_profile(
        &self,
        given: &courier_store::firm_profile::FirmProfile,
        logo: super::firm::LogoChange,
    ) -> Result<()> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        self.c().change_firm_profile(&self.caller, given, logo).await
    }

    // --- Watch and respond -------------------------------------------------------------------

    /// Alerts, deliveries and the lockdown switch (administrators).
    pub async fn watch_overview(&self) -> Result<super::watch::views::WatchOverview> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        self.c().watch_overview().await
    }

    pub async fn lockdown_status(&self) -> Result<super::watch::lockdown::LockdownView> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        self.c().lockdown_status().await
    }

    /// The operator turns the switch (`courier lockdown on|off`).
    pub async fn set_lockdown(&self, on: bool, reason: &str) -> Result<super::watch::lockdown::LockdownView> {
        self.operator_only()?;
        self.c().set_lockdown(&self.caller, on, reason).await
    }

    /// An administrator turns the switch from the web, giving password and second factor again.
    pub async fn set_lockdown_confirmed(
        &self,
        on: bool,
        reason: &str,
        password: Zeroizing<String>,
        code: &str,
    ) -> Result<super::watch::lockdown::LockdownView> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        self.c().confirm_identity(&self.caller, self.session()?, password, code).await?;
        self.c().set_lockdown(&self.caller, on, reason).await
    }

    /// The forensic bundle (`courier incident export`).
    pub async fn incident_export(
        &self,
        since_ms: i64,
        output: &std::path::Path,
    ) -> Result<super::watch::incident::IncidentBundle> {
        self.operator_only()?;
        self.c().incident_export(&self.caller, since_ms, output).await
    }

    /// The caller's own upload notifications (newest first) and how many are unread.
    pub async fn my_notifications(&self) -> Result<(Vec<super::watch::views::NotificationView>, i64)> {
        let user = self.own_user_id()?;
        self.c().notifications(user).await
    }

    pub async fn unread_notifications(&self) -> Result<i64> {
        let user = self.own_user_id()?;
        self.c().unread_notifications(user).await
    }

    pub async fn mark_notifications_read(&self) -> Result<u64> {
        let user = self.own_user_id()?;
        self.c().mark_notifications_read(&self.caller, user).await
    }

    /// The staff member acting (sessions and tokens; the operator has no notifications).
    fn own_user_id(&self) -> Result<&str> {
        match &self.caller.actor {
            Actor::Staff(id) => Ok(id),
            _ => Err(Error::Forbidden),
        }
    }

    /// Switches upload notifications for the portal's owner on or off.
    pub async fn set_portal_notify(&self, id: &str, notify: bool) -> Result<()> {
        self.c().set_portal_notify(&self.caller, id, notify).await
    }

    /// `None` hands the portal back to its matter's retention.
    pub async fn set_portal_retention(&self, id: &str, retention: Option<DurationSpec>) -> Result<()> {
        self.c().set_portal_retention(&self.caller, id, retention).await
    }

    /// `None` hands the matter back to the firm's retention.
    pub async fn set_matter_retention(&self, matter: &str, retention: Option<DurationSpec>) -> Result<()> {
        self.c().set_matter_retention(&self.caller, matter, retention).await
    }

    /// A shredded document's certificate of deletion (signed JSON).
    pub async fn certificate(&self, id: &str) -> Result<Value> {
        self.c().certificate(&self.caller, id).await
    }

    /// The audit key's public half, hex (public: anyone may check certificates with it).
    pub fn audit_public_key(&self) -> String {
        self.c().audit_public_key()
    }

    // --- Shares --------------------------------------------------------------------------

    pub async fn create_share(&self, req: ShareRequest) -> Result<CreatedShare> {
        self.c().create_share(&self.caller, req).await
    }

    pub async fn list_shares(&self, matter_id: Option<&str>) -> Result<Vec<ShareView>> {
        self.c().list_shares(&self.caller, matter_id).await
    }

    pub async fn share(&self, id: &str) -> Result<ShareView> {
        self.c().share(&self.caller, id).await
    }

    /// A share and whether the caller may revoke it.
    pub async fn share_with_rights(&self, id: &str) -> Result<(ShareView, bool)> {
        self.c().share_with_rights(&self.caller, id).await
    }

    pub async fn unlock_share_passcode(&self, id: &str) -> Result<bool> {
        self.c().unlock_share_passcode(&self.caller, id).await
    }

    pub async fn revoke_share(&self, id: &str) -> Result<ShareView> {
        self.c().revoke_share(&self.caller, id).await
    }

    // --- People --------------------------------------------------------------------------

    pub async fn list_users(&self) -> Result<Vec<UserView>> {
        self.c().list_users(&self.caller).await
    }

    /// The user this handle acts for (a staff member or a token's holder).
    pub async fn me(&self) -> Result<Person> {
        match &self.caller.actor {
            Actor::Staff(id) => self.c().user(id).await.map(Person::from),
            _ => Err(Error::Forbidden),
        }
    }

    /// A user by email, for those who manage users.
    pub async fn user_by_email(&self, email: &str) -> Result<Person> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        self.c().user_by_email(email).await.map(Person::from)
    }

    pub async fn my_account(&self) -> Result<Value> {
        self.c().my_account(&self.caller).await
    }

    /// Chooses the language of the caller's own staff pages (`None`: the browser's).
    pub async fn set_my_language(&self, language: Option<courier_core::Language>) -> Result<()> {
        self.session()?;
        self.c().set_my_language(&self.caller, language).await
    }

    pub async fn invite_user(
        &self,
        email: &str,
        role: Role,
        department: &str,
        ttl: Option<Duration>,
    ) -> Result<Invitation> {
        self.c().invite_user(&self.caller, email, role, department, ttl).await
    }

    pub async fn password_reset_link(&self, user_id: &str) -> Result<Invitation> {
        self.c().password_reset_link(&self.caller, user_id).await
    }

    pub async fn change_user(&self, user_id: &str, change: Change) -> Result<()> {
        self.c().change_user(&self.caller, user_id, change).await
    }

    /// Lifts the sign-in lock of the user with this id (web) or email (CLI).
    pub async fn unlock_account(&self, email: &str) -> Result<bool> {
        self.c().unlock_account(&self.caller, email).await
    }

    pub async fn unlock_user(&self, user_id: &str) -> Result<bool> {
        self.c().authorize(&self.caller, Action::UserManage, &Resource::Firm).await?;
        let user = self.c().user(user_id).await?;
        self.c().unlock_account(&self.caller, &user.email).await
    }

    pub async fn end_everyones_sessions(&self) -> Result<u64> {
        self.c().end_everyones_sessions(&self.caller).await
    }

    pub async fn end_user_sessions(&self, user_id: &str) -> Result<u64> {
        self.c().end_user_sessions(&self.caller, user_id).await
    }

    /// Creates a staff account with a password (the operator; the web invites instead).
    pub async fn create_user(&self, email: &str, role: Role, password: Zeroizing<String>) -> Result<Enrolment> {
        self.operator_only()?;
        self.c().create_user(&self.caller, email, role, password).await
    }

    pub async fn set_user_department(&self, user_id: &str, department: &str) -> Result<()> {
        self.operator_only()?;
        self.c().set_user_department(&self.caller, user_id, department).await
    }

    // --- API tokens ----------------------------------------------------------------------

    pub async fn create_api_token(
        &self,
        user_id: &str,
        name: &str,
        scopes: &[Scope],
        ttl: Option<Duration>,
    ) -> Result<NewToken> {
        self.c().create_api_token(&self.caller, user_id, name, scopes, ttl).await
    }

    pub async fn list_api_tokens(&self, user_id: Option<&str>) -> Result<Vec<TokenView>> {
        self.c().list_api_tokens(&self.caller, user_id).await
    }

    pub async fn revoke_api_token(&self, id: &str) -> Result<()> {
        self.c().revoke_api_token(&self.caller, id).await
    }

    // --- The caller's own web session and authenticators ---------------------------------

    /// The once-only notice of this session (for example, that older sessions were ended).
    pub async fn take_notice(&self) -> Result<Option<String>> {
        self.c().take_notice(self.session()?).await
    }

    /// Signs out of the session this handle was made with.
    pub async fn logout(&self) -> Result<()> {
        self.c().logout(&self.caller, self.session()?).await
    }

    pub async fn my_sessions(&self) -> Result<Vec<SessionView>> {
        self.c().my_sessions(self.session()?).await
    }

    pub async fn end_my_session(&self, handle: &str) -> Result<()> {
        self.session()?;
        self.c().end_my_session(&self.caller, handle).await
    }

    pub async fn end_other_sessions(&self) -> Result<u64> {
        self.c().end_other_sessions(&self.caller, self.session()?).await
    }

    pub async fn regenerate_recovery_codes(&self) -> Result<Vec<String>> {
        self.session()?;
        self.c().regenerate_recovery_codes(&self.caller).await
    }

    /// Asks for the password again before a sensitive step.
    pub async fn reauthenticate(&self, password: Zeroizing<String>) -> Result<UserRecord> {
        self.c().reauthenticate(&self.caller, self.session()?, password).await
    }

    pub async fn change_password(&self, current: Zeroizing<String>, new: Zeroizing<String>) -> Result<Token> {
        self.c().change_password(&self.caller, self.session()?, current, new).await
    }

    pub async fn passkeys(&self) -> Result<Vec<PasskeyView>> {
        self.c().passkeys_of(&self.session()?.user_id).await
    }

    pub async fn start_passkey_registration(&self) -> Result<webauthn_rs::prelude::CreationChallengeResponse> {
        self.c().start_passkey_registration(self.session()?).await
    }

    pub async fn finish_passkey_registration(
        &self,
        name: &str,
        credential: &webauthn_rs::prelude::RegisterPublicKeyCredential,
    ) -> Result<PasskeyView> {
        self.c().finish_passkey_registration(&self.caller, self.session()?, name, credential).await
    }

    pub async fn remove_passkey(&self, id: &str) -> Result<()> {
        self.c().remove_passkey(&self.caller, self.session()?, id).await
    }

    // --- The operator's own ------------------------------------------------------------

    pub async fn key_status(&self) -> Result<KeyStatus> {
        self.operator_only()?;
        self.c().key_status().await
    }

    pub async fn rotate_master_key(&self) -> Result<Rewrapped> {
        self.operator_only()?;
        self.c().rotate_master_key(&self.caller).await
    }

    pub async fn rewrap_all(&self) -> Result<Rewrapped> {
        self.operator_only()?;
        self.c().rewrap_all(&self.caller).await
    }

    pub async fn retire_master_key(&self, version: u32) -> Result<()> {
        self.operator_only()?;
        self.c().retire_master_key(&self.caller, version).await
    }

    /// The keyed hash the audit trail holds for a client address (`ip_hmac`), to confirm a
    /// suspected address: the operator's, as the key is the installation's.
    pub fn address_hash(&self, ip: IpAddr) -> Result<String> {
        self.operator_only()?;
        Ok(self.c().audit.keyed_address(ip))
    }

    /// Writes a backup to `to` (a directory or `s3://bucket/prefix`), encrypted to `recipient`.
    pub async fn create_backup(
        &self,
        to: &crate::backup::Location,
        recipient: &str,
    ) -> Result<super::backup::BackupCreated> {
        self.operator_only()?;
        self.c().create_backup(&self.caller, to, recipient).await
    }

    /// Decrypts every live document and checks its SHA-256 (the backup drill).
    pub async fn verify_documents(&self) -> Result<(usize, Vec<String>)> {
        self.operator_only()?;
        self.c().verify_documents().await
    }

    /// After a restore: records the shreddings its transaction replayed from the deletion
    /// journal, and `backup.restored`.
    pub async fn record_restore(&self, reshredded: &[String], backup_id: &str, details: Value) -> Result<()> {
        self.operator_only()?;
        self.c().record_restore(&self.caller, reshredded, backup_id, details).await
    }

    /// One round of upkeep, then of deliveries (closed upload windows, due mails and webhooks)
    /// and a verification of the trail that alerts when it is broken: what the server's
    /// background tasks do, at once.
    pub async fn maintain_once(&self) -> Result<MaintenanceReport> {
        self.operator_only()?;
        let mut report = self.c().maintain_once().await;
        let sender = super::watch::delivery::Sender::new(&self.c().watch)?;
        report.deliveries = Some(self.c().deliver_once(&sender).await);
        report.audit_intact = Some(self.c().verify_and_alert().await?);
        Ok(report)
    }

    /// Removes abandoned staging files and blobs no document names; (staging, orphans).
    pub async fn sweep_blobs(&self, grace: Option<Duration>) -> Result<(usize, usize)> {
        self.operator_only()?;
        self.c().sweep_blobs(grace).await
    }

    /// A first-admin setup link, while there is no admin.
    pub async fn issue_setup_link(&self) -> Result<String> {
        self.operator_only()?;
        self.c().issue_setup_link().await
    }

    pub async fn verify_audit(&self) -> Result<super::audit::VerifyReport> {
        self.operator_only()?;
        self.c().audit.verify(&self.c().db).await
    }

    pub async fn restart_audit_log(&self, reason: &str, accept_lost_events: i64) -> Result<Value> {
        self.operator_only()?;
        self.c().audit.restart_log(&self.c().db, &self.caller, reason, accept_lost_events).await
    }

    /// Writes every event since `since_ms` through `write`, oldest first.
    pub async fn export_audit(&self, since_ms: i64, write: impl FnMut(Value) -> std::io::Result<()>) -> Result<()> {
        self.operator_only()?;
        self.c().audit.export(&self.c().db, since_ms, write).await
    }

    /// How the policies decide `action` for `email` on `resource` (`policy explain`).
    pub async fn explain(
        &self,
        email: &str,
        action: Action,
        resource: &str,
        ip: IpAddr,
        at_ms: i64,
    ) -> Result<super::authz::Decision> {
        self.operator_only()?;
        self.c().explain(email, action, resource, ip, at_ms).await
    }
}

/// A link's passcode, as both kinds of link hold it: locked until the right passcode is given
/// (through this handle, or earlier: the signed unlock cookie).
struct Passcode {
    link: Unlock,
    id: String,
    hash: Option<String>,
    given: bool,
}

impl Passcode {
    fn locked(&self, courier: &Courier, cookie: Option<&str>) -> bool {
        self.hash.is_some() && !self.given && !courier.unlocked(self.link, &self.id, cookie)
    }

    /// Checks a passcode; the right one unlocks this handle and gives the unlock cookie.
    async fn check(&mut self, courier: &Courier, caller: &Caller, given: Zeroizing<String>) -> Result<Option<String>> {
        let ok = courier.check_passcode(caller, self.link, &self.id, self.hash.clone(), given).await?;
        self.given |= ok;
        Ok(ok.then(|| courier.unlock_cookie(self.link, &self.id)))
    }
}

/// A client holding a live portal link.
pub struct PortalLink {
    pub(super) courier: Arc<Courier>,
    portal: OpenPortal,
    caller: Caller,
    passcode: Passcode,
}

/// A recipient holding a live share link.
pub struct ShareLink {
    courier: Arc<Courier>,
    share: OpenShare,
    caller: Caller,
    passcode: Passcode,
}

impl Courier {
    /// The portal behind a client's link. Malformed, unknown, disabled, expired and deleted
    /// links all give `LinkNotFound`.
    pub async fn portal_link(self: &Arc<Self>, token: &str, ip: Option<IpAddr>) -> Result<PortalLink> {
        let portal = self.open_portal(token).await?;
        let caller = Caller::new(Actor::Client(portal.id.clone()), ip);
        let passcode =
            Passcode { link: Unlock::Portal, id: portal.id.clone(), hash: portal.passcode_hash.clone(), given: false };
        Ok(PortalLink { courier: self.clone(), portal, caller, passcode })
    }

    /// The share behind a recipient's link; unusable links give `LinkNotFound`.
    pub async fn share_link(self: &Arc<Self>, token: &str, ip: Option<IpAddr>) -> Result<ShareLink> {
        let share = self.open_share(token).await?;
        let caller = Caller::new(Actor::Recipient(share.id.clone()), ip);
        let passcode =
            Passcode { link: Unlock::Share, id: share.id.clone(), hash: share.passcode_hash.clone(), given: false };
        Ok(ShareLink { courier: self.clone(), share, caller, passcode })
    }
}

impl PortalLink {
    pub fn portal(&self) -> &OpenPortal {
        &self.portal
    }

    /// The client behind the link (for the upload use cases in `tus`).
    pub(super) fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Whether the client must still give the passcode (`cookie`: the unlock cookie sent).
    pub fn locked(&self, cookie: Option<&str>) -> bool {
        self.passcode.locked(&self.courier, cookie)
    }

    /// Checks a passcode; the right one gives the value of the unlock cookie.
    pub async fn unlock(&mut self, given: Zeroizing<String>) -> Result<Option<String>> {
        self.passcode.check(&self.courier, &self.caller, given).await
    }

    /// Stores the client's files, all or nothing, under one receipt id. `cookie` must unlock
    /// a portal with a passcode; one link or one address cannot take every upload slot.
    pub async fn upload<F: IncomingFiles>(
        &self,
        cookie: Option<&str>,
        files: &mut F,
    ) -> Result<(String, Vec<DocumentView>)> {
        if self.locked(cookie) {
            return Err(Error::Unauthenticated);
        }
        let _slot = self.courier.upload_slot(&self.portal.id, self.caller.ip)?;
        let receipt_id = uuid::Uuid::new_v4().to_string();
        let into = super::documents::Destination::Portal(&self.portal, &receipt_id);
        let stored = self.courier.ingest_all(&self.caller, into, files).await?;
        Ok((receipt_id, stored))
    }
}

impl ShareLink {
    pub fn share(&self) -> &OpenShare {
        &self.share
    }

    /// Whether the recipient must still give the passcode.
    pub fn locked(&self, cookie: Option<&str>) -> bool {
        self.passcode.locked(&self.courier, cookie)
    }

    /// Checks a passcode (a form, or a header on each request); the right one unlocks this
    /// handle and gives the value of the unlock cookie.
    pub async fn unlock(&mut self, given: Zeroizing<String>) -> Result<Option<String>> {
        self.passcode.check(&self.courier, &self.caller, given).await
    }

    /// The files of the share (for an unlocked link).
    pub async fn files(&self, cookie: Option<&str>) -> Result<Vec<SharedFile>> {
        if self.locked(cookie) {
            return Err(Error::Unauthenticated);
        }
        self.courier.shared_files(&self.share).await
    }

    pub async fn download(&self, cookie: Option<&str>, document_id: &str, user_agent: &str) -> Result<SharedDownload> {
        if self.locked(cookie) {
            return Err(Error::Unauthenticated);
        }
        self.courier.download_shared(&self.caller, &self.share, document_id, user_agent).await
    }
}

/// The staff portal page's facts (`Acting::portal_overview`).
pub struct PortalOverview {
    pub portal: PortalView,
    pub documents: Page<DocumentView>,
    pub link_locked_until: Option<i64>,
}
