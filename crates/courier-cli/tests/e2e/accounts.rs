//! Staff account management end to end: recovery codes, invitations and enrolment, MFA reset,
//! disable/enable and role changes with the last admin protected, single session and the
//! session list, password change. Over HTTP against the real binary, and through the CLI.

use serde_json::Value;

use crate::harness::{Env, PASSWORD, client, csrf_of, hidden_field, password_step, second_factor, sign_in, totp_code};

fn codes(user: &Value) -> Vec<String> {
    user["recovery_codes"].as_array().expect("recovery codes").iter().map(|c| c.as_str().unwrap().to_owned()).collect()
}

fn events<'a>(all: &'a [Value], action: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["action"] == action).collect()
}

fn user_row(env: &Env, email: &str) -> Value {
    let list = env.cli_json(&["user", "list", "--json"], None);
    list.as_array().unwrap().iter().find(|u| u["email"] == email).cloned().unwrap_or_else(|| panic!("{email}"))
}

/// A page's text with minijinja's escaping of `/` undone.
async fn page_of(r: reqwest::Response) -> String {
    r.text().await.unwrap().replace("&#x2f;", "/")
}

async fn status_of(c: &reqwest::Client, url: String) -> u16 {
    c.get(url).send().await.unwrap().status().as_u16()
}

/// The text between `start` and the next `end` in a page.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}")) + start.len();
    html[from..].split(end).next().unwrap()
}

/// The recovery codes listed on a page.
fn listed_codes(html: &str) -> Vec<String> {
    between(html, "<ol class=\"codes\">", "</ol>")
        .split("<li>")
        .filter_map(|li| li.split("</li>").next())
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn recovery_codes_sign_in_once_and_can_be_regenerated() {
    let env = Env::start();
    let user = env.create_user("rita@firm.example", "attorney");
    let first = codes(&user);
    assert_eq!(first.len(), 10);

    let c = client();
    password_step(&c, env.base(), "rita@firm.example", PASSWORD).await;
    let r = second_factor(&c, env.base(), &first[0]).await;
    assert_eq!(r.status(), 303, "a recovery code is a second factor");
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 200);

    // Used once, it is refused the next time.
    let again = client();
    password_step(&again, env.base(), "rita@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&again, env.base(), &first[0]).await.status(), 401);
    let all = env.audit_events();
    let used = events(&all, "mfa.recovery_code_used");
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["details"]["remaining"], 9);
    assert!(events(&all, "login.success").iter().any(|e| e["details"]["method"] == "recovery_code"));
    assert!(!all.iter().any(|e| e.to_string().contains(&first[0])), "no code in the trail");

    // New codes need the CSRF token; then the old ones stop working and the new ones work.
    let r = c
        .post(format!("{}/account/recovery-codes", env.base()))
        .form(&[("csrf_token", "x"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let csrf = csrf_of(&c, env.base()).await;
    // And the password again: a change to how one signs in needs it (ASVS 7.5.1).
    let r = c
        .post(format!("{}/account/recovery-codes", env.base()))
        .form(&[("csrf_token", csrf.as_str()), ("password", "not my password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("password is not right"));
    let page = c
        .post(format!("{}/account/recovery-codes", env.base()))
        .form(&[("csrf_token", csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let second = listed_codes(&page);
    assert_eq!(second.len(), 10, "{page}");
    assert!(second.iter().all(|code| !first.contains(code)));
    let late = client();
    password_step(&late, env.base(), "rita@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&late, env.base(), &first[1]).await.status(), 401, "old codes are gone");
    assert_eq!(second_factor(&late, env.base(), &second[3].to_uppercase().replace('-', " ")).await.status(), 303);
    assert_eq!(events(&env.audit_events(), "mfa.recovery_codes_regenerated").len(), 1);
    assert_eq!(user_row(&env, "rita@firm.example")["recovery_codes_left"], 9);
}

#[tokio::test]
async fn an_invited_user_sets_a_password_enrols_and_gets_recovery_codes() {
    let env = Env::start();
    let inv = env.cli_json(&["user", "invite", "--email", "ivy@firm.example", "--role", "paralegal", "--json"], None);
    let url = inv["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/invite/", env.base())));
    assert_eq!(inv["token"].as_str().unwrap().len(), 43);
    assert_eq!(user_row(&env, "ivy@firm.example")["status"], "invited");

    // Not yet a password: signing in fails exactly like a wrong password.
    let c = client();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c
        .post(format!("{}/login", env.base()))
        .form(&[("email", "ivy@firm.example"), ("password", ""), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let page = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("ivy@firm.example"));
    let csrf = hidden_field(&page, "csrf_token");
    let weak = [("password", "password1234"), ("password_again", "password1234"), ("csrf_token", &csrf)];
    let r = c.post(&url).form(&weak).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("too easy to guess"));
    let r = c.post(&url).form(&[("password", PASSWORD), ("password_again", PASSWORD)]).send().await.unwrap();
    assert!(r.status() == 403 || r.status() == 422, "no CSRF token: {}", r.status());
    let good = [("password", PASSWORD), ("password_again", PASSWORD), ("csrf_token", &csrf)];
    let r = c.post(&url).form(&good).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login/mfa");
    // Single use: the link is now the uniform 404.
    let gone = client().get(&url).send().await.unwrap();
    assert_eq!(gone.status(), 404);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 303, "not signed in before enrolment");

    // Enrolment: a new secret, a code from it, then ten recovery codes shown once.
    let page = c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg"), "a QR code");
    let secret = between(&page, "<code class=\"hash\">", "</code>").to_owned();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c
        .post(format!("{}/login/mfa", env.base()))
        .form(&[("code", "000000"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A failed attempt offers a new secret; the code must come from the one shown last.
    let page = r.text().await.unwrap();
    let secret2 = between(&page, "<code class=\"hash\">", "</code>").to_owned();
    assert_ne!(secret, secret2);
    let r = c
        .post(format!("{}/login/mfa", env.base()))
        .form(&[("code", totp_code(&secret2).as_str()), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let recovery = listed_codes(&page);
    assert_eq!(recovery.len(), 10);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 200, "signed in");
    let row = user_row(&env, "ivy@firm.example");
    assert_eq!((row["status"].as_str(), row["role"].as_str()), (Some("active"), Some("paralegal")));
    assert_eq!(row["mfa"][0], "totp");
    assert_eq!(row["recovery_codes_left"], 10);
    let all = env.audit_events();
    for action in ["user.invite", "user.invitation_accepted", "mfa.enrolled"] {
        assert_eq!(events(&all, action).len(), 1, "{action}");
    }

    // Admins invite on the users page; a paralegal may not; anonymous requests go to login.
    let admin = client();
    let (csrf, _) = sign_in(&env, &admin, "ada@firm.example", "admin").await;
    let form = [("email", "neo@firm.example"), ("role", "attorney"), ("department", "Tax"), ("csrf_token", &csrf)];
    let r = admin.post(format!("{}/users/invite", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 201);
    assert!(page_of(r).await.contains(&format!("{}/invite/", env.base())));
    assert_eq!(user_row(&env, "neo@firm.example")["department"], "Tax");
    let page = admin.get(format!("{}/users", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("neo@firm.example") && page.contains("invited"));
    let ivy_csrf = csrf_of(&c, env.base()).await;
    let form = [("email", "eve@firm.example"), ("role", "admin"), ("csrf_token", &ivy_csrf)];
    let r = c.post(format!("{}/users/invite", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(status_of(&c, format!("{}/users", env.base())).await, 403);
    assert!(!env.cli(&["user", "list"], None).1.contains("eve@"));
    // An existing account cannot be invited again.
    let (ok, _, err) = env.cli(&["user", "invite", "--email", "ivy@firm.example", "--role", "admin"], None);
    assert!(!ok && err.contains("exists"), "{err}");
}

#[tokio::test]
async fn an_mfa_reset_ends_sessions_and_the_user_enrols_again() {
    let env = Env::start();
    let c = client();
    let (_, user) = sign_in(&env, &c, "max@firm.example", "attorney").await;
    let old_secret = user["totp_secret"].as_str().unwrap().to_owned();
    assert!(env.cli(&["user", "reset-mfa", "--email", "max@firm.example"], None).0);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 303, "the reset ended the session");
    let row = user_row(&env, "max@firm.example");
    assert_eq!(row["mfa"], serde_json::json!([]));
    assert_eq!(row["recovery_codes_left"], 0);
    let reset = env.audit_events().into_iter().find(|e| e["action"] == "user.mfa_reset").expect("audited");
    assert_eq!(reset["details"]["before"]["mfa"][0], "totp");
    assert_eq!(reset["details"]["after"]["mfa"], serde_json::json!([]));

    // Neither the old authenticator nor an old recovery code is accepted any more.
    let c = client();
    password_step(&c, env.base(), "max@firm.example", PASSWORD).await;
    let page = c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Set up your authenticator"), "{page}");
    let csrf = hidden_field(&page, "csrf_token");
    for code in [totp_code(&old_secret), codes(&user)[0].clone()] {
        let r = c
            .post(format!("{}/login/mfa", env.base()))
            .form(&[("code", code.as_str()), ("csrf_token", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{code}");
    }
    let page = c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    let secret = between(&page, "<code class=\"hash\">", "</code>").to_owned();
    let r = c
        .post(format!("{}/login/mfa", env.base()))
        .form(&[("code", totp_code(&secret).as_str()), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 200);
}

#[tokio::test]
async fn disabling_and_role_changes_end_sessions_and_keep_one_admin() {
    let env = Env::start();
    env.create_user("a1@firm.example", "admin");
    // The only admin can be neither disabled nor demoted.
    for args in [
        &["user", "disable", "--email", "a1@firm.example"][..],
        &["user", "set-role", "--email", "a1@firm.example", "--role", "attorney"][..],
    ] {
        let (ok, _, err) = env.cli(args, None);
        assert!(!ok && err.contains("last enabled administrator"), "{args:?}: {err}");
    }
    assert_eq!(user_row(&env, "a1@firm.example")["role"], "admin");

    let admin = client();
    let (csrf, _) = sign_in(&env, &admin, "a2@firm.example", "admin").await;
    let lee = client();
    let (lee_csrf, lee_user) = sign_in(&env, &lee, "lee@firm.example", "attorney").await;
    let lee_id = lee_user["id"].as_str().unwrap().to_owned();

    // A non-admin may not, and no request without the CSRF token does anything.
    let a1 = user_row(&env, "a1@firm.example")["id"].as_str().unwrap().to_owned();
    let r = lee.post(format!("{}/users/{a1}/disable", env.base())).form(&[("csrf_token", &lee_csrf)]).send().await;
    assert_eq!(r.unwrap().status(), 403);
    let r = admin.post(format!("{}/users/{lee_id}/disable", env.base())).form(&[("csrf_token", "")]).send().await;
    assert_eq!(r.unwrap().status(), 403);
    assert_eq!(user_row(&env, "lee@firm.example")["status"], "active");
    assert_eq!(user_row(&env, "a1@firm.example")["status"], "active");

    // Disabling ends the user's sessions and sign-in fails like a wrong password.
    let r = admin.post(format!("{}/users/{lee_id}/disable", env.base())).form(&[("csrf_token", &csrf)]).send().await;
    assert_eq!(r.unwrap().status(), 303);
    assert_eq!(status_of(&lee, format!("{}/portals", env.base())).await, 303);
    let fresh = client();
    let page = fresh.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let login =
        [("email", "lee@firm.example"), ("password", PASSWORD), ("csrf_token", &hidden_field(&page, "csrf_token"))];
    assert_eq!(fresh.post(format!("{}/login", env.base())).form(&login).send().await.unwrap().status(), 401);
    let r = admin.post(format!("{}/users/{lee_id}/enable", env.base())).form(&[("csrf_token", &csrf)]).send().await;
    assert_eq!(r.unwrap().status(), 303);
    assert_eq!(user_row(&env, "lee@firm.example")["status"], "active");

    // With a second admin, the first can be demoted; then the second is the last one.
    let r = admin
        .post(format!("{}/users/{a1}/role", env.base()))
        .form(&[("csrf_token", csrf.as_str()), ("role", "attorney")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let a2 = user_row(&env, "a2@firm.example")["id"].as_str().unwrap().to_owned();
    let r = admin.post(format!("{}/users/{a2}/disable", env.base())).form(&[("csrf_token", &csrf)]).send().await;
    let r = r.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("last enabled administrator"));
    assert_eq!(user_row(&env, "a2@firm.example")["status"], "active");

    let all = env.audit_events();
    let role = events(&all, "user.role");
    assert_eq!(role.len(), 1);
    assert_eq!(role[0]["details"]["before"]["role"], "admin");
    assert_eq!(role[0]["details"]["after"]["role"], "attorney");
    let disable = events(&all, "user.disable");
    assert_eq!(disable.len(), 1);
    assert_eq!(disable[0]["details"]["before"]["disabled"], false);
    assert_eq!(disable[0]["details"]["after"]["disabled"], true);
    assert_eq!(disable[0]["details"]["sessions_ended"], 1);
    assert_eq!(events(&all, "user.enable").len(), 1);
}

#[tokio::test]
async fn a_new_sign_in_ends_older_sessions_and_says_so_once() {
    let env = Env::start();
    let first = client();
    let (_, user) = sign_in(&env, &first, "sol@firm.example", "attorney").await;
    let recovery = codes(&user);

    let second = client();
    password_step(&second, env.base(), "sol@firm.example", PASSWORD).await;
    let pending = second.get(format!("{}/login/mfa", env.base())).send().await.unwrap();
    assert_eq!(pending.status(), 200);
    assert_eq!(status_of(&first, format!("{}/portals", env.base())).await, 200, "a half sign-in ends nothing");
    let r = second_factor(&second, env.base(), &recovery[0]).await;
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("courier_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
    );

    assert_eq!(status_of(&first, format!("{}/portals", env.base())).await, 303, "the older session ended");
    let page = second.get(format!("{}/portals", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("still signed in elsewhere"), "{page}");
    let page = second.get(format!("{}/portals", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("still signed in elsewhere"), "shown once");
    let ended = env.audit_events().into_iter().filter(|e| e["action"] == "session.ended_by_new_login").count();
    assert_eq!(ended, 1);
}

#[tokio::test]
async fn without_single_session_users_see_and_end_their_sessions() {
    let env = Env::start_with_config("single_session = false\n");
    let laptop = client();
    let (_, user) = sign_in(&env, &laptop, "tia@firm.example", "attorney").await;
    let _ = client();
    let phone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent("PhoneBrowser/1.0")
        .build()
        .unwrap();
    password_step(&phone, env.base(), "tia@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&phone, env.base(), &codes(&user)[0]).await.status(), 303);
    assert_eq!(status_of(&laptop, format!("{}/portals", env.base())).await, 200, "both sessions live");

    let page = page_of(laptop.get(format!("{}/account", env.base())).send().await.unwrap()).await;
    assert!(page.contains("PhoneBrowser/1.0") && page.contains("127.0.0.1") && page.contains("this session"));
    let handle = between(&page, "formaction=\"/account/sessions/", "/end").to_owned();
    let csrf = hidden_field(&page, "csrf_token");

    // Someone else cannot end it; its owner can.
    let other = client();
    let (other_csrf, _) = sign_in(&env, &other, "uma@firm.example", "attorney").await;
    let r = other
        .post(format!("{}/account/sessions/{handle}/end", env.base()))
        .form(&[("csrf_token", other_csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(status_of(&phone, format!("{}/portals", env.base())).await, 200);
    let end = |password: &'static str| {
        let form = [("csrf_token", csrf.clone()), ("password", password.to_owned())];
        laptop.post(format!("{}/account/sessions/{handle}/end", env.base())).form(&form).send()
    };
    assert_eq!(end("not my password").await.unwrap().status(), 400, "ending a session needs the password");
    assert_eq!(status_of(&phone, format!("{}/portals", env.base())).await, 200);
    let r = end(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&phone, format!("{}/portals", env.base())).await, 303);
    assert_eq!(status_of(&laptop, format!("{}/portals", env.base())).await, 200);

    // "End all other sessions", with the password, leaves only this one.
    let tablet = client();
    password_step(&tablet, env.base(), "tia@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&tablet, env.base(), &codes(&user)[1]).await.status(), 303);
    let form = [("csrf_token", csrf.as_str()), ("password", PASSWORD)];
    let r = laptop.post(format!("{}/account/sessions/end-others", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(status_of(&tablet, format!("{}/portals", env.base())).await, 303);
    assert_eq!(status_of(&laptop, format!("{}/portals", env.base())).await, 200);
    assert_eq!(events(&env.audit_events(), "session.ended_others").len(), 1);

    // The operator (or an admin) ends all of a user's sessions.
    let (ok, out, _) = env.cli(&["user", "end-sessions", "--email", "tia@firm.example"], None);
    assert!(ok && out.contains("1 sessions ended"), "{out}");
    assert_eq!(status_of(&laptop, format!("{}/portals", env.base())).await, 303);
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_other_sessions() {
    let env = Env::start_with_config("single_session = false\n");
    let laptop = client();
    let (_, user) = sign_in(&env, &laptop, "pat@firm.example", "attorney").await;
    let phone = client();
    password_step(&phone, env.base(), "pat@firm.example", PASSWORD).await;
    assert_eq!(second_factor(&phone, env.base(), &codes(&user)[0]).await.status(), 303);
    let csrf = csrf_of(&laptop, env.base()).await;
    let new = "quiet lantern orchard 77";

    let form = [("current", "not my password"), ("password", new), ("password_again", new), ("csrf_token", &csrf)];
    let r = laptop.post(format!("{}/account/password", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let form = [("current", PASSWORD), ("password", new), ("password_again", new), ("csrf_token", "nope")];
    assert_eq!(laptop.post(format!("{}/account/password", env.base())).form(&form).send().await.unwrap().status(), 403);
    assert_eq!(status_of(&phone, format!("{}/portals", env.base())).await, 200, "nothing changed");

    let form = [("current", PASSWORD), ("password", new), ("password_again", new), ("csrf_token", &csrf)];
    let r = laptop.post(format!("{}/account/password", env.base())).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["set-cookie"].to_str().unwrap().starts_with("courier_session="), "a fresh session id");
    assert_eq!(status_of(&phone, format!("{}/portals", env.base())).await, 303, "other sessions ended");
    assert_eq!(status_of(&laptop, format!("{}/portals", env.base())).await, 200, "this one goes on");

    let c = client();
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let login =
        [("email", "pat@firm.example"), ("password", PASSWORD), ("csrf_token", &hidden_field(&page, "csrf_token"))];
    assert_eq!(c.post(format!("{}/login", env.base())).form(&login).send().await.unwrap().status(), 401);
    password_step(&c, env.base(), "pat@firm.example", new).await;
    assert_eq!(second_factor(&c, env.base(), &codes(&user)[1]).await.status(), 303);
    let changed = env.audit_events().into_iter().find(|e| e["action"] == "user.password_changed").expect("audited");
    assert_eq!(changed["details"]["sessions_ended"], 1);
}

#[tokio::test]
async fn a_password_reset_link_sets_a_new_password_but_still_asks_for_the_second_factor() {
    let env = Env::start();
    let old = client();
    let (_, user) = sign_in(&env, &old, "zoe@firm.example", "attorney").await;
    let other = client();
    sign_in(&env, &other, "yan@firm.example", "attorney").await;
    let link = env.cli_json(&["user", "reset-password", "--email", "zoe@firm.example", "--json"], None);
    let url = link["url"].as_str().unwrap().to_owned();

    let c = client();
    let page = c.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Choose a new password"), "{page}");
    let csrf = hidden_field(&page, "csrf_token");
    let new = "amber kettle meadow 19";
    let r =
        c.post(&url).form(&[("password", new), ("password_again", new), ("csrf_token", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login/mfa");
    assert_eq!(status_of(&old, format!("{}/portals", env.base())).await, 303, "the old sessions ended");
    // Not signed in yet: the second factor is still asked for, not an enrolment.
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 303);
    let page = c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Verification code") && !page.contains("Set up your authenticator"));
    assert_eq!(second_factor(&c, env.base(), &codes(&user)[0]).await.status(), 303);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 200);
    assert_eq!(client().get(&url).send().await.unwrap().status(), 404, "single use");

    let fresh = client();
    let page = fresh.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let login =
        [("email", "zoe@firm.example"), ("password", PASSWORD), ("csrf_token", &hidden_field(&page, "csrf_token"))];
    assert_eq!(fresh.post(format!("{}/login", env.base())).form(&login).send().await.unwrap().status(), 401);
    let all = env.audit_events();
    assert_eq!(events(&all, "user.password_reset_issued").len(), 1);
    assert_eq!(events(&all, "user.password_reset").len(), 1);

    // The operator (or an admin) can end every session of everyone at once.
    assert_eq!(status_of(&other, format!("{}/portals", env.base())).await, 200);
    let (ok, out, err) = env.cli(&["user", "end-sessions", "--all"], None);
    assert!(ok && out.contains("sessions ended"), "{err}");
    assert_eq!(status_of(&other, format!("{}/portals", env.base())).await, 303);
    assert_eq!(status_of(&c, format!("{}/portals", env.base())).await, 303);
    assert_eq!(events(&env.audit_events(), "sessions.ended_all").len(), 1);
}
