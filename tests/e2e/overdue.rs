//! Silence as an event: a command whose callback never comes is marked overdue in the live feed,
//! the commands list and `/metrics`, and told to `[overdue] notify_url` (retried when refused); the
//! callback that comes late clears the mark.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use hermod_console_tests::*;
use hermod_shared::console::FeedEvent;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a chat's incoming webhook was sent: every try, each notice as JSON.
type Tries = Arc<Mutex<Vec<Value>>>;

/// A webhook on a local port that refuses its first try with 500 and takes the rest; its URL
/// carries a token, as a chat's does.
async fn webhook(token: &str) -> (String, Tries) {
    let tries = Tries::default();
    let app = Router::new()
        .route(
            "/hooks/{token}",
            post(|State(tries): State<Tries>, body: String| async move {
                let mut tries = tries.lock().unwrap();
                tries.push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
                if tries.len() == 1 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }),
        )
        .with_state(tries.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/{token}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, tries)
}

#[tokio::test]
async fn a_command_whose_callback_never_comes_is_marked_overdue_told_and_cleared_by_a_late_one() {
    let token = unique("chat-token-");
    let (url, tries) = webhook(&token).await;
    let c = Console::demo()
        .env("HERMOD_CONSOLE__OVERDUE__AFTER_EXPIRY_SECS", "1")
        .env("HERMOD_CONSOLE__OVERDUE__EVERY_SECS", "1")
        .env("HERMOD_CONSOLE__OVERDUE__NOTIFY_URL", &url)
        .start()
        .await;
    let mut feed = c.events(None, None).await;
    // Both expire at 1 s: Hermod's callback for the first is lost on the way, the second gets its
    // EXPIRED callback.
    let silent = c.send("ping", ping_body(&unique("silent-"), 1)).await;
    let answered = c.send("ping", ping_body(&unique("expire-"), 1)).await;
    c.wait_for_state(answered.id, "EXPIRED").await;

    let seen = feed
        .feed_until(Duration::from_secs(20), |e| {
            matches!(e, FeedEvent::Overdue { .. })
        })
        .await;
    let FeedEvent::Overdue { command, .. } = seen.last().unwrap().feed() else {
        unreachable!()
    };
    assert_eq!(command.id, silent.id);
    assert!(command.overdue_at.is_some(), "{command:?}");

    // The list says which are overdue, and which not.
    let overdue = c.commands("?overdue=true").await.items;
    assert_eq!(
        overdue.iter().map(|c| c.id).collect::<Vec<_>>(),
        [silent.id]
    );
    assert!(overdue[0].overdue_at.is_some());
    let others = c.commands("?overdue=false").await.items;
    assert!(others.iter().any(|c| c.id == answered.id));
    assert!(others.iter().all(|c| c.id != silent.id));
    c.get("/api/commands?overdue=maybe").await.expect_problem(
        422,
        Some("invalid_field"),
        Some("overdue"),
    );

    // Told once, after one refused try: the second try is the same notice.
    let notices = wait_until(
        "the notice to be taken",
        Duration::from_secs(15),
        || async {
            let tries = tries.lock().unwrap().clone();
            (tries.len() >= 2).then_some(tries)
        },
    )
    .await;
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert_eq!(notices[0], notices[1]);
    let notice = &notices[1];
    assert_eq!(notice["event"], "overdue");
    assert_eq!(notice["command"]["id"], json!(silent.id));
    assert_eq!(notice["command"]["command_id"], json!(silent.command_id));
    assert!(
        notice["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/commands/{}", silent.id))),
        "{notice}"
    );
    let text = notice["text"].as_str().unwrap_or_default();
    assert!(text.contains(&format!("ping #{}", silent.id)), "{text}");
    // Nothing of the request: a chat is not where personal data goes.
    assert!(notice["command"].get("request").is_none(), "{notice}");
    c.assert_metric("hermod_console_commands_overdue_total 1")
        .await;
    c.assert_metric(r#"hermod_console_overdue_notices_total{outcome="sent"} 1"#)
        .await;
    // The URL's token is a secret: the refused try was logged without it.
    let log = c.log();
    assert!(log.contains("overdue notice refused"), "{log}");
    assert!(
        !log.contains(&token),
        "the notify URL's token is in the log"
    );

    // The callback that finally comes clears the mark.
    let body = json!({
        "commandId": silent.command_id,
        "state": "COMPLETED",
        "externalId": silent.external_id,
    });
    c.post_callback(
        "/clients/idm/rest/callback/ping",
        Some(c.idm_auth()),
        "application/json",
        body.to_string(),
    )
    .await
    .expect(200);
    let seen = feed
        .feed_until(
            Duration::from_secs(10),
            |e| matches!(e, FeedEvent::Command { command, .. } if command.id == silent.id),
        )
        .await;
    let FeedEvent::Command { command, .. } = seen.last().unwrap().feed() else {
        unreachable!()
    };
    assert_eq!(command.overdue_at, None);
    assert_eq!(command.state.as_str(), "COMPLETED");
    assert!(c.commands("?overdue=true").await.items.is_empty());
}
