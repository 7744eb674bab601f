//! The admin's users page: invitations, disable and enable, role changes, MFA reset, unlock,
//! ending a user's sessions. The service decides who may; this parses and renders.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::staff::{check_csrf, see_other};
use super::{AppState, ClientIp, duration_field};
use crate::services::sessions::StaffSession;
use crate::services::users::Change;
use crate::{Error, Result};

pub async fn users_page(State(state): State<AppState>, ip: ClientIp, headers: HeaderMap) -> Result<Response> {
    let session = staff_session!(state, headers);
    render_users(&state, &session, ip, None, StatusCode::OK).await
}

async fn render_users(
    state: &AppState,
    session: &StaffSession,
    ip: ClientIp,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let users = state.courier.list_users(&session.caller(ip.0)).await?;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "me": session.user_id, "users": users, "error": error });
    Ok((status, state.templates.render("users.html", ctx)?).into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    expires_in: String,
    csrf_token: String,
}

pub async fn invite(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<InviteForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let invited = async {
        let role = form.role.parse()?;
        let ttl = duration_field(&form.expires_in)?;
        state.courier.invite_user(&session.caller(ip.0), &form.email, role, &form.department, ttl).await
    };
    match invited.await {
        Ok(invitation) => {
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                "invitation": invitation });
            Ok((StatusCode::CREATED, state.templates.render("invitation_link.html", ctx)?).into_response())
        }
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            render_users(&state, &session, ip, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    csrf_token: String,
    #[serde(default)]
    role: String,
}

pub async fn user_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<UserActionForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    let courier = &state.courier;
    let caller = session.caller(ip.0);
    let done = match action.as_str() {
        "disable" => courier.change_user(&caller, &id, Change::Disable).await,
        "enable" => courier.change_user(&caller, &id, Change::Enable).await,
        "reset-mfa" => courier.change_user(&caller, &id, Change::ResetMfa).await,
        "role" => match form.role.parse() {
            Ok(role) => courier.change_user(&caller, &id, Change::Role(role)).await,
            Err(e) => Err(e),
        },
        "end-sessions" => courier.end_user_sessions(&caller, &id).await.map(drop),
        "reset-password" => match courier.password_reset_link(&caller, &id).await {
            Ok(invitation) => {
                let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                    "invitation": invitation, "reset": true });
                return Ok(state.templates.render("invitation_link.html", ctx)?.into_response());
            }
            Err(e) => Err(e),
        },
        "unlock" => match courier.user(&id).await {
            Ok(user) => courier.unlock_account(&caller, &user.email).await.map(drop),
            Err(e) => Err(e),
        },
        _ => return Err(Error::NotFound),
    };
    match done {
        // An admin who just took away their own access is signed out by it.
        Ok(()) if id == session.user_id && !matches!(action.as_str(), "unlock" | "reset-password") => {
            Ok(see_other("/login"))
        }
        Ok(()) => Ok(see_other("/users")),
        Err(Error::Conflict(msg) | Error::BadRequest(msg)) => {
            render_users(&state, &session, ip, Some(msg), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

/// Ends every session of every user (after a suspected compromise); the admin too.
pub async fn end_all_sessions(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<UserActionForm>,
) -> Result<Response> {
    let session = staff_session!(state, headers);
    check_csrf(&state.courier, &session.csrf_token, &form.csrf_token, &headers)?;
    state.courier.end_everyones_sessions(&session.caller(ip.0)).await?;
    Ok(see_other("/login"))
}
