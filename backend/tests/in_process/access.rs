//! Roles are enforced by the backend on every route: a matrix of every API route (as the route
//! table declares them) × every kind of caller, HEAD included. A route the matrix does not know, or a
//! route the matrix names that no longer exists, fails the test, so a new route cannot slip past it.

use crate::harness::{Credential, TestApp};
use axum::http::{Method, StatusCode};
use hermod_console::app::api_routes;
use hermod_shared::console::Role;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// One route: how the matrix calls it, and the least role it should need (`None`: public). Ids are
/// made up and bodies empty, so an allowed caller gets 404 or 422 and nothing changes.
struct Case {
    method: Method,
    route: &'static str,
    path: &'static str,
    body: Option<Value>,
    least: Option<Role>,
}

fn case(
    method: Method,
    route: &'static str,
    path: &'static str,
    body: Option<Value>,
    least: Option<Role>,
) -> Case {
    Case {
        method,
        route,
        path,
        body,
        least,
    }
}

/// Every route the console should have. `DELETE /api/session` comes last: it ends the caller's session.
fn matrix() -> Vec<Case> {
    use Method as M;
    use Role::{Admin, Operator, Viewer};
    let empty = || Some(json!({}));
    vec![
        case(M::POST, "/api/session", "/api/session", empty(), None),
        case(M::GET, "/api/session", "/api/session", None, Some(Viewer)),
        case(M::GET, "/api/routes", "/api/routes", None, Some(Viewer)),
        case(
            M::GET,
            "/api/openapi.json",
            "/api/openapi.json",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/audit/chain",
            "/api/audit/chain",
            None,
            Some(Admin),
        ),
        case(M::GET, "/api/clients", "/api/clients", None, Some(Viewer)),
        case(M::GET, "/api/commands", "/api/commands", None, Some(Viewer)),
        case(
            M::POST,
            "/api/commands",
            "/api/commands",
            empty(),
            Some(Operator),
        ),
        case(
            M::GET,
            "/api/commands/{id}",
            "/api/commands/999999",
            None,
            Some(Viewer),
        ),
        case(
            M::POST,
            "/api/commands/{id}/poll",
            "/api/commands/999999/poll",
            None,
            Some(Operator),
        ),
        case(
            M::POST,
            "/api/commands/{id}/link",
            "/api/commands/999999/link",
            empty(),
            Some(Operator),
        ),
        case(M::GET, "/api/devices", "/api/devices", None, Some(Viewer)),
        case(M::GET, "/api/overview", "/api/overview", None, Some(Viewer)),
        case(
            M::GET,
            "/api/devices/{key}",
            "/api/devices/profile:nobody",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/diff",
            "/api/diff?a=callback:999998&b=callback:999999",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/commands/{id}/next",
            "/api/commands/999999/next",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/commands/{id}/evidence",
            "/api/commands/999999/evidence",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/callbacks",
            "/api/callbacks",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/commands/export",
            "/api/commands/export?format=csv",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/callbacks/export",
            "/api/callbacks/export?format=json",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/callbacks/{id}",
            "/api/callbacks/999999",
            None,
            Some(Viewer),
        ),
        case(
            M::GET,
            "/api/callbacks/{id}/decoded",
            "/api/callbacks/999999/decoded",
            None,
            Some(Viewer),
        ),
        case(
            M::POST,
            "/api/clients/{id}/check",
            "/api/clients/idm/check",
            None,
            Some(Operator),
        ),
        case(
            M::GET,
            "/api/templates",
            "/api/templates",
            None,
            Some(Viewer),
        ),
        case(
            M::POST,
            "/api/templates",
            "/api/templates",
            empty(),
            Some(Operator),
        ),
        case(
            M::PUT,
            "/api/templates/{id}",
            "/api/templates/999999",
            empty(),
            Some(Operator),
        ),
        case(
            M::DELETE,
            "/api/templates/{id}",
            "/api/templates/999999",
            None,
            Some(Operator),
        ),
        case(M::GET, "/api/events", "/api/events", None, Some(Viewer)),
        case(M::GET, "/api/users", "/api/users", None, Some(Admin)),
        case(M::POST, "/api/users", "/api/users", empty(), Some(Admin)),
        case(
            M::PUT,
            "/api/users/{id}",
            "/api/users/999999",
            empty(),
            Some(Admin),
        ),
        case(
            M::DELETE,
            "/api/users/{id}",
            "/api/users/999999",
            None,
            Some(Admin),
        ),
        case(M::GET, "/api/tokens", "/api/tokens", None, Some(Admin)),
        case(M::POST, "/api/tokens", "/api/tokens", empty(), Some(Admin)),
        case(
            M::DELETE,
            "/api/tokens/{id}",
            "/api/tokens/999999",
            None,
            Some(Admin),
        ),
        case(M::GET, "/api/audit", "/api/audit", None, Some(Admin)),
        case(
            M::GET,
            "/api/audit/export",
            "/api/audit/export?format=csv",
            None,
            Some(Admin),
        ),
        case(M::GET, "/metrics", "/metrics", None, Some(Admin)),
        case(
            M::DELETE,
            "/api/session",
            "/api/session",
            None,
            Some(Viewer),
        ),
    ]
}

/// A GET route also answers HEAD, by running the GET handler: it must be guarded the same way.
fn with_head(c: Case) -> Vec<Case> {
    let head = Case {
        method: Method::HEAD,
        body: None,
        ..c
    };
    if c.method == Method::GET {
        vec![c, head]
    } else {
        vec![c]
    }
}

/// What a caller is, for the matrix: its role when its credential is good, or why it has none.
#[derive(Debug, Clone, Copy)]
enum Who {
    Nobody,
    Role(Role),
    /// A credential that no longer works: every non-public route answers 401.
    Dead,
}

/// What `who` should get from `c`: `Ok(())` for "answered", `Err(status)` for refused.
fn expected(who: Who, c: &Case) -> Result<(), u16> {
    match (who, c.least) {
        (_, None) => Ok(()),
        (Who::Nobody | Who::Dead, Some(_)) => Err(401),
        (Who::Role(role), Some(least)) if role >= least => Ok(()),
        (Who::Role(_), Some(_)) => Err(403),
    }
}

/// Runs every case as `who`; returns the mismatches as lines of a table. Every error answer must be a
/// JSON problem (a HEAD answer has no body to tell).
async fn run_column(app: &TestApp, name: &str, who: Who, credential: &Credential) -> Vec<String> {
    let mut wrong = Vec::new();
    for c in matrix().into_iter().flat_map(with_head) {
        let answer = app
            .call(c.method.clone(), c.path, credential, c.body.clone())
            .await;
        let got = answer.status.as_u16();
        if got >= 400 && c.method != Method::HEAD {
            answer.problem();
        }
        let ok = match expected(who, &c) {
            Ok(()) => !matches!(got, 401 | 403),
            Err(want) => got == want,
        };
        if !ok {
            wrong.push(format!(
                "{name:>16}  {:<6} {:<28} got {got}, expected {}",
                c.method.as_str(),
                c.path,
                match expected(who, &c) {
                    Ok(()) => "an answer (not 401/403)".to_string(),
                    Err(s) => s.to_string(),
                }
            ));
        }
    }
    wrong
}

#[tokio::test]
async fn every_route_answers_each_role_as_allowed_and_refuses_everyone_else() {
    // The matrix covers exactly the routes that exist, with the roles they declare.
    let served: BTreeSet<(String, String, Option<Role>)> = api_routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string(), r.role))
        .collect();
    let known: BTreeSet<(String, String, Option<Role>)> = matrix()
        .iter()
        .map(|c| (c.method.to_string(), c.route.to_string(), c.least))
        .collect();
    let missing: Vec<_> = served.difference(&known).collect();
    let gone: Vec<_> = known.difference(&served).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "the access matrix is out of date.\n routes (or roles) the matrix lacks: {missing:?}\n \
         matrix rows that the console does not serve so: {gone:?}"
    );

    // A second console whose sessions end after 1 s idle, for the expired-session column.
    let (app, idle) = tokio::join!(
        TestApp::start(),
        TestApp::start_with(|c| c.auth.session_idle_secs = 1)
    );
    let expired = idle.session(Role::Admin).await;
    let idle_since = Instant::now();

    let viewer = app.session(Role::Viewer).await;
    let operator = app.session(Role::Operator).await;
    let admin = app.session(Role::Admin).await;
    let viewer_token = app.token(&admin, Role::Viewer).await;
    let revoked = app.token(&admin, Role::Admin).await;
    let revoke = format!("/api/tokens/{}", revoked.record.id);
    let answer = app.call(Method::DELETE, &revoke, &admin, None).await;
    assert_eq!(answer.status, StatusCode::OK);

    let columns = [
        ("no session", Who::Nobody, Credential::Nobody),
        ("viewer", Who::Role(Role::Viewer), viewer),
        ("operator", Who::Role(Role::Operator), operator),
        ("admin", Who::Role(Role::Admin), admin),
        (
            "viewer token",
            Who::Role(Role::Viewer),
            Credential::Token(viewer_token.token),
        ),
        ("revoked token", Who::Dead, Credential::Token(revoked.token)),
    ];
    let mut wrong = Vec::new();
    for (name, who, credential) in &columns {
        wrong.extend(run_column(&app, name, *who, credential).await);
    }
    // Nothing was created by all that (the columns' sessions ended with the matrix's last row).
    let fresh = app.session(Role::Admin).await;
    let commands = app.call(Method::GET, "/api/commands", &fresh, None).await;
    assert_eq!(commands.json()["items"], json!([]));

    // The expired session: untouched for over a second.
    let idle_for = Duration::from_millis(1300);
    tokio::time::sleep(idle_for.saturating_sub(idle_since.elapsed())).await;
    wrong.extend(run_column(&idle, "expired session", Who::Dead, &expired).await);

    assert!(
        wrong.is_empty(),
        "answers that do not match the roles:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_logged_in_users_refused_requests_are_audited_and_bounded() {
    let app = TestApp::start().await;
    let admin = app.session(Role::Admin).await;
    let viewer = app.session(Role::Viewer).await;
    let body =
        Some(json!({"username": "mallory", "password": "a long enough password", "role": "admin"}));
    let refused = app
        .call(Method::POST, "/api/users", &viewer, body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // A request from another site's page, with the session's cookie.
    let Credential::Session { cookie, .. } = &viewer else {
        unreachable!("a session")
    };
    let forged = axum::http::Request::post("/api/tokens")
        .header("host", crate::harness::HOST)
        .header("cookie", cookie)
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body(axum::body::Body::from("{}"))
        .unwrap();
    assert_eq!(app.send(forged).await.status, StatusCode::FORBIDDEN);

    let audit = app
        .call(Method::GET, "/api/audit?type=request_refused", &admin, None)
        .await
        .json();
    let lines = audit["items"].as_array().expect("lines");
    let reasons: BTreeSet<(String, String, String)> = lines
        .iter()
        .map(|l| {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                text(&l["target"]),
                text(&l["detail"]["reason"]),
                text(&l["outcome"]),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        BTreeSet::from([
            (
                "POST /api/users".into(),
                "forbidden".into(),
                "denied".into()
            ),
            ("POST /api/tokens".into(), "csrf".into(), "denied".into()),
        ]),
        "{audit}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["actor"].as_str().unwrap_or("").starts_with("viewer"))
    );

    // A loop of refusals cannot fill the append-only log.
    for _ in 0..30 {
        app.call(Method::POST, "/api/users", &viewer, body.clone())
            .await;
    }
    let audit = app
        .call(Method::GET, "/api/audit?type=request_refused", &admin, None)
        .await
        .json();
    let count = audit["items"].as_array().expect("lines").len();
    assert!(count <= 12, "{count} lines for 32 refusals");
}
