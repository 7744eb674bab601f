//! An in-process Courier for tests that need to reach its clock or its handles: the same
//! router `courier serve` runs, on a real socket with a real SQLite database.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use courier_server::{Config, Courier};
use totp_rs::{Algorithm, Secret, TOTP};

pub const PASSWORD: &str = "violet tractor harbour 42";

pub struct App {
    pub courier: Arc<Courier>,
    pub operator: courier_server::services::OperatorKey,
    pub base: String,
    _dir: tempfile::TempDir,
}

pub async fn start() -> App {
    // The test client's rustls needs a crypto provider for the process.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = Config { data_dir: dir.path().to_owned(), bind: listener.local_addr().unwrap(), ..Config::default() };
    let (courier, operator) = courier_server::startup::open(config).await.unwrap();
    let app = courier_server::web::router(courier.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    App { courier, operator, base, _dir: dir }
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("field") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Signs in with password and a TOTP code for Courier's (moved) clock; returns the client and
/// the session cookie's value.
pub async fn sign_in(app: &App, email: &str, secret: &str) -> (reqwest::Client, String) {
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
    let r = c.post(format!("{}/login/mfa", app.base)).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    (c, session)
}
