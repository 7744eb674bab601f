//! `courier audit verify` catches edits, deletions, reorderings and truncation of the trail;
//! shredding leaves nothing that could open a document again.

use serde_json::Value;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::harness::{Env, sha256_hex, upload};

/// An installation with eight audit events, made through the CLI.
fn env_with_events() -> Env {
    let env = Env::offline("");
    for i in 0..4 {
        let p = env.cli_json(&["portal", "create", "--label", &format!("Portal {i}"), "--json"], None);
        assert!(env.cli(&["portal", "disable", p["id"].as_str().unwrap()], None).0);
    }
    env
}

/// The installation's own database, SQLite or PostgreSQL, opened behind Courier's back.
async fn db(env: &Env) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new().max_connections(1).connect(&env.database_url()).await.expect("open the database")
}

fn verify(env: &Env) -> (bool, Value) {
    let (ok, out, err) = env.cli(&["audit", "verify", "--json"], None);
    (ok, serde_json::from_str(&out).unwrap_or_else(|_| panic!("no JSON report: {out} {err}")))
}

fn assert_broken_at(env: &Env, seq: i64) {
    let (ok, report) = verify(env);
    assert!(!ok, "verify passed: {report}");
    assert_eq!(report["ok"], false);
    assert_eq!(report["error"]["seq"], seq, "{report}");
}

#[tokio::test]
async fn an_intact_trail_verifies_and_the_verification_is_recorded() {
    let env = env_with_events();
    let (ok, report) = verify(&env);
    assert!(ok, "{report}");
    assert_eq!(report["events"], 8);
    assert_eq!(report["head_seq"], 8);
    assert!(env.audit_events().iter().any(|e| e["action"] == "audit.verify" && e["details"]["ok"] == true));
}

#[tokio::test]
async fn an_edited_event_is_detected() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("UPDATE audit_events SET details = '{\"portal_id\":\"someone else\"}' WHERE seq = 3")
        .execute(&pool)
        .await
        .unwrap();
    assert_broken_at(&env, 3);
}

#[tokio::test]
async fn an_edited_actor_or_time_is_detected() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("UPDATE audit_events SET at = at + 1 WHERE seq = 5").execute(&pool).await.unwrap();
    assert_broken_at(&env, 5);
}

#[tokio::test]
async fn a_deleted_event_is_detected() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("DELETE FROM audit_events WHERE seq = 4").execute(&pool).await.unwrap();
    assert_broken_at(&env, 4);
}

#[tokio::test]
async fn reordered_events_are_detected() {
    let env = env_with_events();
    let pool = db(&env).await;
    for sql in [
        "UPDATE audit_events SET seq = 100 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = 100",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    assert_broken_at(&env, 2);
}

#[tokio::test]
async fn deleting_the_newest_events_is_detected_by_the_signed_head() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("DELETE FROM audit_events WHERE seq > 6").execute(&pool).await.unwrap();
    assert_broken_at(&env, 7);
}

#[tokio::test]
async fn deleting_the_newest_events_and_rewinding_the_head_is_detected_by_heads_log() {
    let env = env_with_events();
    let pool = db(&env).await;
    // The attacker puts back a genuinely signed older head (copied from heads.log).
    let log = std::fs::read_to_string(env.data_dir().join("audit").join("heads.log")).unwrap();
    let old: Value = log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|h| h["seq"] == 6).unwrap();
    sqlx::query("DELETE FROM audit_events WHERE seq > 6").execute(&pool).await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = 6, hash = $1, at = $2, signature = $3")
        .bind(hex(&old["hash"]))
        .bind(old["at"].as_i64().unwrap())
        .bind(hex(&old["sig"]))
        .execute(&pool)
        .await
        .unwrap();
    assert_broken_at(&env, 7);
}

/// Review finding 1: the attacker (database access only) deletes the newest events and puts
/// back an older genuinely signed head. Courier must not extend it: new events would reuse the
/// deleted sequence numbers in heads.log and hide the deletion.
async fn rewind_to(env: &Env, pool: &AnyPool, seq: i64) {
    let log = std::fs::read_to_string(env.data_dir().join("audit").join("heads.log")).unwrap();
    let old: Value = log.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|h| h["seq"] == seq).unwrap();
    sqlx::query(&format!("DELETE FROM audit_events WHERE seq > {seq}")).execute(pool).await.unwrap();
    sqlx::query("UPDATE audit_head SET seq = $4, hash = $1, at = $2, signature = $3")
        .bind(hex(&old["hash"]))
        .bind(old["at"].as_i64().unwrap())
        .bind(hex(&old["sig"]))
        .bind(seq)
        .execute(pool)
        .await
        .unwrap();
}

async fn event_count(pool: &AnyPool) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_events").fetch_one(pool).await.unwrap().get::<i64, _>(0)
}

#[tokio::test]
async fn a_rewound_head_is_not_extended_by_the_cli_or_the_server() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    for i in 0..3 {
        env.cli_json(&["portal", "create", "--label", &format!("Portal {i}"), "--json"], None);
    }
    let pool = db(&env).await;
    let before = event_count(&pool).await;
    rewind_to(&env, &pool, before - 2).await;
    // The CLI (a new process) refuses.
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "after the rewind"], None);
    assert!(!ok, "the CLI appended on top of a rewound head");
    assert!(err.contains("rolled back"), "{err}");
    // The running server refuses too: the upload fails and leaves no event and no document.
    let resp = upload(env.base(), &token, &[("a.txt", b"hello there, some text".as_slice())]).await;
    assert_eq!(resp.status(), 500);
    assert_eq!(event_count(&pool).await, before - 2);
    let docs = sqlx::query("SELECT COUNT(*) FROM documents").fetch_one(&pool).await.unwrap().get::<i64, _>(0);
    assert_eq!(docs, 0, "the upload left a document without its audit event");
    assert_broken_at(&env, before - 1);
}

#[tokio::test]
async fn two_different_heads_for_one_sequence_number_are_tampering() {
    // Even if heads.log were cut back along with the database (by someone with both), the
    // lines that were copied elsewhere and put back expose the rewrite.
    let env = env_with_events();
    let path = env.data_dir().join("audit").join("heads.log");
    let original = std::fs::read_to_string(&path).unwrap();
    let pool = db(&env).await;
    rewind_to(&env, &pool, 6).await;
    let kept: String = original.lines().take(6).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, kept).unwrap();
    for i in 0..2 {
        assert!(env.cli(&["portal", "create", "--label", &format!("Rewritten {i}")], None).0);
    }
    let rewritten = std::fs::read_to_string(&path).unwrap();
    let replayed: String = original.lines().skip(6).map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, format!("{rewritten}{replayed}")).unwrap();
    let (ok, report) = verify(&env);
    assert!(!ok, "{report}");
    assert!(report["error"]["reason"].as_str().unwrap().contains("two different signed heads"), "{report}");
    assert_eq!(report["error"]["seq"], 7);
}

#[tokio::test]
async fn a_missing_heads_log_does_not_verify() {
    let env = env_with_events();
    std::fs::remove_file(env.data_dir().join("audit").join("heads.log")).unwrap();
    let (ok, report) = verify(&env);
    assert!(!ok, "{report}");
    assert!(report["error"]["reason"].as_str().unwrap().contains("missing"), "{report}");
}

/// Review finding (2026-12-07): the attacker deletes `heads.log` (here the whole `audit/`
/// directory) as well as the newest events, puts back an older signed head and lets any
/// process append. The log must not be made anew, by that process's start-up or its append (a
/// fresh file holding only new heads would verify): the action goes on, its head is not
/// logged, and the trail fails verification until an operator starts a new log on purpose
/// (`audit restart-log`, itself audited, saying the old log held no heads).
#[tokio::test]
async fn a_deleted_heads_log_is_not_made_anew_to_hide_a_rollback() {
    let env = env_with_events();
    let pool = db(&env).await;
    rewind_to(&env, &pool, 6).await;
    let path = env.data_dir().join("audit").join("heads.log");
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "after the wipe"], None);
    assert!(ok, "{err}");
    assert!(err.contains("not made anew"), "the operator is not told: {err}");
    assert!(!path.exists(), "heads.log was made anew, hiding the rollback");
    let (ok, report) = verify(&env);
    assert!(!ok, "{report}");
    assert!(report["error"]["reason"].as_str().unwrap().contains("is missing"), "{report}");
    let restart = ["audit", "restart-log", "--reason", "heads.log was deleted", "--accept-lost-events", "0", "--json"];
    let (ok, out, err) = env.cli(&restart, None);
    assert!(ok, "{err}");
    let restarted: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(restarted["replaced_heads"], 0, "{out}");
    assert!(err.contains("held no heads"), "the operator is not warned: {err}");
    let events = env.audit_events();
    let alert = restart_alert(&events).expect("restart-log raised no alert");
    assert_eq!(alert["details"]["details"]["replaced_heads"], 0, "{alert}");
    let summary = alert["details"]["summary"].as_str().unwrap();
    assert!(summary.contains("cannot be told"), "the alert reads as harmless: {summary}");
    assert!(verify(&env).0);
}

#[tokio::test]
async fn a_failed_verification_signs_nothing_on_top() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("UPDATE audit_events SET details = '{}' WHERE seq = 3").execute(&pool).await.unwrap();
    let head = |pool: &AnyPool| {
        let pool = pool.clone();
        async move { sqlx::query("SELECT seq FROM audit_head").fetch_one(&pool).await.unwrap().get::<i64, _>(0) }
    };
    let before = head(&pool).await;
    assert_broken_at(&env, 3);
    assert_eq!(head(&pool).await, before, "a failed verification appended an event");
    assert_eq!(event_count(&pool).await, before);
}

/// A second review of issue 13: the chain hash is unkeyed, so an insider can append a forged
/// event and a head with a junk signature. The next genuine action must not sign on top.
/// What an insider with database access can do: append an event with a correct (unkeyed)
/// chain hash after the newest one, and a head naming it with a junk signature. Its `seq`.
async fn forge_next_event(pool: &AnyPool) -> i64 {
    let last =
        sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetch_one(pool).await.unwrap();
    let (seq, prev): (i64, Vec<u8>) = (last.get(0), last.get(1));
    let prev: [u8; 32] = prev.try_into().unwrap();
    let (at, actor, action, target, ip, details) =
        (1_800_000_000_000i64, "staff:frame-me", "document.download", "document:forged", "203.0.113.9", "{}");
    let fields = courier_crypto::audit::EventFields { seq: seq + 1, at_ms: at, actor, action, target, ip, details };
    let hash = courier_crypto::audit::chain_hash(&prev, &fields);
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, target, ip, details, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq + 1)
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(ip)
    .bind(details)
    .bind(prev.to_vec())
    .bind(hash.to_vec())
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2, at = $3, signature = $4")
        .bind(seq + 1)
        .bind(hash.to_vec())
        .bind(at)
        .bind(vec![0u8; 64])
        .execute(pool)
        .await
        .unwrap();
    seq + 1
}

/// A second review of issue 13: the chain hash is unkeyed, so an insider can append a forged
/// event and a head with a junk signature. The next genuine action must not sign on top.
#[tokio::test]
async fn a_forged_event_with_an_unsigned_head_is_not_vouched_for() {
    let env = env_with_events();
    let pool = db(&env).await;
    forge_next_event(&pool).await;
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "after the forgery"], None);
    assert!(!ok, "an action signed a head on top of a forged one");
    assert!(err.contains("not one Courier signed"), "{err}");
    assert!(!verify(&env).0);
}

/// After restoring a database older than heads.log, appends are refused until the operator
/// restarts the log: audited, the old log kept, the trail verifying again.
#[tokio::test]
async fn a_restored_older_database_is_recovered_by_restarting_the_log() {
    let env = env_with_events();
    if env.on_postgres() {
        return;
    }
    let backup = env.dir.path().join("backup.db");
    let pool = db(&env).await;
    sqlx::query(&format!("VACUUM INTO '{}'", backup.display())).execute(&pool).await.unwrap();
    pool.close().await;
    for i in 0..2 {
        assert!(env.cli(&["portal", "create", "--label", &format!("after the backup {i}")], None).0);
    }
    let live = env.data_dir().join("courier.db");
    std::fs::copy(&backup, &live).unwrap();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(env.data_dir().join(format!("courier.db{suffix}")));
    }
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "refused"], None);
    assert!(!ok && err.contains("restart-log"), "{err}");
    let (ok, _, err) = env.cli(&["audit", "restart-log", "--reason", " "], None);
    assert!(!ok && err.contains("reason"), "{err}");
    let reason = "restored the 02:00 backup after a disk failure";
    let (ok, _, err) = env.cli(&["audit", "restart-log", "--reason", reason], None);
    assert!(!ok && err.contains("--accept-lost-events 2"), "the operator must name what is lost: {err}");
    let restarted =
        env.cli_json(&["audit", "restart-log", "--reason", reason, "--accept-lost-events", "2", "--json"], None);
    assert_eq!(restarted["head_seq"], 8);
    assert_eq!(restarted["replaced_last_seq"], 10);
    assert_eq!(restarted["events_lost"], 2);
    let kept = std::fs::read_dir(env.data_dir().join("audit"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("heads.log.replaced-"))
        .count();
    assert_eq!(kept, 1, "the old log is kept");
    assert!(env.cli(&["portal", "create", "--label", "after the restart"], None).0);
    let (ok, report) = verify(&env);
    assert!(ok, "{report}");
    let events = env.audit_events();
    assert!(events.iter().any(|e| e["action"] == "audit.log_restarted"));
    // The firm hears of it: a restart is how deleted events would be covered up.
    let alert = restart_alert(&events).expect("restart-log raised no alert");
    assert_eq!(alert["details"]["details"]["events_lost"], 2, "{alert}");
    assert!(alert["details"]["summary"].as_str().unwrap().contains(reason), "{alert}");
}

/// A restart the trail cannot record must not stand: the old log goes back, byte for byte, and
/// nothing is left beside it. (The insert of the restart's event is made to fail, as a database
/// administrator could make it; before, the new log stayed in place with no event and no alert,
/// and `audit verify` passed.) A reason the alert's mail could not carry as typed is refused
/// before anything is touched.
#[tokio::test]
async fn a_restart_that_cannot_be_recorded_puts_the_old_log_back() {
    let env = env_with_events();
    if env.on_postgres() {
        return; // the trigger below is SQLite's
    }
    let audit_dir = env.data_dir().join("audit");
    let path = audit_dir.join("heads.log");
    let mut damaged = std::fs::read(&path).unwrap();
    damaged.extend_from_slice(b"not a head\n");
    std::fs::write(&path, &damaged).unwrap();
    let files = || {
        let mut names: Vec<String> = std::fs::read_dir(&audit_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let before = files();
    let (ok, _, err) = env.cli(&["audit", "restart-log", "--reason", "looked\ninto it"], None);
    assert!(!ok && err.contains("reason"), "{err}");
    let pool = db(&env).await;
    sqlx::query(
        "CREATE TRIGGER refuse_restart BEFORE INSERT ON audit_events WHEN NEW.action = 'audit.log_restarted' \
         BEGIN SELECT RAISE(ABORT, 'refused'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    let restart = ["audit", "restart-log", "--reason", "a torn line, looked into", "--accept-lost-events", "0"];
    let (ok, _, err) = env.cli(&restart, None);
    assert!(!ok, "the restart went through without its event: {err}");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    assert_eq!(text(&std::fs::read(&path).unwrap()), text(&damaged), "the new log stayed in place");
    assert_eq!(files(), before, "files were left beside the log");
    assert!(!verify(&env).0, "the damaged log verifies");
    sqlx::query("DROP TRIGGER refuse_restart").execute(&pool).await.unwrap();
    let (ok, _, err) = env.cli(&restart, None);
    assert!(ok, "{err}");
    let events = env.audit_events();
    let alert = restart_alert(&events).expect("restart-log raised no alert");
    let summary = alert["details"]["summary"].as_str().unwrap();
    assert!(summary.contains("lines that were not signed heads: 1"), "{summary}");
    assert!(verify(&env).0);
}

/// The `alert.raised` event of the last `audit restart-log`, if it raised one.
fn restart_alert(events: &[Value]) -> Option<&Value> {
    events.iter().rev().find(|e| e["action"] == "alert.raised" && e["details"]["alert"] == "audit_log_restarted")
}

#[tokio::test]
async fn a_deleted_head_row_is_detected_and_no_new_chain_starts() {
    let env = env_with_events();
    let pool = db(&env).await;
    sqlx::query("DELETE FROM audit_head").execute(&pool).await.unwrap();
    assert!(!verify(&env).0);
    // Appending would silently start a second chain; the action fails instead.
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "after the wipe"], None);
    assert!(!ok, "an action succeeded without its audit event: {err}");
    let row = sqlx::query("SELECT COUNT(*) FROM portals").fetch_one(&pool).await.unwrap();
    assert_eq!(row.get::<i64, _>(0), 4, "the portal was created without its audit event");
}

#[tokio::test]
async fn a_forged_head_log_line_is_detected() {
    let env = env_with_events();
    let path = env.data_dir().join("audit").join("heads.log");
    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, log.replacen("\"seq\":3", "\"seq\":30", 1)).unwrap();
    assert!(!env.cli(&["audit", "verify"], None).0);
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().unwrap();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[tokio::test]
async fn export_is_json_lines_and_respects_since() {
    let env = env_with_events();
    let (ok, out, _) = env.cli(&["audit", "export", "--json"], None);
    assert!(ok);
    let events: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Eight actions, then the export itself (recorded before it runs).
    assert_eq!(events.len(), 9);
    assert_eq!(events[8]["action"], "audit.export");
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(events[1]["prev_hash"], events[0]["hash"]);
    let (ok, out, _) = env.cli(&["audit", "export", "--since", "2999-01-01T00:00:00Z", "--json"], None);
    assert!(ok && out.is_empty());
}

#[tokio::test]
async fn a_shredded_document_cannot_be_read_even_with_the_master_key_and_its_blob() {
    let env = Env::start();
    if env.skip_on_s3("reads the local blob file") {
        return;
    }
    let (_, token) = env.create_portal(&[]);
    let secret = b"Settlement offer: 1.2M, privileged and confidential".repeat(3000);
    assert_eq!(upload(env.base(), &token, &[("offer.txt", &secret)]).await.status(), 201);
    let doc = env.docs(None)[0].clone();
    let id = doc["id"].as_str().unwrap().to_owned();
    assert_eq!(doc["sha256"], sha256_hex(&secret));

    // What an attacker might have: the master key, a copy of the blob, and (from a snapshot
    // taken before deletion) the wrapped key. The control shows these do open the document.
    let pool = db(&env).await;
    let wrapped: Vec<u8> =
        sqlx::query("SELECT wrapped_dek FROM documents WHERE id = $1").bind(&id).fetch_one(&pool).await.unwrap().get(0);
    pool.close().await;
    let blob = std::fs::read(&env.blob_files()[0]).unwrap();
    let master = std::fs::read(env.data_dir().join("keys").join("master.key")).unwrap();
    let ring = courier_crypto::keys::KeyRing::new([(1, courier_crypto::keys::SecretKey::from_slice(&master).unwrap())])
        .unwrap();
    let doc_id = *uuid_bytes(&id);
    let decrypt = |dek: courier_crypto::keys::Dek| {
        let mut d = courier_crypto::stream::Decryptor::new(dek, &doc_id);
        let mut out = Vec::new();
        d.push(&blob, &mut out).and_then(|()| d.finish(&mut out)).map(|()| out)
    };
    assert_eq!(decrypt(ring.unwrap(&wrapped, &doc_id).unwrap()).unwrap(), secret, "control: the key opened the blob");

    assert!(env.cli(&["doc", "delete", &id], None).0);
    let pool = db(&env).await;
    let after: Option<Vec<u8>> =
        sqlx::query("SELECT wrapped_dek FROM documents WHERE id = $1").bind(&id).fetch_one(&pool).await.unwrap().get(0);
    assert!(after.is_none());
    for row in sqlx::query("SELECT id, wrapped_dek FROM documents WHERE wrapped_dek IS NOT NULL")
        .fetch_all(&pool)
        .await
        .unwrap()
    {
        let w: Vec<u8> = row.get(1);
        assert!(ring.unwrap(&w, &doc_id).is_err());
    }
    pool.close().await;
    // The wrapped key is gone from every file, free pages and write-ahead log included, and the
    // blob itself is deleted.
    for (path, data) in env.all_files() {
        assert!(!data.windows(wrapped.len()).any(|w| w == wrapped.as_slice()), "wrapped key still in {path:?}");
    }
    assert!(env.blob_files().is_empty());
    assert!(decrypt(courier_crypto::keys::Dek::generate().unwrap()).is_err());
}

fn uuid_bytes(id: &str) -> Box<[u8; 16]> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    Box::new(out)
}

/// A `heads.log` whose appends failed (they are logged, not returned, once the database has
/// committed) lags the chain: `audit verify` still passes, and says by how much.
#[test]
fn a_heads_log_that_lags_is_reported() {
    let env = env_with_events();
    let path = env.data_dir().join("audit").join("heads.log");
    let log = std::fs::read_to_string(&path).unwrap();
    let kept: Vec<&str> = log.lines().collect();
    std::fs::write(&path, kept[..kept.len() - 2].join("\n") + "\n").unwrap();
    let (ok, out, err) = env.cli(&["audit", "verify", "--json"], None);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert!(ok && report["ok"] == true, "{out} {err}");
    assert_eq!(report["heads_log_behind"], 2, "{out}");
    assert!(err.contains("events behind"), "{err}");
    // The verification's own event carried the log forward.
    let (_, out, _) = env.cli(&["audit", "verify", "--json"], None);
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap()["heads_log_behind"], 0, "{out}");
}

/// A server that has just committed a head of its own (and so might be tempted to trust it)
/// must still refuse a head forged right after it while it runs.
#[tokio::test]
async fn a_running_server_refuses_to_sign_on_a_head_forged_after_its_own() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    assert!(upload(env.base(), &token, &[("first.txt", b"before the forgery")]).await.status().is_success());
    let pool = db(&env).await;
    let forged = forge_next_event(&pool).await;
    let refused = upload(env.base(), &token, &[("second.txt", b"after the forgery")]).await;
    assert!(!refused.status().is_success(), "an upload signed on top of a forged head");
    let newest: i64 = sqlx::query("SELECT MAX(seq) FROM audit_events").fetch_one(&pool).await.unwrap().get(0);
    assert_eq!(newest, forged, "an event was appended after the forged one");
    assert!(!verify(&env).0);
}

/// An event edited beneath the head (its content, its hash column left alone) does not stop the
/// next append: only re-hashing the chain could tell. The append links to the hash that was
/// signed, not to the edited content, and `audit verify` points at the edited event.
#[tokio::test]
async fn an_event_edited_beneath_the_servers_head_is_found_by_verify() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    assert!(upload(env.base(), &token, &[("first.txt", b"one")]).await.status().is_success());
    let pool = db(&env).await;
    let head: i64 = sqlx::query("SELECT seq FROM audit_head").fetch_one(&pool).await.unwrap().get(0);
    sqlx::query("UPDATE audit_events SET details = '{}' WHERE seq = $1").bind(head).execute(&pool).await.unwrap();
    assert!(upload(env.base(), &token, &[("second.txt", b"two")]).await.status().is_success());
    let prev: Vec<u8> = sqlx::query("SELECT prev_hash FROM audit_events WHERE seq = $1")
        .bind(head + 1)
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    let signed: Vec<u8> =
        sqlx::query("SELECT hash FROM audit_events WHERE seq = $1").bind(head).fetch_one(&pool).await.unwrap().get(0);
    assert_eq!(prev, signed, "the next event links to the hash that was signed, not to an edited one");
    assert_broken_at(&env, head);
}
