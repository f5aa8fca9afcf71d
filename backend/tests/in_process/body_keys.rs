//! The four command objects whose key is guessed (docs/hermod.md §2.2): a Hermod that takes one under
//! another key refuses the guess, and is reached once `body_keys` names its key.

use crate::harness::TestApp;
use axum::http::Method;
use hermod_shared::console::{CommandRecord, CommandState, Role};
use hermod_shared::examples::default_body;
use hermod_shared::hermod::CommandType;
use serde_json::json;

const HERMODS_KEY: &str = "certificateCommand";

#[tokio::test]
async fn a_guessed_key_hermod_names_otherwise_is_configured_and_the_command_goes_through() {
    let body = default_body(CommandType::Certificate);
    let request = json!({"client": "idm", "type": "certificate", "body": body});
    let hermod = |sim: &mut hermod_simulator::SimConfig| {
        sim.body_keys.certificate = HERMODS_KEY.into();
    };

    // The guess: this Hermod refuses it, naming the key it wanted; nothing was created.
    let guessing = TestApp::with_hermod_like(hermod, |_| {}).await;
    let operator = guessing.session(Role::Operator).await;
    let refused = guessing
        .call(
            Method::POST,
            "/api/commands",
            &operator,
            Some(request.clone()),
        )
        .await
        .expect_problem(502, Some("hermod_refused"), None);
    assert_eq!(refused.hermod_status, Some(400));
    let said = refused.hermod_body.unwrap_or_default();
    assert!(said.contains("/certificateCommand"), "{said}");
    let record = refused.record.expect("recorded before it was sent");
    assert_eq!(record.state, CommandState::SendFailed);

    // Configured: the form's body (the guessed key) is recorded and sent under Hermod's key.
    let configured = TestApp::with_hermod_like(hermod, |c| {
        c.body_keys.certificate = HERMODS_KEY.into();
    })
    .await;
    let operator = configured.session(Role::Operator).await;
    let record: CommandRecord = configured
        .call(Method::POST, "/api/commands", &operator, Some(request))
        .await
        .expect(201)
        .parse();
    assert_eq!(record.state, CommandState::InProgress);
    assert!(record.command_id.is_some(), "Hermod created it");
    let mut as_sent = body.clone();
    let object = as_sent.as_object_mut().unwrap().remove("certCommand");
    as_sent[HERMODS_KEY] = object.expect("the form's object");
    assert_eq!(record.request, as_sent, "recorded as sent");
}
