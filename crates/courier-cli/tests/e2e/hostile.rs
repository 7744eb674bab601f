//! Hostile input: every bad request gets a clear error and changes nothing.

use crate::harness::{Env, bytes, client, raw_multipart, upload};

#[tokio::test]
async fn oversized_file_is_refused_with_413_and_nothing_is_stored() {
    let env = Env::start();
    let (_, token) = env.create_portal(&["--max-file-size", "64KiB"]);
    let resp = upload(env.base(), &token, &[("big.bin", &bytes(64 * 1024 + 1, 1))]).await;
    assert_eq!(resp.status(), 413);
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("64 KiB at most"), "{problem}");
    assert!(problem["request_id"].is_string());
    // Exactly at the limit is fine.
    assert_eq!(upload(env.base(), &token, &[("ok.bin", &bytes(64 * 1024, 2))]).await.status(), 201);
    // A good file followed by an oversized one in the same request: all or nothing.
    let resp = upload(env.base(), &token, &[("first.txt", b"fine"), ("second.bin", &bytes(70_000, 3))]).await;
    assert_eq!(resp.status(), 413);
    let names: Vec<_> = env.docs(None).iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["ok.bin"]);
    assert_eq!(env.blob_files().len(), 1, "a refused upload left a blob: {:?}", env.blob_files());
    assert!(env.audit_ok());
}

#[tokio::test]
async fn broken_multipart_is_refused_with_400_and_nothing_is_stored() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let url = format!("{}/p/{token}/files", env.base());
    let c = client();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "multipart/form-data; boundary=XYZ",
            b"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nno closing boundary"
                .to_vec(),
        ),
        ("multipart/form-data; boundary=XYZ", b"garbage without any boundary".to_vec()),
        ("multipart/form-data", b"--\r\n".to_vec()),
        ("application/json", b"{\"file\": \"x\"}".to_vec()),
        ("multipart/form-data; boundary=XYZ", b"--XYZ--\r\n".to_vec()),
    ];
    for (content_type, body) in cases {
        let resp = c
            .post(&url)
            .header("Content-Type", content_type)
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{content_type}");
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(problem["status"], 400);
    }
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
}

#[tokio::test]
async fn hostile_file_names_are_stored_as_safe_display_names() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let long = "n".repeat(1000) + ".pdf";
    let names: Vec<&[u8]> = vec![
        b"../../../../../../tmp/courier-escape.txt",
        b"..\\..\\..\\windows\\system32\\evil.dll",
        b"evil\x00.pdf",
        "invoice\u{202E}fdp.exe".as_bytes(),
        b"CON",
        b"aux.txt",
        b"...",
        b"..",
        long.as_bytes(),
        b"/etc/passwd",
        b"<script>alert(1)</script>.html",
    ];
    let mut accepted = 0;
    for name in &names {
        let (ct, body) = raw_multipart(&[(name, b"payload")]);
        let resp = client()
            .post(format!("{}/p/{token}/files", env.base()))
            .header("Content-Type", ct)
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        // 415: a program's or script's extension, or one that disagrees with the (text) content.
        let name_str = String::from_utf8_lossy(name);
        let dangerous = [".dll", ".exe", ".html", ".pdf"].iter().any(|e| name_str.ends_with(e));
        let expected = if dangerous { 415 } else { 201 };
        assert!(resp.status() == expected || resp.status() == 400, "{} for {name_str:?}", resp.status());
        accepted += usize::from(resp.status() == 201);
    }
    // CR/LF inside the part header breaks it: refused as malformed, or read as a safe name.
    let status = upload(env.base(), &token, &[("a\r\nb.txt", b"x")]).await.status();
    assert!(status == 201 || status == 400, "{status}");

    let docs = env.docs(Some(&portal));
    assert!(accepted >= 5 && docs.len() >= accepted, "{accepted} accepted, {docs:?}");
    for d in &docs {
        let n = d["name"].as_str().unwrap();
        assert!(!n.is_empty() && n.len() <= 200, "{n}");
        assert!(!n.contains(['/', '\\', '\0', '\r', '\n', '\u{202E}']), "{n:?}");
        assert!(!n.starts_with('.'), "{n:?}");
        assert!(!["CON", "aux.txt"].contains(&n), "{n:?}");
    }
    assert!(!std::path::Path::new("/tmp/courier-escape.txt").exists());
    // Blobs are named by random ids only.
    for p in env.blob_files() {
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.len() == 36 && name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'), "{p:?}");
    }
}

#[tokio::test]
async fn no_plaintext_byte_reaches_the_disk() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let marker = b"MARKER-7f3a9c-PRIVILEGED";
    let mut doc = b"\x89PNG\r\n\x1a\n".to_vec();
    while doc.len() < 300_000 {
        doc.extend_from_slice(marker);
        doc.extend_from_slice(&bytes(997, doc.len() as u64));
    }
    for i in 0..3 {
        assert_eq!(upload(env.base(), &token, &[(&format!("brief-{i}.png"), &doc)]).await.status(), 201);
    }
    let id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    assert!(env.cli(&["doc", "get", &id, "--output", env.dir.path().join("out.txt").to_str().unwrap()], None).0);
    let mut hits = Vec::new();
    for (path, data) in env.all_files() {
        if data.windows(marker.len()).any(|w| w == marker) {
            hits.push(path);
        }
    }
    assert!(hits.is_empty(), "plaintext found in {hits:?}");
    assert!(env.blob_files().len() == 3);
}

#[tokio::test]
async fn too_many_files_and_empty_uploads_are_refused() {
    let env = Env::start_with_config("max_files_per_upload = 2\n");
    let (_, token) = env.create_portal(&[]);
    let resp = upload(env.base(), &token, &[("a", b"1"), ("b", b"2"), ("c", b"3")]).await;
    assert_eq!(resp.status(), 413);
    let (ct, body) = raw_multipart(&[]);
    let resp = client()
        .post(format!("{}/p/{token}/files", env.base()))
        .header("Content-Type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty());
}

#[tokio::test]
async fn client_links_are_rate_limited_per_address() {
    let env = Env::start_with_config("rate_limit_per_minute = 5\n");
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses
            .push(client().get(format!("{}/p/{}", env.base(), "B".repeat(43))).send().await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(statuses[0], 404);
    // Health checks are not rate limited.
    assert_eq!(client().get(format!("{}/healthz", env.base())).send().await.unwrap().text().await.unwrap(), "ok");
}

#[tokio::test]
async fn security_headers_and_refusal_to_serve_plain_http_publicly() {
    let env = Env::start();
    let resp = client().get(format!("{}/login", env.base())).send().await.unwrap();
    let h = resp.headers();
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert!(!h["content-security-policy"].to_str().unwrap().contains("unsafe-inline"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(h.contains_key("x-request-id"));

    let (ok, _, err) = env.cli(&["serve", "--bind", "0.0.0.0:0"], None);
    assert!(!ok && err.contains("trusted_proxy"), "{err}");
}

#[tokio::test]
async fn logs_never_carry_tokens_passcodes_or_file_names() {
    let env = Env::offline("");
    let log_path = env.dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut server = env
        .command()
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let base = loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.strip_prefix("Courier is listening on ") {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let p = env.cli_json(
        &["portal", "create", "--label", "Quiet", "--passcode-stdin", "--json"],
        Some("marigold-passcode-42\n"),
    );
    let token = p["token"].as_str().unwrap();
    let c = client();
    c.post(format!("{base}/p/{token}/unlock")).form(&[("passcode", "marigold-passcode-42")]).send().await.unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"CONTENT-MARKER-1234".to_vec()).file_name("FILENAME-MARKER.txt"),
    );
    assert_eq!(c.post(format!("{base}/p/{token}/files")).multipart(form).send().await.unwrap().status(), 201);
    c.get(format!("{base}/p/{}", "Z".repeat(43))).send().await.unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("/p/{token}/files"), "route templates are logged: {log}");
    for secret in [token, "marigold-passcode-42", "FILENAME-MARKER", "CONTENT-MARKER", &"Z".repeat(43)] {
        assert!(!log.contains(secret), "{secret} appears in the log");
    }
}
