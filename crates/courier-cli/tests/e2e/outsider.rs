//! Every route of the router, found in its source, tried by an outsider: a signed-in paralegal
//! (web session, and an API token with every scope) who is not on a restricted matter must get
//! 403 or 404 from each route that names that matter's portal, document, share or people, see
//! none of its ids in any listing, and change nothing. Anonymous callers get the sign-in page,
//! 401, or 404 for a link that does not exist. A route added to the router without a row here
//! fails the first assertion.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::{Env, PASSWORD, client, sign_in};

/// How a route relates to someone else's restricted matter.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    /// Names a resource of the matter (portal, document, share, matter, user): 403 or 404.
    Resource,
    /// Lists what the caller may see: 200, and none of the matter's ids.
    Listing,
    /// Firm-wide management a paralegal may not do: 403.
    Admin,
    /// The caller's own account, or creating something of their own: not about the matter.
    Own,
    /// Reached without a staff session (links, sign-in, assets); `{token}`s are made up: 404
    /// (or 403 from a one-time link's form check).
    Public,
    /// HEAD on a download: 405 for everyone, since it would run the download (review finding 11).
    NoHead,
}

/// Every (method, path) the router serves, with its class. Paths are the router's templates.
const ROUTES: &[(&str, &str, Class)] = &[
    ("GET", "/p/{token}", Class::Public),
    ("POST", "/p/{token}/unlock", Class::Public),
    ("POST", "/p/{token}/files", Class::Public),
    // tus: PATCH and OPTIONS are not in the parser's list; `tus.rs` tries them with bad links.
    ("POST", "/p/{token}/tus", Class::Public),
    ("POST", "/p/{token}/tus/", Class::Public),
    ("GET", "/p/{token}/tus/{id}", Class::Public),
    ("HEAD", "/p/{token}/tus/{id}", Class::Public),
    ("DELETE", "/p/{token}/tus/{id}", Class::Public),
    ("GET", "/s/{token}", Class::Public),
    ("POST", "/s/{token}/unlock", Class::Public),
    ("GET", "/s/{token}/files/{doc_id}", Class::Public),
    ("HEAD", "/s/{token}/files/{doc_id}", Class::NoHead),
    ("GET", "/login", Class::Public),
    ("POST", "/login", Class::Public),
    ("GET", "/login/mfa", Class::Public),
    ("POST", "/login/mfa", Class::Public),
    ("GET", "/setup/{token}", Class::Public),
    ("POST", "/setup/{token}", Class::Public),
    ("GET", "/invite/{token}", Class::Public),
    ("POST", "/invite/{token}", Class::Public),
    ("POST", "/login/passkey/start", Class::Public),
    ("POST", "/login/passkey/finish", Class::Public),
    ("POST", "/login/passwordless/start", Class::Public),
    ("POST", "/login/passwordless/finish", Class::Public),
    ("GET", "/", Class::Own),
    ("POST", "/logout", Class::Own),
    ("GET", "/account", Class::Own),
    ("POST", "/account/recovery-codes", Class::Own),
    ("POST", "/account/password", Class::Own),
    ("POST", "/account/language", Class::Own),
    ("POST", "/account/sessions/{handle}/end", Class::Own),
    ("POST", "/account/sessions/end-others", Class::Own),
    ("POST", "/account/passkeys/start", Class::Own),
    ("POST", "/account/passkeys/finish", Class::Own),
    ("POST", "/account/passkeys/{id}/remove", Class::Own),
    ("POST", "/account/tokens", Class::Own),
    ("POST", "/account/tokens/{id}/revoke", Class::Resource),
    ("GET", "/users", Class::Admin),
    ("POST", "/users/invite", Class::Admin),
    ("POST", "/users/end-all-sessions", Class::Admin),
    ("POST", "/users/{id}/{action}", Class::Resource),
    ("GET", "/portals", Class::Listing),
    ("POST", "/portals", Class::Resource),
    ("GET", "/portals/{id}", Class::Resource),
    ("GET", "/portals/{id}/download.zip", Class::Resource),
    ("HEAD", "/portals/{id}/download.zip", Class::NoHead),
    ("POST", "/portals/{id}/{action}", Class::Resource),
    ("GET", "/documents/{id}/download", Class::Resource),
    ("HEAD", "/documents/{id}/download", Class::NoHead),
    ("POST", "/documents/{id}/delete", Class::Resource),
    ("POST", "/documents/{id}/release", Class::Resource),
    ("POST", "/documents/{id}/filed", Class::Resource),
    ("POST", "/documents/{id}/hold", Class::Resource),
    ("GET", "/documents/{id}/certificate", Class::Resource),
    ("GET", "/documents/{id}/certificate.json", Class::Resource),
    ("GET", "/holds", Class::Listing),
    ("POST", "/holds/{id}/release", Class::Resource),
    ("GET", "/matters", Class::Listing),
    ("POST", "/matters", Class::Own),
    ("GET", "/matters/{id}", Class::Resource),
    ("POST", "/matters/{id}/shares", Class::Resource),
    ("POST", "/matters/{id}/{action}", Class::Resource),
    ("GET", "/shares/{id}", Class::Resource),
    ("POST", "/shares/{id}/{action}", Class::Resource),
    ("GET", "/access-review", Class::Admin),
    ("GET", "/alerts", Class::Admin),
    ("POST", "/alerts/lockdown", Class::Admin),
    ("GET", "/notifications", Class::Own),
    ("POST", "/notifications/read", Class::Own),
    ("GET", "/settings/firm", Class::Admin),
    ("POST", "/settings/firm", Class::Admin),
    ("POST", "/matters/{id}/documents", Class::Resource),
    ("GET", "/api/v1/openapi.json", Class::Public),
    ("GET", "/api/v1/me", Class::Own),
    ("GET", "/api/v1/portals", Class::Listing),
    ("POST", "/api/v1/portals", Class::Resource),
    ("GET", "/api/v1/portals/{id}", Class::Resource),
    ("POST", "/api/v1/portals/{id}/disable", Class::Resource),
    ("POST", "/api/v1/portals/{id}/enable", Class::Resource),
    ("GET", "/api/v1/portals/{id}/documents", Class::Resource),
    ("GET", "/api/v1/matters", Class::Listing),
    ("DELETE", "/api/v1/documents/{id}", Class::Resource),
    ("GET", "/api/v1/documents/{id}/content", Class::Resource),
    ("HEAD", "/api/v1/documents/{id}/content", Class::NoHead),
    ("POST", "/api/v1/documents/{id}/filed", Class::Resource),
    ("GET", "/api/v1/documents/{id}/certificate", Class::Resource),
    ("POST", "/api/v1/portals/{id}/filed", Class::Resource),
    ("GET", "/api/v1/holds", Class::Listing),
    ("POST", "/api/v1/holds", Class::Resource),
    ("POST", "/api/v1/holds/{id}/release", Class::Resource),
    ("GET", "/healthz", Class::Public),
    ("GET", "/favicon.ico", Class::Public),
    ("GET", "/static/{file}", Class::Public),
];

/// The (method, path) pairs of `web/mod.rs`: each `.route("path", get(..).post(..)...)`.
fn routes_in_router_source() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../courier-server/src/web/mod.rs"))
        .expect("router source");
    let mut found = BTreeSet::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The route's arguments end at the parenthesis that closes `.route(`.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("closing parenthesis");
        let args = &rest[..end];
        let path = args.split('"').nth(1).expect("a path literal").to_owned();
        let handlers = &args[args.find(',').expect("handlers")..];
        for (call, method) in [("get(", "GET"), ("post(", "POST"), ("delete(", "DELETE"), (".head(", "HEAD")] {
            let called = handlers.match_indices(call).any(|(i, _)| {
                // `get(` but not `.get(` of something else, nor `.layer(` arguments' calls.
                call.starts_with('.') || i == 0 || !handlers[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if called {
                found.insert((method.to_owned(), path.clone()));
            }
        }
    }
    found
}

#[test]
fn the_table_lists_every_route_of_the_router() {
    let table: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned())).collect();
    let router = routes_in_router_source();
    assert!(router.len() > 50, "the parser found the routes: {router:?}");
    let missing: Vec<_> = router.difference(&table).collect();
    assert!(missing.is_empty(), "routes with no outsider row in tests/e2e/outsider.rs: {missing:?}");
    let stale: Vec<_> = table.difference(&router).collect();
    assert!(stale.is_empty(), "rows for routes the router no longer has: {stale:?}");
}

/// The restricted matter and what hangs off it.
struct Vault {
    matter: String,
    portal: String,
    document: String,
    share: String,
    owner_id: String,
    owner_token_id: String,
    hold: String,
}

impl Vault {
    fn ids(&self) -> [&str; 6] {
        [&self.matter, &self.portal, &self.document, &self.share, &self.owner_token_id, &self.hold]
    }

    /// A template with every `{…}` filled with this matter's ids (made-up tokens for links).
    fn fill(&self, template: &str) -> String {
        let id = if template.starts_with("/portals/") || template.starts_with("/api/v1/portals/") {
            &self.portal
        } else if template.contains("/documents/{id}") && !template.starts_with("/matters/") {
            &self.document
        } else if template.starts_with("/shares/") {
            &self.share
        } else if template.starts_with("/users/") {
            &self.owner_id
        } else if template.starts_with("/account/tokens/") {
            &self.owner_token_id
        } else if template.starts_with("/holds/") || template.starts_with("/api/v1/holds/") {
            &self.hold
        } else {
            &self.matter
        };
        let action = if template.starts_with("/users/") {
            "disable"
        } else if template.starts_with("/shares/") {
            "revoke"
        } else if template.starts_with("/matters/") {
            "archive"
        } else {
            "disable"
        };
        template
            .replace("{id}", id)
            .replace("{action}", action)
            .replace("{token}", "cpl_made-up-link-token-0000000000000000000")
            .replace("{doc_id}", &self.document)
            .replace("{handle}", "00")
            .replace("{file}", "courier.css")
    }
}

impl Vault {
    /// Ids of the same shapes that name nothing.
    fn ghost() -> Self {
        let id = || uuid_like(rand_u64());
        Self {
            matter: id(),
            portal: id(),
            document: id(),
            share: id(),
            owner_id: id(),
            owner_token_id: id(),
            hold: id(),
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new().build_hasher().finish()
}

fn uuid_like(n: u64) -> String {
    let hex = format!("{n:016x}{:016x}", n.rotate_left(17));
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn vault(env: &Env) -> Vault {
    let owner = env.create_user("owner@firm.example", "attorney");
    let matter = env.cli_json(&["matter", "create", "--name", "Vault", "--sensitivity", "restricted", "--json"], None);
    let matter = matter["id"].as_str().unwrap().to_owned();
    env.cli_json(
        &["matter", "add-member", &matter, "--user", "owner@firm.example", "--role", "attorney", "--json"],
        None,
    );
    let (portal, _) = env.create_portal(&["--matter", &matter]);
    let path = env.data_dir().parent().unwrap().join("vault-memo.txt");
    std::fs::write(&path, "Vault memo\n").unwrap();
    let doc = env.cli_json(&["doc", "upload", "--matter", &matter, path.to_str().unwrap(), "--json"], None);
    let document = doc["id"].as_str().unwrap().to_owned();
    let share =
        env.cli_json(&["share", "create", "--matter", &matter, "--doc", &document, "--recipient", "R", "--json"], None);
    let token = env.cli_json(
        &["token", "create", "--email", "owner@firm.example", "--name", "owner's", "--scope", "portals:read", "--json"],
        None,
    );
    let hold = env.cli_json(&["hold", "place", "--matter", &matter, "--reason", "litigation", "--json"], None);
    Vault {
        hold: hold["id"].as_str().unwrap().to_owned(),
        matter,
        portal,
        document,
        share: share["id"].as_str().unwrap().to_owned(),
        owner_id: owner["id"].as_str().or(owner["user_id"].as_str()).unwrap().to_owned(),
        owner_token_id: token["id"].as_str().unwrap().to_owned(),
    }
}

/// Every field any form needs, so that only the decision answers.
fn form(csrf: &str, vault: &Vault) -> Vec<(&'static str, String)> {
    [
        ("csrf_token", csrf),
        ("label", "x"),
        ("matter", &vault.matter),
        ("email", "owner@firm.example"),
        ("role", "attorney"),
        ("reason", "x"),
        ("recipient", "x"),
        ("doc", &vault.document),
        ("password", PASSWORD),
        ("name", "x"),
        ("hours", "1"),
        ("passcode", "a long passcode"),
        ("code", "000000"),
        ("password_again", PASSWORD),
        ("current", PASSWORD),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect()
}

/// What the restricted matter looks like from the operator's side, to prove nothing changed.
fn state_of(env: &Env, vault: &Vault) -> Value {
    let portal = env.cli_json(&["portal", "show", &vault.portal, "--json"], None);
    let share = env.cli_json(&["share", "show", &vault.share, "--json"], None);
    let matter = env.cli_json(&["matter", "show", &vault.matter, "--json"], None);
    let docs = env.cli_json(&["doc", "list", "--matter", &vault.matter, "--json"], None);
    let holds = env.cli_json(&["hold", "list", "--json"], None);
    let tokens = env.cli_json(&["token", "list", "--email", "owner@firm.example", "--json"], None);
    let users = env.cli_json(&["user", "list", "--json"], None);
    serde_json::json!({ "portal": [portal["enabled"], portal["status"]], "share": share["status"],
        "matter": matter["archived"], "docs": docs, "tokens": tokens, "users": users, "holds": holds })
}

#[tokio::test]
async fn an_outsider_gets_nothing_from_any_route() {
    let env = Env::start();
    let vault = vault(&env);
    let outsider = client();
    let (csrf, _) = sign_in(&env, &outsider, "otto@firm.example", "paralegal").await;
    let all_scopes =
        ["portals:read", "portals:write", "documents:read", "documents:write", "matters:read", "lifecycle:write"];
    let mut args = vec!["token", "create", "--email", "otto@firm.example", "--name", "otto", "--json"];
    for s in all_scopes {
        args.extend(["--scope", s]);
    }
    let api_token = env.cli_json(&args, None)["token"].as_str().unwrap().to_owned();
    let before = state_of(&env, &vault);
    let base = env.base();

    // The caller's own account pages are not about the matter (and `/logout` would end the
    // session the rest of the loop needs); anonymous callers try them below.
    let ghost = Vault::ghost();
    for &(method, template, class) in ROUTES.iter().filter(|(_, _, class)| *class != Class::Own) {
        let send = |on: &Vault| {
            let url = format!("{base}{}", on.fill(template));
            let api = template.starts_with("/api/");
            let request = match method {
                "GET" => outsider.get(&url),
                "HEAD" => outsider.head(&url),
                "DELETE" => outsider.delete(&url),
                _ if template == "/matters/{id}/documents" => {
                    let boundary = "outsiderboundary";
                    let body = format!(
                        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
                         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.txt\"\r\n\
                         Content-Type: text/plain\r\n\r\nmemo\r\n--{boundary}--\r\n"
                    );
                    outsider
                        .post(&url)
                        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
                        .body(body)
                }
                _ if api => {
                    outsider.post(&url).json(&serde_json::json!({ "label": "x", "matter": on.matter, "reason": "x" }))
                }
                _ => outsider.post(&url).form(&form(&csrf, on)),
            };
            if api { request.bearer_auth(&api_token) } else { request }.send()
        };
        let r = send(&vault).await.unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap_or_default();
        match class {
            // 403 or 404; or, where a form answers with its own error (the matter picker of
            // a new portal), exactly what a made-up id gets: the outsider learns nothing more.
            Class::Resource if !matches!(status, 403 | 404) => {
                let made_up = send(&ghost).await.unwrap().status().as_u16();
                assert!(status >= 400 && status == made_up, "{method} {template} as an outsider: {status} {body}");
            }
            Class::Resource => {}
            Class::Admin => assert_eq!(status, 403, "{method} {template} as a paralegal: {body}"),
            Class::Listing => {
                assert_eq!(status, 200, "{method} {template}");
                for id in vault.ids() {
                    assert!(!body.contains(id), "{method} {template} shows {id} to an outsider");
                }
            }
            // A one-time link's form is bound to its link, so a made-up one fails the CSRF check.
            Class::Public if template.contains("{token}") => {
                assert!(matches!(status, 403 | 404), "{method} {template} with a made-up link: {status} {body}")
            }
            Class::NoHead => assert_eq!(status, 405, "{method} {template}"),
            Class::Public | Class::Own => {}
        }
        for id in [&vault.document, &vault.share, &vault.owner_token_id] {
            assert!(!body.contains(id.as_str()), "{method} {template} leaks {id}");
        }
    }
    assert_eq!(state_of(&env, &vault), before, "the outsider changed nothing of the restricted matter");

    // Nobody signed in: the sign-in page for staff pages, 401 for the API.
    let anonymous = client();
    for &(method, template, class) in ROUTES {
        if !matches!(class, Class::Resource | Class::Admin | Class::Listing | Class::Own) {
            continue;
        }
        let url = format!("{base}{}", vault.fill(template));
        let r = match method {
            "GET" => anonymous.get(&url),
            "HEAD" => anonymous.head(&url),
            "DELETE" => anonymous.delete(&url),
            _ => anonymous.post(&url).form(&form("x", &vault)),
        }
        .send()
        .await
        .unwrap();
        // The passkey ceremonies are JSON calls: 401 rather than a redirect (or 422 for a
        // body that is not a ceremony's, before anyone is looked up).
        if template.starts_with("/account/passkeys/") && !template.ends_with("remove") {
            let r = anonymous.post(&url).json(&serde_json::json!({})).send().await.unwrap();
            assert!(matches!(r.status().as_u16(), 401 | 422), "anonymous {method} {template}: {}", r.status());
        } else if template.starts_with("/api/") {
            assert_eq!(r.status(), 401, "anonymous {method} {template}");
        } else {
            assert_eq!(r.status(), 303, "anonymous {method} {template}");
            assert_eq!(r.headers()["location"], "/login", "anonymous {method} {template}");
        }
    }
}
