//! A command type the console does not know, allowed by `custom_commands`: sent with its body as
//! written (only the header checked), recorded, polled and matched like the others.

use crate::harness::{CALLBACK_PASSWORD, CALLBACK_USER, CUSTOM, TestApp, unique};
use axum::http::Method;
use hermod_shared::console::{CommandDetail, CommandRecord, CommandState, PollResult, Role};
use serde_json::json;

#[tokio::test]
async fn a_custom_command_is_sent_recorded_polled_and_matched_like_the_others() {
    let app = TestApp::with_hermod_and(|c| c.custom_commands = vec![CUSTOM.to_string()]).await;
    let operator = app.session(Role::Operator).await;
    let external_id = unique("hold-custom-");
    let body = json!({
        "commandHeader": {"externalId": external_id, "timeout": 600, "to": ["@tmp"]},
        "rotateCommand": {"anything": ["the console", "does not", "check"], "keylength": 4096},
    });
    let send = |ty: &str, body: serde_json::Value| {
        let request = json!({"client": "idm", "type": ty, "body": body});
        app.call(Method::POST, "/api/commands", &operator, Some(request))
    };
    let record: CommandRecord = send(CUSTOM, body.clone()).await.expect(201).parse();
    assert_eq!(record.command_type, CUSTOM);
    assert_eq!(record.state, CommandState::InProgress);
    assert_eq!(record.request, body, "sent and kept as written");
    let command_id = record.command_id.clone().expect("Hermod's commandId");
    assert!(
        record.expires_at.is_some(),
        "its header's timeout counts down"
    );

    // Polled like any other.
    let path = format!("/api/commands/{}/poll", record.id);
    let polled: PollResult = app
        .call(Method::POST, &path, &operator, None)
        .await
        .expect(200)
        .parse();
    assert_eq!(polled.command.id, record.id);

    // Its callback, to the path Hermod would use for the type, is matched and decides it.
    let callback = json!({"commandId": command_id, "state": "COMPLETED", "commandType": "ROTATE"});
    app.callback(
        &format!("/clients/idm/rest/callback/{CUSTOM}"),
        Some((CALLBACK_USER, CALLBACK_PASSWORD)),
        "application/json",
        callback.to_string(),
    )
    .await
    .expect(200);
    let detail: CommandDetail = app
        .call(
            Method::GET,
            &format!("/api/commands/{}", record.id),
            &operator,
            None,
        )
        .await
        .expect(200)
        .parse();
    assert_eq!(detail.command.state, CommandState::Completed);

    // The header is still checked; a type in no list is refused, naming where to allow it.
    let mut bad = body.clone();
    bad["commandHeader"]["timeout"] = json!("soon");
    send(CUSTOM, bad).await.expect_problem(
        422,
        Some("invalid_field"),
        Some("/body/commandHeader/timeout"),
    );
    let refused = send("frobnicate", body).await;
    let problem = refused.expect_problem(422, Some("invalid_field"), Some("/type"));
    assert!(
        problem.detail.contains("custom_commands") && problem.detail.contains(CUSTOM),
        "{}",
        problem.detail
    );
}

#[tokio::test]
async fn without_custom_commands_an_unknown_type_is_refused() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let request = json!({"client": "idm", "type": CUSTOM, "body": {}});
    app.call(Method::POST, "/api/commands", &operator, Some(request))
        .await
        .expect_problem(422, Some("invalid_field"), Some("/type"));
}
