//! A send whose answer never came (`SEND_UNKNOWN`) is linked by hand to the commandId Hermod created
//! it under: the callbacks that came for that id are matched, the outcome follows, and it is audited.

use crate::harness::{Credential, TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CallbackRecord, CommandRecord, CommandState, ListPage, Role};
use serde_json::json;

/// A sign sent through a gateway that answers 502 after Hermod created the command.
async fn send_unknown(app: &TestApp, who: &Credential, external_id: &str) -> CommandRecord {
    let request = json!({"client": "idm", "type": "sign", "body": sign_body(external_id, 600)});
    let answer = app
        .call(Method::POST, "/api/commands", who, Some(request))
        .await;
    let problem = answer.expect_problem(502, Some("hermod_server_error"), None);
    let record = problem.record.expect("the kept record");
    assert_eq!(record.state, CommandState::SendUnknown);
    assert_eq!(record.command_id, None);
    record
}

#[tokio::test]
async fn a_send_unknown_command_linked_to_its_command_id_adopts_its_callbacks() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let external_id = unique("gateway-link-");
    let record = send_unknown(&app, &operator, &external_id).await;
    let command_id = format!("{}", 700_000 + record.id);

    // Hermod's callback comes for the id the console never learnt, without the externalId that would
    // have matched it: kept, unmatched.
    let callback = json!({
        "commandId": command_id,
        "commandType": "SIGN",
        "state": "COMPLETED",
        "response": "c2lnbmF0dXJl",
    });
    app.sign_callback(callback.to_string()).await.expect(200);

    let (app, operator) = (&app, &operator);
    let link = |id: i64, command_id: &str| {
        let path = format!("/api/commands/{id}/link");
        let body = json!({ "command_id": command_id });
        async move { app.call(Method::POST, &path, operator, Some(body)).await }
    };
    // Only an id of the form Hermod gives, only a command that exists.
    link(record.id, "7 7")
        .await
        .expect_problem(422, Some("invalid_field"), Some("/command_id"));
    link(999_999, &command_id)
        .await
        .expect_problem(404, Some("not_found"), None);

    let linked: CommandRecord = link(record.id, &command_id).await.expect(200).parse();
    assert_eq!(linked.command_id.as_deref(), Some(command_id.as_str()));
    assert_eq!(
        linked.state,
        CommandState::Completed,
        "the adopted callback decided it"
    );
    let admin = app.session(Role::Admin).await;
    let callbacks: ListPage<CallbackRecord> = app
        .get(&admin, &format!("/api/callbacks?command={}", record.id))
        .await;
    assert_eq!(
        callbacks.items.len(),
        1,
        "the callback is the command's now"
    );

    // Once linked, never again; and no second command of the client takes the same id.
    link(record.id, "123456")
        .await
        .expect_problem(409, Some("not_linkable"), None);
    let other = send_unknown(app, &admin, &unique("gateway-other-")).await;
    link(other.id, &command_id)
        .await
        .expect_problem(409, Some("command_id_taken"), None);

    let audit = app
        .call(Method::GET, "/api/audit?type=command_linked", &admin, None)
        .await
        .expect(200)
        .json();
    let lines = audit["items"].as_array().expect("audit lines");
    assert_eq!(lines.len(), 1, "{audit}");
    assert_eq!(lines[0]["target"], record.id.to_string());
    assert_eq!(lines[0]["detail"]["command_id"], command_id);
}

#[tokio::test]
async fn a_send_hermod_does_not_answer_in_time_says_how_long_was_waited_and_how_it_is_settled() {
    let app = TestApp::with_hermod_like(
        |hermod| hermod.slow_answer_ms = 3_000,
        |c| {
            let idm = c.clients.get_mut("idm").expect("the idm client");
            idm.request_timeout_secs = 1;
        },
    )
    .await;
    let operator = app.session(Role::Operator).await;
    let request = json!({"client": "idm", "type": "sign",
                         "body": sign_body(&unique("slow-link-"), 600)});
    let answer = app
        .call(Method::POST, "/api/commands", &operator, Some(request))
        .await;
    let problem = answer.expect_problem(504, Some("hermod_timeout"), None);
    for said in [
        "Hermod did not answer within 1 s (clients.idm.request_timeout_secs)",
        "SEND_UNKNOWN",
        "matched by externalId",
        "Link on its page",
    ] {
        assert!(problem.detail.contains(said), "{said}: {}", problem.detail);
    }
    let record = problem.record.expect("the kept record");
    assert_eq!(record.state, CommandState::SendUnknown);
    // Its page says the same: the kept answer is that error.
    let answer = record.answer.expect("the kept answer");
    assert_eq!(answer.error, Some(problem.detail));
}
