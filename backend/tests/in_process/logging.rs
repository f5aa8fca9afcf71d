//! The access log (`log_requests`, app.rs): one line per request with its request id, method,
//! route pattern, status, duration and caller, never the raw URL; off, only failures are logged.

use crate::harness::{Credential, TestApp, bare};
use axum::body::Body;
use axum::http::Method;
use hermod_shared::console::Role;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// Everything logged on this thread while it is held (the tests run on a current-thread runtime, so
/// the router's layers run here too).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn start() -> (Captured, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        // The other tests of this process log on their own threads with no subscriber. tracing
        // caches, per call site and for the whole process, whether anyone listens; with this one
        // the only subscriber registered, a call site first reached (or the cache rebuilt) on such
        // a thread is cached as unheard, and this test loses lines (seen twice in make test). A
        // process-wide subscriber that takes everything and keeps nothing makes every call site
        // heard; events go to the thread's own subscriber, this one here.
        static EVERYONE_HEARD: std::sync::Once = std::sync::Once::new();
        EVERYONE_HEARD.call_once(|| {
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        });
        let guard = tracing::subscriber::set_default(subscriber);
        (captured, guard)
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn access_lines(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.contains("hermod_console::access"))
            .collect()
    }
}

#[tokio::test]
async fn every_request_gets_one_access_line_with_its_route_pattern_and_caller_and_no_raw_url() {
    let app = TestApp::start().await;
    let admin_name = app.user(Role::Admin).await;
    let admin = app.login(&admin_name).await;
    let (log, _guard) = Captured::start();

    let answer = app
        .call(
            Method::GET,
            "/api/commands/987654?token=query-secret-xyz",
            &admin,
            None,
        )
        .await;
    let request_id = answer
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    assert_eq!(answer.status.as_u16(), 404);
    app.send(bare(Method::GET, "/readyz").body(Body::empty()).unwrap())
        .await
        .expect(200);
    app.call(Method::GET, "/api/clients", &Credential::Nobody, None)
        .await
        .expect(401);

    let lines = log.access_lines();
    assert_eq!(lines.len(), 3, "one line per request: {lines:#?}");
    let detail = &lines[0];
    for wanted in [
        request_id.as_str(),
        "GET",
        "/api/commands/{id}",
        "status=404",
        "duration_ms=",
        admin_name.as_str(),
    ] {
        assert!(detail.contains(wanted), "{wanted} missing from {detail}");
    }
    let everything = log.lines().join("\n");
    for unwanted in ["987654", "query-secret-xyz", "token="] {
        assert!(
            !everything.contains(unwanted),
            "{unwanted} logged: {everything}"
        );
    }
    assert!(
        lines[1].contains("/readyz") && lines[1].contains("status=200"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("caller=\"-\"") || lines[1].contains("caller=-"),
        "{}",
        lines[1]
    );
    assert!(lines[2].contains("status=401"), "{}", lines[2]);
}

#[tokio::test]
async fn with_log_requests_off_only_failures_are_logged() {
    let app = TestApp::start_with(|c| c.log_requests = false).await;
    let (log, _guard) = Captured::start();
    app.send(bare(Method::GET, "/readyz").body(Body::empty()).unwrap())
        .await
        .expect(200);
    app.store().close().await.expect("the store closes");
    app.send(bare(Method::GET, "/readyz").body(Body::empty()).unwrap())
        .await
        .expect(503);
    assert!(log.access_lines().is_empty(), "{:#?}", log.lines());
    let failures: Vec<String> = log
        .lines()
        .into_iter()
        .filter(|l| l.contains("request failed"))
        .collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].contains("not_ready") && failures[0].contains("/readyz"),
        "{}",
        failures[0]
    );
}
