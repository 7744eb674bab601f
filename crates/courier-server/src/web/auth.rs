//! Signing in and becoming a user: the login form (password, then a TOTP or recovery code),
//! authenticator enrolment, logout, the first admin's setup link and invitation links.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use courier_core::Language;
use courier_crypto::token::Token;
use serde::Deserialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::extract::{BrowserLanguage, CsrfForm, Empty};
use super::staff::{check_csrf, cookie_name, see_other, session_cookie_name, set_cookie};
use super::{AppState, ClientIp, cookie};
use crate::error::{Reason, Said, bad_request, said_with};
use crate::services::LinkForm;
use crate::services::branding::MAX_LOGO;
use crate::services::sessions::{Origin, StaffSession};
use crate::{Courier, Error, Result};

pub(super) const LOGIN_COOKIE: &str = "courier_login";

pub(super) fn login_csrf(courier: &Courier, pre_session: &str) -> String {
    courier.login_csrf(pre_session)
}

/// A one-time link's form token, bound to the link.
fn link_csrf(courier: &Courier, form: LinkForm, token: &str) -> String {
    courier.link_csrf(form, token)
}

pub(super) fn origin(ip: &ClientIp, headers: &HeaderMap) -> Origin {
    Origin::new(ip.0, headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()))
}

pub(super) fn qr_svg(uri: &str) -> Result<String> {
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| Error::internal("qr", e))?;
    Ok(qr.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build())
}

pub async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    render_login(&state, &headers, None, StatusCode::OK).await
}

async fn render_login(
    state: &AppState,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response> {
    let courier = &state.courier;
    // Said before anyone types a password: during a lockdown only administrators sign in.
    let locked_down = courier.locked_down().await?;
    let existing = cookie(headers, &cookie_name(courier, LOGIN_COOKIE)).filter(|c| Token::parse(c).is_some());
    let pre = match existing {
        Some(c) => c,
        None => Token::generate()?.expose().to_owned(),
    };
    let html = state.templates.render(
        "login.html",
        page_language(headers, None),
        json!({ "firm": courier.firm_name(), "csrf_token": login_csrf(courier, &pre), "error": error,
            "passwordless": courier.config().passwordless_passkeys && courier.passkeys_enabled(),
            "locked_down": locked_down }),
    )?;
    let mut resp = (status, html).into_response();
    set_cookie(&mut resp, courier, &cookie_name(courier, LOGIN_COOKIE), &pre, Some(3600));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    csrf_token: String,
}

pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let pre = cookie(&headers, &cookie_name(courier, LOGIN_COOKIE)).unwrap_or_default();
    check_csrf(courier, &login_csrf(courier, &pre), &form.csrf_token, &headers)?;
    match courier.login_password(&origin(&ip, &headers), &form.email, Zeroizing::new(form.password)).await {
        Ok(session) => {
            let mut resp = see_other("/login/mfa");
            set_cookie(&mut resp, courier, &session_cookie_name(courier), session.expose(), None);
            Ok(resp)
        }
        Err(Error::Unauthenticated) => {
            let msg = state.templates.say(page_language(&headers, None), "staff-login-wrong");
            render_login(&state, &headers, Some(&msg), StatusCode::UNAUTHORIZED).await
        }
        Err(Error::Locked(why)) => {
            let msg = state.templates.reason(page_language(&headers, None), &why);
            render_login(&state, &headers, Some(&msg), StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(e) => Err(e),
    }
}

/// The language of a page on the way to signing in: the one the member chose, once the
/// password has named them; else their browser's.
fn page_language(headers: &HeaderMap, session: Option<&StaffSession>) -> Language {
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    crate::i18n::for_staff(session.and_then(|s| s.language), accept)
}

/// The session half-way through signing in, with its cookie value.
pub(super) async fn pending(state: &AppState, headers: &HeaderMap) -> Result<Option<(String, StaffSession)>> {
    let Some(id) = cookie(headers, &session_cookie_name(&state.courier)) else {
        return Ok(None);
    };
    Ok(state.courier.session(&id).await?.filter(|s| s.awaiting_mfa()).map(|s| (id, s)))
}

pub async fn mfa_page(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let Some((id, session)) = pending(&state, &headers).await? else {
        return Ok(see_other("/login"));
    };
    if session.must_enrol {
        return render_enrolment(&state, &headers, &id, &session, None, StatusCode::OK).await;
    }
    let has_passkey = state.courier.has_passkey(&session).await?;
    let ctx = json!({ "csrf_token": session.csrf_token, "error": null, "has_passkey": has_passkey });
    Ok(state.templates.render("login_mfa.html", page_language(&headers, Some(&session)), ctx)?.into_response())
}

/// Offers a new authenticator secret (as a QR code and as text) and asks for a code from it.
async fn render_enrolment(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    session: &StaffSession,
    error: Option<&str>,
    status: StatusCode,
) -> Result<Response> {
    let offer = state.courier.offer_enrolment(id).await?;
    let ctx = json!({ "csrf_token": session.csrf_token, "email": session.email, "totp_secret": offer.totp_secret,
        "qr_svg": qr_svg(&offer.otpauth_uri)?, "error": error });
    Ok((status, state.templates.render("enrol.html", page_language(headers, Some(session)), ctx)?).into_response())
}

#[derive(Deserialize)]
pub struct MfaForm {
    code: String,
    csrf_token: String,
}

pub async fn login_mfa(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<MfaForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let Some((id, pending)) = pending(&state, &headers).await? else {
        return Ok(see_other("/login"));
    };
    check_csrf(courier, &pending.csrf_token, &form.csrf_token, &headers)?;
    if pending.must_enrol {
        return enrol(&state, &headers, ip, &id, &pending, &form.code).await;
    }
    let has_passkey = courier.has_passkey(&pending).await?;
    let lang = page_language(&headers, Some(&pending));
    let retry = |status: StatusCode, msg: &str| -> Result<Response> {
        let ctx = json!({ "csrf_token": pending.csrf_token, "error": msg, "has_passkey": has_passkey });
        Ok((status, state.templates.render("login_mfa.html", lang, ctx)?).into_response())
    };
    match courier.login_second_factor(ip.0, &id, &form.code).await {
        Ok(fresh) => {
            let mut resp = see_other("/");
            set_cookie(&mut resp, courier, &session_cookie_name(courier), fresh.expose(), None);
            Ok(resp)
        }
        Err(Error::Unauthenticated) => retry(StatusCode::UNAUTHORIZED, &state.templates.say(lang, "staff-mfa-wrong")),
        Err(Error::Locked(why)) => retry(StatusCode::TOO_MANY_REQUESTS, &state.templates.reason(lang, &why)),
        Err(e) => Err(e),
    }
}

/// Confirms enrolment with a code from the new authenticator, then shows the recovery codes.
async fn enrol(
    state: &AppState,
    headers: &HeaderMap,
    ip: ClientIp,
    id: &str,
    pending: &StaffSession,
    code: &str,
) -> Result<Response> {
    let courier = &state.courier;
    let lang = page_language(headers, Some(pending));
    match courier.complete_enrolment(ip.0, id, code).await {
        Ok((fresh, codes)) => {
            let ctx = json!({ "codes": codes, "continue": "/" });
            let mut resp = state.templates.render("recovery_codes.html", lang, ctx)?.into_response();
            set_cookie(&mut resp, courier, &session_cookie_name(courier), fresh.expose(), None);
            Ok(resp)
        }
        Err(Error::Unauthenticated) => {
            let msg = state.templates.say(lang, "staff-enrol-wrong");
            render_enrolment(state, headers, id, pending, Some(&msg), StatusCode::UNAUTHORIZED).await
        }
        Err(e) => Err(e),
    }
}

pub async fn logout(State(state): State<AppState>, CsrfForm { staff, .. }: CsrfForm<Empty>) -> Result<Response> {
    let courier = &state.courier;
    staff.me.logout().await?;
    let mut resp = see_other("/login");
    set_cookie(&mut resp, courier, &session_cookie_name(courier), "", Some(0));
    Ok(resp)
}

pub async fn setup_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Result<Response> {
    if !state.courier.setup_link_valid(&token).await? {
        return Err(Error::LinkNotFound);
    }
    let csrf = link_csrf(&state.courier, LinkForm::Setup, &token);
    Ok(state
        .templates
        .render(
            "setup.html",
            lang,
            json!({ "firm": state.courier.firm_name(), "csrf_token": csrf, "error": null, "email": "",
                "profile": current_profile(&state.courier), "zones": ZONES, "configured": configured(&state.courier),
                "logo_max": crate::i18n::size_in(lang, MAX_LOGO) }),
        )?
        .into_response())
}

/// Time zones offered on the setup page (any IANA name may be typed).
pub(super) const ZONES: &[&str] = &[
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Luxembourg",
    "Europe/Zurich",
    "Europe/London",
    "America/Montreal",
    "America/New_York",
    "UTC",
];

/// The brand as it is, to fill the setup form.
fn current_profile(courier: &crate::services::Courier) -> serde_json::Value {
    let b = courier.branding();
    json!({ "firm_name": b.firm_name, "brand_color": b.color, "client_contact": b.contact, "timezone": b.zone_name })
}

fn setup_profile(form: &SetupForm) -> serde_json::Value {
    json!({ "firm_name": form.firm_name, "brand_color": form.brand_color, "client_contact": form.client_contact,
        "timezone": form.timezone })
}

/// The brand settings the configuration gives (they win over the form: said on the page).
fn configured(courier: &crate::services::Courier) -> Vec<&'static str> {
    courier.configured_brand_settings()
}

/// The setup form, and (without the account fields) the firm settings form.
#[derive(Deserialize, Default)]
pub struct SetupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_again: String,
    pub(super) csrf_token: String,
    // The firm as its clients see it (all optional).
    #[serde(default)]
    pub(super) firm_name: String,
    #[serde(default)]
    pub(super) brand_color: String,
    #[serde(default)]
    pub(super) client_contact: String,
    #[serde(default)]
    pub(super) timezone: String,
    /// The logo file (a form sent as `multipart/form-data` only).
    #[serde(skip)]
    pub(super) logo: Vec<u8>,
    /// The settings form's "remove the logo" box.
    #[serde(default)]
    pub(super) remove_logo: String,
}

impl SetupForm {
    /// The form as the page sends it (`multipart/form-data`, for the logo) or URL-encoded (a
    /// script's or an older page's, without a logo). Text fields are bounded by the multipart
    /// reader; a logo past the largest accepted is refused at once (413), the rest of the body
    /// unread, and a field given twice is refused as the URL-encoded form refuses it.
    pub(super) async fn read(courier: &Courier, request: axum::extract::Request) -> Result<Self> {
        let (parts, body) = request.into_parts();
        let multipart = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
        if !multipart {
            let bytes = axum::body::to_bytes(body, SETUP_FORM_BYTES).await.map_err(|_| {
                Error::PayloadTooLarge(Reason::said("the setup form is too large", Said::new("refusal-malformed")))
            })?;
            return serde_urlencoded::from_bytes(&bytes).map_err(|_| {
                bad_request("the setup form is incomplete or malformed", Said::new("refusal-form-malformed"))
            });
        }
        let mut body =
            super::upload::UploadBody::new(&parts.headers, body, SETUP_FORM_PARTS, super::upload_rate(courier))?;
        let mut form = Self::default();
        let mut seen = std::collections::HashSet::new();
        while let Some(part) = body.next_part().await? {
            let Some(name) = part.name().map(str::to_owned) else {
                part.skip().await?;
                continue;
            };
            if !seen.insert(name.clone()) {
                return Err(bad_request(
                    format!("the setup form gives {name:?} twice"),
                    said_with("staff-refused-field-twice", "name", &name),
                ));
            }
            if name == "firm_logo" {
                form.logo = part.bytes_up_to(MAX_LOGO as usize).await?;
                if form.logo.len() as u64 > MAX_LOGO {
                    let too_large = crate::services::branding::logo_type(&form.logo).err();
                    return Err(Error::PayloadTooLarge(too_large.unwrap_or_else(|| "the logo is too large".into())));
                }
                continue;
            }
            let value = part.text().await?;
            match name.as_str() {
                "email" => form.email = value,
                "password" => form.password = value,
                "password_again" => form.password_again = value,
                "csrf_token" => form.csrf_token = value,
                "firm_name" => form.firm_name = value,
                "brand_color" => form.brand_color = value,
                "client_contact" => form.client_contact = value,
                "timezone" => form.timezone = value,
                "remove_logo" => form.remove_logo = value,
                _ => {}
            }
        }
        Ok(form)
    }
}

/// The largest URL-encoded setup form (a few short fields).
const SETUP_FORM_BYTES: usize = 64 * 1024;
/// Parts of a multipart setup form: its ten fields and a few a browser or script may add.
const SETUP_FORM_PARTS: usize = 16;

pub async fn setup(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    request: axum::extract::Request,
) -> Result<Response> {
    let courier = &state.courier;
    // An unknown or used link reads no body.
    if !courier.setup_link_valid(&token).await? {
        return Err(Error::LinkNotFound);
    }
    let headers = request.headers().clone();
    let form = SetupForm::read(courier, request).await?;
    let lang = page_language(&headers, None);
    let csrf = link_csrf(courier, LinkForm::Setup, &token);
    check_csrf(courier, &csrf, &form.csrf_token, &headers)?;
    let profile = courier_store::firm_profile::FirmProfile {
        firm_name: Some(form.firm_name.clone()),
        brand_color: Some(form.brand_color.clone()),
        client_contact: Some(form.client_contact.clone()),
        timezone: Some(form.timezone.clone()),
        logo: Some(form.logo.clone()),
    };
    // What was typed comes back with the error (never the passwords; a file cannot be).
    let retry = |msg: String| -> Result<Response> {
        let ctx = json!({ "firm": courier.firm_name(), "csrf_token": csrf, "error": msg, "email": form.email,
            "profile": setup_profile(&form), "zones": ZONES, "configured": configured(courier), "logo_max": crate::i18n::size_in(lang, MAX_LOGO) });
        Ok((StatusCode::BAD_REQUEST, state.templates.render("setup.html", lang, ctx)?).into_response())
    };
    if form.password != form.password_again {
        return retry(state.templates.say(lang, "staff-passwords-differ"));
    }
    let password = Zeroizing::new(form.password.clone());
    match courier.complete_setup(ip.0, &token, &form.email, password, &profile).await {
        Ok(enrolment) => {
            let ctx = json!({ "email": enrolment.email, "totp_secret": enrolment.totp_secret,
                "qr_svg": qr_svg(&enrolment.otpauth_uri)?, "codes": enrolment.recovery_codes });
            Ok(state.templates.render("setup_done.html", lang, ctx)?.into_response())
        }
        Err(Error::BadRequest(msg)) => retry(state.templates.reason(lang, &msg)),
        Err(e) => Err(e),
    }
}

pub async fn invitation_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    BrowserLanguage(lang): BrowserLanguage,
) -> Result<Response> {
    let user = state.courier.invitation(&token).await?;
    let csrf = link_csrf(&state.courier, LinkForm::Invitation, &token);
    let ctx = json!({ "firm": state.courier.firm_name(), "email": user.email, "csrf_token": csrf, "error": null,
        "reset": !user.invited() });
    Ok(state.templates.render("invitation.html", lang, ctx)?.into_response())
}

/// Sets the invited user's password and goes on to enrolling an authenticator.
pub async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Result<Response> {
    let courier = &state.courier;
    let lang = page_language(&headers, None);
    let csrf = link_csrf(courier, LinkForm::Invitation, &token);
    check_csrf(courier, &csrf, &form.csrf_token, &headers)?;
    let user = courier.invitation(&token).await?;
    let retry = |msg: String| -> Result<Response> {
        let ctx = json!({ "firm": courier.firm_name(), "email": user.email, "csrf_token": csrf, "error": msg,
            "reset": !user.invited() });
        Ok((StatusCode::BAD_REQUEST, state.templates.render("invitation.html", lang, ctx)?).into_response())
    };
    if form.password != form.password_again {
        return retry(state.templates.say(lang, "staff-passwords-differ"));
    }
    match courier.accept_invitation(&origin(&ip, &headers), &token, Zeroizing::new(form.password)).await {
        Ok(session) => {
            let mut resp = see_other("/login/mfa");
            set_cookie(&mut resp, courier, &session_cookie_name(courier), session.expose(), None);
            Ok(resp)
        }
        Err(Error::BadRequest(msg)) => retry(state.templates.reason(lang, &msg)),
        Err(e) => Err(e),
    }
}
