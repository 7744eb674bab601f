//! WebAuthn passkeys end to end with webauthn-authenticator-rs's software passkey (a real
//! authenticator implementation: it makes a P-256 key and signs the challenges), talking to
//! the real server over HTTP: register several, name and remove them, use one as the second
//! factor, and the passwordless sign-in when the firm turns it on.

use serde_json::{Value, json};
use webauthn_authenticator_rs::prelude::{Url, WebauthnAuthenticator};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::harness::{Env, PASSWORD, client, csrf_of, hidden_field, password_step, sign_in};

/// The origin the authenticator reports: the public URL (a host name, as WebAuthn requires).
fn origin(env: &Env) -> Url {
    let port = env.base().rsplit(':').next().unwrap();
    Url::parse(&format!("http://localhost:{port}")).unwrap()
}

async fn post_json(c: &reqwest::Client, url: String, csrf: &str, body: Value) -> reqwest::Response {
    c.post(url).header("x-csrf-token", csrf).json(&body).send().await.unwrap()
}

/// Registers a passkey named `name` from `key` for the user signed in on `c`.
async fn register(env: &Env, c: &reqwest::Client, key: &mut SoftPasskey, name: &str) -> reqwest::Response {
    let csrf = csrf_of(c, env.base()).await;
    let r =
        post_json(c, format!("{}/account/passkeys/start", env.base()), &csrf, json!({ "password": PASSWORD })).await;
    assert_eq!(r.status(), 200);
    let options = r.json().await.unwrap();
    let credential = key.do_registration(origin(env), options).expect("the authenticator registers");
    let body = json!({ "name": name, "credential": credential });
    post_json(c, format!("{}/account/passkeys/finish", env.base()), &csrf, body).await
}

/// After the password step on `c`, answers with a passkey assertion from `key`.
async fn passkey_second_factor(env: &Env, c: &reqwest::Client, key: &mut SoftPasskey) -> reqwest::Response {
    let page = c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Use a passkey"), "the code page offers the passkey");
    let csrf = hidden_field(&page, "csrf_token");
    let r = post_json(c, format!("{}/login/passkey/start", env.base()), &csrf, json!({})).await;
    assert_eq!(r.status(), 200);
    let options = r.json().await.unwrap();
    let credential = key.do_authentication(origin(env), options).expect("the authenticator signs");
    post_json(c, format!("{}/login/passkey/finish", env.base()), &csrf, json!({ "credential": credential })).await
}

/// How many passkeys the account page lists (each has a remove form).
fn passkeys_on_account(page: &str) -> usize {
    page.matches("/remove\"").count()
}

#[tokio::test]
async fn passkeys_register_sign_in_as_second_factor_and_can_be_removed() {
    let env = Env::start_on_localhost("");
    let c = client();
    sign_in(&env, &c, "kim@firm.example", "attorney").await;
    let mut laptop = SoftPasskey::new(true);
    let mut phone = SoftPasskey::new(true);

    // Without the CSRF header nothing starts; then two passkeys, named.
    let r = c.post(format!("{}/account/passkeys/start", env.base())).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = register(&env, &c, &mut laptop, "Work laptop").await;
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["name"], "Work laptop");
    assert_eq!(register(&env, &c, &mut phone, "Phone").await.status(), 201);
    let page = c.get(format!("{}/account", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Work laptop") && page.contains("Phone"));
    let row = env.cli_json(&["user", "list", "--json"], None);
    assert_eq!(row[0]["mfa"], json!(["totp", "passkey"]));

    // A finish without a started ceremony, or a replayed one, is refused.
    let csrf = csrf_of(&c, env.base()).await;
    // Without the password again, nothing starts (ASVS 7.5.1).
    let start = format!("{}/account/passkeys/start", env.base());
    assert_eq!(post_json(&c, start.clone(), &csrf, json!({ "password": "nope" })).await.status(), 400);
    let options: Value = post_json(&c, start, &csrf, json!({ "password": PASSWORD })).await.json().await.unwrap();
    let mut other = SoftPasskey::new(true);
    let credential = other.do_registration(origin(&env), serde_json::from_value(options).unwrap()).unwrap();
    let body = json!({ "name": "Tablet", "credential": credential });
    assert_eq!(
        post_json(&c, format!("{}/account/passkeys/finish", env.base()), &csrf, body.clone()).await.status(),
        201
    );
    assert_eq!(post_json(&c, format!("{}/account/passkeys/finish", env.base()), &csrf, body).await.status(), 400);

    // The second factor with a passkey: a fresh session, audited with the method.
    let c2 = client();
    password_step(&c2, env.base(), "kim@firm.example", PASSWORD).await;
    let r = passkey_second_factor(&env, &c2, &mut phone).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("courier_session="));
    assert_eq!(r.json::<Value>().await.unwrap()["redirect"], "/");
    assert_eq!(c2.get(format!("{}/portals", env.base())).send().await.unwrap().status(), 200);
    let all = env.audit_events();
    assert!(all.iter().any(|e| e["action"] == "login.success" && e["details"]["method"] == "passkey"));
    assert_eq!(all.iter().filter(|e| e["action"] == "mfa.passkey_added").count(), 3);

    // A key that is not registered is refused and counted as a failure.
    let c3 = client();
    password_step(&c3, env.base(), "kim@firm.example", PASSWORD).await;
    let mut stranger = SoftPasskey::new(true);
    let page = c3.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let options = post_json(&c3, format!("{}/login/passkey/start", env.base()), &csrf, json!({})).await;
    let options: Value = options.json().await.unwrap();
    // The stranger cannot answer for a credential it does not hold.
    assert!(stranger.do_authentication(origin(&env), serde_json::from_value(options).unwrap()).is_err());
    let r = post_json(
        &c3,
        format!("{}/login/passkey/finish", env.base()),
        &csrf,
        json!({ "credential": {
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": { "authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": null },
        "extensions": {} } }),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert!(env.audit_events().iter().any(|e| e["action"] == "login.failed" && e["details"]["step"] == "passkey"));

    // Removing a passkey: it no longer signs in; the user's other sessions end.
    let page = c2.get(format!("{}/account", env.base())).send().await.unwrap().text().await.unwrap();
    let at = page.find("Phone").unwrap();
    let id = page[at..].split("/account/passkeys/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c2
        .post(format!("{}/account/passkeys/{id}/remove", env.base()))
        .form(&[("csrf_token", csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = c2.get(format!("{}/account", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains(">Phone<") && page.contains("Work laptop"));
    assert_eq!(passkeys_on_account(&page), 2);
    let c4 = client();
    password_step(&c4, env.base(), "kim@firm.example", PASSWORD).await;
    let page = c4.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let options: Value =
        post_json(&c4, format!("{}/login/passkey/start", env.base()), &csrf, json!({})).await.json().await.unwrap();
    assert!(phone.do_authentication(origin(&env), serde_json::from_value(options).unwrap()).is_err(), "removed");
    // An MFA reset removes the passkeys too.
    assert!(env.cli(&["user", "reset-mfa", "--email", "kim@firm.example"], None).0);
    assert_eq!(env.cli_json(&["user", "list", "--json"], None)[0]["mfa"], json!([]));
}

/// Starts a passwordless sign-in on a fresh client: the client, its CSRF token, the challenge.
async fn start_passwordless(env: &Env, email: &str) -> (reqwest::Client, String, Value) {
    let c = client();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Sign in with a passkey"));
    let csrf = hidden_field(&page, "csrf_token");
    let r = post_json(&c, format!("{}/login/passwordless/start", env.base()), &csrf, json!({ "email": email })).await;
    assert_eq!(r.status(), 200);
    let options: Value = r.json().await.unwrap();
    (c, csrf, options)
}

#[tokio::test]
async fn passwordless_sign_in_with_a_passkey_where_the_firm_allows_it() {
    let env = Env::start_on_localhost("passwordless_passkeys = true\n");
    let c = client();
    sign_in(&env, &c, "lou@firm.example", "attorney").await;
    let mut key = SoftPasskey::new(true);
    assert_eq!(register(&env, &c, &mut key, "Laptop").await.status(), 201);

    let (fresh, csrf, options) = start_passwordless(&env, "lou@firm.example").await;
    let credential = key.do_authentication(origin(&env), serde_json::from_value(options.clone()).unwrap()).unwrap();
    let r = post_json(
        &fresh,
        format!("{}/login/passwordless/finish", env.base()),
        &csrf,
        json!({ "credential": credential }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(fresh.get(format!("{}/portals", env.base())).send().await.unwrap().status(), 200, "signed in");
    assert!(env.audit_events().iter().any(|e| e["action"] == "login.success" && e["details"]["passwordless"] == true));

    // An unknown e-mail gets a challenge of the same shape (one credential, same fields).
    let (_, _, decoy) = start_passwordless(&env, "nobody@firm.example").await;
    let shape = |v: &Value| {
        let mut keys: Vec<String> = v["publicKey"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        (keys, v["publicKey"]["allowCredentials"].as_array().unwrap().len(), v.get("mediation").cloned())
    };
    assert_eq!(shape(&decoy), shape(&options));
    let (_, _, decoy_again) = start_passwordless(&env, "nobody@firm.example").await;
    assert_eq!(decoy["publicKey"]["allowCredentials"], decoy_again["publicKey"]["allowCredentials"]);
}

#[tokio::test]
async fn passwordless_sign_in_is_off_by_default() {
    let env = Env::start_on_localhost("");
    let c = client();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Sign in with a passkey"));
    let csrf = hidden_field(&page, "csrf_token");
    let r = post_json(&c, format!("{}/login/passwordless/start", env.base()), &csrf, json!({ "email": "a@b.example" }))
        .await;
    assert_eq!(r.status(), 403);
}

/// The authenticator shows the firm's name as the setup page set it, without a restart (it
/// was the name at start, "Courier", until the next one).
#[tokio::test]
async fn the_passkey_prompt_names_the_firm_as_the_setup_page_set_it() {
    let env = Env::start_on_localhost("");
    let link = env.server.as_ref().unwrap().setup_link.clone().expect("setup link printed at first start");
    let setup = client();
    let form = setup.get(&link).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&form, "csrf_token");
    let r = setup
        .post(&link)
        .form(&[
            ("email", "admin@firm.example"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("csrf_token", csrf.as_str()),
            ("firm_name", "Cabinet Durand"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = client();
    sign_in(&env, &c, "kim@firm.example", "attorney").await;
    let csrf = csrf_of(&c, env.base()).await;
    let start = format!("{}/account/passkeys/start", env.base());
    let options: Value = post_json(&c, start, &csrf, json!({ "password": PASSWORD })).await.json().await.unwrap();
    assert_eq!(options["publicKey"]["rp"]["name"], "Cabinet Durand", "{options}");
}
