//! The staff web UI: portals and their documents, and what every staff page shares (the
//! session cookie, the CSRF check). Every state-changing form carries the session's CSRF
//! token, and its Origin is checked.

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::time_fmt::{parse_rfc3339, rfc3339};
use courier_core::{ByteSize, FileName};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::extract::{CsrfForm, Empty, Staff};
use super::{AppState, PageQuery};
use crate::services::handles::PortalOverview;
use crate::services::pages::PageRequest;
use crate::services::portals::PortalRequest;
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
    courier.config().public_url().starts_with("https://")
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
    let bad = |e: courier_core::ParseError| Error::BadRequest(e.into());
    Ok(match expires_at.trim() {
        "" => super::duration_field(expires_in)?.map(|d| now + d.as_millis() as i64),
        t => Some(parse_rfc3339(t).or_else(|_| parse_rfc3339(&format!("{t}:00Z"))).map_err(bad)?),
    })
}

/// Where a document's page is: its portal, or its matter for a staff upload.
pub(super) fn back_to(doc: &crate::services::documents::DocumentView) -> String {
    match (&doc.portal_id, &doc.matter_id) {
        (Some(p), _) => format!("/portals/{p}"),
        (None, Some(m)) => format!("/matters/{m}"),
        (None, None) => "/portals".into(),
    }
}

pub(super) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Synchronizer token plus an Origin/Referer check; SameSite=Strict is a third layer.
pub(super) fn check_csrf(courier: &Courier, expected: &str, given: &str, headers: &HeaderMap) -> Result<()> {
    if !courier_crypto::ct_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(Error::Forbidden);
    }
    let origin = headers.get(header::ORIGIN).or_else(|| headers.get(header::REFERER)).and_then(|v| v.to_str().ok());
    if let Some(origin) = origin {
        let ours = courier.config().public_url();
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

pub async fn home(_staff: Staff) -> Result<Response> {
    Ok(see_other("/portals"))
}

pub async fn portals_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render_portals(&state, &staff, None, StatusCode::OK).await
}

async fn render_portals(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let portals = me.list_portals().await?;
    let matters = me.list_matters().await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portals": portals, "error": error,
        "matters": matters, "role": session.role,
        "notice": me.take_notice().await?.map(|n| state.templates.notice(staff.lang, &n)),
        "default_max": state.courier.config().default_max_file_size.to_string(),
        "default_types": courier_scan::kind::list(state.courier.scanning().default_allowed()),
        "default_dlp": state.courier.scanning().default_dlp_action().as_str() });
    Ok((status, state.templates.render("portals.html", staff.lang, ctx)?).into_response())
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
    /// Like `30d`; empty: the matter's, else the firm's.
    #[serde(default)]
    retention: String,
    /// `off` not to be told about uploads; anything else (or absent): on.
    #[serde(default)]
    notify: String,
    /// `en`, `fr`; empty: the client's browser decides.
    #[serde(default)]
    language: String,
}

fn parse_portal_form(form: &CreatePortalForm, now: i64) -> Result<PortalRequest> {
    let bad = |e: courier_core::ParseError| Error::BadRequest(e.into());
    let expires_at_ms = expiry(&form.expires_in, &form.expires_at, now)?;
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
            .map(str::parse::<crate::config::DlpAction>)
            .transpose()?,
        retention: Some(form.retention.trim())
            .filter(|s| !s.is_empty())
            .map(str::parse::<courier_core::DurationSpec>)
            .transpose()
            .map_err(bad)?,
        owner: None,
        notify: Some(form.notify.trim() != "off"),
        language: Some(form.language.trim()).filter(|s| !s.is_empty()).map(str::parse).transpose()?,
    })
}

pub async fn create_portal(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<CreatePortalForm>,
) -> Result<Response> {
    let created = match parse_portal_form(&form, state.courier.clock().now_ms()) {
        Ok(req) => staff.me.create_portal(req).await,
        Err(e) => Err(e),
    };
    let session = &staff.session;
    match created {
        Ok(link) => {
            let portal = staff.me.portal(&link.id).await?;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "url": link.url, "fresh": true });
            Ok((StatusCode::CREATED, state.templates.render("portal_link.html", staff.lang, ctx)?).into_response())
        }
        Err(Error::BadRequest(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_portals(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn portal_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    staff: Staff,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let req = query.request()?;
    let PortalOverview { portal, documents, link_locked_until } = me.portal_overview(&id, &req).await?;
    let passcode_locked_until = link_locked_until.map(rfc3339);
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "documents": documents.items, "role": session.role,
        "passcode_locked_until": passcode_locked_until, "pages": pager(&format!("/portals/{}", portal.id), &req, documents.next) });
    Ok(state.templates.render("portal.html", staff.lang, ctx)?.into_response())
}

pub async fn portal_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { staff, form }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    match action.as_str() {
        "retention" => {
            let retention = super::field(&form, "retention");
            let retention = match retention.trim() {
                "" => None,
                r => Some(r.parse::<courier_core::DurationSpec>().map_err(|e| Error::BadRequest(e.into()))?),
            };
            me.set_portal_retention(&id, retention).await?;
        }
        "filed" => drop(me.mark_portal_filed(&id, Some(super::field(&form, "reference").as_str())).await?),
        "notify-on" => me.set_portal_notify(&id, true).await?,
        "notify-off" => me.set_portal_notify(&id, false).await?,
        "disable" => drop(me.set_portal_enabled(&id, false).await?),
        "enable" => drop(me.set_portal_enabled(&id, true).await?),
        "unlock-passcode" => drop(me.unlock_portal_passcode(&id).await?),
        "delete" => {
            me.delete_portal(&id).await?;
            return Ok(see_other("/portals"));
        }
        "delete-documents" => {
            // Held documents stay (the page says so); the others are shredded, a page at a time.
            let mut req = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let page = me.portal_documents(&id, &req).await?;
                for doc in page.items.iter().filter(|d| !d.hold) {
                    me.delete_document(&doc.id).await?;
                }
                let Some(next) = page.next else { break };
                req = PageRequest::after(&next, PageRequest::MAX_LIMIT)?;
            }
        }
        "new-link" => {
            let link = me.new_portal_link(&id).await?;
            let portal = me.portal(&id).await?;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "portal": portal, "url": link.url, "fresh": false });
            return Ok(state.templates.render("portal_link.html", staff.lang, ctx)?.into_response());
        }
        "instructions" => return super::instructions::sheet(&state, &staff, &id, &form).await,
        _ => return Err(Error::NotFound),
    }
    Ok(see_other(&format!("/portals/{id}")))
}

/// The links under a paged list: back to the newest, and on to the next page if one follows.
pub(super) fn pager(base: &str, req: &PageRequest, next: Option<String>) -> serde_json::Value {
    let limit = match req.limit() {
        PageRequest::DEFAULT_LIMIT => String::new(),
        n => format!("&limit={n}"),
    };
    let older = next.map(|n| format!("{base}?after={n}{limit}"));
    json!({ "newest": (!req.is_first()).then_some(base), "older": older })
}

pub async fn download(Path(id): Path<String>, staff: Staff) -> Result<Response> {
    let (doc, stream) = staff.me.open_document(&id).await?;
    Ok(attachment(Body::from_stream(stream), "application/octet-stream", &doc.name, Some(doc.size as u64)))
}

pub async fn download_all(Path(id): Path<String>, staff: Staff) -> Result<Response> {
    let (filename, stream) = staff.me.portal_archive(&id).await?;
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
pub(super) fn content_disposition(name: &str) -> HeaderValue {
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
    #[serde(default)]
    reason: String,
}

pub async fn release_document(
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<ReleaseForm>,
) -> Result<Response> {
    let doc = staff.me.document(&id).await?;
    staff.me.release_document(&id, &form.reason).await?;
    Ok(see_other(&back_to(&doc)))
}

pub async fn delete_document(Path(id): Path<String>, CsrfForm { staff, .. }: CsrfForm<Empty>) -> Result<Response> {
    let doc = staff.me.document(&id).await?;
    staff.me.delete_document(&id).await?;
    Ok(see_other(&back_to(&doc)))
}
