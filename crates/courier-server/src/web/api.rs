//! `/api/v1`: the staff JSON API for scripts and document-management integrations, with
//! personal API tokens (`Authorization: Bearer courier_pat_…`). Every call goes through the
//! same services (and Cedar policies) as the web UI; the token's scopes narrow them. The
//! OpenAPI document is generated from these handlers (`utoipa`) and served at
//! `/api/v1/openapi.json`.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use courier_core::{ByteSize, DurationSpec};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use zeroize::Zeroizing;

use super::extract::ApiCaller;
use super::staff::{attachment, expiry};
use super::{AppState, PageQuery};
use crate::services::api_tokens::Scope;
use crate::services::documents::DocumentView;
use crate::services::lifecycle::{HoldSubject, HoldView};
use crate::services::matters::{MatterView, MemberView};
use crate::services::portals::{IssuedLink, PortalRequest, PortalView};
use crate::services::scanning::ScanView;
use crate::{Error, Result};

#[derive(OpenApi)]
#[openapi(
    info(title = "Courier staff API", version = "1",
        description = "Personal API tokens (made under Account → API tokens, or with `courier token create`) \
            act as their user, within their scopes. Errors are RFC 9457 problem documents."),
    paths(me, list_portals, create_portal, show_portal, disable_portal, enable_portal, portal_documents,
        list_matters, download_document, delete_document, mark_filed, mark_portal_filed, list_holds, place_hold,
        release_hold, certificate),
    components(schemas(Me, Scope, PortalView, IssuedLink, NewPortal, DocumentView, ScanView, MatterView, MemberView,
        Filing, NewHold, Release, HoldView)),
    modifiers(&BearerToken),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("courier_pat_…").build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Who the token acts as.
#[derive(Serialize, ToSchema)]
pub struct Me {
    user_id: String,
    email: String,
    role: String,
    token_id: String,
    scopes: Vec<Scope>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, description = "The token's user and scopes", body = Me), (status = 401)))]
pub async fn me(ApiCaller(me): ApiCaller) -> Result<Json<Me>> {
    let (Some(token_id), Some(scopes)) = (me.token_id(), me.scopes()) else {
        return Err(Error::Unauthenticated);
    };
    let (token_id, scopes) = (token_id.to_owned(), scopes.to_vec());
    let user = me.me().await?;
    Ok(Json(Me { user_id: user.id, email: user.email, role: user.role.to_string(), token_id, scopes }))
}

#[utoipa::path(get, path = "/api/v1/portals", tag = "portals",
    description = "Portals the user may see. Scope `portals:read` (or any portals or documents scope).",
    responses((status = 200, body = Vec<PortalView>), (status = 401), (status = 403)))]
pub async fn list_portals(ApiCaller(me): ApiCaller) -> Result<Json<Vec<PortalView>>> {
    Ok(Json(me.list_portals().await?))
}

/// A portal to open. Give at most one of `expires_in` (`7d`, `12h`) and `expires_at` (RFC 3339).
#[derive(Deserialize, ToSchema)]
pub struct NewPortal {
    label: String,
    /// Matter id or name; the firm-wide General matter when absent.
    matter: Option<String>,
    expires_in: Option<String>,
    expires_at: Option<String>,
    /// Like `100MiB`; the firm's default when absent.
    max_file_size: Option<String>,
    /// A passcode the client must give (send it to them separately).
    passcode: Option<String>,
    /// How long its documents stay, like `30d`; the matter's (else the firm's) when absent.
    retention: Option<String>,
    /// Mail the token's user about uploads (default true).
    notify: Option<bool>,
    /// The client page's language, `en` or `fr`; the client's browser decides when absent.
    language: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/portals", tag = "portals", request_body = NewPortal,
    description = "Opens a portal; its link is in the answer only. Scope `portals:write`.",
    responses((status = 201, body = IssuedLink), (status = 400), (status = 401), (status = 403)))]
pub async fn create_portal(
    State(state): State<AppState>,
    ApiCaller(me): ApiCaller,
    Json(body): Json<NewPortal>,
) -> Result<Response> {
    let bad = |e: courier_core::ParseError| Error::BadRequest(e.into());
    if body.expires_in.is_some() && body.expires_at.is_some() {
        return Err(Error::BadRequest("give expires_in or expires_at, not both".into()));
    }
    let (expires_in, expires_at) = (body.expires_in.unwrap_or_default(), body.expires_at.unwrap_or_default());
    let expires_at_ms = expiry(&expires_in, &expires_at, state.courier.clock().now_ms())?;
    let req = PortalRequest {
        label: body.label,
        matter: body.matter,
        expires_at_ms,
        passcode: body.passcode.map(Zeroizing::new),
        max_file_size: body.max_file_size.as_deref().map(str::parse::<ByteSize>).transpose().map_err(bad)?,
        allowed_types: None,
        dlp_action: None,
        retention: body.retention.as_deref().map(str::parse::<DurationSpec>).transpose().map_err(bad)?,
        owner: None,
        notify: body.notify,
        language: body.language.as_deref().map(str::parse).transpose()?,
    };
    let link = me.create_portal(req).await?;
    Ok((StatusCode::CREATED, Json(link)).into_response())
}

#[utoipa::path(get, path = "/api/v1/portals/{id}", tag = "portals",
    responses((status = 200, body = PortalView), (status = 401), (status = 403), (status = 404)))]
pub async fn show_portal(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<Json<PortalView>> {
    Ok(Json(me.portal(&id).await?))
}

#[utoipa::path(post, path = "/api/v1/portals/{id}/disable", tag = "portals",
    description = "Closes the link until enabled again. Scope `portals:write`.",
    responses((status = 200, body = PortalView), (status = 401), (status = 403), (status = 404)))]
pub async fn disable_portal(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<Json<PortalView>> {
    Ok(Json(me.set_portal_enabled(&id, false).await?))
}

#[utoipa::path(post, path = "/api/v1/portals/{id}/enable", tag = "portals",
    description = "Opens a disabled link again. Scope `portals:write`.",
    responses((status = 200, body = PortalView), (status = 401), (status = 403), (status = 404)))]
pub async fn enable_portal(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<Json<PortalView>> {
    Ok(Json(me.set_portal_enabled(&id, true).await?))
}

#[utoipa::path(get, path = "/api/v1/portals/{id}/documents", tag = "documents",
    description = "One page of the portal's live documents with their scan results, newest first. \
        When more follow, the `Link` header names the next page (`rel=\"next\"`). Scope `documents:read`.",
    params(PageQuery),
    responses((status = 200, body = Vec<DocumentView>,
            headers(("link" = String, description = "`<…?after=CURSOR&limit=N>; rel=\"next\"` when another page follows"))),
        (status = 400), (status = 401), (status = 403), (status = 404)))]
pub async fn portal_documents(
    ApiCaller(me): ApiCaller,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Response> {
    let req = query.request()?;
    let page = me.portal_documents(&id, &req).await?;
    let mut response = Json(page.items).into_response();
    if let Some(next) = page.next {
        // The id came from the path and was found: a UUID, safe in a header as it is.
        let link = format!("</api/v1/portals/{id}/documents?after={next}&limit={}>; rel=\"next\"", req.limit());
        let value = HeaderValue::from_str(&link).map_err(|e| Error::internal("link header", e))?;
        response.headers_mut().insert(axum::http::header::LINK, value);
    }
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/matters", tag = "matters",
    description = "Matters the user may see, with their members. Scope `matters:read`.",
    responses((status = 200, body = Vec<MatterView>), (status = 401), (status = 403)))]
pub async fn list_matters(ApiCaller(me): ApiCaller) -> Result<Json<Vec<MatterView>>> {
    Ok(Json(me.list_matters().await?))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents",
    description = "The decrypted document, streamed; audited as `document.download`. Scope `documents:read`.",
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>,
        headers(("x-content-sha256" = String, description = "SHA-256 of the plaintext, hex"))),
        (status = 401), (status = 403), (status = 404)))]
pub async fn download_document(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<Response> {
    let (doc, stream) = me.open_document(&id).await?;
    let mut resp = attachment(Body::from_stream(stream), "application/octet-stream", &doc.name, Some(doc.size as u64));
    if let Ok(v) = HeaderValue::from_str(&doc.sha256) {
        resp.headers_mut().insert("x-content-sha256", v);
    }
    Ok(resp)
}

#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents",
    description = "Crypto-shreds the document (after it was pulled into the firm's system). Scope `documents:write`. \
        409 while a legal hold keeps it.",
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn delete_document(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<StatusCode> {
    me.delete_document(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks documents as filed in the firm's DMS.
#[derive(Deserialize, ToSchema, Default)]
pub struct Filing {
    /// The DMS's own reference for the document (kept and audited).
    reference: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/documents/{id}/filed", tag = "lifecycle", request_body = Filing,
    description = "The firm has filed the document in its DMS: it is shredded once `filed_grace` has passed \
        (unless held). Scope `lifecycle:write`.",
    responses((status = 200, body = DocumentView), (status = 401), (status = 403), (status = 404)))]
pub async fn mark_filed(
    ApiCaller(me): ApiCaller,
    Path(id): Path<String>,
    body: Option<Json<Filing>>,
) -> Result<Json<DocumentView>> {
    let Json(body) = body.unwrap_or_default();
    let mut filed = me.mark_filed(std::slice::from_ref(&id), body.reference.as_deref()).await?;
    filed.pop().map(Json).ok_or(Error::NotFound)
}

#[utoipa::path(post, path = "/api/v1/portals/{id}/filed", tag = "lifecycle", request_body = Filing,
    description = "Marks every live, not yet filed document of the portal as filed. Scope `lifecycle:write`.",
    responses((status = 200, description = "How many were marked: {\"filed\": N}"), (status = 401), (status = 403),
        (status = 404)))]
pub async fn mark_portal_filed(
    ApiCaller(me): ApiCaller,
    Path(id): Path<String>,
    body: Option<Json<Filing>>,
) -> Result<Json<serde_json::Value>> {
    let Json(body) = body.unwrap_or_default();
    let n = me.mark_portal_filed(&id, body.reference.as_deref()).await?;
    Ok(Json(serde_json::json!({ "filed": n })))
}

#[utoipa::path(get, path = "/api/v1/holds", tag = "lifecycle",
    description = "Legal holds on matters the user may see, released ones too (holds are never deleted).",
    responses((status = 200, body = Vec<HoldView>), (status = 401), (status = 403)))]
pub async fn list_holds(ApiCaller(me): ApiCaller) -> Result<Json<Vec<HoldView>>> {
    Ok(Json(me.list_holds(true).await?))
}

/// A legal hold: give exactly one of `matter` (id or name; covers later uploads too) and `document`.
#[derive(Deserialize, ToSchema)]
pub struct NewHold {
    matter: Option<String>,
    document: Option<String>,
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/holds", tag = "lifecycle", request_body = NewHold,
    description = "Places a legal hold: nothing it covers is shredded until it is released. Scope `lifecycle:write`.",
    responses((status = 201, body = HoldView), (status = 400), (status = 401), (status = 403), (status = 404),
        (status = 409)))]
pub async fn place_hold(ApiCaller(me): ApiCaller, Json(body): Json<NewHold>) -> Result<Response> {
    let subject = match (body.matter, body.document) {
        (Some(m), None) => HoldSubject::Matter(m),
        (None, Some(d)) => HoldSubject::Document(d),
        _ => return Err(Error::BadRequest("give exactly one of matter and document".into())),
    };
    let hold = me.place_hold(subject, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(hold)).into_response())
}

/// Why a hold is released.
#[derive(Deserialize, ToSchema)]
pub struct Release {
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/holds/{id}/release", tag = "lifecycle", request_body = Release,
    description = "Releases a hold; what it kept goes at the next upkeep if due. Scope `lifecycle:write`.",
    responses((status = 200, body = HoldView), (status = 401), (status = 403), (status = 404), (status = 409)))]
pub async fn release_hold(
    ApiCaller(me): ApiCaller,
    Path(id): Path<String>,
    Json(body): Json<Release>,
) -> Result<Json<HoldView>> {
    Ok(Json(me.release_hold(&id, &body.reason).await?))
}

#[utoipa::path(get, path = "/api/v1/documents/{id}/certificate", tag = "lifecycle",
    description = "A shredded document's certificate of deletion: canonical JSON signed with the audit key \
        (`docs/format.md`). 409 for a live document. Scope `documents:read`.",
    responses((status = 200, description = "The signed certificate"), (status = 401), (status = 403),
        (status = 404), (status = 409)))]
pub async fn certificate(ApiCaller(me): ApiCaller, Path(id): Path<String>) -> Result<Json<serde_json::Value>> {
    Ok(Json(me.certificate(&id).await?))
}
