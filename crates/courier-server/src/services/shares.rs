//! Outbound shares: chosen documents of a matter, offered to one named recipient through an
//! unguessable link. Only SHA-256 of the token is stored; every way a link can be unusable
//! (unknown, malformed, revoked, expired) is the same `LinkNotFound`, as for portals. Every
//! download is counted against the limit, recorded on the share and audited.

use courier_core::ShareStatus;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use courier_core::time_fmt::rfc3339;
use courier_crypto::token::Token;
use courier_store::documents::{self as docs, DocumentRecord};
use courier_store::shares::{self as rows, DownloadRecord, NewShare, ShareRecord};
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;
use zeroize::Zeroizing;

use super::audit::AuditAction;
use super::authz::{Action, Resource};
use super::portals::{IssuedLink, MAX_LABEL_CHARS, MIN_PASSCODE_CHARS};
use super::watermark::Stamp;
use super::{Caller, Courier};
use crate::error::{Reason, Said, SaidArg, bad_request, conflict, said_with};
use crate::{Error, Result};

/// Most documents in one share.
pub const MAX_SHARE_DOCUMENTS: usize = 100;

#[derive(Debug, Default)]
pub struct ShareRequest {
    pub matter: String,
    pub documents: Vec<String>,
    pub recipient: String,
    pub expires_at_ms: Option<i64>,
    pub passcode: Option<Zeroizing<String>>,
    pub max_downloads: Option<i64>,
    /// Share documents in which personal data was found; without it they are refused.
    pub allow_findings: bool,
}

#[derive(Debug, Serialize)]
pub struct CreatedShare {
    #[serde(flatten)]
    pub link: IssuedLink,
    /// Documents of a type that is not watermarked: served as they are.
    pub served_unchanged: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SharedFile {
    pub id: String,
    pub name: String,
    pub size: i64,
    pub watermarked: bool,
    pub downloads: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownloadView {
    pub document_id: String,
    pub name: String,
    pub at: String,
    /// Null once `client_ip_retention` has passed.
    pub ip: Option<String>,
    pub user_agent: String,
    pub watermarked: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShareView {
    pub id: String,
    pub matter_id: String,
    pub recipient: String,
    pub status: &'static str,
    pub has_passcode: bool,
    pub expires_at: Option<String>,
    pub max_downloads: Option<i64>,
    pub created_by: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub files: Vec<SharedFile>,
    pub downloads: Vec<DownloadView>,
}

/// A share as its recipient reaches it through a working link.
#[derive(Debug, Clone)]
pub struct OpenShare {
    pub id: String,
    pub recipient: String,
    pub passcode_hash: Option<String>,
    pub expires_at: Option<i64>,
    pub max_downloads: Option<i64>,
}

/// One shared file on its way to the recipient.
pub struct SharedDownload {
    pub name: String,
    pub content_type: String,
    pub length: Option<u64>,
    pub body: BoxStream<'static, io::Result<Bytes>>,
}

pub fn status(s: &ShareRecord, now: i64) -> ShareStatus {
    ShareStatus::of(s.revoked_at.is_some(), s.expires_at, s.matter_archived, now)
}

fn shared_file(d: DocumentRecord, downloads: &[DownloadRecord]) -> SharedFile {
    SharedFile {
        watermarked: Stamp::supports(&d.content_type),
        downloads: downloads.iter().filter(|x| x.document_id == d.id).count() as i64,
        id: d.id,
        name: d.name,
        size: d.size,
    }
}

fn findings_summary(d: &DocumentRecord) -> String {
    let scan = super::scanning::scan_view(&d.scan);
    scan.findings
        .iter()
        .map(|f| format!("{} ×{}", f["kind"].as_str().unwrap_or("?"), f["count"]))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Courier {
    pub(super) fn share_url(&self, token: &Token) -> String {
        format!("{}/s/{}", self.config.public_url(), token.expose())
    }

    pub(super) async fn create_share(&self, caller: &Caller, req: ShareRequest) -> Result<CreatedShare> {
        let matter = self.resolve_matter(caller, &req.matter, false).await?;
        self.authorize(caller, Action::ShareCreate, &self.matter_resource(&matter.id).await?).await?;
        let recipient = req.recipient.trim();
        if recipient.is_empty()
            || recipient.chars().count() > MAX_LABEL_CHARS
            || recipient.chars().any(char::is_control)
        {
            return Err(bad_request(
                format!("the recipient must be 1 to {MAX_LABEL_CHARS} characters, without control characters"),
                said_with("staff-refused-recipient", "max", MAX_LABEL_CHARS),
            ));
        }
        let now = self.clock.now_ms();
        if req.expires_at_ms.is_some_and(|e| e <= now) {
            return Err(bad_request("the expiry must be in the future", Said::new("staff-refused-expiry-past")));
        }
        if req.max_downloads.is_some_and(|n| n < 1) {
            return Err(bad_request(
                "the download limit must be at least 1",
                Said::new("staff-refused-download-limit"),
            ));
        }
        let mut ids: Vec<String> = req.documents.iter().map(|d| d.trim().to_owned()).collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() || ids.len() > MAX_SHARE_DOCUMENTS {
            return Err(bad_request(
                format!("a share carries 1 to {MAX_SHARE_DOCUMENTS} documents"),
                said_with("staff-refused-share-size", "max", MAX_SHARE_DOCUMENTS),
            ));
        }
        let mut unchanged = Vec::new();
        for id in &ids {
            // Another matter's document reads as absent, whatever it is.
            let d = docs::get(self.db.pool(), id)
                .await?
                .filter(|d| d.deleted_at.is_none() && d.matter_id.as_deref() == Some(matter.id.as_str()))
                .ok_or_else(|| {
                    bad_request(
                        format!("there is no document {id} in this matter"),
                        said_with("staff-refused-share-no-document", "id", id),
                    )
                })?;
            self.authorize(caller, Action::DocumentShare, &self.document_resource(&d).await?).await?;
            if d.scan.held {
                return Err(conflict(
                    format!("{} is held ({}) and cannot be shared", d.name, d.scan.status),
                    said_with("staff-refused-share-held", "name", &d.name),
                ));
            }
            let findings = findings_summary(&d);
            if !findings.is_empty() && !req.allow_findings {
                let said = Said::new("staff-refused-share-findings")
                    .with("name", SaidArg::Text(d.name.to_string()))
                    .with("findings", SaidArg::Text(findings.clone()));
                return Err(conflict(
                    format!(
                        "{} contains personal data ({findings}); confirm that it may be shared (--allow-findings)",
                        d.name
                    ),
                    said,
                ));
            }
            if Stamp::supports(&d.content_type) {
                if d.size as u64 > self.config.watermark_max_size.bytes() {
                    let said = Said::new("staff-refused-share-watermark-size")
                        .with("name", SaidArg::Text(d.name.to_string()))
                        .with("max", SaidArg::Size(self.config.watermark_max_size.0));
                    return Err(bad_request(
                        format!("{} is larger than can be watermarked ({})", d.name, self.config.watermark_max_size),
                        said,
                    ));
                }
            } else {
                unchanged.push(d.id.clone());
            }
        }
        let passcode_hash = match req.passcode {
            Some(p) if p.chars().count() < MIN_PASSCODE_CHARS || p.len() > 1024 => {
                return Err(bad_request(
                    format!("a passcode needs {MIN_PASSCODE_CHARS} to 1024 characters"),
                    said_with("staff-refused-share-passcode", "min", MIN_PASSCODE_CHARS),
                ));
            }
            Some(p) => Some(self.passwords.hash(p).await?),
            None => None,
        };
        let token = Token::generate()?;
        let record = ShareRecord {
            id: uuid::Uuid::new_v4().to_string(),
            matter_id: matter.id.clone(),
            recipient: recipient.to_owned(),
            passcode_hash,
            expires_at: req.expires_at_ms,
            max_downloads: req.max_downloads,
            created_by: caller.actor.to_string(),
            created_at: now,
            revoked_at: None,
            matter_archived: false,
        };
        let mut tx = self.audit.begin(&self.db).await?;
        rows::insert(&mut tx, &NewShare { record: &record, token_hash: &token.hash(), document_ids: &ids }).await?;
        let details = json!({
            "share_id": record.id, "matter_id": matter.id, "documents": ids,
            "expires_at": record.expires_at.map(rfc3339), "max_downloads": record.max_downloads,
            "passcode": record.passcode_hash.is_some(), "served_unchanged": unchanged,
            "allow_findings": req.allow_findings,
        });
        tx.record(caller, AuditAction::ShareCreate, &format!("share:{}", record.id), details).await?;
        tx.commit().await?;
        Ok(CreatedShare {
            link: IssuedLink {
                id: record.id,
                url: self.share_url(&token),
                token: token.expose().to_owned(),
                expires_at: record.expires_at.map(rfc3339),
            },
            served_unchanged: unchanged,
        })
    }

    async fn share_view(&self, s: &ShareRecord) -> Result<ShareView> {
        let downloads = rows::downloads(self.db.pool(), &s.id).await?;
        let mut files = Vec::new();
        for id in rows::document_ids(self.db.pool(), &s.id).await? {
            if let Some(d) = docs::get(self.db.pool(), &id).await? {
                files.push(shared_file(d, &downloads));
            }
        }
        let name_of = |id: &str| files.iter().find(|f| f.id == id).map(|f| f.name.clone()).unwrap_or_default();
        let downloads = downloads
            .iter()
            .map(|x| DownloadView {
                name: name_of(&x.document_id),
                document_id: x.document_id.clone(),
                at: rfc3339(x.at),
                ip: Some(x.ip.clone()).filter(|ip| !ip.is_empty()),
                user_agent: x.user_agent.clone(),
                watermarked: x.watermarked,
            })
            .collect();
        Ok(ShareView {
            id: s.id.clone(),
            matter_id: s.matter_id.clone(),
            recipient: s.recipient.clone(),
            status: status(s, self.clock.now_ms()).as_str(),
            has_passcode: s.passcode_hash.is_some(),
            expires_at: s.expires_at.map(rfc3339),
            max_downloads: s.max_downloads,
            created_by: s.created_by.clone(),
            created_at: rfc3339(s.created_at),
            revoked_at: s.revoked_at.map(rfc3339),
            files,
            downloads,
        })
    }

    /// The shares `caller` may see, of one matter if given.
    pub(super) async fn list_shares(&self, caller: &Caller, matter_id: Option<&str>) -> Result<Vec<ShareView>> {
        let mut out = Vec::new();
        let mut sieve = self.sieve(caller).await?;
        for s in rows::list(self.db.pool()).await? {
            if matter_id.is_some_and(|m| m != s.matter_id) {
                continue;
            }
            let resource = Resource::Share { matter: sieve.matter(&s.matter_id).await?, id: s.id.clone() };
            if sieve.may(Action::ShareView, &resource) {
                out.push(self.share_view(&s).await?);
            }
        }
        Ok(out)
    }

    pub(super) async fn share(&self, caller: &Caller, id: &str) -> Result<ShareView> {
        Ok(self.share_with_rights(caller, id).await?.0)
    }

    /// A share as `caller` may see it, and whether they may revoke it.
    pub(super) async fn share_with_rights(&self, caller: &Caller, id: &str) -> Result<(ShareView, bool)> {
        let s = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        let resource = self.share_resource(&s).await?;
        self.authorize(caller, Action::ShareView, &resource).await?;
        let may_revoke = self.may(caller, Action::ShareRevoke, &resource).await?;
        Ok((self.share_view(&s).await?, may_revoke))
    }

    /// Lifts the lock that wrong passcodes put on the share's link (review finding 12); for
    /// whoever may revoke the share.
    pub(super) async fn unlock_share_passcode(&self, caller: &Caller, id: &str) -> Result<bool> {
        let s = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::ShareRevoke, &self.share_resource(&s).await?).await?;
        self.unlock_link_passcode(caller, super::Unlock::Share, id).await
    }

    pub(super) async fn revoke_share(&self, caller: &Caller, id: &str) -> Result<ShareView> {
        let s = rows::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::ShareRevoke, &self.share_resource(&s).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !rows::revoke(&mut tx, id, self.clock.now_ms()).await? {
            return Err(conflict("this share is revoked already", Said::new("staff-refused-share-revoked")));
        }
        tx.record(caller, AuditAction::ShareRevoke, &format!("share:{id}"), json!({"share_id": id})).await?;
        tx.commit().await?;
        self.share(caller, id).await
    }

    /// Resolves a recipient's token to a usable share; everything else is `LinkNotFound`.
    pub(super) async fn open_share(&self, token: &str) -> Result<OpenShare> {
        let token = Token::parse(token).ok_or(Error::LinkNotFound)?;
        let s = rows::by_token_hash(self.db.pool(), &token.hash()).await?.ok_or(Error::LinkNotFound)?;
        if status(&s, self.clock.now_ms()) != ShareStatus::Active {
            return Err(Error::LinkNotFound);
        }
        Ok(OpenShare {
            id: s.id,
            recipient: s.recipient,
            passcode_hash: s.passcode_hash,
            expires_at: s.expires_at,
            max_downloads: s.max_downloads,
        })
    }

    /// What the recipient sees: the live, downloadable files of the share.
    pub(super) async fn shared_files(&self, share: &OpenShare) -> Result<Vec<SharedFile>> {
        let downloads = rows::downloads(self.db.pool(), &share.id).await?;
        let mut files = Vec::new();
        for id in rows::document_ids(self.db.pool(), &share.id).await? {
            let Some(d) = docs::get(self.db.pool(), &id).await?.filter(|d| d.deleted_at.is_none() && !d.scan.held)
            else {
                continue;
            };
            files.push(shared_file(d, &downloads));
        }
        Ok(files)
    }

    /// One file for the recipient: stamped in memory where the type allows, counted against
    /// the limit and audited before the first byte leaves. A document no longer in the share,
    /// shredded or held reads as an unknown link.
    pub(super) async fn download_shared(
        self: &Arc<Self>,
        caller: &Caller,
        share: &OpenShare,
        document_id: &str,
        user_agent: &str,
    ) -> Result<SharedDownload> {
        let in_share = rows::document_ids(self.db.pool(), &share.id).await?.iter().any(|d| d == document_id);
        let d = docs::get(self.db.pool(), document_id)
            .await?
            .filter(|d| in_share && d.deleted_at.is_none() && !d.scan.held)
            .ok_or(Error::LinkNotFound)?;
        let exhausted = || {
            conflict("this file has been downloaded as often as the share allows", Said::new("refusal-share-exhausted"))
        };
        // Checked first so a spent file costs no stamping; `take_download` decides for real.
        if let Some(limit) = share.max_downloads {
            let done = rows::downloads(self.db.pool(), &share.id).await?;
            if done.iter().filter(|x| x.document_id == d.id).count() as i64 >= limit {
                return Err(exhausted());
            }
        }
        let now = self.clock.now_ms();
        let watermarked = Stamp::supports(&d.content_type);
        let (body, length): (BoxStream<'static, io::Result<Bytes>>, Option<u64>) = if watermarked {
            let stamp = Stamp { recipient: share.recipient.clone(), at: rfc3339(now), share_id: share.id.clone() };
            // One stamped download at a time per share link and per address, so that one link
            // read slowly cannot hold every stamping permit (second review of issue 13).
            let mut caps = vec![(format!("share:{}", share.id), 1)];
            if let Some(ip) = caller.ip {
                caps.push((format!("stamp-ip:{}", super::inflight::address_key(ip)), 1));
            }
            let slot = self.uploads.try_take(&caps).ok_or_else(|| {
                Error::Busy("Another download through this link is still running; please try again shortly.".into())
            })?;
            let (stamped, permit) = self.stamp(&d, stamp).await?;
            let len = stamped.len() as u64;
            (sent_then_release(Bytes::from(stamped), (permit, slot)), Some(len))
        } else {
            (self.plaintext(&d).await?.boxed(), Some(d.size as u64))
        };
        let record = DownloadRecord {
            document_id: d.id.clone(),
            at: now,
            ip: caller.ip.map(|i| i.to_string()).unwrap_or_default(),
            user_agent: user_agent.chars().filter(|c| !c.is_control()).take(300).collect(),
            watermarked,
        };
        let mut tx = self.audit.begin(&self.db).await?;
        let download_id = uuid::Uuid::new_v4().to_string();
        if !rows::take_download(&mut tx, &share.id, &record, &download_id, share.max_downloads).await? {
            return Err(exhausted());
        }
        // Under the share row's lock (`take_download` took it): a revoke, an expiry or a shred
        // that landed while the file waited for stamping wins, and nothing is counted.
        let now = self.clock.now_ms();
        let share_live = rows::get(tx.conn(), &share.id).await?.is_some_and(|s| status(&s, now) == ShareStatus::Active);
        let still_shared = rows::document_ids(tx.conn(), &share.id).await?.contains(&d.id);
        let doc_live = docs::get(tx.conn(), &d.id).await?.is_some_and(|x| x.deleted_at.is_none() && !x.scan.held);
        if !(share_live && still_shared && doc_live) {
            return Err(Error::LinkNotFound);
        }
        let details = json!({
            "share_id": share.id, "document_id": d.id, "user_agent": record.user_agent,
            "watermarked": watermarked, "size": d.size,
        });
        tx.record(caller, AuditAction::ShareDownload, &format!("document:{}", d.id), details).await?;
        tx.commit().await?;
        Ok(SharedDownload { name: d.name, content_type: d.content_type, length, body })
    }

    /// Decrypts a whole document into memory (bounded by `watermark_max_size`, at most
    /// `watermark_at_once` at a time) and stamps it on the blocking pool.
    /// The permit comes back with the stamped file: it is held until the response is sent, so
    /// that stamped files waiting for slow clients count against `watermark_at_once` too.
    async fn stamp(self: &Arc<Self>, d: &DocumentRecord, stamp: Stamp) -> Result<(Vec<u8>, OwnedSemaphorePermit)> {
        let max = self.config.watermark_max_size.bytes();
        if d.size as u64 > max {
            return Err(Error::PayloadTooLarge(not_stampable()));
        }
        // A reader that never reads holds its permit until the connection's write-stall
        // timeout ends it; the others wait at most `busy_wait_secs` (review finding 4b).
        let wait = std::time::Duration::from_secs(self.config.busy_wait_secs.max(1));
        let permit = match tokio::time::timeout(wait, self.stamping.clone().acquire_owned()).await {
            Ok(permit) => permit.map_err(|e| Error::internal("stamping", e))?,
            Err(_) => return Err(Error::Busy("Too many downloads at once; please try again shortly.".into())),
        };
        let mut plain = Zeroizing::new(Vec::with_capacity(d.size as usize));
        let mut stream = Box::pin(self.plaintext(d).await?);
        while let Some(chunk) = stream.try_next().await.map_err(|e| Error::internal("decrypt", e))? {
            if (plain.len() + chunk.len()) as u64 > max {
                return Err(Error::PayloadTooLarge(not_stampable()));
            }
            plain.extend_from_slice(&chunk);
        }
        let content_type = d.content_type.clone();
        let stamped = tokio::task::spawn_blocking(move || stamp.apply(&content_type, &plain))
            .await
            .map_err(|e| Error::internal("stamp task", e))?;
        let stamped = stamped.map_err(|e| {
            tracing::warn!(document = %d.id, error = %e, "could not watermark a shared document");
            Error::Refused(Reason::said(
                format!("{} could not be watermarked, so it is not served; please ask the firm", d.name),
                said_with("refusal-stamp-failed", "name", &d.name),
            ))
        })?;
        Ok((stamped, permit))
    }
}

/// The stamped file in 1 MiB slices of one allocation; the stamping permit is released when
/// the last slice has been taken (or the client went away and the body was dropped).
fn sent_then_release(
    file: Bytes,
    permit: (OwnedSemaphorePermit, super::inflight::Slot),
) -> BoxStream<'static, io::Result<Bytes>> {
    const SLICE: usize = 1024 * 1024;
    futures_util::stream::unfold((file, 0, permit), |(file, at, permit)| async move {
        if at >= file.len() {
            return None; // `permit` is dropped here
        }
        let end = (at + SLICE).min(file.len());
        Some((Ok(file.slice(at..end)), (file, end, permit)))
    })
    .boxed()
}

/// A file past `watermark_max_size`: stamping it would hold it whole in memory.
fn not_stampable() -> Reason {
    Reason::said("this file is too large to be watermarked", Said::new("refusal-stamp-too-large"))
}
