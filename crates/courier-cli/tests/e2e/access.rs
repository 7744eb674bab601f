//! The access model through HTTP: a matrix of role × action × matter situation (own matter,
//! another matter, another department, restricted outside the office network, confidential
//! outside office hours), IDOR probes, break glass, `policy check`, a bad policy file, and the
//! access review.

use std::collections::HashMap;

use serde_json::Value;

use crate::harness::{Env, PASSWORD, client, hidden_field, sign_in_at};

const PEOPLE: [(&str, &str, Option<&str>); 5] = [
    ("att", "attorney", None),
    ("para", "paralegal", None),
    ("admin", "admin", None),
    ("out", "attorney", None),
    ("lit", "attorney", Some("Litigation")),
];

fn email(who: &str) -> String {
    format!("{who}@firm.example")
}

/// Firm policies: restricted documents only from 10.0.0.0/8; confidential ones only in an
/// hour that is not now (so "now" is outside office hours); Litigation matters only for the
/// Litigation department.
fn firm_policies(dir: &std::path::Path) {
    let now_hour = time::OffsetDateTime::now_utc().hour();
    let office_hour = (now_hour + 12) % 24;
    let text = format!(
        r#"@id("restricted-office-network")
forbid (principal, action == Courier::Action::"document.download", resource)
when {{ resource.sensitivity == "restricted" }}
unless {{ context.source_ip.isInRange(ip("10.0.0.0/8")) }};

@id("confidential-office-hours")
forbid (principal, action == Courier::Action::"document.download", resource)
when {{ resource.sensitivity == "confidential" }}
unless {{ context.hour == {office_hour} }};

@id("litigation-for-litigation")
forbid (principal, action, resource)
when {{ resource has matter && resource.matter.department == "Litigation" && principal.department != "Litigation" }};
"#
    );
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("firm.cedar"), text).unwrap();
}

struct World {
    env: Env,
    _policies: tempfile::TempDir,
    users: HashMap<&'static str, Value>,
    matters: HashMap<&'static str, String>,
}

fn cli_id(env: &Env, args: &[&str]) -> String {
    env.cli_json(args, None)["id"].as_str().unwrap().to_owned()
}

fn doc_in(env: &Env, matter: &str, tag: &str) -> String {
    let path = env.data_dir().parent().unwrap().join(format!("{tag}.txt"));
    std::fs::write(&path, format!("Memo {tag}\n")).unwrap();
    let id = cli_id(env, &["doc", "upload", "--matter", matter, path.to_str().unwrap(), "--json"]);
    std::fs::remove_file(path).unwrap();
    id
}

fn world() -> World {
    let policies = tempfile::tempdir().unwrap();
    firm_policies(policies.path());
    let env = Env::start_with_config(&format!("policy_dir = {:?}\n", policies.path().to_str().unwrap()));
    let mut users = HashMap::new();
    for (who, role, department) in PEOPLE {
        let address = email(who);
        let mut args = vec!["user", "create", "--email", &address, "--role", role];
        if let Some(d) = department {
            args.extend(["--department", d]);
        }
        args.extend(["--password-stdin", "--json"]);
        users.insert(who, env.cli_json(&args, Some(&format!("{PASSWORD}\n"))));
    }
    env.create_user("dummy@firm.example", "paralegal");
    let mut matters = HashMap::new();
    for (key, name, extra) in [
        ("own", "Own matter", vec![]),
        ("other", "Other matter", vec![]),
        ("lit", "Litigation matter", vec!["--department", "Litigation"]),
        ("restricted", "Restricted matter", vec!["--sensitivity", "restricted"]),
        ("conf", "Confidential matter", vec!["--sensitivity", "confidential"]),
    ] {
        let mut args = vec!["matter", "create", "--name", name, "--json"];
        args.extend(extra);
        matters.insert(key, cli_id(&env, &args));
    }
    let member = |m: &str, who: &str, role: &str| {
        env.cli_json(&["matter", "add-member", &matters[m], "--user", &email(who), "--role", role, "--json"], None);
    };
    for m in ["own", "lit", "restricted", "conf"] {
        member(m, "att", "attorney");
        member(m, "para", "paralegal");
    }
    member("other", "out", "attorney");
    member("lit", "lit", "attorney");
    World { env, _policies: policies, users, matters }
}

struct Staff {
    c: reqwest::Client,
    csrf: String,
}

async fn signed_in(world: &World, who: &str) -> Staff {
    let c = client();
    let secret = world.users[who]["totp_secret"].as_str().unwrap();
    let r = sign_in_at(&c, world.env.base(), world.env.base(), &email(who), PASSWORD, secret).await;
    assert_eq!(r.status(), 303, "{who} signs in");
    let page = c.get(format!("{}/matters", world.env.base())).send().await.unwrap().text().await.unwrap();
    Staff { csrf: hidden_field(&page, "csrf_token"), c }
}

/// Performs `action` on `matter` as `staff`; returns the HTTP status.
async fn attempt(world: &World, staff: &Staff, action: &str, matter: &str) -> u16 {
    let base = world.env.base();
    let m = &world.matters[matter];
    let csrf = staff.csrf.as_str();
    let r = match action {
        "view" => staff.c.get(format!("{base}/matters/{m}")).send().await,
        "download" => {
            let d = doc_in(&world.env, m, "dl");
            staff.c.get(format!("{base}/documents/{d}/download")).send().await
        }
        "delete" => {
            let d = doc_in(&world.env, m, "del");
            staff.c.post(format!("{base}/documents/{d}/delete")).form(&[("csrf_token", csrf)]).send().await
        }
        "upload" => {
            let form = reqwest::multipart::Form::new()
                .text("csrf_token", staff.csrf.clone())
                .part("file", reqwest::multipart::Part::bytes(b"Staff memo\n".to_vec()).file_name("memo.txt"));
            staff
                .c
                .post(format!("{base}/matters/{m}/documents"))
                .header("Accept", "application/json")
                .multipart(form)
                .send()
                .await
        }
        "share" => {
            let d = doc_in(&world.env, m, "sh");
            let form = [("doc", d.as_str()), ("recipient", "Expert"), ("csrf_token", csrf)];
            staff.c.post(format!("{base}/matters/{m}/shares")).form(&form).send().await
        }
        "members" => {
            let form = [("email", "dummy@firm.example"), ("role", "paralegal"), ("csrf_token", csrf)];
            staff.c.post(format!("{base}/matters/{m}/members")).form(&form).send().await
        }
        other => panic!("unknown action {other}"),
    };
    r.unwrap().status().as_u16()
}

const ACTIONS: [&str; 6] = ["view", "download", "upload", "share", "members", "delete"];

/// Expected statuses in `ACTIONS` order.
fn expected(who: &str, matter: &str) -> [u16; 6] {
    const ATTORNEY: [u16; 6] = [200, 200, 201, 201, 303, 303];
    const PARALEGAL: [u16; 6] = [200, 200, 201, 201, 403, 403];
    const ADMIN: [u16; 6] = [200, 403, 403, 403, 303, 403];
    const HIDDEN: [u16; 6] = [404; 6];
    let with_download = |mut row: [u16; 6], status: u16| {
        row[1] = status;
        row
    };
    match (matter, who) {
        ("own", "att") => ATTORNEY,
        ("own", "para") => PARALEGAL,
        ("other", "out") => ATTORNEY,
        ("lit", "lit") => ATTORNEY,
        ("restricted", "att") => with_download(ATTORNEY, 403),
        ("restricted", "para") => with_download(PARALEGAL, 403),
        ("conf", "att") => with_download(ATTORNEY, 403),
        ("conf", "para") => with_download(PARALEGAL, 403),
        // The department rule binds admins as well; elsewhere they manage but do not read.
        ("lit", "admin") => HIDDEN,
        // Off a restricted matter, an admin does not choose its members either (they could
        // add an account of their own making): the change is refused on the matter's page.
        ("restricted", "admin") => {
            let mut row = ADMIN;
            row[4] = 400;
            row
        }
        (_, "admin") => ADMIN,
        _ => HIDDEN,
    }
}

#[tokio::test]
async fn the_access_matrix_holds_through_http() {
    let world = world();
    let mut failures = Vec::new();
    for (who, _, _) in PEOPLE {
        let staff = signed_in(&world, who).await;
        for matter in ["own", "other", "lit", "restricted", "conf"] {
            let want = expected(who, matter);
            for (i, action) in ACTIONS.iter().enumerate() {
                let got = attempt(&world, &staff, action, matter).await;
                if got != want[i] {
                    failures.push(format!("{who} {action} on {matter}: got {got}, want {}", want[i]));
                }
            }
        }
    }
    assert!(failures.is_empty(), "matrix cells wrong:\n{}", failures.join("\n"));

    // Denials are audited with the policy that decided them.
    let denied: Vec<Value> = world.env.audit_events().into_iter().filter(|e| e["action"] == "access.denied").collect();
    let policies: Vec<&str> = denied.iter().filter_map(|e| e["details"]["policy"].as_str()).collect();
    for id in ["restricted-office-network", "confidential-office-hours", "litigation-for-litigation", "default-deny"] {
        assert!(policies.contains(&id), "a denial by {id} is audited: {policies:?}");
    }
    assert!(world.env.audit_ok());
}

#[tokio::test]
async fn ids_of_other_matters_reach_nothing_and_break_glass_is_limited_and_audited() {
    let world = world();
    let env = &world.env;
    let other = &world.matters["other"];
    let doc = doc_in(env, other, "secret");
    let portal = cli_id(env, &["portal", "create", "--label", "Other intake", "--matter", other, "--json"]);
    let share = cli_id(env, &["share", "create", "--matter", other, "--doc", &doc, "--recipient", "X", "--json"]);
    let para = signed_in(&world, "para").await;
    let base = env.base();
    let csrf = para.csrf.as_str();
    for url in [
        format!("{base}/matters/{other}"),
        format!("{base}/documents/{doc}/download"),
        format!("{base}/portals/{portal}"),
        format!("{base}/portals/{portal}/download.zip"),
        format!("{base}/shares/{share}"),
    ] {
        assert_eq!(para.c.get(&url).send().await.unwrap().status(), 404, "GET {url}");
    }
    for (url, form) in [
        (format!("{base}/documents/{doc}/delete"), vec![("csrf_token", csrf)]),
        (format!("{base}/documents/{doc}/release"), vec![("csrf_token", csrf), ("reason", "x")]),
        (format!("{base}/portals/{portal}/disable"), vec![("csrf_token", csrf)]),
        (format!("{base}/shares/{share}/revoke"), vec![("csrf_token", csrf)]),
        (
            format!("{base}/matters/{other}/members"),
            vec![("csrf_token", csrf), ("email", "para@firm.example"), ("role", "attorney")],
        ),
    ] {
        assert_eq!(para.c.post(&url).form(&form).send().await.unwrap().status(), 404, "POST {url}");
    }
    // Swapping another matter's document into one's own share is refused without saying why.
    let own = &world.matters["own"];
    let r = para
        .c
        .post(format!("{base}/matters/{own}/shares"))
        .form(&[("doc", doc.as_str()), ("recipient", "X"), ("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let portals_page = para.c.get(format!("{base}/portals")).send().await.unwrap().text().await.unwrap();
    assert!(!portals_page.contains("Other intake"), "other matters' portals are not listed");
    let matters_page = para.c.get(format!("{base}/matters")).send().await.unwrap().text().await.unwrap();
    assert!(!matters_page.contains("Other matter") && matters_page.contains("Own matter"));
    // Still intact and undisturbed.
    assert_eq!(env.cli_json(&["share", "show", &share, "--json"], None)["status"], "active");
    assert_eq!(env.cli_json(&["portal", "show", &portal, "--json"], None)["status"], "active");

    // Break glass: the admin reads for a limited time, with a reason, but deletes nothing.
    let admin = signed_in(&world, "admin").await;
    assert_eq!(admin.c.get(format!("{base}/documents/{doc}/download")).send().await.unwrap().status(), 403);
    // Review finding 7: an admin cannot sidestep break glass by making itself a member.
    let r = admin
        .c
        .post(format!("{base}/matters/{other}/members"))
        .form(&[("csrf_token", admin.csrf.as_str()), ("email", "admin@firm.example"), ("role", "attorney")])
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 303, "the admin added itself to the matter");
    assert!(!env.audit_events().iter().any(|e| e["action"] == "matter.member_set"
        && e["details"]["after"] == "attorney"
        && e["target"] == format!("matter:{other}")
        && e["actor"].as_str().unwrap().starts_with("staff:")));
    assert_eq!(admin.c.get(format!("{base}/documents/{doc}/download")).send().await.unwrap().status(), 403);
    // Nor by adding an account of its own making (an invitation it accepted itself) to a
    // restricted matter it is not on (second review).
    let restricted = &world.matters["restricted"];
    let before = env.cli_json(&["matter", "show", restricted, "--json"], None)["members"].clone();
    let r = admin
        .c
        .post(format!("{base}/matters/{restricted}/members"))
        .form(&[("csrf_token", admin.csrf.as_str()), ("email", "out@firm.example"), ("role", "attorney")])
        .send()
        .await
        .unwrap();
    assert_ne!(r.status(), 303, "an admin off a restricted matter changed its members");
    assert_eq!(env.cli_json(&["matter", "show", restricted, "--json"], None)["members"], before);
    let r = admin
        .c
        .post(format!("{base}/matters/{other}/break-glass"))
        .form(&[("reason", "Partner on leave; court deadline"), ("hours", "1"), ("csrf_token", admin.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(admin.c.get(format!("{base}/documents/{doc}/download")).send().await.unwrap().status(), 200);
    let r = admin.c.post(format!("{base}/documents/{doc}/delete")).form(&[("csrf_token", admin.csrf.as_str())]).send();
    assert_eq!(r.await.unwrap().status(), 403);
    let glass = env.audit_events().into_iter().find(|e| e["action"] == "matter.break_glass").expect("audited");
    assert_eq!(glass["details"]["reason"], "Partner on leave; court deadline");
    let r = para
        .c
        .post(format!("{base}/matters/{own}/break-glass"))
        .form(&[("reason", "curious"), ("hours", "1"), ("csrf_token", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "only admins break glass");
}

#[tokio::test]
async fn policy_check_explains_decisions_and_a_bad_policy_stops_start_up() {
    let world = world();
    let env = &world.env;
    let restricted = doc_in(env, &world.matters["restricted"], "r");
    let own = doc_in(env, &world.matters["own"], "o");
    let check = |who: &str, action: &str, resource: &str, extra: &[&str]| {
        let principal = email(who);
        let mut args = vec!["policy", "check", "--principal", &principal, "--action", action];
        args.extend(["--resource", resource, "--json"]);
        args.extend_from_slice(extra);
        let (ok, out, err) = env.cli(&args, None);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out} {err}"));
        (ok, v)
    };
    let (ok, v) = check("para", "document.download", &format!("document:{own}"), &[]);
    assert!(ok && v["allowed"] == true && v["policies"][0] == "members-work-in-their-matters", "{v}");
    let (ok, v) = check("para", "document.delete", &format!("document:{own}"), &[]);
    assert!(!ok && v["allowed"] == false && v["policies"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["explanation"].as_str().unwrap().contains("deny by default"));
    let (_, v) = check("att", "document.download", &format!("document:{restricted}"), &[]);
    assert_eq!(v["policies"][0], "restricted-office-network");
    let (ok, _) = check("att", "document.download", &format!("document:{restricted}"), &["--ip", "10.20.30.40"]);
    assert!(ok, "from the office network it is allowed");
    let (ok, v) = check("out", "matter.view", &format!("matter:{}", world.matters["own"]), &[]);
    assert!(!ok && v["allowed"] == false);

    let bad = Env::offline("policy_dir = \"/nonexistent-courier-policies\"\n");
    let (ok, _, err) = bad.cli(&["policy", "validate"], None);
    assert!(!ok && err.contains("nonexistent-courier-policies"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("zz-firm.cedar"),
        "// ok so far\npermit (principal, action, resource)\nwhen { principal.rank == \"partner\" };\n",
    )
    .unwrap();
    let bad = Env::offline(&format!("policy_dir = {:?}\n", dir.path().to_str().unwrap()));
    let (ok, _, err) = bad.cli(&["policy", "validate"], None);
    assert!(!ok && err.contains("zz-firm.cedar:3:"), "the file and line are named: {err}");
    let mut serve = bad.command();
    let out = serve.args(["serve", "--bind", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success(), "serve refuses to start");
    assert!(String::from_utf8_lossy(&out.stderr).contains("zz-firm.cedar:3:"));
}

#[tokio::test]
async fn the_access_review_flags_what_to_look_at_and_records_reviews() {
    let world = world();
    let env = &world.env;
    let own = &world.matters["own"];
    let d = doc_in(env, own, "x");
    env.cli_json(&["share", "create", "--matter", own, "--doc", &d, "--recipient", "Forever", "--json"], None);
    env.cli_json(&["portal", "create", "--label", "Open-ended", "--matter", own, "--json"], None);
    let conf = &world.matters["conf"];
    let intake = env.cli_json(&["portal", "create", "--label", "Closing", "--matter", conf, "--json"], None);
    let conf_doc = doc_in(env, conf, "c");
    let outgoing =
        env.cli_json(&["share", "create", "--matter", conf, "--doc", &conf_doc, "--recipient", "R", "--json"], None);
    let c = client();
    for link in [&intake, &outgoing] {
        assert_eq!(c.get(link["url"].as_str().unwrap()).send().await.unwrap().status(), 200);
    }
    env.cli_json(&["matter", "archive", conf, "--json"], None);
    for link in [&intake, &outgoing] {
        assert_eq!(c.get(link["url"].as_str().unwrap()).send().await.unwrap().status(), 404, "archiving closes links");
    }
    let shown = env.cli_json(&["share", "show", outgoing["id"].as_str().unwrap(), "--json"], None);
    assert_eq!(shown["status"], "closed");
    assert_eq!(env.cli_json(&["portal", "show", intake["id"].as_str().unwrap(), "--json"], None)["status"], "closed");
    let _ = signed_in(&world, "att").await;

    let report = env.cli_json(&["access", "review", "--json"], None);
    let user =
        |who: &str| report["users"].as_array().unwrap().iter().find(|u| u["email"] == email(who)).unwrap().clone();
    assert!(user("att")["last_login_at"].is_string());
    assert!(!user("att")["flags"].to_string().contains("never_signed_in"));
    assert!(user("para")["flags"].to_string().contains("never_signed_in"));
    assert!(user("para")["flags"].to_string().contains("member_of_archived_matter"));
    assert_eq!(user("att")["mfa"], serde_json::json!(["totp"]));
    assert!(user("att")["matters"].as_array().unwrap().iter().any(|m| m["role"] == "attorney"));
    let matter = report["matters"].as_array().unwrap().iter().find(|m| m["id"] == own.as_str()).unwrap().clone();
    let flags = matter["flags"].to_string();
    assert!(flags.contains("share_without_expiry") && flags.contains("portal_without_expiry"), "{flags}");
    assert!(matter["last_reviewed_at"].is_null());

    // An attorney records a review on the web; the admin page shows the date.
    let para = signed_in(&world, "para").await;
    let r = para
        .c
        .post(format!("{}/matters/{own}/review", env.base()))
        .form(&[("removed", "nothing"), ("note", "quarterly"), ("csrf_token", para.csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a paralegal does not review access");
    env.cli_json(&["access", "record", "--matter", own, "--removed", "share Forever", "--note", "Q4", "--json"], None);
    let report = env.cli_json(&["access", "review", "--json"], None);
    let matter = report["matters"].as_array().unwrap().iter().find(|m| m["id"] == own.as_str()).unwrap().clone();
    assert!(matter["last_reviewed_at"].is_string());
    let event = env.audit_events().into_iter().find(|e| e["action"] == "access.review").unwrap();
    assert_eq!(event["details"]["removed"], "share Forever");
    let admin = signed_in(&world, "admin").await;
    let page = admin.c.get(format!("{}/access-review", env.base())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("share_without_expiry") && html.contains("para@firm.example"));
    let r = para.c.get(format!("{}/access-review", env.base())).send().await.unwrap();
    assert_eq!(r.status(), 403);
}
