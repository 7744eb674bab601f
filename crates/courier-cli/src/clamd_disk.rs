//! Where a local clamd writes what it scans (review finding 8). clamd stores every INSTREAM
//! stream in a file under its `TemporaryDirectory` while it scans it, so each upload's
//! plaintext (and every archive entry it inflates) reaches that directory. Promise 2 ("no
//! plaintext document on disk") holds only if the directory is a tmpfs. `serve` reads clamd's
//! configuration and the mount table and says so when it is not, or when it cannot tell.

use std::path::{Path, PathBuf};

use courier_scan::clamd::ClamdAddr;

/// File systems that live in memory (and swap, which the deployment guide says to encrypt).
const MEMORY_FILE_SYSTEMS: &[&str] = &["tmpfs", "ramfs"];

/// A warning for the console, or `None` when clamd is remote (its host is the operator's to
/// check) or its temporary directory is in memory.
pub fn warning(addr: &ClamdAddr, clamd_config: &Path) -> Option<String> {
    if !is_local(addr) {
        return None;
    }
    let Ok(config) = std::fs::read_to_string(clamd_config) else {
        return Some(format!(
            "Warning: cannot read clamd's configuration {} (set clamd_config), so Courier cannot tell where clamd \
             writes the uploads it scans; its TemporaryDirectory must be on a tmpfs (docs/scanning.md).",
            clamd_config.display()
        ));
    };
    let dir = temporary_directory(&config);
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let resolved = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
    match file_system(&mounts, &resolved) {
        Some(fs) if MEMORY_FILE_SYSTEMS.contains(&fs.as_str()) => None,
        Some(fs) => Some(format!(
            "Warning: clamd writes every upload it scans, in plaintext, to its TemporaryDirectory {}, which is on \
             {fs}, not a tmpfs: mount a tmpfs there or point TemporaryDirectory at one (docs/scanning.md).",
            dir.display()
        )),
        None => Some(format!(
            "Warning: cannot tell which file system holds clamd's TemporaryDirectory {}; it must be a tmpfs \
             (docs/scanning.md).",
            dir.display()
        )),
    }
}

fn is_local(addr: &ClamdAddr) -> bool {
    match addr {
        ClamdAddr::Unix(_) => true,
        ClamdAddr::Tcp(host_port) => {
            let host = host_port.rsplit_once(':').map_or(host_port.as_str(), |(h, _)| h);
            let host = host.trim_start_matches('[').trim_end_matches(']');
            host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// clamd's `TemporaryDirectory`, or where clamd falls back to without one ($TMPDIR, /tmp).
fn temporary_directory(config: &str) -> PathBuf {
    config
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .filter(|(key, _)| *key == "TemporaryDirectory")
        .map(|(_, value)| PathBuf::from(value.trim()))
        .next_back()
        .unwrap_or_else(|| std::env::var_os("TMPDIR").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from))
}

/// The type of the file system mounted deepest above `path`, from a mount table.
fn file_system(mounts: &str, path: &Path) -> Option<String> {
    mounts
        .lines()
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            let (_, point, fs) = (fields.next()?, fields.next()?, fields.next()?);
            // The kernel writes spaces in mount points as \040.
            Some((PathBuf::from(point.replace("\\040", " ")), fs.to_owned()))
        })
        .filter(|(point, _)| path.starts_with(point))
        .max_by_key(|(point, _)| point.components().count())
        .map(|(_, fs)| fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "/dev/vda / ext4 rw 0 0\ntmpfs /dev/shm tmpfs rw 0 0\ntmpfs /run tmpfs rw 0 0\n\
                          /dev/vdb /var/lib/clamav ext4 rw 0 0\n";

    #[test]
    fn the_deepest_mount_decides() {
        assert_eq!(file_system(MOUNTS, Path::new("/dev/shm/clamd")).as_deref(), Some("tmpfs"));
        assert_eq!(file_system(MOUNTS, Path::new("/tmp")).as_deref(), Some("ext4"));
        assert_eq!(file_system(MOUNTS, Path::new("/var/lib/clamav/tmp")).as_deref(), Some("ext4"));
        assert_eq!(file_system(MOUNTS, Path::new("/run/clamav")).as_deref(), Some("tmpfs"));
    }

    #[test]
    fn the_temporary_directory_is_read_from_the_configuration() {
        let conf =
            "# TemporaryDirectory /nope\nLocalSocket /run/clamav/clamd.ctl\nTemporaryDirectory /run/clamav/tmp\n";
        assert_eq!(temporary_directory(conf), PathBuf::from("/run/clamav/tmp"));
    }

    #[test]
    fn only_local_daemons_are_checked() {
        assert!(is_local(&ClamdAddr::Unix("/run/clamav/clamd.ctl".into())));
        assert!(is_local(&ClamdAddr::Tcp("127.0.0.1:3310".into())));
        assert!(is_local(&ClamdAddr::Tcp("localhost:3310".into())));
        assert!(!is_local(&ClamdAddr::Tcp("clamd.internal:3310".into())));
        assert!(warning(&ClamdAddr::Tcp("10.1.2.3:3310".into()), Path::new("/nonexistent")).is_none());
    }
}
