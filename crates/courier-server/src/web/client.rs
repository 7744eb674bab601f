//! What a client reaches through a portal link: the upload page, the passcode form, the upload
//! itself and the receipt. A client never sees other uploads to the portal.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use courier_core::time_fmt::{now_ms, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use super::{AppState, ClientIp, cookie};
use crate::services::portals::OpenPortal;
use crate::services::{Actor, Caller, Unlock};
use crate::{Courier, Error, Result};

const UNLOCK_COOKIE: &str = "courier_portal";

fn caller(portal: &OpenPortal, ip: ClientIp) -> Caller {
    Caller::new(Actor::Client(portal.id.clone()), ip.0)
}

pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"))
}

/// The portal behind `token`, and whether the client still has to give its passcode.
async fn open(courier: &Courier, token: &str, headers: &HeaderMap) -> Result<(OpenPortal, bool)> {
    let portal = courier.open_portal(token).await?;
    let locked = portal.passcode_hash.is_some()
        && !courier.unlocked(
            Unlock::Portal,
            &portal.id,
            cookie(headers, &super::staff::path_cookie_name(courier, UNLOCK_COOKIE)).as_deref(),
        );
    Ok((portal, locked))
}

#[derive(Serialize)]
struct PageContext<'a> {
    firm: &'a str,
    label: &'a str,
    token: &'a str,
    max_file_size: u64,
    max_files: usize,
    expires_at: Option<String>,
    error: Option<String>,
    /// The accepted types, for people ("PDF, DOCX, …") and for the file picker (".pdf,.docx").
    accepted: String,
    accept: String,
}

fn page_context<'a>(
    courier: &'a Courier,
    portal: &'a OpenPortal,
    token: &'a str,
    error: Option<String>,
) -> PageContext<'a> {
    let allowed = portal.allowed_types.as_deref().unwrap_or(courier.scanning.default_allowed());
    PageContext {
        firm: &courier.config.firm_name,
        label: &portal.label,
        token,
        max_file_size: portal.max_file_size,
        max_files: courier.config.max_files_per_upload,
        expires_at: portal.expires_at.map(rfc3339),
        error,
        accepted: courier_scan::kind::list(allowed),
        accept: courier_scan::kind::picker_extensions(allowed),
    }
}

pub async fn portal_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let (portal, locked) = open(&state.courier, &token, &headers).await?;
    let template = if locked { "client_passcode.html" } else { "client_portal.html" };
    Ok(state.templates.render(template, page_context(&state.courier, &portal, &token, None))?.into_response())
}

#[derive(Deserialize)]
pub struct UnlockForm {
    passcode: String,
}

pub async fn unlock(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    Form(form): Form<UnlockForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let portal = courier.open_portal(&token).await?;
    if portal.passcode_hash.is_none() {
        return Ok(Redirect::to(&format!("/p/{token}")).into_response());
    }
    let given = Zeroizing::new(form.passcode);
    if !courier
        .check_passcode(&caller(&portal, ip), Unlock::Portal, &portal.id, portal.passcode_hash.clone(), given)
        .await?
    {
        let ctx = page_context(
            courier,
            &portal,
            &token,
            Some("That passcode is not right. Please check it and try again.".into()),
        );
        return Ok((StatusCode::UNAUTHORIZED, state.templates.render("client_passcode.html", ctx)?).into_response());
    }
    let value = courier.unlock_cookie(Unlock::Portal, &portal.id);
    super::unlocked_redirect(
        courier,
        &super::staff::path_cookie_name(courier, UNLOCK_COOKIE),
        &format!("/p/{token}"),
        &value,
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
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let courier = &state.courier;
    let (portal, locked) = open(courier, &token, &headers).await?;
    if locked {
        return Err(Error::Unauthenticated);
    }
    // One link, or one address, cannot take every inspection slot (review finding 4a).
    let _slot = courier.upload_slot(&portal.id, ip.0)?;
    let mut multipart = super::upload_body(courier, &headers, body)?;
    let caller = caller(&portal, ip);
    let receipt_id = uuid::Uuid::new_v4().to_string();
    let mut stored = Vec::new();
    let result = async {
        while let Some(field) = multipart.next_part().await? {
            if field.name() != Some("file") {
                field.skip().await?;
                continue;
            }
            let name = field.file_name().map(str::to_owned);
            // Browsers send a nameless empty part when a form is submitted with no file chosen.
            if name.as_deref() == Some("") {
                continue;
            }
            if stored.len() == courier.config.max_files_per_upload {
                return Err(Error::PayloadTooLarge(format!(
                    "at most {} files per upload",
                    courier.config.max_files_per_upload
                )));
            }
            let doc = courier
                .ingest_portal_upload(&caller, &portal, &receipt_id, name.as_deref(), field.into_stream())
                .await?;
            stored.push(doc);
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        courier.undo_uploads(&stored).await;
        return Err(multipart.reason(e));
    }
    if stored.is_empty() {
        return Err(Error::BadRequest("no file was uploaded; choose at least one file".into()));
    }
    let files: Vec<ReceiptFile> = stored
        .into_iter()
        .map(|d| ReceiptFile { name: d.name, size: d.size, sha256: d.sha256, content_type: d.content_type })
        .collect();
    let received_at = rfc3339(now_ms());
    if wants_json(&headers) {
        let body = json!({ "receipt": { "id": receipt_id, "received_at": received_at, "files": files } });
        return Ok((StatusCode::CREATED, axum::Json(body)).into_response());
    }
    let ctx = json!({ "firm": courier.config.firm_name, "label": portal.label, "token": token,
        "receipt_id": receipt_id, "received_at": received_at, "files": files });
    Ok((StatusCode::CREATED, state.templates.render("client_receipt.html", ctx)?).into_response())
}
