//! Several instances behind a load balancer: the same PostgreSQL and S3, shared key files,
//! a data directory each. Runs when both `COURIER_TEST_POSTGRES_URL` and
//! `COURIER_TEST_S3_ENDPOINT` are set (`.ci/run` starts both).

use std::time::Duration;

use crate::harness::{Env, PASSWORD, bytes, client, hidden_field, sha256_hex, sign_in_at, stalled_upload, upload};

fn cluster_env() -> Option<Env> {
    let env = Env::start();
    if !(env.on_postgres() && env.on_s3()) {
        eprintln!("skipped: needs COURIER_TEST_POSTGRES_URL and COURIER_TEST_S3_ENDPOINT (see .ci/run)");
        return None;
    }
    Some(env)
}

#[tokio::test]
async fn two_instances_share_portals_documents_sessions_and_one_audit_chain() {
    let Some(env) = cluster_env() else { return };
    let b = env.spawn_second_instance();
    let (a_url, b_url) = (env.base().to_owned(), b.base.clone());
    let (portal, token) = env.create_portal(&[]);

    // Uploads through both instances at once.
    let files: Vec<Vec<u8>> = (0..8).map(|i| bytes(300_000 + i * 1000, i as u64)).collect();
    let tasks: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let base = if i % 2 == 0 { a_url.clone() } else { b_url.clone() };
            let (token, data) = (token.clone(), data.clone());
            tokio::spawn(async move { upload(&base, &token, &[(&format!("part-{i}.bin"), &data)]).await.status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 8);
    assert_eq!(env.blob_files().len(), 8);

    // A staff session made on instance A works on instance B (sessions live in the database;
    // CSRF tokens too).
    let user = env.create_user("ada@firm.example", "attorney");
    let c = client();
    // The password goes to instance A, the TOTP code to instance B.
    let r = sign_in_at(&c, &a_url, &b_url, "ada@firm.example", PASSWORD, user["totp_secret"].as_str().unwrap()).await;
    assert_eq!(r.status(), 303);

    // Downloads through either instance return the exact bytes.
    for (i, data) in files.iter().enumerate() {
        let id = docs.iter().find(|d| d["name"] == format!("part-{i}.bin")).unwrap()["id"].as_str().unwrap().to_owned();
        let base = if i % 2 == 0 { &b_url } else { &a_url };
        let got = c.get(format!("{base}/documents/{id}/download")).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(sha256_hex(&got), sha256_hex(data), "part-{i} through {base}");
    }

    // Deleted through one instance: gone on both, and from the bucket.
    let victim = docs[0]["id"].as_str().unwrap().to_owned();
    let page = c.get(format!("{a_url}/portals/{portal}")).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c
        .post(format!("{a_url}/documents/{victim}/delete"))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    for base in [&a_url, &b_url] {
        assert_eq!(c.get(format!("{base}/documents/{victim}/download")).send().await.unwrap().status(), 404);
    }
    assert_eq!(env.blob_files().len(), 7);

    let events = env.audit_events();
    assert_eq!(events.iter().filter(|e| e["action"] == "document.upload").count(), 8);
    assert_eq!(events.iter().filter(|e| e["action"] == "document.download").count(), 8);
    assert!(env.audit_ok());
}

#[tokio::test]
async fn killing_one_instance_mid_upload_leaves_the_other_serving_and_no_half_document() {
    let Some(mut env) = cluster_env() else { return };
    let b = env.spawn_second_instance();
    let (_, token) = env.create_portal(&[]);
    // 12 MiB (two full S3 parts sent), then the body stalls until the instance dies.
    let stalled = stalled_upload(env.base(), &token, 48, 262_144);
    tokio::time::sleep(Duration::from_secs(2)).await;
    env.kill_server(); // SIGKILL, mid-upload
    assert!(stalled.await.unwrap().is_err());

    let ok = upload(&b.base, &token, &[("whole.txt", b"complete")]).await;
    assert_eq!(ok.status(), 201, "the surviving instance stopped serving");
    let names: Vec<String> = env.docs(None).iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["whole.txt"], "a half document became visible");
    assert_eq!(env.blob_files().len(), 1, "an unfinished multipart upload became an object");
    // The dead instance could not abort its multipart upload; the sweep (any instance, or the
    // operator) does, once it is stale. Here "stale" is set to now.
    let sweep = |env: &Env| {
        let out = env
            .command()
            .env("COURIER_S3_STALE_UPLOAD_SECS", "0")
            .args(["maintenance", "run", "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(sweep(&env)["stale_uploads_removed"], 1);
    assert_eq!(sweep(&env)["stale_uploads_removed"], 0);
    assert_eq!(env.blob_files().len(), 1);
    assert!(env.audit_ok());
}

#[tokio::test]
async fn two_instances_starting_together_on_a_fresh_database_both_come_up() {
    let env = Env::offline("");
    if !env.on_postgres() {
        eprintln!("skipped: needs COURIER_TEST_POSTGRES_URL (see .ci/run)");
        return;
    }
    // Keys first (as an operator provisions them for a cluster), then both instances at once:
    // the migrations run under PostgreSQL's advisory lock, so neither trips over the other.
    let keys = env.dir.path().join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for k in ["master.key", "audit.key"] {
        std::fs::write(keys.join(k), crate::harness::bytes(32, k.len() as u64)).unwrap();
    }
    let started: Vec<_> = (0..2)
        .map(|i| {
            let mut c = env.command();
            c.env("COURIER_DATA_DIR", env.dir.path().join(format!("node-{i}")))
                .env("COURIER_MASTER_KEY_FILE", keys.join("master.key"))
                .env("COURIER_AUDIT_KEY_FILE", keys.join("audit.key"));
            std::thread::spawn(move || {
                let mut child =
                    c.args(["serve", "--bind", "127.0.0.1:0"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
                let out = child.stdout.take().unwrap();
                let up = std::io::BufRead::lines(std::io::BufReader::new(out)).map_while(Result::ok).find_map(|l| {
                    l.strip_prefix("Courier is listening on ").map(|r| r.split_whitespace().next().unwrap().to_owned())
                });
                (child, up)
            })
        })
        .collect();
    let mut children = Vec::new();
    for t in started {
        let (child, up) = t.join().unwrap();
        children.push(child);
        let base = up.expect("an instance failed to start");
        assert_eq!(client().get(format!("{base}/healthz")).send().await.unwrap().text().await.unwrap(), "ok");
    }
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    // Both appended `setup.link_issued` to the empty chain at the same moment: still one chain.
    let verify = env
        .command()
        .env("COURIER_DATA_DIR", env.dir.path().join("node-0"))
        .env("COURIER_MASTER_KEY_FILE", keys.join("master.key"))
        .env("COURIER_AUDIT_KEY_FILE", keys.join("audit.key"))
        .args(["audit", "verify", "--json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&verify.stdout).unwrap();
    assert!(verify.status.success(), "{report}");
    assert_eq!(report["events"], 2, "{report}");
}

/// A brand changed through one instance reaches the other's client pages within an upkeep
/// tick, without a restart.
#[tokio::test]
async fn a_brand_changed_on_one_instance_reaches_the_other() {
    let env = Env::start_with_config("maintenance_interval_secs = 1\n");
    if !(env.on_postgres() && env.on_s3()) {
        eprintln!("skipped: needs COURIER_TEST_POSTGRES_URL and COURIER_TEST_S3_ENDPOINT (see .ci/run)");
        return;
    }
    let b = env.spawn_second_instance();
    let (_, token) = env.create_portal(&[]);
    let admin = client();
    crate::harness::sign_in(&env, &admin, "amelie@firm.example", "admin").await;
    let html = admin.get(format!("{}/settings/firm", env.base())).send().await.unwrap().text().await.unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", hidden_field(&html, "csrf_token"))
        .text("firm_name", "Cabinet Lemaire")
        .text("timezone", "Europe/Brussels");
    let r = admin.post(format!("{}/settings/firm", env.base())).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let until = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let page = client().get(format!("{}/p/{token}", b.base)).send().await.unwrap().text().await.unwrap();
        if page.contains("Cabinet Lemaire") {
            break;
        }
        assert!(std::time::Instant::now() < until, "the second instance still shows the old brand: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
