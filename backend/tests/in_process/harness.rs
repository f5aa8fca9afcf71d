//! The console's real router (`app(state)`) over a store in a temporary directory, driven in-process:
//! each request goes through `tower::ServiceExt::oneshot` with a made-up peer address, the way the
//! server would hand it over. No process, no port, no browser; argon2 at its cheapest.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use hermod_console::app::app;
use hermod_console::auth::password::{self, Cost};
use hermod_console::config::Config;
use hermod_console::server::PeerAddr;
use hermod_console::state::AppState;
use hermod_shared::console::{MintedToken, Role, SessionInfo};
use hermod_simulator::{SimConfig, Simulator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::watch;
use tower::ServiceExt;

/// The host name the test console answers to (its `public_url`).
pub const HOST: &str = "console.test";
pub const ORIGIN: &str = "http://console.test";
pub const PASSWORD: &str = "a test password, long enough";

const KEY: &str = "idm-key-for-tests";

/// A Hermod simulator serving on a port of its own; gives its command URL.
async fn simulator() -> String {
    let config = SimConfig::from_toml(
        &format!(
            r#"[clients.idm]
key = "{KEY}"
callback_url = "http://127.0.0.1:9/clients/idm/rest"
"#
        ),
        [],
    )
    .expect("the simulator's configuration");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("its address");
    let router = hermod_simulator::router(Simulator::new(config));
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}/hermod/rest/command")
}

/// A directory under the system's temp dir, removed with everything in it on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub state: AppState,
    router: Router,
    users: AtomicU32,
    _shutdown: watch::Sender<bool>,
    _dir: TempDir,
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
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered what is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The JSON problem every error answer is: `error` and `detail`, as JSON.
    pub fn problem(&self) -> (String, String) {
        let content_type = self.headers.get(header::CONTENT_TYPE);
        assert!(
            content_type.is_some_and(|v| v.to_str().unwrap_or("").contains("json")),
            "{} answered with content type {content_type:?}, not a JSON problem",
            self.status
        );
        let body = self.json();
        let text = |k: &str| {
            body[k]
                .as_str()
                .unwrap_or_else(|| panic!("no `{k}` in the problem {body}"))
                .to_string()
        };
        (text("error"), text("detail"))
    }
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
        let command_url = simulator().await;
        TestApp::start_with(|c| {
            let idm = c.clients.get_mut("idm").expect("the idm client");
            idm.command_url = command_url;
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
callback_user = "idm-callback"
callback_password = "idm-callback-password"
"#
            ),
            [],
        )
        .expect("the test configuration");
        edit(&mut config);
        let (shutdown, stop) = watch::channel(false);
        let state = AppState::new(&config, &dir.0, stop)
            .await
            .expect("the app's state");
        TestApp {
            router: app(state.clone()),
            state,
            users: AtomicU32::new(0),
            _shutdown: shutdown,
            _dir: dir,
        }
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
        self.state
            .store
            .create_user(name.clone(), hash, role)
            .await
            .expect("a user");
        name
    }

    pub async fn login(&self, name: &str) -> Credential {
        let answer = self
            .call(
                Method::POST,
                "/api/session",
                &Credential::Nobody,
                Some(json!({"username": name, "password": PASSWORD})),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "log in as {name}");
        let cookie = answer
            .headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_string();
        let info: SessionInfo = serde_json::from_slice(&answer.body).expect("a session");
        Credential::Session {
            cookie,
            csrf: info.csrf_token.expect("a CSRF token"),
        }
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

    /// `method path` as `who` would send it from the console's own page, with `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        who: &Credential,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, HOST)
            .header(header::ORIGIN, ORIGIN);
        match who {
            Credential::Nobody => {}
            Credential::Session { cookie, csrf } => {
                request = request
                    .header(header::COOKIE, cookie)
                    .header("x-csrf-token", csrf);
            }
            Credential::Token(token) => {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
        }
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("a request")).await
    }

    /// Sends a request made by the caller, from a fixed peer address.
    pub async fn send(&self, mut request: Request<Body>) -> Answer {
        request
            .extensions_mut()
            .insert(ConnectInfo(PeerAddr(([10, 0, 0, 7], 40_000).into())));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
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
