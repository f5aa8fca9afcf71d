use clap::{Parser, Subcommand};
use hermod_console::launch;
use std::path::PathBuf;
use std::process::ExitCode;

/// Hermod Console: send commands to Smart ID devices through Hermod, follow them, watch every callback.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console against a real Hermod.
    Serve {
        #[arg(long)]
        config: PathBuf,
        /// Overrides the file's `listen`; port 0 picks a free port.
        #[arg(long)]
        listen: Option<String>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Console and built-in Hermod simulator in one process, no configuration needed.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        #[arg(long, default_value = "./data")]
        data_dir: PathBuf,
    },
    /// The stand-alone Hermod simulator.
    Simulate {
        #[arg(long)]
        listen: Option<String>,
        #[arg(long)]
        config: PathBuf,
    },
    /// Exit 0 when the console at URL answers /healthz (for container health checks).
    Healthcheck {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    launch::init_logging();
    hermod_console::install_crypto();
    let result = match Cli::parse().command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => launch::serve(&config, listen, data_dir).await,
        Command::Demo { listen, data_dir } => launch::demo(&listen, &data_dir).await,
        Command::Simulate { listen, config } => launch::simulate(&config, listen).await,
        Command::Healthcheck { url } => launch::healthcheck(&url).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hermod-console: {e}");
            ExitCode::FAILURE
        }
    }
}
