//! The HTTP application: client pages (`/p/…`), the staff web UI, health and static assets.
//! Handlers extract, call a service and render; rules live in `services`.

mod account;
mod api;
mod assets;
mod auth;
mod client;
mod errors;
mod extract;
mod firm;
mod instructions;
mod lifecycle;
mod matters;
mod middleware;
mod passkeys;
mod shares;
mod staff;
mod templates;
mod tus;
mod upload;
mod users;
mod watch;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::LatencyUnit;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::Courier;

pub use middleware::ClientIp;
pub use watch::metrics_router;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub courier: Arc<Courier>,
    pub templates: Arc<templates::Templates>,
    limiter: Arc<middleware::RateLimiter>,
    /// Refused links being counted for `link_probing` at once.
    probe_counters: Arc<tokio::sync::Semaphore>,
}

/// How many refused links are counted at once (see `middleware::watch_links`).
const PROBE_COUNTERS: usize = 8;

/// The value of cookie `name`, if the request sent it.
fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A duration typed into a form (`7d`, `12h`); empty means "not given".
fn duration_field(raw: &str) -> crate::Result<Option<std::time::Duration>> {
    match raw.trim() {
        "" => Ok(None),
        d => Ok(Some(d.parse::<courier_core::DurationSpec>().map_err(|e| crate::Error::BadRequest(e.into()))?.0)),
    }
}

/// `?after=…&limit=…` of a paged list (staff pages and `/api/v1`), read as plain text so that
/// a bad value gets this service's own clear refusal.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` cursor of the previous page (from its `Link: rel="next"`); absent: the newest.
    after: Option<String>,
    /// Documents per page, 1 to 1000 (default 100).
    limit: Option<String>,
}

impl PageQuery {
    fn request(&self) -> crate::Result<crate::services::pages::PageRequest> {
        crate::services::pages::PageRequest::parse(self.after.as_deref(), self.limit.as_deref())
    }
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// A redirect back to a link's page (`/p/<token>` or `/s/<token>`) setting the signed cookie
/// that proves its passcode was given, scoped to that link's path.
fn unlocked_redirect(
    courier: &Courier,
    cookie_name: &str,
    link_path: &str,
    value: &str,
    lang: Option<courier_core::Language>,
) -> crate::Result<Response> {
    let secure = if staff::secure(courier) { "; Secure" } else { "" };
    let max_age = courier.config().portal_unlock_secs;
    let cookie =
        format!("{cookie_name}={value}; Path={link_path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}");
    // The language the client picked goes on with it.
    let to = match lang {
        Some(lang) => format!("{link_path}?lang={lang}"),
        None => link_path.to_owned(),
    };
    let mut resp = axum::response::Redirect::to(&to).into_response();
    let cookie = HeaderValue::from_str(&cookie).map_err(|e| crate::Error::internal("cookie", e))?;
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// An upload body bounded as the settings say: parts, rate (see `upload`).
fn upload_body(
    courier: &Courier,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> crate::Result<upload::UploadBody> {
    upload::UploadBody::new(headers, body, courier.config().max_files_per_upload + 8, upload_rate(courier))
}

/// The minimum rate an upload body must keep (`upload_min_rate` per `upload_rate_window_secs`).
fn upload_rate(courier: &Courier) -> upload::MinRate {
    let window = courier.config().upload_rate_window_secs.max(1);
    upload::MinRate {
        bytes: courier.config().upload_min_rate.bytes().saturating_mul(window),
        window: Duration::from_secs(window),
    }
}

/// HEAD on a download would run it: decrypt, stamp, audit and count a download against the
/// share's limit (review finding 11). Downloads answer GET only.
async fn refuse_head() -> Response {
    let mut resp = axum::http::StatusCode::METHOD_NOT_ALLOWED.into_response();
    resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET"));
    resp
}

/// A non-upload body (a form, at most `FORM_BODY_LIMIT`) must arrive in all within
/// `form_body_timeout_secs`: the body timeout restarts with every chunk, so a byte every 20 s
/// kept a connection for ever.
async fn form_body_deadline(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use futures_util::StreamExt;
    let (parts, body) = req.into_parts();
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(state.courier.config().form_body_timeout_secs.max(1));
    let timed = futures_util::stream::unfold(Some(body.into_data_stream()), move |stream| async move {
        let mut stream = stream?;
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(Some(item)) => Some((item.map_err(std::io::Error::other), Some(stream))),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the request body arrived too slowly")),
                None,
            )),
        }
    });
    next.run(axum::extract::Request::from_parts(parts, axum::body::Body::from_stream(timed))).await
}

/// Largest non-upload request body (forms).
const FORM_BODY_LIMIT: usize = 64 * 1024;

pub fn router(courier: Arc<Courier>) -> Router {
    let limiter = Arc::new(middleware::RateLimiter::new(courier.config().rate_limit_per_minute));
    let templates = templates::Templates::new(crate::i18n::catalog(), courier.brand_cell());
    let state = AppState {
        courier,
        templates: Arc::new(templates),
        limiter,
        probe_counters: Arc::new(tokio::sync::Semaphore::new(PROBE_COUNTERS)),
    };

    // Client routes: uploads stream with their own per-file limits, so no whole-body limit.
    let client = Router::new()
        .route("/p/{token}", get(client::portal_page))
        .route(
            "/p/{token}/unlock",
            post(client::unlock)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
                .layer(axum::middleware::from_fn_with_state(state.clone(), form_body_deadline)),
        )
        .route("/p/{token}/files", post(client::upload).layer(DefaultBodyLimit::disable()))
        // tus: with and without the slash (clients differ), each PATCH streams like an upload.
        .route("/p/{token}/tus", post(tus::create).options(tus::options))
        .route("/p/{token}/tus/", post(tus::create).options(tus::options))
        .route(
            "/p/{token}/tus/{id}",
            axum::routing::patch(tus::append)
                .head(tus::head)
                .delete(tus::terminate)
                .get(tus::receipt)
                .options(tus::options_upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/s/{token}", get(shares::share_page))
        .route(
            "/s/{token}/unlock",
            post(shares::unlock)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
                .layer(axum::middleware::from_fn_with_state(state.clone(), form_body_deadline)),
        )
        .route("/s/{token}/files/{doc_id}", get(shares::download).head(refuse_head))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::watch_links))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit));

    let login = Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login/mfa", get(auth::mfa_page).post(auth::login_mfa))
        .route("/setup/{token}", get(auth::setup_page).post(auth::setup))
        .route("/invite/{token}", get(auth::invitation_page).post(auth::accept_invitation))
        .route("/login/passkey/start", post(passkeys::start_second_factor))
        .route("/login/passkey/finish", post(passkeys::finish_second_factor))
        .route("/login/passwordless/start", post(passkeys::start_passwordless))
        .route("/login/passwordless/finish", post(passkeys::finish_passwordless))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), form_body_deadline));

    let staff = Router::new()
        .route("/", get(staff::home))
        .route("/logout", post(auth::logout))
        .route("/account", get(account::account_page))
        .route("/account/recovery-codes", post(account::new_recovery_codes))
        .route("/account/password", post(account::change_password))
        .route("/account/language", post(account::set_language))
        .route("/account/sessions/{handle}/end", post(account::end_session))
        .route("/account/sessions/end-others", post(account::end_other_sessions))
        .route("/account/passkeys/start", post(passkeys::start_registration))
        .route("/account/passkeys/finish", post(passkeys::finish_registration))
        .route("/account/passkeys/{id}/remove", post(passkeys::remove))
        .route("/account/tokens", post(account::create_token))
        .route("/account/tokens/{id}/revoke", post(account::revoke_token))
        .route("/users", get(users::users_page))
        .route("/users/invite", post(users::invite))
        .route("/users/end-all-sessions", post(users::end_all_sessions))
        .route("/users/{id}/{action}", post(users::user_action))
        .route("/portals", get(staff::portals_page).post(staff::create_portal))
        .route("/portals/{id}", get(staff::portal_page))
        .route("/portals/{id}/download.zip", get(staff::download_all).head(refuse_head))
        .route("/portals/{id}/{action}", post(staff::portal_action))
        .route("/documents/{id}/download", get(staff::download).head(refuse_head))
        .route("/documents/{id}/delete", post(staff::delete_document))
        .route("/documents/{id}/release", post(staff::release_document))
        .route("/documents/{id}/filed", post(lifecycle::mark_filed))
        .route("/documents/{id}/hold", post(lifecycle::hold_document))
        .route("/documents/{id}/certificate", get(lifecycle::certificate_page))
        .route("/documents/{id}/certificate.json", get(lifecycle::certificate_json))
        .route("/holds", get(lifecycle::holds_page))
        .route("/holds/{id}/release", post(lifecycle::release_hold))
        .route("/matters", get(matters::matters_page).post(matters::create_matter))
        .route("/matters/{id}", get(matters::matter_page))
        .route("/matters/{id}/shares", post(matters::create_share))
        .route("/matters/{id}/{action}", post(matters::matter_action))
        .route("/shares/{id}", get(matters::share_page))
        .route("/shares/{id}/{action}", post(matters::share_action))
        .route("/access-review", get(matters::access_review_page))
        .route("/alerts", get(watch::alerts_page))
        .route("/alerts/lockdown", post(watch::lockdown))
        .route("/notifications", get(watch::notifications_page))
        .route("/notifications/read", post(watch::mark_read))
        .route("/settings/firm", get(firm::firm_page).post(firm::save_firm))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), form_body_deadline));
    let api = Router::new()
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1/me", get(api::me))
        .route("/api/v1/portals", get(api::list_portals).post(api::create_portal))
        .route("/api/v1/portals/{id}", get(api::show_portal))
        .route("/api/v1/portals/{id}/disable", post(api::disable_portal))
        .route("/api/v1/portals/{id}/enable", post(api::enable_portal))
        .route("/api/v1/portals/{id}/documents", get(api::portal_documents))
        .route("/api/v1/matters", get(api::list_matters))
        .route("/api/v1/documents/{id}", axum::routing::delete(api::delete_document))
        .route("/api/v1/documents/{id}/content", get(api::download_document).head(refuse_head))
        .route("/api/v1/documents/{id}/filed", post(api::mark_filed))
        .route("/api/v1/documents/{id}/certificate", get(api::certificate))
        .route("/api/v1/portals/{id}/filed", post(api::mark_portal_filed))
        .route("/api/v1/holds", get(api::list_holds).post(api::place_hold))
        .route("/api/v1/holds/{id}/release", post(api::release_hold))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::rate_limit))
        .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), form_body_deadline));
    // Staff uploads stream with the firm's per-file limit.
    let staff_uploads =
        Router::new().route("/matters/{id}/documents", post(matters::upload).layer(DefaultBodyLimit::disable()));

    Router::new()
        .merge(client)
        .merge(login)
        .merge(staff)
        .merge(staff_uploads)
        .merge(api)
        .route("/healthz", get(watch::healthz))
        // Browsers ask for it on every page; an empty answer keeps 404s out of their consoles.
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
        .route("/static/{file}", get(assets::serve))
        .fallback(errors::not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), errors::render_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::count_requests))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::make_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Millis)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(Duration::from_secs(60)))
        .with_state(state)
}
