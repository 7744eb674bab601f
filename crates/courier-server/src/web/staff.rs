//! The staff web UI: portals and their documents, and what every staff page shares (the
//! session cookie, the CSRF check). Every state-changing form carries the session's CSRF
//! token, and its Origin is checked.

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::time_fmt::{now_ms, parse_rfc3339, rfc3339};
use courier_core::{ByteSize, FileName};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{AppState, ClientIp, cookie};
use crate::services::portals::PortalRequest;
use crate::services::sessions::StaffSession;
use crate::{Courier, Error, Result};

pub(super) fn session_cookie_name(courier: &Courier) -> String {
    cookie_name(courier, "courier_session")
}

/// A site-wide cookie's name: under TLS with the `__Host-` prefix browsers enforce (Secure,
/// Path=/, no Domain).
pub(super) fn cookie_name(courier: &Courier, name: &str) -> String {
    if secure(courier) { format!("__Host-{name}") } else { name.to_owned() }
}

/// A cookie scoped to one path (a link's unlock cookie): `__Host-` forbids a path, so under
/// TLS it gets the `__Secure-` prefix.
pub(super) fn path_cookie_name(courier: &Courier, name: &str) -> String {
    if secure(courier) { format!("__Secure-{name}") } else { name.to_owned() }
}

pub(super) fn secure(courier: &Courier) -> bool {
    courier.config.public_url().starts_with("https://")
}

pub(super) fn set_cookie(resp: &mut Response, courier: &Courier, name: &str, value: &str, max_age: Option<u64>) {
    let secure = if secure(courier) { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// An expiry given as a duration from `now` (`7d`) or a time: RFC 3339, or what
/// `<input type="datetime-local">` sends (no zone; staff enter UTC, the form says so). Empty
/// strings mean "not given"; given both, the time wins.
pub(super) fn expiry(expires_in: &str, expires_at: &str, now: i64) -> Result<Option<i64>> {
    let bad = |e: courier_core::ParseError| Error::BadRequest(e.to_string());
    Ok(match expires_at.trim() {
        "" => super::duration_field(expires_in)?.map(|d| now + d.as_millis() as i64),
        t => Some(parse_rfc3339(t).or_else(|_| parse_rfc3339(&format!("{t}:00Z"))).map_err(bad)?),
    })
}

/// Where a document's page is: its portal, or its matter for a staff upload.
fn back_to(doc: &crate::services::documents::DocumentView) -> String {
    match (&doc.portal_id, &doc.matter_id) {
        (Some(p), _) => format!("/portals/{p}"),
        (None, Some(m)) => format!("/matters/{m}"),
        (None, None) => "/portals".into(),
    }
}

pub(super) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The signed-in staff member, or a redirect to the login page.
pub(super) async fn signed_in(state: &AppState, headers: &HeaderMap) -> std::result::Result<StaffSession, Response> {
    let courier = &state.courier;
    let Some(id) = cookie(headers, &session_cookie_name(courier)) else {
        return Err(see_other("/login"));
    };
    match courier.session(&id).await {
        Ok(Some(s)) if !s.awaiting_mfa => Ok(s),
        Ok(_) => Err(see_other("/login")),
        Err(e) => Err(e.into_response()),
    }
}

/// Synchronizer token plus an Origin/Referer check; SameSite=Strict is a third layer.
pub(super) fn check_csrf(courier: &Courier, expected: &str, given: &str, headers: &HeaderMap) -> Result<()> {
    if !courier_crypto::ct_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(Error::Forbidden);
    }
    let origin = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin {
        let ours = courier.config.public_url();
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let same = origin == ours || origin.starts_with(&format!("{ours}/")) || origin_host(origin) == Some(host);
        // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` even for our own
        // forms; the synchronizer token above is what protects those.
        if !same && origin != "null" {
            return Err(Error::Forbidden);
        }
    }
    Ok(())
}

fn origin_host(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let _ = staff_session!(state, headers);
    Ok(see_other("/portals"))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub(super) csrf_token: String,
}

pub async fn portals_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_session!(state, headers);
    render_portals(&state, &session, ip, None, StatusCode::OK).await
}

async fn render_portals(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let caller = session.caller(ip.0);
    let portals = state.courier.list_portals(&caller).await?;
    let matters = state.courier.list_matters(&caller).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portals": portals, "error": error,
        "matters": matters, "role": session.role, "notice": state.courier.take_notice(session).await?,
        "default_max": state.courier.config.default_max_file_size.to_string(),
        "default_types": courier_scan::kind::list(state.courier.scanning.default_allowed()),
        "default_dlp": state.courier.scanning.default_dlp_action().as_str() });
    Ok((status, state.templates.render("portals.html", ctx)?).into_response())
}

#[derive(Deserialize)]
pub struct CreatePortalForm {
    label: String,
    #[serde(default)]
    matter: String,
    #[serde(default)]
    expires_in: String,
    #[serde(default)]
    expires_at: String,
    #[serde(default)]
    passcode: String,
    #[serde(default)]
    max_file_size: String,
    /// Comma-separated type names; empty: the firm's list.
    #[serde(default)]
    allowed_types: String,
    /// `flag`, `quarantine`, `block`; empty: the firm's default.
    #[serde(default)]
    dlp_action: String,
    csrf_token: String,
}

fn parse_portal_form(form: &CreatePortalForm) -> Result<PortalRequest> {
    let bad = |e: courier_core::ParseError| Error::BadRequest(e.to_string());
    let expires_at_ms = expiry(&form.expires_in, &form.expires_at, now_ms())?;
    Ok(PortalRequest {
        label: form.label.clone(),
        matter: Some(form.matter.clone()).filter(|m| !m.trim().is_empty()),
        expires_at_ms,
        passcode: Some(Zeroizing::new(form.passcode.clone())).filter(|p| !p.is_empty()),
        max_file_size: Some(form.max_file_size.trim())
            .filter(|s| !s.is_empty())
            .map(str::parse::<ByteSize>)
            .transpose()
            .map_err(bad)?,
        allowed_types: crate::config::parse_type_list(&form.allowed_types).map_err(Error::BadRequest)?,
        dlp_action: Some(form.dlp_action.trim())
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .transpose()
            .map_err(Error::BadRequest)?,
    })
}

pub async fn create_portal(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CreatePortalForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let created = match parse_portal_form(&form) {
        Ok(req) => state.courier.create_portal(&session.caller(ip.0), req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(link) => {
            let portal = state.courier.portal_for(&session.caller(ip.0), &link.id).await?;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "url": link.url, "fresh": true });
            Ok((StatusCode::CREATED, state.templates.render("portal_link.html", ctx)?).into_response())
        }
        Err(Error::BadRequest(msg)) => render_portals(&state, &session, ip, Some(msg), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(e),
    }
}

pub async fn portal_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let portal = state.courier.portal_for(&session.caller(ip.0), &id).await?;
    let documents = state.courier.list_documents(Some(&id), false).await?;
    let passcode_locked_until = state.courier.link_locked_until("portal", &id).await?.map(rfc3339);
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "documents": documents, "role": session.role,
        "passcode_locked_until": passcode_locked_until });
    Ok(state.templates.render("portal.html", ctx)?.into_response())
}

pub async fn portal_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let courier = &state.courier;
    let caller = session.caller(ip.0);
    match action.as_str() {
        "disable" => drop(courier.set_portal_enabled(&caller, &id, false).await?),
        "enable" => drop(courier.set_portal_enabled(&caller, &id, true).await?),
        "unlock-passcode" => drop(courier.unlock_portal_passcode(&caller, &id).await?),
        "delete" => {
            courier.delete_portal(&caller, &id).await?;
            return Ok(see_other("/portals"));
        }
        "delete-documents" => {
            for doc in courier.list_documents(Some(&id), false).await? {
                courier.delete_document(&caller, &doc.id).await?;
            }
        }
        "new-link" => {
            let link = courier.new_portal_link(&caller, &id).await?;
            let portal = courier.portal(&id).await?;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "url": link.url, "fresh": false });
            return Ok(state.templates.render("portal_link.html", ctx)?.into_response());
        }
        _ => return Err(Error::NotFound),
    }
    Ok(see_other(&format!("/portals/{id}")))
}

pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let (doc, stream) = state.courier.open_document(&session.caller(ip.0), &id).await?;
    Ok(attachment(Body::from_stream(stream), "application/octet-stream", &doc.name, Some(doc.size as u64)))
}

pub async fn download_all(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let (filename, stream) = state.courier.portal_archive(&session.caller(ip.0), &id).await?;
    Ok(attachment(Body::from_stream(stream), "application/zip", &filename, None))
}

/// A download: never rendered inline by the browser, whatever the content.
pub(super) fn attachment(body: Body, content_type: &'static str, name: &str, length: Option<u64>) -> Response {
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(len) = length {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    h.insert(header::CONTENT_DISPOSITION, content_disposition(name));
    resp
}

/// `attachment` with an ASCII fallback and the full UTF-8 name (RFC 6266 / RFC 8187).
fn content_disposition(name: &str) -> HeaderValue {
    let name = FileName::sanitize(name);
    let encoded: String = name
        .as_str()
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let value = format!("attachment; filename=\"{}\"; filename*=UTF-8''{encoded}", name.ascii_fallback());
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    csrf_token: String,
    #[serde(default)]
    reason: String,
}

pub async fn release_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<ReleaseForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let doc = state.courier.document(&id).await?;
    state.courier.release_document(&session.caller(ip.0), &id, &form.reason).await?;
    Ok(see_other(&back_to(&doc)))
}

pub async fn delete_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let doc = state.courier.document(&id).await?;
    state.courier.delete_document(&session.caller(ip.0), &id).await?;
    Ok(see_other(&back_to(&doc)))
}
