//! What replicas sharing a database count together, so that a limit holds across all of them rather
//! than per replica: failed logins (the rules are auth/limiter.rs's) and open live-feed streams
//! (auth/mod.rs). Each check counts and records in one transaction, under a lock on each key it
//! counts: under READ COMMITTED, two replicas counting at the same moment would each miss the other's
//! uncommitted row, and both pass.

use crate::params;
use crate::store::conn::Conn;
use crate::store::{Failures, StoreError};
use std::time::Duration;

/// Rows one sweep deletes at most, so that no single login or renewal pays for a whole flood.
const SWEEP: i64 = 1000;

/// Locks `key` of `space` (its table) until the transaction ends. A job locks its keys in sorted
/// order, so two jobs of the same keys cannot wait on each other.
fn lock(conn: Conn<'_>, space: &str, key: &str) -> Result<(), StoreError> {
    conn.query_row(
        "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
        &params![format!("{space} {key}")],
        |_| Ok(()),
    )
    .map(drop)
}

/// Deletes rows of `table` whose `column` is at most `before`, a bounded number, skipping those
/// another transaction holds: rows under keys nobody counts again would otherwise stay for good.
fn sweep(conn: Conn<'_>, table: &str, column: &str, before: i64) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "DELETE FROM {table} WHERE id IN \
             (SELECT id FROM {table} WHERE {column} <= ? LIMIT {SWEEP} FOR UPDATE SKIP LOCKED)"
        ),
        &params![before],
    )
    .map(drop)
}

/// The failed logins under each of `keys` in the `window_ms` before `now`; when `count` says so,
/// one more at `now` under every key.
pub fn login_attempt(
    conn: Conn<'_>,
    now: i64,
    keys: &[String; 3],
    window_ms: i64,
    count: impl FnOnce(&[Failures; 3]) -> bool,
) -> Result<[Failures; 3], StoreError> {
    let mut locks: Vec<&String> = keys.iter().collect();
    locks.sort();
    locks.dedup();
    for key in locks {
        lock(conn, "login_failures", key)?;
    }
    let since = now.saturating_sub(window_ms);
    sweep(conn, "login_failures", "at", since)?;
    let mut seen = [Failures::default(); 3];
    for (key, seen) in keys.iter().zip(&mut seen) {
        let (n, oldest): (i64, Option<i64>) = conn
            .query_row(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = ? AND at > ?",
                &params![key, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .unwrap_or_default();
        // Another replica's clock may be ahead: its failures are then as new as can be.
        let age = oldest.map_or(0, |t| now.saturating_sub(t).max(0));
        *seen = Failures {
            count: usize::try_from(n).unwrap_or(usize::MAX),
            oldest: Duration::from_millis(age.unsigned_abs()),
        };
    }
    if count(&seen) {
        for key in keys {
            conn.execute(
                "INSERT INTO login_failures (key, at) VALUES (?, ?)",
                &params![key, now],
            )?;
        }
    }
    Ok(seen)
}

/// Forgets every failure under `forget`, and the newest under `take_back`.
pub fn login_forgiven(
    conn: Conn<'_>,
    forget: &[String],
    take_back: &str,
) -> Result<(), StoreError> {
    for key in forget {
        conn.execute("DELETE FROM login_failures WHERE key = ?", &params![key])?;
    }
    conn.execute(
        "DELETE FROM login_failures WHERE id = \
         (SELECT id FROM login_failures WHERE key = ? ORDER BY at DESC, id DESC LIMIT 1)",
        &params![take_back],
    )
    .map(drop)
}

/// Opens stream `id` under `key` until `until`, unless `max` streams of `key` are open at `now`:
/// whether it did.
pub fn open_stream(
    conn: Conn<'_>,
    now: i64,
    key: &str,
    id: &str,
    max: usize,
    until: i64,
) -> Result<bool, StoreError> {
    lock(conn, "streams", key)?;
    conn.execute(
        "DELETE FROM streams WHERE key = ? AND until <= ?",
        &params![key, now],
    )?;
    let open: i64 = conn.one("SELECT COUNT(*) FROM streams WHERE key = ?", &params![key])?;
    if usize::try_from(open).unwrap_or(usize::MAX) >= max {
        return Ok(false);
    }
    conn.execute(
        "INSERT INTO streams (id, key, until) VALUES (?, ?, ?)",
        &params![id, key, until],
    )?;
    Ok(true)
}

/// Keeps streams `ids` open until `until`, and deletes what is left of streams whose time ran out
/// (their replica died, or its delete failed).
pub fn renew_streams(
    conn: Conn<'_>,
    now: i64,
    ids: &[String],
    until: i64,
) -> Result<(), StoreError> {
    // One statement for every stream of the replica: the ids as one text, split by the server
    // (a stream's id is a UUID, without a comma).
    conn.execute(
        "UPDATE streams SET until = ? WHERE id = ANY(string_to_array(?, ','))",
        &params![until, ids.join(",")],
    )?;
    sweep(conn, "streams", "until", now)
}

/// Closes stream `id`, freeing its place.
pub fn close_stream(conn: Conn<'_>, id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM streams WHERE id = ?", &params![id])
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conn::PgConn;
    use crate::store::postgres::{connect, schema};
    use hermod_console_tests::postgres::cluster;

    fn database() -> PgConn {
        let conn = connect(&cluster().database()).unwrap();
        schema::migrate(&conn).unwrap();
        conn
    }

    fn keys(account: &str) -> [String; 3] {
        [format!("pair {account}"), "source".into(), account.into()]
    }

    #[test]
    fn failures_are_counted_per_key_within_the_window_and_recorded_only_when_asked() {
        let conn = database();
        let db = Conn::from(&conn);
        let alice = keys("alice");
        let counts = |at: i64, record: bool| {
            login_attempt(db, at, &alice, 100, |_| record)
                .unwrap()
                .map(|f| f.count)
        };
        assert_eq!(counts(1000, true), [0, 0, 0]);
        assert_eq!(counts(1010, true), [1, 1, 1]);
        assert_eq!(counts(1020, false), [2, 2, 2], "refused: nothing recorded");
        let seen = login_attempt(db, 1050, &keys("bob"), 100, |_| true).unwrap();
        assert_eq!(
            seen.map(|f| f.count),
            [0, 2, 0],
            "bob shares only the source"
        );
        assert_eq!(seen[1].oldest, Duration::from_millis(50));
        assert_eq!(
            counts(1105, false),
            [1, 2, 1],
            "the first fell out of the window"
        );
        login_forgiven(db, &[alice[0].clone(), alice[2].clone()], &alice[1]).unwrap();
        assert_eq!(
            counts(1106, false),
            [0, 1, 0],
            "forgiven, and the newest taken back"
        );
        let left: i64 = db.one("SELECT COUNT(*) FROM login_failures", &[]).unwrap();
        assert_eq!(left, 3, "the source's first and bob's own two");
        login_attempt(db, 5000, &alice, 100, |_| false).unwrap();
        let left: i64 = db.one("SELECT COUNT(*) FROM login_failures", &[]).unwrap();
        assert_eq!(
            left, 0,
            "rows past the window are swept, whatever their key"
        );
    }

    #[test]
    fn a_key_holds_at_most_max_streams_and_a_stream_not_renewed_stops_counting() {
        let conn = database();
        let db = Conn::from(&conn);
        let open = |id: &str, now: i64| open_stream(db, now, "session:a", id, 2, now + 30).unwrap();
        assert!(open("1", 0));
        assert!(open("2", 0));
        assert!(!open("3", 10), "two are open");
        assert!(
            open_stream(db, 10, "session:b", "4", 2, 40).unwrap(),
            "another key"
        );
        close_stream(db, "1").unwrap();
        assert!(open("3", 10), "a closed stream's place is free");
        renew_streams(db, 20, &["3".into()], 60).unwrap();
        assert!(!open("5", 29), "2 and 3 still open");
        assert!(open("5", 31), "2 ran out: its replica stopped renewing it");
        assert!(!open("6", 31), "3 was renewed");
        renew_streams(db, 100, &[], 100).unwrap();
        let left: i64 = db.one("SELECT COUNT(*) FROM streams", &[]).unwrap();
        assert_eq!(left, 0, "what ran out is swept, whatever its key");
    }

    /// Replicas opening streams of one key at the same moment, each in its own transaction: the
    /// lock makes them count one after another, so exactly `max` get a place.
    #[test]
    fn replicas_opening_at_once_never_pass_the_cap_together() {
        let url = cluster().database();
        schema::migrate(&connect(&url).unwrap()).unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(6));
        let replicas: Vec<_> = (0..6)
            .map(|i| {
                let (url, start) = (url.clone(), start.clone());
                std::thread::spawn(move || {
                    let conn = connect(&url).unwrap();
                    conn.batch("BEGIN").unwrap();
                    start.wait();
                    let db = Conn::from(&conn);
                    let opened = open_stream(db, 0, "session:a", &i.to_string(), 2, 100).unwrap();
                    // Held open a while, so that the others count while it has not committed.
                    std::thread::sleep(Duration::from_millis(50));
                    conn.batch("COMMIT").unwrap();
                    opened
                })
            })
            .collect();
        let opened = replicas
            .into_iter()
            .map(|r| r.join().unwrap())
            .filter(|&opened| opened)
            .count();
        assert_eq!(opened, 2);
    }
}
