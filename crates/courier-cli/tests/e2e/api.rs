//! `/api/v1` with personal API tokens: scopes enforced on top of the user's own rights, tokens
//! shown once and stored hashed, revoked and disabled-user tokens refused, every use audited,
//! and the OpenAPI document. Expiry is in `courier-server/tests/clock.rs` (moved clock).

use serde_json::Value;

use crate::harness::{Env, client, csrf_of, sign_in, upload};

fn token(env: &Env, email: &str, scopes: &[&str]) -> Value {
    let mut args = vec!["token", "create", "--email", email, "--name", "DMS import", "--json"];
    for s in scopes {
        args.extend(["--scope", s]);
    }
    env.cli_json(&args, None)
}

struct Api<'a> {
    env: &'a Env,
    token: String,
}

impl Api<'_> {
    async fn get(&self, path: &str) -> reqwest::Response {
        client().get(format!("{}{path}", self.env.base())).bearer_auth(&self.token).send().await.unwrap()
    }

    async fn delete(&self, path: &str) -> reqwest::Response {
        client().delete(format!("{}{path}", self.env.base())).bearer_auth(&self.token).send().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        client().post(format!("{}{path}", self.env.base())).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }
}

#[tokio::test]
async fn tokens_are_scoped_and_act_within_their_users_rights() {
    let env = Env::start();
    env.create_user("ann@firm.example", "attorney");
    let (portal, token_value) = env.create_portal(&[]);
    let r = upload(env.base(), &token_value, &[("brief.pdf", b"%PDF-1.4 the brief\n%%EOF\n")]).await;
    assert_eq!(r.status(), 201);
    let doc = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();

    let read = token(&env, "ann@firm.example", &["documents:read", "portals:read"]);
    let secret = read["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("courier_pat_") && secret.len() == 12 + 43, "{secret}");
    let reader = Api { env: &env, token: secret.clone() };

    // No token, a malformed one and an unknown one: 401 with a Bearer challenge.
    for bad in [None, Some("nonsense"), Some("courier_pat_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] {
        let mut req = client().get(format!("{}/api/v1/me", env.base()));
        if let Some(b) = bad {
            req = req.bearer_auth(b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{bad:?}");
        assert!(r.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        assert!(r.headers()["content-type"].to_str().unwrap().contains("json"));
    }

    let me: Value = reader.get("/api/v1/me").await.json().await.unwrap();
    assert_eq!(me["email"], "ann@firm.example");
    assert_eq!(me["scopes"], serde_json::json!(["documents:read", "portals:read"]));
    let portals: Value = reader.get("/api/v1/portals").await.json().await.unwrap();
    assert!(portals.as_array().unwrap().iter().any(|p| p["id"] == portal.as_str()));
    let docs: Value = reader.get(&format!("/api/v1/portals/{portal}/documents")).await.json().await.unwrap();
    assert_eq!(docs[0]["id"], doc.as_str());
    let r = reader.get(&format!("/api/v1/documents/{doc}/content")).await;
    assert_eq!(r.status(), 200);
    let sha = r.headers()["x-content-sha256"].to_str().unwrap().to_owned();
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.4 the brief\n%%EOF\n");
    assert_eq!(sha, crate::harness::sha256_hex(b"%PDF-1.4 the brief\n%%EOF\n"));

    // Outside its scopes: 403 naming the scope, and nothing changes.
    let r = reader.delete(&format!("/api/v1/documents/{doc}")).await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("documents:write"));
    let r = reader.post("/api/v1/portals", serde_json::json!({ "label": "From a script" })).await;
    assert_eq!(r.status(), 403);
    assert_eq!(reader.get("/api/v1/matters").await.status(), 403);
    assert_eq!(env.docs(Some(&portal)).len(), 1);
    assert_eq!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().len(), 1);

    // documents:write alone cannot read, but deletes; portals:write opens portals.
    let writer = Api {
        env: &env,
        token: token(&env, "ann@firm.example", &["documents:write", "portals:write"])["token"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert_eq!(writer.get(&format!("/api/v1/documents/{doc}/content")).await.status(), 403);
    let r = writer.post("/api/v1/portals", serde_json::json!({ "label": "From a script", "expires_in": "7d" })).await;
    assert_eq!(r.status(), 201);
    let link: Value = r.json().await.unwrap();
    assert!(link["url"].as_str().unwrap().contains("/p/") && link["expires_at"].is_string());
    // The client page's language: a known one is kept, an unknown one refused (nothing made).
    let r = writer.post("/api/v1/portals", serde_json::json!({ "label": "En français", "language": "fr" })).await;
    assert_eq!(r.status(), 201);
    let fr: Value = r.json().await.unwrap();
    let listed = env.cli_json(&["portal", "list", "--json"], None);
    assert!(listed.as_array().unwrap().iter().any(|p| p["id"] == fr["id"] && p["language"] == "fr"), "{listed}");
    let before = listed.as_array().unwrap().len();
    let r = writer.post("/api/v1/portals", serde_json::json!({ "label": "X", "language": "klingon" })).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not a language"));
    assert_eq!(env.cli_json(&["portal", "list", "--json"], None).as_array().unwrap().len(), before);
    let r = writer.post(&format!("/api/v1/portals/{}/disable", link["id"].as_str().unwrap()), Value::Null).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["enabled"], false);
    assert_eq!(writer.delete(&format!("/api/v1/documents/{doc}")).await.status(), 204);
    assert!(env.docs(Some(&portal)).is_empty());

    // The user's own rights still apply: a paralegal's token with documents:write cannot
    // delete (the default policies keep deletion for attorneys).
    env.create_user("pam@firm.example", "paralegal");
    let r = upload(env.base(), &token_value, &[("more.pdf", b"%PDF-1.4 more\n%%EOF\n")]).await;
    assert_eq!(r.status(), 201);
    let doc2 = env.docs(Some(&portal))[0]["id"].as_str().unwrap().to_owned();
    let para = Api {
        env: &env,
        token: token(&env, "pam@firm.example", &["documents:write"])["token"].as_str().unwrap().to_owned(),
    };
    assert_eq!(para.delete(&format!("/api/v1/documents/{doc2}")).await.status(), 403);
    assert_eq!(env.docs(Some(&portal)).len(), 1);

    // A token is no session: the web UI does not take it.
    let r = client().get(format!("{}/portals", env.base())).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(r.status(), 303);

    // Shown once: lists and the trail never hold it; every use is audited with its route.
    let (_, listed, _) = env.cli(&["token", "list", "--json"], None);
    assert!(!listed.contains(&secret[12..]));
    let all = env.audit_events();
    assert!(!all.iter().any(|e| e.to_string().contains(&secret[12..])));
    let used: Vec<_> = all.iter().filter(|e| e["action"] == "api_token.used").collect();
    assert!(used.iter().any(|e| e["details"]["request"]["route"] == "/api/v1/portals/{id}/documents"));
    assert!(all.iter().any(|e| e["action"] == "access.denied" && e["details"]["policy"] == "api-token-scope"));
    let refused: Vec<_> = all.iter().filter(|e| e["action"] == "api_token.refused").collect();
    assert_eq!(refused.len(), 2, "malformed and unknown tokens (a missing one is not a token)");
}

#[tokio::test]
async fn revoked_tokens_and_tokens_of_disabled_users_are_refused() {
    let env = Env::start();
    env.create_user("boss@firm.example", "admin");
    env.create_user("ron@firm.example", "attorney");
    let made = token(&env, "ron@firm.example", &["portals:read"]);
    let api = Api { env: &env, token: made["token"].as_str().unwrap().to_owned() };
    assert_eq!(api.get("/api/v1/me").await.status(), 200);

    // A disabled user's token is refused at once; disabling also revokes it (review finding 6),
    // so enabling the account again does not bring it back.
    env.cli(&["user", "disable", "--email", "ron@firm.example"], None);
    assert_eq!(api.get("/api/v1/me").await.status(), 401);
    env.cli(&["user", "enable", "--email", "ron@firm.example"], None);
    assert_eq!(api.get("/api/v1/me").await.status(), 401);
    let made = token(&env, "ron@firm.example", &["portals:read"]);
    let api = Api { env: &env, token: made["token"].as_str().unwrap().to_owned() };
    assert_eq!(api.get("/api/v1/me").await.status(), 200);

    let (ok, _, err) = env.cli(&["token", "revoke", made["id"].as_str().unwrap()], None);
    assert!(ok, "{err}");
    assert_eq!(api.get("/api/v1/me").await.status(), 401);
    let (ok, _, err) = env.cli(&["token", "revoke", made["id"].as_str().unwrap()], None);
    assert!(!ok && err.contains("revoked already"), "{err}");
    let reasons: Vec<String> = env
        .audit_events()
        .into_iter()
        .filter(|e| e["action"] == "api_token.refused")
        .map(|e| e["details"]["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons, ["revoked", "revoked", "revoked"]);
    let listed = env.cli_json(&["token", "list", "--email", "ron@firm.example", "--json"], None);
    assert!(listed.as_array().unwrap().iter().all(|t| t["status"] == "revoked"), "{listed}");
    assert!(
        env.audit_events().iter().any(|e| e["action"] == "user.disable" && e["details"]["tokens_revoked"] == 1),
        "the disabling is audited with the tokens it revoked"
    );
    assert!(listed[0]["last_used_at"].is_string());

    // The access review shows every token.
    let review = env.cli_json(&["access", "review", "--json"], None);
    let ron = review["users"].as_array().unwrap().iter().find(|u| u["email"] == "ron@firm.example").unwrap().clone();
    assert_eq!(ron["api_tokens"][0]["scopes"], serde_json::json!(["portals:read"]));
    assert_eq!(ron["api_tokens"][0]["status"], "revoked");
}

#[tokio::test]
async fn people_make_and_revoke_their_own_tokens_in_the_web_ui() {
    let env = Env::start();
    let c = client();
    let (csrf, _) = sign_in(&env, &c, "web@firm.example", "attorney").await;
    let form = [("name", "Laptop script"), ("scope", "portals:read"), ("scope", "matters:read"), ("csrf_token", "x")];
    assert_eq!(c.post(format!("{}/account/tokens", env.base())).form(&form).send().await.unwrap().status(), 403);
    let form = [
        ("name", "Laptop script"),
        ("scope", "portals:read"),
        ("scope", "matters:read"),
        ("password", crate::harness::PASSWORD),
        ("csrf_token", &csrf),
    ];
    let r = c.post(format!("{}/account/tokens", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let page = r.text().await.unwrap();
    let start = page.find("courier_pat_").expect("token shown");
    let secret = page[start..start + 12 + 43].to_owned();
    let api = Api { env: &env, token: secret.clone() };
    assert_eq!(api.get("/api/v1/matters").await.status(), 200);
    let page = c.get(format!("{}/account", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Laptop script") && !page.contains(&secret), "listed, never shown again");

    // A bad scope is refused with a reason; a token cannot be made over the API.
    let form = [("name", "x"), ("scope", "users:admin"), ("password", crate::harness::PASSWORD), ("csrf_token", &csrf)];
    let r = c.post(format!("{}/account/tokens", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("unknown scope"));

    let id = env.cli_json(&["token", "list", "--json"], None)[0]["id"].as_str().unwrap().to_owned();
    let csrf = csrf_of(&c, env.base()).await;
    let r = c.post(format!("{}/account/tokens/{id}/revoke", env.base())).form(&[("csrf_token", &csrf)]).send().await;
    assert_eq!(r.unwrap().status(), 303);
    assert_eq!(api.get("/api/v1/matters").await.status(), 401);
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let env = Env::start();
    let r = client().get(format!("{}/api/v1/openapi.json", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/me", "/api/v1/portals", "/api/v1/portals/{id}/documents", "/api/v1/documents/{id}/content"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["DocumentView"]["properties"]["sha256"].is_object());
}

/// Second review of issue 13: changing one's own password, and signing out everywhere else,
/// are self-recovery too; the account's tokens go with them.
#[tokio::test]
async fn a_password_change_and_ending_other_sessions_revoke_the_users_tokens() {
    let env = Env::start();
    let c = client();
    let (csrf, _) = crate::harness::sign_in(&env, &c, "pat@firm.example", "attorney").await;
    let made = token(&env, "pat@firm.example", &["portals:read"]);
    let api = Api { env: &env, token: made["token"].as_str().unwrap().to_owned() };
    assert_eq!(api.get("/api/v1/me").await.status(), 200);
    let new = "quiet lantern orchard 77";
    let form =
        [("current", crate::harness::PASSWORD), ("password", new), ("password_again", new), ("csrf_token", &csrf)];
    assert_eq!(c.post(format!("{}/account/password", env.base())).form(&form).send().await.unwrap().status(), 303);
    assert_eq!(api.get("/api/v1/me").await.status(), 401, "a token survived the password change");

    let made = token(&env, "pat@firm.example", &["portals:read"]);
    let api = Api { env: &env, token: made["token"].as_str().unwrap().to_owned() };
    assert_eq!(api.get("/api/v1/me").await.status(), 200);
    let page = c.get(format!("{}/account", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = crate::harness::hidden_field(&page, "csrf_token");
    let form = [("csrf_token", csrf.as_str()), ("password", new)];
    let r = c.post(format!("{}/account/sessions/end-others", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(api.get("/api/v1/me").await.status(), 401, "a token survived signing out everywhere else");
}
