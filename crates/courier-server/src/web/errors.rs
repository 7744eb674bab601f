//! One error, rendered two ways: a JSON problem (RFC 9457) for JSON clients, an HTML page for
//! browsers. Both carry the request id, except the uniform "link not found" answer, which must
//! be byte-identical for every bad link (the id is in the `x-request-id` header instead).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use courier_core::Language;
use serde_json::json;

use crate::Error;
use crate::error::Said;
use crate::web::AppState;
use crate::web::templates::Templates;

/// What a handler's error leaves for `render_errors` to turn into a body.
#[derive(Clone)]
struct ErrorInfo {
    status: StatusCode,
    message: String,
    uniform: bool,
    /// The message again, for a client page in another language than English.
    said: Option<Said>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Some(detail) = self.internal_detail() {
            tracing::error!(error = %self, detail, "request failed");
        }
        let info = ErrorInfo {
            status: self.status(),
            message: self.public_message(),
            uniform: matches!(self, Error::LinkNotFound),
            said: self.said(),
        };
        let mut resp = info.status.into_response();
        match self {
            Error::RateLimited => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            Error::Busy(_) | Error::Unavailable(_) | Error::ScanUnavailable => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        resp.extensions_mut().insert(info);
        resp
    }
}

/// Whether a handler answered with the uniform "link not found" (before it is rendered).
pub(super) fn is_link_not_found(resp: &Response) -> bool {
    resp.extensions().get::<ErrorInfo>().is_some_and(|i| i.uniform)
}

pub async fn not_found() -> Error {
    Error::NotFound
}

/// The body every bad `/p/…` link gets, whatever was wrong with it.
pub const LINK_NOT_FOUND_HTML: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Link not found</title>\
<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\"><h1>Link not found</h1>\
<p>This link is not valid. It may have been mistyped, or it may have expired or been closed.</p>\
<p>Please ask the person who sent it to you for a new link.</p></main></body></html>\n";

pub const LINK_NOT_FOUND_JSON: &str =
    "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,\"detail\":\"This link is not valid.\"}";

pub async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let wants_json = wants_json(&req);
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let client_lang = client_language(&req);
    // A staff page's error is said in the member's language; who they are is looked up only
    // if there is an error to say.
    let staff = (client_lang.is_none() && !wants_json).then(|| StaffHint::of(&state, req.headers()));
    let mut resp = next.run(req).await;
    let Some(mut info) = resp.extensions_mut().remove::<ErrorInfo>() else {
        // Rejections from extractors (bad form, bad multipart header) arrive as plain text
        // from axum; give them the same shapes.
        return resp;
    };
    let lang = match staff {
        Some(hint) => Some(hint.language(&state).await),
        None => client_lang,
    };
    let catalog = state.templates.catalog();
    // A client has no account to sign in to: a link behind a passcode asks for the passcode.
    if client_lang.is_some() && info.said.as_ref().is_some_and(|s| s.id == "error-unauthenticated") {
        info.said = Some(Said::new("refusal-unlock-first"));
    }
    // A page in French gets its refusals in French. English keeps the detailed text, except
    // where it names a moment: the catalogue says that in the firm's time zone.
    let translated = match (&info.said, lang) {
        (Some(said), Some(lang)) if (lang != Language::En || said.has_time()) && !info.uniform => {
            let title = if client_lang.is_some() { "refusal-title" } else { "staff-error-title" };
            say(&state.templates, lang, said, title)
        }
        _ => None,
    };
    let page_lang = match &translated {
        Some((message, title)) => {
            info.message = message.clone();
            Some((lang.unwrap_or(Language::En), title.clone()))
        }
        None => None,
    };
    let (content_type, body) = match (info.uniform, wants_json) {
        (true, true) => ("application/problem+json", LINK_NOT_FOUND_JSON.to_owned()),
        (true, false) => ("text/html; charset=utf-8", LINK_NOT_FOUND_HTML.to_owned()),
        (false, true) => (
            "application/problem+json",
            json!({
                "type": "about:blank",
                "title": info.status.canonical_reason().unwrap_or("Error"),
                "status": info.status.as_u16(),
                "detail": info.message,
                "request_id": request_id,
            })
            .to_string(),
        ),
        (false, false) => match page_lang {
            Some((lang, title)) => {
                let rid = catalog.message(lang, "request-id", None).unwrap_or_else(|_| "Request id".into());
                ("text/html; charset=utf-8", page(lang.as_str(), info.status, &title, &info.message, &rid, &request_id))
            }
            None => ("text/html; charset=utf-8", error_page(info.status, &info.message, &request_id).0),
        },
    };
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.remove(header::CONTENT_LENGTH);
    *resp.body_mut() = axum::body::Body::from(body);
    resp
}

/// The language of a client's or share recipient's request (`?lang=`, then `Accept-Language`,
/// which the page's script sets to the page's language); `None` elsewhere.
fn client_language(req: &Request) -> Option<Language> {
    let path = req.uri().path();
    if !(path.starts_with("/p/") || path.starts_with("/s/")) {
        return None;
    }
    let asked = super::client::asked_language(req.uri().query());
    let accept = req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Some(crate::i18n::choose(asked.map(Language::as_str), None, accept))
}

/// Who asked for a staff page, for the language its error is said in.
struct StaffHint {
    session: Option<String>,
    accept_language: Option<String>,
}

impl StaffHint {
    fn of(state: &AppState, headers: &HeaderMap) -> Self {
        Self {
            session: super::cookie(headers, &super::staff::session_cookie_name(&state.courier)),
            accept_language: headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(str::to_owned),
        }
    }

    /// The member's chosen language, else the browser's. A failed lookup is the browser's
    /// (the error being said may be that the database is down).
    async fn language(self, state: &AppState) -> Language {
        let chosen = match &self.session {
            Some(id) => state.courier.session_language(id).await.ok().flatten(),
            None => None,
        };
        crate::i18n::for_staff(chosen, self.accept_language.as_deref())
    }
}

/// The message and the page title (message `title`) in `lang`; `None` (English stays) if a
/// message is missing.
fn say(templates: &Templates, lang: Language, said: &Said, title: &str) -> Option<(String, String)> {
    let said = templates.said(lang, said).and_then(|m| {
        let title = templates.catalog().message(lang, title, None)?;
        Ok((m, title))
    });
    said.map_err(|e| tracing::error!(error = %e, "a refusal has no message in the page's language")).ok()
}

fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("json"))
}

fn error_page(status: StatusCode, message: &str, request_id: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    Html(page("en", status, title, message, "Request id", request_id))
}

fn page(lang: &str, status: StatusCode, title: &str, message: &str, rid_label: &str, request_id: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{status}</title><link rel=\"stylesheet\" \
         href=\"/static/app.css\"></head><body><main class=\"narrow\"><h1>{title}</h1><p>{msg}</p>\
         <p class=\"muted\">{rid_label}: <code>{rid}</code></p></main></body></html>\n",
        lang = esc(lang),
        status = status.as_u16(),
        title = esc(title),
        msg = esc(message),
        rid_label = esc(rid_label),
        rid = esc(request_id),
    )
}
