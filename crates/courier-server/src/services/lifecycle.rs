//! Lifecycle, "transit, not archive" (DESIGN.md promise 8, `docs/lifecycle.md`): retention,
//! "filed in the DMS", legal holds, the one shredding path with its deletion journal, and the
//! purge of client addresses.

use std::io::Write;

use courier_core::time_fmt::rfc3339;
use courier_core::{DurationSpec, LifecycleFacts, ShredReason};
use courier_store::documents::{self as docs, DocumentRecord};
use courier_store::legal_holds::{self as holds, HoldRecord};
use serde::Serialize;
use serde_json::json;

use super::audit::{AuditAction, AuditedTx};
use super::authz::{Action, Resource};
use super::documents::DocumentView;
use super::{Caller, Courier};
use crate::error::{Said, bad_request, conflict, said_with};
use crate::{Error, Result};

/// Longest reason for a hold or its release, and longest DMS reference.
const MAX_REASON_CHARS: usize = 500;
const MAX_REFERENCE_CHARS: usize = 200;
/// Documents upkeep looks at per query, and at most per run (the next run goes on).
const DUE_PAGE: i64 = 200;
const DUE_PER_RUN: usize = 10_000;

/// A legal hold as staff and the CLI see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldView {
    pub id: String,
    pub matter_id: Option<String>,
    pub document_id: Option<String>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
    pub active: bool,
    pub released_by: Option<String>,
    pub released_at: Option<String>,
    pub release_reason: Option<String>,
}

fn hold_view(h: &HoldRecord) -> HoldView {
    HoldView {
        id: h.id.clone(),
        matter_id: h.matter_id.clone(),
        document_id: h.document_id.clone(),
        reason: h.reason.clone(),
        placed_by: h.placed_by.clone(),
        placed_at: rfc3339(h.placed_at),
        active: h.released_at.is_none(),
        released_by: h.released_by.clone(),
        released_at: h.released_at.map(rfc3339),
        release_reason: h.release_reason.clone(),
    }
}

/// What a hold is placed on.
#[derive(Debug, Clone)]
pub enum HoldSubject {
    /// Every document of the matter, also those uploaded later.
    Matter(String),
    Document(String),
}

/// What one round of upkeep shredded.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Shreddings {
    pub retention: usize,
    pub filed: usize,
    /// Due, but a legal hold placed meanwhile kept it.
    pub held: usize,
}

/// A reason or reference: one line, bounded, nothing invisible (`text_field`); `None` when an
/// optional one is empty.
fn short_text(what: &str, value: &str, max: usize, required: bool) -> Result<Option<String>> {
    let v = super::text_field(what, value, !required, max)?;
    Ok((!v.is_empty()).then_some(v))
}

impl Courier {
    /// The facts that decide when `d` goes by itself.
    pub(super) fn lifecycle_facts(&self, d: &DocumentRecord) -> LifecycleFacts {
        LifecycleFacts {
            uploaded_at: d.uploaded_at,
            portal_retention: d.lifecycle.portal_retention,
            matter_retention: d.lifecycle.matter_retention,
            default_retention: self.config.retention.as_millis(),
            filed_at: d.lifecycle.filed_at,
            filed_grace: self.config.filed_grace.as_millis(),
            on_hold: d.lifecycle.on_hold,
        }
    }

    /// When and why upkeep will shred a live document; `None` while it is held (or shredded).
    pub(super) fn shred_at(&self, d: &DocumentRecord) -> Option<(i64, ShredReason)> {
        d.deleted_at.is_none().then(|| self.lifecycle_facts(d).shred_at()).flatten()
    }

    /// The one way a document is shredded, whoever asks (staff, portal delete, retention, the
    /// filing grace; a restore shreds in its own loading transaction, see `backup`). Inside `tx`, it locks the document (and shares its
    /// matter's row, the order a hold takes them), refuses while any legal hold keeps it
    /// (`Conflict` naming the hold), forgets the wrapped key and records why. With `reason`
    /// `None` it is upkeep asking: the document goes only if it is due now by its locked row.
    ///
    /// `Ok(None)`: not due. After the commit, call [`Courier::after_shredding`].
    pub(super) async fn shred_in(
        &self,
        tx: &mut AuditedTx<'_>,
        caller: &Caller,
        id: &str,
        reason: Option<ShredReason>,
    ) -> Result<Option<DocumentRecord>> {
        let backend = self.db.backend();
        let d = docs::lock_for_shred(tx.conn(), backend, id).await?.ok_or(Error::NotFound)?;
        if let Some(hold) = holds::active_on(tx.conn(), &d.id, d.matter_id.as_deref()).await?.first() {
            let on = if hold.document_id.is_some() { "the document" } else { "its matter" };
            return Err(conflict(
                format!(
                    "document {} is under legal hold {} on {on} ({}); release the hold first",
                    d.id, hold.id, hold.reason
                ),
                said_with("staff-refused-under-hold", "reason", &hold.reason),
            ));
        }
        let now = self.clock.now_ms();
        let reason = match reason {
            Some(r) => r,
            None => match self.lifecycle_facts(&d).shred_at() {
                Some((at, why)) if at <= now => why,
                _ => return Ok(None),
            },
        };
        // Conditional on not being shredded yet: a concurrent delete must not be recorded twice.
        if !docs::shred(tx, &d.id, now, reason).await? {
            return Err(Error::NotFound);
        }
        let details = json!({
            "document_id": d.id, "portal_id": d.portal_id, "matter_id": d.matter_id, "size": d.size,
            "sha256": d.sha256, "reason": reason,
        });
        tx.record(caller, AuditAction::DocumentDelete, &format!("document:{}", d.id), details).await?;
        let mut d = d;
        (d.deleted_at, d.lifecycle.deletion_reason, d.wrapped_dek) = (Some(now), Some(reason), None);
        Ok(Some(d))
    }

    /// Once shreddings committed: appends them to the deletion journal and removes their
    /// blobs. Failures are logged; upkeep journals what is left (`journaled = 0`) and the
    /// orphan sweep removes the blobs. Returns whether SQLite's write-ahead log was cleared.
    pub(super) async fn after_shredding(&self, shredded: &[DocumentRecord]) -> bool {
        if shredded.is_empty() {
            return true;
        }
        let entries: Vec<(String, i64)> =
            shredded.iter().map(|d| (d.id.clone(), d.deleted_at.unwrap_or_else(|| self.clock.now_ms()))).collect();
        if let Err(e) = self.journal(&entries).await {
            tracing::error!(error = %e, detail = e.internal_detail(), "could not append to the deletion journal; upkeep retries");
        }
        let keys: Vec<String> = shredded.iter().map(|d| d.blob_key.clone()).collect();
        self.delete_blobs(&keys).await
    }

    /// Appends shreddings to `audit/shreds.log` (fsynced) and, with S3, as objects beside the
    /// blobs, then marks them journaled. A line may appear twice after a crash; replaying it
    /// twice shreds nothing more.
    async fn journal(&self, entries: &[(String, i64)]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = entries
            .iter()
            .map(|(id, at)| json!({ "document_id": id, "shredded_at": rfc3339(*at) }).to_string() + "\n")
            .collect();
        let path = self.config.data_dir.join("audit").join("shreds.log");
        let text = lines.concat();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            f.write_all(text.as_bytes())?;
            f.sync_data()
        })
        .await
        .map_err(|e| Error::internal("shreds.log task", e))?
        .map_err(|e| Error::internal("appending to audit/shreds.log", e))?;
        for ((id, _), line) in entries.iter().zip(&lines) {
            self.blobs.put_journal_entry(id, line.as_bytes()).await?;
            docs::mark_journaled(self.db.pool(), id).await?;
        }
        Ok(())
    }

    /// Journals shreddings whose append failed or was cut short by a crash.
    pub(super) async fn journal_pending(&self) -> Result<usize> {
        let pending = docs::unjournaled(self.db.pool(), 1000).await?;
        self.journal(&pending).await?;
        Ok(pending.len())
    }

    /// Shreds every document whose retention or filing grace has run out, one transaction
    /// each, skipping held ones (the query leaves them out; one held meanwhile is refused by
    /// `shred_in` and counted).
    pub(super) async fn shred_due(&self) -> Result<Shreddings> {
        let mut done = Shreddings::default();
        let mut seen = std::collections::HashSet::new();
        while seen.len() < DUE_PER_RUN {
            let now = self.clock.now_ms();
            let due = docs::due_for_shredding(
                self.db.pool(),
                now,
                self.config.retention.as_millis(),
                self.config.filed_grace.as_millis(),
                DUE_PAGE,
            )
            .await?;
            let fresh: Vec<String> = due.into_iter().filter(|id| seen.insert(id.clone())).collect();
            if fresh.is_empty() {
                break;
            }
            // One journal append and one blob pass per page, not per document.
            let mut shredded = Vec::new();
            for id in fresh {
                let outcome = async {
                    let mut tx = self.audit.begin(&self.db).await?;
                    let shredded = self.shred_in(&mut tx, &Caller::system(), &id, None).await?;
                    if shredded.is_some() {
                        tx.commit().await?;
                    }
                    Ok(shredded)
                }
                .await;
                match outcome {
                    Ok(Some(d)) => {
                        match d.lifecycle.deletion_reason {
                            Some(ShredReason::Filed) => done.filed += 1,
                            _ => done.retention += 1,
                        }
                        shredded.push(d);
                    }
                    Ok(None) | Err(Error::NotFound) => {}
                    Err(Error::Conflict(_)) => done.held += 1,
                    Err(e) => {
                        self.after_shredding(&shredded).await;
                        return Err(e);
                    }
                }
            }
            self.after_shredding(&shredded).await;
        }
        if done.retention + done.filed > 0 {
            tracing::info!(retention = done.retention, filed = done.filed, "shredded documents that were due");
        }
        Ok(done)
    }

    /// After a restore, whose transaction already shredded what the deletion journal names
    /// (so that no crash can leave them readable): records each of those shreddings, removes
    /// their blobs, journals them again, and records `backup.restored`.
    pub(super) async fn record_restore(
        &self,
        caller: &Caller,
        reshredded: &[String],
        backup_id: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let mut records = Vec::new();
        let mut tx = self.audit.begin(&self.db).await?;
        for id in reshredded {
            let Some(d) = docs::get(tx.conn(), id).await? else { continue };
            let event = json!({
                "document_id": d.id, "portal_id": d.portal_id, "matter_id": d.matter_id, "size": d.size,
                "sha256": d.sha256, "reason": ShredReason::RestoredJournal,
            });
            tx.record(caller, AuditAction::DocumentDelete, &format!("document:{id}"), event).await?;
            records.push(d);
        }
        tx.record(caller, AuditAction::BackupRestored, &format!("backup:{backup_id}"), details).await?;
        tx.commit().await?;
        self.after_shredding(&records).await;
        Ok(())
    }

    /// Makes client addresses older than `client_ip_retention` unreadable: the audit trail's
    /// readable copies (the chain keeps only their keyed hash) and the share download records.
    pub(super) async fn redact_client_addresses(&self) -> Result<u64> {
        let before = self.clock.now_ms() - self.config.client_ip_retention.as_millis();
        let mut tx = self.audit.begin(&self.db).await?;
        let events = courier_store::audit::purge_addresses(tx.conn(), before).await?;
        let downloads = courier_store::shares::redact_download_addresses(tx.conn(), before).await?;
        if events + downloads == 0 {
            return Ok(0);
        }
        let details = json!({ "audit_events": events, "share_downloads": downloads,
            "older_than": rfc3339(before) });
        tx.record(&Caller::system(), AuditAction::AddressesRedacted, "audit", details).await?;
        tx.commit().await?;
        Ok(events + downloads)
    }

    /// Places a legal hold. Under the subject's row lock: a shredding that locked first
    /// finishes before it (and the hold is then refused for a shredded document), one that
    /// comes later sees the hold.
    pub(super) async fn place_hold(&self, caller: &Caller, subject: HoldSubject, reason: &str) -> Result<HoldView> {
        let reason = short_text("reason", reason, MAX_REASON_CHARS, true)?.unwrap_or_default();
        let (matter_id, document_id) = match &subject {
            HoldSubject::Matter(m) => (Some(self.resolve_matter(caller, m, false).await?.id), None),
            HoldSubject::Document(d) => (None, Some(docs::get(self.db.pool(), d).await?.ok_or(Error::NotFound)?)),
        };
        let on_matter = matter_id.clone().or_else(|| document_id.as_ref().and_then(|d| d.matter_id.clone()));
        let resource = self.matter_resource(on_matter.as_deref().unwrap_or(courier_store::matters::GENERAL)).await?;
        self.authorize(caller, Action::MatterHold, &resource).await?;
        let document_id = document_id.map(|d| d.id);
        let hold = HoldRecord {
            id: uuid::Uuid::new_v4().to_string(),
            matter_id,
            document_id,
            reason,
            placed_by: caller.actor.to_string(),
            placed_at: self.clock.now_ms(),
            released_by: None,
            released_at: None,
            release_reason: None,
        };
        let mut tx = self.audit.begin(&self.db).await?;
        holds::lock_subject(tx.conn(), self.db.backend(), hold.matter_id.as_deref(), hold.document_id.as_deref())
            .await?;
        if let Some(d) = &hold.document_id {
            let live = docs::get(tx.conn(), d).await?.is_some_and(|d| d.deleted_at.is_none());
            if !live {
                return Err(conflict(
                    format!("document {d} is already shredded; there is nothing to hold"),
                    Said::new("staff-refused-hold-shredded"),
                ));
            }
        }
        holds::insert(tx.conn(), &hold).await?;
        let details = json!({ "hold_id": hold.id, "matter_id": hold.matter_id, "document_id": hold.document_id,
            "reason": hold.reason });
        tx.record(caller, AuditAction::HoldPlaced, &format!("hold:{}", hold.id), details).await?;
        tx.commit().await?;
        Ok(hold_view(&hold))
    }

    /// Releases a hold; what it kept is shredded at the next upkeep if it is due by then.
    pub(super) async fn release_hold(&self, caller: &Caller, id: &str, reason: &str) -> Result<HoldView> {
        let reason = short_text("reason", reason, MAX_REASON_CHARS, true)?.unwrap_or_default();
        let hold = holds::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        self.authorize(caller, Action::MatterHold, &self.hold_resource(&hold).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        let now = self.clock.now_ms();
        if !holds::release(tx.conn(), id, &caller.actor.to_string(), now, &reason).await? {
            return Err(conflict(format!("hold {id} is released already"), Said::new("staff-refused-hold-released")));
        }
        let details = json!({ "hold_id": id, "matter_id": hold.matter_id, "document_id": hold.document_id,
            "reason": reason });
        tx.record(caller, AuditAction::HoldReleased, &format!("hold:{id}"), details).await?;
        tx.commit().await?;
        let released = holds::get(self.db.pool(), id).await?.ok_or(Error::NotFound)?;
        Ok(hold_view(&released))
    }

    /// The holds the caller may see (of matters they may view), newest first.
    pub(super) async fn list_holds(&self, caller: &Caller, include_released: bool) -> Result<Vec<HoldView>> {
        let mut out = Vec::new();
        let mut sieve = self.sieve(caller).await?;
        for h in holds::list(self.db.pool(), include_released).await? {
            let matter = sieve.matter(&self.hold_matter(&h).await?).await?;
            if sieve.may(Action::MatterView, &Resource::Matter(matter)) {
                out.push(hold_view(&h));
            }
        }
        Ok(out)
    }

    /// The holds that keep one document (its own and its matter's).
    pub(super) async fn holds_on(&self, d: &DocumentRecord) -> Result<Vec<HoldView>> {
        Ok(holds::active_on(self.db.pool(), &d.id, d.matter_id.as_deref()).await?.iter().map(hold_view).collect())
    }

    /// The matter a hold is about, for policy decisions.
    async fn hold_resource(&self, h: &HoldRecord) -> Result<Resource> {
        self.matter_resource(&self.hold_matter(h).await?).await
    }

    /// The id of the matter a hold is about (a document's own, for a hold on one document).
    async fn hold_matter(&self, h: &HoldRecord) -> Result<String> {
        let matter = match (&h.matter_id, &h.document_id) {
            (Some(m), _) => Some(m.clone()),
            (None, Some(d)) => docs::get(self.db.pool(), d).await?.and_then(|d| d.matter_id),
            (None, None) => None,
        };
        Ok(matter.unwrap_or_else(|| courier_store::matters::GENERAL.to_owned()))
    }

    /// Marks documents as filed in the firm's DMS, all or none: each goes once `filed_grace`
    /// has passed (unless held).
    pub(super) async fn mark_filed(
        &self,
        caller: &Caller,
        ids: &[String],
        reference: Option<&str>,
    ) -> Result<Vec<DocumentView>> {
        if ids.is_empty() {
            return Err(bad_request("name at least one document", Said::new("staff-refused-no-document")));
        }
        let reference = short_text("DMS reference", reference.unwrap_or(""), MAX_REFERENCE_CHARS, false)?;
        for id in ids {
            let d = docs::get(self.db.pool(), id).await?.filter(|d| d.deleted_at.is_none()).ok_or(Error::NotFound)?;
            self.authorize(caller, Action::DocumentFile, &self.document_resource(&d).await?).await?;
        }
        let now = self.clock.now_ms();
        let mut tx = self.audit.begin(&self.db).await?;
        for id in ids {
            if !docs::mark_filed(tx.conn(), id, now, reference.as_deref()).await? {
                return Err(Error::NotFound);
            }
        }
        let details = json!({ "document_ids": ids, "reference": reference, "filed_grace": self.config.filed_grace });
        let target = if ids.len() == 1 { format!("document:{}", ids[0]) } else { "documents".to_owned() };
        tx.record(caller, AuditAction::DocumentFiled, &target, details).await?;
        tx.commit().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.document(id).await?);
        }
        Ok(out)
    }

    /// Marks every live, not yet filed document of a portal as filed; returns how many.
    pub(super) async fn mark_portal_filed(
        &self,
        caller: &Caller,
        portal_id: &str,
        reference: Option<&str>,
    ) -> Result<usize> {
        self.authorize_portal(caller, Action::PortalView, portal_id).await?;
        let ids: Vec<String> = docs::list(self.db.pool(), Some(portal_id), false)
            .await?
            .into_iter()
            .filter(|d| d.lifecycle.filed_at.is_none())
            .map(|d| d.id)
            .collect();
        if ids.is_empty() {
            return Ok(0);
        }
        Ok(self.mark_filed(caller, &ids, reference).await?.len())
    }

    /// Gives a portal its own retention, or (`None`) hands it back to its matter's.
    pub(super) async fn set_portal_retention(
        &self,
        caller: &Caller,
        id: &str,
        retention: Option<DurationSpec>,
    ) -> Result<()> {
        self.authorize_portal(caller, Action::PortalManage, id).await?;
        // A shorter retention shreds sooner: it takes the right to set the matter's.
        let matter = self.portal(id).await?.matter_id.unwrap_or_else(|| courier_store::matters::GENERAL.to_owned());
        self.authorize(caller, Action::MatterRetention, &self.matter_resource(&matter).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !courier_store::portals::set_retention(tx.conn(), id, retention.map(DurationSpec::as_millis)).await? {
            return Err(Error::NotFound);
        }
        let details = json!({ "portal_id": id, "retention": retention });
        tx.record(caller, AuditAction::PortalRetention, &format!("portal:{id}"), details).await?;
        tx.commit().await
    }

    /// Gives a matter its own retention, or (`None`) hands it back to the firm's.
    pub(super) async fn set_matter_retention(
        &self,
        caller: &Caller,
        matter: &str,
        retention: Option<DurationSpec>,
    ) -> Result<()> {
        let m = self.resolve_matter(caller, matter, false).await?;
        self.authorize(caller, Action::MatterRetention, &self.matter_resource(&m.id).await?).await?;
        let mut tx = self.audit.begin(&self.db).await?;
        if !courier_store::matters::set_retention(tx.conn(), &m.id, retention.map(DurationSpec::as_millis)).await? {
            return Err(Error::NotFound);
        }
        let details = json!({ "matter_id": m.id, "retention": retention });
        tx.record(caller, AuditAction::MatterRetention, &format!("matter:{}", m.id), details).await?;
        tx.commit().await
    }
}
