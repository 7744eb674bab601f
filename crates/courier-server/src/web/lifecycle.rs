//! Staff pages and forms of the lifecycle: filing, legal holds, certificates of deletion.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::extract::{CsrfForm, Staff};
use super::staff::{attachment, back_to, see_other};
use crate::services::lifecycle::HoldSubject;
use crate::{Error, Result};

#[derive(Deserialize)]
pub struct ReferenceForm {
    #[serde(default)]
    reference: String,
}

#[derive(Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
}

pub async fn mark_filed(Path(id): Path<String>, CsrfForm { staff, form }: CsrfForm<ReferenceForm>) -> Result<Response> {
    let doc = staff.me.document(&id).await?;
    staff.me.mark_filed(std::slice::from_ref(&id), Some(form.reference.as_str())).await?;
    Ok(see_other(&back_to(&doc)))
}

pub async fn hold_document(Path(id): Path<String>, CsrfForm { staff, form }: CsrfForm<ReasonForm>) -> Result<Response> {
    let doc = staff.me.document(&id).await?;
    staff.me.place_hold(HoldSubject::Document(id), &form.reason).await?;
    Ok(see_other(&back_to(&doc)))
}

pub async fn release_hold(Path(id): Path<String>, CsrfForm { staff, form }: CsrfForm<ReasonForm>) -> Result<Response> {
    staff.me.release_hold(&id, &form.reason).await?;
    Ok(see_other("/holds"))
}

pub async fn holds_page(State(state): State<AppState>, staff: Staff) -> Result<Response> {
    let holds = staff.me.list_holds(true).await?;
    let ctx = json!({ "user": staff.session.email, "csrf_token": staff.session.csrf_token, "role": staff.session.role,
        "holds": holds });
    Ok(state.templates.render("holds.html", staff.lang, ctx)?.into_response())
}

/// The certificate to print (the signed JSON is linked beside it).
pub async fn certificate_page(State(state): State<AppState>, Path(id): Path<String>, staff: Staff) -> Result<Response> {
    let cert = staff.me.certificate(&id).await?;
    let text = serde_json::to_string_pretty(&cert).map_err(|e| Error::internal("certificate", e))?;
    let ctx = json!({ "user": staff.session.email, "csrf_token": staff.session.csrf_token, "role": staff.session.role,
        "cert": cert, "json": text });
    Ok(state.templates.render("certificate.html", staff.lang, ctx)?.into_response())
}

pub async fn certificate_json(Path(id): Path<String>, staff: Staff) -> Result<Response> {
    let cert = staff.me.certificate(&id).await?;
    let text = serde_json::to_string_pretty(&cert).map_err(|e| Error::internal("certificate", e))? + "\n";
    let len = text.len() as u64;
    Ok(attachment(Body::from(text), "application/json", &format!("certificate-of-deletion-{id}.json"), Some(len)))
}
