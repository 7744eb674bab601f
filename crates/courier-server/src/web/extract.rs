//! Extractors that give handlers a capability handle, never a bare id:
//!
//! - [`Staff`]: the signed-in staff member (session cookie), or a redirect to `/login`;
//! - [`CsrfForm`]: a staff form whose CSRF token and Origin were checked, with its `Staff`;
//! - [`ApiCaller`]: the holder of a personal API token, or 401 with `WWW-Authenticate`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use courier_core::Language;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::staff::{check_csrf, see_other, session_cookie_name};
use super::{AppState, ClientIp, cookie};
use crate::Error;
use crate::services::handles::Acting;
use crate::services::sessions::StaffSession;

/// A signed-in staff member: `me` acts, `session` carries the page's facts (email, role,
/// CSRF token), `lang` is the language of their pages.
pub struct Staff {
    pub me: Acting,
    pub session: StaffSession,
    pub lang: Language,
}

/// The language of a page shown before anyone is signed in (sign-in, setup, invitation):
/// the browser's `Accept-Language`, else English.
pub struct BrowserLanguage(pub Language);

impl<S: Send + Sync> FromRequestParts<S> for BrowserLanguage {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(crate::i18n::for_staff(None, accept_language(&parts.headers))))
    }
}

fn accept_language(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = ClientIp::from_request_parts(parts, state).await.unwrap_or(ClientIp(None));
        // A form extractor may have looked the session up already for this request.
        let session = match parts.extensions.get::<StaffSession>() {
            Some(s) => s.clone(),
            None => match signed_in(state, &parts.headers).await {
                Ok(Some(s)) => s,
                Ok(None) => return Err(see_other("/login")),
                Err(e) => return Err(e.into_response()),
            },
        };
        parts.extensions.insert(session.clone());
        let me = state.courier.staff(&session, ip.0).map_err(|_| see_other("/login"))?;
        let lang = crate::i18n::for_staff(session.language, accept_language(&parts.headers));
        Ok(Self { me, session, lang })
    }
}

impl Staff {
    /// The signed-in member behind a JSON call (passkey ceremonies): 401 rather than a
    /// redirect, and the CSRF token in the `x-csrf-token` header.
    pub async fn from_json_call(state: &AppState, headers: &HeaderMap, ip: ClientIp) -> crate::Result<Self> {
        let session = signed_in(state, headers).await?.ok_or(Error::Unauthenticated)?;
        let given = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        check_csrf(&state.courier, &session.csrf_token, given, headers)?;
        let lang = crate::i18n::for_staff(session.language, accept_language(headers));
        Ok(Self { me: state.courier.staff(&session, ip.0)?, session, lang })
    }
}

/// The fully signed-in session named by the request's cookie.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> crate::Result<Option<StaffSession>> {
    let courier = &state.courier;
    let Some(id) = cookie(headers, &session_cookie_name(courier)) else {
        return Ok(None);
    };
    Ok(courier.session(&id).await?.filter(|s| !s.awaiting_mfa()))
}

/// Only the token, read before the form itself.
#[derive(Deserialize)]
struct CsrfToken {
    #[serde(default)]
    csrf_token: String,
}

/// A url-encoded staff form (at most the router's form limit) that passed the CSRF check:
/// the session's synchronizer token in field `csrf_token`, and the Origin (or Referer).
/// `T` may be a struct or `Vec<(String, String)>` for repeated fields.
pub struct CsrfForm<T> {
    pub staff: Staff,
    pub form: T,
}

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let body =
            Bytes::from_request(Request::from_parts(parts, body), state).await.map_err(IntoResponse::into_response)?;
        let given: CsrfToken = serde_urlencoded::from_bytes(&body).unwrap_or(CsrfToken { csrf_token: String::new() });
        check_csrf(&state.courier, &staff.session.csrf_token, &given.csrf_token, &headers)
            .map_err(IntoResponse::into_response)?;
        let form = serde_urlencoded::from_bytes(&body).map_err(|e| {
            crate::error::bad_request(
                format!("the form is malformed: {e}"),
                crate::error::Said::new("refusal-form-malformed"),
            )
            .into_response()
        })?;
        Ok(Self { staff, form })
    }
}

/// The holder of the request's bearer token; a missing, unknown, revoked or expired token is
/// refused with 401 and `WWW-Authenticate: Bearer`.
pub struct ApiCaller(pub Acting);

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = ClientIp::from_request_parts(parts, state).await.unwrap_or(ClientIp(None));
        let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str().to_owned()).unwrap_or_default();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let refused = |e: Error| {
            let mut resp = e.into_response();
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"courier\""));
            resp
        };
        let Some(bearer) = bearer else {
            return Err(refused(Error::Unauthenticated));
        };
        match state.courier.api(bearer, ip.0, parts.method.as_str(), &route).await {
            Ok(acting) => Ok(Self(acting)),
            Err(Error::Unauthenticated) => Err(refused(Error::Unauthenticated)),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A form with nothing but its CSRF token (a button).
#[derive(Deserialize)]
pub struct Empty {}
