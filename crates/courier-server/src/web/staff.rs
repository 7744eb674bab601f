//! The staff web UI: setup, sign-in (password, then TOTP), portals and their documents.
//! Every state-changing form carries the session's CSRF token, and its Origin is checked.

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::time_fmt::{now_ms, parse_rfc3339};
use courier_core::{ByteSize, DurationSpec, FileName};
use courier_crypto::token::Token;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::{AppState, ClientIp, cookie};
use crate::services::portals::PortalRequest;
use crate::services::staff::StaffSession;
use crate::{Courier, Error, Result};

const LOGIN_COOKIE: &str = "courier_login";

fn session_cookie_name(courier: &Courier) -> &'static str {
    if secure(courier) { "__Host-courier_session" } else { "courier_session" }
}

pub(super) fn secure(courier: &Courier) -> bool {
    courier.config.public_url().starts_with("https://")
}

fn set_cookie(resp: &mut Response, courier: &Courier, name: &str, value: &str, max_age: Option<u64>) {
    let secure = if secure(courier) { "; Secure" } else { "" };
    let age = max_age.map(|a| format!("; Max-Age={a}")).unwrap_or_default();
    let c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}");
    if let Ok(v) = HeaderValue::from_str(&c) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
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
    let Some(id) = cookie(headers, session_cookie_name(courier)) else {
        return Err(see_other("/login"));
    };
    match courier.session(&id).await {
        Ok(Some(s)) if !s.awaiting_mfa => Ok(s),
        Ok(_) => Err(see_other("/login")),
        Err(e) => Err(e.into_response()),
    }
}

macro_rules! staff_or_redirect {
    ($state:expr, $headers:expr) => {
        match signed_in(&$state, &$headers).await {
            Ok(s) => s,
            Err(resp) => return Ok(resp),
        }
    };
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

fn login_csrf(courier: &Courier, pre_session: &str) -> String {
    hex::encode(courier.mac(&[b"login-csrf", pre_session.as_bytes()]))
}

pub async fn home(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let _ = staff_or_redirect!(state, headers);
    Ok(see_other("/portals"))
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    render_login(&state, &headers, None, StatusCode::OK)
}

fn render_login(state: &AppState, headers: &HeaderMap, error: Option<&str>, status: StatusCode) -> Result<Response> {
    let courier = &state.courier;
    let existing = cookie(headers, LOGIN_COOKIE).filter(|c| Token::parse(c).is_some());
    let pre = match existing {
        Some(c) => c,
        None => Token::generate()?.expose().to_owned(),
    };
    let html = state.templates.render(
        "login.html",
        json!({ "firm": courier.config.firm_name, "csrf_token": login_csrf(courier, &pre), "error": error }),
    )?;
    let mut resp = (status, html).into_response();
    set_cookie(&mut resp, courier, LOGIN_COOKIE, &pre, Some(3600));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf_token: String,
}

pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let pre = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    check_csrf(courier, &login_csrf(courier, &pre), &form.csrf_token, &headers)?;
    match courier.login_password(ip.0, &form.email, Zeroizing::new(form.password)).await {
        Ok(session) => {
            let mut resp = see_other("/login/mfa");
            set_cookie(&mut resp, courier, session_cookie_name(courier), session.expose(), None);
            Ok(resp)
        }
        Err(Error::Unauthenticated) => {
            render_login(&state, &headers, Some("The email or password is not right."), StatusCode::UNAUTHORIZED)
        }
        Err(Error::Locked(msg)) => render_login(&state, &headers, Some(&msg), StatusCode::TOO_MANY_REQUESTS),
        Err(e) => Err(e),
    }
}

pub async fn mfa_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let courier = &state.courier;
    let Some(id) = cookie(&headers, session_cookie_name(courier)) else {
        return Ok(see_other("/login"));
    };
    let Some(session) = courier.session(&id).await?.filter(|s| s.awaiting_mfa) else {
        return Ok(see_other("/login"));
    };
    Ok(state
        .templates
        .render("login_mfa.html", json!({ "csrf_token": session.csrf_token, "error": null }))?
        .into_response())
}

#[derive(Deserialize)]
pub struct MfaForm {
    code: String,
    csrf_token: String,
}

pub async fn login_mfa(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<MfaForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let Some(id) = cookie(&headers, session_cookie_name(courier)) else {
        return Ok(see_other("/login"));
    };
    let Some(pending) = courier.session(&id).await?.filter(|s| s.awaiting_mfa) else {
        return Ok(see_other("/login"));
    };
    check_csrf(courier, &pending.csrf_token, &form.csrf_token, &headers)?;
    match courier.login_totp(ip.0, &id, &form.code).await {
        Ok(fresh) => {
            let mut resp = see_other("/");
            set_cookie(&mut resp, courier, session_cookie_name(courier), fresh.expose(), None);
            Ok(resp)
        }
        Err(Error::Unauthenticated) => {
            let ctx =
                json!({ "csrf_token": pending.csrf_token, "error": "That code is not right, or was used already." });
            Ok((StatusCode::UNAUTHORIZED, state.templates.render("login_mfa.html", ctx)?).into_response())
        }
        Err(Error::Locked(msg)) => {
            let ctx = json!({ "csrf_token": pending.csrf_token, "error": msg });
            Ok((StatusCode::TOO_MANY_REQUESTS, state.templates.render("login_mfa.html", ctx)?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let session = staff_or_redirect!(state, headers);
    check_csrf(courier, &session.csrf_token, &form.csrf_token, &headers)?;
    if let Some(id) = cookie(&headers, session_cookie_name(courier)) {
        courier.logout(&session.caller(ip.0), &id).await?;
    }
    let mut resp = see_other("/login");
    set_cookie(&mut resp, courier, session_cookie_name(courier), "", Some(0));
    Ok(resp)
}

pub async fn setup_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response> {
    if !state.courier.setup_link_valid(&token).await? {
        return Err(Error::LinkNotFound);
    }
    let csrf = hex::encode(state.courier.mac(&[b"setup-csrf", token.as_bytes()]));
    Ok(state
        .templates
        .render("setup.html", json!({ "firm": state.courier.config.firm_name, "csrf_token": csrf, "error": null }))?
        .into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    email: String,
    password: String,
    password_again: String,
    csrf_token: String,
}

pub async fn setup(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let csrf = hex::encode(courier.mac(&[b"setup-csrf", token.as_bytes()]));
    check_csrf(courier, &csrf, &form.csrf_token, &headers)?;
    let retry = |msg: String| -> Result<Response> {
        let ctx = json!({ "firm": courier.config.firm_name, "csrf_token": csrf, "error": msg });
        Ok((StatusCode::BAD_REQUEST, state.templates.render("setup.html", ctx)?).into_response())
    };
    if form.password != form.password_again {
        return retry("The two passwords differ.".into());
    }
    match courier.complete_setup(ip.0, &token, &form.email, Zeroizing::new(form.password)).await {
        Ok(enrolment) => {
            let qr = qrcode::QrCode::new(enrolment.otpauth_uri.as_bytes()).map_err(|e| Error::internal("qr", e))?;
            let svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build();
            let ctx = json!({ "email": enrolment.email, "totp_secret": enrolment.totp_secret, "qr_svg": svg });
            Ok(state.templates.render("setup_done.html", ctx)?.into_response())
        }
        Err(Error::BadRequest(msg)) => retry(msg),
        Err(e) => Err(e),
    }
}

pub async fn portals_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_or_redirect!(state, headers);
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
        "matters": matters, "role": session.role,
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
    let expires_at_ms = match (form.expires_in.trim(), form.expires_at.trim()) {
        ("", "") => None,
        (d, "") => Some(now_ms() + d.parse::<DurationSpec>().map_err(bad)?.0.as_millis() as i64),
        // `<input type="datetime-local">` sends no zone; staff enter UTC (the form says so).
        (_, t) => Some(parse_rfc3339(t).or_else(|_| parse_rfc3339(&format!("{t}:00Z"))).map_err(bad)?),
    };
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
    let session = staff_or_redirect!(state, headers);
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
    let session = staff_or_redirect!(state, headers);
    let portal = state.courier.portal_for(&session.caller(ip.0), &id).await?;
    let documents = state.courier.list_documents(Some(&id), false).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "documents": documents, "role": session.role });
    Ok(state.templates.render("portal.html", ctx)?.into_response())
}

pub async fn portal_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    let session = staff_or_redirect!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let courier = &state.courier;
    let caller = session.caller(ip.0);
    match action.as_str() {
        "disable" => drop(courier.set_portal_enabled(&caller, &id, false).await?),
        "enable" => drop(courier.set_portal_enabled(&caller, &id, true).await?),
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
    let session = staff_or_redirect!(state, headers);
    let (doc, stream) = state.courier.open_document(&session.caller(ip.0), &id).await?;
    Ok(attachment(Body::from_stream(stream), "application/octet-stream", &doc.name, Some(doc.size as u64)))
}

pub async fn download_all(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_or_redirect!(state, headers);
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
    let session = staff_or_redirect!(state, headers);
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
    let session = staff_or_redirect!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let doc = state.courier.document(&id).await?;
    state.courier.delete_document(&session.caller(ip.0), &id).await?;
    Ok(see_other(&back_to(&doc)))
}
