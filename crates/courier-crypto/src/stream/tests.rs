use proptest::prelude::*;

use super::*;

const DOC_A: [u8; 16] = [0xA; 16];
const DOC_B: [u8; 16] = [0xB; 16];

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn encrypt(dek: &Dek, doc: &[u8; 16], data: &[u8], chunk: usize) -> Vec<u8> {
    let (mut enc, header) = Encryptor::new(dek, doc).unwrap();
    let mut out = header.to_vec();
    for piece in data.chunks(chunk.max(1)) {
        enc.push(piece, &mut out).unwrap();
    }
    enc.finish(&mut out).unwrap();
    out
}

/// Decrypts in `chunk`-sized pushes, returning whatever plaintext was released and the result.
fn decrypt(dek: &Dek, doc: &[u8; 16], blob: &[u8], chunk: usize) -> (Vec<u8>, Result<()>) {
    let mut dec = Decryptor::new(dek.clone(), doc);
    let mut out = Vec::new();
    for piece in blob.chunks(chunk.max(1)) {
        if let Err(e) = dec.push(piece, &mut out) {
            return (out, Err(e));
        }
    }
    let r = dec.finish(&mut out);
    (out, r)
}

/// Decrypts as a local download does: `Decryptor::read_from` batches of `max` bytes from a
/// reader that gives at most 7,777 bytes per call (as a file or a pipe may).
fn decrypt_reading(dek: &Dek, doc: &[u8; 16], blob: &[u8], max: usize) -> (Vec<u8>, Result<()>) {
    struct Dribble<'a>(&'a [u8]);
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(7_777);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let mut dec = Decryptor::new(dek.clone(), doc);
    let mut reader = Dribble(blob);
    let mut out = Vec::new();
    let max = max.max(1);
    loop {
        match dec.read_from(&mut reader, max, &mut out) {
            Ok(n) if n < max => break,
            Ok(_) => {}
            Err(e) => {
                let inner = e.into_inner().and_then(|b| b.downcast::<CryptoError>().ok());
                return (out, Err(*inner.expect("a decryption error, not an I/O one")));
            }
        }
    }
    let r = dec.finish(&mut out);
    (out, r)
}

/// Decrypts pushed pieces into one `PlainBuf`, emptied after each piece and filled again, as
/// a download reuses its batches: stale bytes of the piece before must never be released.
fn decrypt_reusing(dek: &Dek, doc: &[u8; 16], blob: &[u8], chunk: usize) -> (Vec<u8>, Result<()>) {
    let mut dec = Decryptor::new(dek.clone(), doc);
    let mut out = Vec::new();
    let mut batch = PlainBuf::new();
    for piece in blob.chunks(chunk.max(1)) {
        let r = dec.push(piece, &mut batch);
        out.extend_from_slice(batch.as_slice());
        batch.clear();
        if let Err(e) = r {
            return (out, Err(e));
        }
    }
    let r = dec.finish(&mut batch);
    out.extend_from_slice(batch.as_slice());
    (out, r)
}

/// A way of decrypting a blob in pieces of a given size: what it released, and the result.
type Decryption = fn(&Dek, &[u8; 16], &[u8], usize) -> (Vec<u8>, Result<()>);

/// Every way of decrypting: pushed pieces, batches read, and pieces into a reused buffer.
const DECRYPTIONS: [Decryption; 3] = [decrypt, decrypt_reading, decrypt_reusing];

fn segments(blob: &[u8]) -> Vec<&[u8]> {
    blob[HEADER_LEN..].chunks(SEALED_SEGMENT_LEN).collect()
}

#[test]
fn round_trips_at_segment_edges() {
    let dek = Dek::generate().unwrap();
    let sizes = [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE, 5 * 1024 * 1024 + 7];
    for size in sizes {
        let data = plaintext(size);
        let blob = encrypt(&dek, &DOC_A, &data, 10_000);
        assert_eq!(blob.len() as u64, blob_len(size as u64), "size {size}");
        for (way, decrypt) in DECRYPTIONS.iter().enumerate() {
            for chunk in [1 << 20, 4096, 65_537, SEALED_SEGMENT_LEN, blob.len(), blob.len() - 1] {
                let (out, r) = decrypt(&dek, &DOC_A, &blob, chunk);
                assert_eq!(r, Ok(()), "size {size} chunk {chunk} way {way}");
                assert_eq!(out, data, "size {size} chunk {chunk} way {way}");
            }
        }
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let dek = Dek::generate().unwrap();
    // Two segments, the second short: covers header, a full segment, a last segment and tags.
    let blob = encrypt(&dek, &DOC_A, &plaintext(SEGMENT_SIZE + 100), 4096);
    let (good, r) = decrypt(&dek, &DOC_A, &blob, blob.len());
    assert_eq!(r, Ok(()));
    // Flipping each bit of the whole blob is 1M decryptions; all header/tag bits plus a stride
    // through the ciphertext bodies keeps it fast while touching every byte position class.
    let mut positions: Vec<usize> = (0..HEADER_LEN).collect();
    positions.extend((HEADER_LEN..blob.len()).step_by(97));
    positions.extend(HEADER_LEN + SEGMENT_SIZE..HEADER_LEN + SEALED_SEGMENT_LEN); // first tag
    positions.extend(blob.len() - TAG_LEN..blob.len()); // last tag
    for (pos, decrypt) in positions.into_iter().flat_map(|p| DECRYPTIONS.map(|d| (p, d))) {
        for bit in 0..8 {
            let mut bad = blob.clone();
            bad[pos] ^= 1 << bit;
            let (out, r) = decrypt(&dek, &DOC_A, &bad, 8192);
            assert!(r.is_err(), "flip of byte {pos} bit {bit} accepted");
            // Only segments before the damaged one may have been released, and unchanged.
            assert!(good.starts_with(&out), "unauthenticated plaintext released at {pos}");
            let damaged_segment = pos.saturating_sub(HEADER_LEN) / SEALED_SEGMENT_LEN;
            assert!(out.len() <= damaged_segment * SEGMENT_SIZE, "bad segment released at {pos}");
        }
    }
}

#[test]
fn truncation_at_and_between_segment_boundaries_is_rejected() {
    let dek = Dek::generate().unwrap();
    let blob = encrypt(&dek, &DOC_A, &plaintext(3 * SEGMENT_SIZE + 10), 65_536);
    let cuts = [
        0,
        5,
        HEADER_LEN,
        HEADER_LEN + 1,
        HEADER_LEN + SEALED_SEGMENT_LEN,
        HEADER_LEN + 2 * SEALED_SEGMENT_LEN,
        HEADER_LEN + 3 * SEALED_SEGMENT_LEN,
        HEADER_LEN + SEALED_SEGMENT_LEN + 500,
        blob.len() - 1,
    ];
    for (cut, decrypt) in cuts.into_iter().flat_map(|c| DECRYPTIONS.map(|d| (c, d))) {
        for chunk in [4096, SEALED_SEGMENT_LEN, 1 << 20] {
            let (_, r) = decrypt(&dek, &DOC_A, &blob[..cut], chunk);
            assert!(r.is_err(), "truncation at {cut} accepted (chunk {chunk})");
        }
    }
}

#[test]
fn appended_data_is_rejected() {
    let dek = Dek::generate().unwrap();
    let mut blob = encrypt(&dek, &DOC_A, &plaintext(100), 4096);
    blob.extend_from_slice(&[0u8; 40]);
    for decrypt in DECRYPTIONS {
        assert!(decrypt(&dek, &DOC_A, &blob, 4096).1.is_err());
    }
}

#[test]
fn reordered_and_duplicated_segments_are_rejected() {
    let dek = Dek::generate().unwrap();
    let blob = encrypt(&dek, &DOC_A, &plaintext(3 * SEGMENT_SIZE + 10), 65_536);
    let header = &blob[..HEADER_LEN];
    let s = segments(&blob);
    let reassemble = |order: &[usize]| {
        let mut b = header.to_vec();
        for &i in order {
            b.extend_from_slice(s[i]);
        }
        b
    };
    for order in [&[1, 0, 2, 3][..], &[0, 2, 1, 3], &[0, 1, 3], &[0, 0, 1, 2, 3], &[0, 1, 2, 2, 3], &[0, 1, 2, 3, 3]] {
        assert!(decrypt(&dek, &DOC_A, &reassemble(order), 65_536).1.is_err(), "{order:?} accepted");
    }
    assert_eq!(decrypt(&dek, &DOC_A, &reassemble(&[0, 1, 2, 3]), 65_536).1, Ok(()));
}

#[test]
fn blob_of_another_document_or_with_the_wrong_key_is_rejected() {
    let dek = Dek::generate().unwrap();
    let blob = encrypt(&dek, &DOC_A, &plaintext(1000), 4096);
    let (out, r) = decrypt(&dek, &DOC_B, &blob, 4096);
    assert_eq!((out.len(), r), (0, Err(CryptoError::BadSegment(0))));
    let (out, r) = decrypt(&Dek::generate().unwrap(), &DOC_A, &blob, 4096);
    assert_eq!((out.len(), r), (0, Err(CryptoError::BadSegment(0))));
}

#[test]
fn segments_spliced_from_another_blob_are_rejected() {
    let dek = Dek::generate().unwrap();
    let a = encrypt(&dek, &DOC_A, &plaintext(2 * SEGMENT_SIZE), 65_536);
    let b = encrypt(&dek, &DOC_A, &plaintext(2 * SEGMENT_SIZE), 65_536);
    let mut spliced = a[..HEADER_LEN + SEALED_SEGMENT_LEN].to_vec();
    spliced.extend_from_slice(segments(&b)[1]);
    assert!(decrypt(&dek, &DOC_A, &spliced, 65_536).1.is_err());
}

#[test]
fn foreign_headers_are_refused() {
    let dek = Dek::generate().unwrap();
    let (_, r) = decrypt(&dek, &DOC_A, b"%PDF-1.7 plaintext is not a blob at all", 4096);
    assert_eq!(r, Err(CryptoError::BadHeader));
}

/// Reads `len` bytes at `offset` through a `SegmentReader`.
fn read_at(dek: &Dek, blob: &[u8], offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut r = SegmentReader::new(std::io::Cursor::new(blob), dek, &DOC_A)?;
    r.seek(SeekFrom::Start(offset))?;
    let mut out = Vec::new();
    r.take(len as u64).read_to_end(&mut out)?;
    Ok(out)
}

#[test]
fn random_access_reads_what_was_written() {
    let dek = Dek::generate().unwrap();
    for size in [0, 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 10] {
        let data = plaintext(size);
        let blob = encrypt(&dek, &DOC_A, &data, 10_000);
        let r = SegmentReader::new(std::io::Cursor::new(&blob), &dek, &DOC_A).unwrap();
        assert_eq!(r.len(), size as u64);
        for (offset, len) in [(0, size), (size / 2, 70_000), (size.saturating_sub(1), 10), (size, 5)] {
            let got = read_at(&dek, &blob, offset as u64, len).unwrap();
            let end = (offset + len).min(size);
            assert_eq!(got, data[offset.min(size)..end], "size {size} at {offset}");
        }
    }
}

#[test]
fn random_access_refuses_damage_truncation_and_foreign_keys() {
    let dek = Dek::generate().unwrap();
    let data = plaintext(3 * SEGMENT_SIZE + 10);
    let blob = encrypt(&dek, &DOC_A, &data, 65_536);
    // A flipped bit in segment 1: segment 0 still reads, segment 1 does not.
    let mut bad = blob.clone();
    bad[HEADER_LEN + SEALED_SEGMENT_LEN + 7] ^= 1;
    assert_eq!(read_at(&dek, &bad, 0, 100).unwrap(), data[..100]);
    assert!(read_at(&dek, &bad, SEGMENT_SIZE as u64 + 5, 10).is_err());
    // Cut at a segment boundary: the new last segment was sealed as not last, which opening
    // finds even if no read ever reaches it; cut to one tag's length, it is no empty file.
    let cut = &blob[..HEADER_LEN + 2 * SEALED_SEGMENT_LEN];
    assert!(SegmentReader::new(std::io::Cursor::new(cut), &dek, &DOC_A).is_err());
    assert!(SegmentReader::new(std::io::Cursor::new(&blob[..HEADER_LEN + TAG_LEN]), &dek, &DOC_A).is_err());
    // Cut inside a tag, or before the header ends: refused when opened.
    assert!(SegmentReader::new(std::io::Cursor::new(&blob[..HEADER_LEN + 5]), &dek, &DOC_A).is_err());
    assert!(SegmentReader::new(std::io::Cursor::new(&blob[..5]), &dek, &DOC_A).is_err());
    // Another key or another document's id.
    let other = Dek::generate().unwrap();
    assert!(read_at(&other, &blob, 0, 10).is_err());
    assert!(SegmentReader::new(std::io::Cursor::new(&blob), &dek, &DOC_B).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trip_any_size_and_chunking(len in 0usize..(3 * SEGMENT_SIZE + 3), chunk in 1usize..100_000, dchunk in 1usize..100_000) {
        let dek = Dek::generate().unwrap();
        let data = plaintext(len);
        let blob = encrypt(&dek, &DOC_A, &data, chunk);
        for decrypt in DECRYPTIONS {
            let (out, r) = decrypt(&dek, &DOC_A, &blob, dchunk);
            prop_assert_eq!(r, Ok(()));
            prop_assert_eq!(&out, &data);
        }
    }

    #[test]
    fn random_access_any_offset(len in 0usize..(3 * SEGMENT_SIZE + 3), offset in 0usize..(3 * SEGMENT_SIZE + 10), take in 0usize..100_000) {
        let dek = Dek::generate().unwrap();
        let data = plaintext(len);
        let blob = encrypt(&dek, &DOC_A, &data, 65_536);
        let got = read_at(&dek, &blob, offset as u64, take).unwrap();
        let start = offset.min(len);
        prop_assert_eq!(got, &data[start..(offset + take).min(len).max(start)]);
    }
}

proptest! {
    /// A stream stopped anywhere (its pending plaintext kept aside, sealed) and resumed gives
    /// the very blob an unbroken stream would have, byte for byte except the random prefix.
    #[test]
    fn a_resumed_stream_is_one_blob(len in 0usize..300_000, cuts in proptest::collection::vec(0usize..300_000, 0..4)) {
        let dek = Dek::generate().unwrap();
        let data = plaintext(len);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(len)).collect();
        cuts.sort_unstable();
        let (mut enc, header) = Encryptor::new(&dek, &DOC_A).unwrap();
        let mut blob = header.to_vec();
        let mut at = 0;
        for cut in cuts {
            enc.push(&data[at..cut], &mut blob).unwrap();
            at = cut;
            let aside = seal_aside(&dek, b"aad", enc.pending()).unwrap();
            let sealed = enc.sealed_segments();
            prop_assert_eq!(blob.len(), HEADER_LEN + sealed as usize * SEALED_SEGMENT_LEN);
            enc = Encryptor::resume(&dek, &DOC_A, &blob[..HEADER_LEN], sealed).unwrap();
            enc.push(&open_aside(&dek, b"aad", &aside).unwrap(), &mut blob).unwrap();
        }
        enc.push(&data[at..], &mut blob).unwrap();
        enc.finish(&mut blob).unwrap();
        let (out, result) = decrypt(&dek, &DOC_A, &blob, 10_000);
        prop_assert!(result.is_ok());
        prop_assert_eq!(out, data);
    }
}

#[test]
fn a_piece_kept_aside_opens_only_with_its_key_and_aad() {
    let dek = Dek::generate().unwrap();
    let sealed = seal_aside(&dek, b"upload 1 at 10", b"pending bytes").unwrap();
    assert_eq!(open_aside(&dek, b"upload 1 at 10", &sealed).unwrap().as_slice(), b"pending bytes");
    assert!(open_aside(&dek, b"upload 1 at 11", &sealed).is_err());
    assert!(open_aside(&Dek::generate().unwrap(), b"upload 1 at 10", &sealed).is_err());
    let mut flipped = sealed.clone();
    flipped[14] ^= 1;
    assert!(open_aside(&dek, b"upload 1 at 10", &flipped).is_err());
    assert!(open_aside(&dek, b"upload 1 at 10", &sealed[..20]).is_err());
    assert!(!sealed.windows(13).any(|w| w == b"pending bytes"));
}
