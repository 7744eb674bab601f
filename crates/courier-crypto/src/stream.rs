//! Content encryption, format v1 (DESIGN.md, `docs/format.md`): AES-256-GCM over 64 KiB
//! plaintext segments with the STREAM construction.
//!
//! ```text
//! blob    = header ‖ segment_0 ‖ … ‖ segment_n        (segment_n is the only "last" one)
//! header  = "CRR1" ‖ version (1) ‖ segment size (u32 BE) ‖ nonce prefix (7 random bytes)
//! nonce_i = nonce prefix ‖ i (u32 BE) ‖ last flag (0x00 or 0x01)
//! aad     = header ‖ document id (16 bytes)
//! ```
//!
//! Both directions are push-style (`push` then `finish`) so the caller decides where the bytes
//! come from and go to, and memory stays at one segment whatever the file size. The decryptor
//! releases a segment's plaintext only after its tag verified.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::keys::Dek;
use crate::{CryptoError, Result, random_bytes};

pub const MAGIC: &[u8; 4] = b"CRR1";
pub const VERSION: u8 = 1;
pub const SEGMENT_SIZE: usize = 64 * 1024;
pub const TAG_LEN: usize = 16;
pub const HEADER_LEN: usize = 4 + 1 + 4 + NONCE_PREFIX_LEN;
const NONCE_PREFIX_LEN: usize = 7;
const SEALED_SEGMENT_LEN: usize = SEGMENT_SIZE + TAG_LEN;

/// Ciphertext length of a blob holding `plaintext_len` bytes.
pub fn blob_len(plaintext_len: u64) -> u64 {
    let segments = plaintext_len.div_ceil(SEGMENT_SIZE as u64).max(1);
    HEADER_LEN as u64 + plaintext_len + segments * TAG_LEN as u64
}

struct SegmentCipher {
    key: LessSafeKey,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
    aad: [u8; HEADER_LEN + 16],
    counter: u32,
}

impl SegmentCipher {
    fn new(dek: &Dek, header: [u8; HEADER_LEN], document_id: &[u8; 16]) -> Result<Self> {
        let key = UnboundKey::new(&AES_256_GCM, dek.as_bytes()).map_err(|_| CryptoError::BadKeyMaterial("data key"))?;
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        nonce_prefix.copy_from_slice(&header[9..]);
        let mut aad = [0u8; HEADER_LEN + 16];
        aad[..HEADER_LEN].copy_from_slice(&header);
        aad[HEADER_LEN..].copy_from_slice(document_id);
        Ok(Self { key: LessSafeKey::new(key), nonce_prefix, aad, counter: 0 })
    }

    fn nonce(&self, last: bool) -> Nonce {
        self.nonce_at(self.counter, last)
    }

    fn nonce_at(&self, index: u32, last: bool) -> Nonce {
        let mut n = [0u8; NONCE_LEN];
        n[..NONCE_PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        n[NONCE_PREFIX_LEN..NONCE_LEN - 1].copy_from_slice(&index.to_be_bytes());
        n[NONCE_LEN - 1] = u8::from(last);
        Nonce::assume_unique_for_key(n)
    }

    fn advance(&mut self) -> Result<()> {
        self.counter = self.counter.checked_add(1).ok_or(CryptoError::TooLong)?;
        Ok(())
    }
}

/// Encrypts a document as it streams in.
pub struct Encryptor {
    cipher: SegmentCipher,
    pending: Vec<u8>,
    finished_last: bool,
}

impl Encryptor {
    /// Starts a blob for `document_id`. Returns the encryptor and the header bytes, which are
    /// the first bytes of the blob.
    pub fn new(dek: &Dek, document_id: &[u8; 16]) -> Result<(Self, [u8; HEADER_LEN])> {
        let mut prefix = [0u8; NONCE_PREFIX_LEN];
        random_bytes(&mut prefix)?;
        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(MAGIC);
        header[4] = VERSION;
        header[5..9].copy_from_slice(&(SEGMENT_SIZE as u32).to_be_bytes());
        header[9..].copy_from_slice(&prefix);
        let cipher = SegmentCipher::new(dek, header, document_id)?;
        let pending = Vec::with_capacity(SEALED_SEGMENT_LEN);
        Ok((Self { cipher, pending, finished_last: false }, header))
    }

    /// Continues a blob whose `header` and first `sealed_segments` segments are already
    /// written (a resumable upload between two requests): the next segment gets the next
    /// index, and the plaintext that was pending is given back with `push`.
    pub fn resume(dek: &Dek, document_id: &[u8; 16], header: &[u8], sealed_segments: u32) -> Result<Self> {
        let header = parse_header(header)?;
        let mut cipher = SegmentCipher::new(dek, header, document_id)?;
        cipher.counter = sealed_segments;
        Ok(Self { cipher, pending: Vec::with_capacity(SEALED_SEGMENT_LEN), finished_last: false })
    }

    /// Segments sealed so far.
    pub fn sealed_segments(&self) -> u32 {
        self.cipher.counter
    }

    /// The plaintext not yet sealed (at most one segment), to be kept aside with
    /// [`seal_aside`] until the stream resumes.
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Adds plaintext; appends every completed sealed segment to `out`. A full segment is
    /// sealed only once more data shows it is not the last one.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        while !data.is_empty() {
            if self.pending.len() == SEGMENT_SIZE {
                self.seal_pending(false, out)?;
            }
            let take = (SEGMENT_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Seals the final segment (possibly empty) into `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.seal_pending(true, out)?;
        self.finished_last = true;
        Ok(())
    }

    fn seal_pending(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let nonce = self.cipher.nonce(last);
        let tag = self
            .cipher
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&self.cipher.aad[..]), &mut self.pending)
            .map_err(|_| CryptoError::TooLong)?;
        out.extend_from_slice(&self.pending);
        out.extend_from_slice(tag.as_ref());
        self.pending.clear();
        self.cipher.advance()
    }
}

const ASIDE_NONCE_LEN: usize = 12;

/// Seals a short piece of plaintext (a resumable upload's pending segment) under a blob's data
/// key with a random nonce, bound to `aad`. Random 96-bit nonces do not meet the stream's own
/// (prefix ‖ index ‖ flag) ones but with negligible probability.
pub fn seal_aside(dek: &Dek, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, dek.as_bytes()).map_err(|_| CryptoError::BadKeyMaterial("data key"))?,
    );
    let mut nonce = [0u8; ASIDE_NONCE_LEN];
    random_bytes(&mut nonce)?;
    let mut out = Vec::with_capacity(ASIDE_NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut out[ASIDE_NONCE_LEN..])
        .map_err(|_| CryptoError::TooLong)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens what [`seal_aside`] sealed with the same `aad`.
pub fn open_aside(dek: &Dek, aad: &[u8], sealed: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    if sealed.len() < ASIDE_NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Truncated);
    }
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, dek.as_bytes()).map_err(|_| CryptoError::BadKeyMaterial("data key"))?,
    );
    let mut nonce = [0u8; ASIDE_NONCE_LEN];
    nonce.copy_from_slice(&sealed[..ASIDE_NONCE_LEN]);
    let mut buf = zeroize::Zeroizing::new(sealed[ASIDE_NONCE_LEN..].to_vec());
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
        .map_err(|_| CryptoError::BadSegment(u32::MAX))?
        .len();
    buf.truncate(len);
    Ok(buf)
}

/// Decrypts a blob as it streams out, releasing only authenticated plaintext.
pub struct Decryptor {
    dek: Dek,
    document_id: [u8; 16],
    cipher: Option<SegmentCipher>,
    buf: Vec<u8>,
}

impl Decryptor {
    pub fn new(dek: Dek, document_id: &[u8; 16]) -> Self {
        Self { dek, document_id: *document_id, cipher: None, buf: Vec::with_capacity(2 * SEALED_SEGMENT_LEN) }
    }

    /// Adds ciphertext; appends the plaintext of every segment known not to be the last one,
    /// once it authenticated.
    pub fn push(&mut self, data: &[u8], out: &mut impl PlainOut) -> Result<()> {
        self.buf.extend_from_slice(data);
        self.open_complete(out)
    }

    /// Reads up to `max` bytes of ciphertext from `reader` straight into the decryptor's
    /// buffer (no copy on the way) and appends the plaintext as [`Decryptor::push`] does.
    /// Returns how many bytes it read: fewer than `max` only at the end of the blob, after
    /// which the caller calls [`Decryptor::finish`].
    pub fn read_from(
        &mut self,
        reader: &mut impl std::io::Read,
        max: usize,
        out: &mut impl PlainOut,
    ) -> std::io::Result<usize> {
        use std::io::Read;
        let before = self.buf.len();
        self.buf.reserve(max);
        reader.take(max as u64).read_to_end(&mut self.buf)?;
        let read = self.buf.len() - before;
        self.open_complete(out).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        Ok(read)
    }

    /// Opens every buffered segment known not to be the last one.
    fn open_complete(&mut self, out: &mut impl PlainOut) -> Result<()> {
        if self.cipher.is_none() {
            if self.buf.len() < HEADER_LEN {
                return Ok(());
            }
            let header = parse_header(&self.buf[..HEADER_LEN])?;
            self.cipher = Some(SegmentCipher::new(&self.dek, header, &self.document_id)?);
            self.buf.drain(..HEADER_LEN);
        }
        // A segment is known to be non-last only when more bytes follow it.
        let mut start = 0;
        while self.buf.len() - start > SEALED_SEGMENT_LEN {
            let end = start + SEALED_SEGMENT_LEN;
            self.open_segment(start, end, false, out)?;
            start = end;
        }
        self.buf.drain(..start);
        Ok(())
    }

    /// Authenticates and releases the last segment. Fails on a truncated blob.
    pub fn finish(mut self, out: &mut impl PlainOut) -> Result<()> {
        if self.cipher.is_none() || self.buf.len() < TAG_LEN {
            return Err(CryptoError::Truncated);
        }
        let len = self.buf.len();
        self.open_segment(0, len, true, out)
    }

    fn open_segment(&mut self, start: usize, end: usize, last: bool, out: &mut impl PlainOut) -> Result<()> {
        let cipher = self.cipher.as_mut().ok_or(CryptoError::Truncated)?;
        let index = cipher.counter;
        let nonce = cipher.nonce(last);
        // Decrypted straight into `out` (no copy of the plaintext). On a bad tag aws-lc
        // clears what it wrote, and `out` does not take it: nothing unauthenticated is released.
        let (ciphertext, tag) = self.buf[start..end].split_at(end - start - TAG_LEN);
        let aad = Aad::from(&cipher.aad[..]);
        let opened = out.append_with(ciphertext.len(), |spare| {
            cipher.key.open_separate_gather(nonce, aad, ciphertext, tag, spare).is_ok()
        });
        if !opened {
            return Err(CryptoError::BadSegment(index));
        }
        cipher.advance()
    }
}

/// Where a [`Decryptor`] releases plaintext.
pub trait PlainOut {
    /// Calls `fill` with `n` writable bytes after what `self` holds, and keeps them only if
    /// `fill` says they are good.
    fn append_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool;
}

impl PlainOut for Vec<u8> {
    fn append_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        let at = self.len();
        self.resize(at + n, 0);
        let kept = fill(&mut self[at..]);
        if !kept {
            self.truncate(at);
        }
        kept
    }
}

/// A plaintext buffer that keeps its bytes when cleared, so that filling it again does not
/// zero them first as a `Vec` that grows does (a download reuses a few of these: zeroing
/// each megabyte batch anew took a tenth of its time). What lies past [`PlainBuf::len`] is
/// an earlier batch of the same stream, never handed out.
#[derive(Debug, Default)]
pub struct PlainBuf {
    bytes: Vec<u8>,
    len: usize,
}

impl PlainBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// Room for `capacity` bytes before it reallocates.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { bytes: Vec::with_capacity(capacity), len: 0 }
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Empties the buffer and keeps its bytes for the next fill.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl AsRef<[u8]> for PlainBuf {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PlainOut for PlainBuf {
    fn append_with(&mut self, n: usize, fill: impl FnOnce(&mut [u8]) -> bool) -> bool {
        let end = self.len + n;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        let kept = fill(&mut self.bytes[self.len..end]);
        if kept {
            self.len = end;
        }
        kept
    }
}

/// Reads a complete blob at any offset. Format v1 numbers its segments in their nonces, so a
/// read authenticates and decrypts only the segment it falls in; the blob's length says which
/// segment is the last, and that one is authenticated on opening, so a truncated blob fails
/// as it does when streamed. Memory is one segment whatever the blob's size.
pub struct SegmentReader<R> {
    inner: R,
    cipher: SegmentCipher,
    segments: u64,
    plain_len: u64,
    pos: u64,
    /// The segment whose plaintext is in `plain`, if any.
    current: Option<u64>,
    plain: Vec<u8>,
}

impl<R: std::io::Read + std::io::Seek> SegmentReader<R> {
    pub fn new(mut inner: R, dek: &Dek, document_id: &[u8; 16]) -> std::io::Result<Self> {
        use std::io::SeekFrom;
        let blob_len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        let mut header = [0u8; HEADER_LEN];
        inner.read_exact(&mut header).map_err(|_| invalid(CryptoError::Truncated))?;
        let header = parse_header(&header).map_err(invalid)?;
        let cipher = SegmentCipher::new(dek, header, document_id).map_err(invalid)?;
        let body = blob_len - HEADER_LEN as u64;
        let segments = body.div_ceil(SEALED_SEGMENT_LEN as u64);
        let last_len = body.saturating_sub(segments.saturating_sub(1) * SEALED_SEGMENT_LEN as u64);
        if segments == 0 || last_len < TAG_LEN as u64 {
            return Err(invalid(CryptoError::Truncated));
        }
        if segments > u64::from(u32::MAX) {
            return Err(invalid(CryptoError::TooLong));
        }
        let plain_len = body - segments * TAG_LEN as u64;
        let mut reader = Self { inner, cipher, segments, plain_len, pos: 0, current: None, plain: Vec::new() };
        // The last segment is authenticated now: a blob cut at a segment boundary fails here,
        // whatever the caller reads later.
        reader.load(segments - 1)?;
        Ok(reader)
    }

    /// The plaintext length.
    pub fn len(&self) -> u64 {
        self.plain_len
    }

    pub fn is_empty(&self) -> bool {
        self.plain_len == 0
    }

    /// The sealed source (for tests that look at what is stored).
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    fn load(&mut self, index: u64) -> std::io::Result<()> {
        use std::io::SeekFrom;
        if self.current == Some(index) {
            return Ok(());
        }
        self.current = None;
        let last = index + 1 == self.segments;
        let start = HEADER_LEN as u64 + index * SEALED_SEGMENT_LEN as u64;
        let len =
            if last { (self.plain_len - index * SEGMENT_SIZE as u64) as usize + TAG_LEN } else { SEALED_SEGMENT_LEN };
        self.plain.resize(len, 0);
        self.inner.seek(SeekFrom::Start(start))?;
        self.inner.read_exact(&mut self.plain).map_err(|_| invalid(CryptoError::Truncated))?;
        let index32 = index as u32; // bounded by `new`
        let nonce = self.cipher.nonce_at(index32, last);
        let plain_len = self
            .cipher
            .key
            .open_in_place(nonce, Aad::from(&self.cipher.aad[..]), &mut self.plain)
            .map_err(|_| invalid(CryptoError::BadSegment(index32)))?
            .len();
        self.plain.truncate(plain_len);
        self.current = Some(index);
        Ok(())
    }
}

fn invalid(e: CryptoError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

impl<R: std::io::Read + std::io::Seek> std::io::Read for SegmentReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.plain_len || buf.is_empty() {
            return Ok(0);
        }
        let index = self.pos / SEGMENT_SIZE as u64;
        self.load(index)?;
        let within = (self.pos % SEGMENT_SIZE as u64) as usize;
        let n = buf.len().min(self.plain.len() - within);
        buf[..n].copy_from_slice(&self.plain[within..within + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: std::io::Read + std::io::Seek> std::io::Seek for SegmentReader<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.plain_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start"))?;
        Ok(self.pos)
    }
}

fn parse_header(bytes: &[u8]) -> Result<[u8; HEADER_LEN]> {
    let header: [u8; HEADER_LEN] = bytes.try_into().map_err(|_| CryptoError::BadHeader)?;
    // The header is also authenticated as associated data; these checks only give a clearer
    // error for a file that is not a Courier blob at all.
    if &header[..4] != MAGIC || header[4] != VERSION || header[5..9] != (SEGMENT_SIZE as u32).to_be_bytes() {
        return Err(CryptoError::BadHeader);
    }
    Ok(header)
}

#[cfg(test)]
mod tests;
