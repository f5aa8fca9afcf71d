//! The callback receiver: its own bound (a client's `callback_rate_per_sec`), and how it reads a
//! callback's state.

use crate::harness::{CALLBACK_PASSWORD, CALLBACK_USER, TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::Role;
use serde_json::json;

#[tokio::test]
async fn callbacks_faster_than_the_clients_rate_get_429_with_retry_after_and_are_counted() {
    let app = TestApp::start_with(|c| {
        let idm = c.clients.get_mut("idm").expect("the idm client");
        idm.callback_rate_per_sec = Some(3);
    })
    .await;
    let post = || {
        let body = json!({"commandId": unique("rate-"), "state": "COMPLETED"}).to_string();
        app.callback(
            "/clients/idm/rest/callback/sign",
            Some((CALLBACK_USER, CALLBACK_PASSWORD)),
            "application/json",
            body,
        )
    };
    // A second's worth at once…
    for _ in 0..3 {
        post().await.expect(200);
    }
    // …then refused, saying when to come back; nothing stored for it.
    let refused = post().await;
    refused.expect_problem(429, Some("too_many_callbacks"), None);
    let retry: u64 = refused
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let admin = app.session(Role::Admin).await;
    let stored = app
        .call(Method::GET, "/api/callbacks", &admin, None)
        .await
        .expect(200)
        .json();
    assert_eq!(stored["items"].as_array().map(Vec::len), Some(3));
    let metrics = app
        .call(Method::GET, "/metrics", &admin, None)
        .await
        .expect(200)
        .text();
    assert!(
        metrics.contains("hermod_console_callbacks_limited_total 1\n"),
        "{metrics}"
    );
    // A moment later the bucket has refilled.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    post().await.expect(200);
}

/// A state name of Hermod's own that `envelope.states` gives a meaning ends its command for good;
/// unconfigured, the same name is kept as it came and a later callback still moves the command.
#[tokio::test]
async fn a_configured_state_name_ends_its_command_as_the_state_it_means() {
    for (configured, first, last) in [
        (false, "CANCELLED", "COMPLETED"),
        (true, "REJECTED", "REJECTED"),
    ] {
        let app = TestApp::with_hermod_and(|c| {
            if configured {
                c.envelope
                    .states
                    .insert("Cancelled".into(), "rejected".into());
            }
        })
        .await;
        let operator = app.session(Role::Operator).await;
        let (id, command_id) = app
            .sent(&operator, "sign", sign_body(&unique("hold-states-"), 600))
            .await;
        let state_after = |state: &str| {
            let body = json!({"commandId": command_id, "state": state}).to_string();
            let (app, operator) = (&app, &operator);
            async move {
                app.sign_callback(body).await.expect(200);
                let path = format!("/api/commands/{id}");
                let detail = app.call(Method::GET, &path, operator, None).await;
                detail.expect(200).json()["command"]["state"].clone()
            }
        };
        assert_eq!(
            state_after("cancelled").await,
            first,
            "configured: {configured}"
        );
        assert_eq!(
            state_after("COMPLETED").await,
            last,
            "configured: {configured}"
        );
    }
}
