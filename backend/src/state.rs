//! What the console holds while it runs: the store, the feed, the configured Hermod clients, the
//! settings requests need. Nothing reaches into it: the router, the routes and the jobs take the
//! parts they use (`FromRef`, at the end of this file), so what each depends on is in its signature.
//! It sits below them and imports none of them, so the modules that use it form no circle.

use crate::audit::AuditLog;
use crate::auth::{Auth, StreamCounter, limiter::LoginLimiter, password::Cost};
use crate::config::{Config, ConfigError, Limits, Secret};
use crate::decode::TrustBundle;
use crate::error::ApiBodyLimit;
use crate::feed::Feed;
use crate::hermod::HermodClient;
use crate::metrics::Metrics;
use crate::rate::Bucket;
use crate::store::{Store, sql};
use crate::timer;
use crate::web::Web;
use axum::extract::FromRef;
use axum::http::{HeaderName, HeaderValue};
use hermod_shared::console::ClientInfo;
use hermod_shared::hermod::{BodyKeys, EnvelopeKeys};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use url::Url;

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
    /// How fast its callbacks are taken at most (`callback_rate_per_sec`).
    pub callback_rate: Option<Bucket>,
    /// The CAs its signers' certificates should chain to (`trust_bundle`).
    pub trust: Option<Arc<TrustBundle>>,
}

/// The Hermod side: the configured API users, and what the console assumes of Hermod's bodies.
pub struct Clients {
    by_id: BTreeMap<String, Client>,
    /// Where Hermod reaches the callback receiver (the callback listener's URL when there is one).
    pub callback_base: String,
    pub envelope: EnvelopeKeys,
    /// Where Hermod takes the guessed command objects (`body_keys`).
    pub body_keys: BodyKeys,
    /// Command types sent beyond the known ones (`custom_commands`).
    pub custom_commands: Vec<String>,
}

/// Private: handlers and jobs take the parts they use ([`FromRef`], [`AppState::part`]), never the
/// whole.
struct Inner {
    store: Arc<dyn Store>,
    /// This process among the replicas sharing a database: the holder of the leases it takes.
    replica: String,
    clients: Arc<Clients>,
    audit: Arc<AuditLog>,
    auth: Arc<Auth>,
    metrics: Arc<Metrics>,
    live: Live,
    disk: Disk,
    public_url: String,
    callbacks_elsewhere: CallbacksElsewhere,
    allowed_hosts: AllowedHosts,
    security_headers: SecurityHeaders,
    log_requests: LogRequests,
    limits: Limits,
    web: Arc<Web>,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub async fn new(
        config: &Config,
        data_dir: &Path,
        shutdown: watch::Receiver<bool>,
    ) -> Result<AppState, ConfigError> {
        let a = &config.auth;
        let public_url = config.public_url();
        let feed = Feed::new(config.feed.channel_capacity);
        let summary = config.limits.summary_body_bytes;
        let store = match config.database_url()? {
            Some(url) => sql::open_postgres(url, feed.clone(), summary).await,
            None => sql::open(data_dir, feed.clone(), summary),
        }
        .map_err(|e| ConfigError(format!("store: {e}")))?;
        let shared = store.clone().shared_limits();
        let auth = Auth {
            limiter: LoginLimiter::new(
                Duration::from_secs(a.login_window_secs),
                a.login_failures_per_account,
                a.login_failures_per_source,
                shared.clone(),
            ),
            trusted: config.trusted_proxies.clone(),
            cost: Cost {
                memory_kib: a.argon2_memory_kib,
                passes: a.argon2_passes,
            },
            idle_ms: (a.session_idle_secs as i64).saturating_mul(1000),
            absolute_ms: (a.session_absolute_secs as i64).saturating_mul(1000),
            secure_cookies: config.is_https(),
            public_origin: public_url.origin().ascii_serialization(),
            streams: StreamCounter::new(
                shared,
                Duration::from_secs(config.feed.heartbeat_secs),
                shutdown.clone(),
            ),
            max_streams: a.max_streams_per_session,
        };
        let metrics = Arc::new(Metrics::new(store.instruments()));
        let mut clients = BTreeMap::new();
        for (id, c) in &config.clients {
            clients.insert(
                id.clone(),
                Client {
                    id: id.clone(),
                    label: c.label.clone().unwrap_or_else(|| id.clone()),
                    hermod: HermodClient::new(id, c)?.measured(metrics.hermod_calls.clone()),
                    callback: c.resolve_callback(id)?,
                    auto_poll: c.auto_poll,
                    callback_rate: c.callback_rate_per_sec.map(Bucket::new),
                    trust: c.trust_bundle(id)?.map(Arc::new),
                },
            );
        }
        let web = Web::load(config.dist_dir.as_deref()).framed(config.ui.banner.as_deref());
        let heartbeat = watch::channel(0).0;
        let clock = heartbeat.clone();
        timer::repeat(
            Duration::from_secs(config.feed.heartbeat_secs),
            shutdown.clone(),
            move || {
                clock.send_modify(|n: &mut u64| *n = n.wrapping_add(1));
                std::future::ready(())
            },
        );
        let security_headers = web.security_headers(config.is_https());
        Ok(AppState(Arc::new(Inner {
            store: store.clone(),
            replica: uuid::Uuid::new_v4().to_string(),
            clients: Arc::new(Clients {
                by_id: clients,
                callback_base: base(config.callback_public_url.as_ref().unwrap_or(&public_url)),
                envelope: config.envelope.clone(),
                body_keys: config.body_keys.clone(),
                custom_commands: config.custom_commands.clone(),
            }),
            audit: Arc::new(AuditLog::new(store.clone())),
            auth: Arc::new(auth),
            metrics,
            live: Live {
                feed,
                heartbeat,
                heartbeat_secs: config.feed.heartbeat_secs,
                shutdown,
            },
            disk: Disk {
                dir: data_dir.into(),
                min_free_mb: config.limits.min_free_disk_mb,
            },
            public_url: base(&public_url),
            callbacks_elsewhere: CallbacksElsewhere(config.callback_listen.is_some()),
            allowed_hosts: AllowedHosts(config.answered_hosts().into()),
            security_headers: SecurityHeaders(security_headers.into()),
            log_requests: LogRequests(config.log_requests),
            limits: config.limits.clone(),
            web: Arc::new(web),
        })))
    }
}

impl Clients {
    pub fn client(&self, id: &str) -> Option<&Client> {
        self.by_id.get(id)
    }

    /// `id`'s trust bundle, for decoding its bodies.
    pub fn trust(&self, id: &str) -> Option<Arc<TrustBundle>> {
        self.client(id)?.trust.clone()
    }

    pub fn all(&self) -> impl Iterator<Item = &Client> {
        self.by_id.values()
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
            custom_commands: self.custom_commands.clone(),
        }
    }
}

impl AppState {
    /// Runs `round` every `period` until the console stops ([`timer::repeat`]): of replicas sharing
    /// a database, only on the one holding `job`'s lease ([`Store::lease`]), which it keeps by
    /// running; another takes the job when it has not for three periods. `round` holds the parts
    /// it works with.
    pub fn every(&self, job: &'static str, period: Duration, round: impl Round) {
        let (store, replica) = (self.0.store.clone(), self.0.replica.clone());
        let ttl_ms = i64::try_from(period.as_millis().saturating_mul(3)).unwrap_or(i64::MAX);
        let round = Arc::new(round);
        timer::repeat(period, self.shutdown(), move || {
            let (store, replica, round) = (store.clone(), replica.clone(), round.clone());
            async move {
                match store.lease(job, &replica, ttl_ms).await {
                    Ok(true) => round.round().await,
                    Ok(false) => {}
                    Err(e) => tracing::warn!(job, error = %e, "could not take the job's lease"),
                }
            }
        });
    }

    /// One of the parts handlers take, for work outside a request: the jobs, the subcommands, tests.
    pub fn part<P: FromRef<AppState>>(&self) -> P {
        P::from_ref(self)
    }

    /// Flips to `true` when the server starts shutting down: what runs beside the requests ends on it.
    pub fn shutdown(&self) -> watch::Receiver<bool> {
        self.0.live.shutdown.clone()
    }

    /// The console's address as its links start (`public_url`, without the trailing slash).
    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }
}

/// A background job's round ([`AppState::every`]): the job holds the parts it works with.
pub trait Round: Send + Sync + 'static {
    fn round(&self) -> impl std::future::Future<Output = ()> + Send;
}

/// A URL as the start of others: without its trailing slash.
fn base(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

// The parts (docs/ARCHITECTURE.md, the layering at its start). Each is an `Arc` or a few words:
// they are taken per request, and the receiver takes its own on every callback.

/// What a live-feed stream follows besides the store (routes/events.rs).
#[derive(Clone)]
pub struct Live {
    /// The committed events, as they are published.
    pub feed: Feed,
    /// Ticks every `heartbeat_secs`: one clock that every open stream subscribes to.
    pub heartbeat: watch::Sender<u64>,
    /// `feed.heartbeat_secs`.
    pub heartbeat_secs: u64,
    /// Flips to `true` when the server starts shutting down; open streams end on it.
    pub shutdown: watch::Receiver<bool>,
}

/// Where the store's files are, and the free space readiness asks of it there
/// (`limits.min_free_disk_mb`; 0: not watched).
#[derive(Clone)]
pub struct Disk {
    pub dir: Arc<Path>,
    pub min_free_mb: u64,
}

/// The host names requests may name (`allowed_hosts`, and `public_url`'s).
#[derive(Clone)]
pub struct AllowedHosts(pub Arc<[String]>);

/// Sent on every response: CSP, HSTS under HTTPS, and the rest.
#[derive(Clone)]
pub struct SecurityHeaders(pub Arc<[(HeaderName, HeaderValue)]>);

/// An access line per request (`log_requests`), or only the failures.
#[derive(Clone, Copy)]
pub struct LogRequests(pub bool);

/// The whole-request limit of the console's own API (`limits.request_timeout_secs`).
#[derive(Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Callbacks have a listener of their own (`callback_listen`): the main one refuses them.
#[derive(Clone, Copy)]
pub struct CallbacksElsewhere(pub bool);

/// The largest callback body taken (`limits.callback_body_bytes`); a larger one gets 413.
#[derive(Clone, Copy)]
pub struct CallbackBodyLimit(pub usize);

macro_rules! parts {
    ($($part:ty: |$app:ident| $make:expr),* $(,)?) => {$(
        impl FromRef<AppState> for $part {
            fn from_ref(app: &AppState) -> $part {
                let $app = &app.0;
                $make
            }
        }
    )*};
}
parts!(
    Arc<dyn Store>: |app| app.store.clone(),
    Arc<Clients>: |app| app.clients.clone(),
    Arc<AuditLog>: |app| app.audit.clone(),
    Arc<Auth>: |app| app.auth.clone(),
    Arc<Metrics>: |app| app.metrics.clone(),
    Arc<Web>: |app| app.web.clone(),
    Live: |app| app.live.clone(),
    Disk: |app| app.disk.clone(),
    AllowedHosts: |app| app.allowed_hosts.clone(),
    SecurityHeaders: |app| app.security_headers.clone(),
    LogRequests: |app| app.log_requests,
    RequestTimeout: |app| RequestTimeout(Duration::from_secs(app.limits.request_timeout_secs)),
    CallbacksElsewhere: |app| app.callbacks_elsewhere,
    ApiBodyLimit: |app| ApiBodyLimit(app.limits.api_body_bytes),
    CallbackBodyLimit: |app| CallbackBodyLimit(app.limits.callback_body_bytes),
);
