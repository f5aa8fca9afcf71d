//! A command's page (`GET /api/commands/{id}`): its newest 100 callbacks and polls at first, the rest
//! counted, every one with `?all=true`; its re-issues.

use crate::harness::{CALLBACK_PASSWORD, CALLBACK_USER, TestApp, sign_body, unique};
use axum::http::Method;
use hermod_shared::console::{CommandDetail, Role, TimelineEntry};
use serde_json::json;

/// The `n` of each callback in the timeline, in order.
fn callback_numbers(detail: &CommandDetail) -> Vec<u64> {
    detail
        .timeline
        .iter()
        .filter_map(|step| match step {
            TimelineEntry::Callback { callback, .. } => {
                let body: serde_json::Value = serde_json::from_str(&callback.body).ok()?;
                body["n"].as_u64()
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_command_page_shows_its_newest_callbacks_and_counts_the_rest_until_asked_for_all() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let body = json!({
        "commandHeader": {"lifespan": 30, "timeout": 30, "to": ["@tmp"], "externalId": unique("hold-")},
        "pingCommand": {"deviceinfo": "true"}
    });
    let (id, command_id) = app.sent(&operator, "ping", body).await;
    for n in 0..102 {
        let body = json!({"commandId": command_id, "state": "IN_PROGRESS", "n": n}).to_string();
        let auth = Some((CALLBACK_USER, CALLBACK_PASSWORD));
        app.callback(
            "/clients/idm/rest/callback/ping",
            auth,
            "application/json",
            body,
        )
        .await
        .expect(200);
    }

    let path = format!("/api/commands/{id}");
    let first: CommandDetail = app
        .call(Method::GET, &path, &operator, None)
        .await
        .expect(200)
        .parse();
    assert_eq!(
        first.omitted, 2,
        "the two oldest callbacks are counted, not shown"
    );
    assert_eq!(callback_numbers(&first), (2..102).collect::<Vec<_>>());
    assert!(matches!(first.timeline[0], TimelineEntry::Sent { .. }));

    let all: CommandDetail = app
        .call(Method::GET, &format!("{path}?all=true"), &operator, None)
        .await
        .expect(200)
        .parse();
    assert_eq!(all.omitted, 0);
    assert_eq!(callback_numbers(&all), (0..102).collect::<Vec<_>>());

    app.call(Method::GET, &format!("{path}?all=maybe"), &operator, None)
        .await
        .expect_problem(422, Some("invalid_field"), Some("all"));
}

/// A re-issue names its origin, and the origin names its re-issues, oldest first.
#[tokio::test]
async fn a_command_and_its_re_issues_name_each_other() {
    let app = TestApp::with_hermod().await;
    let operator = app.session(Role::Operator).await;
    let (origin, _) = app
        .sent(&operator, "sign", sign_body(&unique("hold-origin-"), 600))
        .await;
    let mut reissues = Vec::new();
    for _ in 0..2 {
        let request = json!({
            "client": "idm",
            "type": "sign",
            "body": sign_body(&unique("hold-again-"), 600),
            "reissue_of": origin,
        });
        let sent = app
            .call(Method::POST, "/api/commands", &operator, Some(request))
            .await
            .expect(201)
            .json();
        reissues.push(sent["id"].as_i64().expect("an id"));
    }
    let detail = |id: i64| {
        let (app, operator) = (&app, &operator);
        async move {
            let path = format!("/api/commands/{id}");
            let answer = app.call(Method::GET, &path, operator, None).await;
            answer.expect(200).parse::<CommandDetail>()
        }
    };
    assert_eq!(detail(origin).await.reissued_as, reissues);
    let again = detail(reissues[0]).await;
    assert_eq!(
        (again.command.reissue_of, again.reissued_as),
        (Some(origin), vec![])
    );
}
