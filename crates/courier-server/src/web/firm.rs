//! The firm settings page (administrators): the name, colour, contact line, time zone and logo
//! clients see, as the setup page first set them. Settings the configuration gives are shown
//! and cannot be changed here (they would win anyway).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::auth::{SetupForm, ZONES};
use super::extract::Staff;
use super::staff::{check_csrf, see_other};
use crate::services::branding::MAX_LOGO;
use crate::services::firm::LogoChange;
use crate::{Error, Result};

pub async fn firm_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    render(&state, &staff, None, None, StatusCode::OK).await
}

/// The page, with what was typed (`given`) and why it was refused when a save failed.
async fn render(
    state: &AppState,
    staff: &Staff,
    given: Option<&SetupForm>,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let current = staff.me.firm_profile().await?;
    let profile = match given {
        Some(f) => json!({ "firm_name": f.firm_name, "brand_color": f.brand_color,
            "client_contact": f.client_contact, "timezone": f.timezone }),
        None => json!({ "firm_name": current.firm_name, "brand_color": current.brand_color,
            "client_contact": current.client_contact, "timezone": current.timezone }),
    };
    let ctx = json!({ "user": staff.session.email, "csrf_token": staff.session.csrf_token, "role": staff.session.role,
        "profile": profile, "has_logo": current.has_logo, "configured": current.configured, "zones": ZONES,
        "logo_max": crate::i18n::size_in(staff.lang, MAX_LOGO), "error": error });
    Ok((status, state.templates.render("firm.html", staff.lang, ctx)?).into_response())
}

pub async fn save_firm(
    State(state): State<AppState>,
    staff: Staff,
    request: axum::extract::Request,
) -> Result<Response> {
    // Administrators only, before the body is read.
    staff.me.firm_profile().await?;
    let headers = request.headers().clone();
    let form = SetupForm::read(&state.courier, request).await?;
    check_csrf(&state.courier, &staff.session.csrf_token, &form.csrf_token, &headers)?;
    let logo = match (form.logo.is_empty(), form.remove_logo.as_str()) {
        (false, _) => LogoChange::Replace(form.logo.clone()),
        (true, "on" | "1" | "yes") => LogoChange::Remove,
        _ => LogoChange::Keep,
    };
    let given = courier_store::firm_profile::FirmProfile {
        firm_name: Some(form.firm_name.clone()),
        brand_color: Some(form.brand_color.clone()),
        client_contact: Some(form.client_contact.clone()),
        timezone: Some(form.timezone.clone()),
        logo: None,
    };
    match staff.me.set_firm_profile(&given, logo).await {
        Ok(()) => Ok(see_other("/settings/firm")),
        Err(Error::BadRequest(why)) => {
            let msg = state.templates.reason(staff.lang, &why);
            render(&state, &staff, Some(&form), Some(msg), StatusCode::BAD_REQUEST).await
        }
        Err(e) => Err(e),
    }
}
