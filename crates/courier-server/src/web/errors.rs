//! One error, rendered two ways: a JSON problem (RFC 9457) for JSON clients, an HTML page for
//! browsers. Both carry the request id, except the uniform "link not found" answer, which must
//! be byte-identical for every bad link (the id is in the `x-request-id` header instead).

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::Error;

/// What a handler's error leaves for `render_errors` to turn into a body.
#[derive(Clone)]
struct ErrorInfo {
    status: StatusCode,
    message: String,
    uniform: bool,
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

pub async fn render_errors(req: Request, next: Next) -> Response {
    let wants_json = wants_json(&req);
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut resp = next.run(req).await;
    let Some(info) = resp.extensions_mut().remove::<ErrorInfo>() else {
        // Rejections from extractors (bad form, bad multipart header) arrive as plain text
        // from axum; give them the same shapes.
        return resp;
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
        (false, false) => ("text/html; charset=utf-8", error_page(info.status, &info.message, &request_id).0),
    };
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.remove(header::CONTENT_LENGTH);
    *resp.body_mut() = axum::body::Body::from(body);
    resp
}

fn wants_json(req: &Request) -> bool {
    req.uri().path().starts_with("/api/")
        || req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("json"))
}

fn error_page(status: StatusCode, message: &str, request_id: &str) -> Html<String> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{status}</title><link rel=\"stylesheet\" \
         href=\"/static/app.css\"></head><body><main class=\"narrow\"><h1>{title}</h1><p>{msg}</p>\
         <p class=\"muted\">Request id: <code>{rid}</code></p></main></body></html>\n",
        status = status.as_u16(),
        title = esc(status.canonical_reason().unwrap_or("Error")),
        msg = esc(message),
        rid = esc(request_id),
    ))
}
