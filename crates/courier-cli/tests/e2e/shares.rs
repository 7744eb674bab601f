//! Outbound shares through the real binary: creation by CLI and web, the recipient's page and
//! downloads, watermarks checked with poppler's `pdftotext` and `qpdf --check`, image pixels,
//! limits, passcode, revocation and the uniform 404.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::harness::{Env, client, noise, sign_in};

/// `--doc` uploads a file to `matter` through `courier doc upload` and returns its id.
fn upload_doc(env: &Env, matter: &str, name: &str, bytes: &[u8]) -> Value {
    let path = env.data_dir().parent().unwrap().join(name);
    std::fs::write(&path, bytes).unwrap();
    let doc = env.cli_json(&["doc", "upload", "--matter", matter, path.to_str().unwrap(), "--json"], None);
    std::fs::remove_file(&path).unwrap();
    doc
}

fn pdf(pages: usize) -> Vec<u8> {
    let pages: Vec<Vec<String>> =
        (1..=pages).map(|p| vec![format!("Privileged draft, page {p}."), "Settlement terms follow.".into()]).collect();
    courier_scan::fixtures::pdf(&pages)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 251) as u8, (y % 241) as u8, 200]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn tool(name: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(name).args(args).output().unwrap_or_else(|e| panic!("{name} is needed ({e})"));
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn page_text(path: &Path, page: usize) -> String {
    let p = page.to_string();
    let (ok, text) = tool("pdftotext", &["-f", &p, "-l", &p, path.to_str().unwrap(), "-"]);
    assert!(ok, "pdftotext: {text}");
    text
}

fn share(env: &Env, matter: &str, docs: &[&str], extra: &[&str]) -> Value {
    let mut args = vec!["share", "create", "--matter", matter, "--recipient", "Dr. Expert Witness", "--json"];
    for d in docs {
        args.extend(["--doc", d]);
    }
    args.extend_from_slice(extra);
    env.cli_json(&args, None)
}

#[tokio::test]
async fn a_share_serves_watermarked_pdfs_and_images_and_plain_files_unchanged() {
    let env = Env::start();
    let matter = env.cli_json(&["matter", "create", "--name", "Acme v. Widget", "--json"], None);
    let m = matter["id"].as_str().unwrap();
    let doc_pdf = upload_doc(&env, m, "Report.pdf", &pdf(3));
    let doc_png = upload_doc(&env, m, "Exhibit.png", &png(640, 480));
    let text = b"Plain notes for the expert.\n".repeat(20);
    let doc_txt = upload_doc(&env, m, "notes.txt", &text);
    let ids: Vec<&str> = [&doc_pdf, &doc_png, &doc_txt].iter().map(|d| d["id"].as_str().unwrap()).collect();

    let created = share(&env, m, &ids, &["--expires-in", "7d", "--max-downloads", "2"]);
    for key in ["id", "url", "token", "expires_at"] {
        assert!(created[key].is_string(), "{key} in {created}");
    }
    assert_eq!(created["served_unchanged"], serde_json::json!([ids[2]]));
    let url = created["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/s/", env.base())));

    let c = client();
    let page = c.get(url).header("Accept", "application/json").send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let listing: Value = page.json().await.unwrap();
    let files = listing["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        assert!(f["id"].is_string() && f["name"].is_string() && f["size"].is_number(), "{f}");
    }
    let html = c.get(url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("Report.pdf") && html.contains(&format!("/files/{}", ids[0])), "no-JS page lists files");

    // PDF: every page stamped, metadata too, and the file still valid.
    let before = chrono_like_now();
    let r = c.get(format!("{url}/files/{}", ids[0])).header("User-Agent", "ExpertBrowser/1.0").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"].to_str().unwrap().contains("Report.pdf"));
    let stamped = r.bytes().await.unwrap();
    let path = env.data_dir().parent().unwrap().join("downloaded.pdf");
    std::fs::write(&path, &stamped).unwrap();
    let (ok, check) = tool("qpdf", &["--check", path.to_str().unwrap()]);
    assert!(ok, "qpdf --check: {check}");
    for p in 1..=3 {
        let t = page_text(&path, p);
        assert!(t.contains(&format!("page {p}")), "content kept on page {p}: {t}");
        assert!(t.contains("Shared with Dr. Expert Witness"), "page {p} stamped: {t}");
        assert!(t.contains(created["id"].as_str().unwrap()), "share id on page {p}");
        assert!(t.contains(&before) || t.contains(&chrono_like_now()), "download time on page {p}: {t}");
    }
    let (_, info) = tool("pdfinfo", &[path.to_str().unwrap()]);
    assert!(info.contains("Pages:") && info.contains("3"), "{info}");
    let raw = String::from_utf8_lossy(&stamped);
    assert!(raw.contains("/CourierWatermark") && raw.contains("Dr. Expert Witness"), "metadata carries the stamp");

    // PNG: the band at the bottom differs, the top is untouched.
    let r = c.get(format!("{url}/files/{}", ids[1])).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let got = image::load_from_memory(&r.bytes().await.unwrap()).unwrap().to_rgb8();
    let orig = image::load_from_memory(&png(640, 480)).unwrap().to_rgb8();
    assert_eq!(got.dimensions(), orig.dimensions());
    assert!((0..640).all(|x| got.get_pixel(x, 10) == orig.get_pixel(x, 10)), "content above the band unchanged");
    let changed = (0..640).filter(|&x| got.get_pixel(x, 470) != orig.get_pixel(x, 470)).count();
    assert!(changed > 600, "the overlay covers the bottom band ({changed} pixels changed)");

    // Plain text: byte for byte.
    let r = c.get(format!("{url}/files/{}", ids[2])).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), text.as_slice());

    // The limit is per file: one more PDF download, then no more.
    assert_eq!(c.get(format!("{url}/files/{}", ids[0])).send().await.unwrap().status(), 200);
    let third = c.get(format!("{url}/files/{}", ids[0])).send().await.unwrap();
    assert_eq!(third.status(), 409);
    assert!(third.text().await.unwrap().contains("as often as the share allows"));
    // Said in the recipient's language (and counted as no download).
    let fr = c.get(format!("{url}/files/{}", ids[0])).header("Accept-Language", "fr").send().await.unwrap();
    assert_eq!(fr.status(), 409);
    assert!(fr.text().await.unwrap().contains("autant de fois que le partage le permet"));

    // Staff see every download; the audit trail has them with IP and user agent.
    let shown = env.cli_json(&["share", "show", created["id"].as_str().unwrap(), "--json"], None);
    let downloads = shown["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 4, "{shown}");
    assert_eq!(downloads[0]["user_agent"], "ExpertBrowser/1.0");
    assert_eq!(downloads[0]["ip"], "127.0.0.1");
    let audited: Vec<_> = env.audit_events().into_iter().filter(|e| e["action"] == "share.download").collect();
    assert_eq!(audited.len(), 4);
    assert_eq!(audited[0]["details"]["user_agent"], "ExpertBrowser/1.0");
    assert!(env.audit_ok());
    let listed = env.cli_json(&["share", "list", "--json"], None);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// The current UTC date and hour as the stamp writes it (`2026-12-01T10`).
fn chrono_like_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}T{:02}", now.year(), u8::from(now.month()), now.day(), now.hour())
}

#[tokio::test]
async fn revoked_expired_unknown_and_malformed_share_links_get_one_identical_404() {
    let env = Env::start();
    let m = env.cli_json(&["matter", "create", "--name", "Links", "--json"], None)["id"].as_str().unwrap().to_owned();
    let d = upload_doc(&env, &m, "a.txt", b"text");
    let d = d["id"].as_str().unwrap();
    let revoked = share(&env, &m, &[d], &[]);
    let expiring = share(&env, &m, &[d], &["--expires-in", "1s"]);
    let c = client();
    let ok = c.get(revoked["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    env.cli_json(&["share", "revoke", revoked["id"].as_str().unwrap(), "--json"], None);
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;

    let unknown = format!("{}/s/{}", env.base(), "A".repeat(43));
    let urls = [
        revoked["url"].as_str().unwrap().to_owned(),
        expiring["url"].as_str().unwrap().to_owned(),
        unknown.clone(),
        format!("{}/s/not-a-token", env.base()),
        format!("{}/files/{d}", revoked["url"].as_str().unwrap()),
        format!("{unknown}/files/{d}"),
    ];
    let mut bodies = Vec::new();
    for u in &urls {
        let r = c.get(u).send().await.unwrap();
        assert_eq!(r.status(), 404, "{u}");
        bodies.push(r.bytes().await.unwrap());
    }
    let portal_404 = c.get(format!("{}/p/{}", env.base(), "B".repeat(43))).send().await.unwrap();
    bodies.push(portal_404.bytes().await.unwrap());
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every dead link answers byte for byte the same");
}

#[tokio::test]
async fn a_passcode_protects_a_share_and_a_wrong_one_is_audited() {
    let env = Env::start();
    let m = env.cli_json(&["matter", "create", "--name", "Secret", "--json"], None)["id"].as_str().unwrap().to_owned();
    let d = upload_doc(&env, &m, "a.txt", b"text");
    let d = d["id"].as_str().unwrap();
    let args =
        ["share", "create", "--matter", &m, "--doc", d, "--recipient", "Co-counsel", "--passcode-stdin", "--json"];
    let created = env.cli_json(&args, Some("horse-battery-9\n"));
    let url = created["url"].as_str().unwrap();
    let c = client();
    let page = c.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("passcode") && !page.contains("a.txt"), "files hidden behind the passcode");
    assert_eq!(c.get(url).header("Accept", "application/json").send().await.unwrap().status(), 401);
    assert_eq!(c.get(format!("{url}/files/{d}")).send().await.unwrap().status(), 401);
    let wrong = c.post(format!("{url}/unlock")).form(&[("passcode", "nope-nope")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let header = c.get(url).header("Accept", "application/json").header("X-Courier-Passcode", "horse-battery-9");
    assert_eq!(header.send().await.unwrap().status(), 200);
    let right = c.post(format!("{url}/unlock")).form(&[("passcode", "horse-battery-9")]).send().await.unwrap();
    assert_eq!(right.status(), 303);
    let r = c.get(format!("{url}/files/{d}")).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"text");
    let failed = env.audit_events().into_iter().filter(|e| e["action"] == "share.passcode_failed").count();
    assert_eq!(failed, 1);
    let trail = env.audit_events().iter().map(|e| e.to_string()).collect::<String>();
    assert!(!trail.contains("horse-battery-9") && !trail.contains(created["token"].as_str().unwrap()));
}

#[tokio::test]
async fn shares_refuse_other_matters_documents_findings_without_consent_and_held_documents() {
    let env = Env::start_with_config("");
    let m = env.cli_json(&["matter", "create", "--name", "Mine", "--json"], None)["id"].as_str().unwrap().to_owned();
    let other =
        env.cli_json(&["matter", "create", "--name", "Theirs", "--json"], None)["id"].as_str().unwrap().to_owned();
    let foreign = upload_doc(&env, &other, "x.txt", b"theirs");
    let (ok, _, err) = env.cli(
        &["share", "create", "--matter", &m, "--doc", foreign["id"].as_str().unwrap(), "--recipient", "R", "--json"],
        None,
    );
    assert!(!ok && err.contains("no document"), "{err}");

    let ssn = b"Client SSN: 536-22-8411. Card 4111 1111 1111 1111.\n".to_vec();
    let flagged = upload_doc(&env, &m, "ssn.txt", &ssn);
    assert_eq!(flagged["scan"]["status"], "flagged");
    let f = flagged["id"].as_str().unwrap();
    let (ok, _, err) = env.cli(&["share", "create", "--matter", &m, "--doc", f, "--recipient", "R", "--json"], None);
    assert!(!ok && err.contains("personal data"), "{err}");
    assert!(!err.contains("536-22-8411"), "the finding's value is never echoed");
    let consented = share(&env, &m, &[f], &["--allow-findings"]);
    assert!(consented["token"].is_string());

    // A too-large stampable file is refused before any link exists.
    let small = Env::start_with_config("watermark_max_size = \"1KiB\"\n");
    let sm = small.cli_json(&["matter", "create", "--name", "S", "--json"], None)["id"].as_str().unwrap().to_owned();
    let big = upload_doc(&small, &sm, "big.pdf", &pdf(4));
    let (ok, _, err) = small.cli(
        &["share", "create", "--matter", &sm, "--doc", big["id"].as_str().unwrap(), "--recipient", "R", "--json"],
        None,
    );
    assert!(!ok && err.contains("watermarked"), "{err}");
    assert!(small.cli_json(&["share", "list", "--json"], None).as_array().unwrap().is_empty());
}

#[tokio::test]
async fn staff_upload_and_share_through_the_web_and_see_downloads() {
    let env = Env::start();
    let c = client();
    let (csrf, _) = sign_in(&env, &c, "ada@firm.example", "attorney").await;
    let created = c
        .post(format!("{}/matters", env.base()))
        .form(&[("name", "Web matter"), ("sensitivity", "confidential"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let matter_id = location.trim_start_matches("/matters/").to_owned();

    // Upload without the CSRF token first: refused, nothing stored.
    let form =
        reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(pdf(1)).file_name("Brief.pdf"));
    let r = c.post(format!("{}{location}/documents", env.base())).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(pdf(2)).file_name("Brief.pdf"))
        .part("file", reqwest::multipart::Part::bytes(noise(5000, 3)).file_name("data.bin"));
    let r = c.post(format!("{}{location}/documents", env.base())).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 415, "an unknown binary is refused, and the whole upload with it");
    assert!(env.cli_json(&["doc", "list", "--matter", &matter_id, "--json"], None).as_array().unwrap().is_empty());
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.clone())
        .part("file", reqwest::multipart::Part::bytes(pdf(2)).file_name("Brief.pdf"));
    let r = c
        .post(format!("{}{location}/documents", env.base()))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let docs = env.cli_json(&["doc", "list", "--matter", &matter_id, "--json"], None);
    let doc_id = docs[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(docs[0]["matter_id"], matter_id.as_str());

    let page = c.get(format!("{}{location}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Brief.pdf") && page.contains("watermarked"), "the share screen says what is stamped");
    let r = c
        .post(format!("{}{location}/shares", env.base()))
        .form(&[
            ("doc", doc_id.as_str()),
            ("recipient", "Opposing counsel"),
            ("expires_in", "2d"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let html = r.text().await.unwrap();
    let marker = "id=\"share-url\" readonly value=\"";
    let start = html.find(marker).expect("link box") + marker.len();
    let url = html[start..].split('"').next().unwrap().replace("&#x2f;", "/");
    assert!(url.contains("/s/"), "{url}");
    let recipient = client();
    let got = recipient.get(format!("{url}/files/{doc_id}")).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let share_id = env.cli_json(&["share", "list", "--json"], None)[0]["id"].as_str().unwrap().to_owned();
    let staff_view = c.get(format!("{}/shares/{share_id}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(staff_view.contains("Opposing counsel") && staff_view.contains("127.0.0.1"), "downloads listed");
    let revoke = c
        .post(format!("{}/shares/{share_id}/revoke", env.base()))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    assert_eq!(recipient.get(&url).send().await.unwrap().status(), 404);
}
