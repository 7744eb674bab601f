//! Timeouts over real HTTP (session idle and absolute timeouts, API token expiry), with
//! Courier's clock moved forward instead of sleeping. The server runs in this process so the test can reach its clock; it
//! is the same router `courier serve` runs, on a real socket with a real SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{App, PASSWORD, sign_in, start};
use courier_server::services::api_tokens::Scope;
use courier_server::services::staff::Role;
use zeroize::Zeroizing;

const MINUTE: Duration = Duration::from_secs(60);

async fn portals(app: &App, c: &reqwest::Client) -> u16 {
    c.get(format!("{}/portals", app.base)).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn sessions_end_after_30_idle_minutes_and_12_hours_in_all() {
    let app = start().await;
    let operator = app.courier.operator(&app.operator);
    let user = operator.create_user("ida@firm.example", Role::Attorney, Zeroizing::new(PASSWORD.into())).await.unwrap();

    // Idle: use keeps it alive; 31 minutes without a request end it.
    let (c, _) = sign_in(&app, "ida@firm.example", &user.totp_secret).await;
    for _ in 0..3 {
        app.courier.clock().advance(29 * MINUTE);
        assert_eq!(portals(&app, &c).await, 200, "used within 30 minutes");
    }
    app.courier.clock().advance(31 * MINUTE);
    assert_eq!(portals(&app, &c).await, 303, "idle for 31 minutes");
    assert_eq!(portals(&app, &c).await, 303, "and gone for good");

    // Absolute: even in constant use, a session ends 12 hours after sign-in.
    let (c, _) = sign_in(&app, "ida@firm.example", &user.totp_secret).await;
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
    let operator = app.courier.operator(&app.operator);
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
