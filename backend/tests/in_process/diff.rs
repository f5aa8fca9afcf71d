//! Two bodies compared: `GET /api/diff`, what was decoded from each included.

use crate::harness::{TestApp, b64, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{BodyDiff, Role};
use serde_json::json;

#[tokio::test]
async fn two_requests_two_callbacks_and_two_polls_are_compared_with_what_was_decoded() {
    let app = TestApp::with_hermod().await;
    let viewer = app.session(Role::Viewer).await;
    let operator = app.session(Role::Operator).await;
    let compare = |a: String, b: String| {
        let (app, viewer) = (&app, &viewer);
        async move {
            let path = format!("/api/diff?a={a}&b={b}");
            app.call(Method::GET, &path, viewer, None).await
        }
    };
    let changed = |diff: &BodyDiff, path: &str| {
        diff.changes
            .iter()
            .find(|c| c.path == path)
            .map(|c| (c.change.clone(), c.old.clone(), c.new.clone()))
    };

    // Two requests that sign different texts: the base64 differs, and so does the text decoded
    // from it.
    let mut first = sign_body(&unique("hold-diff-"), 600);
    let (a, command_id) = app.sent(&operator, "sign", first.clone()).await;
    first["signCommand"]["params"]["tbs"][0]["data"] = json!(b64("Pay 200 EUR to ACME"));
    first["commandHeader"]["externalId"] = json!(unique("hold-diff-"));
    let (b, _) = app.sent(&operator, "sign", first).await;
    let diff: BodyDiff = compare(format!("command:{a}"), format!("command:{b}"))
        .await
        .expect(200)
        .parse();
    assert_eq!(diff.a, format!("the request of sign #{a}"));
    let data = changed(&diff, "/body/signCommand/params/tbs/0/data").expect("the data");
    assert_eq!(data.0, "changed");
    let decoded = diff
        .changes
        .iter()
        .find(|c| c.path.starts_with("/decoded/") && c.path.ends_with("/text"))
        .expect("the decoded text");
    assert_eq!(
        (decoded.old.as_deref(), decoded.new.as_deref()),
        (
            Some("\"Pay 100 EUR to ACME\""),
            Some("\"Pay 200 EUR to ACME\"")
        )
    );

    // Two callbacks for the first: the state changed, a field added.
    let mut callbacks = Vec::new();
    for body in [
        json!({"commandId": command_id, "state": "IN_PROGRESS"}),
        json!({"commandId": command_id, "state": "REJECTED", "error": "USER_REJECTED"}),
    ] {
        app.sign_callback(body.to_string()).await.expect(200);
        let list = app
            .call(
                Method::GET,
                &format!("/api/callbacks?command={a}"),
                &viewer,
                None,
            )
            .await
            .expect(200)
            .json();
        callbacks.push(list["items"][0]["id"].as_i64().expect("its id"));
    }
    let diff: BodyDiff = compare(
        format!("callback:{}", callbacks[0]),
        format!("callback:{}", callbacks[1]),
    )
    .await
    .expect(200)
    .parse();
    assert_eq!(
        diff.b,
        format!("callback #{} of command #{a}", callbacks[1])
    );
    assert_eq!(
        changed(&diff, "/body/state"),
        Some((
            "changed".into(),
            Some("\"IN_PROGRESS\"".into()),
            Some("\"REJECTED\"".into())
        ))
    );
    assert_eq!(
        changed(&diff, "/body/error"),
        Some(("added".into(), None, Some("\"USER_REJECTED\"".into())))
    );

    // Two polls of the second, both still in progress: the same but for nothing.
    let mut polls = Vec::new();
    for _ in 0..2 {
        let polled = app
            .call(
                Method::POST,
                &format!("/api/commands/{b}/poll"),
                &operator,
                None,
            )
            .await
            .expect(200)
            .json();
        assert_eq!(polled["reported"], "IN_PROGRESS", "what Hermod said");
        polls.push(polled["poll"]["id"].as_i64().expect("its id"));
    }
    let diff: BodyDiff = compare(format!("poll:{}", polls[0]), format!("poll:{}", polls[1]))
        .await
        .expect(200)
        .parse();
    assert_eq!(diff.changes, vec![], "{diff:?}");

    // What is not a body is named; what is not there is not found.
    compare("sign:1".into(), format!("command:{a}"))
        .await
        .expect_problem(422, Some("invalid_field"), Some("/a"));
    compare(format!("command:{a}"), "callback:999999".into())
        .await
        .expect_problem(404, Some("not_found"), None);
}
