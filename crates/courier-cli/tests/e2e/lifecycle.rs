//! Lifecycle through the real binary: retention (most specific wins), the filing grace, legal
//! holds against every way of deleting, a hold racing a retention shredding, certificates of
//! deletion checked offline, client addresses that expire, and the deletion journal.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{Env, client, sign_in, upload};

fn doc_in(docs: &[Value], id: &str) -> Value {
    docs.iter().find(|d| d["id"] == id).cloned().unwrap_or(Value::Null)
}

fn all_docs(env: &Env) -> Vec<Value> {
    env.cli_json(&["doc", "list", "--include-deleted", "--json"], None).as_array().unwrap().clone()
}

/// Uploads one file through a portal link; its document id (names are unique per test).
async fn upload_one(env: &Env, token: &str, name: &str) -> String {
    let r = upload(env.base(), token, &[(name, format!("contents of {name}\n").as_bytes())]).await;
    assert_eq!(r.status(), 201);
    let docs = env.docs(None);
    docs.iter().find(|d| d["name"] == name).expect("listed")["id"].as_str().unwrap().to_owned()
}

fn upkeep(env: &Env) -> Value {
    env.cli_json(&["upkeep", "run", "--json"], None)
}

#[tokio::test]
async fn retention_follows_the_most_specific_rule_and_filing_shortens_it() {
    let env = Env::start_with_config("retention = \"3s\"\nfiled_grace = \"1s\"\n");
    let matter = env.cli_json(&["matter", "create", "--name", "Keep", "--retention", "1h", "--json"], None);
    let matter = matter["id"].as_str().unwrap();
    let (own, own_token) = env.create_portal(&["--matter", matter, "--retention", "2s"]);
    let (_, matter_token) = env.create_portal(&["--matter", matter]);
    let (_, firm_token) = env.create_portal(&[]);
    let by_portal = upload_one(&env, &own_token, "portal.txt").await;
    let by_matter = upload_one(&env, &matter_token, "matter.txt").await;
    let by_firm = upload_one(&env, &firm_token, "firm.txt").await;
    let filed = upload_one(&env, &matter_token, "filed.txt").await;
    let marked = env.cli_json(&["doc", "filed", &filed, "--reference", "DMS-4711", "--json"], None);
    assert_eq!(marked[0]["filed_reference"], "DMS-4711");
    assert_eq!(marked[0]["shred_reason"], "filed");

    let docs = all_docs(&env);
    assert_eq!(doc_in(&docs, &by_matter)["shred_reason"], "retention");
    assert!(
        doc_in(&docs, &by_portal)["shred_at"].as_str().unwrap() < doc_in(&docs, &by_firm)["shred_at"].as_str().unwrap()
    );
    assert_eq!(doc_in(&docs, &by_firm)["hold"], false);
    assert_eq!(env.cli_json(&["portal", "show", &own, "--json"], None)["retention_from"], "portal");

    std::thread::sleep(Duration::from_millis(3300));
    let report = upkeep(&env);
    assert_eq!(
        (report["shredded_retention"].as_u64(), report["shredded_filed"].as_u64()),
        (Some(2), Some(1)),
        "{report}"
    );
    let docs = all_docs(&env);
    for (id, why) in [(&by_portal, "retention"), (&by_firm, "retention"), (&filed, "filed")] {
        let d = doc_in(&docs, id);
        assert!(d["deleted_at"].is_string(), "{d}");
        assert_eq!(d["deletion_reason"], why, "{d}");
    }
    let kept = doc_in(&docs, &by_matter);
    assert!(kept["deleted_at"].is_null() && kept["shred_at"].is_string(), "the matter's hour keeps it: {kept}");
    let events = env.audit_events();
    let shreds: Vec<&Value> = events.iter().filter(|e| e["action"] == "document.delete").collect();
    assert_eq!(shreds.len(), 3);
    assert!(shreds.iter().all(|e| e["actor"] == "system" && e["details"]["reason"].is_string()));
    assert!(env.audit_ok());
}

#[tokio::test]
async fn a_held_document_survives_every_way_of_deleting_and_goes_after_release() {
    let env = Env::start_with_config("retention = \"2s\"\n");
    let (portal, token) = env.create_portal(&[]);
    let held = upload_one(&env, &token, "held.txt").await;
    let free = upload_one(&env, &token, "free.txt").await;
    let hold = env.cli_json(&["hold", "place", "--doc", &held, "--reason", "Dupont v. Acme", "--json"], None);
    let hold = hold["id"].as_str().unwrap().to_owned();
    // A matter hold covers documents uploaded after it was placed.
    let matter =
        env.cli_json(&["matter", "create", "--name", "Litigation", "--json"], None)["id"].as_str().unwrap().to_owned();
    let matter_hold = env.cli_json(&["hold", "place", "--matter", &matter, "--reason", "regulator", "--json"], None);
    let (_, later_token) = env.create_portal(&["--matter", &matter]);
    let later = upload_one(&env, &later_token, "later.txt").await;
    assert_eq!(doc_in(&all_docs(&env), &later)["hold"], true);
    assert!(doc_in(&all_docs(&env), &held)["shred_at"].is_null(), "no shred date while held");

    // The CLI, the API, the web UI and portal delete all refuse, naming the hold.
    let (ok, _, err) = env.cli(&["doc", "delete", &held], None);
    assert!(!ok && err.contains(&hold), "doc delete: {err}");
    let (ok, _, err) = env.cli(&["portal", "delete", &portal], None);
    assert!(!ok && err.contains(&hold), "portal delete: {err}");
    let web = client();
    let (csrf, _) = sign_in(&env, &web, "ada@firm.example", "attorney").await;
    let r = web
        .post(format!("{}/documents/{held}/delete", env.base()))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "web delete");
    let page = web.get(format!("{}/portals/{portal}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("on hold") && !page.contains(&format!("/documents/{held}/delete")), "no delete button");
    let api = env.cli_json(
        &["token", "create", "--email", "ada@firm.example", "--name", "dms", "--scope", "documents:write", "--json"],
        None,
    );
    let r = client()
        .delete(format!("{}/api/v1/documents/{held}", env.base()))
        .bearer_auth(api["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "API delete");

    std::thread::sleep(Duration::from_millis(2200));
    let report = upkeep(&env);
    assert_eq!(report["shredded_retention"], 1, "only the free one: {report}");
    let docs = all_docs(&env);
    assert!(doc_in(&docs, &free)["deleted_at"].is_string());
    assert!(doc_in(&docs, &held)["deleted_at"].is_null() && doc_in(&docs, &later)["deleted_at"].is_null());

    env.cli_json(&["hold", "release", &hold, "--reason", "settled", "--json"], None);
    env.cli_json(&["hold", "release", matter_hold["id"].as_str().unwrap(), "--reason", "closed", "--json"], None);
    assert_eq!(upkeep(&env)["shredded_retention"], 2);
    let docs = all_docs(&env);
    assert!(doc_in(&docs, &held)["deleted_at"].is_string() && doc_in(&docs, &later)["deleted_at"].is_string());
    let holds = env.cli_json(&["hold", "list", "--json"], None);
    assert_eq!(holds.as_array().unwrap().len(), 2, "released holds stay listed");
    assert!(holds.as_array().unwrap().iter().all(|h| h["active"] == false && h["release_reason"].is_string()));
    let actions: Vec<Value> = env.audit_events().iter().map(|e| e["action"].clone()).collect();
    assert!(actions.contains(&"hold.placed".into()) && actions.contains(&"hold.released".into()));
    assert!(env.audit_ok());
}

/// Upkeep (one process) and a hold on the matter (another) at the same moment, on the real
/// database: every document is either shredded before the hold (its shredding event comes
/// first in the trail) or kept; none is shredded after the hold.
#[tokio::test]
async fn a_hold_placed_while_retention_shreds_never_loses_the_race() {
    let env = Env::start_with_config("retention = \"1s\"\n");
    for round in 0..3 {
        let name = format!("Race {round}");
        let matter =
            env.cli_json(&["matter", "create", "--name", &name, "--json"], None)["id"].as_str().unwrap().to_owned();
        let (_, token) = env.create_portal(&["--matter", &matter]);
        let mut ids = Vec::new();
        for i in 0..8 {
            ids.push(upload_one(&env, &token, &format!("r{round}-{i}.txt")).await);
        }
        std::thread::sleep(Duration::from_millis(1100));
        let spawn =
            |args: &[&str]| env.command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let shredder = spawn(&["upkeep", "run", "--json"]);
        let holder = spawn(&["hold", "place", "--matter", &matter, "--reason", "race", "--json"]);
        let (shredder, holder) = (shredder.wait_with_output().unwrap(), holder.wait_with_output().unwrap());
        assert!(shredder.status.success() && holder.status.success(), "{}", String::from_utf8_lossy(&holder.stderr));
        let hold: Value = serde_json::from_slice(&holder.stdout).unwrap();
        let events = env.audit_events();
        let hold_seq = events
            .iter()
            .find(|e| e["action"] == "hold.placed" && e["details"]["hold_id"] == hold["id"])
            .unwrap()["seq"]
            .as_i64()
            .unwrap();
        let docs = all_docs(&env);
        for id in &ids {
            let d = doc_in(&docs, id);
            if d["deleted_at"].is_string() {
                let target = format!("document:{id}");
                let seq =
                    events.iter().find(|e| e["action"] == "document.delete" && e["target"] == target).unwrap()["seq"]
                        .as_i64()
                        .unwrap();
                assert!(seq < hold_seq, "round {round}: {id} shredded (event {seq}) after the hold (event {hold_seq})");
            } else {
                assert_eq!(d["hold"], true, "round {round}: kept and held");
            }
        }
        // And the held ones stay held through the next upkeep.
        upkeep(&env);
        let after = all_docs(&env);
        for id in &ids {
            assert_eq!(doc_in(&after, id)["deleted_at"].is_null(), doc_in(&docs, id)["deleted_at"].is_null());
        }
    }
    assert!(env.audit_ok());
}

#[tokio::test]
async fn a_certificate_of_deletion_verifies_offline_and_nothing_else_does() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let id = upload_one(&env, &token, "engagement.txt").await;
    let live = env.cli(&["doc", "certificate", &id], None);
    assert!(!live.0 && live.2.contains("not shredded"), "no certificate for a live document: {}", live.2);
    assert!(env.cli(&["doc", "delete", &id], None).0);
    let file = env.dir.path().join("certificate.json");
    assert!(env.cli(&["doc", "certificate", &id, "--output", file.to_str().unwrap()], None).0);
    assert!(!env.cli(&["doc", "certificate", &id, "--output", file.to_str().unwrap()], None).0, "never overwrites");
    let key = env.cli(&["audit", "public-key"], None).1.trim().to_owned();
    assert_eq!(key.len(), 64);

    // Offline: another machine with no installation (a data directory that does not exist).
    let offline = |path: &std::path::Path, key: &str| {
        let nowhere = env.dir.path().join("no-installation-here");
        let out = std::process::Command::new(crate::harness::BIN)
            .args(["--data-dir", nowhere.to_str().unwrap(), "certificate", "verify", path.to_str().unwrap()])
            .args(["--public-key", key, "--json"])
            .output()
            .unwrap();
        assert!(!nowhere.exists(), "verification made no installation");
        (out.status.success(), serde_json::from_slice::<Value>(&out.stdout).unwrap())
    };
    let (ok, check) = offline(&file, &key);
    assert!(ok && check["document_id"] == id.as_str() && check["reason"] == "staff", "{check}");
    let key_file = env.dir.path().join("audit.pub");
    std::fs::write(&key_file, format!("{key}\n")).unwrap();
    assert!(offline(&file, key_file.to_str().unwrap()).0, "the key from a file");
    assert!(env.cli(&["certificate", "verify", file.to_str().unwrap()], None).0, "with the installation's own key");

    let original: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let altered = env.dir.path().join("altered.json");
    for (path, value) in [
        ("/document/name", Value::from("other.txt")),
        ("/document/size", Value::from(1)),
        ("/document/sha256", Value::from("00".repeat(32))),
        ("/document/shredded_at", Value::from("2020-01-01T00:00:00Z")),
        ("/document/reason", Value::from("retention")),
        ("/shredding_event/seq", Value::from(1)),
        ("/audit_head/seq", Value::from(1)),
        ("/issued_at", Value::from("2020-01-01T00:00:00Z")),
    ] {
        let mut cert = original.clone();
        *cert.pointer_mut(path).unwrap() = value;
        std::fs::write(&altered, serde_json::to_vec(&cert).unwrap()).unwrap();
        let (ok, check) = offline(&altered, &key);
        assert!(!ok && check["ok"] == false, "{path} changed and still verified");
    }
    // Another installation's key.
    let other = Env::offline("");
    let other_key = other.cli(&["audit", "public-key"], None).1.trim().to_owned();
    let (ok, check) = offline(&file, &other_key);
    assert!(!ok && check["error"].as_str().unwrap().contains("another key"), "{check}");
}

#[tokio::test]
async fn client_addresses_become_unreadable_after_client_ip_retention() {
    let env = Env::start_with_config("client_ip_retention = \"2s\"\n");
    let (_, token) = env.create_portal(&[]);
    let id = upload_one(&env, &token, "scan.txt").await;
    let matter =
        env.cli_json(&["matter", "create", "--name", "Out", "--json"], None)["id"].as_str().unwrap().to_owned();
    let path = env.dir.path().join("memo.txt");
    std::fs::write(&path, "memo\n").unwrap();
    let memo = env.cli_json(&["doc", "upload", "--matter", &matter, path.to_str().unwrap(), "--json"], None);
    let memo = memo["id"].as_str().unwrap();
    let share =
        env.cli_json(&["share", "create", "--matter", &matter, "--doc", memo, "--recipient", "R", "--json"], None);
    let link = share["url"].as_str().unwrap();
    let r = client().get(format!("{link}/files/{memo}")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    let upload_event = |events: &[Value]| {
        events
            .iter()
            .find(|e| e["action"] == "document.upload" && e["details"]["document_id"] == id.as_str())
            .cloned()
            .unwrap()
    };
    let before = upload_event(&env.audit_events());
    assert_eq!(before["ip"], "127.0.0.1", "readable at first: {before}");
    let mac = before["ip_hmac"].as_str().unwrap().to_owned();
    assert_eq!(
        env.cli(&["audit", "address-hash", "127.0.0.1"], None).1.trim(),
        mac,
        "a suspected address is confirmed"
    );
    let shown = env.cli_json(&["share", "show", share["id"].as_str().unwrap(), "--json"], None);
    assert_eq!(shown["downloads"][0]["ip"], "127.0.0.1");

    std::thread::sleep(Duration::from_millis(2200));
    assert!(upkeep(&env)["addresses_redacted"].as_u64().unwrap() >= 2);
    let events = env.audit_events();
    let after = upload_event(&events);
    assert!(after["ip"].is_null() && after["ip_hmac"] == mac.as_str(), "{after}");
    let left: Vec<&Value> = events.iter().filter(|e| e.to_string().contains("127.0.0.1")).collect();
    assert!(left.is_empty(), "client addresses left in the trail: {left:?}");
    let shown = env.cli_json(&["share", "show", share["id"].as_str().unwrap(), "--json"], None);
    assert!(shown["downloads"][0]["ip"].is_null(), "{shown}");
    assert!(env.audit_ok(), "the chain still verifies");
}

#[tokio::test]
async fn the_deletion_journal_keeps_one_synced_line_per_shredding_across_a_kill() {
    let mut env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(upload_one(&env, &token, &format!("j{i}.txt")).await);
    }
    let user = env.create_user("jo@firm.example", "attorney");
    assert!(user["id"].is_string() || user["user_id"].is_string());
    let api = env.cli_json(
        &["token", "create", "--email", "jo@firm.example", "--name", "dms", "--scope", "documents:write", "--json"],
        None,
    );
    for id in &ids {
        let r = client()
            .delete(format!("{}/api/v1/documents/{id}", env.base()))
            .bearer_auth(api["token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    env.kill_server(); // SIGKILL: nothing is flushed at exit
    let journal = std::fs::read_to_string(env.data_dir().join("audit").join("shreds.log")).unwrap();
    let lines: Vec<Value> = journal.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{journal}");
    for id in &ids {
        assert!(lines.iter().any(|l| l["document_id"] == id.as_str() && l["shredded_at"].is_string()));
    }
    // Upkeep has nothing to catch up: every shredding was journaled when it happened.
    assert_eq!(upkeep(&env)["journal_caught_up"], 0);
}

/// An insider with write access to the database forges a shredding (a row marked shredded and
/// an event outside the numbering) or edits a real shredding's facts: no certificate is issued
/// for it, and `audit verify` reports the extra row.
#[tokio::test]
async fn an_insider_cannot_get_a_certificate_for_a_forged_shredding() {
    use sqlx::any::AnyPoolOptions;
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let live = upload_one(&env, &token, "live.txt").await;
    let real = upload_one(&env, &token, "real.txt").await;
    assert!(env.cli(&["doc", "delete", &real], None).0);
    sqlx::any::install_default_drivers();
    let db = AnyPoolOptions::new().max_connections(1).connect(&env.database_url()).await.unwrap();

    // A live document made to look shredded, with a hand-made event numbered 0.
    let target = format!("document:{live}");
    sqlx::query("UPDATE documents SET deleted_at = 1, deletion_reason = 'staff' WHERE id = $1")
        .bind(&live)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO audit_events (seq, at, actor, action, target, ip, details, prev_hash, hash) \
         VALUES (0, 1, 'staff:x', 'document.delete', $1, '', $2, $3, $3)",
    )
    .bind(&target)
    .bind(format!(r#"{{"document_id":"{live}","reason":"staff","size":1,"sha256":"00"}}"#))
    .bind(vec![0u8; 32])
    .execute(&db)
    .await
    .unwrap();
    let (ok, _, err) = env.cli(&["doc", "certificate", &live], None);
    assert!(!ok, "a certificate for a live document with a forged event: {err}");
    let (ok, out, _) = env.cli(&["audit", "verify", "--json"], None);
    assert!(!ok && out.contains("rows were added"), "{out}");
    sqlx::query("DELETE FROM audit_events WHERE seq = 0").execute(&db).await.unwrap();
    let (ok, _, err) = env.cli(&["doc", "certificate", &live], None);
    assert!(!ok && err.contains("not shredded"), "its key is still there: {err}");

    // The real shredding with its row's facts edited: the certificate states the chained ones.
    sqlx::query("UPDATE documents SET sha256 = $1, size = 999 WHERE id = $2")
        .bind("11".repeat(32))
        .bind(&real)
        .execute(&db)
        .await
        .unwrap();
    let (ok, out, err) = env.cli(&["doc", "certificate", &real], None);
    assert!(ok, "{err}");
    let cert: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cert["document"]["sha256"], crate::harness::sha256_hex(b"contents of real.txt\n"));
    assert_eq!(cert["document"]["size"], "contents of real.txt\n".len());
}

/// A paralegal may manage a portal but not shorten how long its documents stay (that would
/// shred them without the right to delete); marking them filed is theirs.
#[tokio::test]
async fn a_paralegal_cannot_shred_by_shortening_retention() {
    let env = Env::start();
    let matter =
        env.cli_json(&["matter", "create", "--name", "Beta", "--json"], None)["id"].as_str().unwrap().to_owned();
    let (portal, token) = env.create_portal(&["--matter", &matter]);
    let doc = upload_one(&env, &token, "ev.txt").await;
    let web = client();
    let (csrf, _) = sign_in(&env, &web, "para@firm.example", "paralegal").await;
    env.cli_json(
        &["matter", "add-member", &matter, "--user", "para@firm.example", "--role", "paralegal", "--json"],
        None,
    );
    let base = env.base().to_owned();
    let post = |path: String, field: &'static str, value: &'static str| {
        let (web, csrf, base) = (web.clone(), csrf.clone(), base.clone());
        async move {
            web.post(format!("{base}{path}"))
                .form(&[("csrf_token", csrf.as_str()), (field, value)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(post(format!("/portals/{portal}/retention"), "retention", "1s").await.status(), 403);
    assert_eq!(env.cli_json(&["portal", "show", &portal, "--json"], None)["retention_from"], "firm");
    assert_eq!(post(format!("/documents/{doc}/filed"), "reference", "DMS-1").await.status(), 303);
    assert!(doc_in(&all_docs(&env), &doc)["filed_at"].is_string());
}

/// A portal delete and a hold on one of its documents at the same moment: exactly one wins,
/// cleanly (the portal is gone and the hold refused as too late, or the hold stands and the
/// delete is refused naming it), never both, never a deadlock or a half-deleted portal.
#[tokio::test]
async fn a_portal_delete_and_a_document_hold_at_once_leave_one_clean_outcome() {
    let env = Env::start();
    for round in 0..3 {
        let (portal, token) = env.create_portal(&[]);
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(upload_one(&env, &token, &format!("pd{round}-{i}.txt")).await);
        }
        // The first upload is the last one the delete reaches.
        let target = ids[0].clone();
        let spawn =
            |args: &[&str]| env.command().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let deleter = spawn(&["portal", "delete", &portal, "--json"]);
        let holder = spawn(&["hold", "place", "--doc", &target, "--reason", "race", "--json"]);
        let (deleted, held) = (deleter.wait_with_output().unwrap(), holder.wait_with_output().unwrap());
        let (delete_err, hold_err) =
            (String::from_utf8_lossy(&deleted.stderr).into_owned(), String::from_utf8_lossy(&held.stderr).into_owned());
        let docs = all_docs(&env);
        let live = ids.iter().filter(|id| doc_in(&docs, id)["deleted_at"].is_null()).count();
        match (deleted.status.success(), held.status.success()) {
            (true, false) => {
                assert!(hold_err.contains("already shredded"), "round {round}: {hold_err}");
                assert_eq!(live, 0, "round {round}: the portal went with all its documents");
            }
            (false, true) => {
                assert!(delete_err.contains("legal hold"), "round {round}: {delete_err}");
                assert_eq!(live, ids.len(), "round {round}: nothing of the portal was shredded");
            }
            outcome => panic!("round {round}: {outcome:?}: delete {delete_err} / hold {hold_err}"),
        }
    }
    assert!(env.audit_ok());
}
