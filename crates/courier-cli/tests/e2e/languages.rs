//! The staff pages in French and English: the browser's language until the member chooses one
//! on their account page; the choice is theirs alone, audited, and survives a new session. Over
//! HTTP against the real binary.

use sqlx::any::AnyPoolOptions;

use crate::harness::{Env, PASSWORD, client, csrf_of, password_step, second_factor, sign_in, totp_code};

async fn page(c: &reqwest::Client, url: String, accept_language: Option<&str>) -> (u16, String) {
    let mut req = c.get(url);
    if let Some(lang) = accept_language {
        req = req.header("accept-language", lang);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap().replace("&#x2f;", "/"))
}

fn is_french(html: &str) -> bool {
    html.contains("<html lang=\"fr\">") && html.contains("Se déconnecter") && !html.contains("Sign out")
}

fn is_english(html: &str) -> bool {
    html.contains("<html lang=\"en\">") && html.contains("Sign out") && !html.contains("Se déconnecter")
}

async fn choose(env: &Env, c: &reqwest::Client, language: &str) -> u16 {
    let csrf = csrf_of(c, env.base()).await;
    let r = c
        .post(format!("{}/account/language", env.base()))
        .form(&[("csrf_token", csrf.as_str()), ("language", language)])
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

#[tokio::test]
async fn staff_pages_follow_the_browser_until_the_member_chooses() {
    let env = Env::start();
    let c = client();
    sign_in(&env, &c, "amelie@firm.example", "admin").await;
    let base = env.base();

    // Every staff page an administrator reaches, in the browser's language.
    let pages = ["/portals", "/matters", "/holds", "/notifications", "/users", "/access-review", "/alerts", "/account"];
    for path in pages {
        let (status, html) = page(&c, format!("{base}{path}"), Some("fr-BE,fr;q=0.9,en;q=0.5")).await;
        assert_eq!(status, 200, "{path}");
        assert!(is_french(&html), "{path} is not in French: {html}");
        let (_, html) = page(&c, format!("{base}{path}"), None).await;
        assert!(is_english(&html), "{path} without Accept-Language is not in English");
    }

    // Chosen on the account page: French whatever the browser says, and audited.
    assert_eq!(choose(&env, &c, "fr").await, 303);
    let (_, html) = page(&c, format!("{base}/portals"), Some("en-GB")).await;
    assert!(is_french(&html), "the choice beats the browser");
    let (status, missing) = page(&c, format!("{base}/matters/no-such-matter"), Some("en")).await;
    assert_eq!(status, 404);
    assert!(missing.contains("<html lang=\"fr\">") && missing.contains("Il n’y a rien ici"), "{missing}");
    let (_, account) = page(&c, format!("{base}/account"), None).await;
    assert!(account.contains("<option value=\"fr\" selected"), "the account page shows the choice");
    let events: Vec<_> = env.audit_events().into_iter().filter(|e| e["action"] == "user.language").collect();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["details"]["before"], serde_json::Value::Null);
    assert_eq!(events[0]["details"]["after"], "fr");

    // Hostile or careless input: refused, and nothing changes.
    for bad in ["de", "fr-FR", "../../etc/passwd", "fr\nen", &"f".repeat(10_000)] {
        assert_eq!(choose(&env, &c, bad).await, 400, "{bad:?}");
    }
    let r = c
        .post(format!("{base}/account/language"))
        .form(&[("csrf_token", "forged"), ("language", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a forged form is refused");
    let (_, html) = page(&c, format!("{base}/portals"), Some("en")).await;
    assert!(is_french(&html), "refused changes left the choice alone");
    assert_eq!(choose(&env, &c, "fr").await, 303, "choosing the same again");
    assert_eq!(
        env.audit_events().iter().filter(|e| e["action"] == "user.language").count(),
        1,
        "no-ops are not recorded"
    );

    // The choice is the member's: a colleague's pages still follow their own browser.
    let other = client();
    sign_in(&env, &other, "bruno@firm.example", "attorney").await;
    let (_, html) = page(&other, format!("{base}/portals"), Some("en")).await;
    assert!(is_english(&html), "another member is not affected");

    // It survives signing out and in again, from the second-factor page on.
    let again = client();
    password_step(&again, base, "amelie@firm.example", PASSWORD).await;
    let (_, mfa) = page(&again, format!("{base}/login/mfa"), Some("en")).await;
    assert!(mfa.contains("<html lang=\"fr\">"), "the second-factor page knows the member: {mfa}");

    // Back to the browser's choice.
    assert_eq!(choose(&env, &c, "").await, 303);
    let (_, html) = page(&c, format!("{base}/portals"), Some("en")).await;
    assert!(is_english(&html));
    assert!(env.audit_ok());
}

#[tokio::test]
async fn sign_in_pages_speak_the_browser_language_and_errors_too() {
    let env = Env::start();
    let user = env.create_user("chloe@firm.example", "attorney");
    let base = env.base();
    let c = client();
    let (status, html) = page(&c, format!("{base}/login"), Some("fr")).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"fr\">") && !html.contains(">Sign in<"), "{html}");

    // A wrong password is said in French.
    let (_, login) = page(&c, format!("{base}/login"), Some("fr")).await;
    let csrf = crate::harness::hidden_field(&login, "csrf_token");
    let r = c
        .post(format!("{base}/login"))
        .header("accept-language", "fr")
        .form(&[("email", "chloe@firm.example"), ("password", "wrong password here"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("n’est pas correct"), "the refusal is in French");

    // And the whole way in works in French.
    password_step(&c, base, "chloe@firm.example", PASSWORD).await;
    let r = second_factor(&c, base, &totp_code(user["totp_secret"].as_str().unwrap())).await;
    assert_eq!(r.status(), 303);
}

/// An insider who writes a language this version does not know into the database locks
/// nobody out: the member's pages fall back to their browser's language.
#[tokio::test]
async fn an_unknown_stored_language_falls_back_to_the_browser() {
    let env = Env::start();
    let c = client();
    sign_in(&env, &c, "dora@firm.example", "attorney").await;
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new().max_connections(1).connect(&env.database_url()).await.unwrap();
    sqlx::query("UPDATE users SET language = 'xx-<script>' WHERE email = 'dora@firm.example'")
        .execute(&pool)
        .await
        .unwrap();
    let (status, html) = page(&c, format!("{}/portals", env.base()), Some("fr")).await;
    assert_eq!(status, 200);
    assert!(is_french(&html));
    // Not even a value of another type (SQLite keeps whatever it is given).
    if !env.on_postgres() {
        sqlx::query("UPDATE users SET language = x'6672' WHERE email = 'dora@firm.example'")
            .execute(&pool)
            .await
            .unwrap();
        let (status, _) = page(&c, format!("{}/portals", env.base()), Some("fr")).await;
        assert_eq!(status, 200, "a blob in the column");
        sqlx::query("UPDATE users SET language = 'xx' WHERE email = 'dora@firm.example'").execute(&pool).await.unwrap();
    }
    pool.close().await;
    let (_, html) = page(&c, format!("{}/account", env.base()), None).await;
    assert!(is_english(&html) && !html.contains("xx-<script>"));
}

/// A refusal the service gives (a passcode too short, a user that exists) is said in the
/// member's language on the page that shows it, and stays English for the API and the CLI.
#[tokio::test]
async fn service_refusals_are_said_in_the_members_language() {
    let env = Env::start();
    let c = client();
    sign_in(&env, &c, "elise@firm.example", "admin").await;
    let base = env.base();
    let create_portal = |c: reqwest::Client, csrf: String, fields: [(&'static str, &'static str); 2]| async move {
        let mut form = vec![("label", "Succession D."), ("csrf_token", csrf.as_str())];
        form.extend(fields);
        let r = c.post(format!("{base}/portals")).form(&form).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let short_passcode = [("passcode", "abc"), ("expires_in", "")];
    let bad_duration = [("passcode", ""), ("expires_in", "3 semaines")];
    let unknown_type = [("allowed_types", "pdf, mp3"), ("expires_in", "")];
    assert_eq!(choose(&env, &c, "fr").await, 303);
    for (fields, french, english) in [
        (short_passcode, "doit compter au moins 6 caractères", "a passcode needs at least"),
        (bad_duration, "n’est pas une durée", "is not a duration"),
        (unknown_type, "n’est pas un type de fichier que Courier connaît", "is not a file type"),
    ] {
        let (status, html) = create_portal(c.clone(), csrf_of(&c, base).await, fields).await;
        assert_eq!(status, 400);
        assert!(html.contains(french), "not said in French: {html}");
        assert!(!html.contains(english), "{html}");
    }

    assert_eq!(choose(&env, &c, "en").await, 303);
    for (fields, english) in [
        (short_passcode, "a passcode needs at least 6 characters"),
        (bad_duration, "not a duration (e.g. 30m, 12h, 7d): &quot;3 semaines&quot;"),
        (unknown_type, "unknown file type &quot;mp3&quot;"),
    ] {
        let (status, html) = create_portal(c.clone(), csrf_of(&c, base).await, fields).await;
        assert_eq!(status, 400);
        assert!(html.contains(english), "{html}");
    }

    // The CLI keeps the English text (scripts and logs read it).
    let (ok, _, err) = env.cli(
        &["user", "create", "--email", "elise@firm.example", "--role", "admin", "--password-stdin"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(!ok);
    assert!(err.contains("a user with this email exists"), "{err}");
    assert!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().is_empty());
}

/// The refusals a French-speaking member or client meets when things go wrong: an account
/// locked after failed sign-ins (with its time in the firm's zone), a link locked after wrong
/// passcodes, a password too easy to guess; and the retention rule written in words. English
/// keeps its own text.
#[tokio::test]
async fn locks_weak_passwords_and_retention_are_said_in_french() {
    let env =
        Env::start_with_config("login_delay_max_ms = 1\ntimezone = \"Europe/Paris\"\nrate_limit_per_minute = 100000\n");
    let base = env.base();
    env.create_user("ada@firm.example", "attorney");

    // A member's account, locked: the sign-in page says so in the browser's language.
    let attempt = |c: reqwest::Client, password: &'static str, lang: &'static str| async move {
        let page = c.get(format!("{base}/login")).header("accept-language", lang).send().await.unwrap();
        let csrf = crate::harness::hidden_field(&page.text().await.unwrap(), "csrf_token");
        let form = [("email", "ada@firm.example"), ("password", password), ("csrf_token", csrf.as_str())];
        let r = c.post(format!("{base}/login")).header("accept-language", lang).form(&form).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap().replace("&#x2f;", "/"))
    };
    let c = client();
    for _ in 0..10 {
        assert_eq!(attempt(c.clone(), "not the password!", "fr").await.0, 401);
    }
    let (status, html) = attempt(c.clone(), PASSWORD, "fr-BE,fr;q=0.9").await;
    assert_eq!(status, 429);
    assert!(html.contains("ce compte est bloqué jusqu’au 20") && html.contains("Europe/Paris"), "{html}");
    assert!(!html.contains("Too many failed sign-ins"), "{html}");
    let (_, html) = attempt(c.clone(), PASSWORD, "en").await;
    assert!(html.contains("Too many failed sign-ins: this account is locked until"), "{html}");
    assert!(html.contains("Europe/Paris"), "English tells the time in the firm's zone too: {html}");

    // A portal link, locked after wrong passcodes: its client page says so in French.
    let created = env.cli_json(
        &["portal", "create", "--label", "Verrou", "--language", "fr", "--passcode-stdin", "--json"],
        Some("horse-battery-9\n"),
    );
    let url = created["url"].as_str().unwrap().to_owned();
    let c = client();
    let mut last = (0, String::new());
    for _ in 0..11 {
        let r = c.post(format!("{url}/unlock")).form(&[("passcode", "wrong-guess")]).send().await.unwrap();
        last = (r.status().as_u16(), r.text().await.unwrap());
    }
    assert_eq!(last.0, 429);
    assert!(last.1.contains("<html lang=\"fr\">") && last.1.contains("ce lien est bloqué jusqu’au"), "{}", last.1);
    assert!(!last.1.contains("Too many wrong passcodes"), "{}", last.1);
    // A script asking for JSON gets the problem document, as for any other refusal.
    let r = c
        .post(format!("{url}/unlock"))
        .header("accept", "application/json")
        .form(&[("passcode", "wrong-guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["content-type"], "application/problem+json");

    // A broken upload to a French portal: said in French, without the parser's English.
    let (_, token) = env.create_portal(&["--language", "fr"]);
    let body = "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc";
    let r = client()
        .post(format!("{base}/p/{token}/files?lang=fr"))
        .header("content-type", "multipart/form-data; boundary=zz")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("L’envoi n’a pas pu être lu") && !html.contains("malformed"), "{html}");

    // A password too easy to guess, on the account page in French.
    let c = client();
    sign_in(&env, &c, "elise@firm.example", "admin").await;
    assert_eq!(choose(&env, &c, "fr").await, 303);
    let csrf = csrf_of(&c, base).await;
    let form = [("current", PASSWORD), ("password", "password1234"), ("password_again", "password1234")];
    let r = c
        .post(format!("{base}/account/password"))
        .form(&[form.as_slice(), &[("csrf_token", csrf.as_str())]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("ce mot de passe est trop facile à deviner"), "{html}");
    assert!(!html.contains("too easy to guess"), "{html}");
    let csrf = csrf_of(&c, base).await;
    let differ = [("current", PASSWORD), ("password", "a-long-new-pass-1"), ("password_again", "a-long-new-pass-2")];
    let r = c
        .post(format!("{base}/account/password"))
        .form(&[differ.as_slice(), &[("csrf_token", csrf.as_str())]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(!html.contains("differ"), "said in French: {html}");

    // The retention rule in words, in the member's language.
    let portal = created["id"].as_str().unwrap();
    let (_, html) = page(&c, format!("{base}/portals/{portal}"), None).await;
    assert!(html.contains("Les documents sont conservés 30 jours après leur dépôt"), "{html}");
    assert_eq!(choose(&env, &c, "en").await, 303);
    let (_, html) = page(&c, format!("{base}/portals/{portal}"), None).await;
    assert!(html.contains("Documents stay 30 days after upload"), "{html}");
}
