//! Who is calling the console: a stranger, its own page, a logged-in user, a token; logins, accounts
//! and tokens made through the API; and every credential handed out, for the secrets scan.

use super::Console;
use crate::{Resp, Transcript, client_builder, unique};
use hermod_shared::console::{MintedToken, Role, SessionInfo, UserRecord};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// The session cookie's name; over HTTPS with the `__Host-` prefix.
pub const SESSION_COOKIE: &str = "hermod_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-hermod_session";

/// A logged-in browser session, as the harness holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The session cookie's name and value.
    pub cookie_name: String,
    pub cookie: String,
    pub csrf_token: String,
    /// The login answer's whole `Set-Cookie` header.
    pub set_cookie: String,
}

impl Session {
    /// The `Cookie` header a browser sends with it.
    pub fn cookie_header(&self) -> String {
        format!("{}={}", self.cookie_name, self.cookie)
    }
}

/// A kind of credential the harness was handed, for the secrets scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Password,
    SessionCookie,
    CsrfToken,
    ApiToken,
}

/// The credentials handed out during a test: passwords set, session cookies and CSRF tokens from
/// logins, API tokens minted.
pub type Issued = Arc<Mutex<Vec<(Credential, String)>>>;

impl Console {
    /// Every credential handed out so far, the admin's password included.
    pub fn issued(&self) -> Vec<(Credential, String)> {
        let mut all = vec![(Credential::Password, self.secrets.admin_password.clone())];
        all.extend(self.issued.lock().expect("issued lock").iter().cloned());
        all
    }

    fn issue(&self, kind: Credential, value: &str) {
        self.issued
            .lock()
            .expect("issued lock")
            .push((kind, value.to_string()));
    }

    /// The admin session the harness logged in with.
    pub fn admin_session(&self) -> &Session {
        self.admin.as_ref().expect("logged in")
    }

    fn client_with(&self, headers: HeaderMap) -> reqwest::Client {
        client_builder(self.ca.as_deref(), headers)
            .build()
            .expect("build an HTTP client")
    }

    /// No credential, no `Origin`: a stranger, a script, or Hermod.
    pub fn anonymous(&self) -> reqwest::Client {
        self.client_with(HeaderMap::new())
    }

    /// The console's own page: `Origin` only.
    pub fn same_origin(&self) -> reqwest::Client {
        self.client_with(self.origin_headers())
    }

    fn origin_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "origin",
            HeaderValue::from_str(&self.url).expect("URL is a header value"),
        );
        headers
    }

    /// What the page sends in `session`: the cookie, `Origin` and `X-CSRF-Token`.
    pub fn session_client(&self, session: &Session) -> reqwest::Client {
        let mut headers = self.origin_headers();
        let mut cookie =
            HeaderValue::from_str(&session.cookie_header()).expect("cookie is a header value");
        cookie.set_sensitive(true);
        headers.insert("cookie", cookie);
        headers.insert(
            "x-csrf-token",
            HeaderValue::from_str(&session.csrf_token).expect("CSRF token is a header value"),
        );
        self.client_with(headers)
    }

    /// Automation: `Authorization: Bearer <token>` and nothing else.
    pub fn bearer_client(&self, token: &str) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).expect("token is a header value");
        value.set_sensitive(true);
        headers.insert("authorization", value);
        self.client_with(headers)
    }

    /// `POST /api/session` from the console's own page (its `Origin`); the answer is not recorded.
    pub async fn try_login(&self, username: &str, password: &str) -> Resp {
        let response = self
            .same_origin()
            .post(format!("{}/api/session", self.url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("send the login");
        Resp::read_unrecorded(response).await
    }

    /// Logs in (must answer 200 with a session cookie and a CSRF token).
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let r = self.try_login(username, password).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "login as {username}: {} {}",
            r.status,
            r.text
        );
        let info: SessionInfo = r.parse();
        let set_cookie = r
            .header("set-cookie")
            .expect("a login sets the session cookie")
            .to_string();
        let (cookie_name, cookie) = set_cookie
            .split(';')
            .next()
            .and_then(|kv| kv.trim().split_once('='))
            .filter(|(name, value)| {
                [SESSION_COOKIE, SECURE_SESSION_COOKIE].contains(name) && !value.is_empty()
            })
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .unwrap_or_else(|| panic!("no {SESSION_COOKIE} in {set_cookie}"));
        let csrf_token = info.csrf_token.expect("a session has a CSRF token");
        self.issue(Credential::SessionCookie, &cookie);
        self.issue(Credential::CsrfToken, &csrf_token);
        Session {
            user: info.user,
            role: info.role,
            cookie_name,
            cookie,
            csrf_token,
            set_cookie,
        }
    }

    /// A new account with `role` and a random name and password, made by the admin.
    pub async fn create_user(&self, role: Role) -> (UserRecord, String) {
        let password = unique("SeCrEtUserPw");
        let name = unique(&format!("{role}-"));
        self.issue(Credential::Password, &password);
        let user: UserRecord = self
            .post_json(
                "/api/users",
                &json!({"username": name, "password": password, "role": role}),
            )
            .await
            .expect(201)
            .parse();
        (user, password)
    }

    /// A new account with `role`, logged in.
    pub async fn agent(&self, role: Role) -> Agent {
        let (user, password) = self.create_user(role).await;
        let session = self.login(&user.username, &password).await;
        Agent {
            url: self.url.clone(),
            http: self.session_client(&session),
            session: Some(session),
            user: Some(user),
            password: Some(password),
            transcript: self.transcript.clone(),
        }
    }

    /// Someone using the API with `http` (anonymous, a token…).
    pub fn agent_with(&self, http: reqwest::Client) -> Agent {
        Agent {
            url: self.url.clone(),
            http,
            session: None,
            user: None,
            password: None,
            transcript: self.transcript.clone(),
        }
    }

    /// An API token minted by the admin (`POST /api/tokens`, 201); the answer is not recorded.
    pub async fn mint_token(&self, name: &str, role: Role, days: u32) -> MintedToken {
        let response = self
            .http
            .post(format!("{}/api/tokens", self.url))
            .json(&json!({"name": name, "role": role, "expires_in_days": days}))
            .send()
            .await
            .expect("mint a token");
        let r = Resp::read_unrecorded(response).await.expect(201);
        let minted: MintedToken = r.parse();
        self.issue(Credential::ApiToken, &minted.token);
        minted
    }
}

/// Someone using the console's API with their own credential (a session, a token, or none).
pub struct Agent {
    pub url: String,
    pub http: reqwest::Client,
    pub session: Option<Session>,
    pub user: Option<UserRecord>,
    pub password: Option<String>,
    transcript: Transcript,
}

impl Agent {
    pub async fn read(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("send the request");
        Resp::read(response, &self.transcript).await
    }

    /// `method path`, with `body` as JSON when given.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.read(request).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Resp {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(reqwest::Method::DELETE, path, None).await
    }
}
