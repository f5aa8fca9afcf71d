//! Feed numbers in commit order, across replicas. A writing transaction's events wait unnumbered in
//! a table of its session (`feed_waiting`) while its jobs run; right before it commits, it locks the
//! one row of `feed_counter`, numbers them from it, moves them into the feed and writes the newest
//! number back ([`number`]). The lock is held to the commit, so a transaction numbered N+1 commits
//! after N has: a replica that has seen N committed has seen every number before it, and a replay
//! "after N" skips nothing. (A sequence would not do: its values are handed out at `nextval`, not at
//! commit, so 11 can be visible while 10 is still to come.)
//!
//! Replicas wait on each other only for those last statements and the commit, once per batch of
//! writes (group commit), never while a batch's jobs run.

use crate::store::StoreError;
use crate::store::conn::Conn;

/// The channel each commit's newest feed number is announced on (the payload: the number). A
/// replica's listener reads the events from the table: a notification carries at most 8000 bytes,
/// and a missed one is made up by the next, or by the catch-up after a reconnect.
pub const CHANNEL: &str = "hermod_feed";

/// Makes the session's table of events waiting for their numbers (once per connection).
pub fn prepare(conn: Conn<'_>) -> Result<(), StoreError> {
    conn.batch(
        "CREATE TEMP TABLE IF NOT EXISTS feed_waiting (n BIGSERIAL PRIMARY KEY, \
         at BIGINT NOT NULL, kind TEXT NOT NULL, ref BIGINT NOT NULL, state TEXT)",
    )
}

/// Queues an event of the transaction running on `conn` for its number. A job undone takes its
/// events with it (they are rows of its savepoint).
pub fn wait(
    conn: Conn<'_>,
    at: i64,
    kind: &str,
    id: i64,
    state: Option<&str>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO feed_waiting (at, kind, ref, state) VALUES (?, ?, ?, ?)",
        &crate::params![at, kind, id, state],
    )
    .map(drop)
}

/// Numbers the transaction's waiting events and moves them into the feed, locking the counter to
/// the end of the transaction; gives the newest number. Called right before COMMIT.
pub fn number(conn: Conn<'_>) -> Result<i64, StoreError> {
    let before: i64 = conn.one("SELECT seq FROM feed_counter WHERE id = 1 FOR UPDATE", &[])?;
    let moved = conn.execute(
        "WITH moved AS (DELETE FROM feed_waiting RETURNING n, at, kind, ref, state) \
         INSERT INTO feed (seq, at, kind, ref, state) \
         SELECT CAST(? AS BIGINT) + ROW_NUMBER() OVER (ORDER BY n), at, kind, ref, state FROM moved",
        &crate::params![before],
    )?;
    let last = before + moved as i64;
    conn.execute(
        "UPDATE feed_counter SET seq = ? WHERE id = 1",
        &crate::params![last],
    )?;
    // Delivered when (and only if) the transaction commits, in commit order.
    conn.query_row(
        "SELECT pg_notify(?, ?)",
        &crate::params![CHANNEL, last.to_string()],
        |_| Ok(()),
    )?;
    Ok(last)
}

/// The newest number committed.
pub fn newest(conn: Conn<'_>) -> Result<i64, StoreError> {
    conn.one("SELECT seq FROM feed_counter WHERE id = 1", &[])
}

#[cfg(test)]
mod tests {
    use super::{newest, number, prepare, wait};
    use crate::store::conn::{Conn, PgConn};
    use crate::store::postgres::{connect, schema};
    use hermod_console_tests::postgres::cluster;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::thread;
    use std::time::Duration;

    /// Writes one feed event numbered from the counter, in a transaction that sleeps
    /// `before_commit` between taking its number and committing.
    fn write(conn: &PgConn, before_commit: Duration) -> i64 {
        let db = Conn::from(conn);
        prepare(db).unwrap();
        conn.batch("BEGIN").unwrap();
        wait(db, 0, "callback", 0, None).unwrap();
        let seq = number(db).unwrap();
        thread::sleep(before_commit);
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
        let db = Conn::from(&conn);
        prepare(db).unwrap();
        conn.batch("BEGIN").unwrap();
        for _ in 0..3 {
            wait(db, 0, "callback", 0, None).unwrap();
        }
        assert_eq!(number(db).unwrap(), 3);
        conn.batch("ROLLBACK").unwrap();
        assert_eq!(write(&conn, Duration::ZERO), 1);
    }
}
