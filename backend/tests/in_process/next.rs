//! The command that follows another in its use case, filled from what Hermod gave for it:
//! `GET /api/commands/{id}/next`.

use crate::harness::{Credential, TestApp, unique};
use axum::http::Method;
use hermod_shared::console::{NextCommand, PollResult, Role};
use hermod_shared::examples::default_body;
use hermod_shared::hermod::CommandType;
use serde_json::{Value, json};

/// Sends `ty`'s example, tagged `external_id`, and polls it until Hermod reports it done (the
/// simulator's callbacks go nowhere here); the last poll's answer.
async fn completed(
    app: &TestApp,
    who: &Credential,
    ty: CommandType,
    external_id: &str,
) -> (i64, Value) {
    let mut body = default_body(ty);
    body["commandHeader"]["externalId"] = json!(external_id);
    let (id, _) = app.sent(who, ty.as_str(), body).await;
    for _ in 0..100 {
        let polled: PollResult = app
            .call(Method::POST, &format!("/api/commands/{id}/poll"), who, None)
            .await
            .expect(200)
            .parse();
        if polled.command.state.as_str() == "COMPLETED" {
            assert_eq!(polled.reported.as_deref(), Some("COMPLETED"));
            let answer = polled.poll.reply.body.expect("the poll's answer");
            return (id, serde_json::from_str(&answer).expect("JSON"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{ty} #{id} never completed");
}

async fn next(app: &TestApp, who: &Credential, id: i64) -> crate::harness::Answer {
    app.call(Method::GET, &format!("/api/commands/{id}/next"), who, None)
        .await
}

#[tokio::test]
async fn a_provision_is_followed_by_its_certificate_and_a_startpinreset_by_its_end() {
    let app = TestApp::with_hermod_like(|sim| sim.complete_after_ms = 100, |_| {}).await;
    let operator = app.session(Role::Operator).await;

    // Provision: the profile its result names (inside the signed JWS), an entry per key it asked for.
    let (provision, _) = completed(&app, &operator, CommandType::Provision, &unique("prov-")).await;
    let cert: NextCommand = next(&app, &operator, provision).await.expect(200).parse();
    assert_eq!(
        (cert.client.as_str(), cert.command_type.as_str()),
        ("idm", "certificate")
    );
    let object = &cert.body["certCommand"];
    let profile = object["profileid"].as_str().expect("a profile id");
    assert_eq!(
        profile.len(),
        36,
        "the simulator's profile ids are UUIDs: {profile}"
    );
    assert_eq!(object["certificates"], json!([{"keyid": "signer"}]));
    assert_eq!(
        cert.body["commandHeader"],
        json!({"lifespan": 300, "timeout": 300})
    );
    assert!(
        cert.note.contains(profile) && cert.note.contains(&format!("#{provision}")),
        "{}",
        cert.note
    );
    // It is a command the console sends as it stands.
    app.sent(&operator, "certificate", cert.body).await;

    // Startpinreset: the nonce the token gave, for the operator to encrypt.
    let (start, answer) =
        completed(&app, &operator, CommandType::StartPinReset, &unique("pin-")).await;
    let end: NextCommand = next(&app, &operator, start).await.expect(200).parse();
    assert_eq!(end.command_type, "endpinreset");
    let nonce = answer["response"]["nonce"]
        .as_str()
        .expect("the start's nonce");
    assert_eq!(
        end.body["endpinresetCommand"],
        json!({"encryptednonce": nonce})
    );
    assert!(end.note.contains("admin key"), "{}", end.note);

    // Nothing follows a sign, nor a provision still under way.
    let (sign, _) = app
        .sent(&operator, "sign", default_body(CommandType::Sign))
        .await;
    let p = next(&app, &operator, sign)
        .await
        .expect_problem(404, Some("not_found"), None);
    assert!(
        p.detail.contains("no command follows a sign"),
        "{}",
        p.detail
    );
    let mut held = default_body(CommandType::Provision);
    held["commandHeader"]["externalId"] = json!(unique("hold-prov-"));
    let (held, _) = app.sent(&operator, "provision", held).await;
    let p = next(&app, &operator, held)
        .await
        .expect_problem(404, Some("not_found"), None);
    assert!(
        p.detail.contains("no result naming its profile yet"),
        "{}",
        p.detail
    );
}
