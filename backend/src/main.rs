use clap::{Parser, Subcommand};
use hermod_console::config::LogFormat;
use hermod_console::launch;
use hermod_shared::console::{NewToken, Role};
use std::path::PathBuf;

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
    /// Write a throw-away test CA with a server and a client certificate (PEM), for trying TLS.
    DevPki {
        /// The directory to write ca.pem, server.pem, server.key, client.pem and client.key to.
        #[arg(long)]
        out: PathBuf,
        /// A DNS name or IP address for the server certificate (repeatable; default localhost and
        /// 127.0.0.1).
        #[arg(long = "host")]
        hosts: Vec<String>,
    },
    /// Check a configuration file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Copy the database to FILE, consistently, while the console serves.
    Backup {
        #[arg(long)]
        to: PathBuf,
        /// The console's configuration (for its data_dir).
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Put a backup in place of the database (the console must be stopped).
    Restore {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Replace the database that is there.
        #[arg(long)]
        replace: bool,
    },
    /// API tokens in the database (works while the console runs).
    Token {
        #[command(subcommand)]
        action: TokenAction,
        /// The console's configuration (for its data_dir).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Remove what the `[retention]` settings let go (the console must be stopped; it prunes by
    /// itself while it runs), or with --dry-run count it (works while the console runs).
    Prune {
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Only say how many rows of each kind would go.
        #[arg(long)]
        dry_run: bool,
    },
    /// The audit log (works while the console runs).
    Audit {
        #[command(subcommand)]
        action: AuditAction,
        /// The console's configuration (for its data_dir).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
    },
    /// Manage accounts in the database (works while the console runs).
    User {
        #[command(subcommand)]
        action: UserAction,
        /// The console's configuration (for its data_dir and password hashing cost).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        /// Create the database when there is none (else a wrong --data-dir would make an empty one).
        #[arg(long, global = true)]
        init: bool,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Make an API token (printed once, on stdout) for automation, as made by `cli`.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value_t = 90)]
        days: u32,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Check its hash chain from the oldest kept entry to the newest: exits 0 and prints the head
    /// when it holds, 1 naming the first entry that does not.
    Verify,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Load FILE (and the environment's overrides) as `serve` would, read every key and certificate
    /// file it names, and print the effective configuration with its secrets hidden.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add an account; without --password-stdin a password is generated and printed once.
    Add {
        name: String,
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (and end the user's sessions).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an account (the last admin cannot be removed).
    Remove { name: String },
    /// List the accounts.
    List,
}

/// mimalloc rather than glibc's allocator: measured with `make bench`, ingest takes 13–15 % more
/// callbacks a second at about 15 % less CPU each; glibc's cost was mostly its locks and the frees
/// of memory that another thread allocated, as every request hands its data to the writer's thread.
/// Its purge delay stays at the default (freed memory goes back to the system 10 ms after it was
/// freed, at the thread's next allocation): at 0, every page emptied during ingest was returned and
/// faulted in again, a tenth of the console's CPU (`make bench`: 25,000 against 27,500 callbacks/s).
/// What a burst of work leaves behind without later activity is given back where it was done
/// (auth/password.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    hermod_console::install_crypto();
    let command = Cli::parse().command;
    // `serve` and `demo` start logging once their configuration says in which format (log_format).
    if !matches!(command, Command::Serve { .. } | Command::Demo { .. }) {
        launch::init_logging(LogFormat::Text);
    }
    let result = match command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => launch::serve(&config, listen, data_dir).await,
        Command::Demo { listen, data_dir } => launch::demo(&listen, &data_dir).await,
        Command::Simulate { listen, config } => launch::simulate(&config, listen).await,
        Command::Healthcheck { url } => launch::healthcheck(&url).await,
        Command::DevPki { out, hosts } => launch::dev_pki(&out, hosts),
        Command::Config {
            action: ConfigAction::Check { config },
        } => launch::check_config(&config),
        Command::Backup {
            to,
            config,
            data_dir,
        } => launch::backup(&to, config.as_deref(), data_dir),
        Command::Restore {
            from,
            config,
            data_dir,
            replace,
        } => launch::restore(&from, config.as_deref(), data_dir, replace),
        Command::Token {
            action: TokenAction::Create { name, role, days },
            config,
            data_dir,
        } => {
            let new = NewToken {
                name,
                role: Role::parse(&role).expect("clap checked the role"),
                expires_in_days: days,
            };
            launch::token_create(new, config.as_deref(), data_dir).await
        }
        Command::Prune {
            config,
            data_dir,
            dry_run,
        } => launch::prune(config.as_deref(), data_dir, dry_run).await,
        Command::Audit {
            action: AuditAction::Verify,
            config,
            data_dir,
        } => launch::audit_verify(config.as_deref(), data_dir).await,
        Command::User {
            action,
            config,
            data_dir,
            init,
        } => {
            let command = match action {
                UserAction::Add {
                    name,
                    role,
                    password_stdin,
                } => launch::UserCommand::Add {
                    name,
                    role: Role::parse(&role).expect("clap checked the role"),
                    password_stdin,
                },
                UserAction::Passwd {
                    name,
                    password_stdin,
                } => launch::UserCommand::Passwd {
                    name,
                    password_stdin,
                },
                UserAction::Remove { name } => launch::UserCommand::Remove { name },
                UserAction::List => launch::UserCommand::List,
            };
            launch::user(command, config.as_deref(), data_dir, init).await
        }
    };
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("hermod-console: {e}");
            1
        }
    };
    // Not a return: the runtime's drop waits for every blocking task, and one serving a request cut
    // off at the shutdown deadline (limits.shutdown_deadline_secs) may still run. The store is
    // closed by now and stdout is written line by line, so nothing is left to flush.
    std::process::exit(code)
}
