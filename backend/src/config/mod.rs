//! Configuration: one TOML file, every key overridable from the environment as
//! `HERMOD_CONSOLE__SECTION__KEY`, secrets from the environment or a `*_FILE`, held in [`Secret`].
//! Unknown keys are an error that names the key (README.md).

use crate::auth::source::Net;
use crate::decode::TrustBundle;
use crate::server::ConnectionLimits;
use hermod_shared::config::lenient_opt_string;
pub use hermod_shared::config::{ConfigError, Secret, parse_with_env};
use hermod_shared::hermod::{BodyKeys, CommandType, EnvelopeKeys, HERMOD_STATES};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
pub use timers::{FollowUpConfig, OverdueConfig, RetentionConfig};
use url::Url;

mod timers;

/// Prefix of the environment variables that override file keys.
pub const ENV_PREFIX: &str = "HERMOD_CONSOLE__";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the console listens on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// How browsers and Hermod reach the console; builds the callback URLs shown. Defaults to
    /// `http://<listen>`.
    #[serde(default, deserialize_with = "web_url")]
    pub public_url: Option<Url>,
    /// Where the SQLite file lives (default `./data`; `--data-dir` wins).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL instead of the SQLite file, so that several replicas share one database:
    /// `postgres://user:password@host:port/database` (README, "Running several replicas"). A secret,
    /// as it may hold a password; or `database_url_file`.
    #[serde(default)]
    pub database_url: Option<Secret>,
    #[serde(default)]
    pub database_url_file: Option<PathBuf>,
    /// The built frontend (Trunk's `dist/`).
    #[serde(default)]
    pub dist_dir: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks); everyone else's own
    /// address is their source.
    #[serde(default)]
    pub trusted_proxies: Vec<Net>,
    /// A second listener for Hermod's callbacks only, so the console itself need not be reachable
    /// from Hermod's network.
    #[serde(default)]
    pub callback_listen: Option<String>,
    /// How Hermod reaches the callback listener; builds the callback URLs shown. Default: `public_url`.
    #[serde(default, deserialize_with = "web_url")]
    pub callback_public_url: Option<Url>,
    /// A listener for `GET /metrics` and `/healthz` only, without a login, so a scraper needs no
    /// account; on an address only the monitoring network reaches.
    #[serde(default)]
    pub metrics_listen: Option<String>,
    /// The host names (a `Host` header's, port aside) the console answers to; anything else gets
    /// 421 before any other work, so a name an attacker points at this address (DNS rebinding)
    /// reaches nothing. Default: the hosts of `public_url` and `callback_public_url`, the listen
    /// addresses, and `localhost`, `127.0.0.1` and `::1` when one listens on loopback or on all
    /// addresses.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Log a line per request (request id, method, route, status, duration, caller); off, only the
    /// failures are logged.
    #[serde(default = "default_true")]
    pub log_requests: bool,
    /// How `serve` and `demo` write their log lines to stderr: `text`, or `json` (one object a line).
    #[serde(default)]
    pub log_format: LogFormat,
    /// Serve HTTPS with this certificate and key.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    #[serde(default)]
    pub auth: AuthConfig,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub feed: FeedConfig,
    #[serde(default)]
    pub follow_up: FollowUpConfig,
    #[serde(default)]
    pub overdue: OverdueConfig,
    #[serde(default)]
    pub retention: RetentionConfig,
    #[serde(default)]
    pub ui: UiConfig,
    /// Where a callback's `commandId`, `state`, … are found (Hermod does not document the body).
    #[serde(default)]
    pub envelope: EnvelopeKeys,
    /// The keys Hermod takes the four guessed command objects under (certificate, ping,
    /// startpinreset, endpinreset: docs/hermod.md §2.2). The form writes the guessed ones; a
    /// command is recorded and sent with its object under the key set here.
    #[serde(default)]
    pub body_keys: BodyKeys,
    /// Command types beyond the seven the console knows (Hermod's list is "some common use cases"):
    /// sent as `POST <command_url>/<type>` with the body as written, only its `commandHeader`
    /// checked; recorded, polled and matched like the others. Lower-case letters.
    #[serde(default)]
    pub custom_commands: Vec<String>,
    /// Hermod API users, keyed by `client-id`.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientConfig>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

fn default_true() -> bool {
    true
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body the console API accepts.
    pub api_body_bytes: usize,
    /// Largest callback body accepted; larger ones get 413.
    pub callback_body_bytes: usize,
    /// How much of a callback's body lists and the live feed carry; the whole body is one request
    /// away (`GET /api/callbacks/{id}`).
    pub summary_body_bytes: usize,
    /// Whole-request timeout of the console's own API (not the feed).
    pub request_timeout_secs: u64,
    /// A request's head must arrive within this long of the connection opening or of the answer
    /// before it (so it also ends an idle kept-alive connection); a TLS handshake too.
    pub header_read_timeout_secs: u64,
    /// Open connections a listener holds at most; more wait to be accepted.
    pub max_connections: usize,
    /// `/readyz` fails while the data directory's file system has less free space than this (MiB):
    /// a full disk fails every write, so a balancer should steer away before it does.
    pub min_free_disk_mb: u64,
    /// On a stop, open requests and exports get this long to finish before the process exits anyway.
    pub shutdown_deadline_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            api_body_bytes: 1 << 20,
            callback_body_bytes: 1 << 20,
            summary_body_bytes: hermod_shared::console::SUMMARY_BODY_BYTES,
            request_timeout_secs: 90,
            header_read_timeout_secs: ConnectionLimits::default().header_read_timeout.as_secs(),
            max_connections: ConnectionLimits::default().max_connections,
            min_free_disk_mb: 256,
            shutdown_deadline_secs: ConnectionLimits::default().shutdown_deadline.as_secs(),
        }
    }
}

impl Limits {
    /// What the listeners enforce.
    pub fn connections(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: std::time::Duration::from_secs(
                self.header_read_timeout_secs.max(1),
            ),
            max_connections: self.max_connections.max(1),
            shutdown_deadline: std::time::Duration::from_secs(self.shutdown_deadline_secs),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A session ends after this long without a request…
    pub session_idle_secs: u64,
    /// …and after this long in any case.
    pub session_absolute_secs: u64,
    /// Failed logins are counted over this window…
    pub login_window_secs: u64,
    /// …and past this many for one account, or this many from one source, logins wait for the window.
    pub login_failures_per_account: u32,
    pub login_failures_per_source: u32,
    /// Open live-feed streams per session.
    pub max_streams_per_session: usize,
    /// argon2id cost: memory (KiB) and passes. The defaults follow OWASP's recommendation.
    pub argon2_memory_kib: u32,
    pub argon2_passes: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            login_window_secs: 900,
            login_failures_per_account: 5,
            login_failures_per_source: 20,
            max_streams_per_session: 5,
            argon2_memory_kib: 19456,
            argon2_passes: 2,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    pub heartbeat_secs: u64,
    /// Events a live subscriber may fall behind before it is closed (and resumes from the store).
    pub channel_capacity: usize,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            heartbeat_secs: 15,
            channel_capacity: 1024,
        }
    }
}

/// What the page shows around itself.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// A line across the top of every page naming this console's environment (`TEST`, `PROD`), so
    /// nobody sends to production by mistake; none by default.
    pub banner: Option<String>,
}

impl UiConfig {
    fn check(&self) -> Result<(), ConfigError> {
        match &self.banner {
            Some(b)
                if b.trim().is_empty()
                    || b.chars().count() > 64
                    || b.chars().any(char::is_control) =>
            {
                Err(ConfigError(
                    "ui.banner: 1 to 64 characters on one line".into(),
                ))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub label: Option<String>,
    /// Hermod's command URL, ending in `/command`: `https://hermod:20400/hermod/rest/command`.
    pub command_url: String,
    #[serde(default)]
    pub key: Option<Secret>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// The `callback-basic-auth` user Hermod sends callbacks with.
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub callback_user: Option<String>,
    #[serde(default)]
    pub callback_password: Option<Secret>,
    #[serde(default)]
    pub callback_password_file: Option<PathBuf>,
    /// PEM bundle of the CAs Hermod's certificate may chain to (instead of the system's).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate and key, when Hermod asks for one.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    #[serde(default = "default_max_answer")]
    pub max_answer_bytes: usize,
    /// Whether the console polls this client's commands whose callback never came (`[follow_up]`).
    #[serde(default = "default_true")]
    pub auto_poll: bool,
    /// Callbacks taken per second at most (a second's worth at once); beyond, 429 with Retry-After.
    /// Unset: no limit.
    #[serde(default)]
    pub callback_rate_per_sec: Option<u32>,
    /// PEM file of the CAs the signers of this client's results should chain to: each signature's
    /// chain check is made against it (README "Verification").
    #[serde(default)]
    pub trust_bundle: Option<PathBuf>,
}

fn default_connect_timeout() -> u64 {
    5
}
fn default_request_timeout() -> u64 {
    30
}
fn default_max_answer() -> usize {
    1 << 20
}

impl ClientConfig {
    /// A client for `command_url` with the default timeouts and no TLS options.
    pub fn new(command_url: impl Into<String>, key: Secret) -> ClientConfig {
        ClientConfig {
            label: None,
            command_url: command_url.into(),
            key: Some(key),
            key_file: None,
            callback_user: None,
            callback_password: None,
            callback_password_file: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            connect_timeout_secs: default_connect_timeout(),
            request_timeout_secs: default_request_timeout(),
            max_answer_bytes: default_max_answer(),
            auto_poll: default_true(),
            callback_rate_per_sec: None,
            trust_bundle: None,
        }
    }

    /// The trust bundle, read and parsed: a file that is not one stops the start, naming the key.
    pub fn trust_bundle(&self, id: &str) -> Result<Option<TrustBundle>, ConfigError> {
        self.trust_bundle
            .as_deref()
            .map(TrustBundle::load)
            .transpose()
            .map_err(|e| ConfigError(format!("clients.{id}.trust_bundle: {e}")))
    }

    /// The API key, from the file or the environment.
    pub fn resolve_key(&self, id: &str) -> Result<Secret, ConfigError> {
        resolve_secret(
            self.key.as_ref(),
            self.key_file.as_deref(),
            &format!("clients.{id}.key"),
        )?
        .ok_or_else(|| {
            ConfigError(format!(
                "clients.{id}: set key or key_file (env {ENV_PREFIX}CLIENTS__{}__KEY_FILE)",
                id.to_ascii_uppercase()
            ))
        })
    }

    /// The callback Basic credential, if any.
    pub fn resolve_callback(&self, id: &str) -> Result<Option<(String, Secret)>, ConfigError> {
        let password = resolve_secret(
            self.callback_password.as_ref(),
            self.callback_password_file.as_deref(),
            &format!("clients.{id}.callback_password"),
        )?;
        match (&self.callback_user, password) {
            (Some(u), Some(p)) => Ok(Some((u.clone(), p))),
            (None, None) => Ok(None),
            _ => Err(ConfigError(format!(
                "clients.{id}: set both callback_user and callback_password (or neither)"
            ))),
        }
    }
}

/// `Host`-style text (`name[:port]`, `[v6][:port]`, maybe followed by a path) as a bare host name.
/// An `http` or `https` URL with a host: what a browser or Hermod can be sent to.
fn web_url<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
    let text = String::deserialize(d)?;
    let url = Url::parse(text.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    url.map(Some).ok_or_else(|| {
        serde::de::Error::custom(format!("`{text}` is not an http(s) URL with a host"))
    })
}

pub fn host_name(text: &str) -> String {
    let authority = text.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if let Ok(ip) = authority.parse::<std::net::IpAddr>() {
        return ip.to_string();
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

fn resolve_secret(
    inline: Option<&Secret>,
    file: Option<&Path>,
    key: &str,
) -> Result<Option<Secret>, ConfigError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(ConfigError(format!(
            "{key}: set either {key} or {key}_file, not both"
        ))),
        (Some(s), None) => Ok(Some(s.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("{key}_file: cannot read {}: {e}", path.display()))
            })?;
            Ok(Some(Secret::new(text.trim_end_matches(['\r', '\n']))))
        }
        (None, None) => Ok(None),
    }
}

impl Config {
    /// The PostgreSQL database to use, when one is set instead of the SQLite file.
    pub fn database_url(&self) -> Result<Option<Secret>, ConfigError> {
        let url = resolve_secret(
            self.database_url.as_ref(),
            self.database_url_file.as_deref(),
            "database_url",
        )?;
        if let Some(url) = &url
            && !["postgres://", "postgresql://"]
                .iter()
                .any(|scheme| url.expose().starts_with(scheme))
        {
            // The value itself is not shown: it may hold a password.
            return Err(ConfigError(
                "database_url: a PostgreSQL URL, postgres://user:password@host:port/database; \
                 leave it out for the SQLite file"
                    .into(),
            ));
        }
        Ok(url)
    }

    /// Reads `path`, applies the environment's overrides and checks every key.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        hermod_shared::config::load(path, Config::from_toml)
    }

    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let config: Config = parse_with_env(text, ENV_PREFIX, env)?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        for name in &self.custom_commands {
            let letters =
                (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase());
            if !letters || CommandType::parse(name).is_some() {
                return Err(ConfigError(format!(
                    "custom_commands: `{name}` must be 1 to 32 lower-case letters, and not a type \
                     the console knows"
                )));
            }
        }
        for (name, means) in &self.envelope.states {
            if !HERMOD_STATES.contains(&means.to_ascii_uppercase().as_str()) {
                return Err(ConfigError(format!(
                    "envelope.states.{name}: `{means}` is not a state the console knows; one of {}",
                    HERMOD_STATES.join(", ")
                )));
            }
        }
        for (ty, key) in self.body_keys.all() {
            if key.is_empty() || key == "commandHeader" {
                return Err(ConfigError(format!(
                    "body_keys.{ty}: `{key}` cannot hold the command's object; give the key Hermod \
                     takes it under"
                )));
            }
        }
        self.database_url()?;
        self.retention.check()?;
        self.overdue.check()?;
        self.ui.check()?;
        // A callback is told apart by its credential on `/rest/callback/…`: two clients with the
        // same user would have one's callbacks stored as the other's.
        let mut callback_users: BTreeMap<String, &str> = BTreeMap::new();
        for (id, c) in &self.clients {
            if id.is_empty()
                || !id
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
            {
                return Err(ConfigError(format!(
                    "clients.{id}: a client id may hold letters, digits, '-', '_' and '.'"
                )));
            }
            c.resolve_key(id)?;
            if let Some((user, password)) = c.resolve_callback(id)? {
                if user.is_empty() || password.expose().is_empty() {
                    return Err(ConfigError(format!(
                        "clients.{id}: callback_user and callback_password must not be empty"
                    )));
                }
                if let Some(other) = callback_users.insert(user.clone(), id) {
                    return Err(ConfigError(format!(
                        "clients.{other} and clients.{id} have the same callback_user `{user}`: \
                         each API client needs a callback credential of its own"
                    )));
                }
            }
            if !(c.command_url.starts_with("http://") || c.command_url.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "clients.{id}.command_url: must be an http(s) URL ending in /command"
                )));
            }
            // Shown to every viewer (the Clients page), and written in logs with the URL.
            let authority = c.command_url.split("://").nth(1).unwrap_or("");
            if authority
                .split(['/', '?', '#'])
                .next()
                .unwrap_or("")
                .contains('@')
            {
                return Err(ConfigError(format!(
                    "clients.{id}.command_url: holds a user name or password, which viewers would \
                     see; Hermod takes its key in X-Api-Key (api_key or api_key_file)"
                )));
            }
            // A send must end (answered, or SEND_UNKNOWN) before the browser's request does.
            if c.connect_timeout_secs + c.request_timeout_secs >= self.limits.request_timeout_secs {
                return Err(ConfigError(format!(
                    "clients.{id}.request_timeout_secs: connect ({} s) and request ({} s) timeouts \
                     together must be shorter than limits.request_timeout_secs ({} s)",
                    c.connect_timeout_secs,
                    c.request_timeout_secs,
                    self.limits.request_timeout_secs
                )));
            }
        }
        Ok(())
    }

    /// The host names requests may name (see `allowed_hosts`), lower case, without port or brackets.
    pub fn answered_hosts(&self) -> Vec<String> {
        if !self.allowed_hosts.is_empty() {
            return self.allowed_hosts.iter().map(|h| host_name(h)).collect();
        }
        let urls = [Some(self.public_url()), self.callback_public_url.clone()];
        let listens = [Some(self.listen.as_str()), self.callback_listen.as_deref()];
        let mut hosts: Vec<String> = urls
            .iter()
            .flatten()
            .filter_map(|u| u.host_str().map(host_name))
            .chain(listens.iter().flatten().map(|l| host_name(l)))
            .collect();
        let local = hosts.iter().any(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
        });
        if local {
            hosts.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
        }
        hosts.sort();
        hosts.dedup();
        hosts
    }

    /// Whether browsers reach the console over HTTPS (then cookies are `Secure` and HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.public_url().scheme() == "https"
    }

    /// How browsers reach the console: `public_url`, else the listen address.
    pub fn public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            let scheme = if self.tls.is_some() { "https" } else { "http" };
            Url::parse(&format!("{scheme}://{}", self.listen))
                .unwrap_or_else(|_| Url::parse("http://127.0.0.1").expect("a URL"))
        })
    }
}

#[cfg(test)]
mod tests;
