//! What a client reaches through a portal link: the upload page, the passcode form, the upload
//! itself and the receipt. A client never sees other uploads to the portal.

use axum::Form;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::Language;
use courier_core::time_fmt::rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::upload::FileParts;
use super::{AppState, ClientIp, cookie};
use crate::services::handles::PortalLink;
use crate::services::portals::OpenPortal;
use crate::{Courier, Error, Result};

const UNLOCK_COOKIE: &str = "courier_portal";

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"))
}

/// The language a client asked for with `?lang=` (an unknown one is ignored).
pub(super) fn asked_language(query: Option<&str>) -> Option<Language> {
    #[derive(Deserialize)]
    struct Asked {
        lang: Option<String>,
    }
    let asked: Asked = serde_urlencoded::from_str(query?).ok()?;
    asked.lang?.parse().ok()
}

/// The language of a client or share page: `?lang=`, the portal's, the browser's, English.
pub(super) fn page_language(query: Option<&str>, portal: Option<Language>, headers: &HeaderMap) -> Language {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    crate::i18n::choose(asked_language(query).map(Language::as_str), portal, accept)
}

/// The unlock cookie the request sent for a portal link.
pub(super) fn unlock_cookie(courier: &Courier, headers: &HeaderMap) -> Option<String> {
    cookie(headers, &super::staff::path_cookie_name(courier, UNLOCK_COOKIE))
}

#[derive(Serialize)]
struct PageContext<'a> {
    firm: String,
    label: &'a str,
    token: &'a str,
    max_file_size: u64,
    max_files: usize,
    expires_at: Option<String>,
    /// How long files stay: a count and its unit, said in the page's language.
    kept_n: u64,
    kept_unit: &'static str,
    error: Option<String>,
    /// A refusal already said in the page's language (a locked link).
    error_text: Option<String>,
    /// The accepted types, for people ("PDF, DOCX, …") and for the file picker (".pdf,.docx").
    accepted: String,
    accept: String,
    /// The language switch links to `/{switch}/{token}`.
    switch: &'static str,
}

fn page_context<'a>(
    courier: &'a Courier,
    portal: &'a OpenPortal,
    token: &'a str,
    error: Option<String>,
) -> PageContext<'a> {
    let allowed = portal.allowed_types.as_deref().unwrap_or(courier.scanning().default_allowed());
    PageContext {
        firm: courier.firm_name(),
        label: &portal.label,
        token,
        max_file_size: portal.max_file_size,
        max_files: courier.config().max_files_per_upload,
        expires_at: portal.expires_at.map(rfc3339),
        kept_n: portal.retention.count_and_unit().0,
        kept_unit: portal.retention.count_and_unit().1,
        error,
        error_text: None,
        accepted: courier_scan::kind::list(allowed),
        accept: courier_scan::kind::picker_extensions(allowed),
        switch: "p",
    }
}

pub async fn portal_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let link = state.courier.portal_link(&token, ip.0).await?;
    let locked = link.locked(unlock_cookie(&state.courier, &headers).as_deref());
    let template = if locked { "client_passcode.html" } else { "client_portal.html" };
    let lang = page_language(query.as_deref(), link.portal().language, &headers);
    let ctx = page_context(&state.courier, link.portal(), &token, None);
    Ok(state.templates.render_in(template, lang, ctx)?.into_response())
}

#[derive(Deserialize)]
pub struct UnlockForm {
    passcode: String,
}

pub async fn unlock(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    Form(form): Form<UnlockForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let mut link: PortalLink = courier.portal_link(&token, ip.0).await?;
    if link.portal().passcode_hash.is_none() {
        return Ok(Redirect::to(&format!("/p/{token}")).into_response());
    }
    let lang = page_language(query.as_deref(), link.portal().language, &headers);
    let value = match link.unlock(Zeroizing::new(form.passcode)).await {
        Ok(Some(value)) => value,
        // The template translates the message key.
        Ok(None) => {
            let ctx = page_context(courier, link.portal(), &token, Some("passcode-wrong".into()));
            let page = state.templates.render_in("client_passcode.html", lang, ctx)?;
            return Ok((StatusCode::UNAUTHORIZED, page).into_response());
        }
        // Locked after too many wrong passcodes: said on the passcode page, in its language
        // (a script asking for JSON gets the problem document, as for any refusal).
        Err(Error::Locked(why)) if !wants_json(&headers) => {
            let mut ctx = page_context(courier, link.portal(), &token, None);
            ctx.error_text = Some(state.templates.reason(lang, &why));
            let page = state.templates.render_in("client_passcode.html", lang, ctx)?;
            return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
        }
        Err(e) => return Err(e),
    };
    super::unlocked_redirect(
        courier,
        &super::staff::path_cookie_name(courier, UNLOCK_COOKIE),
        &format!("/p/{token}"),
        &value,
        asked_language(query.as_deref()),
    )
}

#[derive(Serialize)]
struct ReceiptFile {
    name: String,
    size: i64,
    sha256: String,
    content_type: String,
}

/// Receives one or more files (multipart field `file`). The request is all or nothing: if any
/// file fails, the files already stored by this request are shredded again.
pub async fn upload(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let courier = &state.courier;
    let link = courier.portal_link(&token, ip.0).await?;
    let cookie = unlock_cookie(courier, &headers);
    // A locked portal answers 401 before anything of the body is looked at.
    if link.locked(cookie.as_deref()) {
        return Err(crate::Error::Unauthenticated);
    }
    let mut multipart = super::upload_body(courier, &headers, body)?;
    let (receipt_id, stored) = match link.upload(cookie.as_deref(), &mut FileParts::client(&mut multipart)).await {
        Ok(done) => done,
        Err(e) => return Err(multipart.reason(e)),
    };
    let portal = link.portal();
    let files: Vec<ReceiptFile> = stored
        .into_iter()
        .map(|d| ReceiptFile { name: d.name, size: d.size, sha256: d.sha256, content_type: d.content_type })
        .collect();
    let received_at = rfc3339(courier.clock().now_ms());
    if wants_json(&headers) {
        let body = json!({ "receipt": { "id": receipt_id, "received_at": received_at, "files": files } });
        return Ok((StatusCode::CREATED, axum::Json(body)).into_response());
    }
    let lang = page_language(query.as_deref(), portal.language, &headers);
    let ctx = json!({ "firm": courier.firm_name(), "label": portal.label, "token": token,
        "receipt_id": receipt_id, "received_at": received_at, "files": files });
    Ok((StatusCode::CREATED, state.templates.render_in("client_receipt.html", lang, ctx)?).into_response())
}
