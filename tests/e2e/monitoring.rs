//! What monitoring reads (README.md, "Monitoring"): the metrics listener a scraper reaches without
//! an account.

use hermod_console_tests::*;

#[tokio::test]
async fn the_metrics_listener_serves_metrics_and_health_without_a_login_and_nothing_else() {
    let port = free_port();
    let c = Console::demo()
        .env(
            "HERMOD_CONSOLE__METRICS_LISTEN",
            format!("127.0.0.1:{port}"),
        )
        .start()
        .await;
    let metrics_url = format!("http://127.0.0.1:{port}");
    let scraper = c.anonymous();

    let metrics = c.read(scraper.get(format!("{metrics_url}/metrics"))).await;
    let metrics = metrics.expect(200);
    assert!(
        metrics
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain")),
        "{:?}",
        metrics.headers
    );
    assert!(
        metrics
            .text
            .contains("# TYPE hermod_console_callbacks_stored_total counter"),
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
