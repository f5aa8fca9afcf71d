//! Logging in and out: the session cookie's flags, the same refusal for a wrong password and an
//! unknown user, logout ending the session on the server, and what `GET /api/session` shows (never
//! a secret). Expiry, lockouts and the first admin account need time or a process: those stay with
//! the black-box tests in `tests/`.

use crate::harness::{Credential, PASSWORD, TestApp, unique};
use axum::http::Method;
use hermod_shared::console::{Role, SessionInfo};
use serde_json::Value;

/// The `Set-Cookie` attributes, lower-cased, without the name=value.
fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn a_login_sets_a_strict_http_only_cookie_and_logout_ends_the_session_on_the_server() {
    let app = TestApp::start().await;
    let name = app.user(Role::Admin).await;
    let login = app.try_login(&name, PASSWORD).await.expect(200);
    let admin = Credential::from_login(&login);
    let set_cookie = login.header("set-cookie").expect("a session cookie");
    let attributes = cookie_attributes(set_cookie);
    for wanted in ["httponly", "samesite=strict", "path=/"] {
        assert!(
            attributes.iter().any(|a| a == wanted),
            "{wanted} in {attributes:?}"
        );
    }
    assert!(
        !attributes.iter().any(|a| a == "secure"),
        "no Secure over plain http: {attributes:?}"
    );

    let me: SessionInfo = app
        .call(Method::GET, "/api/session", &admin, None)
        .await
        .expect(200)
        .parse();
    assert_eq!((me.user.as_str(), me.role), (name.as_str(), Role::Admin));
    let Credential::Session { csrf, .. } = &admin else {
        unreachable!("a session")
    };
    assert_eq!(me.csrf_token.as_deref(), Some(csrf.as_str()));

    // Wrong password and unknown user: the same answer, and no cookie.
    let wrong = app.try_login(&name, "not the admin password").await;
    let nobody = app
        .try_login(&unique("nobody-"), "not a password at all")
        .await;
    for r in [&wrong, &nobody] {
        r.expect_problem(401, Some("invalid_credentials"), None);
        assert!(r.header("set-cookie").is_none(), "{:?}", r.headers);
    }
    assert_eq!(wrong.problem().detail, nobody.problem().detail);

    // Log out a second session: the server forgets it, whatever the browser keeps.
    let second = app.login(&name).await;
    let out = app
        .call(Method::DELETE, "/api/session", &second, None)
        .await
        .expect(204);
    let cleared = out.header("set-cookie").expect("logout clears the cookie");
    assert!(
        cookie_attributes(cleared).contains(&"max-age=0".to_string()),
        "{cleared}"
    );
    for path in ["/api/session", "/api/commands", "/api/events"] {
        app.call(Method::GET, path, &second, None)
            .await
            .expect_problem(401, Some("unauthenticated"), None);
    }
    // The first session is untouched.
    app.call(Method::GET, "/api/session", &admin, None)
        .await
        .expect(200);
}

/// The session answer never holds a password or the cookie: what `GET /api/session` shows.
#[tokio::test]
async fn who_am_i_shows_the_user_role_and_csrf_token_and_nothing_secret() {
    let app = TestApp::start().await;
    let viewer = app.session(Role::Viewer).await;
    let r = app
        .call(Method::GET, "/api/session", &viewer, None)
        .await
        .expect(200);
    let v: Value = r.json();
    let mut keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["csrf_token", "expires_at", "role", "user"], "{v}");
    let Credential::Session { cookie, .. } = &viewer else {
        unreachable!("a session")
    };
    // The cookie's value, as the browser holds it (without its name).
    let (_, cookie) = cookie.split_once('=').expect("name=value");
    assert!(!r.text().contains(cookie));
    assert!(!r.text().contains(PASSWORD));
    assert_eq!(v["role"], "viewer");
}
