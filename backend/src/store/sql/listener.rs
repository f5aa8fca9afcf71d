//! A replica's ear on a shared PostgreSQL database: every replica's commits reach this replica's
//! feed. Each commit announces its newest feed number (postgres/sequence.rs); the listener, on a
//! connection of its own, hears it, reads the events after the last one it published from the table
//! ([`feed::after`], as a replay does) and publishes them in order. Numbers are handed out in commit
//! order, so what it reads is never followed by an older number. It also reads every half second
//! without being told, so a lost notification, or a reconnect after the connection dropped, costs a
//! delay and never an event. Sessions and tokens ended on another replica are announced the same way.

use super::feed;
use super::writer::Progress;
use crate::feed::Feed;
use crate::store::StoreError;
use crate::store::conn::{Conn, PgConn};
use crate::store::postgres::{self, sequence};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The channel a replica announces ended sessions and tokens on.
pub const ACCESS: &str = "hermod_access";

/// How long the listener waits for a notification before it reads anyway.
const POLL: Duration = Duration::from_millis(500);

/// Events read per query while catching up.
const PAGE: usize = 512;

/// Stops the listener when dropped.
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// What the listener publishes to, and from where it starts (`progress.seq`).
pub struct Ears {
    pub url: String,
    pub feed: Feed,
    pub progress: Arc<Progress>,
    pub access: watch::Sender<u64>,
    pub summary: usize,
}

/// Starts the listener thread.
pub fn start(ears: Ears) -> Result<Listener, StoreError> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::Builder::new()
        .name("store-listener".into())
        .spawn(move || run(&ears, &stopped))
        .map_err(|e| StoreError(format!("cannot start the store's listener: {e}")))?;
    Ok(Listener { stop })
}

fn run(ears: &Ears, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        if let Err(e) = listen(ears, stop) {
            tracing::warn!(error = %e, "the feed's listener lost the database; reconnecting");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

/// Listens until stopped or the connection fails.
fn listen(ears: &Ears, stop: &AtomicBool) -> Result<(), StoreError> {
    let conn = postgres::connect(&ears.url)?;
    conn.batch(&format!("LISTEN {}; LISTEN {ACCESS}", sequence::CHANNEL))?;
    while !stop.load(Ordering::Acquire) {
        // Listening first, then reading: what commits in between is both read and announced.
        catch_up(&conn, ears)?;
        let heard = conn.notifications(POLL)?;
        if heard.iter().any(|(channel, _)| channel == ACCESS) {
            ears.access.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
    Ok(())
}

/// Publishes every event committed after the last one published.
fn catch_up(conn: &PgConn, ears: &Ears) -> Result<(), StoreError> {
    loop {
        let after = ears.progress.seq.load(Ordering::Acquire);
        let events = feed::after(Conn::from(conn), after, PAGE, 1 << 20, ears.summary)?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(());
        };
        // Before the events go out, so a subscriber that sees an event sees its sequence too.
        ears.progress.seq.store(last, Ordering::Release);
        ears.feed.publish(events);
    }
}
