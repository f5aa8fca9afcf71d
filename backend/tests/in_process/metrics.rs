//! `/metrics` (README.md, "Monitoring"): every series is there from the start, and each moves when
//! what it counts happens. (Retention's counts move in `tests/e2e/retention.rs`, a lagging stream's
//! in `tests/e2e/lagging.rs`, the limited callbacks in `receiver.rs`.)

use crate::harness::{CALLBACK_PASSWORD, CALLBACK_USER, Credential, TestApp, unique};
use axum::http::Method;
use hermod_shared::console::Role;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Each sample line of the OpenMetrics text: `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

async fn read(app: &TestApp, admin: &Credential) -> BTreeMap<String, f64> {
    let answer = app.call(Method::GET, "/metrics", admin, None).await;
    let answer = answer.expect(200);
    assert_eq!(
        answer.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    samples(&answer.text())
}

fn ping(external_id: &str) -> Value {
    json!({"client": "idm", "type": "ping", "body": {
        "commandHeader": {"lifespan": 30, "timeout": 30, "to": ["@tmp"], "externalId": external_id},
        "pingCommand": {"deviceinfo": "true"}
    }})
}

#[tokio::test]
async fn every_series_is_there_from_the_start_and_moves_when_what_it_counts_happens() {
    let app = TestApp::with_hermod().await;
    let admin = app.session(Role::Admin).await;
    let before = read(&app, &admin).await;
    for series in [
        "hermod_console_callbacks_stored_total",
        "hermod_console_callbacks_limited_total",
        "hermod_console_feed_streams",
        "hermod_console_feed_streams_closed_total{reason=\"lagged\"}",
        "hermod_console_feed_streams_closed_total{reason=\"access\"}",
        "hermod_console_pruned_total{kind=\"audit\"}",
        "hermod_console_callback_ingest_seconds_count",
        "hermod_console_store_batch_size_count",
    ] {
        assert!(before.contains_key(series), "{series} from the start");
    }

    // Callbacks: one stored, its repeat, one with a wrong credential, one to an unexpected path.
    let body = json!({"commandId": unique("metrics-"), "state": "COMPLETED"}).to_string();
    let good = Some((CALLBACK_USER, CALLBACK_PASSWORD));
    let path = "/clients/idm/rest/callback/sign";
    for _ in 0..2 {
        app.callback(path, good, "application/json", body.clone())
            .await
            .expect(200);
    }
    app.callback(
        path,
        Some((CALLBACK_USER, "wrong")),
        "application/json",
        "{}",
    )
    .await
    .expect(401);
    app.callback("/clients/idm/rest", good, "application/json", "{}")
        .await
        .expect(200);
    // Commands: one Hermod takes, one it answers 500 to; a failed login.
    let operator = app.session(Role::Operator).await;
    let sent = app
        .call(
            Method::POST,
            "/api/commands",
            &operator,
            Some(ping(&unique("hold-"))),
        )
        .await;
    sent.expect(201);
    let crashed = app
        .call(
            Method::POST,
            "/api/commands",
            &operator,
            Some(ping(&unique("crash-"))),
        )
        .await;
    assert_eq!(crashed.status.as_u16(), 502, "{}", crashed.text());
    app.try_login("admin-of-nothing", "not the password").await;

    let after = read(&app, &admin).await;
    let moved = |series: &str| {
        after.get(series).copied().unwrap_or(0.0) - before.get(series).copied().unwrap_or(0.0)
    };
    for (series, by) in [
        ("hermod_console_callbacks_stored_total", 2.0),
        ("hermod_console_callbacks_duplicate_total", 1.0),
        ("hermod_console_callbacks_rejected_total", 1.0),
        ("hermod_console_callbacks_misrouted_total", 1.0),
        ("hermod_console_callback_ingest_seconds_count", 3.0),
        ("hermod_console_commands_sent_total", 2.0),
        ("hermod_console_commands_failed_total", 1.0),
        ("hermod_console_logins_failed_total", 1.0),
        (
            "hermod_console_hermod_call_duration_seconds_count{client=\"idm\",call=\"create\",outcome=\"2xx\"}",
            1.0,
        ),
        (
            "hermod_console_hermod_call_duration_seconds_count{client=\"idm\",call=\"create\",outcome=\"5xx\"}",
            1.0,
        ),
        (
            "hermod_console_request_duration_seconds_count{method=\"POST\",route=\"/api/commands\"}",
            2.0,
        ),
    ] {
        assert_eq!(moved(series), by, "{series}");
    }
    // The store's own: every write above committed, each commit timed and its batch counted.
    let commits = moved("hermod_console_store_commits_total");
    assert!(commits >= 4.0, "{commits} commits");
    assert_eq!(
        moved("hermod_console_store_commit_duration_seconds_count"),
        commits
    );
    assert_eq!(moved("hermod_console_store_batch_size_count"), commits);
    assert_eq!(
        moved("hermod_console_store_batch_size_sum"),
        moved("hermod_console_store_writes_total")
    );
    assert!(moved("hermod_console_store_commit_duration_seconds_sum") > 0.0);
    // The page and its files are one route: `(fallback)`, not a series per path.
    app.call(Method::GET, "/some/deep/link", &admin, None).await;
    let last = read(&app, &admin).await;
    assert!(
        last.keys().all(|k| !k.contains("/some/deep/link")),
        "no series names a path"
    );
    assert!(last.contains_key(
        "hermod_console_request_duration_seconds_count{method=\"GET\",route=\"(fallback)\"}"
    ));
}
