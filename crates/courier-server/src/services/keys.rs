//! Master key management: the key ring on disk (`master.key` is version 1, `master.key.vN`
//! version N), reloaded by running instances when they meet a version they have not loaded, and
//! the operator's rotate / rewrap / retire (DESIGN.md: rotation re-wraps data keys, it never
//! re-encrypts content).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use courier_crypto::CryptoError;
use courier_crypto::keys::{Dek, KeyRing, SecretKey};
use courier_store::documents::{self, DataKeyHolder};
use serde::Serialize;
use serde_json::json;
use zeroize::Zeroizing;

use super::audit::AuditAction;
use super::{Caller, Courier};
use crate::{Error, Result};

const TOTP_PURPOSE: &[u8] = super::mfa::TOTP_PURPOSE;
const PAGE: i64 = 500;

/// The master key ring, reloadable from its files.
pub struct MasterKeys {
    path: PathBuf,
    ring: RwLock<Arc<KeyRing>>,
}

/// Key files next to `path`: version 1 is `path` itself, version N is `path.vN`.
fn key_files(path: &Path) -> Result<BTreeMap<u32, PathBuf>> {
    let mut files = BTreeMap::new();
    if path.exists() {
        files.insert(1, path.to_owned());
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return Ok(files) };
    let prefix = format!("{name}.v");
    for entry in std::fs::read_dir(dir)? {
        let file = entry?.file_name();
        let Some(version) = file.to_str().and_then(|f| f.strip_prefix(&prefix)).and_then(|v| v.parse::<u32>().ok())
        else {
            continue;
        };
        if version >= 2 {
            files.insert(version, dir.join(&file));
        }
    }
    Ok(files)
}

/// The file of master key `version`: `path` itself for version 1, `path.vN` otherwise.
fn version_file(path: &Path, version: u32) -> PathBuf {
    if version == 1 { path.to_owned() } else { PathBuf::from(format!("{}.v{version}", path.display())) }
}

fn read_ring(path: &Path) -> Result<KeyRing> {
    let mut keys = Vec::new();
    for (version, file) in key_files(path)? {
        let bytes = Zeroizing::new(std::fs::read(&file)?);
        let key = SecretKey::from_slice(&bytes)
            .map_err(|_| Error::BadRequest(format!("key file {} must hold exactly 32 bytes", file.display()).into()))?;
        keys.push((version, key));
    }
    Ok(KeyRing::new(keys)?)
}

impl MasterKeys {
    /// Loads every version next to `path`, creating version 1 when there is none at all and
    /// nothing uses one yet (a retired version 1 is not re-created). Refuses, naming the file,
    /// when a version in `in_use` (what the database's wrapped keys were made with) is missing.
    pub fn open(path: &Path, in_use: &[u32]) -> Result<Self> {
        let files = key_files(path)?;
        if files.is_empty() && in_use.is_empty() {
            crate::startup::load_or_create_key(path)?;
        }
        let missing: Vec<String> = in_use
            .iter()
            .filter(|v| !files.contains_key(v))
            .map(|v| version_file(path, *v).display().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::BadRequest(format!(
                "the master key file {} is missing, but the database holds keys wrapped with it: restore it from its \
                 separate backup before starting (Courier does not make a new key over existing data)",
                missing.join(" and ")
            ).into()));
        }
        Ok(Self { path: path.to_owned(), ring: RwLock::new(Arc::new(read_ring(path)?)) })
    }

    pub fn ring(&self) -> Arc<KeyRing> {
        self.ring.read().map(|r| Arc::clone(&r)).unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Re-reads the key files (a new version placed by the operator, a retired one removed).
    pub fn reload(&self) -> Result<()> {
        let fresh = Arc::new(read_ring(&self.path)?);
        match self.ring.write() {
            Ok(mut r) => *r = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    pub fn version_path(&self, version: u32) -> PathBuf {
        version_file(&self.path, version)
    }

    pub fn wrap(&self, dek: &Dek, document_id: &[u8; 16]) -> Result<Vec<u8>> {
        Ok(self.ring().wrap(dek, document_id)?)
    }

    pub fn seal(&self, purpose: &[u8], owner: &[u8; 16], plaintext: &[u8]) -> Result<Vec<u8>> {
        Ok(self.ring().seal(purpose, owner, plaintext)?)
    }

    /// Unwraps, reloading the ring once if the key names a version this process has not loaded
    /// (another instance or the operator rotated meanwhile).
    pub fn unwrap(&self, wrapped: &[u8], document_id: &[u8; 16]) -> Result<Dek> {
        match self.ring().unwrap(wrapped, document_id) {
            Err(CryptoError::UnknownKeyVersion(_)) => {
                self.reload()?;
                Ok(self.ring().unwrap(wrapped, document_id)?)
            }
            other => Ok(other?),
        }
    }

    pub fn open_sealed(&self, purpose: &[u8], owner: &[u8; 16], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        match self.ring().open(purpose, owner, sealed) {
            Err(CryptoError::UnknownKeyVersion(_)) => {
                self.reload()?;
                Ok(self.ring().open(purpose, owner, sealed)?)
            }
            other => Ok(other?),
        }
    }
}

/// What `courier key status` shows.
#[derive(Debug, Serialize)]
pub struct KeyStatus {
    pub current_version: u32,
    /// Version -> number of wrapped data keys (documents', unfinished uploads') and sealed
    /// secrets using it.
    pub versions: BTreeMap<u32, u64>,
}

#[derive(Debug, Serialize)]
pub struct Rewrapped {
    pub version: u32,
    /// Data keys: documents' and unfinished resumable uploads'.
    pub documents_rewrapped: u64,
    pub secrets_rewrapped: u64,
}

fn owner_bytes(id: &str) -> Result<[u8; 16]> {
    uuid::Uuid::parse_str(id).map(|u| *u.as_bytes()).map_err(|e| Error::internal("stored id", e))
}

impl Courier {
    /// Versions on disk and how many wrapped values use each.
    pub(super) async fn key_status(&self) -> Result<KeyStatus> {
        self.keys.reload()?;
        let ring = self.keys.ring();
        let mut versions: BTreeMap<u32, u64> = ring.versions().into_iter().map(|v| (v, 0)).collect();
        let mut count = |wrapped: &[u8]| {
            if let Some(v) = KeyRing::wrapped_version(wrapped) {
                *versions.entry(v).or_default() += 1;
            }
        };
        // Documents' data keys, and those of resumable uploads not yet finished.
        for holder in DataKeyHolder::ALL {
            let mut after = String::new();
            while let Some(last) = {
                let page = documents::wrapped_keys_page(self.db.pool(), holder, &after, PAGE).await?;
                page.iter().for_each(|(_, w)| count(w));
                page.last().map(|(id, _)| id.clone())
            } {
                after = last;
            }
        }
        let mut after = String::new();
        while let Some(last) = {
            let page = courier_store::users::sealed_secrets_page(self.db.pool(), &after, PAGE).await?;
            page.iter().for_each(|(_, s)| count(s));
            page.last().map(|(id, _)| id.clone())
        } {
            after = last;
        }
        Ok(KeyStatus { current_version: ring.current_version(), versions })
    }

    /// Adds the next master key version (or takes one the operator already placed on every
    /// instance) and re-wraps everything under it.
    pub(super) async fn rotate_master_key(&self, caller: &Caller) -> Result<Rewrapped> {
        self.keys.reload()?;
        let next = self.keys.ring().current_version() + 1;
        let path = self.keys.version_path(next);
        let created = !path.exists();
        if created {
            let key = SecretKey::generate()?;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
            f.write_all(key.as_bytes())?;
            f.sync_all()?;
        }
        self.keys.reload()?;
        self.audit
            .record(
                &self.db,
                caller,
                AuditAction::KeyRotate,
                &format!("master_key:v{next}"),
                json!({ "version": next, "created": created }),
            )
            .await?;
        self.rewrap_all(caller).await
    }

    /// Re-wraps every data key and sealed secret not yet under the current version, in batches,
    /// each replacement conditional on the old value (a concurrent shred is not undone).
    pub(super) async fn rewrap_all(&self, caller: &Caller) -> Result<Rewrapped> {
        self.keys.reload()?;
        let ring = self.keys.ring();
        let current = ring.current_version();
        let mut data_keys = 0u64;
        for holder in DataKeyHolder::ALL {
            let mut after = String::new();
            loop {
                let page = documents::wrapped_keys_page(self.db.pool(), holder, &after, PAGE).await?;
                let Some((last, _)) = page.last() else { break };
                after = last.clone();
                let mut tx = self.db.begin().await?;
                for (id, old) in page.iter().filter(|(_, w)| KeyRing::wrapped_version(w) != Some(current)) {
                    let owner = owner_bytes(id)?;
                    let new = ring.wrap(&ring.unwrap(old, &owner)?, &owner)?;
                    data_keys += u64::from(documents::replace_wrapped_key(&mut tx, holder, id, old, &new).await?);
                }
                courier_store::Db::commit(tx).await?;
            }
        }
        let mut secrets = 0u64;
        let mut after = String::new();
        loop {
            let page = courier_store::users::sealed_secrets_page(self.db.pool(), &after, PAGE).await?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            let mut tx = self.db.begin().await?;
            for (id, old) in page.iter().filter(|(_, s)| KeyRing::wrapped_version(s) != Some(current)) {
                let owner = owner_bytes(id)?;
                let new = ring.seal(TOTP_PURPOSE, &owner, &ring.open(TOTP_PURPOSE, &owner, old)?)?;
                secrets += u64::from(courier_store::users::replace_sealed_secret(&mut tx, id, old, &new).await?);
            }
            courier_store::Db::commit(tx).await?;
        }
        let details = json!({ "version": current, "documents": data_keys, "secrets": secrets });
        self.audit.record(&self.db, caller, AuditAction::KeyRewrap, &format!("master_key:v{current}"), details).await?;
        Ok(Rewrapped { version: current, documents_rewrapped: data_keys, secrets_rewrapped: secrets })
    }

    /// Erases an old master key version once nothing uses it. Whatever still holds keys wrapped
    /// by it (a backup, a dead database page) becomes unreadable.
    pub(super) async fn retire_master_key(&self, caller: &Caller, version: u32) -> Result<()> {
        let status = self.key_status().await?;
        if version == status.current_version {
            return Err(Error::BadRequest(format!("version {version} is the current master key; rotate first").into()));
        }
        let in_use = *status.versions.get(&version).ok_or(Error::NotFound)?;
        if in_use > 0 {
            return Err(Error::Conflict(
                format!("{in_use} wrapped keys still use version {version}; run `courier key rewrap` first").into(),
            ));
        }
        let path = self.keys.version_path(version);
        // Overwrite before unlinking, so the bytes do not simply linger in a free block.
        let mut f = std::fs::OpenOptions::new().write(true).open(&path)?;
        f.write_all(&[0u8; 32])?;
        f.sync_all()?;
        std::fs::remove_file(&path)?;
        self.keys.reload()?;
        self.audit
            .record(
                &self.db,
                caller,
                AuditAction::KeyRetire,
                &format!("master_key:v{version}"),
                json!({ "version": version }),
            )
            .await
    }
}
