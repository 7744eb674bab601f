//! Staff pages for matters (members, documents, staff uploads, portals, shares, archive,
//! break glass), for shares (their downloads, revocation) and the access review. Handlers
//! parse and render; every decision is the service layer's.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use zeroize::Zeroizing;

use super::extract::{CsrfForm, Empty, Staff};
use super::staff::see_other;
use super::upload::FileParts;
use super::{AppState, PageQuery, duration_field, field};
use crate::error::{Said, bad_request};
use crate::services::Unlock;
use crate::services::authz::{Action, Resource};
use crate::services::lifecycle::HoldSubject;
use crate::services::matters::MatterRequest;
use crate::services::pages::PageRequest;
use crate::services::shares::ShareRequest;
use crate::{Error, Result};

/// Repeated form fields (checkboxes) as they came.
type Pairs = Vec<(String, String)>;

fn expiry(pairs: &[(String, String)], now: i64) -> Result<Option<i64>> {
    Ok(duration_field(&field(pairs, "expires_in"))?.map(|d| now + d.as_millis() as i64))
}

pub async fn matters_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render_matters(&state, &staff, None, StatusCode::OK).await
}

async fn render_matters(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let matters = me.list_matters().await?;
    let may_create = me.may(Action::MatterCreate, &Resource::Firm).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "matters": matters, "may_create": may_create, "error": error });
    Ok((status, state.templates.render("matters.html", staff.lang, ctx)?).into_response())
}

pub async fn create_matter(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<Pairs>,
) -> Result<Response> {
    let retention = match field(&form, "retention").trim() {
        "" => Ok(None),
        r => r.parse::<courier_core::DurationSpec>().map(Some).map_err(|e| Error::BadRequest(e.into())),
    };
    let created = match retention {
        Ok(retention) => {
            let req = MatterRequest {
                name: field(&form, "name"),
                department: Some(field(&form, "department")),
                sensitivity: Some(field(&form, "sensitivity")).filter(|s| !s.is_empty()),
                retention,
            };
            staff.me.create_matter(req).await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(m) => Ok(see_other(&format!("/matters/{}", m.id))),
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_matters(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn matter_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    staff: Staff,
) -> Result<Response> {
    render_matter(&state, &staff, &id, &query.request()?, None, StatusCode::OK).await
}

async fn render_matter(
    state: &AppState,
    staff: &Staff,
    id: &str,
    page: &PageRequest,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let matter = me.matter(id).await?;
    let documents = me.matter_documents(&matter.id, page).await?;
    let pages = super::staff::pager(&format!("/matters/{}", matter.id), page, documents.next);
    let portals: Vec<_> =
        me.list_portals().await?.into_iter().filter(|p| p.matter_id.as_deref() == Some(matter.id.as_str())).collect();
    let shares = me.list_shares(Some(&matter.id)).await?;
    let mut may = serde_json::Map::new();
    for action in [
        Action::MatterManageMembers,
        Action::MatterArchive,
        Action::MatterReview,
        Action::DocumentUpload,
        Action::ShareCreate,
        Action::PortalCreate,
        Action::MatterHold,
        Action::MatterRetention,
    ] {
        may.insert(action.name().replace('.', "_"), me.may_on_matter(action, &matter.id).await?.into());
    }
    let break_glass = me.may(Action::MatterBreakGlass, &Resource::Firm).await?;
    let holds: Vec<_> = me
        .list_holds(false)
        .await?
        .into_iter()
        .filter(|h| h.matter_id.as_deref() == Some(matter.id.as_str()))
        .collect();
    let shredded = me.shredded_documents(&matter.id).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "matter": matter, "documents": documents.items, "pages": pages, "portals": portals, "shares": shares, "may": may,
        "break_glass": break_glass, "error": error, "holds": holds, "shredded": shredded });
    Ok((status, state.templates.render("matter.html", staff.lang, ctx)?).into_response())
}

/// Member, archive, break-glass and review forms of a matter page.
pub async fn matter_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { staff, form }: CsrfForm<Pairs>,
) -> Result<Response> {
    let me = &staff.me;
    let done = match action.as_str() {
        "members" => me.add_member(&id, &field(&form, "email"), &field(&form, "role")).await.map(drop),
        "remove-member" => me.remove_member(&id, &field(&form, "email")).await.map(drop),
        "archive" => me.set_matter_archived(&id, true).await.map(drop),
        "unarchive" => me.set_matter_archived(&id, false).await.map(drop),
        "break-glass" => {
            let hours = field(&form, "hours").trim().parse::<i64>().unwrap_or(0);
            me.break_glass(&id, &field(&form, "reason"), hours * 3_600_000).await.map(drop)
        }
        "review" => me.record_review(&id, &field(&form, "removed"), &field(&form, "note")).await.map(drop),
        "hold" => me.place_hold(HoldSubject::Matter(id.clone()), &field(&form, "reason")).await.map(drop),
        "retention" => match field(&form, "retention").trim() {
            "" => me.set_matter_retention(&id, None).await,
            r => match r.parse::<courier_core::DurationSpec>() {
                Ok(d) => me.set_matter_retention(&id, Some(d)).await,
                Err(e) => Err(Error::BadRequest(e.into())),
            },
        },
        _ => return Err(Error::NotFound),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/matters/{id}"))),
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_matter(&state, &staff, &id, &PageRequest::default(), Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

/// A staff upload to a matter (multipart field `file`, repeatable), streamed like a client's
/// and all or nothing like one. The CSRF token is a part that must come before any file.
pub async fn upload(
    State(state): State<AppState>,
    Path(id): Path<String>,
    staff: Staff,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response> {
    let courier = &state.courier;
    let mut multipart = super::upload_body(courier, &headers, body)?;
    let mut files = FileParts::staff(&mut multipart, courier, &staff.session.csrf_token, &headers);
    let stored = match staff.me.upload_to_matter(&id, &mut files).await {
        Ok(stored) => stored,
        Err(e) => return Err(multipart.reason(e)),
    };
    if super::client::wants_json(&headers) {
        return Ok((StatusCode::CREATED, axum::Json(json!({ "documents": stored }))).into_response());
    }
    Ok(see_other(&format!("/matters/{id}")))
}

pub async fn create_share(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { staff, form }: CsrfForm<Pairs>,
) -> Result<Response> {
    let parsed = || -> Result<ShareRequest> {
        Ok(ShareRequest {
            matter: id.clone(),
            documents: form.iter().filter(|(k, _)| k == "doc").map(|(_, v)| v.clone()).collect(),
            recipient: field(&form, "recipient"),
            expires_at_ms: expiry(&form, state.courier.clock().now_ms())?,
            passcode: Some(Zeroizing::new(field(&form, "passcode"))).filter(|p| !p.is_empty()),
            max_downloads: match field(&form, "max_downloads").trim() {
                "" => None,
                n => Some(n.parse().map_err(|_| {
                    bad_request("the download limit must be a number", Said::new("staff-refused-download-limit-number"))
                })?),
            },
            allow_findings: field(&form, "allow_findings") == "on",
        })
    };
    let created = match parsed() {
        Ok(req) => staff.me.create_share(req).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(created) => {
            let share = staff.me.share(&created.link.id).await?;
            let session = &staff.session;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "share": share,
                "url": created.link.url });
            Ok((StatusCode::CREATED, state.templates.render("share_link.html", staff.lang, ctx)?).into_response())
        }
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_matter(&state, &staff, &id, &PageRequest::default(), Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn share_page(State(state): State<AppState>, Path(id): Path<String>, staff: Staff) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let (share, may_revoke) = me.share_with_rights(&id).await?;
    let passcode_locked_until = me.link_locked_until(Unlock::Share, &id).await?.map(courier_core::time_fmt::rfc3339);
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "share": share, "may_revoke": may_revoke, "passcode_locked_until": passcode_locked_until });
    Ok(state.templates.render("share.html", staff.lang, ctx)?.into_response())
}

/// `revoke`, or `unlock-passcode` (lift the lock that wrong passcodes put on its link).
pub async fn share_action(
    Path((id, action)): Path<(String, String)>,
    CsrfForm { staff, .. }: CsrfForm<Empty>,
) -> Result<Response> {
    match action.as_str() {
        "revoke" => drop(staff.me.revoke_share(&id).await?),
        "unlock-passcode" => drop(staff.me.unlock_share_passcode(&id).await?),
        _ => return Err(Error::NotFound),
    }
    Ok(see_other(&format!("/shares/{id}")))
}

pub async fn access_review_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    let report = staff.me.access_review().await?;
    let session = &staff.session;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "report": report });
    Ok(state.templates.render("access_review.html", staff.lang, ctx)?.into_response())
}
