//! A staff member's own account: second factors and recovery codes, password change, and
//! their sessions (device, address, last seen) with a way to end any of them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::extract::{CsrfForm, Empty, Staff};
use super::staff::{see_other, session_cookie_name, set_cookie};
use super::{AppState, duration_field, field};
use crate::services::api_tokens::Scope;
use crate::{Error, Result};

pub async fn account_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render_account(&state, &staff, None, StatusCode::OK).await
}

async fn render_account(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let (me, session) = (&staff.me, &staff.session);
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "account": me.my_account().await?, "sessions": me.my_sessions().await?,
        "tokens": me.list_api_tokens(None).await?,
        "scopes": Scope::ALL.map(Scope::as_str),
        "single_session": state.courier.config().single_session,
        "notice": me.take_notice().await?.map(|n| state.templates.notice(staff.lang, &n)),
        "error": error });
    Ok((status, state.templates.render("account.html", staff.lang, ctx)?).into_response())
}

/// A form that changes how the user signs in, or their sessions: the password again.
#[derive(Deserialize)]
pub struct ConfirmedForm {
    #[serde(default)]
    password: String,
}

/// Asks for the password again (ASVS 7.5.1, 7.5.2); a wrong password re-renders the account
/// page with the reason.
async fn confirmed(state: &AppState, staff: &Staff, password: String) -> Result<std::result::Result<(), Response>> {
    match staff.me.reauthenticate(Zeroizing::new(password)).await {
        Ok(_) => Ok(Ok(())),
        Err(Error::BadRequest(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            Ok(Err(render_account(state, staff, Some(msg), StatusCode::BAD_REQUEST).await?))
        }
        Err(e) => Err(e),
    }
}

pub async fn new_recovery_codes(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<ConfirmedForm>,
) -> Result<Response> {
    if let Err(page) = confirmed(&state, &staff, form.password).await? {
        return Ok(page);
    }
    let codes = staff.me.regenerate_recovery_codes().await?;
    let session = &staff.session;
    let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
        "codes": codes, "continue": "/account" });
    Ok(state.templates.render("recovery_codes.html", staff.lang, ctx)?.into_response())
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    language: String,
}

/// The language of the member's own pages: `en`, `fr`, or empty for the browser's.
pub async fn set_language(
    State(_): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<LanguageForm>,
) -> Result<Response> {
    let language = match form.language.trim() {
        "" => None,
        other => Some(other.parse::<courier_core::Language>().map_err(|_| {
            let known = courier_core::Language::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ");
            crate::error::bad_request(
                format!("unknown language {other:?}; choose one of: {known}"),
                crate::error::said_with("staff-refused-unknown-word", "input", other)
                    .with("known", crate::error::SaidArg::Text(known)),
            )
        })?),
    };
    staff.me.set_my_language(language).await?;
    Ok(see_other("/account"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    password_again: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<PasswordForm>,
) -> Result<Response> {
    let courier = &state.courier;
    if form.password != form.password_again {
        let msg = Some(state.templates.say(staff.lang, "staff-passwords-differ"));
        return render_account(&state, &staff, msg, StatusCode::BAD_REQUEST).await;
    }
    let (current, new) = (Zeroizing::new(form.current), Zeroizing::new(form.password));
    match staff.me.change_password(current, new).await {
        Ok(fresh) => {
            let mut resp = see_other("/account");
            set_cookie(&mut resp, courier, &session_cookie_name(courier), fresh.expose(), None);
            Ok(resp)
        }
        Err(Error::BadRequest(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_account(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn end_session(
    State(state): State<AppState>,
    Path(handle): Path<String>,
    CsrfForm { staff, form }: CsrfForm<ConfirmedForm>,
) -> Result<Response> {
    if let Err(page) = confirmed(&state, &staff, form.password).await? {
        return Ok(page);
    }
    staff.me.end_my_session(&handle).await?;
    Ok(see_other("/account"))
}

pub async fn end_other_sessions(
    State(state): State<AppState>,
    CsrfForm { staff, form }: CsrfForm<ConfirmedForm>,
) -> Result<Response> {
    if let Err(page) = confirmed(&state, &staff, form.password).await? {
        return Ok(page);
    }
    staff.me.end_other_sessions().await?;
    Ok(see_other("/account"))
}

/// Makes a personal API token (name, scopes, lifetime) and shows it once.
pub async fn create_token(
    State(state): State<AppState>,
    CsrfForm { staff, form: pairs }: CsrfForm<Vec<(String, String)>>,
) -> Result<Response> {
    if let Err(page) = confirmed(&state, &staff, field(&pairs, "password")).await? {
        return Ok(page);
    }
    let made = async {
        let scopes =
            pairs.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.parse()).collect::<Result<Vec<Scope>>>()?;
        let ttl = duration_field(&field(&pairs, "expires_in"))?;
        staff.me.create_api_token(staff.session.user_id(), &field(&pairs, "name"), &scopes, ttl).await
    };
    match made.await {
        Ok(token) => {
            let session = &staff.session;
            let ctx = json!({ "user": session.email, "csrf_token": session.csrf_token, "role": session.role,
                "api_token": token });
            Ok((StatusCode::CREATED, state.templates.render("api_token.html", staff.lang, ctx)?).into_response())
        }
        Err(Error::BadRequest(msg)) => {
            let msg = state.templates.reason(staff.lang, &msg);
            render_account(&state, &staff, Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}

pub async fn revoke_token(Path(id): Path<String>, CsrfForm { staff, .. }: CsrfForm<Empty>) -> Result<Response> {
    staff.me.revoke_api_token(&id).await?;
    Ok(see_other("/account"))
}
