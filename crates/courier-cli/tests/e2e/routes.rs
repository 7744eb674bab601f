//! Rules that hold for every staff route: anonymous requests are refused, state-changing
//! requests without the session's CSRF token get 403 and change nothing, the session id after
//! sign-in is not the one from before it, and forwarded headers count only from a trusted proxy.

use crate::harness::{Env, PASSWORD, client, hidden_field, sign_in, totp_code};

/// Every staff page and action, with ids that exist where it matters.
fn staff_routes(portal: &str, doc: &str, matter: &str) -> (Vec<String>, Vec<String>) {
    let gets = [
        "/".to_owned(),
        "/portals".into(),
        format!("/portals/{portal}"),
        format!("/portals/{portal}/download.zip"),
        format!("/documents/{doc}/download"),
        "/matters".into(),
        format!("/matters/{matter}"),
        "/shares/some-share".into(),
        "/access-review".into(),
        "/alerts".into(),
        "/notifications".into(),
        "/account".into(),
        "/users".into(),
        "/settings/firm".into(),
    ];
    let posts = [
        "/logout".to_owned(),
        "/portals".into(),
        format!("/portals/{portal}/disable"),
        format!("/portals/{portal}/delete"),
        format!("/documents/{doc}/delete"),
        format!("/documents/{doc}/release"),
        "/matters".into(),
        format!("/matters/{matter}/shares"),
        format!("/matters/{matter}/archive"),
        format!("/matters/{matter}/add-member"),
        "/shares/some-share/revoke".into(),
        "/account/recovery-codes".into(),
        "/account/password".into(),
        "/account/language".into(),
        "/account/sessions/abcd/end".into(),
        "/account/tokens".into(),
        "/account/tokens/some-token/revoke".into(),
        "/account/passkeys/some-key/remove".into(),
        "/users/invite".into(),
        "/alerts/lockdown".into(),
        "/notifications/read".into(),
        "/settings/firm".into(),
        "/users/some-user/disable".into(),
        "/users/some-user/reset-mfa".into(),
    ];
    (gets.into(), posts.into())
}

/// Every field any staff form needs, so that only the CSRF token decides.
fn form(token: &str) -> Vec<(&'static str, String)> {
    let mut f: Vec<(&str, String)> = [
        ("label", "x"),
        ("email", "x@y.example"),
        ("role", "attorney"),
        ("current", "x"),
        ("password", "x"),
        ("password_again", "x"),
        ("name", "x"),
        ("reason", "x"),
        ("recipient", "x"),
        ("user", "x@y.example"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    f.push(("csrf_token", token.to_owned()));
    f
}

/// Events in the trail, leaving out the operator's own `audit export` reads (this count makes one).
fn event_count(env: &Env) -> usize {
    env.audit_events().iter().filter(|e| e["action"] != "audit.export").count()
}

#[tokio::test]
async fn every_staff_route_refuses_anonymous_and_csrf_less_requests() {
    let env = Env::start();
    let (portal, link) = env.create_portal(&[]);
    let r = crate::harness::upload(env.base(), &link, &[("a.pdf", b"%PDF-1.4 a\n%%EOF\n")]).await;
    assert_eq!(r.status(), 201);
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    let matter =
        env.cli_json(&["matter", "create", "--name", "Routes", "--json"], None)["id"].as_str().unwrap().to_owned();
    let (gets, posts) = staff_routes(&portal, &doc, &matter);

    let before = event_count(&env);
    let anonymous = client();
    for path in &gets {
        let r = anonymous.get(format!("{}{path}", env.base())).send().await.unwrap();
        assert_eq!(r.status(), 303, "GET {path}");
        assert_eq!(r.headers()["location"], "/login", "GET {path}");
    }
    for path in &posts {
        let r = anonymous.post(format!("{}{path}", env.base())).form(&form("x")).send().await.unwrap();
        assert_eq!(r.status(), 303, "POST {path}");
        assert_eq!(r.headers()["location"], "/login", "POST {path}");
    }
    // The JSON ceremonies answer 401.
    for path in ["/account/passkeys/start", "/account/passkeys/finish", "/login/passkey/start"] {
        let r = anonymous.post(format!("{}{path}", env.base())).json(&serde_json::json!({})).send().await.unwrap();
        assert!(matches!(r.status().as_u16(), 401 | 422), "POST {path}: {}", r.status());
    }
    for path in ["/api/v1/me", "/api/v1/portals", "/api/v1/matters", &format!("/api/v1/documents/{doc}/content")] {
        assert_eq!(anonymous.get(format!("{}{path}", env.base())).send().await.unwrap().status(), 401, "{path}");
    }
    assert_eq!(event_count(&env), before, "anonymous requests changed nothing");

    // Signed in as an admin, every state-changing form without the right token is 403.
    let admin = client();
    let (csrf, _) = sign_in(&env, &admin, "root@firm.example", "admin").await;
    let before = event_count(&env);
    for path in &posts {
        for token in ["", "wrong", &csrf[..csrf.len() - 1]] {
            let r = admin.post(format!("{}{path}", env.base())).form(&form(token)).send().await.unwrap();
            assert_eq!(r.status(), 403, "POST {path} with {token:?}");
        }
    }
    // The JSON ceremonies take it in a header.
    let body = serde_json::json!({ "password": PASSWORD });
    let r = admin.post(format!("{}/account/passkeys/start", env.base())).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 403);
    // A form from another site (with the right token, even) is refused by its Origin.
    let r = admin
        .post(format!("{}/portals/{portal}/disable", env.base()))
        .header("origin", "https://evil.example")
        .form(&form(&csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(event_count(&env), before, "nothing was done");
    assert_eq!(env.docs(Some(&portal)).len(), 1);
    let portals = env.cli_json(&["portal", "list", "--json"], None);
    assert_eq!(portals[0]["enabled"], true);
    assert_eq!(admin.get(format!("{}/portals", env.base())).send().await.unwrap().status(), 200, "still signed in");
}

fn session_cookie(r: &reqwest::Response) -> String {
    let c = r.headers()["set-cookie"].to_str().unwrap();
    c.strip_prefix("courier_session=").unwrap().split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_one_is_dead() {
    let env = Env::start();
    let user = env.create_user("ned@firm.example", "attorney");
    // Cookies by hand, to see each id.
    let _ = client(); // installs the TLS crypto provider every reqwest client needs
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap();
    let pre = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf_token");
    let r = c
        .post(format!("{}/login", env.base()))
        .header("cookie", &pre)
        .form(&[("email", "ned@firm.example"), ("password", PASSWORD), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    let pending = session_cookie(&r);
    let page = c
        .get(format!("{}/login/mfa", env.base()))
        .header("cookie", format!("courier_session={pending}"))
        .send()
        .await
        .unwrap();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf_token");
    let code = totp_code(user["totp_secret"].as_str().unwrap());
    let r = c
        .post(format!("{}/login/mfa", env.base()))
        .header("cookie", format!("courier_session={pending}"))
        .form(&[("code", code.as_str()), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let full = session_cookie(&r);
    assert_ne!(pending, full, "a fresh id after the second factor");
    assert_eq!(full.len(), 43, "256 bits, base64url");
    let with = |id: &str| {
        let c = c.clone();
        let url = format!("{}/portals", env.base());
        let cookie = format!("courier_session={id}");
        async move { c.get(url).header("cookie", cookie).send().await.unwrap().status() }
    };
    assert_eq!(with(&full).await, 200);
    assert_eq!(with(&pending).await, 303, "the pre-sign-in id no longer works");
}

#[tokio::test]
async fn forwarded_headers_count_only_from_the_trusted_proxy() {
    let proxied = Env::start_with_config("trusted_proxy = [\"127.0.0.1\"]\n");
    let direct = Env::start();
    for (env, trusted) in [(&proxied, true), (&direct, false)] {
        let c = client();
        let r = c.get(format!("{}/healthz", env.base())).header("x-forwarded-proto", "https").send().await.unwrap();
        assert_eq!(r.headers().contains_key("strict-transport-security"), trusted, "HSTS, trusted: {trusted}");
        let r = c.get(format!("{}/healthz", env.base())).send().await.unwrap();
        assert!(!r.headers().contains_key("strict-transport-security"), "no HSTS for plain HTTP");

        let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
        let csrf = hidden_field(&page, "csrf_token");
        c.post(format!("{}/login", env.base()))
            .header("x-forwarded-for", "203.0.113.9")
            .form(&[("email", "who@firm.example"), ("password", "not it at all"), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        let failed = env.audit_events().into_iter().find(|e| e["action"] == "login.failed").expect("audited");
        let expected = if trusted { "203.0.113.9" } else { "127.0.0.1" };
        assert_eq!(failed["ip"], expected, "trusted: {trusted}");
    }
}
