//! Resumable uploads (tus 1.0.0) through the real server: creation, offsets, a cut and a
//! resume across a server restart, checksums, termination, expiry, limits, refusals at the
//! end, the uniform 404, and no plaintext on disk while an upload is partial.

use base64::Engine;
use reqwest::{Method, StatusCode};

use crate::harness::{Env, client, free_port, sha256_hex, upload};

const TUS: (&str, &str) = ("Tus-Resumable", "1.0.0");

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A text file with a marker that must never be found on disk in the clear.
fn document(len: usize) -> Vec<u8> {
    let line = b"PLAINTEXT-MARKER-7f3a9c confidential settlement draft line\n";
    line.iter().copied().cycle().take(len).collect()
}

async fn create(base: &str, token: &str, length: usize, name: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/p/{token}/tus/"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", length.to_string())
        .header("Upload-Metadata", format!("filename {},filetype {}", b64(name.as_bytes()), b64(b"text/plain")))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn created(base: &str, token: &str, data: &[u8], name: &str) -> String {
    let r = create(base, token, data.len(), name).await;
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    assert_eq!(r.headers()["tus-resumable"], "1.0.0");
    assert!(r.headers().contains_key("upload-expires"));
    r.headers()["location"].to_str().unwrap().to_owned()
}

pub(crate) async fn patch(
    base: &str,
    location: &str,
    offset: usize,
    body: Vec<u8>,
    checksum: Option<&[u8]>,
) -> reqwest::Response {
    let mut req = client()
        .patch(format!("{base}{location}"))
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", offset.to_string());
    if let Some(data) = checksum {
        req = req.header("Upload-Checksum", format!("sha256 {}", b64(&courier_crypto::sha256(data))));
    }
    req.body(body).send().await.unwrap()
}

/// The receipt request the page makes once every byte is in.
async fn receipt(base: &str, location: &str) -> reqwest::Response {
    client()
        .get(format!("{base}{location}"))
        .header(TUS.0, TUS.1)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
}

async fn offset(base: &str, location: &str) -> (StatusCode, Option<u64>) {
    let r = client().head(format!("{base}{location}")).header(TUS.0, TUS.1).send().await.unwrap();
    let offset = r.headers().get("upload-offset").map(|v| v.to_str().unwrap().parse().unwrap());
    (r.status(), offset)
}

/// A document's plaintext, through `courier doc get` (into a file outside the data
/// directory, removed again).
fn plaintext(env: &Env, doc: &str) -> Vec<u8> {
    let out = env.data_dir().parent().unwrap().join(format!("{doc}.out"));
    let (ok, _, err) = env.cli(&["doc", "get", doc, "--output", out.to_str().unwrap()], None);
    assert!(ok, "the document's blob is whole: {err}");
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(&out).unwrap();
    bytes
}

fn no_marker_on_disk(env: &Env) {
    for (path, bytes) in env.all_files() {
        assert!(
            !bytes.windows(24).any(|w| w == b"PLAINTEXT-MARKER-7f3a9c "),
            "{} holds the partial upload in the clear",
            path.display()
        );
    }
}

#[tokio::test]
async fn an_upload_cut_and_resumed_across_a_restart_becomes_one_checked_document() {
    let mut env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let data = document(300_000 + 12_345);

    let r = client().request(Method::OPTIONS, format!("{}/p/{token}/tus/", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["tus-version"], "1.0.0");
    for ext in ["creation", "termination", "checksum", "expiration"] {
        assert!(r.headers()["tus-extension"].to_str().unwrap().contains(ext), "{ext}");
    }
    assert_eq!(r.headers()["tus-checksum-algorithm"], "sha256");

    let location = created(env.base(), &token, &data, "Relevé bancaire.txt").await;
    assert!(location.starts_with(&format!("/p/{token}/tus/")), "{location}");
    assert_eq!(offset(env.base(), &location).await, (StatusCode::OK, Some(0)));

    // A first part that ends inside a segment.
    let r = patch(env.base(), &location, 0, data[..100_000].to_vec(), Some(&data[..100_000])).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(r.headers()["upload-offset"], "100000");
    no_marker_on_disk(&env);
    assert!(env.docs(Some(&portal)).is_empty(), "no document before the last byte");

    // The connection drops in the middle of the next part: what arrived is kept.
    let part = data[100_000..250_000].to_vec();
    let broken = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(part[..70_000].to_vec()),
        Err(std::io::Error::other("cable pulled")),
    ]);
    let cut = client()
        .patch(format!("{}{location}", env.base()))
        .header(TUS.0, TUS.1)
        .header("Content-Type", "application/offset+octet-stream")
        .header("Upload-Offset", "100000")
        .body(reqwest::Body::wrap_stream(broken))
        .send()
        .await;
    assert!(cut.is_err() || !cut.unwrap().status().is_success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // The server restarts; the upload resumes from what it says it has.
    env.restart_server();
    let (status, at) = offset(env.base(), &location).await;
    assert_eq!(status, 200);
    let at = at.unwrap() as usize;
    assert!((100_000..=170_000).contains(&at), "resumes at {at}");
    no_marker_on_disk(&env);

    // Wrong offset, wrong checksum: refused, nothing moves.
    assert_eq!(patch(env.base(), &location, at + 1, data[at + 1..].to_vec(), None).await.status(), 409);
    let r = patch(env.base(), &location, at, data[at..].to_vec(), Some(b"something else")).await;
    assert_eq!(r.status().as_u16(), 460);
    assert_eq!(offset(env.base(), &location).await.1, Some(at as u64));

    let r = patch(env.base(), &location, at, data[at..].to_vec(), Some(&data[at..])).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(r.headers()["upload-offset"], data.len().to_string().as_str());

    let r = receipt(env.base(), &location).await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    let file = &answer["receipt"]["files"][0];
    assert_eq!(file["sha256"], sha256_hex(&data));
    assert_eq!(file["size"], data.len());
    assert!(answer["receipt"]["id"].is_string() && answer["receipt"]["received_at"].is_string());

    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["name"], "Relevé bancaire.txt");
    assert_eq!(docs[0]["sha256"], sha256_hex(&data));
    assert_eq!(plaintext(&env, docs[0]["id"].as_str().unwrap()), data);
    // The partial file served and is gone; no plaintext anywhere.
    assert_eq!(std::fs::read_dir(env.data_dir().join("tus")).unwrap().count(), 0);
    no_marker_on_disk(&env);
    // A finished upload takes no more bytes.
    assert_eq!(patch(env.base(), &location, data.len(), b"x".to_vec(), None).await.status(), 409);
    assert!(env.audit_ok());
}

/// How many finished uploads were checked each way (`/metrics` on `port`).
async fn passes(port: u16, pass: &str) -> f64 {
    let text = client().get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap().text().await.unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text");
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "courier_sealed_file_passes_total" && s.labels.get("pass") == Some(pass))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum()
}

/// One PATCH that brings the whole file is checked as its bytes arrive, and its finish does not
/// read the file back; the verdicts are those a form upload of the same file gets, and a file
/// refused on the way is refused (and audited) once, at the end, as before. An upload in two
/// parts is read back after its last byte.
#[tokio::test]
async fn a_single_patch_is_checked_as_it_arrives_with_a_form_uploads_verdicts() {
    let metrics_port = free_port();
    let env = Env::start_with_config(&format!("metrics_bind = \"127.0.0.1:{metrics_port}\"\n"));
    let (portal, token) = env.create_portal(&["--dlp-action", "quarantine"]);
    let (form_portal, form_token) = env.create_portal(&["--dlp-action", "quarantine"]);
    let base = env.base();
    let card = "Card on file: 4111 1111 1111 1111".to_owned();
    let claim = courier_scan::fixtures::docx(&["Claim form".to_owned(), card]);
    let letter = [document(200_000), b"the claimant's social security number is 123-45-6789.\n".to_vec()].concat();

    for (name, data) in [("claim.docx", &claim), ("letter.txt", &letter)] {
        let location = created(base, &token, data, name).await;
        let r = patch(base, &location, 0, data.clone(), Some(data)).await;
        assert_eq!(r.status(), 204, "{name}: {:?}", r.text().await);
        assert_eq!(upload(base, &form_token, &[(name, data)]).await.status(), 201);
    }
    // A local store keeps the file as it is; S3 gets it sealed anew, not checked a second time.
    let local = !env.on_s3();
    let on = |local_figure: f64, s3_figure: f64| if local { local_figure } else { s3_figure };
    assert_eq!(passes(metrics_port, "checked_as_sealed").await, on(2.0, 0.0));
    assert_eq!(passes(metrics_port, "sealed_again").await, on(0.0, 2.0));
    assert_eq!(passes(metrics_port, "read_back").await, 0.0);
    let (by_tus, by_form) = (env.docs(Some(&portal)), env.docs(Some(&form_portal)));
    assert_eq!(by_tus.len(), 2);
    for doc in &by_tus {
        let twin = by_form.iter().find(|d| d["name"] == doc["name"]).unwrap();
        assert_eq!(doc["scan"]["status"], "quarantined", "{doc}");
        for field in ["size", "sha256", "content_type"] {
            assert_eq!(doc[field], twin[field], "{field}");
        }
        assert_eq!(doc["scan"], twin["scan"], "the same verdicts and findings");
    }

    // Refused while it streams: still 415 at the end, one event, nothing kept.
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 300_000]].concat();
    let refused_before = env.audit_events().iter().filter(|e| e["action"] == "document.refused").count();
    let location = created(base, &token, &exe, "invoice.pdf").await;
    assert_eq!(patch(base, &location, 0, exe.clone(), None).await.status(), 415);
    let refused = env.audit_events().iter().filter(|e| e["action"] == "document.refused").count();
    assert_eq!(refused, refused_before + 1);
    assert_eq!(env.docs(Some(&portal)).len(), 2);

    // In two parts: the checks of the first part cannot count; the file is read back.
    let location = created(base, &token, &letter, "second letter.txt").await;
    assert_eq!(patch(base, &location, 0, letter[..70_000].to_vec(), None).await.status(), 204);
    assert_eq!(patch(base, &location, 70_000, letter[70_000..].to_vec(), None).await.status(), 204);
    assert_eq!(passes(metrics_port, "read_back").await, on(2.0, 0.0), "the refused file and this one");
    assert_eq!(passes(metrics_port, "sealed_again").await, on(0.0, 4.0));
    assert_eq!(passes(metrics_port, "checked_as_sealed").await, on(2.0, 0.0));
    let second = env.docs(Some(&portal)).into_iter().find(|d| d["name"] == "second letter.txt").unwrap();
    assert_eq!(second["scan"], by_tus.iter().find(|d| d["name"] == "letter.txt").unwrap()["scan"]);

    // Segments sealed, then cut back by a wrong checksum: no checks while it streams again,
    // and the file is sealed anew at the end, on every store.
    let big = document(3 << 20);
    let location = created(base, &token, &big, "third letter.txt").await;
    assert_eq!(patch(base, &location, 0, big.clone(), Some(b"something else")).await.status().as_u16(), 460);
    assert_eq!(patch(base, &location, 0, big.clone(), Some(&big)).await.status(), 204);
    assert_eq!(passes(metrics_port, "sealed_again").await, on(1.0, 5.0));
    assert_eq!(passes(metrics_port, "checked_as_sealed").await, on(2.0, 0.0));
    no_marker_on_disk(&env);
    assert!(env.audit_ok());
}

#[tokio::test]
async fn limits_refusals_termination_and_expiry() {
    let env = Env::start_with_config("tus_expiry = \"2s\"\ntus_unfinished_per_link = 2\n");
    let (portal, token) = env.create_portal(&["--max-file-size", "1MiB"]);
    let base = env.base();

    // Too large for the portal, more bytes than announced, no file name, no version.
    assert_eq!(create(base, &token, 2 << 20, "big.txt").await.status(), 413);
    // An empty file, said in the page's language (the client's script shows the detail).
    let empty = client()
        .post(format!("{base}/p/{token}/tus/"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", "0")
        .header("Upload-Metadata", format!("filename {}", b64(b"vide.txt")))
        .header("Accept", "application/json")
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    let detail = empty.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("Ce fichier est vide"), "{detail}");
    let location = created(base, &token, &[0; 10], "small.txt").await;
    assert_eq!(patch(base, &location, 0, document(11), None).await.status(), 413);
    let r = client()
        .post(format!("{base}/p/{token}/tus/"))
        .header(TUS.0, TUS.1)
        .header("Upload-Length", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client().head(format!("{base}{location}")).send().await.unwrap();
    assert_eq!(r.status(), 412, "Tus-Resumable is required");
    let r = client()
        .patch(format!("{base}{location}"))
        .header(TUS.0, TUS.1)
        .header("Upload-Offset", "0")
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);

    // At most two unfinished uploads per link.
    let second = created(base, &token, &[0; 10], "two.txt").await;
    let r = create(base, &token, 10, "three.txt").await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));

    // Termination frees the place and removes what arrived.
    assert_eq!(patch(base, &second, 0, document(5), None).await.status(), 204);
    let r = client().delete(format!("{base}{second}")).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(offset(base, &second).await.0, 404);
    let fine = created(base, &token, &[0; 10], "again.txt").await;
    let r = client().delete(format!("{base}{location}")).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(r.status(), 204);

    // A file refused by content at its last byte: no document, the upload is gone.
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 200]].concat();
    let refused = created(base, &token, &exe, "invoice.pdf").await;
    let r = patch(base, &refused, 0, exe.clone(), None).await;
    assert_eq!(r.status(), 415, "{:?}", r.text().await);
    assert_eq!(offset(base, &refused).await.0, 404);
    assert!(env.docs(Some(&portal)).is_empty());

    // Unfinished uploads expire: upkeep removes them with what they received.
    assert_eq!(patch(base, &fine, 0, document(4), None).await.status(), 204);
    assert_eq!(std::fs::read_dir(env.data_dir().join("tus")).unwrap().count(), 1);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(offset(base, &fine).await.0, 404, "expired uploads are gone for the client at once");
    let report = env.cli_json(&["upkeep", "run", "--json"], None);
    assert_eq!(report["resumable_uploads_expired"], 1, "{report}");
    assert_eq!(std::fs::read_dir(env.data_dir().join("tus")).unwrap().count(), 0);
}

#[tokio::test]
async fn a_passcode_guards_every_tus_route_and_a_bad_link_gets_the_uniform_404() {
    let env = Env::start();
    let p = env
        .cli_json(&["portal", "create", "--label", "Guarded", "--passcode-stdin", "--json"], Some("horse-battery-9\n"));
    let token = p["token"].as_str().unwrap();
    let base = env.base();
    assert_eq!(create(base, token, 10, "a.txt").await.status(), 401);

    let (_, live) = env.create_portal(&[]);
    let location = created(base, &live, &[0; 10], "a.txt").await;
    let id = location.rsplit('/').next().unwrap();
    let bad = "A".repeat(43);
    let reference = client().get(format!("{base}/p/{bad}")).send().await.unwrap().text().await.unwrap();
    for (method, path) in [
        (Method::OPTIONS, format!("/p/{bad}/tus/")),
        (Method::POST, format!("/p/{bad}/tus/")),
        (Method::POST, format!("/p/{bad}/tus")),
        (Method::HEAD, format!("/p/{bad}/tus/{id}")),
        (Method::PATCH, format!("/p/{bad}/tus/{id}")),
        (Method::DELETE, format!("/p/{bad}/tus/{id}")),
        (Method::GET, format!("/p/{bad}/tus/{id}")),
    ] {
        let r = client()
            .request(method.clone(), format!("{base}{path}"))
            .header(TUS.0, TUS.1)
            .header("Upload-Length", "10")
            .header("Upload-Offset", "0")
            .header("Content-Type", "application/offset+octet-stream")
            .body(vec![0u8; 10])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{method} {path}");
        if method != Method::HEAD {
            assert_eq!(r.text().await.unwrap(), reference, "{method} {path}: not the uniform answer");
        }
    }
    // Another portal's upload is not reachable through this link.
    let (_, other) = env.create_portal(&[]);
    assert_eq!(offset(base, &format!("/p/{other}/tus/{id}")).await.0, 404);
}

/// The attack of the round-2 review: requests racing an honest client on one upload (empty
/// bodies and wrong checksums at the offset the client is writing at) must never cut or
/// overwrite what it wrote. Each attacker asks for the offset, then sends at it.
#[tokio::test]
async fn racing_requests_never_corrupt_an_upload() {
    let env = Env::start_with_config("rate_limit_per_minute = 1000000\n");
    let (portal, token) = env.create_portal(&[]);
    let base = env.base().to_owned();
    let data = document(1_280_000);
    let location = created(&base, &token, &data, "race.txt").await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut attackers: Vec<_> = (0..4)
        .map(|n| {
            let (base, location, stop) = (base.clone(), location.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let Some(at) = offset(&base, &location).await.1 else { return };
                    let junk = if n % 2 == 0 { Vec::new() } else { vec![b'!'; 70_000] };
                    let r = patch(&base, &location, at as usize, junk, Some(b"not these bytes")).await;
                    assert_ne!(r.status(), 500, "an attacker made the server fail");
                }
            })
        })
        .collect();

    // The honest client sends 20 kB parts with their checksums, resuming where the server is.
    let mut at = 0;
    let mut tries = 0;
    while at < data.len() {
        tries += 1;
        assert!(tries < 2_000, "the honest client never got through");
        let end = (at + 20_000).min(data.len());
        if end == data.len() {
            // The last part makes the document; the attackers stop first so that a 409 here
            // cannot be mistaken for the upload having ended.
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            for a in attackers.drain(..) {
                a.await.unwrap();
            }
        }
        let r = patch(&base, &location, at, data[at..end].to_vec(), Some(&data[at..end])).await;
        match r.status().as_u16() {
            204 => at = r.headers()["upload-offset"].to_str().unwrap().parse().unwrap(),
            409 | 503 => at = offset(&base, &location).await.1.unwrap() as usize,
            s => panic!("honest part refused with {s}: {:?}", r.text().await),
        }
    }
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 1, "the upload became one document");
    assert_eq!(docs[0]["sha256"], sha256_hex(&data), "exactly the client's bytes");
    assert!(env.audit_ok());
}

/// A client that goes away while its complete file is being checked (the last request cut
/// after its last byte) still gets its document and its receipt when it asks again.
#[tokio::test]
async fn an_upload_cut_while_its_file_is_checked_still_becomes_a_document() {
    use tokio::io::AsyncWriteExt;
    let env = Env::start_with_config("rate_limit_per_minute = 1000000\n");
    let (portal, token) = env.create_portal(&[]);
    let base = env.base().to_owned();
    let data = document(24 << 20);
    let location = created(&base, &token, &data, "scan.txt").await;

    // All but the last byte, then the last byte in a request whose connection closes while
    // the complete file is being checked.
    let last = data.len() - 1;
    assert_eq!(patch(&base, &location, 0, data[..last].to_vec(), None).await.status(), 204);
    let addr = base.strip_prefix("http://").unwrap().to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: {last}\r\nContent-Length: 1\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&data[last..]).await.unwrap();
    socket.flush().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    drop(socket);

    // The client comes back: the offset is complete, and the receipt follows once checked.
    let (mut answer, mut checking) = (None, 0);
    for _ in 0..600 {
        let (status, at) = offset(&base, &location).await;
        assert_eq!(status, 200);
        if at == Some(data.len() as u64) {
            let r = receipt(&base, &location).await;
            match r.status().as_u16() {
                200 => {
                    answer = Some(r.json::<serde_json::Value>().await.unwrap());
                    break;
                }
                503 => checking += 1,
                s => panic!("the finished upload answered {s}: {:?}", r.text().await),
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let answer = answer.expect("a receipt within a minute");
    eprintln!("the receipt came after {checking} answers that the file was still being checked");
    assert_eq!(answer["receipt"]["files"][0]["sha256"], sha256_hex(&data));
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["sha256"], sha256_hex(&data));
    assert!(env.audit_ok());
}

/// Requests racing for the last places under `tus_unfinished_per_link` cannot all take one.
#[tokio::test]
async fn racing_creations_cannot_pass_the_cap_on_unfinished_uploads() {
    let env = Env::start_with_config("tus_unfinished_per_link = 3\nrate_limit_per_minute = 1000000\n");
    let (_, token) = env.create_portal(&[]);
    let base = env.base().to_owned();
    let racers: Vec<_> = (0..16)
        .map(|n| {
            let (base, token) = (base.clone(), token.clone());
            tokio::spawn(async move { create(&base, &token, 10, &format!("f{n}.txt")).await.status().as_u16() })
        })
        .collect();
    let mut created = 0;
    for r in racers {
        match r.await.unwrap() {
            201 => created += 1,
            503 => {}
            s => panic!("a creation answered {s}"),
        }
    }
    assert_eq!(created, 3, "exactly the cap");
}

/// The scanner down when the last byte arrives: the client is told to retry (503), the upload
/// is kept complete without holding a place under the link's cap, the checks are not run again
/// at every request (they back off), the client may still give the upload up, and once the
/// scanner is back, asking for the receipt finishes it.
#[tokio::test]
async fn a_scanner_down_at_the_last_byte_keeps_the_upload_for_a_retry() {
    let Some(clamd) = crate::malware::clamd() else { return };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let env = Env::start_with_config(&format!(
        "clamd_addr = \"{closed}\"\nclamd_timeout_secs = 30\ntus_unfinished_per_link = 1\n"
    ));
    let (portal, token) = env.create_portal(&[]);
    let base = env.base();
    let data = document(200_000);
    let location = created(base, &token, &data, "acte.txt").await;
    let r = patch(base, &location, 0, data.clone(), Some(&data)).await;
    assert_eq!(r.status(), 503, "{:?}", r.text().await);
    assert_eq!(offset(base, &location).await, (StatusCode::OK, Some(data.len() as u64)), "kept, complete");
    assert!(env.docs(Some(&portal)).is_empty());
    assert_eq!(receipt(base, &location).await.status(), 503, "still no scanner");

    // The complete upload holds no place: another can start (the cap is 1), and a complete
    // upload that was not kept can be given up.
    let other = created(base, &token, &data, "autre.txt").await;
    assert_eq!(patch(base, &other, 0, data.clone(), None).await.status(), 503);
    let r = client().delete(format!("{base}{other}")).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(offset(base, &other).await.0, 404);

    // The scanner is back where it was said to be; the checks wait out their pause (15 s after
    // the first failure) instead of reading the file again at every request.
    let failed_at = std::time::Instant::now();
    let _relay = crate::malware::Relay::start_on(&closed, clamd).await;
    let r = receipt(base, &location).await;
    assert_eq!(r.status(), 503, "not checked again at once");
    assert!(r.text().await.unwrap().contains("tried again shortly"));
    let r = patch(base, &location, data.len(), Vec::new(), None).await;
    assert_eq!(r.status(), 503, "an empty PATCH at the end waits too");
    assert!(r.text().await.unwrap().contains("tried again shortly"));
    tokio::time::sleep(std::time::Duration::from_secs(16).saturating_sub(failed_at.elapsed())).await;
    let r = receipt(base, &location).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["receipt"]["files"][0]["sha256"], sha256_hex(&data));
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["scan"]["checks"]["malware"], "clean");
    // The retried finish sealed the last segment again, the same bytes: no reseal, the partial
    // file is still kept as the blob (the document has the upload's id).
    assert!(location.ends_with(docs[0]["id"].as_str().unwrap()), "{location} {}", docs[0]["id"]);
    assert_eq!(std::fs::read_dir(env.data_dir().join("tus")).unwrap().count(), 0);
    // Kept: no longer given up.
    let r = client().delete(format!("{base}{location}")).header(TUS.0, TUS.1).send().await.unwrap();
    assert_eq!(r.status(), 409);
}

/// The document is kept but the upload's row is not updated (the server stopped between the
/// two, or the update failed): asking again finds the document and does not make a second one.
/// An insider's trigger makes the update fail; SQLite only (the trigger's syntax).
#[tokio::test]
async fn a_document_kept_before_its_upload_was_marked_finished_is_not_made_twice() {
    let env = Env::start();
    if env.on_postgres() {
        return;
    }
    let (portal, token) = env.create_portal(&[]);
    let base = env.base();
    let data = document(150_000);
    let location = created(base, &token, &data, "pièce.txt").await;
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&env.database_url()).await.unwrap();
    sqlx::query(
        "CREATE TRIGGER no_finish BEFORE UPDATE OF receipt ON tus_uploads WHEN NEW.receipt IS NOT NULL \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(&db)
    .await
    .unwrap();
    let r = patch(base, &location, 0, data.clone(), None).await;
    assert_eq!(r.status(), 500, "{:?}", r.text().await);
    assert_eq!(env.docs(Some(&portal)).len(), 1, "the document was kept");

    // The finished partial file is the document's blob now (the document has the upload's
    // id): a PATCH at its end must not open it to append, which would cut it back.
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    assert!(location.ends_with(&doc), "the document takes the upload's id: {location} {doc}");
    if !env.on_s3() {
        // On a local store the partial file itself became the blob: not sealed and written again.
        use std::os::unix::fs::MetadataExt;
        let part = std::fs::read_dir(env.data_dir().join("tus")).unwrap().next().unwrap().unwrap().path();
        let inode = std::fs::metadata(&part).unwrap().ino();
        let blobs = env.blob_files();
        assert_eq!(blobs.len(), 1, "{blobs:?}");
        assert_eq!(std::fs::metadata(&blobs[0]).unwrap().ino(), inode, "the blob is the partial file");
    }
    let r = patch(base, &location, data.len(), Vec::new(), None).await;
    assert_eq!(r.status(), 500, "the receipt still cannot be recorded: {:?}", r.text().await);
    let r = patch(base, &location, data.len(), b"more".to_vec(), None).await;
    assert_eq!(r.status(), 413, "{:?}", r.text().await);

    sqlx::query("DROP TRIGGER no_finish").execute(&db).await.unwrap();
    let r = receipt(base, &location).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["receipt"]["files"][0]["sha256"], sha256_hex(&data));
    assert_eq!(env.docs(Some(&portal)).len(), 1, "one document, not two");
    let uploads = env.audit_events().into_iter().filter(|e| e["action"] == "document.upload").count();
    assert_eq!(uploads, 1);
    assert_eq!(std::fs::read_dir(env.data_dir().join("tus")).unwrap().count(), 0);
    assert_eq!(plaintext(&env, &doc), data);
}

/// A request refused for its checksum leaves sealed segments past the committed length; the
/// next request seals other bytes under the same segment nonces. An insider who copied the
/// file in between holds two ciphertexts under one nonce, so such a file must not become the
/// document's blob as it is: its plaintext is sealed anew under a fresh data key and nonces.
#[tokio::test]
async fn segments_cut_off_and_sealed_again_never_reach_a_document_under_their_nonces() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let base = env.base();
    let data = document(300_000);
    let other: Vec<u8> = data.iter().map(|b| b.to_ascii_lowercase()).collect();
    let location = created(base, &token, &data, "relevé.txt").await;
    let r = patch(base, &location, 0, other[..200_000].to_vec(), Some(b"not these bytes")).await;
    assert_eq!(r.status().as_u16(), 460);
    let part = std::fs::read_dir(env.data_dir().join("tus")).unwrap().next().unwrap().unwrap().path();
    let copied = std::fs::read(&part).unwrap();
    assert!(copied.len() > 16 + 2 * 65_536, "whole segments were sealed past the committed length");

    let r = patch(base, &location, 0, data.clone(), Some(&data)).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(receipt(base, &location).await.status(), 200);
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    if !env.on_s3() {
        let blobs = env.blob_files();
        assert_eq!(blobs.len(), 1, "{blobs:?}");
        let blob = std::fs::read(&blobs[0]).unwrap();
        assert_ne!(blob[..16], copied[..16], "a fresh nonce prefix, not the partial file's");
    }
    assert_eq!(plaintext(&env, &doc), data);
}

/// An unfinished upload's data key is wrapped by the master key like a document's: rotation
/// re-wraps it, so retiring the old version leaves the upload (and the server's start) whole.
#[tokio::test]
async fn an_unfinished_upload_is_rewrapped_on_rotation_and_outlives_the_old_key() {
    let mut env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    let data = document(150_000);
    let location = created(env.base(), &token, &data, "bail.txt").await;
    assert_eq!(patch(env.base(), &location, 0, data[..70_000].to_vec(), None).await.status(), 204);

    let rotated = env.cli_json(&["key", "rotate", "--json"], None);
    assert_eq!(rotated["documents_rewrapped"], 1, "the upload's key: {rotated}");
    let status = env.cli_json(&["key", "status", "--json"], None);
    assert_eq!(status["versions"]["1"], 0, "{status}");
    assert!(env.cli(&["key", "retire", "--version", "1"], None).0);
    env.restart_server();

    let r = patch(env.base(), &location, 70_000, data[70_000..].to_vec(), Some(&data[70_000..])).await;
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    assert_eq!(receipt(env.base(), &location).await.status(), 200);
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(plaintext(&env, &doc), data);
}
