//! "Download all": a portal's documents as one ZIP, streamed. Each document is decrypted
//! segment by segment straight into its ZIP entry (stored, not compressed: documents are
//! mostly compressed formats already, and storing keeps the CPU free), so memory stays
//! bounded whatever the total size. Each document is audited as a download.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipEntryBuilder};
use bytes::Bytes;
use courier_store::documents::Scope;
use futures_util::{AsyncWriteExt, Stream, StreamExt};
use tokio_util::io::ReaderStream;

use super::pages::PageRequest;
use super::{Caller, Courier};
use crate::Result;

/// Documents read from the database at a time.
const ARCHIVE_PAGE: u32 = 200;
/// Pipe between the ZIP writer task and the response body.
const PIPE_BYTES: usize = 256 * 1024;

impl Courier {
    /// Streams every live document of `portal_id` as a ZIP archive. A document that fails to
    /// decrypt ends the stream with an error, so the client never gets a ZIP that looks whole.
    pub(super) async fn portal_archive(
        self: &Arc<Self>,
        caller: &Caller,
        portal_id: &str,
    ) -> Result<(String, impl Stream<Item = io::Result<Bytes>> + Send + 'static)> {
        let portal = self.portal_for(caller, portal_id).await?;
        let first = self.document_page(Scope::Portal(portal_id), false, &PageRequest::first(ARCHIVE_PAGE)).await?;
        // Held documents (quarantine, malware) are served by no download, this one included.
        if first.next.is_none() && first.items.iter().all(|d| d.scan.held) {
            return Err(crate::error::bad_request(
                "this portal has no documents to download",
                crate::error::Said::new("staff-refused-archive-empty"),
            ));
        }
        let (writer, reader) = tokio::io::duplex(PIPE_BYTES);
        let courier = Arc::clone(self);
        let caller = caller.clone();
        let portal_id = portal_id.to_owned();
        let task = tokio::spawn(async move {
            let mut zip = ZipFileWriter::with_tokio(writer);
            let mut names = HashSet::new();
            let mut page = first;
            loop {
                for doc in page.items.iter().filter(|d| !d.scan.held) {
                    let (_, plaintext) = courier.open_document(&caller, &doc.id).await.map_err(io::Error::other)?;
                    let mut plaintext = std::pin::pin!(plaintext);
                    let entry = ZipEntryBuilder::new(unique_name(&mut names, &doc.name).into(), Compression::Stored);
                    let mut out = zip.write_entry_stream(entry).await.map_err(io::Error::other)?;
                    while let Some(chunk) = plaintext.next().await {
                        out.write_all(&chunk?).await?;
                    }
                    out.close().await.map_err(io::Error::other)?;
                }
                let Some(next) = page.next else { break };
                let req = PageRequest::after(&next, ARCHIVE_PAGE).map_err(io::Error::other)?;
                page = courier.document_page(Scope::Portal(&portal_id), false, &req).await.map_err(io::Error::other)?;
            }
            zip.close().await.map_err(io::Error::other)?;
            Ok::<_, io::Error>(())
        });
        // After the pipe is drained, surface the writer's outcome: an error must reach the
        // client as a broken transfer, not as a short but well-formed-looking body.
        let outcome = futures_util::stream::once(async move {
            match task.await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(Err(e)),
                Err(e) => Some(Err(io::Error::other(e))),
            }
        })
        .filter_map(|r| async move { r });
        let filename = format!("{}.zip", portal.label);
        Ok((filename, ReaderStream::new(reader).chain(outcome)))
    }
}

/// ZIP entry names must be unique for most unzip tools: "a.pdf", "a (2).pdf", …
fn unique_name(used: &mut HashSet<String>, name: &str) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    let mut candidate = name.to_owned();
    let mut n = 2;
    while !used.insert(candidate.to_lowercase()) {
        candidate = format!("{stem} ({n}){ext}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_made_unique() {
        let mut used = std::collections::HashSet::new();
        assert_eq!(super::unique_name(&mut used, "a.pdf"), "a.pdf");
        assert_eq!(super::unique_name(&mut used, "A.pdf"), "A (2).pdf");
        assert_eq!(super::unique_name(&mut used, "a.pdf"), "a (3).pdf");
        assert_eq!(super::unique_name(&mut used, "notes"), "notes");
        assert_eq!(super::unique_name(&mut used, "notes"), "notes (2)");
    }
}
