//! The Overview (README.md, "The console": Overview): the commands of a window per type and client, how they
//! ended, and how long their first callback took.

use crate::harness::{TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::clock::{now_ms, rfc3339};
use hermod_shared::console::Role;
use hermod_shared::overview::Overview;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

#[tokio::test]
async fn the_overview_counts_each_outcome_per_type_and_client_with_the_time_to_callback() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let viewer = app.session(Role::Viewer).await;
    let started = now_ms();
    let held = || {
        let (app, operator) = (&app, &operator);
        async move {
            let body = sign_body(&unique("hold-overview-"), 60);
            app.sent(operator, "sign", body).await.1
        }
    };
    let call_back = |command_id: serde_json::Value, state: &str| {
        let app = &app;
        let callback = json!({"commandId": command_id, "state": state});
        async move { app.sign_callback(callback.to_string()).await.expect(200) }
    };
    let (quick, slow, rejected, _waiting) =
        (held().await, held().await, held().await, held().await);
    call_back(quick.clone(), "COMPLETED").await;
    call_back(rejected, "REJECTED").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    call_back(slow, "COMPLETED").await;
    // A second callback for a command does not make it count twice, nor move its first one.
    call_back(quick, "COMPLETED").await;

    let overview = |query: String| {
        let (app, viewer) = (&app, &viewer);
        async move {
            app.call(Method::GET, &format!("/api/overview{query}"), viewer, None)
                .await
                .expect(200)
                .parse::<Overview>()
        }
    };
    let day = overview(String::new()).await;
    assert_eq!(day.rows.len(), 1, "{day:?}");
    let row = &day.rows[0];
    assert_eq!(
        (row.command_type.as_str(), row.client.as_str()),
        ("sign", "idm")
    );
    assert_eq!(row.total, 4);
    let states: BTreeMap<&str, u64> = row.states.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    assert_eq!(
        states,
        BTreeMap::from([("COMPLETED", 2), ("IN_PROGRESS", 1), ("REJECTED", 1)])
    );
    assert_eq!(row.called_back, 3);
    // Three waits: two at once, one after 600 ms: the median is a quick one, the 95th the slow one.
    let (p50, p95) = (row.callback_p50_ms.unwrap(), row.callback_p95_ms.unwrap());
    assert!(p50 < 600 && p95 >= 600, "p50 {p50} ms, p95 {p95} ms");

    // A window before any of them: nothing; the window as read comes back.
    let before = rfc3339(started - 1);
    let earlier = overview(format!("?until={before}")).await;
    assert!(earlier.rows.is_empty(), "{earlier:?}");
    assert_eq!(earlier.until, before);

    for (query, field) in [
        ("?since=yesterday", "since"),
        (
            &*format!("?since={}", rfc3339(now_ms() + 3_600_000)),
            "since",
        ),
        ("?until=2026-13-01T00:00:00Z", "until"),
    ] {
        app.call(Method::GET, &format!("/api/overview{query}"), &viewer, None)
            .await
            .expect_problem(422, None, Some(field));
    }
}
