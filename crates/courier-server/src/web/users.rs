//! The admin's users page: invitations, disable and enable, role changes, MFA reset, unlock,
//! ending a user's sessions. The service decides who may; this parses and renders.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::extract::{CsrfForm, Empty, Staff};
use super::staff::see_other;
use super::{AppState, duration_field};
use crate::services::users::Change;
use crate::{Error, Result};

pub async fn users_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render_users(&state, &staff, None, StatusCode::OK).await
}

async fn render_users(state: &AppState, staff: &Staff, error: Option<String>, status: StatusCode) -> Result<Response> {
    let users = staff.me.list_users().await?;
    let session = &staff.session;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "me": session.user_id(), "users": users, "error": error });
    Ok((status, state.templates.render("users.html", staff.lang, ctx)?).into_response())
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
    #[serde(default)]
    department: String,
    #[serde(default)]
    expires_in: String,
}

pub async fn invite(State(state): State<AppState>, CsrfForm { staff, form }: CsrfForm<InviteForm>) -> Result<Response> {
    let invited = async {
        let role = form.role.parse()?;
        let ttl = duration_field(&form.expires_in)?;
        staff.me.invite_user(&form.email, role, &form.department, ttl).await
    };
    match invited.await {
        Ok(invitation) => {
            let session = &staff.session;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                "invitation": invitation });
            Ok((StatusCode::CREATED, state.templates.render("invitation_link.html", staff.lang, ctx)?).into_response())
        }
        Err(Error::BadRequest(msg) | Error::Conflict(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_users(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    role: String,
}

pub async fn user_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CsrfForm { staff, form }: CsrfForm<UserActionForm>,
) -> Result<Response> {
    let me = &staff.me;
    let done = match action.as_str() {
        "disable" => me.change_user(&id, Change::Disable).await,
        "enable" => me.change_user(&id, Change::Enable).await,
        "reset-mfa" => me.change_user(&id, Change::ResetMfa).await,
        "role" => match form.role.parse() {
            Ok(role) => me.change_user(&id, Change::Role(role)).await,
            Err(e) => Err(e.into()),
        },
        "end-sessions" => me.end_user_sessions(&id).await.map(drop),
        "reset-password" => match me.password_reset_link(&id).await {
            Ok(invitation) => {
                let session = &staff.session;
                let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                    "invitation": invitation, "reset": true });
                return Ok(state.templates.render("invitation_link.html", staff.lang, ctx)?.into_response());
            }
            Err(e) => Err(e),
        },
        "unlock" => me.unlock_user(&id).await.map(drop),
        _ => return Err(Error::NotFound),
    };
    match done {
        // An admin who just took away their own access is signed out by it.
        Ok(()) if id == staff.session.user_id() && !matches!(action.as_str(), "unlock" | "reset-password") => {
            Ok(see_other("/login"))
        }
        Ok(()) => Ok(see_other("/users")),
        Err(Error::Conflict(msg) | Error::BadRequest(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_users(&state, &staff, Some(msg), StatusCode::CONFLICT).await
        }
        Err(e) => Err(e),
    }
}

/// Ends every session of every user (after a suspected compromise); the admin too.
pub async fn end_all_sessions(CsrfForm { staff, .. }: CsrfForm<Empty>) -> Result<Response> {
    staff.me.end_everyones_sessions().await?;
    Ok(see_other("/login"))
}
