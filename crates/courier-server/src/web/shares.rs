//! What a recipient reaches through a share link: the list of shared files (HTML without
//! JavaScript, or JSON), the passcode form and the downloads. Scripts may give the passcode in
//! an `X-Courier-Passcode` header instead of the form.

use axum::Form;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::time_fmt::rfc3339;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::client::{asked_language, page_language, wants_json};
use super::{AppState, ClientIp, cookie};
use crate::services::handles::ShareLink;
use crate::{Error, Result};

const UNLOCK_COOKIE: &str = "courier_share";
const PASSCODE_HEADER: &str = "x-courier-passcode";

/// The share behind `token` and the request's unlock cookie. A passcode sent in the
/// `x-courier-passcode` header (scripts) is checked here and unlocks the handle.
async fn open(state: &AppState, token: &str, ip: ClientIp, headers: &HeaderMap) -> Result<(ShareLink, Option<String>)> {
    let courier = &state.courier;
    let mut link = courier.share_link(token, ip.0).await?;
    let cookie = cookie(headers, &super::staff::path_cookie_name(courier, UNLOCK_COOKIE));
    if link.locked(cookie.as_deref())
        && let Some(given) = headers.get(PASSCODE_HEADER).and_then(|v| v.to_str().ok())
    {
        link.unlock(Zeroizing::new(given.to_owned())).await?;
    }
    Ok((link, cookie))
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub async fn share_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let (link, cookie) = open(&state, &token, ip, &headers).await?;
    let firm = &state.courier.firm_name();
    let lang = page_language(query.as_deref(), None, &headers);
    if link.locked(cookie.as_deref()) {
        if wants_json(&headers) {
            return Err(Error::Unauthenticated);
        }
        let ctx = json!({ "firm": firm, "token": token, "error": null, "switch": "s" });
        return Ok(no_store(state.templates.render_in("client_share_passcode.html", lang, ctx)?.into_response()));
    }
    let files = link.files(cookie.as_deref()).await?;
    let share = link.share();
    if wants_json(&headers) {
        let files: Vec<_> = files.iter().map(|f| json!({ "id": f.id, "name": f.name, "size": f.size })).collect();
        return Ok(no_store(axum::Json(json!({ "files": files })).into_response()));
    }
    let ctx = json!({ "firm": firm, "token": token, "recipient": share.recipient, "files": files,
        "expires_at": share.expires_at.map(rfc3339), "max_downloads": share.max_downloads, "switch": "s" });
    Ok(no_store(state.templates.render_in("client_share.html", lang, ctx)?.into_response()))
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
    let mut link = courier.share_link(&token, ip.0).await?;
    if link.share().passcode_hash.is_none() {
        return Ok(Redirect::to(&format!("/s/{token}")).into_response());
    }
    let lang = page_language(query.as_deref(), None, &headers);
    let value = match link.unlock(Zeroizing::new(form.passcode)).await {
        Ok(Some(value)) => value,
        // The template translates the message key.
        Ok(None) => {
            let ctx = json!({ "firm": courier.firm_name(), "token": token, "error": "passcode-wrong",
                "switch": "s" });
            let page = state.templates.render_in("client_share_passcode.html", lang, ctx)?;
            return Ok(no_store((StatusCode::UNAUTHORIZED, page).into_response()));
        }
        // Locked after too many wrong passcodes: said on the passcode page, in its language
        // (a script asking for JSON gets the problem document, as for any refusal).
        Err(crate::Error::Locked(why)) if !wants_json(&headers) => {
            let ctx = json!({ "firm": courier.firm_name(), "token": token,
                "error_text": state.templates.reason(lang, &why), "switch": "s" });
            let page = state.templates.render_in("client_share_passcode.html", lang, ctx)?;
            return Ok(no_store((StatusCode::TOO_MANY_REQUESTS, page).into_response()));
        }
        Err(e) => return Err(e),
    };
    super::unlocked_redirect(
        courier,
        &super::staff::path_cookie_name(courier, UNLOCK_COOKIE),
        &format!("/s/{token}"),
        &value,
        asked_language(query.as_deref()),
    )
}

pub async fn download(
    State(state): State<AppState>,
    Path((token, doc_id)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let (link, cookie) = open(&state, &token, ip, &headers).await?;
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let file = link.download(cookie.as_deref(), &doc_id, user_agent).await?;
    let content_type = match file.content_type.as_str() {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    let resp = super::staff::attachment(Body::from_stream(file.body), content_type, &file.name, file.length);
    Ok(no_store(resp))
}
