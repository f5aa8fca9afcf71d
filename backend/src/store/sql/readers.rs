//! Read connections. On SQLite (read-only, in WAL mode) readers never wait for the writer, so a point
//! lookup (a session, a command by id) runs right on the calling thread: it takes microseconds, far
//! less than handing it to another thread would. Anything that may scan (lists, searches, exports,
//! replay) runs on tokio's blocking pool instead, so it cannot stall the threads serving requests. On
//! PostgreSQL every read is a network round trip, and its driver blocks: all run on the blocking pool.

use crate::store::StoreError;
use crate::store::conn::{Conn, PgConn};
use crate::store::sqlite::schema::connect;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Idle connections kept for reuse; more are opened when all are busy, and closed after.
const KEEP: usize = 8;

#[derive(Clone)]
pub struct Readers(Arc<Inner>);

/// Where connections come from.
pub enum Source {
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

enum Reading {
    Sqlite(Connection),
    Postgres(Box<PgConn>),
}

struct Inner {
    source: Source,
    idle: Mutex<Vec<Reading>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|p| p.into_inner()));
        if idle.iter().any(|c| matches!(c, Reading::Postgres(_))) {
            // PostgreSQL's blocking driver closes a connection on its own runtime, which panics on
            // a thread of the server's: the store may well be dropped on one.
            std::thread::spawn(move || drop(idle));
        }
    }
}

impl Readers {
    pub fn new(source: Source) -> Readers {
        Readers(Arc::new(Inner {
            source,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// A lookup by key.
    pub async fn lookup<T: Send + 'static>(
        &self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        match self.0.source {
            Source::Sqlite(_) => self.blocking(f),
            Source::Postgres(_) => self.scan(f).await,
        }
    }

    /// A read that may scan many rows, run off the request threads.
    pub async fn scan<T: Send + 'static>(
        &self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.blocking(f))
            .await
            .map_err(|e| StoreError(format!("a read failed: {e}")))?
    }

    /// Runs `f` on an idle connection, or a new one, here and now: on the blocking pool, or for
    /// SQLite's lookups.
    pub fn blocking<T>(
        &self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let taken = self.0.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match (taken, &self.0.source) {
            (Some(c), _) => c,
            (None, Source::Sqlite(path)) => Reading::Sqlite(connect(path, true)?),
            (None, Source::Postgres(url)) => {
                Reading::Postgres(Box::new(crate::store::postgres::connect(url)?))
            }
        };
        let result = f(match &conn {
            Reading::Sqlite(c) => Conn::Sqlite(c),
            Reading::Postgres(c) => Conn::Postgres(c),
        });
        let broken = matches!(&conn, Reading::Postgres(c) if c.is_closed());
        let mut idle = self.0.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP && !broken {
            idle.push(conn);
        }
        result
    }
}
