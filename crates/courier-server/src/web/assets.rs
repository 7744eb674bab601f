//! Static assets, compiled into the binary. Scripts are files (no inline script), so the
//! CSP can forbid inline script entirely.

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::Error;

const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../assets/app.css")),
    ("upload.js", "text/javascript; charset=utf-8", include_str!("../../assets/upload.js")),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../../assets/ui.js")),
    ("passkeys.js", "text/javascript; charset=utf-8", include_str!("../../assets/passkeys.js")),
];

pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => {
            let mut resp = (*body).into_response();
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
            resp
        }
        None => Error::NotFound.into_response(),
    }
}
