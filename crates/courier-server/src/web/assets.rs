//! Static assets, compiled into the binary. Scripts are files (no inline script), so the
//! CSP can forbid inline script entirely.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::Error;

/// The firm's logo, if `firm_logo` is set.
const LOGO: &str = "brand-logo";
/// The firm's colour, if `brand_color` is set.
const BRAND_CSS: &str = "brand.css";
/// An SVG logo opened on its own is a document: nothing in it may run or load.
const LOGO_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

const ASSETS: &[(&str, &str, &str)] = &[
    ("app.css", "text/css; charset=utf-8", include_str!("../../assets/app.css")),
    ("upload.js", "text/javascript; charset=utf-8", include_str!("../../assets/upload.js")),
    ("sheet.css", "text/css; charset=utf-8", super::instructions::SHEET_CSS),
    ("ui.js", "text/javascript; charset=utf-8", include_str!("../../assets/ui.js")),
    ("passkeys.js", "text/javascript; charset=utf-8", include_str!("../../assets/passkeys.js")),
    // tus-js-client 4.3.1, vendored with its licence (assets/vendor/README.md).
    ("tus.min.js", "text/javascript; charset=utf-8", include_str!("../../assets/vendor/tus.min.js")),
];

/// The brand colour as the pages' accent. The colour was checked (`#rrggbb`), so it cannot end
/// the rule.
pub(super) fn accent_css(color: &str) -> String {
    format!(":root {{ --accent: {color}; }}\n")
}

pub async fn serve(State(state): State<AppState>, Path(file): Path<String>, headers: HeaderMap) -> Response {
    let brand = state.courier.branding();
    if let (LOGO, Some((bytes, content_type))) = (file.as_str(), &brand.logo) {
        // The firm page may change it while the server runs: caches ask again each time, and
        // an unchanged logo is not sent again.
        let tag = format!("\"{}\"", hex::encode(&courier_crypto::sha256(bytes)[..16]));
        let unchanged = headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == tag.as_bytes());
        let mut resp = if unchanged { StatusCode::NOT_MODIFIED.into_response() } else { bytes.clone().into_response() };
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(LOGO_CSP));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(tag) = HeaderValue::from_str(&tag) {
            h.insert(header::ETAG, tag);
        }
        return resp;
    }
    if let (BRAND_CSS, Some(color)) = (file.as_str(), &brand.color) {
        // It may change while the server runs (the setup page), so caches ask again each time.
        let mut resp = accent_css(color).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return resp;
    }
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

#[cfg(test)]
mod tests {
    /// A vendored file is exactly the published one (assets/vendor/README.md).
    #[test]
    fn vendored_files_are_the_pinned_ones() {
        let tus = super::ASSETS.iter().find(|(n, _, _)| *n == "tus.min.js").map(|(_, _, b)| *b).unwrap_or_default();
        let hex: String = courier_crypto::sha256(tus.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "8cbb1b63fccc3bba0ae73ad1deb160ce046c3750851d0c3e94921ae3ef070eb8");
    }
}
