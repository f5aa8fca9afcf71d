//! Harness for the black-box tests: runs the built `hermod-console` binary on real ports with a real
//! SQLite file in a fresh temporary directory, logs in as a user would, talks to it over HTTP, reads its
//! live feed, and keeps everything it saw (response headers and bodies, feed data, the process's
//! stdout and stderr) for the secrets scan.
//!
//! The binary comes from `HERMOD_CONSOLE_BIN`, else `target/debug/hermod-console` of this workspace
//! (`cargo build -p hermod-console` makes it).
//!
//! One module per concern, each re-exported here so a test imports from one place: `process` (the
//! binary as a process, its temporary directory, free ports), `secrets` (the keys and passwords a test
//! knows and scans for), `http` (clients and answers read whole), `sse` (the live feed), `console` (a
//! running console and its API), `simulator` (a simulator of a test's own, sample bodies); `browser`
//! (Chromium) only for the browser tests, `postgres` (a temporary PostgreSQL cluster) only for the
//! tests of the store against PostgreSQL. What all of them use (unique names, base64, waiting for a
//! condition) is here.

pub mod browser;
mod console;
mod http;
pub mod postgres;
mod process;
mod secrets;
mod simulator;
mod sse;

pub use console::*;
pub use http::*;
pub use process::*;
pub use secrets::*;
pub use simulator::*;
pub use sse::*;

use base64::Engine;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long anything that should be quick may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(15);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random 64-bit number (std only: `RandomState` is seeded from the OS).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// `prefix` followed by random hex: unique external ids, bodies and secrets. Steering prefixes such as
/// `slow-` stay at the start.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", random_u64())
}

pub fn b64(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Polls `f` until it gives `Some`, or panics naming `what` after `timeout`.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
