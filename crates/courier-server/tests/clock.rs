//! Timeouts over real HTTP (session idle and absolute timeouts, API token expiry), with
//! Courier's clock moved forward instead of sleeping. The server runs in this process so the test can reach its clock; it
//! is the same router `courier serve` runs, on a real socket with a real SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use courier_server::services::api_tokens::Scope;
use courier_server::services::staff::Role;
use courier_server::{Config, Courier};
use totp_rs::{Algorithm, Secret, TOTP};
use zeroize::Zeroizing;

const PASSWORD: &str = "violet tractor harbour 42";
const MINUTE: Duration = Duration::from_secs(60);

struct App {
    courier: Arc<Courier>,
    base: String,
    _dir: tempfile::TempDir,
}

async fn start() -> App {
    // The test client's rustls needs a crypto provider for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config { data_dir: dir.path().to_owned(), bind: listener.local_addr().unwrap(), ..Config::default() };
    let courier = courier_server::startup::open(config).await.unwrap();
    let app = courier_server::web::router(courier.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    App { courier, base, _dir: dir }
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs in with password and a TOTP code for Courier's (moved) clock.
async fn sign_in(app: &App, email: &str, secret: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).cookie_store(true).build().unwrap();
    let page = c.get(format!("{}/login", app.base)).send().await.unwrap().text().await.unwrap();
    let form = [("email", email), ("password", PASSWORD), ("csrf_token", &hidden(&page, "csrf_token"))];
    assert_eq!(c.post(format!("{}/login", app.base)).form(&form).send().await.unwrap().status(), 303);
    let page = c.get(format!("{}/login/mfa", app.base)).send().await.unwrap().text().await.unwrap();
    let totp =
        TOTP::new(Algorithm::SHA1, 6, 1, 30, Secret::Encoded(secret.into()).to_bytes().unwrap(), None, String::new())
            .unwrap();
    let code = totp.generate((app.courier.clock().now_ms() / 1000) as u64);
    let form = [("code", code.as_str()), ("csrf_token", &hidden(&page, "csrf_token"))];
    assert_eq!(c.post(format!("{}/login/mfa", app.base)).form(&form).send().await.unwrap().status(), 303);
    c
}

async fn portals(app: &App, c: &reqwest::Client) -> u16 {
    c.get(format!("{}/portals", app.base)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn sessions_end_after_30_idle_minutes_and_12_hours_in_all() {
    let app = start().await;
    let operator = app.courier.operator();
    let user = operator.create_user("ida@firm.example", Role::Attorney, Zeroizing::new(PASSWORD.into())).await.unwrap();

    // Idle: use keeps it alive; 31 minutes without a request end it.
    let c = sign_in(&app, "ida@firm.example", &user.totp_secret).await;
    for _ in 0..3 {
        app.courier.clock().advance(29 * MINUTE);
        assert_eq!(portals(&app, &c).await, 200, "used within 30 minutes");
    }
    app.courier.clock().advance(31 * MINUTE);
    assert_eq!(portals(&app, &c).await, 303, "idle for 31 minutes");
    assert_eq!(portals(&app, &c).await, 303, "and gone for good");

    // Absolute: even in constant use, a session ends 12 hours after sign-in.
    let c = sign_in(&app, "ida@firm.example", &user.totp_secret).await;
    for _ in 0..28 {
        app.courier.clock().advance(25 * MINUTE);
        assert_eq!(portals(&app, &c).await, 200, "within 12 hours");
    }
    // 11 h 40 min so far.
    app.courier.clock().advance(25 * MINUTE);
    assert_eq!(portals(&app, &c).await, 303, "past 12 hours");
}

#[tokio::test]
async fn an_api_token_stops_working_when_it_expires() {
    let app = start().await;
    let operator = app.courier.operator();
    let user = operator.create_user("tom@firm.example", Role::Attorney, Zeroizing::new(PASSWORD.into())).await.unwrap();
    let token =
        operator.create_api_token(&user.id, "nightly import", &[Scope::PortalsRead], Some(60 * MINUTE)).await.unwrap();
    let me = || async {
        reqwest::Client::new()
            .get(format!("{}/api/v1/me", app.base))
            .bearer_auth(&token.token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(me().await, 200);
    app.courier.clock().advance(59 * MINUTE);
    assert_eq!(me().await, 200, "within its hour");
    app.courier.clock().advance(2 * MINUTE);
    assert_eq!(me().await, 401, "expired");
    let listed = operator.list_api_tokens(None).await.unwrap();
    assert_eq!(listed[0].status, "expired");
}
