//! Why a command did not complete, at a glance (README.md "A command's page", "Console API"): the
//! error of the callback or poll that ended it, or what became of its send, on the record, as a list
//! filter and as an export column.

use crate::harness::{TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CommandDetail, CommandRecord, ListPage, Role};
use serde_json::json;

#[tokio::test]
async fn a_failed_outcome_gives_its_command_a_reason_to_show_filter_and_export() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let called_back = |state: &str, extra: serde_json::Value| {
        let (app, operator) = (&app, &operator);
        let state = state.to_string();
        async move {
            let body = sign_body(&unique("hold-reason-"), 60);
            let (id, command_id) = app.sent(operator, "sign", body).await;
            let mut callback = json!({"commandId": command_id, "state": state});
            callback
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            app.sign_callback(callback.to_string()).await.expect(200);
            app.call(Method::GET, &format!("/api/commands/{id}"), operator, None)
                .await
                .expect(200)
                .parse::<CommandDetail>()
                .command
        }
    };
    let rejected = called_back(
        "REJECTED",
        json!({"error": {"code": "USER_REJECTED", "message": "the user\n  said no"}}),
    )
    .await;
    assert_eq!(
        rejected.reason.as_deref(),
        Some("USER_REJECTED: the user said no")
    );
    // A completed command has no reason, whatever its callback's `message` says.
    let completed = called_back("COMPLETED", json!({"message": "all good"})).await;
    assert_eq!(completed.reason, None);

    // Hermod refused the send: its status and the message of its answer.
    let mut body = sign_body(&unique("refused-"), 30);
    body["commandHeader"]["to"] = json!("@tmp");
    let refused = app
        .call(
            Method::POST,
            "/api/commands",
            &operator,
            Some(json!({"client": "idm", "type": "sign", "body": body})),
        )
        .await
        .expect_problem(502, Some("hermod_refused"), None)
        .record
        .expect("recorded");
    let reason = refused.reason.expect("a reason");
    assert!(reason.starts_with("Hermod answered 400: "), "{reason}");
    assert!(reason.contains("/commandHeader/to"), "{reason}");

    let listed = |query: &str| {
        let (app, operator) = (&app, &operator);
        let path = format!("/api/commands?reason={query}");
        async move {
            let page: ListPage<CommandRecord> = app
                .call(Method::GET, &path, operator, None)
                .await
                .expect(200)
                .parse();
            page.items.iter().map(|c| c.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("user_rejected").await, [rejected.id]);
    assert_eq!(listed("answered%20400").await, [refused.id]);
    assert_eq!(
        listed("100%25").await,
        Vec::<i64>::new(),
        "% is a character"
    );
    let long = "x".repeat(257);
    app.call(
        Method::GET,
        &format!("/api/commands?reason={long}"),
        &operator,
        None,
    )
    .await
    .expect_problem(422, None, Some("reason"));

    let csv = app
        .call(
            Method::GET,
            "/api/commands/export?format=csv&reason=said%20no",
            &operator,
            None,
        )
        .await
        .expect(200)
        .body;
    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "reason")
        .expect("a reason column");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(
        rows[0].split(',').nth(column),
        Some("USER_REJECTED: the user said no")
    );
}
