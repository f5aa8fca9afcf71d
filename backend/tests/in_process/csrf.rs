//! A browser session's state-changing requests need our Origin (or Sec-Fetch-Site) and its CSRF
//! token; API tokens carry no cookie, so they need neither; a login from another site is refused.

use crate::harness::{Credential, ORIGIN, TestApp, bare};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hermod_shared::console::Role;
use serde_json::{Value, json};

fn send() -> Value {
    let id = format!("hold-csrf-{:x}", rand::random::<u64>());
    json!({"client": "idm", "type": "ping", "body": {
        "commandHeader": {"lifespan": 30, "timeout": 30, "to": ["@tmp"], "externalId": id},
        "pingCommand": {"deviceinfo": "true"}
    }})
}

/// `method path` with the session cookie and exactly the headers named (`None`: left out).
fn with(
    method: Method,
    path: &str,
    cookie: &str,
    headers: [(&str, Option<&str>); 3],
    body: Option<Value>,
) -> Request<Body> {
    let mut request = bare(method, path).header(header::COOKIE, cookie);
    for (name, value) in headers {
        if let Some(v) = value {
            request = request.header(name, v);
        }
    }
    match body {
        Some(b) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .expect("a request")
}

async fn commands(app: &TestApp, who: &Credential) -> usize {
    let list = app.call(Method::GET, "/api/commands", who, None).await;
    list.json()["items"].as_array().expect("items").len()
}

#[tokio::test]
async fn state_changing_requests_need_our_origin_and_the_csrf_token_but_bearer_tokens_need_neither()
{
    let app = TestApp::with_hermod().await;
    let admin = app.session(Role::Admin).await;
    let name = app.user(Role::Operator).await;
    let operator = app.login(&name).await;
    let (Credential::Session { cookie, csrf }, Credential::Session { csrf: other, .. }) =
        (&operator, &admin)
    else {
        unreachable!("sessions")
    };
    let attempt = |origin: Option<&str>, fetch_site: Option<&str>, token: Option<&str>| {
        let request = with(
            Method::POST,
            "/api/commands",
            cookie,
            [
                ("origin", origin),
                ("sec-fetch-site", fetch_site),
                ("x-csrf-token", token),
            ],
            Some(send()),
        );
        app.send(request)
    };
    // (Origin, Sec-Fetch-Site, X-CSRF-Token, what it is)
    type Attempt<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, &'a str);
    let token = Some(csrf.as_str());
    let refused: [Attempt; 9] = [
        (Some("http://evil.example"), None, token, "a foreign Origin"),
        (
            Some("http://console.test:8081"),
            None,
            token,
            "another port",
        ),
        (Some("null"), None, token, "an opaque Origin"),
        (Some(ORIGIN), None, None, "no X-CSRF-Token"),
        (Some(ORIGIN), None, Some("forged"), "a wrong token"),
        (Some(ORIGIN), None, Some(other), "another session's token"),
        (None, Some("cross-site"), token, "Sec-Fetch-Site cross-site"),
        (None, Some("same-site"), token, "Sec-Fetch-Site same-site"),
        (None, None, token, "neither Origin nor Sec-Fetch-Site"),
    ];
    for (origin, fetch_site, token, what) in refused {
        let answer = attempt(origin, fetch_site, token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what}");
        assert_eq!(answer.problem().error, "csrf", "{what}");
    }
    assert_eq!(commands(&app, &admin).await, 0, "nothing was sent");
    // Our own page: Origin (or, from a browser that sends none, Sec-Fetch-Site) and the token.
    let ours = attempt(Some(ORIGIN), None, token).await;
    assert_eq!(ours.status, StatusCode::CREATED);
    let fetch = attempt(None, Some("same-origin"), token).await;
    assert_eq!(fetch.status, StatusCode::CREATED);
    assert_eq!(commands(&app, &admin).await, 2);

    // Other state-changing routes are guarded the same way; reads need no token.
    let foreign = [
        ("origin", Some("http://evil.example")),
        ("sec-fetch-site", None),
        ("x-csrf-token", None),
    ];
    let logout = app
        .send(with(Method::DELETE, "/api/session", cookie, foreign, None))
        .await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(logout.problem().error, "csrf");
    let read = app
        .send(with(Method::GET, "/api/commands", cookie, foreign, None))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let still = app.call(Method::GET, "/api/session", &operator, None).await;
    assert_eq!(still.status, StatusCode::OK);

    // API tokens carry no cookie, so there is nothing to forge: no Origin, no CSRF token needed.
    let minted = app.token(&admin, Role::Operator).await;
    for origin in [None, Some("http://evil.example")] {
        let mut request = bare(Method::POST, "/api/commands")
            .header(header::AUTHORIZATION, format!("Bearer {}", minted.token))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        let request = request.body(Body::from(send().to_string())).unwrap();
        assert_eq!(app.send(request).await.status, StatusCode::CREATED);
    }

    // Logging in from another site's page would plant that site's session (login CSRF).
    let login = |origin: Option<&str>, fetch_site: Option<&str>| {
        let mut request =
            bare(Method::POST, "/api/session").header(header::CONTENT_TYPE, "application/json");
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        if let Some(s) = fetch_site {
            request = request.header("sec-fetch-site", s);
        }
        let body = json!({"username": name, "password": crate::harness::PASSWORD});
        app.send(request.body(Body::from(body.to_string())).unwrap())
    };
    for (origin, fetch_site) in [
        (Some("http://evil.example"), None),
        (None, Some("cross-site")),
        (None, None),
    ] {
        let answer = login(origin, fetch_site).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert_eq!(answer.problem().error, "csrf");
        assert!(answer.headers.get(header::SET_COOKIE).is_none());
    }
    let ok = login(None, Some("same-origin")).await;
    assert_eq!(ok.status, StatusCode::OK);
}
