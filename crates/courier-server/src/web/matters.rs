//! Staff pages for matters (members, documents, staff uploads, portals, shares, archive,
//! break glass), for shares (their downloads, revocation) and the access review. Handlers
//! parse and render; every decision is the service layer's.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use courier_core::time_fmt::now_ms;
use serde_json::json;
use zeroize::Zeroizing;

use super::staff::{check_csrf, see_other};
use super::{AppState, ClientIp, duration_field, field, form_pairs};
use crate::services::authz::Action;
use crate::services::matters::MatterRequest;
use crate::services::sessions::StaffSession;
use crate::services::shares::ShareRequest;
use crate::{Error, Result};

fn csrf(state: &AppState, session: &StaffSession, pairs: &[(String, String)], headers: &HeaderMap) -> Result<()> {
    check_csrf(&state.courier, &session.csrf_token, &field(pairs, "csrf_token"), headers)
}

fn expiry(pairs: &[(String, String)]) -> Result<Option<i64>> {
    Ok(duration_field(&field(pairs, "expires_in"))?.map(|d| now_ms() + d.as_millis() as i64))
}

pub async fn matters_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_session!(state, headers);
    render_matters(&state, &session, ip, None, StatusCode::OK).await
}

async fn render_matters(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let caller = session.caller(ip.0);
    let matters = state.courier.list_matters(&caller).await?;
    let may_create = state.courier.may(&caller, Action::MatterCreate, &crate::services::authz::Resource::Firm).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "matters": matters, "may_create": may_create, "error": error });
    Ok((status, state.templates.render("matters.html", ctx)?).into_response())
}

pub async fn create_matter(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let pairs = form_pairs(&body);
    csrf(&state, &session, &pairs, &headers)?;
    let req = MatterRequest {
        name: field(&pairs, "name"),
        department: Some(field(&pairs, "department")),
        sensitivity: Some(field(&pairs, "sensitivity")).filter(|s| !s.is_empty()),
    };
    match state.courier.create_matter(&session.caller(ip.0), req).await {
        Ok(m) => Ok(see_other(&format!("/matters/{}", m.id))),
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            render_matters(&state, &session, ip, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn matter_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    render_matter(&state, &session, ip, &id, None, StatusCode::OK).await
}

async fn render_matter(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    id: &str,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let courier = &state.courier;
    let caller = session.caller(ip.0);
    let matter = courier.matter_for(&caller, id).await?;
    let resource = courier.matter_resource(&matter.id).await?;
    let documents = courier.matter_documents(&caller, &matter.id).await?;
    let portals: Vec<_> = courier
        .list_portals(&caller)
        .await?
        .into_iter()
        .filter(|p| p.matter_id.as_deref() == Some(matter.id.as_str()))
        .collect();
    let shares = courier.list_shares(&caller, Some(&matter.id)).await?;
    let mut may = serde_json::Map::new();
    for action in [
        Action::MatterManageMembers,
        Action::MatterArchive,
        Action::MatterReview,
        Action::DocumentUpload,
        Action::ShareCreate,
        Action::PortalCreate,
    ] {
        may.insert(action.name().replace('.', "_"), courier.may(&caller, action, &resource).await?.into());
    }
    let break_glass = courier.may(&caller, Action::MatterBreakGlass, &crate::services::authz::Resource::Firm).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "matter": matter, "documents": documents, "portals": portals, "shares": shares, "may": may,
        "break_glass": break_glass, "error": error });
    Ok((status, state.templates.render("matter.html", ctx)?).into_response())
}

/// Member, archive, break-glass and review forms of a matter page.
pub async fn matter_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let pairs = form_pairs(&body);
    csrf(&state, &session, &pairs, &headers)?;
    let courier = &state.courier;
    let caller = session.caller(ip.0);
    let done = match action.as_str() {
        "members" => courier.add_member(&caller, &id, &field(&pairs, "email"), &field(&pairs, "role")).await.map(drop),
        "remove-member" => courier.remove_member(&caller, &id, &field(&pairs, "email")).await.map(drop),
        "archive" => courier.set_matter_archived(&caller, &id, true).await.map(drop),
        "unarchive" => courier.set_matter_archived(&caller, &id, false).await.map(drop),
        "break-glass" => {
            let hours = field(&pairs, "hours").trim().parse::<i64>().unwrap_or(0);
            courier.break_glass(&caller, &id, &field(&pairs, "reason"), hours * 3_600_000).await.map(drop)
        }
        "review" => {
            courier.record_review(&caller, &id, &field(&pairs, "removed"), &field(&pairs, "note")).await.map(drop)
        }
        _ => return Err(Error::NotFound),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/matters/{id}"))),
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            render_matter(&state, &session, ip, &id, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

/// A staff upload to a matter (multipart field `file`, repeatable), streamed like a client's.
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let courier = &state.courier;
    let mut multipart = super::upload_body(courier, &headers, body)?;
    let caller = session.caller(ip.0);
    let mut csrf_seen = false;
    let mut stored = Vec::new();
    // All or nothing, as for clients: a refused file undoes the ones before it.
    let result = async {
        while let Some(field) = multipart.next_part().await? {
            match field.name() {
                // The token comes first in the form, so nothing is stored without it.
                Some("csrf_token") => {
                    let given = field.text().await?;
                    check_csrf(courier, &session.csrf_token, &given, &headers)?;
                    csrf_seen = true;
                }
                Some("file") if csrf_seen => {
                    let name = field.file_name().map(str::to_owned);
                    if name.as_deref() == Some("") {
                        continue;
                    }
                    if stored.len() == courier.config.max_files_per_upload {
                        return Err(Error::PayloadTooLarge("too many files in one upload".into()));
                    }
                    stored.push(courier.ingest_staff_upload(&caller, &id, name.as_deref(), field.into_stream()).await?);
                }
                Some("file") => return Err(Error::Forbidden),
                _ => field.skip().await?,
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        courier.undo_uploads(&stored).await;
        return Err(multipart.reason(e));
    }
    if super::client::wants_json(&headers) {
        return Ok((StatusCode::CREATED, axum::Json(json!({ "documents": stored }))).into_response());
    }
    Ok(see_other(&format!("/matters/{id}")))
}

pub async fn create_share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let pairs = form_pairs(&body);
    csrf(&state, &session, &pairs, &headers)?;
    let req = ShareRequest {
        matter: id.clone(),
        documents: pairs.iter().filter(|(k, _)| k == "doc").map(|(_, v)| v.clone()).collect(),
        recipient: field(&pairs, "recipient"),
        expires_at_ms: expiry(&pairs)?,
        passcode: Some(Zeroizing::new(field(&pairs, "passcode"))).filter(|p| !p.is_empty()),
        max_downloads: match field(&pairs, "max_downloads").trim() {
            "" => None,
            n => Some(n.parse().map_err(|_| Error::BadRequest("the download limit must be a number".into()))?),
        },
        allow_findings: field(&pairs, "allow_findings") == "on",
    };
    match state.courier.create_share(&session.caller(ip.0), req).await {
        Ok(created) => {
            let share = state.courier.share(&session.caller(ip.0), &created.link.id).await?;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "share": share,
                "url": created.link.url });
            Ok((StatusCode::CREATED, state.templates.render("share_link.html", ctx)?).into_response())
        }
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            render_matter(&state, &session, ip, &id, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn share_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let caller = session.caller(ip.0);
    let (share, may_revoke) = state.courier.share_with_rights(&caller, &id).await?;
    let passcode_locked_until =
        state.courier.link_locked_until("share", &id).await?.map(courier_core::time_fmt::rfc3339);
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "share": share, "may_revoke": may_revoke, "passcode_locked_until": passcode_locked_until });
    Ok(state.templates.render("share.html", ctx)?.into_response())
}

/// `revoke`, or `unlock-passcode` (lift the lock that wrong passcodes put on its link).
pub async fn share_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let pairs = form_pairs(&body);
    csrf(&state, &session, &pairs, &headers)?;
    let caller = session.caller(ip.0);
    match action.as_str() {
        "revoke" => drop(state.courier.revoke_share(&caller, &id).await?),
        "unlock-passcode" => drop(state.courier.unlock_share_passcode(&caller, &id).await?),
        _ => return Err(Error::NotFound),
    }
    Ok(see_other(&format!("/shares/{id}")))
}

pub async fn access_review_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_session!(state, headers);
    let report = state.courier.access_review(&session.caller(ip.0)).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "report": report });
    Ok(state.templates.render("access_review.html", ctx)?.into_response())
}
