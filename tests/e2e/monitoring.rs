//! What monitoring reads (README.md, "Monitoring"): the metrics listener a scraper reaches without
//! an account, the log as JSON lines, and a stop that does not wait past its deadline.

use hermod_console_tests::*;
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// `demo` with one configuration key set through its environment variable.
async fn demo_with(name: &str, value: impl Into<String>) -> Console {
    Console::demo().env(name, value).start().await
}

#[tokio::test]
async fn the_metrics_listener_serves_metrics_and_health_without_a_login_and_nothing_else() {
    let port = free_port();
    let c = demo_with(
        "HERMOD_CONSOLE__METRICS_LISTEN",
        format!("127.0.0.1:{port}"),
    )
    .await;
    let metrics_url = format!("http://127.0.0.1:{port}");
    let scraper = c.anonymous();

    let metrics = c.read(scraper.get(format!("{metrics_url}/metrics"))).await;
    let metrics = metrics.expect(200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        metrics.headers
    );
    assert!(
        metrics
            .text
            .contains("# TYPE hermod_console_callbacks_stored counter\nhermod_console_callbacks_stored_total 0\n"),
        "{}",
        metrics.text
    );
    let health = c.read(scraper.get(format!("{metrics_url}/healthz"))).await;
    assert_eq!(health.expect(200).text, "ok");

    // Nothing else is there: not the API, not the page, not the receiver.
    for path in ["/api/clients", "/", "/readyz"] {
        c.read(scraper.get(format!("{metrics_url}{path}")))
            .await
            .expect_problem(404, Some("not_found"), None);
    }
    let callback = scraper
        .post(format!("{metrics_url}/clients/idm/rest/callback/ping"))
        .body("{}");
    c.read(callback)
        .await
        .expect_problem(404, Some("not_found"), None);

    // The console's own listener still wants an admin for the same text.
    c.read(scraper.get(format!("{}/metrics", c.url)))
        .await
        .expect_problem(401, Some("unauthenticated"), None);
}

#[tokio::test]
async fn with_log_format_json_every_stderr_line_is_a_json_object_with_the_access_fields() {
    let mut c = demo_with("HERMOD_CONSOLE__LOG_FORMAT", "json").await;
    c.assert_healthy().await;
    let sent = c.send("ping", ping_body(&unique("json-log-"), 30)).await;
    c.wait_for_state(sent.id, "COMPLETED").await;
    let request_id = c
        .get(&format!("/api/commands/{}", sent.id))
        .await
        .expect(200)
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    let status = c.stop().await;
    assert!(status.success(), "{status}");

    // The log file holds stdout too: its lines are the ones printed while starting.
    let stdout = c.startup_lines().to_vec();
    let log = c.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| !stdout.iter().any(|s| s == l))
        .collect();
    assert!(lines.len() > 5, "{log}");
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    for e in &events {
        for field in ["timestamp", "level", "target", "message"] {
            assert!(e.get(field).is_some(), "{field} missing: {e}");
        }
    }
    let access = events
        .iter()
        .find(|e| e["request_id"] == request_id.as_str())
        .unwrap_or_else(|| panic!("no line for {request_id}: {log}"));
    assert_eq!(access["target"], "hermod_console::access", "{access}");
    assert_eq!(access["level"], "INFO", "{access}");
    assert_eq!(access["method"], "GET", "{access}");
    assert_eq!(access["route"], "/api/commands/{id}", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert_eq!(access["caller"], "admin", "{access}");
    assert!(access["duration_ms"].is_number(), "{access}");
    assert!(
        events.iter().any(|e| e["message"] == "shutting down"),
        "{log}"
    );
}

#[tokio::test]
async fn a_stop_waits_for_open_requests_only_up_to_the_shutdown_deadline() {
    let mut c = demo_with("HERMOD_CONSOLE__LIMITS__SHUTDOWN_DEADLINE_SECS", "1").await;
    // A callback whose body trickles: the receiver would wait 10 s for the rest of it.
    let addr = c.url.trim_start_matches("http://").to_string();
    let mut held = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let credential = b64(format!("{IDM_CALLBACK_USER}:{}", c.secrets.idm_password));
    let head = format!(
        "POST /clients/idm/rest/callback/ping HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Basic {credential}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{\"commandId\":"
    );
    held.write_all(head.as_bytes())
        .await
        .expect("send the head");
    // Let the request reach the receiver before the stop.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    let status = c.stop().await;
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(5),
        "the stop took {took:?} with a 1 s deadline"
    );
    assert!(
        c.log().contains("shutdown deadline"),
        "the cut-off is logged: {}",
        c.log()
    );
    drop(held);
}
