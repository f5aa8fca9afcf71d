//! The simulator's configuration: its API users (as in Hermod's `allowed-clients`), its public URL, how
//! fast commands finish, and the callback body's shape (not publicly documented, so configurable).

use hermod_shared::config::{self, ConfigError, Secret, parse_with_env};
use hermod_shared::hermod::{BodyKeys, EnvelopeKeys};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Prefix of the environment variables that override the simulator's keys.
pub const ENV_PREFIX: &str = "HERMOD_SIMULATOR__";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Device-facing message-server URL; destinations' `uri` and `location` are built from it.
    #[serde(default = "default_public_url")]
    pub public_url: String,
    /// Host name reported as `fqdn`.
    #[serde(default = "default_fqdn")]
    pub fqdn: String,
    /// A command without steering completes after this long.
    #[serde(default = "default_complete_after")]
    pub complete_after_ms: u64,
    /// Used when a command's header has neither `timeout` nor `lifespan`.
    #[serde(default = "default_timeout")]
    pub default_timeout_secs: u64,
    /// How late the create answer of a `slow-` command comes.
    #[serde(default = "default_slow_answer")]
    pub slow_answer_ms: u64,
    #[serde(default = "default_callback_timeout")]
    pub callback_timeout_secs: u64,
    /// Extra attempts when the client's callback endpoint fails (Hermod's own behaviour is undocumented).
    #[serde(default)]
    pub callback_retries: u32,
    /// The first pointer of each list is where the simulator writes that field.
    #[serde(default)]
    pub envelope: EnvelopeKeys,
    /// The keys it takes the four guessed command objects under (the console's `body_keys`): to
    /// stand in for a Hermod that names them otherwise.
    #[serde(default)]
    pub body_keys: BodyKeys,
    #[serde(default)]
    pub clients: BTreeMap<String, SimClient>,
    /// Command types taken beyond the known ones, as a newer Hermod might offer (the console's
    /// `custom_commands`): only their `commandHeader` is checked, and they complete like a ping.
    #[serde(default)]
    pub custom_commands: Vec<String>,
    /// Serve HTTPS, as Hermod does; with `client_ca_file`, a client certificate is required.
    #[serde(default)]
    pub tls: Option<SimTls>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimClient {
    pub key: Secret,
    /// The callback URL base; callbacks go to `<callback_url>/callback/<type>`.
    pub callback_url: String,
    /// `user:password`, as Hermod's `callback-basic-auth`.
    #[serde(default)]
    pub callback_basic_auth: Option<Secret>,
}

fn default_listen() -> String {
    "127.0.0.1:20400".into()
}
fn default_public_url() -> String {
    "https://hermod.example.com/hermod/rest/ms".into()
}
fn default_fqdn() -> String {
    "hermod-simulator".into()
}
fn default_complete_after() -> u64 {
    2000
}
fn default_timeout() -> u64 {
    300
}
fn default_slow_answer() -> u64 {
    60_000
}
fn default_callback_timeout() -> u64 {
    10
}

impl SimConfig {
    pub fn load(path: &Path) -> Result<SimConfig, ConfigError> {
        config::load(path, SimConfig::from_toml)
    }

    /// Parses `text` with `HERMOD_SIMULATOR__KEY` environment overrides.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<SimConfig, ConfigError> {
        parse_with_env(text, ENV_PREFIX, env)
    }
}
