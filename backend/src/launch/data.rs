//! The subcommands that work on the console's database directly, beside or instead of a running
//! console: `user`, `token create`, `audit verify`, `backup`, `restore`, `prune`. They open the
//! store the configuration names: its PostgreSQL database, else the SQLite file in the data directory.

use super::{BoxError, cost, data_dir_of, random_hex};
use crate::audit;
use crate::auth::password;
use crate::clock::now_ms;
use crate::config::Config;
use crate::feed::Feed;
use crate::lock;
use crate::retention;
use crate::routes::users::{USERNAME_RULE, check_username};
use crate::store::{AccountError, Pruned, Store, sql, sqlite};
use hermod_shared::console::{NewToken, Role, SUMMARY_BODY_BYTES};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The configuration `--config` names, or, without one, what the environment's
/// `HERMOD_CONSOLE__…` variables set (as `serve` would read them): where the data is, which database.
fn configuration(path: Option<&Path>) -> Result<Config, BoxError> {
    Ok(match path {
        Some(path) => Config::load(path)?,
        None => Config::from_toml("", std::env::vars())?,
    })
}

/// `hermod-console user …`: accounts, straight on the database (the console may be running).
pub enum UserCommand {
    Add {
        name: String,
        role: Role,
        password_stdin: bool,
    },
    Passwd {
        name: String,
        password_stdin: bool,
    },
    Remove {
        name: String,
    },
    List,
}

/// A password from stdin, or a new random one that is printed once.
fn new_password(from_stdin: bool) -> Result<(String, bool), BoxError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let p = line.trim_end_matches(['\r', '\n']).to_string();
        if let Some(why) = password::weakness(&p) {
            return Err(why.into());
        }
        Ok((p, false))
    } else {
        Ok((random_hex(12), true))
    }
}

/// `backup`: a consistent copy while the console serves.
pub fn backup(
    to: &Path,
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    sqlite_only(&config, "back it up with pg_dump")?;
    let data_dir = data_dir_of(Some(&config), data_dir);
    let bytes = sqlite::backup::backup(&data_dir, to)?;
    println!(
        "backed up {} to {} ({bytes} bytes)",
        data_dir.display(),
        to.display()
    );
    Ok(())
}

/// `restore`: only with the console stopped (the data directory's lock says so).
pub fn restore(
    from: &Path,
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
    replace: bool,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    sqlite_only(&config, "restore it with pg_restore")?;
    let data_dir = data_dir_of(Some(&config), data_dir);
    let _lock = lock::take(&data_dir)?;
    if data_dir.join(sqlite::DB_FILE).exists() && !replace {
        return Err(format!(
            "{} holds a database; add --replace to put the backup in its place",
            data_dir.display()
        )
        .into());
    }
    sqlite::backup::restore(from, &data_dir)?;
    println!("restored {} into {}", from.display(), data_dir.display());
    Ok(())
}

/// The console's data directory (`--data-dir`, else the configuration's), for the commands that
/// work on its database directly. Without `init` the database must be there: a wrong directory
/// would otherwise get an empty one.
fn existing_data_dir(
    config: &Config,
    data_dir: Option<PathBuf>,
    init: bool,
) -> Result<PathBuf, BoxError> {
    let data_dir = data_dir_of(Some(config), data_dir);
    let db = data_dir.join(sqlite::DB_FILE);
    if !init && !db.exists() {
        return Err(format!(
            "no database at {}: point --config or --data-dir at the console's data, or add --init \
             to create one there",
            db.display()
        )
        .into());
    }
    Ok(data_dir)
}

/// The store the configuration names: its PostgreSQL database, else the SQLite file in
/// [`existing_data_dir`].
async fn open_existing(
    config: &Config,
    data_dir: Option<PathBuf>,
    init: bool,
) -> Result<Arc<dyn Store>, BoxError> {
    if let Some(url) = config.database_url()? {
        return Ok(sql::open_postgres(url, Feed::new(1), SUMMARY_BODY_BYTES).await?);
    }
    let data_dir = existing_data_dir(config, data_dir, init)?;
    Ok(sql::open(&data_dir, Feed::new(1), SUMMARY_BODY_BYTES)?)
}

/// Refuses a command that works on the SQLite file when the configuration names a PostgreSQL
/// database instead: `what` says what to use there.
fn sqlite_only(config: &Config, what: &str) -> Result<(), BoxError> {
    match config.database_url()? {
        Some(_) => Err(format!("the console keeps its data in PostgreSQL here: {what}").into()),
        None => Ok(()),
    }
}

/// `token create`: an API token for automation, made on the command line (no admin session needed
/// on the machine that runs the console). Shown once; audited as made by `cli`.
pub async fn audit_verify(
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    let store = open_existing(&config, data_dir, false).await?;
    let chain = store.audit_chain().await;
    store.close().await?;
    let chain = chain?;
    match (chain.broken_at, chain.reason) {
        (Some(id), Some(reason)) => Err(format!(
            "the audit log's chain is broken: entry {id} {reason} ({} entries before it hold)",
            chain.entries
        )
        .into()),
        _ => {
            println!(
                "the audit log's chain holds: {} entries; head {}",
                chain.entries,
                chain.head.as_deref().unwrap_or("(empty)")
            );
            Ok(())
        }
    }
}

pub async fn token_create(
    new: NewToken,
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    let store = open_existing(&config, data_dir, false).await?;
    let (token, minted) =
        crate::routes::tokens::mint(&new, "cli").map_err(|e| e.problem.detail.clone())?;
    let record = store.create_token(minted).await?;
    store
        .audit(audit::system_entry(
            "cli",
            "token_created",
            &record.name,
            json!({"id": record.id, "role": record.role, "expires_at": record.expires_at}),
        ))
        .await?;
    eprintln!(
        "made token `{}` ({}, until {}); it is shown once:",
        record.name, record.role, record.expires_at
    );
    println!("{token}");
    Ok(())
}

/// `prune`: what retention removes, now. `--dry-run` only counts, on a read-only connection, and may
/// run beside a serving console; otherwise the console must be stopped (it prunes by itself on its
/// timer), and the same batches run here until nothing is left. The settings come from `--config`
/// (or, without one, from the environment alone), as `serve` reads them.
pub async fn prune(
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
    dry_run: bool,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    sqlite_only(
        &config,
        "the serving replicas prune on their timer (README, \"Retention\")",
    )?;
    let data_dir = existing_data_dir(&config, data_dir, false)?;
    let cutoffs = config.retention.cutoffs(now_ms());
    let (pruned, result) = if dry_run {
        (sql::retention::prunable(&data_dir, &cutoffs)?, Ok(()))
    } else {
        let _lock = lock::take(&data_dir)?;
        let store = sql::open(&data_dir, Feed::new(1), SUMMARY_BODY_BYTES)?;
        let mut pruned = Pruned::default();
        let result =
            retention::prune(store.as_ref(), cutoffs, config.retention.batch, &mut pruned).await;
        store.close().await?;
        (pruned, result)
    };
    let done = if dry_run { "would remove" } else { "removed" };
    println!("{} {done}:", data_dir.display());
    print!("{}", retention::report(&pruned, &cutoffs));
    Ok(result?)
}

pub async fn user(
    command: UserCommand,
    config_path: Option<&Path>,
    data_dir: Option<PathBuf>,
    init: bool,
) -> Result<(), BoxError> {
    let config = configuration(config_path)?;
    let cost = cost(&config);
    let store = open_existing(&config, data_dir, init).await?;
    let find = |name: String| {
        let store = store.clone();
        async move {
            store
                .user_by_name(name.clone())
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| BoxError::from(format!("no user `{name}`")))
        }
    };
    // What the command changed goes to the audit log, like a change made in the page.
    let audit = |action: &'static str, target: &str, detail: Value| {
        store.audit(audit::system_entry("cli", action, target, detail))
    };
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            // The page refuses other names at login, so such an account could never log in.
            check_username(&name)
                .map_err(|_| format!("`{name}`: a username is {USERNAME_RULE}"))?;
            let (password_text, generated) = new_password(password_stdin)?;
            let hash = password::hash(password_text.clone(), cost).await?;
            let u = match store.create_user(name.clone(), hash, role).await {
                Ok(u) => u,
                Err(AccountError::Exists) => return Err(format!("`{name}` exists").into()),
                Err(e) => return Err(e.into()),
            };
            audit("user_created", &u.username, json!({"role": u.role})).await?;
            println!("added {} ({})", u.username, u.role);
            if generated {
                println!("password: {password_text}");
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let user = find(name).await?;
            let (password_text, generated) = new_password(password_stdin)?;
            let hash = password::hash(password_text.clone(), cost).await?;
            store.update_user(user.id, None, Some(hash)).await?;
            audit(
                "user_updated",
                &user.username,
                json!({"password_changed": true}),
            )
            .await?;
            println!(
                "password changed for {}; their sessions are ended",
                user.username
            );
            if generated {
                println!("password: {password_text}");
            }
        }
        UserCommand::Remove { name } => {
            let user = find(name).await?;
            let removed = store.delete_user(user.id).await?;
            audit(
                "user_removed",
                &user.username,
                json!({"tokens_revoked": removed.tokens_revoked}),
            )
            .await?;
            println!(
                "removed {}; {} API token(s) they made revoked",
                user.username, removed.tokens_revoked
            );
        }
        UserCommand::List => {
            for u in store.users().await? {
                println!("{}\t{}\t{}", u.username, u.role, u.created_at);
            }
        }
    }
    Ok(())
}
