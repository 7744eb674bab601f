//! Long lists come in pages: `/api/v1` with `Link: rel="next"`, `doc list --limit/--after`
//! (and every page without them), the staff portal and matter pages with older/newest links.
//! Every page walk sees each document once, newest first, and a bad cursor or limit is a
//! clear 400 that changes nothing.

use std::collections::HashSet;

use serde_json::Value;

use crate::harness::{Env, client, sign_in, upload};

/// 25 documents in one portal of matter "Pages", in two upload requests (so some share an
/// upload time): returns the portal's id.
async fn portal_with_25_documents(env: &Env) -> String {
    env.cli_json(&["matter", "create", "--name", "Pages", "--json"], None);
    let p = env.cli_json(&["portal", "create", "--label", "Many files", "--matter", "Pages", "--json"], None);
    let (portal, token) = (p["id"].as_str().unwrap().to_owned(), p["token"].as_str().unwrap().to_owned());
    for batch in [0..20, 20..25] {
        let files: Vec<(String, Vec<u8>)> =
            batch.map(|i| (format!("page-{i:02}.txt"), format!("document number {i}\n").into_bytes())).collect();
        let files: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), d.as_slice())).collect();
        assert_eq!(upload(env.base(), &token, &files).await.status(), 201);
    }
    portal
}

fn ids(docs: &Value) -> Vec<String> {
    docs.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect()
}

/// The `after` of a `Link: <…?after=X&limit=N>; rel="next"` header.
fn next_link(r: &reqwest::Response) -> Option<String> {
    let link = r.headers().get("link")?.to_str().unwrap().to_owned();
    assert!(link.ends_with(r#">; rel="next""#), "{link}");
    Some(link.trim_start_matches('<').split_once('>').unwrap().0.to_owned())
}

#[tokio::test]
async fn the_api_cli_and_staff_pages_walk_every_document_once() {
    let env = Env::start();
    let portal = portal_with_25_documents(&env).await;
    // The whole list, as `doc list` prints it walking every page: newest first.
    let all = env.docs(Some(&portal));
    let all_ids: Vec<String> = all.iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(all_ids.len(), 25);
    let times: Vec<&str> = all.iter().map(|d| d["uploaded_at"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first: {times:?}");

    // The API, 10 at a time, following its Link headers.
    env.create_user("ann@firm.example", "attorney");
    env.cli_json(
        &["matter", "add-member", "Pages", "--user", "ann@firm.example", "--role", "attorney", "--json"],
        None,
    );
    let secret = env.cli_json(
        &["token", "create", "--email", "ann@firm.example", "--name", "DMS", "--scope", "documents:read", "--json"],
        None,
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: String| {
        let req = client().get(format!("{}{path}", env.base())).bearer_auth(&secret);
        async move { req.send().await.unwrap() }
    };
    let mut walked = Vec::new();
    let mut path = Some(format!("/api/v1/portals/{portal}/documents?limit=10"));
    let mut pages = 0;
    while let Some(p) = path {
        let r = get(p).await;
        assert_eq!(r.status(), 200);
        path = next_link(&r);
        let page: Value = r.json().await.unwrap();
        assert!(page.as_array().unwrap().len() <= 10);
        walked.extend(ids(&page));
        pages += 1;
    }
    assert_eq!((pages, &walked), (3, &all_ids), "three pages, every document once, in order");
    // Without a limit: one page of up to 100, and no Link.
    let r = get(format!("/api/v1/portals/{portal}/documents")).await;
    assert!(r.headers().get("link").is_none());
    assert_eq!(ids(&r.json().await.unwrap()), all_ids);

    // Bad limits and cursors: a clear 400 problem, whatever they carry.
    let events = env.audit_events().len();
    for bad in [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "after=12",
        "after=1.2",
        "after=1733400000000.x'%20OR%201=1--",
        "after=..%2F..%2Fetc%2Fpasswd",
    ] {
        let r = get(format!("/api/v1/portals/{portal}/documents?{bad}")).await;
        assert_eq!(r.status(), 400, "{bad}");
        let problem: Value = r.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("limit") || detail.contains("cursor"), "{bad}: {problem}");
    }
    // Each refused request is still an audited use of the token, and nothing else.
    let new: Vec<Value> = env.audit_events().into_iter().skip(events).collect();
    assert!(new.iter().all(|e| e["action"] == "api_token.used" || e["action"] == "audit.export"), "{new:?}");

    // The CLI: one page with --limit, its cursor on standard error, then the next with --after.
    let (ok, out, err) = env.cli(&["doc", "list", "--portal", &portal, "--json", "--limit", "10"], None);
    assert!(ok, "{err}");
    let first: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ids(&first), all_ids[..10]);
    let cursor = err.split("--after ").nth(1).expect("the next cursor").trim().to_owned();
    let (ok, out, err) =
        env.cli(&["doc", "list", "--portal", &portal, "--json", "--limit", "10", "--after", &cursor], None);
    assert!(ok, "{err}");
    assert_eq!(ids(&serde_json::from_str(&out).unwrap()), all_ids[10..20]);
    let (ok, _, err) = env.cli(&["doc", "list", "--portal", &portal, "--after", "not-a-cursor"], None);
    assert!(!ok && err.contains("cursor"), "{err}");
    let (ok, _, err) = env.cli(&["doc", "list", "--limit", "0"], None);
    assert!(!ok && err.contains("limit"), "{err}");
    // Without --portal, every document of the installation, still in pages.
    assert_eq!(env.docs(None).len(), 25);
    let (ok, out, _) = env.cli(&["doc", "list", "--portal", &portal], None);
    assert!(ok && out.lines().count() == 25, "{out}");

    // The staff portal page: older and newest links, each document on exactly one page.
    let c = client();
    sign_in(&env, &c, "bob@firm.example", "attorney").await;
    env.cli_json(
        &["matter", "add-member", "Pages", "--user", "bob@firm.example", "--role", "attorney", "--json"],
        None,
    );
    let page_of = |url: String| {
        let c = c.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.text().await.unwrap()
        }
    };
    let mut seen = HashSet::new();
    let mut url = Some(format!("{}/portals/{portal}?limit=10", env.base()));
    let mut shown = 0;
    let mut pages = 0;
    while let Some(u) = url {
        let html = page_of(u).await;
        pages += 1;
        for id in &all_ids {
            if html.contains(&format!("/documents/{id}/download")) {
                assert!(seen.insert(id.clone()), "{id} on two pages");
                shown += 1;
            }
        }
        assert_eq!(html.contains("Newest documents"), pages > 1);
        url = html.split("rel=\"next\"").next().filter(|_| html.contains("rel=\"next\"")).map(|before| {
            let href = before.rsplit("href=\"").next().unwrap().split('"').next().unwrap();
            format!("{}{}", env.base(), href.replace("&#x2f;", "/").replace("&amp;", "&"))
        });
    }
    assert_eq!((pages, shown), (3, 25));
    let html = page_of(format!("{}/portals/{portal}", env.base())).await;
    assert!(!html.contains("Older documents") && !html.contains("Newest documents"), "25 fit on the first page");
    let r = c.get(format!("{}/portals/{portal}?after=garbage", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 400);

    // The matter page too.
    let matter = env.cli_json(&["matter", "show", "Pages", "--json"], None)["id"].as_str().unwrap().to_owned();
    let html = page_of(format!("{}/matters/{matter}?limit=5", env.base())).await;
    assert!(html.contains("Older documents") && !html.contains("Newest documents"));
    assert_eq!((0..25).filter(|i| html.contains(&format!("page-{i:02}.txt"))).count(), 5);
}
