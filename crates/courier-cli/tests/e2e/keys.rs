//! Master key rotation through the real binary, with a server running throughout.

use crate::harness::{Env, PASSWORD, bytes, client, sign_in_at, upload};

#[tokio::test]
async fn rotate_rewrap_and_retire_while_the_server_runs() {
    let env = Env::start();
    let keys = env.data_dir().join("keys");
    let (_, token) = env.create_portal(&[]);
    let a = bytes(150_000, 1);
    assert_eq!(upload(env.base(), &token, &[("a.bin", &a)]).await.status(), 201);
    let user = env.create_user("ada@firm.example", "attorney");
    let v1 = std::fs::read(keys.join("master.key")).unwrap();

    let rotated = env.cli_json(&["key", "rotate", "--json"], None);
    assert_eq!(rotated["version"], 2);
    assert_eq!((rotated["documents_rewrapped"].as_u64(), rotated["secrets_rewrapped"].as_u64()), (Some(1), Some(1)));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(keys.join("master.key.v2")).unwrap().permissions().mode() & 0o777, 0o600);

    // The running server has not loaded version 2 yet: what it wraps now is under version 1.
    let b = bytes(70_000, 2);
    assert_eq!(upload(env.base(), &token, &[("b.bin", &b)]).await.status(), 201);
    let status = env.cli_json(&["key", "status", "--json"], None);
    assert_eq!(status["current_version"], 2);
    assert_eq!((status["versions"]["1"].as_u64(), status["versions"]["2"].as_u64()), (Some(1), Some(2)), "{status}");

    let (ok, _, err) = env.cli(&["key", "retire", "--version", "2"], None);
    assert!(!ok && err.contains("current"), "{err}");
    let (ok, _, err) = env.cli(&["key", "retire", "--version", "1"], None);
    assert!(!ok && err.contains("still use version 1"), "{err}");
    let rewrapped = env.cli_json(&["key", "rewrap", "--json"], None);
    assert_eq!(
        (rewrapped["documents_rewrapped"].as_u64(), rewrapped["secrets_rewrapped"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(env.cli(&["key", "retire", "--version", "1"], None).0);
    assert!(!keys.join("master.key").exists(), "version 1 was not erased");

    // The server still holds only version 1 in memory; meeting version 2 it reloads by itself.
    let c = client();
    let r = sign_in_at(&c, env.base(), env.base(), "ada@firm.example", PASSWORD, user["totp_secret"].as_str().unwrap())
        .await;
    assert_eq!(r.status(), 303, "sign-in after rotation failed");
    for (name, data) in [("a.bin", &a), ("b.bin", &b)] {
        let id = env.docs(None).iter().find(|d| d["name"] == name).unwrap()["id"].as_str().unwrap().to_owned();
        let got = c.get(format!("{}/documents/{id}/download", env.base())).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(got.as_ref(), data.as_slice(), "{name} after rotation");
        let out = env.dir.path().join(name);
        assert!(env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None).0);
        assert_eq!(&std::fs::read(&out).unwrap(), data);
    }
    // New uploads are under version 2 now, and no command re-creates version 1.
    assert_eq!(upload(env.base(), &token, &[("c.bin", b"after")]).await.status(), 201);
    let status = env.cli_json(&["key", "status", "--json"], None);
    assert_eq!(status["versions"].as_object().unwrap().len(), 1, "{status}");
    assert_eq!(status["versions"]["2"], 4);
    assert!(!keys.join("master.key").exists());
    for (path, data) in env.all_files() {
        assert!(!data.windows(v1.len()).any(|w| w == v1.as_slice()), "retired key bytes remain in {path:?}");
    }
    let actions: Vec<String> = env.audit_events().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    for a in ["key.rotate", "key.rewrap", "key.retire"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing");
    }
    assert!(env.audit_ok());
}

/// Issue 14 (operator traps): a missing key file next to data that needs it stops the CLI and
/// the server, naming the file; no new key is made over the data, which it could never open.
#[tokio::test]
async fn a_missing_key_file_next_to_existing_data_is_refused_not_replaced() {
    let mut env = Env::start();
    let keys = env.data_dir().join("keys");
    let (_, token) = env.create_portal(&[]);
    assert_eq!(upload(env.base(), &token, &[("a.bin", &bytes(10_000, 2))]).await.status(), 201);
    env.kill_server();
    let master = keys.join("master.key");
    let saved = std::fs::read(&master).unwrap();
    std::fs::remove_file(&master).unwrap();
    let (ok, _, err) = env.cli(&["doc", "list", "--json"], None);
    assert!(!ok, "the CLI ran without the master key");
    assert!(err.contains("master.key") && err.contains("missing"), "{err}");
    assert!(!master.exists(), "a new master key was made over existing data");
    let serve = env.command().args(["serve", "--bind", "127.0.0.1:0"]).output().unwrap();
    assert!(!serve.status.success());
    assert!(String::from_utf8_lossy(&serve.stderr).contains("master.key"));
    assert!(!master.exists());

    // The audit signing key likewise.
    std::fs::write(&master, &saved).unwrap();
    let audit = keys.join("audit.key");
    let audit_saved = std::fs::read(&audit).unwrap();
    std::fs::remove_file(&audit).unwrap();
    let (ok, _, err) = env.cli(&["doc", "list", "--json"], None);
    assert!(!ok && err.contains("audit.key"), "{err}");
    assert!(!audit.exists());
    std::fs::write(&audit, &audit_saved).unwrap();
    assert_eq!(env.cli_json(&["doc", "list", "--json"], None).as_array().unwrap().len(), 1);
    assert!(env.audit_ok());
}

/// A link built on the default public URL (`http://<bind>`) works only on this machine: the
/// CLI says so on standard error, and says nothing when `public_url` is set.
#[test]
fn a_link_on_the_default_public_url_comes_with_a_warning() {
    let env = Env::start();
    let (ok, out, err) = env.cli(&["portal", "create", "--label", "Configured", "--json"], None);
    assert!(ok && out.contains(env.base()), "{out}");
    assert!(!err.contains("public_url"), "no warning when public_url is set: {err}");

    let out = env
        .command()
        .env_remove("COURIER_PUBLIC_URL")
        .args(["portal", "create", "--label", "Default", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let link: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout, untouched");
    assert!(link["url"].as_str().unwrap().starts_with("http://127.0.0.1:8080/p/"), "{link}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: public_url is not set"), "{err}");
}

/// A mistyped --data-dir makes a new installation (DESIGN.md lets any command start one), but
/// never silently: the CLI says where. `courier init` makes one on purpose, and is idempotent.
#[test]
fn a_new_installation_made_by_a_typo_is_announced() {
    let env = Env::offline("");
    if env.on_postgres() {
        // One database for every data directory: a typo finds its audit trail without the
        // keys and is refused (`a_missing_key_file_next_to_existing_data_is_refused_not_replaced`).
        return;
    }
    let typo = env.data_dir().with_file_name("courier-dta");
    let out = env.command().arg("--data-dir").arg(&typo).args(["portal", "list", "--json"]).output().unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did not exist") && err.contains("courier-dta"), "{err}");
    let again = env.command().arg("--data-dir").arg(&typo).args(["portal", "list", "--json"]).output().unwrap();
    assert!(!String::from_utf8_lossy(&again.stderr).contains("did not exist"), "only the first time");

    let fresh = env.data_dir().with_file_name("courier-init");
    let made = env.command().arg("--data-dir").arg(&fresh).args(["init", "--json"]).output().unwrap();
    let made: serde_json::Value = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(made["created"], true);
    assert!(fresh.join("keys").join("master.key").exists() && fresh.join("keys").join("audit.key").exists());
    let twice = env.command().arg("--data-dir").arg(&fresh).args(["init", "--json"]).output().unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&twice.stdout).unwrap()["created"], false);
}
