//! Two replicas on one PostgreSQL database (README, "Running several replicas"): the limits that
//! hold per session or per source hold over both, not per replica. These start their own database
//! whatever `HERMOD_CONSOLE_TEST_STORE` says: only a shared database shows this.

use crate::harness::{Credential, PASSWORD, TestApp, page_request, unique};
use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use hermod_console::config::Config;
use hermod_shared::console::Role;
use std::time::{Duration, Instant};

#[tokio::test]
async fn failed_logins_on_one_replica_count_on_the_other() {
    let limits = |c: &mut Config| {
        c.auth.login_failures_per_account = 3;
        c.auth.login_failures_per_source = 5;
    };
    let a = TestApp::on_postgres(limits).await;
    let b = TestApp::replica_of(&a, limits).await;
    let alice = a.user(Role::Viewer).await;
    let bystander = a.user(Role::Viewer).await;

    // Two wrong passwords on A and one on B: the account's limit, from this source.
    for (app, n) in [(&a, 2), (&b, 1)] {
        for _ in 0..n {
            app.try_login(&alice, "a wrong password")
                .await
                .expect_problem(401, Some("invalid_credentials"), None);
        }
    }
    // Locked on both, the right password included, as one console locks it.
    for app in [&b, &a] {
        let r = app.try_login(&alice, PASSWORD).await;
        r.expect_problem(429, Some("too_many_attempts"), None);
        let retry: u64 = r
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((800..=900).contains(&retry), "Retry-After {retry}");
    }
    // Only that account: another logs in from the same source, on either.
    b.login(&bystander).await;

    // Failures on other names, one on each: the source's limit of five, counted over both.
    for app in [&a, &b] {
        app.try_login(&unique("nobody-"), "a wrong password")
            .await
            .expect(401);
    }
    a.try_login(&bystander, PASSWORD)
        .await
        .expect_problem(429, Some("too_many_attempts"), None);
}

/// `GET /api/events` as `who` would send it.
fn events(who: &Credential) -> Request<Body> {
    page_request(Method::GET, "/api/events", who)
        .body(Body::empty())
        .expect("a request")
}

/// A stream opened on `app` as `who`, held open.
async fn open(app: &TestApp, who: &Credential) -> Response<Body> {
    let stream = app.respond(events(who)).await;
    assert_eq!(stream.status(), StatusCode::OK, "a stream opened");
    stream
}

#[tokio::test]
async fn a_sessions_streams_on_one_replica_count_against_its_cap_on_the_other() {
    let cap = |c: &mut Config| c.auth.max_streams_per_session = 2;
    let a = TestApp::on_postgres(cap).await;
    let b = TestApp::replica_of(&a, cap).await;
    let viewer = a.session(Role::Viewer).await;

    let mut on_a = vec![open(&a, &viewer).await, open(&a, &viewer).await];
    // The answer one console gives its own third stream.
    for app in [&b, &a] {
        app.send(events(&viewer))
            .await
            .expect_problem(429, Some("too_many_streams"), None);
    }
    // Other sessions have their own places.
    let other = a.session(Role::Viewer).await;
    let elsewhere = open(&b, &other).await;

    // A stream closed on A frees its place for B (the row is deleted after the stream ends).
    on_a.pop();
    let deadline = Instant::now() + Duration::from_secs(5);
    let on_b = loop {
        let r = b.respond(events(&viewer)).await;
        if r.status() == StatusCode::OK {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the closed stream's place stayed taken"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    a.send(events(&viewer))
        .await
        .expect_problem(429, Some("too_many_streams"), None);
    drop((on_a, on_b, elsewhere));
}
