//! Readiness (`/readyz`): ready while the store writes and the data directory has room, else 503
//! `not_ready` with the reason in the detail, for whoever reads the probe's answer.

use crate::harness::{TestApp, bare};
use axum::body::Body;
use axum::http::Method;

async fn readyz(app: &TestApp) -> crate::harness::Answer {
    app.send(bare(Method::GET, "/readyz").body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn ready_by_default_and_not_ready_when_the_disk_is_short_naming_why() {
    let app = TestApp::start().await;
    let ok = readyz(&app).await.expect(200);
    assert_eq!(ok.text(), "ready");

    // More free space than any disk has: the probe must fail and say it is the disk.
    let short = TestApp::start_with(|c| c.limits.min_free_disk_mb = u64::MAX >> 21).await;
    let answer = readyz(&short).await;
    let p = answer.expect_problem(503, Some("not_ready"), None);
    assert!(p.detail.contains("disk"), "{}", p.detail);
    assert!(p.detail.contains("limits.min_free_disk_mb"), "{}", p.detail);
}

#[tokio::test]
async fn not_ready_once_the_stores_writer_is_stopped() {
    let app = TestApp::start().await;
    readyz(&app).await.expect(200);
    app.store().close().await.expect("the store closes");
    let answer = readyz(&app).await;
    let p = answer.expect_problem(503, Some("not_ready"), None);
    assert!(p.detail.contains("writer is stopped"), "{}", p.detail);
}
