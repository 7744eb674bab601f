//! Cross-cutting HTTP concerns: security headers, tracing spans, the client address, and the
//! per-address rate limit on client links and sign-in.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::AppState;
use crate::Error;

const CSP: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// HSTS for a year, on answers that went out over TLS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Headers every response carries. Nothing Courier serves may be cached by a shared cache or
/// leak its URL (which holds a link token) through `Referer`. HSTS goes on answers that went
/// out over TLS: Courier's own, or a trusted proxy's that says `X-Forwarded-Proto: https`.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let config = state.courier.config();
    let over_tls = config.tls() || forwarded_https(&req, &config.trusted_proxy);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set a stricter policy of its own (the firm's SVG logo).
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    h.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if over_tls {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    resp
}

/// `X-Forwarded-Proto: https` from a trusted proxy (from anyone else it is ignored).
fn forwarded_https(req: &Request, trusted: &[IpAddr]) -> bool {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let proto = req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok());
    peer.is_some_and(|p| trusted.contains(&p))
        && proto.and_then(|p| p.rsplit(',').next()).is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Spans carry the request id and the route template, never the raw path: a raw `/p/…` path
/// holds a link token.
pub fn make_span(req: &Request) -> tracing::Span {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", method = method_label(req.method()), route = %route, request_id = %request_id)
}

/// The client's address: the peer, or, when the peer is a configured trusted proxy, the
/// right-most address in `X-Forwarded-For` that the proxy appended.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, &state.courier.config().trusted_proxy)))
    }
}

fn client_ip(parts: &Parts, trusted: &[IpAddr]) -> Option<IpAddr> {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())?;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    forwarded.and_then(|f| f.rsplit(',').next()).and_then(|ip| ip.trim().parse().ok()).or(Some(peer))
}

/// Requests per minute per client address. Per instance: several instances behind a load
/// balancer each allow this many.
/// Keyed by `inflight::address_key`: an IPv6 client counts by its /64, or one host with a
/// /64 of its own would have 2^64 budgets.
pub struct RateLimiter(DefaultKeyedRateLimiter<String>);

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN));
        Self(DefaultKeyedRateLimiter::keyed(quota))
    }
}

/// Client and share links during a lockdown: the uniform "not found", before any handler runs.
/// Otherwise, every "not found" a link answers is counted against the asking address for the
/// `link_probing` alert (at most `PROBE_COUNTERS` counted at once; past that, under a flood,
/// the rate limit is what holds, and the answer never waits).
pub async fn watch_links(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let courier = &state.courier;
    match courier.locked_down().await {
        Ok(false) => {}
        Ok(true) => {
            courier.metrics().refused("lockdown");
            return Error::LinkNotFound.into_response();
        }
        // The switch cannot be read: no link is served (503, as for any database outage).
        Err(e) => return e.into_response(),
    }
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &courier.config().trusted_proxy);
    let resp = next.run(Request::from_parts(parts, body)).await;
    if !super::errors::is_link_not_found(&resp) {
        return resp;
    }
    courier.metrics().refused("link_not_found");
    if let (Some(ip), Ok(permit)) = (ip, state.probe_counters.clone().try_acquire_owned()) {
        let courier = courier.clone();
        // Counted beside the answer, which must not wait for (or time) the database.
        tokio::spawn(async move {
            if let Err(e) = courier.note_refused_link(ip).await {
                tracing::warn!(error = %e, detail = e.internal_detail(), "could not count a refused link");
            }
            drop(permit);
        });
    }
    resp
}

/// A method as a label: the standard ones, else `other`. A client may send any token as a
/// method, and each distinct label would be a series kept for ever.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Requests by route template and status, for `/metrics`.
/// The route is written `/p/:token` rather than `/p/{token}`: braces inside label values
/// trip simple exposition parsers (and `prometheus-parse`, which the tests use).
pub async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().replace('{', ":").replace('}', ""))
        .unwrap_or_else(|| "unmatched".into());
    let method = method_label(req.method()).to_owned();
    let resp = next.run(req).await;
    let labels = crate::metrics::RequestLabels { method, route, status: resp.status().as_u16().to_string() };
    state.courier.metrics().requests.get_or_create(&labels).inc();
    resp
}

pub async fn rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let ip = client_ip(&parts, &state.courier.config().trusted_proxy);
    if let Some(ip) = ip {
        if state.limiter.0.check_key(&crate::services::inflight::address_key(ip)).is_err() {
            tracing::warn!("rate limit exceeded");
            state.courier.metrics().refused("rate_limited");
            return Error::RateLimited.into_response();
        }
        if state.limiter.0.len() > 100_000 {
            state.limiter.0.retain_recent();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}
