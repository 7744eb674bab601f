//! Files the inspector must read out of order (a PDF's cross-reference is at its end, an
//! Outlook message is a little file system), held without holding them in memory: up to
//! `IN_MEMORY` bytes stay in memory; beyond that they go to an unlinked scratch file sealed in
//! format v1 under a key that exists only in this process, read back one 64 KiB segment at a
//! time. No plaintext reaches the disk, and nothing is left behind if the process dies.

use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::Path;

use courier_crypto::keys::Dek;
use courier_crypto::stream::{Encryptor, SegmentReader};

/// Files up to this size are held in memory.
pub const IN_MEMORY: usize = 256 << 10;

/// A file held for random access.
pub enum Held {
    Memory(Cursor<Vec<u8>>),
    Sealed(Box<SegmentReader<File>>),
}

impl Read for Held {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Held::Memory(c) => c.read(buf),
            Held::Sealed(r) => r.read(buf),
        }
    }
}

impl Seek for Held {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            Held::Memory(c) => c.seek(to),
            Held::Sealed(r) => r.seek(to),
        }
    }
}

/// A scratch file being written.
pub struct Spill {
    file: File,
    encryptor: Encryptor,
    dek: Dek,
    id: [u8; 16],
    out: Vec<u8>,
}

impl Spill {
    /// Creates an unlinked file in `dir` (`O_TMPFILE` where the system has it).
    pub fn create(dir: &Path) -> io::Result<Self> {
        let dek = Dek::generate().map_err(io::Error::other)?;
        let mut id = [0u8; 16];
        courier_crypto::random_bytes(&mut id).map_err(io::Error::other)?;
        let (encryptor, header) = Encryptor::new(&dek, &id).map_err(io::Error::other)?;
        let mut file = tempfile::tempfile_in(dir)?;
        file.write_all(&header)?;
        Ok(Self { file, encryptor, dek, id, out: Vec::with_capacity(128 * 1024) })
    }

    pub fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.encryptor.push(data, &mut self.out).map_err(io::Error::other)?;
        self.file.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Seals the last segment and opens the file for reading.
    pub fn finish(mut self) -> io::Result<Held> {
        self.encryptor.finish(&mut self.out).map_err(io::Error::other)?;
        self.file.write_all(&self.out)?;
        let reader = SegmentReader::new(self.file, &self.dek, &self.id)?;
        Ok(Held::Sealed(Box::new(reader)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spilled_file_reads_back_and_holds_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let marker = b"PLAINTEXT-MARKER-4111111111111111";
        let data: Vec<u8> = marker.iter().copied().cycle().take(3 * IN_MEMORY + 17).collect();
        let mut spill = Spill::create(dir.path()).unwrap();
        for piece in data.chunks(50_000) {
            spill.write(piece).unwrap();
        }
        let mut held = spill.finish().unwrap();
        // Nothing is visible in the directory: the file is unlinked.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let Held::Sealed(reader) = &mut held else { panic!("not sealed") };
        // The raw file holds no plaintext.
        let raw = reader.get_mut();
        raw.seek(SeekFrom::Start(0)).unwrap();
        let mut bytes = Vec::new();
        raw.read_to_end(&mut bytes).unwrap();
        assert!(!bytes.windows(marker.len()).any(|w| w == marker));
        // Random access reads what was written.
        held.seek(SeekFrom::Start(2 * IN_MEMORY as u64 + 5)).unwrap();
        let mut got = vec![0u8; 1000];
        held.read_exact(&mut got).unwrap();
        assert_eq!(got, data[2 * IN_MEMORY + 5..2 * IN_MEMORY + 1005]);
        held.seek(SeekFrom::Start(0)).unwrap();
        let mut all = Vec::new();
        held.read_to_end(&mut all).unwrap();
        assert_eq!(all, data);
    }
}
