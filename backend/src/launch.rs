//! The subcommands: `serve`, `demo`, `simulate`, `healthcheck`.

use crate::app::{AppState, app};
use crate::config::{Config, ConfigError};
use crate::server::{bind, serve as serve_router, shutdown_on_signal};
use crate::simulator::{self, SimConfig, Simulator};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Logs go to stderr, filtered by `RUST_LOG` (`info` by default); stdout carries only the
/// `listening on` lines that scripts wait for.
pub fn init_logging() {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|s| Targets::from_str(&s).ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
        )
        .with(filter)
        .init();
}

fn announce(what: &str, listener: &TcpListener) -> Result<String, BoxError> {
    let addr = listener.local_addr()?;
    println!("{what} on http://{addr}");
    Ok(addr.to_string())
}

/// Runs the console on `listener` until shut down.
async fn run_console(
    mut config: Config,
    data_dir: &Path,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
) -> Result<(), BoxError> {
    let addr = announce("listening", &listener)?;
    if config.public_url.is_none() {
        config.public_url = Some(format!("http://{addr}"));
    }
    let state = AppState::new(&config, data_dir, shutdown.clone()).await?;
    tracing::info!(
        public_url = %state.public_url,
        data = %data_dir.display(),
        clients = state.clients.len(),
        "console ready"
    );
    serve_router(listener, app(state), shutdown).await?;
    Ok(())
}

pub async fn serve(
    config_path: &Path,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
) -> Result<(), BoxError> {
    let config = Config::load(config_path)?;
    let data_dir = data_dir
        .or_else(|| config.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("./data"));
    let listener = bind(listen.as_deref().unwrap_or(&config.listen)).await?;
    run_console(config, &data_dir, listener, shutdown_on_signal()).await
}

pub async fn simulate(config_path: &Path, listen: Option<String>) -> Result<(), BoxError> {
    let config = SimConfig::load(config_path)?;
    let listener = bind(listen.as_deref().unwrap_or(&config.listen)).await?;
    announce("simulator listening", &listener)?;
    let router = simulator::router(Simulator::new(config));
    serve_router(listener, router, shutdown_on_signal()).await?;
    Ok(())
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Console and simulator in one process, wired the way a real deployment is: per-client API keys,
/// per-client callback URLs with Basic credentials. Fresh secrets on every start; nothing to type.
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
    let config = Config::from_toml(&console_toml, std::env::vars())
        .map_err(|e| ConfigError(format!("demo configuration: {e}")))?;
    let sim_config = SimConfig::from_toml(&sim_toml, std::env::vars())
        .map_err(|e| ConfigError(format!("demo simulator configuration: {e}")))?;
    let shutdown = shutdown_on_signal();
    announce("simulator listening", &sim_listener)?;
    let sim_server = tokio::spawn(serve_router(
        sim_listener,
        simulator::router(Simulator::new(sim_config)),
        shutdown.clone(),
    ));
    run_console(config, data_dir, listener, shutdown).await?;
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
