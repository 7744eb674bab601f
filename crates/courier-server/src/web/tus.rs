//! tus 1.0.0 over a portal link (`/p/{token}/tus/`): the protocol's headers in and out; the
//! use cases are `services::tus`. A bad link gets the uniform 404 on every route, before any
//! header is looked at.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::client::{unlock_cookie, wants_json};
use super::{AppState, ClientIp};
use crate::services::handles::PortalLink;
use crate::services::tus::{Checksum, TusState};
use crate::{Error, Result};

const VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,termination,checksum,expiration";
const OFFSET_CONTENT_TYPE: &str = "application/offset+octet-stream";
/// Longest `Upload-Metadata` read (a file name and a few keys).
const MAX_METADATA: usize = 4096;

fn tus_header(name: &'static str) -> HeaderName {
    HeaderName::from_static(name)
}

fn with_tus(mut resp: Response) -> Response {
    resp.headers_mut().insert(tus_header("tus-resumable"), HeaderValue::from_static(VERSION));
    resp
}

fn set(resp: &mut Response, name: &'static str, value: impl ToString) {
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        resp.headers_mut().insert(tus_header(name), v);
    }
}

/// RFC 9110 date, as `Upload-Expires` wants it.
fn http_date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default()
}

/// Every request but `OPTIONS` must speak our version (412 otherwise, as tus says).
fn version_refused(headers: &HeaderMap) -> Option<Response> {
    match headers.get("tus-resumable").and_then(|v| v.to_str().ok()) {
        Some(VERSION) => None,
        _ => {
            let mut resp = StatusCode::PRECONDITION_FAILED.into_response();
            resp.headers_mut().insert(tus_header("tus-version"), HeaderValue::from_static(VERSION));
            Some(resp)
        }
    }
}

fn number(headers: &HeaderMap, name: &str) -> Result<u64> {
    let raw = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::BadRequest(format!("{name} is missing").into()))?;
    if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadRequest(format!("{name} must be a whole number of bytes").into()));
    }
    raw.parse().map_err(|_| Error::BadRequest(format!("{name} must be a whole number of bytes").into()))
}

/// The `filename` of `Upload-Metadata` (`key base64,key base64`).
fn file_name(headers: &HeaderMap) -> Result<String> {
    let bad = || Error::BadRequest("Upload-Metadata must carry the file name: filename <base64>".into());
    let raw = headers.get("upload-metadata").and_then(|v| v.to_str().ok()).ok_or_else(bad)?;
    if raw.len() > MAX_METADATA {
        return Err(Error::BadRequest(format!("Upload-Metadata is longer than {MAX_METADATA} bytes").into()));
    }
    for pair in raw.split(',') {
        let mut kv = pair.trim().splitn(2, ' ');
        if kv.next() == Some("filename") {
            let value =
                base64::engine::general_purpose::STANDARD.decode(kv.next().unwrap_or("").trim()).map_err(|_| bad())?;
            return String::from_utf8(value).map_err(|_| bad());
        }
    }
    Err(bad())
}

fn checksum(headers: &HeaderMap) -> Result<Option<Checksum>> {
    let Some(raw) = headers.get("upload-checksum") else { return Ok(None) };
    let raw = raw.to_str().map_err(|_| Error::BadRequest("Upload-Checksum is not readable".into()))?;
    let (algorithm, value) = raw.split_once(' ').unwrap_or((raw, ""));
    if algorithm != "sha256" {
        return Err(Error::BadRequest("Upload-Checksum: only sha256 is supported".into()));
    }
    let digest = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| Error::BadRequest("Upload-Checksum: the sha256 value is not 32 bytes in base64".into()))?;
    Ok(Some(Checksum(digest)))
}

fn progress(mut resp: Response, state: &TusState) -> Response {
    set(&mut resp, "upload-offset", state.offset);
    set(&mut resp, "upload-length", state.length);
    set(&mut resp, "upload-expires", http_date(state.expires_at));
    with_tus(resp)
}

async fn link(state: &AppState, token: &str, ip: ClientIp) -> Result<PortalLink> {
    state.courier.portal_link(token, ip.0).await
}

/// What every route but `OPTIONS` starts with: the link (uniform 404 first), our version,
/// and the passcode's unlock cookie.
enum Opened {
    Link(Box<PortalLink>, Option<String>),
    Refused(Response),
}

async fn open(state: &AppState, token: &str, ip: ClientIp, headers: &HeaderMap) -> Result<Opened> {
    let link = link(state, token, ip).await?;
    if let Some(resp) = version_refused(headers) {
        return Ok(Opened::Refused(resp));
    }
    Ok(Opened::Link(Box::new(link), unlock_cookie(&state.courier, headers)))
}

/// `OPTIONS`: what this server speaks.
pub async fn options(State(state): State<AppState>, Path(token): Path<String>, ip: ClientIp) -> Result<Response> {
    let link = link(&state, &token, ip).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(tus_header("tus-version"), HeaderValue::from_static(VERSION));
    resp.headers_mut().insert(tus_header("tus-extension"), HeaderValue::from_static(EXTENSIONS));
    resp.headers_mut().insert(tus_header("tus-checksum-algorithm"), HeaderValue::from_static("sha256"));
    set(&mut resp, "tus-max-size", link.portal().max_file_size);
    Ok(with_tus(resp))
}

pub async fn options_upload(
    state: State<AppState>,
    Path((token, _)): Path<(String, String)>,
    ip: ClientIp,
) -> Result<Response> {
    options(state, Path(token), ip).await
}

/// `POST`: opens an upload.
pub async fn create(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let (link, cookie) = match open(&state, &token, ip, &headers).await? {
        Opened::Link(link, cookie) => (link, cookie),
        Opened::Refused(resp) => return Ok(resp),
    };
    if headers.contains_key("upload-defer-length") {
        return Err(Error::BadRequest("Upload-Defer-Length is not supported: give Upload-Length".into()));
    }
    let length = number(&headers, "upload-length")?;
    let name = file_name(&headers)?;
    let created = link.tus_create(cookie.as_deref(), length, &name).await?;
    let mut resp = StatusCode::CREATED.into_response();
    let location = format!("/p/{token}/tus/{}", created.id);
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&location).map_err(|e| Error::internal("location", e))?);
    set(&mut resp, "upload-expires", http_date(created.expires_at));
    Ok(with_tus(resp))
}

/// `HEAD`: the offset to resume from.
pub async fn head(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let (link, cookie) = match open(&state, &token, ip, &headers).await? {
        Opened::Link(link, cookie) => (link, cookie),
        Opened::Refused(resp) => return Ok(resp),
    };
    let current = link.tus_state(cookie.as_deref(), &id, false).await?;
    Ok(progress(StatusCode::OK.into_response(), &current))
}

/// `PATCH`: the next bytes.
pub async fn append(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (link, cookie) = match open(&state, &token, ip, &headers).await? {
        Opened::Link(link, cookie) => (link, cookie),
        Opened::Refused(resp) => return Ok(resp),
    };
    if headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some(OFFSET_CONTENT_TYPE) {
        return Ok(with_tus(StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response()));
    }
    let offset = number(&headers, "upload-offset")?;
    let checksum = checksum(&headers)?;
    let (bytes, slow) = super::upload::rate_guarded(body, super::upload_rate(&state.courier));
    let appended = link.tus_append(cookie.as_deref(), &id, offset, bytes, checksum).await;
    let current = match appended {
        Ok(current) => current,
        Err(_) if slow.tripped() => {
            return Err(Error::TooSlow("the upload arrived too slowly and was stopped; resume it".into()));
        }
        Err(e) => return Err(e),
    };
    Ok(progress(StatusCode::NO_CONTENT.into_response(), &current))
}

/// `DELETE`: the client gives up; what arrived is removed.
pub async fn terminate(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let (link, cookie) = match open(&state, &token, ip, &headers).await? {
        Opened::Link(link, cookie) => (link, cookie),
        Opened::Refused(resp) => return Ok(resp),
    };
    link.tus_terminate(cookie.as_deref(), &id).await?;
    Ok(with_tus(StatusCode::NO_CONTENT.into_response()))
}

/// `GET` with `Accept: application/json`: the receipt of a finished upload.
pub async fn receipt(
    State(state): State<AppState>,
    Path((token, id)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let link = link(&state, &token, ip).await?;
    if !wants_json(&headers) {
        return Err(Error::BadRequest("ask with Accept: application/json".into()));
    }
    let cookie = unlock_cookie(&state.courier, &headers);
    let current = link.tus_state(cookie.as_deref(), &id, true).await?;
    match current.receipt {
        Some(receipt) => Ok(axum::Json(serde_json::json!({ "receipt": receipt })).into_response()),
        // Every byte is in and another request is checking the file.
        None if current.offset == current.length => Err(Error::Busy(crate::error::Reason::said(
            "the file is still being checked; ask again in a moment",
            crate::error::Said::new("refusal-still-checking"),
        ))),
        None => Err(Error::Conflict(
            format!("the upload is not finished: {} of {} bytes received", current.offset, current.length).into(),
        )),
    }
}
