//! The store: one SQLite file in WAL mode. Reads go through a small read-only pool; every write goes
//! through the single writer task ([`writer`]), which commits concurrent writes in one transaction.

mod accounts;
pub mod reads;
mod rows;
mod templates;
mod writer;

pub use accounts::{AccountError, AuditEntry, AuditFilter, SessionRow};
pub use reads::{CallbackFilter, CommandFilter, Exported};
pub use templates::TemplateError;
pub use writer::{CallbackSaved, NewCallback, NewCommand, NewPoll, SendResult};

use crate::feed::Feed;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};

#[derive(Debug)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("stored JSON: {e}"))
    }
}

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    writer: mpsc::Sender<writer::Op>,
    /// Ticks when a session or token ends early (logout, revocation, a user changed or removed),
    /// so open feed streams check theirs at once instead of at the next heartbeat.
    access: Arc<watch::Sender<u64>>,
}

/// The file name inside the data directory.
pub const DB_FILE: &str = "hermod-console.sqlite3";

impl Store {
    /// Opens (or creates) the database under `data_dir`, runs the migrations and starts the writer,
    /// which publishes committed events to `feed`.
    pub async fn open(data_dir: &Path, feed: Feed) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let options = SqliteConnectOptions::new()
            .filename(data_dir.join(DB_FILE))
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a callback is acknowledged only once it would survive a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let mut conn = options.clone().create_if_missing(true).connect().await?;
        sqlx::migrate!("./migrations")
            .run(&mut conn)
            .await
            .map_err(|e| StoreError(format!("migrating the database: {e}")))?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let writer = writer::start(conn, feed).await?;
        Ok(Store {
            pool,
            writer,
            access: Arc::new(watch::channel(0).0),
        })
    }

    /// Ticks after each write that may have ended sessions or tokens.
    pub fn access_changes(&self) -> watch::Receiver<u64> {
        self.access.subscribe()
    }

    fn access_changed(&self) {
        self.access.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Readiness: the file answers a query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }
}
