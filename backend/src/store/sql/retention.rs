//! Retention: removing what was kept long enough (README, "Retention"). A batch is one background job
//! of the writer: it runs only when no request's write waits, and is small, so ingest and the feed
//! never wait long behind it. The selection of each kind is one SQL text, run with a `LIMIT` by the
//! pruner and counted whole by the dry run, so `prune --dry-run` counts exactly what would go.
//!
//! What stays whatever its age:
//! - a record the indexer has not reached yet: its count of what is left to index would never come
//!   down (search would report it unsearched forever);
//! - the newest callback, poll and feed event: SQLite numbers a new row past the largest id there,
//!   and an id must never come back (links, the indexer's progress, `Last-Event-ID`, the sequence a
//!   restart goes on from);
//! - a command with a callback or poll younger than the cutoff: it goes with them, later.
//!
//! Feed events go from the oldest on, never from the middle: the feed stays one run of sequence
//! numbers, so a replay from before its start is told to start over (`feed.rs`) instead of skipping.

use super::devices;
use super::indexer::Doc;
use super::writer::Batch;
use crate::params;
use crate::store::conn::Conn;
use crate::store::sqlite::{DB_FILE, schema};
use crate::store::{Cutoffs, Pruned, StoreError};
use std::path::Path;

/// The ids at and past which rows stay (see the module's doc): of callbacks and polls, the lower of
/// the first not indexed and the newest. The newest of an empty table is NULL, and so is the lower
/// (a comparison with NULL is not true), which keeps nothing back: there is nothing.
const KEEP: &str = "bounds AS (SELECT \
     (SELECT upto + 1 FROM indexed WHERE kind = 0) AS commands, \
     (SELECT upto + 1 FROM indexed WHERE kind = 1) AS callbacks, \
     (SELECT MAX(id) FROM callbacks) AS newest_callback, \
     (SELECT upto + 1 FROM indexed WHERE kind = 2) AS polls, \
     (SELECT MAX(id) FROM polls) AS newest_poll), \
     keep AS (SELECT commands, \
     CASE WHEN callbacks < newest_callback THEN callbacks ELSE newest_callback END AS callbacks, \
     CASE WHEN polls < newest_poll THEN polls ELSE newest_poll END AS polls FROM bounds)";

/// Each selection takes the cutoff as `?1` and the most rows as `?2` (-1: all). Each walks its
/// time index from the oldest and stops at the cutoff: the `+` keeps SQLite from walking the ids
/// instead, which would read every row below the bound (all of them, nearly) on every batch.
fn commands() -> String {
    format!(
        "WITH {KEEP} SELECT c.id FROM keep, commands c \
         WHERE c.created_at < ?1 AND c.updated_at < ?1 AND +c.id < keep.commands \
         AND NOT EXISTS (SELECT 1 FROM unindexed u WHERE u.doc = c.id * 4 + 3) \
         AND NOT EXISTS (SELECT 1 FROM callbacks k WHERE k.command = c.id \
             AND (k.received_at >= ?1 OR k.id >= keep.callbacks)) \
         AND NOT EXISTS (SELECT 1 FROM polls p WHERE p.command = c.id \
             AND (p.at >= ?1 OR p.id >= keep.polls)) \
         ORDER BY c.created_at LIMIT ?2"
    )
}

fn unmatched_callbacks() -> String {
    format!(
        "WITH {KEEP} SELECT k.id FROM keep, callbacks k \
         WHERE k.command IS NULL AND k.received_at < ?1 AND +k.id < keep.callbacks \
         ORDER BY k.received_at LIMIT ?2"
    )
}

/// The oldest events up to the first one at or past the cutoff (times can step back, sequence
/// numbers cannot), and never the newest.
const FEED: &str = "WITH head AS (SELECT seq, at FROM feed ORDER BY seq LIMIT ?2) \
     SELECT seq FROM head WHERE seq < coalesce((SELECT MIN(seq) FROM head WHERE at >= ?1), \
     (SELECT MAX(seq) FROM feed))";

const AUDIT: &str = "SELECT id FROM audit WHERE at < ?1 ORDER BY at LIMIT ?2";

/// One batch: about `batch` rows of the first kind (in the order of [`Pruned`]) that has any to go. A
/// command's callbacks and polls count as rows of it, and a command goes whole: past `batch` when
/// the first alone has more.
pub fn prune(b: &Batch<'_>, cutoffs: &Cutoffs, batch: usize) -> Result<Pruned, StoreError> {
    let (conn, limit) = (b.db(), batch as i64);
    let mut pruned = Pruned::default();
    if let Some(cut) = cutoffs.commands {
        for id in ids(conn, &commands(), cut, limit)? {
            let (callbacks, polls) = delete_command(conn, id)?;
            pruned.commands += 1;
            pruned.callbacks += callbacks;
            pruned.polls += polls;
            // Deleting costs by the row (and the body): a command's callbacks count.
            if pruned.commands + pruned.callbacks + pruned.polls >= limit as u64 {
                break;
            }
        }
    }
    if pruned.is_empty()
        && let Some(cut) = cutoffs.unmatched_callbacks
    {
        let sql = format!(
            "DELETE FROM callbacks WHERE id IN ({}) RETURNING id",
            unmatched_callbacks()
        );
        for id in ids(conn, &sql, cut, limit)? {
            forget(conn, Doc::Callback.key(id))?;
            pruned.unmatched_callbacks += 1;
        }
    }
    if pruned.is_empty()
        && let Some(cut) = cutoffs.feed
    {
        pruned.feed = delete(
            conn,
            &format!("DELETE FROM feed WHERE seq IN ({FEED})"),
            cut,
            limit,
        )?;
    }
    if pruned.is_empty()
        && let Some(cut) = cutoffs.audit
    {
        // The one delete the audit log's trigger lets through (schema/4_retention.sql); the cutoff
        // is cleared before the transaction can commit, so nothing else ever sees it set.
        let before = "UPDATE audit_retention SET before = ? WHERE id = 1";
        set(conn, before, Some(cut))?;
        pruned.audit = delete(
            conn,
            &format!("DELETE FROM audit WHERE id IN ({AUDIT})"),
            cut,
            limit,
        )?;
        set(conn, before, None)?;
    }
    Ok(pruned)
}

/// What [`prune`] would remove, batch after batch, from the database under `data_dir` now: counted
/// on a read-only connection in one read transaction, so it may run beside a serving console.
pub fn prunable(data_dir: &Path, cutoffs: &Cutoffs) -> Result<Pruned, StoreError> {
    let conn = schema::connect(&data_dir.join(DB_FILE), true)?;
    schema::check_known(&conn)?;
    Conn::from(&conn).snapshot(|conn| {
        let count = |sql: &str, cutoff: Option<i64>| match cutoff {
            Some(cut) => conn
                .one::<i64>(
                    &format!("SELECT COUNT(*) FROM ({sql})"),
                    &params![cut, -1i64],
                )
                .map(|n| n as u64),
            None => Ok(0),
        };
        let of_commands =
            |table: &str| format!("SELECT 1 FROM {table} WHERE command IN ({})", commands());
        Ok(Pruned {
            commands: count(&commands(), cutoffs.commands)?,
            callbacks: count(&of_commands("callbacks"), cutoffs.commands)?,
            polls: count(&of_commands("polls"), cutoffs.commands)?,
            unmatched_callbacks: count(&unmatched_callbacks(), cutoffs.unmatched_callbacks)?,
            feed: count(FEED, cutoffs.feed)?,
            audit: count(AUDIT, cutoffs.audit)?,
        })
    })
}

/// The ids `sql` gives (a selection, or a `DELETE … RETURNING id`).
fn ids(conn: Conn<'_>, sql: &str, cutoff: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
    conn.query(sql, &params![cutoff, limit], |r| r.get(0))
}

fn delete(conn: Conn<'_>, sql: &str, cutoff: i64, limit: i64) -> Result<u64, StoreError> {
    conn.execute(sql, &params![cutoff, limit])
}

fn set(conn: Conn<'_>, sql: &str, value: Option<i64>) -> Result<(), StoreError> {
    conn.execute(sql, &params![value]).map(drop)
}

/// Removes command `id` with its callbacks and polls, and what search keeps of each; how many
/// callbacks and polls went. A command that re-issued it loses the reference, which would point at
/// nothing.
fn delete_command(conn: Conn<'_>, id: i64) -> Result<(u64, u64), StoreError> {
    let children =
        |sql: &str| -> Result<Vec<i64>, StoreError> { conn.query(sql, &params![id], |r| r.get(0)) };
    let callbacks = children("DELETE FROM callbacks WHERE command = ? RETURNING id")?;
    let polls = children("DELETE FROM polls WHERE command = ? RETURNING id")?;
    conn.execute(
        "UPDATE commands SET reissue_of = NULL WHERE reissue_of = ?",
        &params![id],
    )?;
    let answered: bool = conn.one(
        "DELETE FROM commands WHERE id = ? RETURNING answer IS NOT NULL",
        &params![id],
    )?;
    let mut docs = vec![Doc::Request.key(id)];
    if answered {
        docs.push(Doc::Answer.key(id));
    }
    docs.extend(callbacks.iter().map(|&c| Doc::Callback.key(c)));
    docs.extend(polls.iter().map(|&p| Doc::Poll.key(p)));
    for doc in docs {
        forget(conn, doc)?;
    }
    Ok((callbacks.len() as u64, polls.len() as u64))
}

/// Removes a document from search: its trigrams, its decoded words, the devices it named.
fn forget(conn: Conn<'_>, doc: i64) -> Result<(), StoreError> {
    // SQLite's FTS5 table has no column but the text: a document is its rowid.
    let search = match conn {
        Conn::Sqlite(_) => "DELETE FROM search WHERE rowid = ?",
        Conn::Postgres(_) => "DELETE FROM search WHERE doc = ?",
    };
    for sql in [search, "DELETE FROM decoded WHERE doc = ?"] {
        conn.execute(sql, &params![doc])?;
    }
    devices::forget(conn, doc)
}
