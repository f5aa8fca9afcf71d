//! The console's state and its router: `fn app(state) -> Router`, so tests and every subcommand build
//! exactly the same thing.

use crate::config::{Config, ConfigError, FeedConfig, Limits, Secret};
use crate::error::ApiError;
use crate::feed::Feed;
use crate::hermod::HermodClient;
use crate::routes;
use crate::store::Store;
use crate::web::Web;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{any, get, post};
use hermod_shared::console::ClientInfo;
use hermod_shared::hermod::EnvelopeKeys;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

/// One configured Hermod API user.
pub struct Client {
    pub id: String,
    pub label: String,
    pub hermod: HermodClient,
    /// The Basic credential Hermod's callbacks must carry; `None` accepts them on the client's own
    /// path only, unauthenticated.
    pub callback: Option<(String, Secret)>,
}

pub struct Inner {
    pub store: Store,
    pub feed: Feed,
    pub clients: BTreeMap<String, Client>,
    pub public_url: String,
    pub envelope: EnvelopeKeys,
    pub feed_config: FeedConfig,
    pub limits: Limits,
    pub web: Web,
    /// Flips to `true` when the server starts shutting down; open streams end on it.
    pub shutdown: watch::Receiver<bool>,
}

#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
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
                },
            );
        }
        let feed = Feed::new(config.feed.channel_capacity);
        let store = Store::open(data_dir, feed.clone())
            .await
            .map_err(|e| ConfigError(format!("store: {e}")))?;
        Ok(AppState(Arc::new(Inner {
            store,
            feed,
            clients,
            public_url: config.public_url(),
            envelope: config.envelope.clone(),
            feed_config: config.feed.clone(),
            limits: config.limits.clone(),
            web: Web::load(config.dist_dir.as_deref()),
            shutdown,
        })))
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.get(id)
    }

    /// What Hermod's `allowed-clients` entry for `client` needs as `callback-url`.
    pub fn callback_url(&self, client: &str) -> String {
        format!("{}/clients/{client}/rest", self.public_url)
    }

    pub fn client_info(&self, c: &Client) -> ClientInfo {
        ClientInfo {
            id: c.id.clone(),
            label: c.label.clone(),
            command_url: c.hermod.command_url().to_string(),
            callback_url: self.callback_url(&c.id),
            callback_user: c.callback.as_ref().map(|(u, _)| u.clone()),
        }
    }
}

pub fn app(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.limits.request_timeout_secs);
    let api = Router::new()
        .route("/clients", get(routes::clients::list))
        .route(
            "/commands",
            get(routes::commands::list).post(routes::commands::send),
        )
        .route("/commands/{id}", get(routes::commands::detail))
        .route("/commands/{id}/poll", post(routes::commands::poll))
        .route("/callbacks", get(routes::callbacks::list))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            timeout,
        ))
        // The feed is a long-lived stream: outside the request timeout.
        .route("/events", get(routes::events::stream))
        .route("/{*rest}", any(api_not_found))
        // `if_not_present`: the feed sets its own `no-cache` (DESIGN.md §4); everything else is no-store.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let receiver = Router::new()
        .route(
            "/rest/callback/{kind}",
            post(routes::receiver::by_credential),
        )
        .route(
            "/clients/{client}/rest/callback/{kind}",
            post(routes::receiver::by_path),
        );
    Router::new()
        .nest("/api", api)
        // The nested catch-all does not see `/api` and `/api/`; they must not get the page either.
        .route("/api", any(api_not_found))
        .route("/api/", any(api_not_found))
        .merge(receiver)
        .route("/healthz", get(routes::health::live))
        .route("/readyz", get(routes::health::ready))
        .fallback_service(state.web.service())
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such API endpoint; see the README's API table",
    )
}
