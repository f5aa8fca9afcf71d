//! Read-only connections. In WAL mode readers never wait for the writer, so a point lookup (a
//! session, a command by id) runs right on the calling thread: it takes microseconds, far less than
//! handing it to another thread would. Anything that may scan (lists, searches, exports, replay) runs
//! on tokio's blocking pool instead, so it cannot stall the threads serving requests.

use super::schema::connect;
use crate::store::StoreError;
use crate::store::conn::Conn;
use rusqlite::Connection;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Idle connections kept for reuse; more are opened when all are busy, and closed after.
const KEEP: usize = 8;

#[derive(Clone)]
pub struct Readers(Arc<Inner>);

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Readers {
        Readers(Arc::new(Inner {
            path,
            idle: Mutex::new(Vec::new()),
        }))
    }

    /// A lookup by key, run here and now.
    pub fn lookup<T>(
        &self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let taken = self.0.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match taken {
            Some(c) => c,
            None => connect(&self.0.path, true)?,
        };
        let result = f(Conn::Sqlite(&conn));
        let mut idle = self.0.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < KEEP {
            idle.push(conn);
        }
        result
    }

    /// A read that may scan many rows, run off the request threads.
    pub async fn scan<T: Send + 'static>(
        &self,
        f: impl FnOnce(Conn<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let readers = self.clone();
        tokio::task::spawn_blocking(move || readers.lookup(f))
            .await
            .map_err(|e| StoreError(format!("a read failed: {e}")))?
    }
}
