//! Passkey ceremonies for the browser (`/static/passkeys.js` drives them with
//! `navigator.credentials`): registering one on the account page, using one as the second
//! factor, and the passwordless sign-in where the firm allows it. JSON in and out; the CSRF
//! token travels in the `x-csrf-token` header.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{PublicKeyCredential, RegisterPublicKeyCredential};
use zeroize::Zeroizing;

use super::auth::{LOGIN_COOKIE, login_csrf, origin};
use super::extract::{CsrfForm, Staff};
use super::staff::{check_csrf, cookie_name, see_other, session_cookie_name, set_cookie};
use super::{AppState, ClientIp, cookie};
use crate::services::sessions::StaffSession;
use crate::{Error, Result};

fn csrf_header(headers: &HeaderMap) -> &str {
    headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// The session half-way through sign-in, with its cookie value, CSRF-checked.
async fn pending(state: &AppState, headers: &HeaderMap) -> Result<(String, StaffSession)> {
    let (id, s) = super::auth::pending(state, headers).await?.ok_or(Error::Unauthenticated)?;
    check_csrf(&state.courier, &s.csrf_token, csrf_header(headers), headers)?;
    Ok((id, s))
}

/// The pre-login cookie of the login page, CSRF-checked (passwordless sign-in).
fn pre_login(state: &AppState, headers: &HeaderMap) -> Result<String> {
    let pre = cookie(headers, &cookie_name(&state.courier, LOGIN_COOKIE)).ok_or(Error::Forbidden)?;
    check_csrf(&state.courier, &login_csrf(&state.courier, &pre), csrf_header(headers), headers)?;
    Ok(pre)
}

/// A JSON answer that also sets the new session cookie, and says where to go next.
fn signed_in_answer(state: &AppState, fresh: &courier_crypto::token::Token) -> Response {
    let mut resp = Json(json!({ "redirect": "/" })).into_response();
    set_cookie(&mut resp, &state.courier, &session_cookie_name(&state.courier), fresh.expose(), None);
    resp
}

#[derive(Deserialize)]
pub struct Confirm {
    #[serde(default)]
    password: String,
}

/// Registration starts only with the password given again (ASVS 7.5.1).
pub async fn start_registration(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Confirm>,
) -> Result<Response> {
    let me = Staff::from_json_call(&state, &headers, ip).await?.me;
    me.reauthenticate(Zeroizing::new(body.password)).await?;
    Ok(Json(me.start_passkey_registration().await?).into_response())
}

#[derive(Deserialize)]
pub struct Registration {
    name: String,
    credential: RegisterPublicKeyCredential,
}

pub async fn finish_registration(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Registration>,
) -> Result<Response> {
    let me = Staff::from_json_call(&state, &headers, ip).await?.me;
    let added = me.finish_passkey_registration(&body.name, &body.credential).await?;
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    password: String,
}

pub async fn remove(Path(id): Path<String>, CsrfForm { staff, form }: CsrfForm<RemoveForm>) -> Result<Response> {
    staff.me.reauthenticate(Zeroizing::new(form.password)).await?;
    staff.me.remove_passkey(&id).await?;
    Ok(see_other("/account"))
}

pub async fn start_second_factor(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let (id, _) = pending(&state, &headers).await?;
    Ok(Json(state.courier.start_passkey_second_factor(&id).await?).into_response())
}

#[derive(Deserialize)]
pub struct Assertion {
    credential: PublicKeyCredential,
}

pub async fn finish_second_factor(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Assertion>,
) -> Result<Response> {
    let (id, _) = pending(&state, &headers).await?;
    let fresh = state.courier.finish_passkey_second_factor(ip.0, &id, &body.credential).await?;
    Ok(signed_in_answer(&state, &fresh))
}

#[derive(Deserialize)]
pub struct PasswordlessStart {
    email: String,
}

pub async fn start_passwordless(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<PasswordlessStart>,
) -> Result<Response> {
    let pre = pre_login(&state, &headers)?;
    Ok(Json(state.courier.start_passwordless(&pre, &body.email).await?).into_response())
}

pub async fn finish_passwordless(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Json(body): Json<Assertion>,
) -> Result<Response> {
    let pre = pre_login(&state, &headers)?;
    let fresh = state.courier.finish_passwordless(&origin(&ip, &headers), &pre, &body.credential).await?;
    let mut resp = signed_in_answer(&state, &fresh);
    // The pre-login cookie has done its job.
    set_cookie(&mut resp, &state.courier, &cookie_name(&state.courier, LOGIN_COOKIE), "", Some(0));
    resp.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(resp)
}
