//! The console's real router (`app(state)`) over a store in a temporary directory, driven in-process:
//! each request goes through `tower::ServiceExt::oneshot` with a made-up peer address, the way the
//! server would hand it over. No process, no port, no browser; argon2 at its cheapest.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, Response, StatusCode, header, request};
use base64::Engine;
use hermod_console::app::app;
use hermod_console::auth::password::{self, Cost};
use hermod_console::config::{Config, Secret};
use hermod_console::server::PeerAddr;
use hermod_console::state::AppState;
use hermod_console::store::Store;
use hermod_shared::console::{MintedToken, Problem, Role, SessionInfo};
use hermod_simulator::{SimConfig, Simulator};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::watch;
use tower::ServiceExt;

/// The host name the test console answers to (its `public_url`).
pub const HOST: &str = "console.test";
pub const ORIGIN: &str = "http://console.test";
pub const PASSWORD: &str = "a test password, long enough";

const KEY: &str = "idm-key-for-tests";
/// `idm`'s Basic credential for its callbacks, as Hermod sends it.
/// A command type Hermod's documentation does not list, which the test simulator takes.
pub const CUSTOM: &str = "rotate";
pub const CALLBACK_USER: &str = "idm-callback";
pub const CALLBACK_PASSWORD: &str = "idm-callback-password";

/// A Hermod simulator serving on a port of its own, its configuration changed by `edit`; gives its
/// command URL.
async fn simulator(edit: impl FnOnce(&mut SimConfig)) -> String {
    // The simulator's HTTP client needs a TLS provider before it is built, and it is built before
    // the console's state (which would install one).
    hermod_console::install_crypto();
    let mut config = SimConfig::from_toml(
        &format!(
            r#"custom_commands = ["{CUSTOM}"]

[clients.idm]
key = "{KEY}"
callback_url = "http://127.0.0.1:9/clients/idm/rest"
"#
        ),
        [],
    )
    .expect("the simulator's configuration");
    edit(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("its address");
    let router = hermod_simulator::router(Simulator::new(config));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/hermod/rest/command")
}

/// `postgres` runs every test on a PostgreSQL database of its own (in a throw-away cluster,
/// tests/src/postgres.rs) instead of a SQLite file: `make test` runs the suite both ways.
const STORE_VARIABLE: &str = "HERMOD_CONSOLE_TEST_STORE";

/// A directory under the system's temp dir, removed with everything in it on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    store: Arc<dyn Store>,
    router: Router,
    users: AtomicU32,
    _shutdown: watch::Sender<bool>,
    _dir: TempDir,
    /// The PostgreSQL database it runs on, which its replicas share ([`TestApp::replica_of`]);
    /// `None` on SQLite.
    database_url: Option<String>,
}

/// How a request proves who makes it.
#[derive(Clone)]
pub enum Credential {
    Nobody,
    /// A browser session: its cookie, and the CSRF token its state-changing requests carry.
    Session {
        cookie: String,
        csrf: String,
    },
    Token(String),
}

/// An answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Panics (showing the body) unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Answer {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text()
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        self.parse()
    }

    #[track_caller]
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered what is not the JSON expected ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// The JSON problem every error answer is (docs/ARCHITECTURE.md): `error` and `detail` present
    /// and not empty, served as JSON.
    #[track_caller]
    pub fn problem(&self) -> Problem {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "an error must be JSON, got content type {content_type:?}, status {}: {}",
            self.status,
            self.text()
        );
        let p: Problem = self.parse();
        assert!(!p.error.is_empty(), "empty `error`: {}", self.text());
        assert!(!p.detail.is_empty(), "empty `detail`: {}", self.text());
        p
    }

    /// Asserts the status and the problem body, and (when given) its `error` code and `field`.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, error: Option<&str>, field: Option<&str>) -> Problem {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text()
        );
        let p = self.problem();
        if let Some(error) = error {
            assert_eq!(p.error, error, "error code of {}", self.text());
        }
        if let Some(field) = field {
            assert_eq!(p.field.as_deref(), Some(field), "field of {}", self.text());
        }
        p
    }
}

impl Credential {
    /// The session a login answer opened (its cookie as the browser sends it back, its CSRF token).
    #[track_caller]
    pub fn from_login(answer: &Answer) -> Credential {
        let cookie = answer
            .header("set-cookie")
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_string();
        let info: SessionInfo = answer.parse();
        Credential::Session {
            cookie,
            csrf: info.csrf_token.expect("a CSRF token"),
        }
    }
}

/// A request with our Host header and nothing else: what a stranger, a script or Hermod sends.
pub fn bare(method: Method, path: &str) -> request::Builder {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, HOST)
}

/// `method path` as `who` would send it from the console's own page: our Origin and `who`'s
/// credential.
pub fn page_request(method: Method, path: &str, who: &Credential) -> request::Builder {
    let request = bare(method, path).header(header::ORIGIN, ORIGIN);
    match who {
        Credential::Nobody => request,
        Credential::Session { cookie, csrf } => request
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf),
        Credential::Token(token) => {
            request.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    }
}

/// `prefix` followed by random hex: unique names and external ids. Steering prefixes such as
/// `hold-` stay at the start.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

pub fn b64(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A valid sign request's body (docs/hermod.md §7.2), with `timeout` and `lifespan` of
/// `timeout_secs`.
pub fn sign_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": {
            "lifespan": timeout_secs,
            "timeout": timeout_secs,
            "to": ["@tmp"],
            "externalId": external_id,
        },
        "signCommand": { "params": {
            "description": [ { "key": "requester", "description": "Signing request from",
                               "content_type": "text/plain", "content_encoding": "base64",
                               "data": b64("Example Bank"), "visible": true } ],
            "tbs": [ { "key": "tbs", "description": "Text to sign",
                       "content_type": "text/plain", "content_encoding": "base64",
                       "data": b64("Pay 100 EUR to ACME"), "visible": true } ],
            "filter": { "op": "eq", "param": "key.type", "value": "RSA" },
            "format": "pkcs7",
            "mechanism": "CKM_SHA256_RSA_PKCS"
        } }
    })
}

impl TestApp {
    /// A console with one Hermod client (`idm`, at an address where nothing listens).
    pub async fn start() -> TestApp {
        TestApp::start_with(|_| {}).await
    }

    /// [`TestApp::start`] with `idm` pointing at a Hermod simulator of its own (on a port: the
    /// console reaches Hermod over HTTP). Its callbacks go nowhere; commands whose externalId starts
    /// with `hold-` never call back.
    pub async fn with_hermod() -> TestApp {
        TestApp::with_hermod_and(|_| {}).await
    }

    /// [`TestApp::with_hermod`] with the configuration changed by `edit`. The simulator also takes
    /// the custom command type [`CUSTOM`].
    pub async fn with_hermod_and(edit: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::with_hermod_like(|_| {}, edit).await
    }

    /// [`TestApp::with_hermod_and`] with a Hermod that differs from the guesses: the simulator's
    /// configuration changed by `hermod`.
    pub async fn with_hermod_like(
        hermod: impl FnOnce(&mut SimConfig),
        edit: impl FnOnce(&mut Config),
    ) -> TestApp {
        let command_url = simulator(hermod).await;
        TestApp::start_with(|c| {
            let idm = c.clients.get_mut("idm").expect("the idm client");
            idm.command_url = command_url;
            edit(c);
        })
        .await
    }

    /// [`TestApp::start`] with the configuration changed by `edit`.
    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> TestApp {
        hermod_console::install_crypto();
        let dir = std::env::temp_dir().join(format!(
            "hermod-in-process-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let dir = TempDir(dir);
        let mut config = Config::from_toml(
            &format!(
                r#"public_url = "{ORIGIN}"

[auth]
argon2_memory_kib = 8
argon2_passes = 1

[clients.idm]
command_url = "http://127.0.0.1:9/hermod/rest/command"
key = "{KEY}"
callback_user = "{CALLBACK_USER}"
callback_password = "{CALLBACK_PASSWORD}"
"#
            ),
            [],
        )
        .expect("the test configuration");
        if std::env::var(STORE_VARIABLE).as_deref() == Ok("postgres") {
            let url = hermod_console_tests::postgres::cluster().database();
            config.database_url = Some(Secret::new(url));
        }
        edit(&mut config);
        let database_url = config.database_url.as_ref().map(|u| u.expose().to_string());
        let (shutdown, stop) = watch::channel(false);
        let state = AppState::new(&config, &dir.0, stop)
            .await
            .expect("the app's state");
        TestApp {
            store: state.part(),
            router: app(state),
            users: AtomicU32::new(0),
            _shutdown: shutdown,
            _dir: dir,
            database_url,
        }
    }

    /// [`TestApp::start_with`] on a PostgreSQL database of its own, whatever [`STORE_VARIABLE`]
    /// says: for what only replicas sharing a database show.
    pub async fn on_postgres(edit: impl FnOnce(&mut Config)) -> TestApp {
        let url = hermod_console_tests::postgres::cluster().database();
        TestApp::on_database(url, edit).await
    }

    /// Another replica of `other`, which runs on PostgreSQL: a console of its own on the same
    /// database, its configuration changed by `edit`. Users are best made on one of them: each
    /// numbers the names it makes from 0.
    pub async fn replica_of(other: &TestApp, edit: impl FnOnce(&mut Config)) -> TestApp {
        let url = other
            .database_url
            .clone()
            .expect("replicas share a PostgreSQL database");
        TestApp::on_database(url, edit).await
    }

    async fn on_database(url: String, edit: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start_with(|c| {
            c.database_url = Some(Secret::new(url));
            edit(c);
        })
        .await
    }

    /// The console's store, for what a test does beside the requests (making users, stopping
    /// the writer).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A new user of `role`, logged in.
    pub async fn session(&self, role: Role) -> Credential {
        let name = self.user(role).await;
        self.login(&name).await
    }

    /// A new user of `role`, with [`PASSWORD`]; gives its name.
    pub async fn user(&self, role: Role) -> String {
        let name = format!("{role}-{}", self.users.fetch_add(1, Ordering::Relaxed));
        let cost = Cost {
            memory_kib: 8,
            passes: 1,
        };
        let hash = password::hash(PASSWORD.into(), cost).await.expect("a hash");
        self.store
            .create_user(name.clone(), hash, role)
            .await
            .expect("a user");
        name
    }

    /// `POST /api/session` from the console's own page, as it answered.
    pub async fn try_login(&self, name: &str, password: &str) -> Answer {
        self.call(
            Method::POST,
            "/api/session",
            &Credential::Nobody,
            Some(json!({"username": name, "password": password})),
        )
        .await
    }

    pub async fn login(&self, name: &str) -> Credential {
        let answer = self.try_login(name, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::OK, "log in as {name}");
        Credential::from_login(&answer)
    }

    /// A new API token of `role`, minted by `admin`.
    pub async fn token(&self, admin: &Credential, role: Role) -> MintedToken {
        let name = format!("token-{}", self.users.fetch_add(1, Ordering::Relaxed));
        let answer = self
            .call(
                Method::POST,
                "/api/tokens",
                admin,
                Some(json!({"name": name, "role": role, "expires_in_days": 1})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "mint a token");
        serde_json::from_slice(&answer.body).expect("a minted token")
    }

    /// A command of `command_type` with `body`, sent to `idm` as `who` (it must be taken: 201): its
    /// id and the commandId Hermod gave it.
    pub async fn sent(&self, who: &Credential, command_type: &str, body: Value) -> (i64, Value) {
        let send = json!({"client": "idm", "type": command_type, "body": body});
        let sent = self
            .call(Method::POST, "/api/commands", who, Some(send))
            .await
            .expect(201)
            .json();
        (
            sent["id"].as_i64().expect("an id"),
            sent["command_id"].clone(),
        )
    }

    /// `GET path` as `who`, which must answer 200, read as `T`.
    pub async fn get<T: DeserializeOwned>(&self, who: &Credential, path: &str) -> T {
        self.call(Method::GET, path, who, None)
            .await
            .expect(200)
            .parse()
    }

    /// `method path` as `who` would send it from the console's own page, with `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: &Credential,
        body: Option<Value>,
    ) -> Answer {
        match body {
            Some(v) => {
                let json = Some("application/json");
                self.call_raw(method, path, who, json, v.to_string().into_bytes())
                    .await
            }
            None => {
                let request = page_request(method, path, who).body(Body::empty());
                self.send(request.expect("a request")).await
            }
        }
    }

    /// [`TestApp::call`] with exactly this content type (or none) and body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        who: &Credential,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = page_request(method, path, who);
        if let Some(ct) = content_type {
            request = request.header(header::CONTENT_TYPE, ct);
        }
        self.send(request.body(Body::from(body)).expect("a request"))
            .await
    }

    /// A callback posted to `path` as Hermod does: no session, no Origin, `auth` as its Basic
    /// credential (`None`: no Authorization).
    pub async fn callback(
        &self,
        path: &str,
        auth: Option<(&str, &str)>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        let mut request = bare(Method::POST, path).header(header::CONTENT_TYPE, content_type);
        if let Some((user, password)) = auth {
            let basic = b64(format!("{user}:{password}"));
            request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
        }
        let body = Body::from(body.into());
        self.send(request.body(body).expect("a request")).await
    }

    /// A sign callback as idm's Hermod posts it, with its credential.
    pub async fn sign_callback(&self, body: impl Into<Vec<u8>>) -> Answer {
        self.callback(
            "/clients/idm/rest/callback/sign",
            Some((CALLBACK_USER, CALLBACK_PASSWORD)),
            "application/json",
            body,
        )
        .await
    }

    /// The console still answers, and is ready: an earlier request left nothing broken behind.
    pub async fn assert_healthy(&self) {
        for path in ["/healthz", "/readyz"] {
            let answer = self
                .send(
                    bare(Method::GET, path)
                        .body(Body::empty())
                        .expect("a request"),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text());
        }
    }

    /// Sends a request made by the caller, from a fixed peer address, and gives the response
    /// unread: a feed stream stays open while it is held.
    pub async fn respond(&self, mut request: Request<Body>) -> Response<Body> {
        request
            .extensions_mut()
            .insert(ConnectInfo(PeerAddr(([10, 0, 0, 7], 40_000).into())));
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers")
    }

    /// [`TestApp::respond`], the answer read whole.
    pub async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.respond(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        // A stream stays open: its head is the answer.
        let streaming = headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let body = if streaming {
            Vec::new()
        } else {
            to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("the whole body")
                .to_vec()
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}
