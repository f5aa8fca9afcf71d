//! Roles are enforced by the backend on every route (issue 3): a matrix of every API route (as
//! `GET /api/routes` lists them) × every kind of caller. A route the matrix does not know, or a route
//! the matrix names that no longer exists, fails the test, so a new route cannot slip past it.

use hermod_console_tests::*;
use hermod_shared::console::{FeedEvent, Role, RouteInfo};
use reqwest::Method;
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

/// Calls `c.path` with `http` and gives the status. A stream is not read, only opened; every error
/// answer must be a JSON problem.
async fn status_of(url: &str, http: &reqwest::Client, c: &Case) -> u16 {
    let mut request = http.request(c.method.clone(), format!("{url}{}", c.path));
    if let Some(body) = &c.body {
        request = request.json(body);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    // A stream is only opened; a HEAD answer has no body to read.
    if (c.route == "/api/events" && status == 200) || c.method == Method::HEAD {
        return status;
    }
    let r = Resp::read_unrecorded(response).await;
    if status >= 400 {
        r.problem();
    }
    status
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

/// Runs every case as `who`; returns the mismatches as lines of a table.
async fn run_column(url: &str, name: &str, who: Who, http: &reqwest::Client) -> Vec<String> {
    let mut wrong = Vec::new();
    for c in matrix().into_iter().flat_map(with_head) {
        let got = status_of(url, http, &c).await;
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
    // A second console whose sessions end after 1 s idle, for the expired-session column.
    let (c, idle) = tokio::join!(
        Console::demo().start(),
        Console::demo()
            .env("HERMOD_CONSOLE__AUTH__SESSION_IDLE_SECS", "1")
            .start()
    );
    let idle_since = Instant::now();
    let expired = idle.session_client(idle.admin_session());

    // The matrix covers exactly the routes that exist, with the roles they declare.
    let routes: Vec<RouteInfo> = c.get("/api/routes").await.expect(200).parse();
    let served: BTreeSet<(String, String, Option<Role>)> = routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.role))
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

    let viewer = c.agent(Role::Viewer).await;
    let operator = c.agent(Role::Operator).await;
    let admin = c.agent(Role::Admin).await;
    let viewer_token = c.mint_token("matrix-viewer", Role::Viewer, 1).await;
    let revoked = c.mint_token("matrix-revoked", Role::Admin, 1).await;
    c.delete(&format!("/api/tokens/{}", revoked.record.id))
        .await
        .expect(200);

    let mut wrong = Vec::new();
    let columns: [(&str, Who, reqwest::Client); 6] = [
        ("no session", Who::Nobody, c.same_origin()),
        ("viewer", Who::Role(Role::Viewer), viewer.http.clone()),
        ("operator", Who::Role(Role::Operator), operator.http.clone()),
        ("admin", Who::Role(Role::Admin), admin.http.clone()),
        (
            "viewer token",
            Who::Role(Role::Viewer),
            c.bearer_client(&viewer_token.token),
        ),
        ("revoked token", Who::Dead, c.bearer_client(&revoked.token)),
    ];
    for (name, who, http) in &columns {
        wrong.extend(run_column(&c.url, name, *who, http).await);
    }
    // Nothing was created by all that.
    assert!(c.commands("").await.items.is_empty());

    // The expired session: untouched for over a second.
    let idle_for = Duration::from_millis(1300);
    tokio::time::sleep(idle_for.saturating_sub(idle_since.elapsed())).await;
    wrong.extend(run_column(&idle.url, "expired session", Who::Dead, &expired).await);

    assert!(
        wrong.is_empty(),
        "answers that do not match the roles:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn a_session_may_hold_at_most_five_live_feed_streams() {
    let c = Console::demo().start().await;
    let viewer = c.agent(Role::Viewer).await;
    let open = |http: reqwest::Client| {
        let url = format!("{}/api/events", c.url);
        async move {
            http.get(url)
                .timeout(Duration::from_secs(3600))
                .send()
                .await
                .expect("open /api/events")
        }
    };
    let mut streams = Vec::new();
    for _ in 0..5 {
        let s = open(viewer.http.clone()).await;
        assert_eq!(s.status().as_u16(), 200);
        streams.push(s);
    }
    let sixth = Resp::read_unrecorded(open(viewer.http.clone()).await).await;
    sixth.expect_problem(429, Some("too_many_streams"), None);

    // The limit is per session: the same user's other session, and other users, still get theirs.
    let (name, password) = (
        viewer.user.as_ref().expect("a user").username.clone(),
        viewer.password.clone().expect("a password"),
    );
    let other_session = c.session_client(&c.login(&name, &password).await);
    assert_eq!(open(other_session).await.status().as_u16(), 200);
    assert_eq!(open(c.http.clone()).await.status().as_u16(), 200);

    // Closing a stream frees its place.
    streams.pop();
    wait_until("a closed stream's place to be free", WAIT, || async {
        let s = open(viewer.http.clone()).await;
        (s.status().as_u16() == 200).then_some(s)
    })
    .await;
}

/// Reads `stream` until the server ends it; heartbeats and events on the way are fine.
async fn ends(stream: &mut Sse, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next(left).await {
            Next::End => return,
            Next::Event(_) => {}
            Next::Timeout => panic!("the stream stayed open after {what}"),
        }
    }
}

#[tokio::test]
async fn open_feed_streams_end_with_their_session_or_token() {
    let c = Console::demo().start().await;
    let mut watching = c.subscribe().await;

    // Logging out ends the session's streams, in every tab.
    let viewer = c.agent(Role::Viewer).await;
    let mut tab = c.events_as(&viewer.http, None, None).await;
    viewer.delete("/api/session").await.expect(204);
    ends(&mut tab, "logout").await;

    // Revoking a token ends its streams.
    let token = c.mint_token("streaming", Role::Viewer, 1).await;
    let mut automation = c
        .events_as(&c.bearer_client(&token.token), None, None)
        .await;
    c.delete(&format!("/api/tokens/{}", token.record.id))
        .await
        .expect(200);
    ends(&mut automation, "the token was revoked").await;

    // Removing a user ends theirs.
    let removed = c.agent(Role::Operator).await;
    let mut tab = c.events_as(&removed.http, None, None).await;
    let id = removed.user.as_ref().expect("a user").id;
    c.delete(&format!("/api/users/{id}")).await.expect(204);
    ends(&mut tab, "the user was removed").await;

    // Everyone else's stream goes on, and still carries what happens.
    let record = c.send("ping", ping_body(&unique("still-"), 30)).await;
    let seen = watching
        .feed_until(
            WAIT,
            |e| matches!(e, FeedEvent::Command { command, .. } if command.id == record.id),
        )
        .await;
    assert!(!seen.is_empty());
}

#[tokio::test]
async fn an_open_stream_is_not_activity_and_ends_with_the_idle_session() {
    let c = Console::demo()
        .env("HERMOD_CONSOLE__AUTH__SESSION_IDLE_SECS", "2")
        .env("HERMOD_CONSOLE__FEED__HEARTBEAT_SECS", "1")
        .start()
        .await;
    let before_login = Instant::now();
    let viewer = c.agent(Role::Viewer).await;
    let mut tab = c.events_as(&viewer.http, None, None).await;
    ends(&mut tab, "the session's idle time").await;
    assert!(
        before_login.elapsed() >= Duration::from_secs(2),
        "ended {:?} after the login, before the idle time",
        before_login.elapsed()
    );
    viewer
        .get("/api/session")
        .await
        .expect_problem(401, Some("unauthenticated"), None);
}
