//! Staff sign-in (password then TOTP), CSRF, the staff pages, and the first-admin setup link.

use crate::harness::{
    Env, PASSWORD, client, hidden_field, password_step, second_factor, sign_in_at, totp_code, upload,
};

async fn sign_in(env: &Env, c: &reqwest::Client, email: &str, totp_secret: &str) -> reqwest::Response {
    sign_in_at(c, env.base(), env.base(), email, PASSWORD, totp_secret).await
}

#[tokio::test]
async fn staff_sign_in_manage_portal_download_and_sign_out() {
    let env = Env::start();
    let user = env.create_user("ada@firm.example", "attorney");
    let secret = user["totp_secret"].as_str().unwrap();
    let c = client();
    assert_eq!(c.get(format!("{}/portals", env.base())).send().await.unwrap().status(), 303, "pages need a session");

    let done = sign_in(&env, &c, "ada@firm.example", secret).await;
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], "/");
    let cookie = done.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("courier_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
    );

    let page = c.get(format!("{}/portals", env.base())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf_token");

    // Forms without the session's CSRF token, or from another origin, change nothing.
    let forged = c
        .post(format!("{}/portals", env.base()))
        .form(&[("label", "Forged"), ("csrf_token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let cross = c
        .post(format!("{}/portals", env.base()))
        .header("Origin", "https://evil.example")
        .form(&[("label", "Cross"), ("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    assert!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().is_empty());

    let created = c
        .post(format!("{}/portals", env.base()))
        .form(&[
            ("label", "Estate of H."),
            ("expires_in", "7d"),
            ("max_file_size", "10MiB"),
            ("csrf_token", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // minijinja escapes '/' in attribute values; a browser reads it back as '/'.
    let html = created.text().await.unwrap().replace("&#x2f;", "/");
    let url_start = html.find(&format!("{}/p/", env.base())).expect("link shown once");
    let url: String = html[url_start..].chars().take_while(|c| *c != '"').collect();
    let token = url.rsplit('/').next().unwrap().to_owned();
    assert_eq!(upload(env.base(), &token, &[("will.pdf", b"%PDF-1.7 last will")]).await.status(), 201);

    let portals = env.cli_json(&["portal", "list", "--json"], None);
    let portal_id = portals[0]["id"].as_str().unwrap();
    assert!(portals[0]["created_by"].as_str().unwrap().starts_with("staff:"));
    let page = c.get(format!("{}/portals/{portal_id}", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("will.pdf") && page.contains("application&#x2f;pdf"));
    let doc_id = env.docs(None)[0]["id"].as_str().unwrap().to_owned();
    let dl = c.get(format!("{}/documents/{doc_id}/download", env.base())).send().await.unwrap();
    assert_eq!(dl.status(), 200);
    assert!(dl.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename=\"will.pdf\""));
    assert_eq!(dl.bytes().await.unwrap().as_ref(), b"%PDF-1.7 last will");

    // Download all: one ZIP with unique names and the exact bytes (checked by Python's zipfile).
    assert_eq!(upload(env.base(), &token, &[("will.pdf", b"%PDF-1.7 codicil")]).await.status(), 201);
    let zip = c.get(format!("{}/portals/{portal_id}/download.zip", env.base())).send().await.unwrap();
    assert_eq!(zip.status(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let path = env.dir.path().join("all.zip");
    std::fs::write(&path, zip.bytes().await.unwrap()).unwrap();
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; \
                print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    let entries: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let mut contents: Vec<&str> = entries.as_object().unwrap().values().map(|v| v.as_str().unwrap()).collect();
    contents.sort();
    assert_eq!(contents, ["%PDF-1.7 codicil", "%PDF-1.7 last will"]);
    assert!(entries.get("will.pdf").is_some() && entries.get("will (2).pdf").is_some(), "{entries}");

    let r = c
        .post(format!("{}/portals/{portal_id}/disable", env.base()))
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(env.cli_json(&["portal", "show", portal_id, "--json"], None)["status"], "disabled");

    let r = c.post(format!("{}/logout", env.base())).form(&[("csrf_token", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(c.get(format!("{}/portals", env.base())).send().await.unwrap().status(), 303);

    let actions: Vec<String> = env.audit_events().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    for a in ["login.password_ok", "login.success", "portal.create", "document.download", "portal.disable", "logout"] {
        assert!(actions.iter().any(|x| x == a), "{a} missing from {actions:?}");
    }
    assert!(env.audit_ok());
}

#[tokio::test]
async fn wrong_password_unknown_email_and_replayed_codes_are_refused() {
    let env = Env::start();
    let user = env.create_user("bo@firm.example", "paralegal");
    let secret = user["totp_secret"].as_str().unwrap();
    let c = client();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let mut bodies = Vec::new();
    for (email, password) in [("bo@firm.example", "wrong password entirely"), ("nobody@firm.example", PASSWORD)] {
        let r = c
            .post(format!("{}/login", env.base()))
            .form(&[("email", email), ("password", password), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        bodies.push(r.text().await.unwrap().replace(&hidden_field(&page, "csrf_token"), ""));
    }
    assert!(bodies[0].contains("not right"));
    assert_eq!(bodies[0], bodies[1], "an unknown email is answered differently from a wrong password");

    // One code, used twice: the second use is refused (even if the 30-second step turned in
    // between, the code's step is not later than the one used).
    let code = totp_code(secret);
    password_step(&c, env.base(), "bo@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&c, env.base(), &code).await.status(), 303);
    let c2 = client();
    password_step(&c2, env.base(), "bo@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&c2, env.base(), &code).await.status(), 401);
    let failures = env.audit_events().iter().filter(|e| e["action"] == "login.failed").count();
    assert_eq!(failures, 3);
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let env = Env::start();
    let link = env.server.as_ref().unwrap().setup_link.clone().expect("setup link printed at first start");
    let c = client();
    let page = c.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf_token");
    let short = c
        .post(&link)
        .form(&[
            ("email", "admin@firm.example"),
            ("password", "short"),
            ("password_again", "short"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    // Long enough but guessable: refused, and the form says why.
    let guessable = c
        .post(&link)
        .form(&[
            ("email", "admin@firm.example"),
            ("password", "Password12345!"),
            ("password_again", "Password12345!"),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(guessable.status(), 400);
    assert!(guessable.text().await.unwrap().contains("too easy to guess"));
    let (ok, _, err) = env.cli(
        &["user", "create", "--email", "x@firm.example", "--role", "paralegal", "--password-stdin", "--json"],
        Some("qwertyuiop123456\n"),
    );
    assert!(!ok && err.contains("too easy to guess"), "{err}");
    let done = c
        .post(&link)
        .form(&[
            ("email", "admin@firm.example"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("<svg") && html.contains("enter this key"));
    assert_eq!(c.get(&link).send().await.unwrap().status(), 404, "the link works once");
    let again = c
        .post(&link)
        .form(&[
            ("email", "second@firm.example"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // With an admin in place, a restart prints no new setup link.
    let mut env = env;
    env.restart_server();
    assert!(env.server.as_ref().unwrap().setup_link.is_none());
}
