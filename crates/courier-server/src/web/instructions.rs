//! The instruction sheet a lawyer prints or downloads for the client when a portal's link is
//! issued: the link and its QR code, in the client's language, with what the client should
//! know (the passcode comes by another channel, how to recognise a genuine link, what happens
//! to the files). The link is shown only once, so the sheet is made from the page that shows
//! it; the service checks that it is the portal's current link.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use courier_core::Language;
use courier_core::time_fmt::rfc3339;
use serde_json::json;

use super::AppState;
use super::extract::Staff;
use crate::Result;

/// The sheet's own style, linked when viewed and embedded in a downloaded file (which must
/// work offline, without the server).
pub(super) const SHEET_CSS: &str = include_str!("../../assets/sheet.css");

pub(super) async fn sheet(state: &AppState, staff: &Staff, id: &str, form: &[(String, String)]) -> Result<Response> {
    let sheet = staff.me.instruction_sheet(id, &super::field(form, "url")).await?;
    let lang = super::field(form, "language").parse::<Language>().ok().or(sheet.language).unwrap_or(Language::En);
    let download = super::field(form, "as") == "download";
    let courier = &state.courier;
    let brand = courier.branding();
    // A downloaded file carries its logo and colours; a viewed page links them.
    let (logo_src, css) = if download {
        let logo = brand.logo.as_ref().map(|(bytes, content_type)| {
            format!("data:{content_type};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
        });
        let accent = brand.color.as_deref().map(super::assets::accent_css).unwrap_or_default();
        (logo, Some(format!("{SHEET_CSS}{accent}")))
    } else {
        (brand.logo.as_ref().map(|_| "/static/brand-logo".to_owned()), None)
    };
    let ctx = json!({
        "firm": courier.firm_name(),
        "sheet": sheet,
        "portal_id": id,
        "qr_svg": super::auth::qr_svg(&sheet.url)?,
        "printed_at": rfc3339(courier.clock().now_ms()),
        "standalone": download,
        "css": css,
        "logo_src": logo_src,
        "csrf_token": staff.session.csrf_token,
        // The sheet is in the client's language; the buttons around it are the lawyer's.
        "staff_words": {
            "nav": state.templates.say(staff.lang, "staff-sheet-nav"),
            "print": state.templates.say(staff.lang, "staff-sheet-print"),
            "download": state.templates.say(staff.lang, "staff-sheet-download"),
            "back": state.templates.say(staff.lang, "staff-sheet-back"),
        },
    });
    let mut resp = state.templates.render_in("instructions.html", lang, ctx)?.into_response();
    if download {
        let name = format!("instructions-{}-{lang}.html", id.get(..8).unwrap_or(id));
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, super::staff::content_disposition(&name));
    }
    // It carries a working link: never kept by a cache (the middleware also says so).
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
