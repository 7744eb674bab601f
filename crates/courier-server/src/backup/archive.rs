//! The backup file: a POSIX tar stream encrypted with age (`docs/backups.md`), written and
//! read as a stream. The tar headers come from the `tar` crate; the streaming around them (no
//! entry is held in memory, and the sizes are known before each entry) is written here,
//! because the crate's builder and archive are synchronous and want whole readers.

use std::io;
use std::pin::Pin;

use age::secrecy::ExposeSecret;
use courier_crypto::Sha256;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::compat::{
    FuturesAsyncReadCompatExt, FuturesAsyncWriteCompatExt, TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt,
};

use crate::{Error, Result};

/// The format of the manifest and the layout it describes.
pub const FORMAT: &str = "courier-backup/1";
/// Every entry lives under this directory of the tar.
pub const ROOT: &str = "courier-backup";
const BLOCK: usize = 512;

/// The last entry of a backup: what it holds, with the SHA-256 of every other entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub id: String,
    pub created_at: String,
    /// The newest migration of the database it was taken from.
    pub schema_version: i64,
    pub audit_seq: i64,
    pub documents: u64,
    pub blobs: u64,
    /// Documents whose blob was removed by a shredding while the backup ran: a restore shreds
    /// them again (they are in the deletion journal too).
    pub shredded_during_backup: Vec<String>,
    /// Path in the tar -> (size, SHA-256 hex), for every entry but the manifest.
    pub parts: std::collections::BTreeMap<String, (u64, String)>,
    /// The installation's audit public key (hex), and its Ed25519 signature over the manifest
    /// without `signature` (RFC 8785), prefixed with `SIGNED_AS`.
    pub public_key: String,
    pub signature: String,
}

/// What a manifest signature covers before the canonical manifest.
pub const SIGNED_AS: &[u8] = b"courier backup manifest v1\n";

impl Manifest {
    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> Result<Vec<u8>> {
        let mut value = serde_json::to_value(self).map_err(|e| Error::internal("manifest", e))?;
        if let Some(m) = value.as_object_mut() {
            m.remove("signature");
        }
        let mut out = SIGNED_AS.to_vec();
        out.extend(crate::services::certificates::canonical(&value)?);
        Ok(out)
    }

    /// Whether the signature is the one `public_key` made over this manifest.
    pub fn signature_holds(&self) -> bool {
        let (Ok(key), Ok(sig)) = (hex::decode(&self.public_key), hex::decode(&self.signature)) else { return false };
        self.signed_bytes().is_ok_and(|m| courier_crypto::audit::verify_signature(&key, &m, &sig))
    }
}

/// An age X25519 identity and its recipient, as `age-keygen` writes them.
pub fn keygen() -> (String, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let text = format!(
        "# created: {}\n# public key: {recipient}\n{}\n",
        courier_core::time_fmt::rfc3339(courier_core::time_fmt::now_ms()),
        identity.to_string().expose_secret()
    );
    (text, recipient)
}

/// The recipient; the error never repeats what was given (it may be a pasted identity, which
/// would then end up in logs and failure mails).
pub fn parse_recipient(text: &str) -> Result<age::x25519::Recipient> {
    let text = text.trim();
    if text.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-") {
        return Err(Error::BadRequest(
            "that is an age identity, which must stay offline: give its recipient (age1…, the \"public key\" line)"
                .into(),
        ));
    }
    text.parse().map_err(|_| Error::BadRequest("the backup recipient is not an age recipient (age1…)".into()))
}

/// The identity in an identity file (comments and blank lines aside).
pub fn parse_identity(text: &str) -> Result<age::x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|l| l.parse().ok())
        .ok_or_else(|| Error::BadRequest("the identity file holds no age identity (AGE-SECRET-KEY-1…)".into()))
}

pub type Sink = Pin<Box<dyn AsyncWrite + Send>>;
pub type Source = Pin<Box<dyn AsyncRead + Send>>;

/// `sink`, with what is written to it encrypted to `recipient` (shut the result down to end
/// the age stream).
pub async fn encrypting(sink: Sink, recipient: &age::x25519::Recipient) -> Result<Sink> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
        .map_err(|e| Error::internal("age encryptor", e))?;
    let stream = encryptor.wrap_async_output(TokioAsyncWriteCompatExt::compat_write(sink)).await?;
    Ok(Box::pin(FuturesAsyncWriteCompatExt::compat_write(stream)))
}

/// `source`, decrypted with `identity`; a wrong identity or a file that is not age fails here,
/// a changed byte fails when its chunk is read.
pub async fn decrypting(source: Source, identity: &age::x25519::Identity) -> Result<Source> {
    let buffered = tokio::io::BufReader::with_capacity(64 * 1024, source).compat();
    let decryptor = age::Decryptor::new_async_buffered(buffered)
        .await
        .map_err(|e| Error::BadRequest(format!("not a readable backup: {e}").into()))?;
    let reader = decryptor
        .decrypt_async(std::iter::once(identity as &dyn age::Identity))
        .map_err(|e| Error::BadRequest(format!("this identity does not open the backup: {e}").into()))?;
    Ok(Box::pin(reader.compat()))
}

/// Writes tar entries, each streamed with its size known beforehand, and hashes them.
pub struct TarWriter {
    out: Sink,
    pub bytes: u64,
    mtime: u64,
    pub parts: std::collections::BTreeMap<String, (u64, String)>,
    open: Option<OpenEntry>,
}

struct OpenEntry {
    name: String,
    size: u64,
    left: u64,
    hash: Sha256,
}

impl TarWriter {
    pub fn new(out: Sink) -> Self {
        let mtime = (courier_core::time_fmt::now_ms() / 1000).max(0) as u64;
        Self { out, bytes: 0, mtime, parts: Default::default(), open: None }
    }

    /// Starts an entry of exactly `size` bytes; `write` them, then `end`.
    pub async fn begin(&mut self, name: &str, size: u64) -> Result<()> {
        if self.open.is_some() {
            return Err(Error::Internal("a tar entry is still open".into()));
        }
        let mut header = tar::Header::new_ustar();
        header.set_path(format!("{ROOT}/{name}")).map_err(|e| Error::internal("tar header", e))?;
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        self.out.write_all(header.as_bytes()).await?;
        self.open = Some(OpenEntry { name: name.to_owned(), size, left: size, hash: Sha256::default() });
        Ok(())
    }

    pub async fn write(&mut self, data: &[u8]) -> Result<()> {
        let entry = self.open.as_mut().ok_or_else(|| Error::Internal("no tar entry is open".into()))?;
        if data.len() as u64 > entry.left {
            return Err(Error::Internal(format!("{} grew while it was backed up", entry.name)));
        }
        entry.left -= data.len() as u64;
        entry.hash.update(data);
        self.out.write_all(data).await?;
        Ok(())
    }

    pub async fn end(&mut self) -> Result<()> {
        let entry = self.open.take().ok_or_else(|| Error::Internal("no tar entry is open".into()))?;
        if entry.left != 0 {
            return Err(Error::Internal(format!(
                "{} ended {} bytes early while it was backed up",
                entry.name, entry.left
            )));
        }
        let rest = (BLOCK - (entry.size % BLOCK as u64) as usize) % BLOCK;
        self.out.write_all(&[0u8; BLOCK][..rest]).await?;
        self.bytes += BLOCK as u64 + entry.size.div_ceil(BLOCK as u64) * BLOCK as u64;
        self.parts.insert(entry.name, (entry.size, hex::encode(entry.hash.finish())));
        Ok(())
    }

    /// One entry streamed from `data`, which must hold exactly `size` bytes.
    pub async fn entry(&mut self, name: &str, size: u64, data: &mut (dyn AsyncRead + Unpin + Send)) -> Result<()> {
        self.begin(name, size).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = data.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            self.write(&buf[..n]).await?;
        }
        self.end().await
    }

    pub async fn entry_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.begin(name, bytes.len() as u64).await?;
        self.write(bytes).await?;
        self.end().await
    }

    /// Writes the manifest as the last entry, the end-of-archive blocks, and ends the stream.
    pub async fn finish(mut self, manifest: &Manifest) -> Result<u64> {
        let text = serde_json::to_vec_pretty(manifest).map_err(|e| Error::internal("manifest", e))?;
        self.entry_bytes("manifest.json", &text).await?;
        self.out.write_all(&[0u8; 2 * BLOCK]).await?;
        self.out.shutdown().await?;
        Ok(self.bytes + 2 * BLOCK as u64)
    }
}

/// Reads tar entries one after the other.
pub struct TarReader {
    inp: Source,
}

impl TarReader {
    pub fn new(inp: Source) -> Self {
        Self { inp }
    }

    /// The next entry's name (under `ROOT/`) and size; `None` at the end of the archive.
    pub async fn next(&mut self) -> Result<Option<(String, u64)>> {
        let mut block = [0u8; BLOCK];
        self.inp.read_exact(&mut block).await.map_err(truncated)?;
        if block.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let header = tar::Header::from_byte_slice(&block);
        let bad = || Error::BadRequest("the backup's archive is damaged (a tar header does not check)".into());
        let sum: u32 =
            block.iter().enumerate().map(|(i, b)| if (148..156).contains(&i) { 32 } else { u32::from(*b) }).sum();
        if header.cksum().map_err(|_| bad())? != sum {
            return Err(bad());
        }
        let path = header.path().map_err(|_| bad())?.to_string_lossy().into_owned();
        let name = path.strip_prefix(&format!("{ROOT}/")).ok_or_else(bad)?.to_owned();
        let size = header.size().map_err(|_| bad())?;
        Ok(Some((name, size)))
    }

    /// The body of the entry just named (read it whole), then `end_entry`.
    pub fn body(&mut self, size: u64) -> tokio::io::Take<&mut Source> {
        (&mut self.inp).take(size)
    }

    pub async fn end_entry(&mut self, size: u64) -> Result<()> {
        let rest = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        let mut pad = [0u8; BLOCK];
        self.inp.read_exact(&mut pad[..rest]).await.map_err(truncated)?;
        Ok(())
    }
}

fn truncated(e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => Error::BadRequest("the backup is truncated".into()),
        _ => Error::BadRequest(format!("the backup cannot be read: {e}").into()),
    }
}

/// Reads a whole entry body; its SHA-256 hex.
pub async fn hash_body(body: &mut (dyn AsyncRead + Unpin + Send), size: u64) -> Result<String> {
    let mut hash = Sha256::default();
    let mut buf = vec![0u8; 256 * 1024];
    let mut left = size;
    while left > 0 {
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = body.read(&mut buf[..want]).await.map_err(truncated)?;
        if n == 0 {
            return Err(Error::BadRequest("the backup is truncated".into()));
        }
        hash.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(hex::encode(hash.finish()))
}

/// Reads through to `inner`, hashing what passes (a restore's second pass checks each part
/// again, so a file changed between the two passes is refused before the commit).
pub struct Hashing<R> {
    inner: R,
    hash: Option<Sha256>,
}

impl<R> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, hash: Some(Sha256::default()) }
    }

    pub fn finish(&mut self) -> String {
        hex::encode(self.hash.take().unwrap_or_default().finish())
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Hashing<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = &polled
            && let Some(h) = self.hash.as_mut()
        {
            h.update(&buf.filled()[before..]);
        }
        polled
    }
}
