//! The client's side through the real server: the language of client and share pages (a
//! `?lang=` switch, the portal's language, the browser's), the uniform 404 whatever the
//! language, and times in the firm's time zone.

use crate::harness::{Env, client, hidden_field, sign_in};

async fn page(url: &str, accept_language: Option<&str>) -> (u16, String) {
    let mut req = client().get(url);
    if let Some(l) = accept_language {
        req = req.header("Accept-Language", l);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test]
async fn the_client_page_speaks_the_portals_or_the_browsers_language() {
    let env = Env::start_with_config("firm_name = \"Cabinet Durand & Associés\"\ntimezone = \"Europe/Paris\"\n");
    let (_, token) = env.create_portal(&["--expires-at", "2099-06-30T22:30:00Z"]);
    let url = format!("{}/p/{token}", env.base());

    let (status, en) = page(&url, None).await;
    assert_eq!(status, 200);
    assert!(en.contains("<html lang=\"en\">") && en.contains("Send securely"), "{en}");
    // Times are in the firm's zone: 22:30 UTC is 00:30 the next day in Paris (summer time).
    assert!(en.contains("2099-07-01 00:30 Europe&#x2f;Paris"), "{en}");

    let (_, fr) = page(&url, Some("fr-BE,fr;q=0.9,en;q=0.5")).await;
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    assert!(fr.contains("Envoyer en toute sécurité"), "{fr}");
    assert!(fr.contains("Envoyer des documents à Cabinet Durand &amp; Associés"), "the firm's name, escaped: {fr}");
    assert!(!fr.contains("Send securely"), "English left on the French page");
    // The script's words come from the page, in its language.
    assert!(fr.contains("data-connection-lost=\"connexion perdue ; non envoyé\""), "{fr}");

    // The visible switch wins over the browser.
    let (_, switched) = page(&format!("{url}?lang=en"), Some("fr")).await;
    assert!(switched.contains("<html lang=\"en\">"));
    assert!(switched.contains(&format!("href=\"/p/{token}?lang=fr\"")), "the switch links to French");
    // An unknown language is ignored, not an error.
    let (status, other) = page(&format!("{url}?lang=de"), Some("fr")).await;
    assert_eq!(status, 200);
    assert!(other.contains("<html lang=\"fr\">"));

    // A portal opened in French is French for a browser that asks for English, until switched.
    let (_, fr_token) = env.create_portal(&["--language", "fr"]);
    let fr_url = format!("{}/p/{fr_token}", env.base());
    assert!(page(&fr_url, Some("en-GB")).await.1.contains("<html lang=\"fr\">"));
    assert!(page(&format!("{fr_url}?lang=en"), Some("en-GB")).await.1.contains("<html lang=\"en\">"));
    let shown = env.cli_json(&["portal", "list", "--json"], None);
    let languages: Vec<_> = shown.as_array().unwrap().iter().map(|p| p["language"].clone()).collect();
    assert!(languages.contains(&serde_json::json!("fr")) && languages.contains(&serde_json::Value::Null), "{shown}");

    // A language Courier does not have is refused with a clear error, and nothing is made.
    let before = env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().len();
    let (ok, _, err) = env.cli(&["portal", "create", "--label", "X", "--language", "de", "--json"], None);
    assert!(!ok && err.contains("\"de\" is not a language"), "{err}");
    assert_eq!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().len(), before);
}

#[tokio::test]
async fn the_uniform_404_is_one_byte_string_in_every_language() {
    let env = Env::start();
    let (_, token) = env.create_portal(&["--language", "fr"]);
    let id = env.cli_json(&["portal", "list", "--json"], None)[0]["id"].as_str().unwrap().to_owned();
    assert!(env.cli(&["portal", "disable", &id], None).0);
    let bad = "A".repeat(43);
    let mut bodies = Vec::new();
    for (path, lang) in [
        (format!("/p/{bad}"), None),
        (format!("/p/{bad}"), Some("fr")),
        (format!("/p/{bad}?lang=fr"), Some("fr")),
        (format!("/p/{token}"), Some("fr")),
        (format!("/p/{token}?lang=fr"), None),
        (format!("/s/{bad}?lang=fr"), Some("fr-FR")),
    ] {
        let (status, body) = page(&format!("{}{path}", env.base()), lang).await;
        assert_eq!(status, 404, "{path}");
        bodies.push(body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "the 404 differs by language or link: {bodies:?}");
}

#[tokio::test]
async fn passcode_receipt_and_share_pages_follow_the_language() {
    let env = Env::start();
    let p = env
        .cli_json(&["portal", "create", "--label", "Dossier", "--passcode-stdin", "--json"], Some("horse-battery-9\n"));
    let token = p["token"].as_str().unwrap();
    let c = client();
    let base = env.base();

    let r = c.get(format!("{base}/p/{token}?lang=fr")).send().await.unwrap();
    let body = r.text().await.unwrap();
    assert!(body.contains("Code d&#x27;accès") || body.contains("Code d'accès"), "{body}");
    assert!(body.contains(&format!("action=\"/p/{token}/unlock?lang=fr\"")), "{body}");
    let wrong =
        c.post(format!("{base}/p/{token}/unlock?lang=fr")).form(&[("passcode", "not-the-one")]).send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let body = wrong.text().await.unwrap();
    assert!(body.contains("n&#x27;est pas le bon") || body.contains("n'est pas le bon"), "{body}");
    let right = c
        .post(format!("{base}/p/{token}/unlock?lang=fr"))
        .form(&[("passcode", "horse-battery-9")])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], format!("/p/{token}?lang=fr").as_str(), "the choice goes on");

    // The receipt of a form post without JavaScript, in French.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(b"Notes de la cliente\n".to_vec()).file_name("notes.txt"));
    let r = c.post(format!("{base}/p/{token}/files?lang=fr")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let body = r.text().await.unwrap();
    assert!(body.contains("<html lang=\"fr\">") && body.contains("Bien reçu, merci"), "{body}");
    assert!(body.contains(&format!("href=\"/p/{token}?lang=fr\"")), "{body}");

    // A share page follows the recipient's browser.
    let matter = env.cli_json(&["matter", "create", "--name", "Durand", "--json"], None);
    let m = matter["id"].as_str().unwrap();
    let path = env.data_dir().parent().unwrap().join("rapport.txt");
    std::fs::write(&path, b"Rapport d'expertise\n").unwrap();
    let doc = env.cli_json(&["doc", "upload", "--matter", m, path.to_str().unwrap(), "--json"], None);
    let share = env.cli_json(
        &[
            "share",
            "create",
            "--matter",
            m,
            "--doc",
            doc["id"].as_str().unwrap(),
            "--recipient",
            "Maître Martin",
            "--max-downloads",
            "2",
            "--json",
        ],
        None,
    );
    let url = share["url"].as_str().unwrap();
    let (status, body) = page(url, Some("fr-FR,fr;q=0.9")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Documents pour Maître Martin"), "{body}");
    assert!(body.contains("Chaque fichier peut être téléchargé 2 fois."), "{body}");
    assert!(page(url, Some("en-US")).await.1.contains("Each file can be downloaded 2 times."));
}

#[tokio::test]
async fn the_firms_logo_colour_and_contact_are_on_client_pages_and_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.svg");
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><script>alert(1)</script></svg>";
    std::fs::write(&logo, svg).unwrap();
    let env = Env::start_with_config(&format!(
        "firm_name = \"Durand\"\nfirm_logo = {:?}\nbrand_color = \"#0B5D1E\"\nclient_contact = \"Maître Durand <+33 1 23 45 67 89>\"\n",
        logo.to_str().unwrap()
    ));
    let (_, token) = env.create_portal(&[]);
    let (_, body) = page(&format!("{}/p/{token}", env.base()), Some("fr")).await;
    assert!(
        body.contains("src=\"&#x2f;static&#x2f;brand-logo\"") || body.contains("src=\"/static/brand-logo\""),
        "{body}"
    );
    assert!(body.contains("href=\"/static/brand.css\""), "{body}");
    assert!(body.contains("Des questions ? Maître Durand &lt;+33 1 23 45 67 89&gt;"), "escaped contact: {body}");
    let r = client().get(format!("{}/static/brand-logo", env.base())).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "the SVG's script cannot run: {csp}");
    assert_eq!(r.bytes().await.unwrap().as_ref(), svg);
    let css = client().get(format!("{}/static/brand.css", env.base())).send().await.unwrap().text().await.unwrap();
    assert_eq!(css.trim(), ":root { --accent: #0b5d1e; }");
    // Staff pages keep Courier's own look.
    let (_, login) = page(&format!("{}/login", env.base()), None).await;
    assert!(!login.contains("brand.css") && !login.contains("Des questions"));

    // An operator's mistake stops the server with a clear error instead of a broken page.
    for (toml, says) in [
        ("brand_color = \"#ffe600\"\n", "too light"),
        ("brand_color = \"green\"\n", "not a colour"),
        ("firm_logo = \"/nonexistent/logo.png\"\n", "/nonexistent/logo.png"),
    ] {
        let bad = Env::offline(toml);
        let out = bad.command().args(["serve", "--bind", "127.0.0.1:0"]).output().unwrap();
        assert!(!out.status.success(), "{toml}: serve started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{toml}: {err}");
    }
}

/// The lawyer's instruction sheet for the client: made only for the portal's current link,
/// in the language chosen, with the QR code, the passcode rule and the retention; viewed
/// under the CSP or downloaded as a file that works offline.
#[tokio::test]
async fn the_instruction_sheet_carries_only_the_portals_current_link() {
    let env = Env::start_with_config("firm_name = \"Cabinet Durand & Associés\"\nretention = \"14d\"\n");
    let p = env.cli_json(
        &["portal", "create", "--label", "Durand — pièces", "--passcode-stdin", "--language", "fr", "--json"],
        Some("correct horse\n"),
    );
    let (id, token) = (p["id"].as_str().unwrap().to_owned(), p["token"].as_str().unwrap().to_owned());
    let (other_id, other_token) = env.create_portal(&[]);
    let staff = client();
    let (csrf, _) = crate::harness::sign_in(&env, &staff, "lea@firm.example", "admin").await;
    let url = format!("{}/p/{token}", env.base());
    let sheet = |portal: &str, link: &str, language: &str, how: &str| {
        let form = [("csrf_token", csrf.as_str()), ("url", link), ("language", language), ("as", how)];
        staff.post(format!("{}/portals/{portal}/instructions", env.base())).form(&form).send()
    };

    // The portal's language by default: French, with the link, its QR code and the rules.
    let r = sheet(&id, &url, "", "view").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(r.headers().get("content-disposition").is_none());
    let fr = r.text().await.unwrap();
    assert!(fr.contains("<html lang=\"fr\">"), "{fr}");
    // As the template engine escapes text (`/` included).
    let html = |s: &str| s.replace('/', "&#x2f;");
    assert!(fr.contains(&html(&url)) && fr.contains("<svg"), "the link and its QR code: {fr}");
    assert!(fr.contains("vous le communique séparément"), "the passcode comes another way: {fr}");
    assert!(!fr.contains("correct horse"), "the passcode is never on the sheet");
    assert!(fr.contains("conservés ici 2 semaines au plus"), "the retention, in French: {fr}");
    assert!(fr.contains(&html(&format!("commence exactement par {}/p/", env.base()))), "{fr}");
    assert!(fr.contains("href=\"/static/sheet.css\"") && !fr.contains("<style>"), "styled under the CSP");

    // English when asked; a download embeds its style and names itself.
    let r = sheet(&id, &url, "en", "download").await.unwrap();
    assert_eq!(r.status(), 200);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment") && disposition.contains("-en.html"), "{disposition}");
    let en = r.text().await.unwrap();
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("How to send your documents to Cabinet Durand &amp; Associés")
    );
    assert!(en.contains("<style>") && !en.contains("/static/"), "a downloaded sheet works offline: {en}");
    assert!(en.contains("14 days") || en.contains("2 weeks"), "{en}");

    // Another portal's link, a made-up one, a link after it was replaced: refused, not echoed.
    let other_url = format!("{}/p/{other_token}", env.base());
    let made_up = format!("{}/p/cpl_made-up-link-token-0000000000000000000", env.base());
    let elsewhere = format!("https://evil.example/p/{token}");
    for link in [other_url.as_str(), made_up.as_str(), elsewhere.as_str(), ""] {
        let r = sheet(&id, link, "en", "view").await.unwrap();
        assert_eq!(r.status(), 400, "{link}");
        let body = r.text().await.unwrap();
        assert!(body.contains("not this portal's current link"), "{body}");
        assert!(link.is_empty() || !body.contains(&html(link)), "the refused link is not echoed: {body}");
    }
    assert_eq!(sheet(&other_id, &other_url, "en", "view").await.unwrap().status(), 200);
    // The refusal is said in the member's language (here their browser's).
    let form = [("csrf_token", csrf.as_str()), ("url", made_up.as_str()), ("language", "en"), ("as", "view")];
    let r = staff
        .post(format!("{}/portals/{id}/instructions", env.base()))
        .header("Accept-Language", "fr")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("pas le lien actuel de ce portail"));
    // A disabled portal's link leads nowhere: no sheet for it until it is enabled again.
    assert!(env.cli(&["portal", "disable", &other_id], None).0);
    let r = sheet(&other_id, &other_url, "en", "view").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("does not work now"));
    assert!(env.cli(&["portal", "enable", &other_id], None).0);
    assert_eq!(sheet(&other_id, &other_url, "en", "view").await.unwrap().status(), 200);
    env.cli_json(&["portal", "new-link", &id, "--json"], None);
    assert_eq!(sheet(&id, &url, "en", "view").await.unwrap().status(), 400, "the replaced link");

    // A forged form (no CSRF token) makes nothing.
    let r = staff
        .post(format!("{}/portals/{other_id}/instructions", env.base()))
        .form(&[("url", other_url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

/// A refusal is said in the client's page language: the form's `?lang=`, or the
/// `Accept-Language` the page's script sends; English keeps the detailed text.
#[tokio::test]
async fn refusals_are_said_in_the_pages_language() {
    let env = Env::start();
    let p = env.cli_json(
        &[
            "portal",
            "create",
            "--label",
            "Refus",
            "--language",
            "fr",
            "--dlp-action",
            "block",
            "--max-file-size",
            "1MiB",
            "--json",
        ],
        None,
    );
    let token = p["token"].as_str().unwrap();
    let base = env.base();
    let exe = [b"MZ\x90\0\x03\0\0\0".as_slice(), &[0u8; 200]].concat();
    let post = |lang: &'static str, json: bool, name: &'static str, bytes: Vec<u8>| {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        let mut req = client().post(format!("{base}/p/{token}/files?lang={lang}")).multipart(form);
        if json {
            req = req.header("Accept", "application/json");
        }
        req.send()
    };

    // The script's upload (JSON) and the form without JavaScript (a page), in French.
    let r = post("fr", true, "facture.pdf", exe.clone()).await.unwrap();
    assert_eq!(r.status(), 415);
    let detail = r.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("programme ou un script"), "{detail}");
    let r = post("fr", false, "facture.pdf", exe.clone()).await.unwrap();
    assert_eq!(r.status(), 415);
    let page = r.text().await.unwrap();
    assert!(page.contains("<html lang=\"fr\">") && page.contains("Le fichier n'a pas été reçu"), "{page}");
    assert!(page.contains("Référence de la demande"), "{page}");

    // Personal data: the kinds found are named in French.
    let r = post("fr", true, "lettre.txt", b"Carte : 4111 1111 1111 1111, SSN 123-45-6789\n".to_vec()).await.unwrap();
    assert_eq!(r.status(), 422);
    let detail = r.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("numéros de carte bancaire") && detail.contains("Retirez-les"), "{detail}");
    assert!(!detail.contains("4111"), "the data itself is never echoed: {detail}");

    // The same refusal in English keeps the server's words.
    let r = post("en", true, "facture.pdf", exe.clone()).await.unwrap();
    let detail = r.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("programs and scripts cannot be uploaded"), "{detail}");

    // tus: the script sends the page's language with every request.
    let r = client()
        .post(format!("{base}/p/{token}/tus/"))
        .header("Tus-Resumable", "1.0.0")
        .header("Accept", "application/json")
        .header("Accept-Language", "fr")
        .header("Upload-Length", (2u64 << 20).to_string())
        .header("Upload-Metadata", "filename Z3Jvcy5wZGY=")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let detail = r.json::<serde_json::Value>().await.unwrap()["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("dépasse la taille acceptée par ce lien (1\u{a0}Mio au plus)"), "{detail}");

    // Staff and API answers stay in English whatever the browser asks.
    let r = client().get(format!("{base}/api/v1/portals")).header("Accept-Language", "fr").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(!r.text().await.unwrap().contains("Référence"));
    // And the uniform 404 is untouched.
    let bad = "A".repeat(43);
    let en = client().get(format!("{base}/p/{bad}")).send().await.unwrap().text().await.unwrap();
    let fr = client().get(format!("{base}/p/{bad}?lang=fr")).header("Accept-Language", "fr").send().await.unwrap();
    assert_eq!(fr.text().await.unwrap(), en);
}

/// The setup page takes the firm's logo as a file (multipart form): checked (a PNG or an SVG of
/// at most 512 KiB) before anything is made, said in the page's language when refused, served
/// to client pages at once and after a restart, and its size and hash in the trail.
#[tokio::test]
async fn the_setup_page_takes_the_firms_logo() {
    use crate::harness::{PASSWORD, hidden_field};
    let mut env = Env::start();
    let link = env.server.as_ref().unwrap().setup_link.clone().expect("setup link printed at first start");
    let c = client();
    let form = c.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("name=\"firm_logo\""), "{form}");
    let csrf = hidden_field(&form, "csrf_token");
    let post = |logo: Vec<u8>, lang: &'static str| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in [("email", "admin@firm.example"), ("password", PASSWORD), ("password_again", PASSWORD)] {
            form = form.text(k, v);
        }
        let form = form
            .text("csrf_token", csrf.clone())
            .text("firm_name", "Cabinet Durand")
            .part("firm_logo", reqwest::multipart::Part::bytes(logo).file_name("logo.png"));
        // A fresh connection each time: a refused upload's connection is closed unread.
        client().post(&link).header("Accept-Language", lang).multipart(form).send()
    };
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 300]].concat();
    let too_large = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 600 * 1024]].concat();
    for (logo, lang, says) in [
        (b"GIF89a not a logo".to_vec(), "en", "neither a PNG nor an SVG"),
        (b"GIF89a not a logo".to_vec(), "fr", "ni un fichier PNG ni un fichier SVG"),
    ] {
        let r = post(logo, lang).await.unwrap();
        assert_eq!(r.status(), 400);
        let body = r.text().await.unwrap();
        assert!(body.contains(says) && body.contains("admin@firm.example"), "{says}: {body}");
    }
    // Too large: refused as soon as the logo passes 512 KiB, the rest of the body unread.
    for (lang, says) in [("en", "larger than 512 KiB"), ("fr", "le logo dépasse 512\u{a0}Kio")] {
        let r = post(too_large.clone(), lang).await.unwrap();
        assert_eq!(r.status(), 413);
        let body = r.text().await.unwrap();
        assert!(body.contains(says), "{says}: {body}");
    }
    // A field given twice (the last would have won unseen) is refused.
    let twice = reqwest::multipart::Form::new()
        .text("csrf_token", csrf.clone())
        .part("firm_logo", reqwest::multipart::Part::bytes(png.clone()).file_name("a.png"))
        .part("firm_logo", reqwest::multipart::Part::bytes(Vec::new()).file_name(""));
    assert_eq!(client().post(&link).multipart(twice).send().await.unwrap().status(), 400);
    let (_, token) = env.create_portal(&[]);
    assert_eq!(client().get(format!("{}/static/brand-logo", env.base())).send().await.unwrap().status(), 404);

    let r = post(png.clone(), "en").await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    for round in ["at once", "after a restart"] {
        let (_, body) = page(&format!("{}/p/{token}", env.base()), None).await;
        assert!(body.contains("brand-logo"), "{round}: {body}");
        let r = client().get(format!("{}/static/brand-logo", env.base())).send().await.unwrap();
        assert_eq!(r.headers()["content-type"], "image/png", "{round}");
        assert_eq!(r.bytes().await.unwrap().as_ref(), png.as_slice(), "{round}");
        env.restart_server();
    }
    let used = env.audit_events().into_iter().find(|e| e["action"] == "setup.link_used").expect("audited");
    assert_eq!(used["details"]["firm_profile"]["logo"]["bytes"], png.len());
    assert!(env.audit_ok());
}

/// The first administrator gives the firm's name, colour, contact line and time zone on the
/// setup page: checked before anything is made, in force at once on client pages, kept across
/// restarts, and in the trail.
#[tokio::test]
async fn the_setup_page_asks_for_the_firms_brand_and_applies_it_at_once() {
    use crate::harness::{PASSWORD, hidden_field};
    let mut env = Env::start();
    let link = env.server.as_ref().unwrap().setup_link.clone().expect("setup link printed at first start");
    let c = client();
    let form = c.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("Your firm, as clients see it") && form.contains("Europe/Paris"), "{form}");
    let csrf = hidden_field(&form, "csrf_token");
    let post = |color: &'static str, zone: &'static str, password: &'static str| {
        c.post(&link)
            .form(&[
                ("email", "admin@firm.example"),
                ("password", password),
                ("password_again", password),
                ("csrf_token", csrf.as_str()),
                ("firm_name", "Cabinet Durand & Associés"),
                ("client_contact", "Maître Durand, +33 1 23 45 67 89"),
                ("brand_color", color),
                ("timezone", zone),
            ])
            .send()
    };

    // A colour too light for white text, a made-up zone, a guessable password (checked once
    // the brand is in force): refused, nothing made or changed, the form kept.
    for (color, zone, password, why) in [
        ("#ffff00", "Europe/Paris", PASSWORD, "contrast"),
        ("#1f4fa3", "Mars/Olympus", PASSWORD, "time zone"),
        ("#1f4fa3", "Europe/Paris", "Password12345!", "too easy to guess"),
    ] {
        let r = post(color, zone, password).await.unwrap();
        assert_eq!(r.status(), 400);
        let body = r.text().await.unwrap();
        assert!(body.contains(why) && body.contains("admin@firm.example"), "{body}");
        assert!(!body.contains(password), "the password is not sent back");
    }
    let (_, token) = env.create_portal(&[]);
    let (_, before) = page(&format!("{}/p/{token}", env.base()), None).await;
    assert!(!before.contains("Durand"), "a refused setup changed nothing: {before}");

    let r = post("#1f4fa3", "Europe/Paris", PASSWORD).await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    // At once, and after a restart.
    for round in ["at once", "after a restart"] {
        let (_, body) = page(&format!("{}/p/{token}", env.base()), None).await;
        assert!(body.contains("Cabinet Durand &amp; Associés"), "{round}: {body}");
        assert!(body.contains("Maître Durand, +33 1 23 45 67 89"), "{round}");
        assert!(body.contains("href=\"/static/brand.css\""), "{round}");
        let css = client().get(format!("{}/static/brand.css", env.base())).send().await.unwrap().text().await.unwrap();
        assert!(css.contains("#1f4fa3"), "{round}: {css}");
        env.restart_server();
    }
    let p = env.cli_json(&["portal", "create", "--label", "Horaires", "--expires-in", "7d", "--json"], None);
    let (_, body) = page(&format!("{}/p/{}", env.base(), p["token"].as_str().unwrap()), None).await;
    assert!(body.contains("Europe&#x2f;Paris"), "times in the firm's zone: {body}");
    let used = env.audit_events().into_iter().find(|e| e["action"] == "setup.link_used").expect("audited");
    assert_eq!(used["details"]["firm_profile"]["firm_name"], "Cabinet Durand & Associés");
    assert_eq!(used["details"]["firm_profile"]["timezone"], "Europe/Paris");
    assert!(env.audit_ok());

    // An insider writes bytes that are not text into the row: left out at start, not fatal.
    if !env.on_postgres() {
        sqlx::any::install_default_drivers();
        let db = sqlx::AnyPool::connect(&env.database_url()).await.unwrap();
        sqlx::query("UPDATE firm_profile SET client_contact = X'fffe41', brand_color = '#ffff00'")
            .execute(&db)
            .await
            .unwrap();
        db.close().await;
        env.restart_server();
        let (status, body) = page(&format!("{}/p/{token}", env.base()), None).await;
        assert_eq!(status, 200);
        assert!(body.contains("Cabinet Durand &amp; Associés") && !body.contains("Maître Durand"), "{body}");
        assert!(!body.contains("/static/brand.css"), "the too-light colour is left out");
    }
}

/// After setup, an administrator changes the brand on the Firm page: at once for clients,
/// audited before and after, a bad value changing nothing, an empty field going back to its
/// default, the logo replaced or removed; members who are not administrators cannot.
#[tokio::test]
async fn the_firm_page_changes_the_brand_after_setup() {
    let env = Env::start();
    let base = env.base();
    let (_, token) = env.create_portal(&[]);
    let admin = client();
    sign_in(&env, &admin, "amelie@firm.example", "admin").await;
    let page = admin.get(format!("{base}/settings/firm")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"firm_name\"") && html.contains("value=\"Courier\""), "{html}");
    let csrf = hidden_field(&html, "csrf_token");
    let save = |fields: Vec<(&'static str, String)>, logo: Option<Vec<u8>>| {
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in fields {
            form = form.text(name, value);
        }
        if let Some(bytes) = logo {
            form = form.part("firm_logo", reqwest::multipart::Part::bytes(bytes).file_name("logo.png"));
        }
        admin.post(format!("{base}/settings/firm")).multipart(form).send()
    };
    let fields = |name: &str, colour: &str| {
        vec![
            ("csrf_token", csrf.clone()),
            ("firm_name", name.to_owned()),
            ("brand_color", colour.to_owned()),
            ("client_contact", "Maître Martin, 01 23 45 67 89".to_owned()),
            ("timezone", "Europe/Paris".to_owned()),
        ]
    };
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &[9u8; 500]].concat();

    let r = save(fields("Cabinet Martin", "#1f4fa3"), Some(png.clone())).await.unwrap();
    assert_eq!(r.status(), 303);
    let client_page = client().get(format!("{base}/p/{token}")).send().await.unwrap().text().await.unwrap();
    assert!(client_page.contains("Cabinet Martin") && client_page.contains("Maître Martin"), "{client_page}");
    let logo = client().get(format!("{base}/static/brand-logo")).send().await.unwrap();
    assert_eq!(logo.headers()["cache-control"], "no-cache", "a changed logo is not kept stale");
    let etag = logo.headers()["etag"].clone();
    assert_eq!(logo.bytes().await.unwrap().as_ref(), png.as_slice());
    let again = client().get(format!("{base}/static/brand-logo")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let changes: Vec<_> = env.audit_events().into_iter().filter(|e| e["action"] == "firm.profile_change").collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["details"]["before"]["firm_name"], serde_json::Value::Null);
    assert_eq!(changes[0]["details"]["after"]["firm_name"], "Cabinet Martin");
    assert_eq!(changes[0]["details"]["after"]["logo"]["bytes"], png.len());

    // A colour too light for white text: refused, said, and nothing changes (not the name
    // given with it either).
    let r = save(fields("Autre Cabinet", "#ffff00"), None).await.unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("too light") && html.contains("value=\"Autre Cabinet\""), "what was typed comes back");
    let client_page = client().get(format!("{base}/p/{token}")).send().await.unwrap().text().await.unwrap();
    assert!(client_page.contains("Cabinet Martin") && !client_page.contains("Autre Cabinet"));
    // A forged form and a member who is not an administrator change nothing either.
    let mut forged = fields("Forged", "#1f4fa3");
    forged[0].1 = "forged".into();
    assert_eq!(save(forged, None).await.unwrap().status(), 403);
    let attorney = client();
    sign_in(&env, &attorney, "bruno@firm.example", "attorney").await;
    assert_eq!(attorney.get(format!("{base}/settings/firm")).send().await.unwrap().status(), 403);
    let attorney_page = attorney.get(format!("{base}/account")).send().await.unwrap().text().await.unwrap();
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", hidden_field(&attorney_page, "csrf_token"))
        .text("firm_name", "Hijacked");
    let r = attorney.post(format!("{base}/settings/firm")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(env.audit_events().iter().filter(|e| e["action"] == "firm.profile_change").count(), 1);

    // The logo removed, the name emptied: back to the defaults, and still so after a restart.
    let mut cleared = fields("", "");
    cleared.push(("remove_logo", "on".into()));
    assert_eq!(save(cleared, None).await.unwrap().status(), 303);
    assert_eq!(client().get(format!("{base}/static/brand-logo")).send().await.unwrap().status(), 404);
    let mut env = env;
    env.restart_server();
    let base = env.base();
    let client_page = client().get(format!("{base}/p/{token}")).send().await.unwrap().text().await.unwrap();
    assert!(!client_page.contains("Cabinet Martin") && client_page.contains("Maître Martin"), "{client_page}");
    assert!(env.audit_ok());
}

/// A setting the configuration gives is neither checked nor changed by the Firm page: what is
/// typed for it is ignored, and the stored value stays for the day the line is removed.
#[tokio::test]
async fn the_firm_page_leaves_what_the_configuration_fixes() {
    let env = Env::start_with_config("client_contact = \"From the configuration\"\n");
    let base = env.base();
    let admin = client();
    sign_in(&env, &admin, "amelie@firm.example", "admin").await;
    let html = admin.get(format!("{base}/settings/firm")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("client_contact</code>") || html.contains("client_contact."), "{html}");
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", hidden_field(&html, "csrf_token"))
        .text("firm_name", "Cabinet Roux")
        .text("client_contact", "x".repeat(400));
    let r = admin.post(format!("{base}/settings/firm")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "a value typed for a fixed setting is not checked");
    let (_, token) = env.create_portal(&[]);
    let page = client().get(format!("{base}/p/{token}")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Cabinet Roux") && page.contains("From the configuration"), "{page}");
    let change = env.audit_events().into_iter().find(|e| e["action"] == "firm.profile_change").unwrap();
    assert_eq!(change["details"]["after"]["client_contact"], serde_json::Value::Null);
}
