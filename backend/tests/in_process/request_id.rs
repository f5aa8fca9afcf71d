//! Request ids (README.md, "Monitoring"): every answer has one; an incoming one stands only when a
//! trusted proxy sent it, and then the audit log names it.

use crate::harness::{ORIGIN, TestApp, bare, unique};
use axum::body::Body;
use axum::http::{Method, header};
use hermod_console::auth::source::Net;
use hermod_shared::console::Role;
use serde_json::json;

/// A failed login carrying `id` as its `X-Request-Id`; the id it was answered under.
async fn failed_login(app: &TestApp, id: &str) -> String {
    let body = json!({"username": unique("nobody-"), "password": "not it"}).to_string();
    let request = bare(Method::POST, "/api/session")
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", id)
        .body(Body::from(body))
        .expect("a request");
    let answer = app.send(request).await;
    answer.expect_problem(401, Some("invalid_credentials"), None);
    answer
        .header("x-request-id")
        .expect("a request id")
        .to_string()
}

fn is_uuid(id: &str) -> bool {
    id.len() == 36 && id.bytes().filter(|&b| b == b'-').count() == 4
}

#[tokio::test]
async fn every_answer_has_a_request_id_and_only_a_trusted_proxy_chooses_it() {
    // The harness's requests come from 10.0.0.7.
    let direct = TestApp::start().await;
    for path in ["/healthz", "/", "/api/clients", "/no/such/file.js"] {
        let request = bare(Method::GET, path)
            .header("x-request-id", "chosen-by-a-stranger")
            .body(Body::empty())
            .expect("a request");
        let answer = direct.send(request).await;
        let id = answer.header("x-request-id").unwrap_or_default();
        assert!(is_uuid(id), "{path}: {id:?}");
    }
    let id = failed_login(&direct, "chosen-by-a-stranger").await;
    assert!(is_uuid(&id), "{id}");

    let behind = TestApp::start_with(|c| {
        c.trusted_proxies = vec![Net::parse("10.0.0.0/8").expect("a CIDR block")];
    })
    .await;
    let chosen = unique("nginx-");
    assert_eq!(failed_login(&behind, &chosen).await, chosen);
    // Not a plain token, or too long: replaced even from a trusted proxy.
    for odd in ["two words".to_string(), "x".repeat(129)] {
        let id = failed_login(&behind, &odd).await;
        assert!(is_uuid(&id), "{odd:?} gave {id}");
    }
    let admin = behind.session(Role::Admin).await;
    let audit = behind
        .call(Method::GET, "/api/audit?type=login&limit=100", &admin, None)
        .await
        .expect(200)
        .json();
    let named = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|row| row["request_id"] == chosen.as_str());
    assert!(named, "the audit line names the proxy's id: {audit}");
}
