//! The console's state and its router: `fn app(state) -> Router`, so tests and every subcommand build
//! exactly the same thing. Every API route is declared once, in [`api_routes`], with the least role it
//! needs; the router, the guard and `GET /api/routes` are all made from that one table.

use crate::auth::{
    self, Auth, RouteRoles, StreamCounter, limiter::LoginLimiter, password::Cost, source::Net,
};
use crate::config::{Config, ConfigError, FeedConfig, FollowUpConfig, Limits, Secret, host_name};
use crate::error::ApiError;
use crate::feed::Feed;
use crate::hermod::HermodClient;
use crate::metrics::Metrics;
use crate::routes;
use crate::store::{Store, sqlite};
use crate::web::Web;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, post, put};
use axum::{Extension, Json, Router};
use hermod_shared::console::{ClientInfo, Role, RouteInfo};
use hermod_shared::hermod::EnvelopeKeys;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::set_header::SetResponseHeaderLayer;

/// One configured Hermod API user.
pub struct Client {
    pub id: String,
    pub label: String,
    pub hermod: HermodClient,
    /// The Basic credential Hermod's callbacks must carry; `None` accepts them on the client's own
    /// path only, unauthenticated.
    pub callback: Option<(String, Secret)>,
    /// Its commands whose callback never came are polled (`follow_up.rs`).
    pub auto_poll: bool,
}

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub feed: Feed,
    pub clients: BTreeMap<String, Client>,
    pub public_url: String,
    /// Where Hermod reaches the callback receiver (the callback listener's URL when there is one).
    pub callback_base: String,
    /// Callbacks have a listener of their own (`callback_listen`): the main one refuses them.
    pub callbacks_elsewhere: bool,
    /// The host names requests may name (`allowed_hosts`).
    allowed_hosts: Vec<String>,
    pub envelope: EnvelopeKeys,
    pub feed_config: FeedConfig,
    pub follow_up: FollowUpConfig,
    pub limits: Limits,
    pub web: Web,
    pub auth: Auth,
    pub metrics: Metrics,
    pub audit_throttle: crate::audit::Throttle,
    /// Sent on every response: CSP, HSTS under HTTPS, and the rest.
    security_headers: Vec<(HeaderName, HeaderValue)>,
    /// Flips to `true` when the server starts shutting down; open streams end on it.
    pub shutdown: watch::Receiver<bool>,
    /// Ticks every `feed.heartbeat_secs`: one clock for every open feed stream.
    pub heartbeat: watch::Sender<u64>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{authority}")
        }
        None => url.to_string(),
    }
}

impl AppState {
    pub async fn new(
        config: &Config,
        data_dir: &Path,
        shutdown: watch::Receiver<bool>,
    ) -> Result<AppState, ConfigError> {
        let mut clients = BTreeMap::new();
        for (id, c) in &config.clients {
            clients.insert(
                id.clone(),
                Client {
                    id: id.clone(),
                    label: c.label.clone().unwrap_or_else(|| id.clone()),
                    hermod: HermodClient::new(id, c)?,
                    callback: c.resolve_callback(id)?,
                    auto_poll: c.auto_poll,
                },
            );
        }
        let mut trusted = Vec::new();
        for p in &config.trusted_proxies {
            trusted.push(Net::parse(p).ok_or_else(|| {
                ConfigError(format!(
                    "trusted_proxies: `{p}` is not an address or CIDR block"
                ))
            })?);
        }
        let a = &config.auth;
        let public_url = config.public_url();
        let auth = Auth {
            limiter: LoginLimiter::new(
                Duration::from_secs(a.login_window_secs),
                a.login_failures_per_account,
                a.login_failures_per_source,
            ),
            trusted,
            cost: Cost {
                memory_kib: a.argon2_memory_kib,
                passes: a.argon2_passes,
            },
            idle_ms: (a.session_idle_secs as i64).saturating_mul(1000),
            absolute_ms: (a.session_absolute_secs as i64).saturating_mul(1000),
            secure_cookies: config.is_https(),
            public_origin: origin_of(&public_url),
            streams: Arc::new(StreamCounter::default()),
            max_streams: a.max_streams_per_session,
        };
        let feed = Feed::new(config.feed.channel_capacity);
        let store =
            sqlite::open(data_dir, feed.clone()).map_err(|e| ConfigError(format!("store: {e}")))?;
        let web = Web::load(config.dist_dir.as_deref());
        let heartbeat = watch::channel(0).0;
        tick(
            heartbeat.clone(),
            Duration::from_secs(config.feed.heartbeat_secs.max(1)),
            shutdown.clone(),
        );
        let security_headers = security_headers(&web, config.is_https());
        Ok(AppState(Arc::new(Inner {
            store,
            feed,
            clients,
            callback_base: config
                .callback_public_url
                .clone()
                .unwrap_or_else(|| public_url.clone())
                .trim_end_matches('/')
                .to_string(),
            public_url,
            callbacks_elsewhere: config.callback_listen.is_some(),
            allowed_hosts: config.answered_hosts(),
            envelope: config.envelope.clone(),
            feed_config: config.feed.clone(),
            follow_up: config.follow_up.clone(),
            limits: config.limits.clone(),
            web,
            auth,
            metrics: Metrics::default(),
            audit_throttle: Default::default(),
            security_headers,
            shutdown,
            heartbeat,
        })))
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }

    /// What Hermod's `allowed-clients` entry for `client` needs as `callback-url`.
    pub fn callback_url(&self, client: &str) -> String {
        format!("{}/clients/{client}/rest", self.callback_base)
    }

    pub fn client_info(&self, c: &Client) -> ClientInfo {
        let callback_url = self.callback_url(&c.id);
        let callback_user = c.callback.as_ref().map(|(u, _)| u.clone());
        // The secrets stay placeholders: the console never sends them to a browser.
        let mut entry = format!(
            "- client-id: {id}\n  key: <clients.{id}.key of the console>\n  callback-url: {callback_url}\n",
            id = c.id
        );
        if let Some(user) = &callback_user {
            entry.push_str(&format!(
                "  callback-basic-auth: \"{user}:<clients.{}.callback_password>\"\n",
                c.id
            ));
        }
        ClientInfo {
            id: c.id.clone(),
            label: c.label.clone(),
            command_url: c.hermod.command_url().to_string(),
            callback_url,
            callback_user,
            allowed_clients_entry: entry,
        }
    }
}

/// Ticks `clock` every `every` until shutdown.
fn tick(clock: watch::Sender<u64>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await;
        loop {
            tokio::select! {
                _ = interval.tick() => clock.send_modify(|n| *n = n.wrapping_add(1)),
                _ = shutdown.changed() => return,
            }
        }
    });
}

/// The page's CSP allows Trunk's inline loader by its hash, never `'unsafe-inline'`.
fn security_headers(web: &Web, https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let script_hashes: String = web
        .inline_script_hashes()
        .iter()
        .map(|h| format!(" 'sha256-{h}'"))
        .collect();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{script_hashes}; \
         img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&csp).expect("CSP is ASCII"),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    headers
}

/// Refuses a request that names a host the console does not answer to, before any other work: a
/// page on a name an attacker points at this address (DNS rebinding) would otherwise be same-origin
/// with the console's API. Health checks are exempt: probes name whatever address they dial, and
/// the answers hold nothing.
async fn check_host(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .map(host_name);
    let allowed = host
        .as_ref()
        .is_some_and(|h| app.allowed_hosts.iter().any(|a| a == h));
    if allowed || matches!(req.uri().path(), "/healthz" | "/readyz") {
        return next.run(req).await;
    }
    let named: String = host.unwrap_or_default().chars().take(64).collect();
    ApiError::new(
        StatusCode::MISDIRECTED_REQUEST,
        "unknown_host",
        format!(
            "this console does not answer to the host `{named}`; it answers to {} (allowed_hosts, \
             public_url)",
            app.allowed_hosts.join(", ")
        ),
    )
    .into_response()
}

async fn add_security_headers(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in &app.security_headers {
        headers.insert(name.clone(), value.clone());
    }
    response
}

/// One API route: where, the least role it needs (`None`: public), and its handler.
pub struct ApiRoute {
    pub method: Method,
    pub path: &'static str,
    pub role: Option<Role>,
    handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    role: Option<Role>,
    handler: MethodRouter<AppState>,
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        role,
        handler,
    }
}

/// Every API route. A route missing here does not exist; the access matrix test reads this table
/// (through `GET /api/routes`), so a new route cannot slip past it.
pub fn api_routes() -> Vec<ApiRoute> {
    use Method as M;
    use Role::{Admin, Operator, Viewer};
    use routes::*;
    vec![
        route(M::POST, "/api/session", None, post(session::login)),
        route(M::GET, "/api/session", Some(Viewer), get(session::whoami)),
        route(
            M::DELETE,
            "/api/session",
            Some(Viewer),
            delete(session::logout),
        ),
        route(M::GET, "/api/routes", Some(Viewer), get(list_routes)),
        route(M::GET, "/api/clients", Some(Viewer), get(clients::list)),
        route(
            M::POST,
            "/api/clients/{id}/check",
            Some(Operator),
            post(clients::check),
        ),
        route(M::GET, "/api/commands", Some(Viewer), get(commands::list)),
        route(
            M::GET,
            "/api/commands/export",
            Some(Viewer),
            get(commands::export),
        ),
        route(
            M::POST,
            "/api/commands",
            Some(Operator),
            post(commands::send),
        ),
        route(
            M::GET,
            "/api/commands/{id}",
            Some(Viewer),
            get(commands::detail),
        ),
        route(
            M::POST,
            "/api/commands/{id}/poll",
            Some(Operator),
            post(commands::poll),
        ),
        route(M::GET, "/api/callbacks", Some(Viewer), get(callbacks::list)),
        route(
            M::GET,
            "/api/callbacks/export",
            Some(Viewer),
            get(callbacks::export),
        ),
        route(
            M::GET,
            "/api/callbacks/{id}",
            Some(Viewer),
            get(callbacks::one),
        ),
        route(M::GET, "/api/templates", Some(Viewer), get(templates::list)),
        route(
            M::POST,
            "/api/templates",
            Some(Operator),
            post(templates::create),
        ),
        route(
            M::PUT,
            "/api/templates/{id}",
            Some(Operator),
            put(templates::update),
        ),
        route(
            M::DELETE,
            "/api/templates/{id}",
            Some(Operator),
            delete(templates::remove),
        ),
        route(M::GET, "/api/events", Some(Viewer), get(events::stream)),
        route(M::GET, "/api/users", Some(Admin), get(users::list)),
        route(M::POST, "/api/users", Some(Admin), post(users::create)),
        route(M::PUT, "/api/users/{id}", Some(Admin), put(users::update)),
        route(
            M::DELETE,
            "/api/users/{id}",
            Some(Admin),
            delete(users::remove),
        ),
        route(M::GET, "/api/tokens", Some(Admin), get(tokens::list)),
        route(M::POST, "/api/tokens", Some(Admin), post(tokens::create)),
        route(
            M::DELETE,
            "/api/tokens/{id}",
            Some(Admin),
            delete(tokens::revoke),
        ),
        route(M::GET, "/api/audit", Some(Admin), get(audit::list)),
        route(M::GET, "/api/audit/export", Some(Admin), get(audit::export)),
        route(M::GET, "/metrics", Some(Admin), get(crate::metrics::render)),
    ]
}

async fn list_routes(Extension(table): Extension<Arc<Vec<RouteInfo>>>) -> Json<Vec<RouteInfo>> {
    Json(table.as_ref().clone())
}

/// The routes Hermod posts callbacks to.
fn callback_routes(state: &AppState) -> Router<AppState> {
    let timeout = Duration::from_secs(state.limits.request_timeout_secs);
    Router::new()
        // Anything under a client's URL or `/rest/`: where exactly Hermod posts is a guess, and a
        // callback posted elsewhere must not be lost (routes/receiver.rs).
        .route("/rest/{*rest}", post(routes::receiver::by_credential))
        .route("/clients/{client}/{*rest}", post(routes::receiver::by_path))
        .route("/healthz", get(routes::health::live))
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .layer(middleware::from_fn_with_state(
            (state.clone(), RouteRoles::default()),
            auth::guard,
        ))
}

/// What a separate callback listener (`callback_listen`) serves: the receiver and nothing else, so the
/// console itself need not be reachable from Hermod's network.
pub fn callback_app(state: AppState) -> Router {
    callback_routes(&state)
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            add_security_headers,
        ))
        .with_state(state)
}

pub fn app(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.limits.request_timeout_secs);
    let table = api_routes();
    let roles: RouteRoles = Arc::new(
        table
            .iter()
            .map(|r| ((r.method.clone(), r.path.to_string()), r.role))
            .collect(),
    );
    let infos: Arc<Vec<RouteInfo>> = Arc::new(
        table
            .iter()
            .map(|r| RouteInfo {
                method: r.method.to_string(),
                path: r.path.to_string(),
                role: r.role,
            })
            .collect(),
    );
    let mut api = Router::new();
    let mut stream = Router::new();
    for r in table {
        // The feed is a long-lived stream: outside the request timeout.
        if r.path == "/api/events" {
            stream = stream.route(r.path, r.handler);
        } else {
            api = api.route(r.path, r.handler);
        }
    }
    let api = api
        .layer(middleware::from_fn_with_state(timeout, time_limit))
        .merge(stream)
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(Extension(infos))
        .layer(middleware::from_fn_with_state(
            (state.clone(), roles),
            auth::guard,
        ))
        // `if_not_present`: the feed sets its own `no-cache` (docs/ARCHITECTURE.md); everything
        // else is no-store, so the back button after logout shows nothing private.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let callbacks = if state.callbacks_elsewhere {
        // A callback sent here would be lost on a network Hermod should not reach: say where.
        Router::new()
            .route("/rest/{*rest}", post(callbacks_elsewhere))
            .route("/clients/{client}/{*rest}", post(callbacks_elsewhere))
    } else {
        callback_routes(&state)
    };
    Router::new()
        .merge(api)
        .merge(callbacks)
        .route("/readyz", get(routes::health::ready))
        .fallback_service(state.web.service())
        .layer(middleware::from_fn_with_state(state.clone(), check_host))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            add_security_headers,
        ))
        .with_state(state)
}

/// The whole-request limit, answered as a JSON problem like every other error.
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "request_timeout",
            format!(
                "the console did not finish this request within {} s (limits.request_timeout_secs); \
                 a command being sent is still recorded: look for it in the commands list",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

async fn callbacks_elsewhere(State(app): State<AppState>) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "callbacks are taken on the callback listener (callback_listen), at {}",
            app.callback_base
        ),
    )
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API endpoint; see the README's API table",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_request_past_the_time_limit_gets_a_json_504() {
        let router = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route("/quick", get(|| async { "quick" }))
            .layer(middleware::from_fn_with_state(
                Duration::from_millis(50),
                time_limit,
            ));
        let call = |path: &'static str| {
            router
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
        };
        let quick = call("/quick").await.unwrap();
        assert_eq!(quick.status(), StatusCode::OK);
        let slow = call("/slow").await.unwrap();
        assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
        let body: serde_json::Value =
            serde_json::from_slice(&to_bytes(slow.into_body(), 1 << 16).await.unwrap()).unwrap();
        assert_eq!(body["error"], "request_timeout");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("limits.request_timeout_secs"),
            "{body}"
        );
    }
}
