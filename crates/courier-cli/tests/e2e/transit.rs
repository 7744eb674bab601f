//! The transit loop through the real binary: portal, client upload, retrieval, shredding.

use std::time::Duration;

use crate::harness::{Env, bytes, client, sha256_hex, sign_in, upload};

#[tokio::test]
async fn whole_loop_round_trips_bytes_and_shreds() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&["--matter", "2026-0042", "--expires-in", "7d"]);
    let small = b"Dear counsel, please find the signed engagement letter attached.\n".to_vec();
    let large = bytes(3 * 65_536 + 123, 7);

    let resp = upload(env.base(), &token, &[("letter.txt", &small), ("scan.bin", &large)]).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let receipt: serde_json::Value = resp.json().await.unwrap();
    let files = receipt["receipt"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["sha256"], sha256_hex(&small));
    assert_eq!(files[1]["sha256"], sha256_hex(&large));
    assert_eq!(files[1]["size"], large.len());

    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 2);
    for (data, name) in [(&small, "letter.txt"), (&large, "scan.bin")] {
        let doc = docs.iter().find(|d| d["name"] == name).expect("listed");
        assert_eq!(doc["portal_id"], portal.as_str());
        assert_eq!(doc["sha256"], sha256_hex(data));
        // Scanned for type and personal data (malware scanning is off: no clamd here).
        assert_eq!(doc["scan"]["status"], "clean", "{doc}");
        assert_eq!(doc["scan"]["checks"]["malware"], "off");
        let out = env.dir.path().join(format!("out-{name}"));
        let (ok, _, err) =
            env.cli(&["doc", "get", doc["id"].as_str().unwrap(), "--output", out.to_str().unwrap()], None);
        assert!(ok, "{err}");
        assert_eq!(&std::fs::read(&out).unwrap(), data, "doc get returned other bytes");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }

    let letter = docs.iter().find(|d| d["name"] == "letter.txt").unwrap()["id"].as_str().unwrap().to_owned();
    assert!(env.cli(&["doc", "delete", &letter], None).0);
    assert_eq!(env.docs(Some(&portal)).len(), 1);
    let all = env.cli_json(&["doc", "list", "--include-deleted", "--json"], None);
    let shredded = all.as_array().unwrap().iter().find(|d| d["id"] == letter.as_str()).expect("still listed");
    assert!(shredded["deleted_at"].is_string());
    let gone = env.dir.path().join("shredded.txt");
    let (ok, _, err) = env.cli(&["doc", "get", &letter, "--output", gone.to_str().unwrap()], None);
    assert!(!ok && err.contains("not found") && err.contains(&letter), "the error names the document: {err}");

    let portal_json = env.cli_json(&["portal", "show", &portal, "--json"], None);
    assert_eq!(portal_json["document_count"], 1);
    assert_eq!(portal_json["status"], "active");
    assert_eq!(portal_json["matter"], "2026-0042");

    let actions: Vec<String> = env.audit_events().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    for expected in ["portal.create", "document.upload", "document.download", "document.delete"] {
        assert!(actions.iter().any(|a| a == expected), "no {expected} in {actions:?}");
    }
    assert!(env.audit_events().iter().all(|e| e["actor"] != "" && e["hash"].as_str().unwrap().len() == 64));
    assert!(env.audit_ok());
}

#[tokio::test]
async fn html_upload_without_javascript_gets_a_receipt_page() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let page = client().get(format!("{}/p/{token}", env.base())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Smith v. Jones — intake") && html.contains("enctype=\"multipart/form-data\""));
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"abc".to_vec()).file_name("a.txt"));
    let resp = client().post(format!("{}/p/{token}/files", env.base())).multipart(form).send().await.unwrap();
    assert_eq!(resp.status(), 201);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&sha256_hex(b"abc")) && html.contains("Receipt"));
}

#[tokio::test]
async fn unknown_disabled_expired_deleted_and_malformed_links_look_identical() {
    let env = Env::start_with_config("maintenance_interval_secs = 1\n");
    let (disabled, disabled_token) = env.create_portal(&[]);
    assert!(env.cli(&["portal", "disable", &disabled, "--json"], None).0);
    let (_, expired_token) = env.create_portal(&["--expires-in", "1s"]);
    let (deleted, deleted_token) = env.create_portal(&[]);
    assert!(env.cli(&["portal", "delete", &deleted], None).0);
    let (renewed, old_token) = env.create_portal(&[]);
    assert!(env.cli_json(&["portal", "new-link", &renewed, "--json"], None)["token"].is_string());
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let unknown = "A".repeat(43);
    let tokens = [
        unknown.as_str(),
        &disabled_token,
        &expired_token,
        &deleted_token,
        &old_token,
        "short",
        "%2e%2e%2f",
        &"x".repeat(500),
    ];
    for accept in ["text/html", "application/json"] {
        let mut answers = Vec::new();
        for t in tokens {
            let get = client().get(format!("{}/p/{t}", env.base())).header("Accept", accept).send().await.unwrap();
            answers.push((get.status(), get.text().await.unwrap()));
            let post = client()
                .post(format!("{}/p/{t}/files", env.base()))
                .header("Accept", accept)
                .multipart(
                    reqwest::multipart::Form::new()
                        .part("file", reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x")),
                )
                .send()
                .await
                .unwrap();
            answers.push((post.status(), post.text().await.unwrap()));
        }
        assert!(answers.iter().all(|a| a.0 == 404), "{answers:?}");
        assert!(answers.windows(2).all(|w| w[0].1 == w[1].1), "bodies differ for {accept}");
    }
    assert!(env.docs(None).is_empty());
    // Re-enabling brings the link back; the expiry was written to the audit trail.
    assert!(env.cli(&["portal", "enable", &disabled], None).0);
    assert_eq!(client().get(format!("{}/p/{disabled_token}", env.base())).send().await.unwrap().status(), 200);
    assert!(env.audit_events().iter().any(|e| e["action"] == "portal.expire"));
    assert!(env.audit_ok());
}

#[tokio::test]
async fn passcode_protected_portal_requires_the_passcode() {
    let env = Env::start();
    let p = env.cli_json(
        &["portal", "create", "--label", "Estate papers", "--passcode-stdin", "--json"],
        Some("lantern-orchid-7\n"),
    );
    let token = p["token"].as_str().unwrap();
    let c = client();
    let page = c.get(format!("{}/p/{token}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("passcode") && !page.contains("multipart/form-data"));
    let form = || {
        reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(b"secret".to_vec()).file_name("a.txt"))
    };
    let blocked = c.post(format!("{}/p/{token}/files", env.base())).multipart(form()).send().await.unwrap();
    assert_eq!(blocked.status(), 401);
    let wrong = c
        .post(format!("{}/p/{token}/unlock", env.base()))
        .form(&[("passcode", "lantern-orchid-8")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(c.post(format!("{}/p/{token}/files", env.base())).multipart(form()).send().await.unwrap().status() == 401);
    assert!(env.docs(None).is_empty());

    let right = c
        .post(format!("{}/p/{token}/unlock", env.base()))
        .form(&[("passcode", "lantern-orchid-7")])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains(&format!("Path=/p/{token}"))
    );
    let ok = c.post(format!("{}/p/{token}/files", env.base())).multipart(form()).send().await.unwrap();
    assert_eq!(ok.status(), 201);
    assert_eq!(env.docs(None).len(), 1);
    // The unlock cookie is bound to its portal: another portal's link is still locked.
    let other = env
        .cli_json(&["portal", "create", "--label", "Other", "--passcode-stdin", "--json"], Some("lantern-orchid-7\n"));
    let other_token = other["token"].as_str().unwrap();
    let forged = client()
        .post(format!("{}/p/{other_token}/files", env.base()))
        .header("Cookie", cookie.split(';').next().unwrap())
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert!(env.audit_events().iter().any(|e| e["action"] == "portal.passcode_failed"));
    assert!(!env.audit_events().iter().any(|e| e.to_string().contains("lantern")));
}

#[tokio::test]
async fn cli_contract_shapes() {
    let env = Env::offline("");
    let user = env.cli_json(
        &["user", "create", "--email", "Ada@Firm.Example", "--role", "attorney", "--password-stdin", "--json"],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(user["email"], "ada@firm.example");
    assert!(user["id"].is_string() && user["totp_secret"].as_str().unwrap().len() >= 26);
    assert!(user["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let (ok, _, err) = env.cli(
        &["user", "create", "--email", "ada@firm.example", "--role", "attorney", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = env.cli(
        &["user", "create", "--email", "bob@firm.example", "--role", "attorney", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("12"), "{err}");

    let p = env.cli_json(
        &[
            "portal",
            "create",
            "--label",
            "L",
            "--expires-at",
            "2099-01-01T00:00:00Z",
            "--max-file-size",
            "100MiB",
            "--json",
        ],
        None,
    );
    assert_eq!(p["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(p["token"].as_str().unwrap().len(), 43);
    assert!(p["url"].as_str().unwrap().ends_with(&format!("/p/{}", p["token"].as_str().unwrap())));
    let listed = env.cli_json(&["portal", "list", "--json"], None);
    assert_eq!(listed[0]["max_file_size"], 100 * 1024 * 1024);
    assert!(listed.to_string().find(p["token"].as_str().unwrap()).is_none(), "token printed after creation");
    for bad in [
        &["--expires-in", "7y"][..],
        &["--expires-at", "yesterday"],
        &["--max-file-size", "lots"],
        &["--expires-at", "2001-01-01T00:00:00Z"],
    ] {
        let mut args = vec!["portal", "create", "--label", "L", "--json"];
        args.extend_from_slice(bad);
        assert!(!env.cli(&args, None).0, "{bad:?} accepted");
    }
    assert_eq!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().len(), 1);
    assert!(!env.cli(&["portal", "show", "00000000-0000-4000-8000-000000000000"], None).0);
    let actors: Vec<String> = env.audit_events().iter().map(|e| e["actor"].as_str().unwrap().to_owned()).collect();
    assert!(actors.iter().all(|a| a.starts_with("cli:")), "{actors:?}");
}

/// A lawyer on a slow line downloads from S3 for longer than one S3 request may take and its
/// retries (`s3_timeout_secs = 1`: a second a request, retried for six from the first try).
/// The download is read in as many requests as it needs: every byte arrives, and nothing is
/// recorded as corrupt. (One `GET` held open for the whole download failed part-way, and was
/// audited as a corrupt document.)
#[tokio::test]
async fn a_slow_download_from_s3_outlasts_the_timeout_of_its_requests() {
    let env = Env::start_with_config("s3_timeout_secs = 1\n");
    if !env.on_s3() {
        eprintln!("skipped: needs COURIER_TEST_S3_ENDPOINT (see .ci/run)");
        return;
    }
    let (_, token) = env.create_portal(&[]);
    let data = bytes(40 << 20, 3);
    assert_eq!(upload(env.base(), &token, &[("bundle.bin", &data)]).await.status(), 201);
    let id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    let staff = client();
    sign_in(&env, &staff, "slow@firm.example", "attorney").await;
    let mut r = staff.get(format!("{}/documents/{id}/download", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // 2 MiB a second: twenty seconds for the whole. The server reads S3 at that pace too once
    // the socket buffers between (about 10 MiB on loopback) are full: well past six seconds.
    let (start, mut got) = (std::time::Instant::now(), Vec::new());
    while let Some(chunk) = r.chunk().await.expect("the download was cut short") {
        got.extend_from_slice(&chunk);
        let due = Duration::from_secs_f64(got.len() as f64 / (2 << 20) as f64);
        tokio::time::sleep(due.saturating_sub(start.elapsed())).await;
    }
    assert!(start.elapsed() > Duration::from_secs(19), "the client read too fast to test anything");
    assert_eq!(got.len(), data.len());
    assert!(got == data, "other bytes came back");
    assert!(!env.audit_events().iter().any(|e| e["action"] == "document.corrupt"), "a slow client raised an alarm");
}

/// A store that cuts every response short (a failing proxy, a broken link) is retried by
/// `object_store`, and then the download fails: going on after each cut would have dragged a
/// download on for hours, a few KiB at a time. The blob is fine, so nothing is recorded as a
/// corrupt document. (Two worker threads: the proxy runs on one while the test waits, blocking,
/// for the server to start.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_cuts_every_response_short_fails_the_download_in_bounded_time() {
    let Some(Behind { env, url, staff, .. }) =
        behind_proxy(|upstream| cutting_proxy(upstream, 16 * 1024), &bytes(4 << 20, 5)).await
    else {
        eprintln!("skipped: needs COURIER_TEST_S3_ENDPOINT (see .ci/run)");
        return;
    };
    let r = tokio::time::timeout(Duration::from_secs(120), staff.get(url).send())
        .await
        .expect("the download neither finished nor failed")
        .unwrap();
    assert_eq!(r.status(), 500, "a download from a store that cuts every response");
    assert!(!env.audit_events().iter().any(|e| e["action"] == "document.corrupt"), "an outage taken for corruption");
}

/// A server on S3 whose every request to the store goes through a proxy, with one document
/// uploaded through it and a lawyer signed in.
struct Behind {
    env: Env,
    id: String,
    /// The document's download.
    url: String,
    staff: reqwest::Client,
}

/// [`Behind`], with the proxy `start` makes for the store's address (`host:port`), and `data`
/// as its document; `None` when no S3 store is configured for the tests.
async fn behind_proxy<F, P>(start: F, data: &[u8]) -> Option<Behind>
where
    F: FnOnce(String) -> P,
    P: std::future::Future<Output = std::net::SocketAddr>,
{
    let mut env = Env::offline("");
    let s3 = env.s3.as_mut()?;
    let upstream = s3.endpoint.clone().unwrap().trim_start_matches("http://").to_owned();
    s3.endpoint = Some(format!("http://{}", start(upstream).await));
    env.server = Some(env.spawn_server());
    let (_, token) = env.create_portal(&[]);
    assert_eq!(upload(env.base(), &token, &[("exhibit.bin", data)]).await.status(), 201);
    let id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    let staff = client();
    sign_in(&env, &staff, "lawyer@firm.example", "attorney").await;
    let url = format!("{}/documents/{id}/download", env.base());
    Some(Behind { env, id, url, staff })
}

/// A TCP proxy to `upstream` that passes requests whole and closes each connection once it
/// has sent `budget` bytes back: every larger response is cut short.
async fn cutting_proxy(upstream: String, budget: u64) -> std::net::SocketAddr {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                let ((mut from_client, mut to_client), (from_server, mut to_server)) =
                    (client.into_split(), server.into_split());
                let mut from_server = from_server.take(budget);
                tokio::select! {
                    _ = tokio::io::copy(&mut from_client, &mut to_server) => {}
                    _ = tokio::io::copy(&mut from_server, &mut to_client) => {}
                }
            });
        }
    });
    addr
}

/// A store (or a proxy before it) that answers a `GET` with a response that is whole by its own
/// measure but shorter than the object: its `Content-Length` says half and half comes. Courier
/// takes an object's size from a `HEAD` and compares every response with it, so the download and
/// `doc get` fail with nothing written and nothing recorded as corrupt. (Taking the response's
/// own length for the blob's end made a healthy blob fail authentication and be audited as a
/// corrupt document.) Once the store answers in full again, the same document comes back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_responses_say_a_shorter_length_is_not_taken_for_a_corrupt_blob() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let shorten = Arc::new(AtomicBool::new(false));
    let data = bytes(3 << 20, 6);
    let Some(Behind { env, id, url, staff }) =
        behind_proxy(|upstream| shortening_proxy(upstream, Arc::clone(&shorten)), &data).await
    else {
        eprintln!("skipped: needs COURIER_TEST_S3_ENDPOINT (see .ci/run)");
        return;
    };
    let out = env.dir.path().join("exhibit.bin");

    shorten.store(true, Ordering::SeqCst);
    let r = tokio::time::timeout(Duration::from_secs(60), staff.get(&url).send()).await.unwrap().unwrap();
    assert_eq!(r.status(), 500, "a download from a store whose responses are short");
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None);
    assert!(!ok, "doc get succeeded on short responses");
    assert!(err.contains("changed while it was read"), "{err}");
    assert!(!out.exists(), "partial plaintext left behind");
    assert!(
        !env.audit_events().iter().any(|e| e["action"] == "document.corrupt"),
        "a short response taken for corruption"
    );

    shorten.store(false, Ordering::SeqCst);
    let whole = async { staff.get(&url).send().await?.error_for_status()?.bytes().await };
    let got = tokio::time::timeout(Duration::from_secs(60), whole).await.expect("the download hung").unwrap();
    assert!(got == data, "other bytes came back");
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(std::fs::read(&out).unwrap() == data, "doc get wrote other bytes");
}

/// A proxy to `upstream` that, while `shorten` is set, answers each `GET` of 64 KiB or more
/// with half of it, under a `Content-Length` that says half. Every request gets a connection of
/// its own (`Connection: close` is added), so each connection carries one response head.
async fn shortening_proxy(
    upstream: String,
    shorten: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, shorten) = (upstream.clone(), std::sync::Arc::clone(&shorten));
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                let ((mut from_client, mut to_client), (mut from_server, mut to_server)) =
                    (client.into_split(), server.into_split());
                let Some((request, rest)) = http_head(&mut from_client).await else { return };
                let first_line = request.windows(2).position(|w| w == b"\r\n").unwrap() + 2;
                let is_get = request.starts_with(b"GET ");
                let sent = async {
                    to_server.write_all(&request[..first_line]).await?;
                    to_server.write_all(b"Connection: close\r\n").await?;
                    to_server.write_all(&request[first_line..]).await?;
                    to_server.write_all(&rest).await
                };
                if sent.await.is_err() {
                    return;
                }
                // A request's body (an upload's part) goes on by itself.
                tokio::spawn(async move { tokio::io::copy(&mut from_client, &mut to_server).await });
                let Some((response, rest)) = http_head(&mut from_server).await else { return };
                let head = String::from_utf8_lossy(&response).into_owned();
                let length = head.lines().find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<u64>().ok())?
                });
                let short = match length {
                    Some(n)
                        if is_get
                            && n >= 64 * 1024
                            && head.starts_with("HTTP/1.1 200")
                            && shorten.load(std::sync::atomic::Ordering::SeqCst) =>
                    {
                        Some(n / 2)
                    }
                    _ => None,
                };
                let Some(short) = short else {
                    if to_client.write_all(&response).await.is_ok() && to_client.write_all(&rest).await.is_ok() {
                        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    }
                    return;
                };
                let head: String = head
                    .split_inclusive("\r\n")
                    .map(|l| match l.split_once(':') {
                        Some((name, _)) if name.eq_ignore_ascii_case("content-length") => {
                            format!("{name}: {short}\r\n")
                        }
                        _ => l.to_owned(),
                    })
                    .collect();
                let mut body = std::io::Cursor::new(rest).chain(from_server).take(short);
                if to_client.write_all(head.as_bytes()).await.is_ok() {
                    let _ = tokio::io::copy(&mut body, &mut to_client).await;
                }
            });
        }
    });
    addr
}

/// An HTTP message's head (through the blank line) and what was read past it; `None` if the
/// stream ends first or the head is over 64 KiB.
async fn http_head<R: tokio::io::AsyncRead + Unpin>(from: &mut R) -> Option<(Vec<u8>, Vec<u8>)> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((buf, rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        match from.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

#[tokio::test]
async fn a_corrupted_blob_is_never_served_and_is_audited() {
    let env = Env::start();
    if env.skip_on_s3("flips a byte in a local blob file") {
        return;
    }
    let (_, token) = env.create_portal(&[]);
    let data = bytes(200_000, 9);
    assert_eq!(upload(env.base(), &token, &[("exhibit.bin", &data)]).await.status(), 201);
    let id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    let blob = env.blob_files().pop().unwrap();
    let mut raw = std::fs::read(&blob).unwrap();
    raw[100_000] ^= 0x01; // inside the second segment
    std::fs::write(&blob, raw).unwrap();

    let out = env.dir.path().join("exhibit.bin");
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None);
    assert!(!ok, "a corrupted blob was decrypted");
    assert!(err.contains("decrypt"), "{err}");
    assert!(!out.exists(), "partial plaintext left behind");
    assert!(
        std::fs::read_dir(env.dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
    assert!(env.audit_events().iter().any(|e| e["action"] == "document.corrupt"));

    // Over HTTP the whole document (one batch) is authenticated before the status goes out:
    // an error, not a `200` cut short. The same for an empty document, whose `Content-Length`
    // of 0 would let a short success pass for a whole one.
    let staff = client();
    sign_in(&env, &staff, "reader@firm.example", "attorney").await;
    let r = staff.get(format!("{}/documents/{id}/download", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 500, "a damaged document was answered with {}", r.status());
    assert_eq!(upload(env.base(), &token, &[("empty.txt", b"")]).await.status(), 201);
    let empty =
        env.docs(None).into_iter().find(|d| d["name"] == "empty.txt").unwrap()["id"].as_str().unwrap().to_owned();
    let blob = env.blob_files().into_iter().find(|b| std::fs::metadata(b).unwrap().len() < 100).unwrap();
    let mut raw = std::fs::read(&blob).unwrap();
    *raw.last_mut().unwrap() ^= 0x01; // the tag of its only segment
    std::fs::write(&blob, raw).unwrap();
    let r = staff.get(format!("{}/documents/{empty}/download", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 500, "a damaged empty document was answered with {}", r.status());
}

#[tokio::test]
async fn concurrent_uploads_and_cli_actions_keep_one_valid_chain() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let uploads: Vec<_> = (0..12)
        .map(|i| {
            let (base, token) = (env.base().to_owned(), token.clone());
            tokio::spawn(async move {
                upload(&base, &token, &[(&format!("f{i}.bin"), &bytes(70_000 + i, i as u64))]).await.status()
            })
        })
        .collect();
    // The CLI appends to the same chain from other processes meanwhile.
    for i in 0..4 {
        assert!(env.cli(&["portal", "create", "--label", &format!("side {i}")], None).0);
    }
    for u in uploads {
        assert_eq!(u.await.unwrap(), 201);
    }
    assert_eq!(env.docs(Some(&portal)).len(), 12);
    let events = env.audit_events();
    assert!(events.windows(2).all(|w| w[1]["seq"].as_i64().unwrap() == w[0]["seq"].as_i64().unwrap() + 1));
    assert_eq!(events.iter().filter(|e| e["action"] == "document.upload").count(), 12);
    assert!(env.audit_ok());
    let actor = events.iter().find(|e| e["action"] == "portal.create").unwrap()["actor"].as_str().unwrap().to_owned();
    assert!(actor.starts_with("cli:") && actor != "cli:unknown", "{actor}");
}

/// Issue 14 (operator traps): `--output -` is standard output; an existing file is kept unless
/// `--force`, and the refusal comes before the document is opened (no download is audited).
#[tokio::test]
async fn doc_get_writes_to_stdout_and_never_overwrites_without_force() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let data = bytes(70_000, 9);
    assert_eq!(upload(env.base(), &token, &[("exhibit.bin", &data)]).await.status(), 201);
    let id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    let out = env.command().args(["doc", "get", &id, "--output", "-"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, data, "the plaintext on standard output");
    assert!(!env.dir.path().join("-").exists(), "no file named '-'");

    let existing = env.dir.path().join("notes.bin");
    std::fs::write(&existing, b"the lawyer's own notes").unwrap();
    let downloads = |env: &Env| env.audit_events().iter().filter(|e| e["action"] == "document.download").count();
    let before = downloads(&env);
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", existing.to_str().unwrap()], None);
    assert!(!ok && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&existing).unwrap(), b"the lawyer's own notes");
    assert_eq!(downloads(&env), before, "a refused doc get audited a download");
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", "/dev/null", "--force"], None);
    assert!(!ok && err.contains("not a regular file"), "{err}");
    assert!(env.cli(&["doc", "get", &id, "--output", existing.to_str().unwrap(), "--force"], None).0);
    assert_eq!(std::fs::read(&existing).unwrap(), data);
}
