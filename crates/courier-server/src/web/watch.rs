//! Watch and respond pages: the admin's alerts page with the lockdown switch, each user's
//! upload notifications, the health check, and the `/metrics` router (its own listener).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::AppState;
use super::extract::{CsrfForm, Staff};
use super::staff::see_other;
use crate::{Courier, Error, Result};

pub async fn alerts_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render_alerts(&state, &staff, None, StatusCode::OK).await
}

async fn render_alerts(state: &AppState, staff: &Staff, error: Option<String>, status: StatusCode) -> Result<Response> {
    let mut overview = staff.me.watch_overview().await?;
    // Each alert's sentence in the member's language, where it was stored as a message.
    for alert in &mut overview.alerts {
        if let Some(said) = alert.said.as_ref().filter(|_| staff.lang != courier_core::Language::En) {
            match state.templates.said(staff.lang, said) {
                Ok(text) => alert.summary = text,
                Err(e) => tracing::error!(error = %e, "an alert has no message in the page's language"),
            }
        }
    }
    let ctx = json!({ "user": staff.session.email, "csrf_token": staff.session.csrf_token, "role": staff.session.role,
        "overview": overview, "error": error });
    Ok((status, state.templates.render("alerts.html", staff.lang, ctx)?).into_response())
}

#[derive(Deserialize)]
pub struct LockdownForm {
    #[serde(default)]
    state: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// Turns the switch after the admin gives password and second factor again. Turning it on
/// ends every session, this one too: the answer goes to the sign-in page.
pub async fn lockdown(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<LockdownForm>,
) -> Result<Response> {
    // Administrators only, before anything about the form is said.
    staff.me.lockdown_status().await?;
    let on = match form.state.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(crate::error::bad_request(
                "state must be on or off",
                crate::error::said_with("staff-refused-unknown-word", "input", other)
                    .with("known", crate::error::SaidArg::Text("on, off".into())),
            ));
        }
    };
    let password = Zeroizing::new(form.password);
    match staff.me.set_lockdown_confirmed(on, &form.reason, password, &form.code).await {
        Ok(_) if on => Ok(see_other("/login")),
        Ok(_) => Ok(see_other("/alerts")),
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_alerts(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn notifications_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    let (notifications, unread) = staff.me.my_notifications().await?;
    let ctx = json!({ "user": staff.session.email, "csrf_token": staff.session.csrf_token, "role": staff.session.role,
        "notifications": notifications, "unread": unread });
    Ok(state.templates.render("notifications.html", staff.lang, ctx)?.into_response())
}

pub async fn mark_read(CsrfForm { staff, form: _ }: CsrfForm<Vec<(String, String)>>) -> Result<Response> {
    staff.me.mark_notifications_read().await?;
    Ok(see_other("/notifications"))
}

/// `200 ok` when every part answers; `503` naming the part that does not.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.courier.health().await {
        Ok(()) => "ok".into_response(),
        Err(part) => (StatusCode::SERVICE_UNAVAILABLE, format!("unhealthy: {part}\n")).into_response(),
    }
}

/// `GET /metrics` alone, for `metrics_bind`: nothing else is reachable there.
pub fn metrics_router(courier: Arc<Courier>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(courier)
}

async fn metrics(State(courier): State<Arc<Courier>>) -> Response {
    courier.refresh_gauges().await;
    let mut resp = courier.metrics().encode().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}
