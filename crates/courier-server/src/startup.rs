//! Opening an installation: the data directory (0700), the key files (0600, created at first
//! start), the database (migrated) and the blob store.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use courier_crypto::audit::HeadSigner;
use courier_crypto::keys::SecretKey;
use courier_store::Db;
use courier_store::blob::{BlobStore, LocalBlobStore, S3BlobStore};
use zeroize::Zeroizing;

use crate::services::OperatorKey;
use crate::services::authz::Authorizer;
use crate::services::keys::MasterKeys;
use crate::services::scanning::Scanning;
use crate::{Config, Courier, Error, Result};

/// The file a restore leaves in the data directory until it has finished: an installation
/// holding it is refused, never half-restored.
pub const RESTORE_MARKER: &str = "RESTORE-INCOMPLETE";

/// Opens (creating on first start) everything an installation needs.
pub async fn open(config: Config) -> Result<(Arc<Courier>, OperatorKey)> {
    if config.data_dir.join(RESTORE_MARKER).exists() {
        return Err(Error::Conflict(format!(
            "a restore into {} did not finish: delete that directory (and, with PostgreSQL, the database's tables) and \
             run `courier backup restore` again",
            config.data_dir.display()
        ).into()));
    }
    open_unchecked(config).await
}

/// `open` without the check for an unfinished restore (the restore itself, to finish).
pub(crate) async fn open_unchecked(mut config: Config) -> Result<(Arc<Courier>, OperatorKey)> {
    let scanning = Scanning::from_config(&config).map_err(|e| Error::BadRequest(e.into()))?;
    let authz = Authorizer::load(config.policy_dir.as_deref(), config.policy_utc_offset_minutes)
        .map_err(|e| Error::BadRequest(format!("policy: {e}").into()))?;
    // A data directory made afresh (none of what only start-up makes in it was there): a new
    // installation or a new instance of a cluster, whose heads.log starts now, empty, even
    // beside a trail with events. Anywhere else a missing heads.log is not made anew (see
    // `HeadsLog::prepare`); a restore makes `audit/` and its heads.log itself.
    let local_database = config.database_url.is_none().then(|| config.data_dir.join("courier.db"));
    let fresh = ["audit", "scratch", "tus"].iter().all(|dir| !config.data_dir.join(dir).exists())
        && !local_database.as_ref().is_some_and(|db| db.exists());
    // `scratch`: the inspector's sealed, unlinked scratch files (on the data disk, which is
    // sized for documents).
    for dir in ["", "keys", "audit", "blobs", "scratch", "tus"] {
        create_private_dir(&config.data_dir.join(dir))?;
    }
    if fresh {
        crate::services::heads_log::create_empty(&config.data_dir.join("audit").join("heads.log"))?;
    }
    if config.database_url.is_none() {
        // SQLite creates its -wal and -shm files with the main file's mode.
        create_private_file(&config.data_dir.join("courier.db"))?;
    }
    let db = Db::connect(&config.database_url()).await.map_err(|e| Error::Unavailable(format!("database: {e}")))?;
    db.migrate().await?;
    // The keys are made at first start only: a key file missing next to data that needs it is
    // an operator's mistake (a restore in the wrong order, a wrong path), and a new key would
    // make everything unreadable, silently.
    let in_use = courier_store::documents::master_key_versions_in_use(db.pool()).await?;
    let keys = MasterKeys::open(&config.master_key_path(), &in_use)?;
    let audit_path = config.audit_key_path();
    if !audit_path.exists() && courier_store::audit::has_events(db.pool()).await? {
        return Err(Error::BadRequest(
            format!(
                "the audit signing key {} is missing, but the audit trail has events: restore it from its backup \
             (Courier does not make a new key, which could never verify the trail)",
                audit_path.display()
            )
            .into(),
        ));
    }
    let audit_seed = load_or_create_key(&audit_path)?;
    let signer = HeadSigner::from_seed(&audit_seed)?;
    // Derived, so instances sharing the master key agree on cookie signatures.
    // From the audit seed, not the master key: master keys rotate and retire, and every
    // instance must agree on cookie signatures throughout.
    let cookie_key = courier_crypto::MacKey::derive(&audit_seed, b"courier cookie key v1");
    // The chain's keyed hash of client addresses: the same on every instance and after a
    // restore (the audit key travels with the backup), so a suspected address can be checked.
    let address_key = courier_crypto::MacKey::derive(&audit_seed, b"courier client address key v1");
    let blobs = blob_store(&config)?;
    // The firm profile of the setup page, for what the configuration leaves unset.
    let profile = courier_store::firm_profile::get(db.pool()).await?;
    crate::services::branding::apply_profile(&mut config, &profile);
    let watch = crate::services::watch::WatchSettings::load(&config).map_err(|e| Error::BadRequest(e.into()))?;
    let branding = crate::services::branding::Branding::load(&config, profile.logo.as_deref())
        .map_err(|e| Error::BadRequest(e.into()))?;
    let (courier, operator) =
        Courier::new(config, db, blobs, keys, signer, cookie_key, address_key, scanning, authz, watch, branding);
    Ok((Arc::new(courier), operator))
}

/// The blob store the configuration names: S3, or a local directory (`blobs/` by default).
pub fn blob_store(config: &Config) -> Result<Arc<dyn BlobStore>> {
    let s3 = config.s3_settings().map_err(|e| Error::BadRequest(e.to_string().into()))?;
    let blobs: Arc<dyn BlobStore> = match (s3, config.blob_store.as_deref()) {
        (Some(s3), _) => Arc::new(S3BlobStore::new(&s3)?),
        (None, None) => Arc::new(LocalBlobStore::open(&config.data_dir.join("blobs"))?),
        (None, Some(dir)) if !dir.contains("://") => Arc::new(LocalBlobStore::open(Path::new(dir))?),
        (None, Some(other)) => return Err(Error::BadRequest(format!("blob store {other:?} is not supported").into())),
    };
    Ok(blobs)
}

pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(path)?;
    Ok(())
}

pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e.into()),
        _ => Ok(()),
    }
}

/// Reads a 32-byte key file, or creates one (mode 0600) from the OS CSPRNG if it is missing.
pub fn load_or_create_key(path: &Path) -> Result<SecretKey> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "key file is readable by group or others; chmod 600 it");
            }
            SecretKey::from_slice(&bytes).map_err(|_| {
                Error::BadRequest(format!("key file {} must hold exactly 32 bytes", path.display()).into())
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                create_private_dir(parent)?;
            }
            let key = SecretKey::generate()?;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
            f.write_all(key.as_bytes())?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "created key file");
            Ok(key)
        }
        Err(e) => Err(e.into()),
    }
}
