//! Feed numbers in commit order, across replicas. A writing transaction takes its numbers from the
//! one row of `feed_counter`, locked when it makes its first event and held until it commits, so a
//! transaction numbered N+1 commits after N has. A replica that has seen N committed has therefore
//! seen every number before it, and a replay "after N" skips nothing. (A sequence would not do: its
//! values are handed out at `nextval`, not at commit, so 11 can be visible while 10 is still to come.)
//!
//! Replicas wait on each other only from a batch's first event to its commit, and a replica's writer
//! commits many writes per transaction (group commit), so they wait once per batch, not per write.

use crate::store::StoreError;
use crate::store::conn::Conn;

/// The channel each commit's newest feed number is announced on (the payload: the number). A
/// replica's listener reads the events from the table: a notification carries at most 8000 bytes,
/// and a missed one is made up by the next, or by the catch-up after a reconnect.
pub const CHANNEL: &str = "hermod_feed";

/// Locks the counter for the transaction running on `conn`, until it ends, and gives the newest
/// number committed: the transaction's events are numbered from the next.
pub fn lock(conn: Conn<'_>) -> Result<i64, StoreError> {
    conn.one("SELECT seq FROM feed_counter WHERE id = 1 FOR UPDATE", &[])
}

/// Records `last` as the newest number, and announces it when the transaction commits (PostgreSQL
/// delivers notifications at commit, in commit order). Called right before COMMIT.
pub fn advance(conn: Conn<'_>, last: i64) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE feed_counter SET seq = ? WHERE id = 1",
        &crate::params![last],
    )?;
    conn.query_row(
        "SELECT pg_notify(?, ?)",
        &crate::params![CHANNEL, last.to_string()],
        |_| Ok(()),
    )
    .map(drop)
}

/// The newest number committed.
pub fn newest(conn: Conn<'_>) -> Result<i64, StoreError> {
    conn.one("SELECT seq FROM feed_counter WHERE id = 1", &[])
}

#[cfg(test)]
mod tests {
    use super::{advance, lock, newest};
    use crate::store::conn::{Conn, PgConn};
    use crate::store::postgres::{connect, schema};
    use hermod_console_tests::postgres::cluster;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    /// Writes one feed row numbered from the counter, in a transaction that sleeps `before_commit`
    /// between taking its number and committing.
    fn write(conn: &PgConn, before_commit: Duration) -> i64 {
        conn.batch("BEGIN").unwrap();
        let db = Conn::from(conn);
        let seq = lock(db).unwrap() + 1;
        db.execute(
            "INSERT INTO feed (seq, at, kind, ref) VALUES (?, 0, 'callback', 0)",
            &crate::params![seq],
        )
        .unwrap();
        thread::sleep(before_commit);
        advance(db, seq).unwrap();
        conn.batch("COMMIT").unwrap();
        seq
    }

    /// A slow transaction takes its number first; fast ones come while it sleeps. Each reader's view,
    /// whenever it looks, is 1..=N without a gap, and a reader following "after N" as the live feed
    /// does reads every number once.
    #[test]
    fn numbers_become_visible_in_order_however_transactions_interleave() {
        let url = cluster().database();
        schema::migrate(&connect(&url).unwrap()).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (url, done) = (url.clone(), done.clone());
            thread::spawn(move || {
                let conn = connect(&url).unwrap();
                let db = Conn::from(&conn);
                let (mut after, mut read) = (0, Vec::new());
                loop {
                    let finished = done.load(Ordering::Acquire);
                    let seqs: Vec<i64> = db
                        .query(
                            "SELECT seq FROM feed WHERE seq > ? ORDER BY seq",
                            &crate::params![after],
                            |r| r.get(0),
                        )
                        .unwrap();
                    // One statement, one snapshot.
                    let (visible, top): (i64, i64) = db
                        .query_row(
                            "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM feed",
                            &[],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .unwrap()
                        .unwrap();
                    assert_eq!(visible, top, "a number is visible before one below it");
                    if let Some(&last) = seqs.last() {
                        after = last;
                    }
                    read.extend(seqs);
                    if finished {
                        return read;
                    }
                }
            })
        };
        let rounds = 5;
        for _ in 0..rounds {
            let start = Arc::new(Barrier::new(4));
            let writers: Vec<_> = (0..4)
                .map(|i| {
                    let (url, start) = (url.clone(), start.clone());
                    thread::spawn(move || {
                        let conn = connect(&url).unwrap();
                        start.wait();
                        // The first is slow and, started first, usually numbered first; the
                        // fast ones wait for its commit rather than overtake it.
                        let (delay, pause) = if i == 0 { (0, 150) } else { (20 * i as u64, 0) };
                        thread::sleep(Duration::from_millis(delay));
                        write(&conn, Duration::from_millis(pause))
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
        }
        done.store(true, Ordering::Release);
        let read = reader.join().unwrap();
        let all: Vec<i64> = (1..=rounds * 4).collect();
        assert_eq!(read, all, "the follower read each number once, in order");
        let conn = connect(&url).unwrap();
        assert_eq!(newest(Conn::from(&conn)).unwrap(), rounds * 4);
    }

    /// What a rolled-back transaction took is given again: no hole for a replay to wait on.
    #[test]
    fn a_rolled_back_transaction_leaves_no_gap() {
        let url = cluster().database();
        let conn = connect(&url).unwrap();
        schema::migrate(&conn).unwrap();
        conn.batch("BEGIN").unwrap();
        let db = Conn::from(&conn);
        assert_eq!(lock(db).unwrap(), 0);
        advance(db, 3).unwrap();
        conn.batch("ROLLBACK").unwrap();
        assert_eq!(write(&conn, Duration::ZERO), 1);
    }
}
