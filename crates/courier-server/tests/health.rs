//! `/healthz` over real HTTP: `ok` while the database answers, and a 503 naming the database
//! once it does not (here: its pool closed under the running server).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[tokio::test]
async fn the_health_check_names_the_database_when_it_fails() {
    let app = common::start().await;
    let c = reqwest::Client::new();
    let r = c.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!((r.status().as_u16(), r.text().await.unwrap()), (200, "ok".to_owned()));
    app.courier.close().await;
    let r = c.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let body = r.text().await.unwrap();
    assert!(body.starts_with("unhealthy: database"), "{body}");
}
