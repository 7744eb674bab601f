//! Sign-in lockout: ten failures in the window lock an account, unknown e-mails behave exactly
//! alike, wrong TOTP codes count too, every step is audited, and the operator unlocks.

use crate::harness::{Env, PASSWORD, client, hidden_field, totp_code};

/// Posts the password form; returns the status and the form's error text.
async fn password_attempt(env: &Env, c: &reqwest::Client, email: &str, password: &str) -> (u16, String) {
    let page = c.get(format!("{}/login", env.base())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden_field(&page, "csrf_token");
    let r = c
        .post(format!("{}/login", env.base()))
        .form(&[("email", email), ("password", password), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, alert(&r.text().await.unwrap()))
}

fn alert(html: &str) -> String {
    html.split("role=\"alert\">").nth(1).and_then(|s| s.split("</p>").next()).unwrap_or_default().to_owned()
}

/// The lock message without its time, which differs by the milliseconds between two locks.
fn without_time(message: &str) -> String {
    message.split(" until ").next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn ten_failures_lock_an_account_unknown_emails_alike_and_the_operator_unlocks() {
    let env = Env::start_with_config("login_delay_max_ms = 20\n");
    let user = env.create_user("ada@firm.example", "attorney");
    let c = client();
    for _ in 0..10 {
        let real = password_attempt(&env, &c, "ada@firm.example", "not the password!").await;
        let ghost = password_attempt(&env, &c, "ghost@firm.example", "not the password!").await;
        assert_eq!(real.0, 401);
        assert_eq!(real, ghost, "an unknown e-mail gets the same answer");
    }
    let real = password_attempt(&env, &c, "ada@firm.example", PASSWORD).await;
    let ghost = password_attempt(&env, &c, "ghost@firm.example", PASSWORD).await;
    assert_eq!(real.0, 429, "locked even with the right password");
    assert!(real.1.contains("locked"), "{}", real.1);
    assert_eq!((real.0, without_time(&real.1)), (ghost.0, without_time(&ghost.1)));

    let events = env.audit_events();
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("account.locked"), 2);
    assert_eq!(count("login.locked_out"), 2);
    assert_eq!(count("login.failed"), 20);
    assert!(!events.iter().any(|e| e.to_string().contains("not the password!")), "no password in the trail");

    let unlocked = env.cli_json(&["user", "unlock", "--email", "ada@firm.example", "--json"], None);
    assert_eq!(unlocked["was_locked"], true);
    assert_eq!(count_after(&env, "account.unlock"), 1);
    let (status, _) = password_attempt(&env, &c, "ada@firm.example", PASSWORD).await;
    assert_eq!(status, 303);

    // Wrong codes count as failures too: the tenth locks, and then the right code is refused.
    let csrf = hidden_field(
        &c.get(format!("{}/login/mfa", env.base())).send().await.unwrap().text().await.unwrap(),
        "csrf_token",
    );
    for _ in 0..10 {
        let r = c.post(format!("{}/login/mfa", env.base())).form(&[("code", "000000"), ("csrf_token", &csrf)]).send();
        assert_eq!(r.await.unwrap().status(), 401);
    }
    let secret = user["totp_secret"].as_str().unwrap();
    let r = c
        .post(format!("{}/login/mfa", env.base()))
        .form(&[("code", totp_code(secret).as_str()), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(env.audit_ok());
}

fn count_after(env: &Env, action: &str) -> usize {
    env.audit_events().iter().filter(|e| e["action"] == action).count()
}

#[tokio::test]
async fn a_lock_runs_out_by_itself() {
    let env = Env::start_with_config("lockout_threshold = 2\nlockout_secs = 1\nlogin_delay_max_ms = 1\n");
    env.create_user("bo@firm.example", "paralegal");
    let c = client();
    for _ in 0..2 {
        assert_eq!(password_attempt(&env, &c, "bo@firm.example", "wrong wrong wrong").await.0, 401);
    }
    assert_eq!(password_attempt(&env, &c, "bo@firm.example", PASSWORD).await.0, 429);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(password_attempt(&env, &c, "bo@firm.example", PASSWORD).await.0, 303);
}
