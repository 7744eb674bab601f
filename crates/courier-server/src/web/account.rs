//! A staff member's own account: second factors and recovery codes, password change, and
//! their sessions (device, address, last seen) with a way to end any of them.

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::staff::{CsrfForm, check_csrf, see_other, session_cookie_name, set_cookie};
use super::{AppState, ClientIp, duration_field, field, form_pairs};
use crate::services::api_tokens::Scope;
use crate::services::sessions::StaffSession;
use crate::{Error, Result};

pub async fn account_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_session!(state, headers);
    render_account(&state, &session, ip, None, StatusCode::OK).await
}

async fn render_account(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let courier = &state.courier;
    let account = courier.my_account(&session.caller(ip.0)).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "account": account, "sessions": courier.my_sessions(session).await?,
        "tokens": courier.list_api_tokens(&session.caller(ip.0), None).await?,
        "scopes": Scope::ALL.map(Scope::as_str),
        "single_session": courier.config.single_session, "notice": courier.take_notice(session).await?,
        "error": error });
    Ok((status, state.templates.render("account.html", ctx)?).into_response())
}

/// A form that changes how the user signs in, or their sessions: CSRF token and password.
#[derive(Deserialize)]
pub struct ConfirmedForm {
    csrf_token: String,
    #[serde(default)]
    password: String,
}

/// Checks the CSRF token, then the password again (ASVS 7.5.1, 7.5.2); a wrong password
/// re-renders the account page with the reason.
async fn confirmed(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    headers: &HeaderMap,
    form: ConfirmedForm,
) -> Result<std::result::Result<(), Response>> {
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, headers)?;
    match state.courier.reauthenticate(&session.caller(ip.0), session, Zeroizing::new(form.password)).await {
        Ok(_) => Ok(Ok(())),
        Err(Error::BadRequest(msg)) => {
            Ok(Err(render_account(state, session, ip, Some(msg), StatusCode::BAD_REQUEST).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn new_recovery_codes(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<ConfirmedForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    if let Err(page) = confirmed(&state, &session, ip, &headers, form).await? {
        return Ok(page);
    }
    let codes = state.courier.regenerate_recovery_codes(&session.caller(ip.0)).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "codes": codes, "continue": "/account" });
    Ok(state.templates.render("recovery_codes.html", ctx)?.into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    password_again: String,
    csrf_token: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let courier = &state.courier;
    check_csrf(courier, &session.csrf_token, &form.csrf_token, &headers)?;
    if form.password != form.password_again {
        let msg = Some("The two new passwords differ.".to_owned());
        return render_account(&state, &session, ip, msg, StatusCode::BAD_REQUEST).await;
    }
    let (current, new) = (Zeroizing::new(form.current), Zeroizing::new(form.password));
    match courier.change_password(&session.caller(ip.0), &session, current, new).await {
        Ok(fresh) => {
            let mut resp = see_other("/account");
            set_cookie(&mut resp, courier, &session_cookie_name(courier), fresh.expose(), None);
            Ok(resp)
        }
        Err(Error::BadRequest(msg)) => render_account(&state, &session, ip, Some(msg), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(e),
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<ConfirmedForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    if let Err(page) = confirmed(&state, &session, ip, &headers, form).await? {
        return Ok(page);
    }
    state.courier.end_my_session(&session.caller(ip.0), &handle).await?;
    Ok(see_other("/account"))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<ConfirmedForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    if let Err(page) = confirmed(&state, &session, ip, &headers, form).await? {
        return Ok(page);
    }
    state.courier.end_other_sessions(&session.caller(ip.0), &session).await?;
    Ok(see_other("/account"))
}

/// Makes a personal API token (name, scopes, lifetime) and shows it once.
pub async fn create_token(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    let pairs = form_pairs(&body);
    let confirm = ConfirmedForm { csrf_token: field(&pairs, "csrf_token"), password: field(&pairs, "password") };
    if let Err(page) = confirmed(&state, &session, ip, &headers, confirm).await? {
        return Ok(page);
    }
    let made = async {
        let scopes =
            pairs.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.parse()).collect::<Result<Vec<Scope>>>()?;
        let ttl = duration_field(&field(&pairs, "expires_in"))?;
        let caller = session.caller(ip.0);
        state.courier.create_api_token(&caller, &session.user_id, &field(&pairs, "name"), &scopes, ttl).await
    };
    match made.await {
        Ok(token) => {
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                "api_token": token });
            Ok((StatusCode::CREATED, state.templates.render("api_token.html", ctx)?).into_response())
        }
        Err(Error::BadRequest(msg)) => render_account(&state, &session, ip, Some(msg), StatusCode::BAD_REQUEST).await,
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    state.courier.revoke_api_token(&session.caller(ip.0), &id).await?;
    Ok(see_other("/account"))
}
