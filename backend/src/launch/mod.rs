//! The subcommands: `serve`, `demo`, `simulate`, `user`, `token`, `healthcheck`, `backup`, `restore`,
//! `prune`.

use crate::app::{app, callback_app, metrics_app};
use crate::audit;
use crate::auth::password::{self, Cost};
use crate::config::{Config, ConfigError, LogFormat};
use crate::follow_up;
use crate::hermod::HermodClient;
use crate::lock;
use crate::overdue;
use crate::retention;
use crate::server::tls::{TlsFiles, reload_on_hangup};
use crate::server::{ConnectionLimits, bind, serve as serve_router, shutdown_on_signal};
use crate::state::{AppState, Clients};
use crate::store::{AccountError, Store};
use crate::web::Web;
use hermod_shared::console::Role;
use hermod_simulator::{self as simulator, SimConfig, Simulator};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;
use url::Url;

mod data;
pub use data::{UserCommand, audit_verify, backup, prune, restore, token_create, user};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The first admin's password, read on a start with no accounts.
pub const ADMIN_PASSWORD_ENV: &str = "HERMOD_CONSOLE_ADMIN_PASSWORD";
/// Where `demo` keeps the password it made for `admin`.
const DEMO_PASSWORD_FILE: &str = "demo-admin-password";
/// The demo's simulator CAs, one added on every start (a new one each run): idm's trust bundle.
const SIMULATOR_CA_FILE: &str = "simulator-ca.pem";

/// Logs go to stderr, filtered by `RUST_LOG` (`info` by default); stdout carries only the
/// `listening on` lines that scripts wait for (and `demo`'s login hint). `serve` and `demo` call this
/// once their configuration is read (`log_format`); every other subcommand with `Text`, from main.rs.
/// A second call changes nothing.
pub fn init_logging(format: LogFormat) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| Targets::from_str(&s).ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let (text, json) = match format {
        LogFormat::Text => (
            Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
            ),
            None,
        ),
        // One object per line, the event's fields beside `timestamp`, `level`, `target` and
        // `message`, so a log collector needs no parsing rule of ours.
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    let _ = tracing_subscriber::registry()
        .with(text)
        .with(json)
        .with(filter)
        .try_init();
}

fn announce(what: &str, listener: &TcpListener, tls: bool) -> Result<String, BoxError> {
    let addr = listener.local_addr()?;
    let scheme = if tls { "https" } else { "http" };
    println!("{what} on {scheme}://{addr}");
    Ok(addr.to_string())
}

fn cost(config: &Config) -> Cost {
    Cost {
        memory_kib: config.auth.argon2_memory_kib,
        passes: config.auth.argon2_passes,
    }
}

/// With no accounts at all, `admin` is made from `HERMOD_CONSOLE_ADMIN_PASSWORD` (or `fallback`).
async fn bootstrap_admin(
    store: &dyn Store,
    cost: Cost,
    fallback: Option<String>,
) -> Result<bool, BoxError> {
    if store.user_count().await? > 0 {
        return Ok(false);
    }
    let Some(password_text) = std::env::var(ADMIN_PASSWORD_ENV).ok().or(fallback) else {
        tracing::warn!(
            "no accounts yet: set {ADMIN_PASSWORD_ENV} for the first admin, or run \
             `hermod-console user add <name> --role admin`"
        );
        return Ok(false);
    };
    if let Some(why) = password::weakness(&password_text) {
        return Err(format!("{ADMIN_PASSWORD_ENV}: {why}").into());
    }
    let hash = password::hash(password_text, cost).await?;
    match store.create_user("admin".into(), hash, Role::Admin).await {
        Ok(_) => {}
        Err(AccountError::Exists) => return Ok(false),
        Err(e) => return Err(format!("creating admin: {e}").into()),
    }
    store
        .audit(audit::system_entry(
            "startup",
            "user_created",
            "admin",
            json!({"role": Role::Admin, "first_admin": true}),
        ))
        .await?;
    tracing::info!("created the first admin account, `admin`");
    Ok(true)
}

/// Runs the console on `listener` (and the callback and metrics listeners, when configured) until
/// shut down.
async fn run_console(
    mut config: Config,
    data_dir: &Path,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
    admin_fallback: Option<String>,
) -> Result<(), BoxError> {
    let _lock = lock::take(data_dir)?;
    let tls_files = match &config.tls {
        Some(t) => Some(TlsFiles::load(&t.cert_file, &t.key_file)?),
        None => None,
    };
    let tls = tls_files.as_ref().map(TlsFiles::acceptor);
    reload_on_hangup(tls_files);
    let addr = announce("listening", &listener, tls.is_some())?;
    if config.public_url.is_none() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        config.public_url = Some(Url::parse(&format!("{scheme}://{addr}"))?);
    }
    let callback_listener = match &config.callback_listen {
        Some(a) => {
            let l = bind(a).await?;
            let cb_addr = announce("callbacks listening", &l, tls.is_some())?;
            if config.callback_public_url.is_none() {
                let scheme = if tls.is_some() { "https" } else { "http" };
                config.callback_public_url = Some(Url::parse(&format!("{scheme}://{cb_addr}"))?);
            }
            Some(l)
        }
        None => None,
    };
    let metrics_listener = match &config.metrics_listen {
        Some(a) => {
            let l = bind(a).await?;
            announce("metrics listening", &l, tls.is_some())?;
            Some(l)
        }
        None => None,
    };
    let state = AppState::new(&config, data_dir, shutdown.clone()).await?;
    let store: Arc<dyn Store> = state.part();
    bootstrap_admin(store.as_ref(), cost(&config), admin_fallback).await?;
    follow_up::start(&state, &config.follow_up);
    overdue::start(&state, &config.overdue)?;
    retention::start(&state, &config.retention);
    tracing::info!(
        public_url = %state.public_url(),
        data = %data_dir.display(),
        clients = state.part::<Arc<Clients>>().all().count(),
        "console ready"
    );
    let side_listeners = [
        callback_listener.map(|l| (l, callback_app(state.clone()))),
        metrics_listener.map(|l| (l, metrics_app(state.clone()))),
    ];
    let side_servers: Vec<_> = side_listeners
        .into_iter()
        .flatten()
        .map(|(l, router)| {
            tokio::spawn(serve_router(
                l,
                tls.clone(),
                router,
                config.limits.connections(),
                shutdown.clone(),
            ))
        })
        .collect();
    serve_router(
        listener,
        tls,
        app(state),
        config.limits.connections(),
        shutdown,
    )
    .await?;
    for task in side_servers {
        task.await??;
    }
    // Every answered write is durable already; this folds the log into the database file.
    store.close().await?;
    Ok(())
}

fn data_dir_of(config: Option<&Config>, flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| config.and_then(|c| c.data_dir.clone()))
        .unwrap_or_else(|| PathBuf::from("./data"))
}

pub async fn serve(
    config_path: &Path,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
) -> Result<(), BoxError> {
    let config = Config::load(config_path)?;
    init_logging(config.log_format);
    let data_dir = data_dir_of(Some(&config), data_dir);
    let listener = bind(listen.as_deref().unwrap_or(&config.listen)).await?;
    run_console(config, &data_dir, listener, shutdown_on_signal(), None).await
}

pub async fn simulate(config_path: &Path, listen: Option<String>) -> Result<(), BoxError> {
    let config = SimConfig::load(config_path)?;
    let listener = bind(listen.as_deref().unwrap_or(&config.listen)).await?;
    let tls = match &config.tls {
        Some(t) => Some(simulator::tls::acceptor(t)?),
        None => None,
    };
    announce("simulator listening", &listener, tls.is_some())?;
    let router = simulator::router(Simulator::new(config));
    serve_router(
        listener,
        tls,
        router,
        ConnectionLimits::default(),
        shutdown_on_signal(),
    )
    .await?;
    Ok(())
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// The demo admin's password: `HERMOD_CONSOLE_ADMIN_PASSWORD`, else the one kept in the data folder
/// (made on the first start).
fn demo_password(data_dir: &Path) -> Result<String, BoxError> {
    if let Ok(p) = std::env::var(ADMIN_PASSWORD_ENV) {
        return Ok(p);
    }
    let path = data_dir.join(DEMO_PASSWORD_FILE);
    if let Ok(p) = std::fs::read_to_string(&path) {
        return Ok(p.trim().to_string());
    }
    std::fs::create_dir_all(data_dir)?;
    let p = random_hex(10);
    write_private(&path, &p)?;
    Ok(p)
}

/// Writes a file only its owner may read: it holds a secret.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

/// Console and simulator in one process, wired the way a real deployment is: per-client API keys,
/// per-client callback URLs with Basic credentials. Fresh Hermod secrets on every start; an `admin`
/// account whose password it prints; nothing to type.
pub async fn demo(listen: &str, data_dir: &Path) -> Result<(), BoxError> {
    let listener = bind(listen).await?;
    let sim_listener = bind("127.0.0.1:0").await?;
    let console = listener.local_addr()?;
    let sim = sim_listener.local_addr()?;
    let clients = [
        ("idm", "Identity Manager (simulated)"),
        ("da", "Digital Access (simulated)"),
    ];
    let mut console_toml = format!("listen = \"{console}\"\npublic_url = \"http://{console}\"\n");
    let mut sim_toml = format!(
        "public_url = \"http://{sim}/hermod/rest/ms\"\nfqdn = \"hermod-simulator.local\"\n"
    );
    for (id, label) in clients {
        let (key, password) = (random_hex(32), random_hex(16));
        console_toml.push_str(&format!(
            "[clients.{id}]\nlabel = \"{label}\"\ncommand_url = \"http://{sim}/hermod/rest/command\"\n\
             key = \"{key}\"\ncallback_user = \"{id}-callback\"\ncallback_password = \"{password}\"\n"
        ));
        sim_toml.push_str(&format!(
            "[clients.{id}]\nkey = \"{key}\"\ncallback_url = \"http://{console}/clients/{id}/rest\"\n\
             callback_basic_auth = \"{id}-callback:{password}\"\n"
        ));
    }
    let mut config = Config::from_toml(&console_toml, std::env::vars())
        .map_err(|e| ConfigError(format!("demo configuration: {e}")))?;
    init_logging(config.log_format);
    // idm's signers chain to the simulator's CA (made for this run); da's are left without a
    // bundle, so the demo shows both outcomes of the chain check.
    let ca = data_dir.join(SIMULATOR_CA_FILE);
    let pem =
        tokio::task::spawn_blocking(|| simulator::material::Identity::shared()?.ca_cert_pem())
            .await??;
    std::fs::create_dir_all(data_dir)?;
    // Added, not replaced: what the simulator signed before a restart still chains.
    let mut bundle = match std::fs::read_to_string(&ca) {
        Ok(bundle) => bundle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    if !bundle.contains(&pem) {
        bundle.push_str(&pem);
        std::fs::write(&ca, bundle)?;
    }
    if let Some(idm) = config.clients.get_mut("idm") {
        idm.trust_bundle = Some(ca);
    }
    let sim_config = SimConfig::from_toml(&sim_toml, std::env::vars())
        .map_err(|e| ConfigError(format!("demo simulator configuration: {e}")))?;
    let admin_password = demo_password(data_dir)?;
    let shutdown = shutdown_on_signal();
    announce("simulator listening", &sim_listener, false)?;
    let sim_server = tokio::spawn(serve_router(
        sim_listener,
        None,
        simulator::router(Simulator::new(sim_config)),
        ConnectionLimits::default(),
        shutdown.clone(),
    ));
    // A password the operator chose is theirs to know; only the one made here is printed (stdout often
    // ends up in a container's log).
    if std::env::var_os(ADMIN_PASSWORD_ENV).is_some() {
        println!("log in at http://{console} as admin with the password in {ADMIN_PASSWORD_ENV}");
    } else {
        println!(
            "log in at http://{console} as admin with password {admin_password} \
             (kept in {}; set {ADMIN_PASSWORD_ENV} to choose it)",
            data_dir.join(DEMO_PASSWORD_FILE).display()
        );
    }
    run_console(config, data_dir, listener, shutdown, Some(admin_password)).await?;
    sim_server.await??;
    Ok(())
}

pub async fn healthcheck(url: &str) -> Result<(), BoxError> {
    let url = format!("{}/healthz", url.trim_end_matches('/'));
    let response = reqwest::get(&url).await?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{url} answered {}", response.status()).into())
    }
}

/// `config check`: everything `serve` reads before it listens, without listening.
pub fn check_config(path: &Path) -> Result<(), BoxError> {
    let config = Config::load(path)?;
    for (id, client) in &config.clients {
        HermodClient::new(id, client)?;
        client.trust_bundle(id)?;
    }
    if let Some(tls) = &config.tls {
        TlsFiles::load(&tls.cert_file, &tls.key_file)?;
    }
    println!("{config:#?}");
    println!("page: {}", Web::load(config.dist_dir.as_deref()).source());
    println!("{}: good", path.display());
    Ok(())
}

/// `hermod-console dev-pki`: a throw-away CA, a server certificate for `hosts` (default `localhost` and
/// `127.0.0.1`) and a client certificate, as PEM files in `out`, for trying TLS without a real PKI.
/// Existing files are never overwritten.
pub fn dev_pki(out: &Path, hosts: Vec<String>) -> Result<(), BoxError> {
    let hosts = if hosts.is_empty() {
        vec!["localhost".to_string(), "127.0.0.1".to_string()]
    } else {
        hosts
    };
    let pki = simulator::material::dev_pki(&hosts)?;
    let files = [
        ("ca.pem", &pki.ca_cert, false),
        ("server.pem", &pki.server_cert, false),
        ("server.key", &pki.server_key, true),
        ("client.pem", &pki.client_cert, false),
        ("client.key", &pki.client_key, true),
    ];
    std::fs::create_dir_all(out)?;
    if let Some((name, _, _)) = files.iter().find(|(name, _, _)| out.join(name).exists()) {
        return Err(format!(
            "{} exists; remove it or choose another --out",
            out.join(name).display()
        )
        .into());
    }
    for (name, text, private) in files {
        let path = out.join(name);
        if private {
            write_private(&path, text)?;
        } else {
            std::fs::write(&path, text)?;
        }
        println!("wrote {}", path.display());
    }
    println!(
        "server certificate for {}; trust ca.pem (throw-away: its key is not kept)",
        hosts.join(", ")
    );
    Ok(())
}
