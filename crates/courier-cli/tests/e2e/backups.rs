//! Backups through the real binary: a round trip between the embedded backends and the
//! configured ones (PostgreSQL + S3 in CI), shredding that survives a restore, damaged files
//! and wrong identities that change nothing, no plaintext in the file, the standard tools, and
//! a backup taken while uploads run.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::{Env, PASSWORD, client, sign_in_at, upload};

/// An identity in `env`'s directory; its recipient.
fn keygen(env: &Env) -> (PathBuf, String) {
    let id = env.dir.path().join("backup-identity.txt");
    let out = env.cli_json(&["backup", "keygen", "--output", id.to_str().unwrap(), "--json"], None);
    (id, out["recipient"].as_str().unwrap().to_owned())
}

fn create(env: &Env, to: &Path, recipient: &str) -> Value {
    std::fs::create_dir_all(to).unwrap();
    env.cli_json(&["backup", "create", "--to", to.to_str().unwrap(), "--recipient", recipient, "--json"], None)
}

/// An installation with SQLite and local blobs, whatever the test environment names.
fn embedded() -> Env {
    let mut env = Env::offline("");
    env.postgres = None;
    env.s3 = None;
    env
}

fn live_docs(env: &Env) -> Vec<Value> {
    env.docs(None)
}

fn bytes_of(env: &Env, id: &str) -> Vec<u8> {
    let out = env.dir.path().join(format!("got-{id}"));
    let (ok, _, err) = env.cli(&["doc", "get", id, "--output", out.to_str().unwrap(), "--force"], None);
    assert!(ok, "{err}");
    std::fs::read(out).unwrap()
}

#[tokio::test]
async fn a_backup_round_trips_between_backends_and_shredding_survives_the_restore() {
    let source = Env::start();
    let user = source.create_user("ada@firm.example", "attorney");
    let secret = user["totp_secret"].as_str().unwrap().to_owned();
    let (_, token) = source.create_portal(&[]);
    let files: Vec<(String, Vec<u8>)> =
        (0..3).map(|i| (format!("scan-{i}.txt"), format!("PLAINTEXT-MARKER-{i} statement\n").into_bytes())).collect();
    for (name, data) in &files {
        assert_eq!(upload(source.base(), &token, &[(name, data)]).await.status(), 201);
    }
    let matter = source.cli_json(&["matter", "create", "--name", "Round trip", "--json"], None)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let memo = source.dir.path().join("memo.txt");
    std::fs::write(&memo, "PLAINTEXT-MARKER-memo\n").unwrap();
    let memo = source.cli_json(&["doc", "upload", "--matter", &matter, memo.to_str().unwrap(), "--json"], None);
    let memo = memo["id"].as_str().unwrap().to_owned();
    source.cli_json(&["share", "create", "--matter", &matter, "--doc", &memo, "--recipient", "R", "--json"], None);
    let before: Vec<Value> = live_docs(&source);
    let originals: Vec<(String, Vec<u8>)> = before
        .iter()
        .map(|d| (d["id"].as_str().unwrap().to_owned(), bytes_of(&source, d["id"].as_str().unwrap())))
        .collect();

    let (identity, recipient) = keygen(&source);
    let dir = source.dir.path().join("backups");
    let made = create(&source, &dir, &recipient);
    assert_eq!(made["documents"], 4, "{made}");
    assert!(made["audit_seq"].as_i64().unwrap() > 0 && made["bytes"].as_u64().unwrap() > 0);
    let file = made["location"].as_str().unwrap().to_owned();
    let listed = source.cli_json(&["backup", "list", "--from", dir.to_str().unwrap(), "--json"], None);
    assert_eq!(listed[0]["location"], file.as_str());
    // Shredded after the backup: must stay shredded after the restore.
    let gone = originals[0].0.clone();
    assert!(source.cli(&["doc", "delete", &gone], None).0);
    // A last line torn by a crash is skipped, not a reason to refuse the whole journal.
    let journal = source.dir.path().join("shreds-copy.log");
    let mut text = std::fs::read_to_string(source.data_dir().join("audit").join("shreds.log")).unwrap();
    text.push_str("{\"document_id\":\"4d1c");
    std::fs::write(&journal, text).unwrap();
    let key = source.cli(&["audit", "public-key"], None).1.trim().to_owned();

    // Into the embedded backends.
    let mut target = embedded();
    let (ok, _, err) = target.cli(&["backup", "restore", &file, "--identity", identity.to_str().unwrap()], None);
    assert!(!ok && err.contains("journal"), "no journal, no restore: {err}");
    assert!(!target.data_dir().exists(), "the refused restore left nothing");
    // Pinned to another installation's published key: not this firm's backup.
    let other_key = embedded().cli(&["audit", "public-key"], None).1.trim().to_owned();
    let (ok, _, err) = target.cli(
        &[
            "backup",
            "restore",
            &file,
            "--identity",
            identity.to_str().unwrap(),
            "--no-journal",
            "--public-key",
            &other_key,
        ],
        None,
    );
    assert!(!ok && err.contains("not by the one given"), "{err}");
    assert!(!target.data_dir().exists());
    let restored = target.cli_json(
        &[
            "backup",
            "restore",
            &file,
            "--identity",
            identity.to_str().unwrap(),
            "--journal",
            journal.to_str().unwrap(),
            "--public-key",
            &key,
            "--json",
        ],
        None,
    );
    assert_eq!(restored["reshredded"], 1, "{restored}");
    assert_eq!(restored["signed_by"], key.as_str());
    let docs = target.cli_json(&["doc", "list", "--include-deleted", "--json"], None);
    let shredded = docs.as_array().unwrap().iter().find(|d| d["id"] == gone.as_str()).unwrap();
    assert_eq!(shredded["deletion_reason"], "restored_journal");
    for (id, data) in originals.iter().skip(1) {
        assert_eq!(&bytes_of(&target, id), data, "byte-exact after the restore");
    }
    assert!(target.audit_ok());
    assert!(target.audit_events().iter().any(|e| e["action"] == "backup.restored"));
    target.server = Some(target.spawn_server());
    let web = client();
    let r = sign_in_at(&web, target.base(), target.base(), "ada@firm.example", PASSWORD, &secret).await;
    assert_eq!(r.status(), 303, "the restored user signs in with their TOTP");

    // And back onto the configured backends (PostgreSQL + S3 in CI).
    let (identity2, recipient2) = keygen(&target);
    let back = create(&target, &target.dir.path().join("backups"), &recipient2);
    let again = Env::offline("");
    again.cli_json(
        &[
            "backup",
            "restore",
            back["location"].as_str().unwrap(),
            "--identity",
            identity2.to_str().unwrap(),
            "--no-journal",
            "--json",
        ],
        None,
    );
    for (id, data) in originals.iter().skip(1) {
        assert_eq!(&bytes_of(&again, id), data);
    }
    assert!(again.audit_ok());
    assert_eq!(again.cli_json(&["share", "list", "--json"], None).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_damaged_backup_or_a_wrong_identity_fails_clearly_and_changes_nothing() {
    let source = Env::start();
    let (_, token) = source.create_portal(&[]);
    assert_eq!(upload(source.base(), &token, &[("a.txt", b"PLAINTEXT-MARKER-a\n")]).await.status(), 201);
    let (identity, recipient) = keygen(&source);
    let made = create(&source, &source.dir.path().join("backups"), &recipient);
    let file = PathBuf::from(made["location"].as_str().unwrap());
    let bytes = std::fs::read(&file).unwrap();

    // No plaintext, no raw key in the file.
    let master = std::fs::read(source.data_dir().join("keys").join("master.key")).unwrap();
    assert!(!bytes.windows(master.len()).any(|w| w == master.as_slice()), "the master key appears raw");
    assert!(!bytes.windows(17).any(|w| w == b"PLAINTEXT-MARKER-"), "a document appears in plaintext");

    // The standard tools read it.
    let listing = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("age -d -i '{}' '{}' | tar -t", identity.display(), file.display()))
        .output()
        .expect("age and tar are installed (Debian's age)");
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    assert!(
        listing.contains("courier-backup/manifest.json") && listing.contains("courier-backup/db/documents.jsonl"),
        "{listing}"
    );

    let flipped = source.dir.path().join("flipped.tar.age");
    let mut damaged = bytes.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 1;
    std::fs::write(&flipped, &damaged).unwrap();
    let truncated = source.dir.path().join("truncated.tar.age");
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    let other = Env::offline("");
    let (wrong, _) = keygen(&other);
    for (path, id, what) in [
        (&flipped, &identity, "a flipped byte"),
        (&truncated, &identity, "a truncated file"),
        (&file, &wrong, "a wrong identity"),
    ] {
        let (ok, out, _) = source
            .cli(&["backup", "verify", path.to_str().unwrap(), "--identity", id.to_str().unwrap(), "--json"], None);
        let report: Value = serde_json::from_str(&out).unwrap();
        assert!(!ok && report["ok"] == false && report["error"].is_string(), "{what}: {report}");
        let target = Env::offline("");
        let (ok, _, err) = target.cli(
            &["backup", "restore", path.to_str().unwrap(), "--identity", id.to_str().unwrap(), "--no-journal"],
            None,
        );
        assert!(!ok && !err.is_empty(), "{what} restored");
        assert!(!target.data_dir().exists(), "{what}: the target stays untouched");
        if target.postgres.is_some() {
            // No table was left behind in the target database either: a restore now works.
            let (ok, _, err) = target.cli(
                &[
                    "backup",
                    "restore",
                    file.to_str().unwrap(),
                    "--identity",
                    identity.to_str().unwrap(),
                    "--no-journal",
                ],
                None,
            );
            assert!(ok, "{what}: {err}");
        }
    }
    let (ok, _, _) =
        source.cli(&["backup", "verify", file.to_str().unwrap(), "--identity", identity.to_str().unwrap()], None);
    assert!(ok, "the undamaged file verifies");
    // A non-empty target is refused and left as it was.
    let (ok, _, err) = source.cli(
        &["backup", "restore", file.to_str().unwrap(), "--identity", identity.to_str().unwrap(), "--no-journal"],
        None,
    );
    assert!(!ok && err.contains("empty"), "{err}");
    assert!(source.audit_ok());
}

#[tokio::test]
async fn a_backup_taken_while_uploads_run_is_consistent_and_the_drill_proves_it() {
    let source = Env::start();
    let (_, token) = source.create_portal(&[]);
    let (identity, recipient) = keygen(&source);
    let dir = source.dir.path().join("backups");
    let base = source.base().to_owned();
    let uploads = tokio::spawn(async move {
        for i in 0..30 {
            let data = format!("upload {i} {}\n", "x".repeat(i * 1000)).into_bytes();
            let r = upload(&base, &token, &[(&format!("u{i}.txt"), &data)]).await;
            assert_eq!(r.status(), 201);
        }
    });
    let mut made = Vec::new();
    for _ in 0..3 {
        made.push(create(&source, &dir, &recipient));
    }
    uploads.await.unwrap();
    for m in &made {
        let (ok, out, err) = source.cli(
            &["backup", "verify", m["location"].as_str().unwrap(), "--identity", identity.to_str().unwrap(), "--json"],
            None,
        );
        let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{err}"));
        assert!(ok && report["documents_checked"] == m["documents"], "{report}");
    }
    let drill = source.cli_json(
        &["backup", "drill", "--from", dir.to_str().unwrap(), "--identity", identity.to_str().unwrap(), "--json"],
        None,
    );
    assert_eq!(drill["ok"], true, "{drill}");
    assert!(drill["audit_events"].as_i64().unwrap() > 0 && drill["seconds"].is_number());
    let events = source.audit_events();
    let created: Vec<&Value> = events.iter().filter(|e| e["action"] == "backup.created").collect();
    assert_eq!(created.len(), 3);
    assert!(created.iter().all(|e| !e.to_string().contains("AGE-SECRET-KEY")), "never the identity");
}

/// `--to s3://bucket/prefix`: a multipart upload beside the blobs' bucket; `list` and `drill`
/// read it from there, and `restore` takes its URL. Runs where the tests have an S3 server.
#[tokio::test]
async fn backups_go_to_s3_and_come_back_from_there() {
    let source = Env::start();
    let Some(s3) = source.s3.clone() else {
        eprintln!("no COURIER_TEST_S3_ENDPOINT: the S3 destination is tested in CI");
        return;
    };
    let (_, token) = source.create_portal(&[]);
    // Over two S3 parts of backup, in a type every firm accepts.
    let big: Vec<u8> =
        (0..400_000).flat_map(|i| format!("ledger line {i:>12} of the statement\n").into_bytes()).collect();
    assert_eq!(upload(source.base(), &token, &[("big.txt", &big)]).await.status(), 201);
    let (identity, recipient) = keygen(&source);
    let to = format!("s3://{}/{}-backups", s3.bucket, s3.prefix);
    let made = source.cli_json(&["backup", "create", "--to", &to, "--recipient", &recipient, "--json"], None);
    let location = made["location"].as_str().unwrap().to_owned();
    assert!(location.starts_with(&to) && made["bytes"].as_u64().unwrap() > 12 * 1024 * 1024, "{made}");
    let listed = source.cli_json(&["backup", "list", "--from", &to, "--json"], None);
    assert_eq!(listed[0]["location"], location.as_str());
    let drill =
        source.cli_json(&["backup", "drill", "--from", &to, "--identity", identity.to_str().unwrap(), "--json"], None);
    assert_eq!((drill["ok"].as_bool(), drill["documents_checked"].as_u64()), (Some(true), Some(1)), "{drill}");
    let target = embedded();
    let mut cmd = source.command();
    cmd.env("COURIER_DATA_DIR", target.data_dir()).env_remove("COURIER_DATABASE_URL").env_remove("COURIER_BLOB_STORE");
    let out = cmd
        .args(["backup", "restore", &location, "--identity", identity.to_str().unwrap(), "--no-journal"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc = &target.docs(None)[0];
    assert_eq!(bytes_of(&target, doc["id"].as_str().unwrap()), big);
}

/// An installation whose restore did not finish (killed, power cut) refuses to open, so it can
/// never serve with the deletion journal half applied.
#[test]
fn an_unfinished_restore_keeps_the_installation_closed() {
    let env = embedded();
    assert!(env.cli(&["init"], None).0);
    std::fs::write(env.data_dir().join("RESTORE-INCOMPLETE"), "interrupted\n").unwrap();
    let (ok, _, err) = env.cli(&["doc", "list", "--json"], None);
    assert!(!ok && err.contains("did not finish"), "{err}");
}
