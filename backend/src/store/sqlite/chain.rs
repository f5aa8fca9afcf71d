//! The audit log as a hash chain (README.md, "Audit log"). Triggers already refuse to change or
//! delete an entry, but whoever can write the file can drop them. So each entry also carries the
//! hash of the entry before it (`prev`) and its own (`hash`: SHA-256 of `prev` and every column as
//! written). An entry edited, removed or slipped in behind the console's back breaks the chain
//! there, and `hermod-console audit verify` (and `GET /api/audit/chain`) names it. Someone able to
//! recompute every hash after the edit is caught only against a head recorded elsewhere: both give
//! it.
//!
//! The chain lives in the entries' own rows, so it costs no table of its own. Retention removes the
//! oldest entries; the oldest one kept then follows a `prev` no longer there, and the chain is
//! checked from it.

use super::sql_error;
use crate::store::StoreError;
use hermod_shared::console::AuditChain;
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::json;
use sha2::{Digest, Sha256};

/// What the first entry ever follows.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's columns as written, but its id (the chain's order is the ids').
pub struct Entry<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub actor_kind: &'a str,
    pub source: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub outcome: &'a str,
    pub request_id: Option<&'a str>,
    pub detail: &'a str,
}

/// The hash of `e` following `prev`: its columns in a JSON array, so no two different entries
/// hash the same text.
pub fn digest(prev: &str, e: &Entry<'_>) -> String {
    let columns = json!([
        e.at,
        e.actor,
        e.actor_kind,
        e.source,
        e.action,
        e.target,
        e.outcome,
        e.request_id,
        e.detail
    ]);
    let mut hash = Sha256::new();
    hash.update(prev.as_bytes());
    hash.update(b"\n");
    hash.update(columns.to_string().as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash the next entry follows: the newest entry's.
pub fn head(conn: &Connection) -> Result<String, StoreError> {
    let newest: Option<Option<String>> = conn
        .prepare_cached("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(sql_error)?;
    Ok(newest.flatten().unwrap_or_else(|| GENESIS.to_string()))
}

/// An entry as stored: its id, `prev`, `hash`, and the rest of its columns.
struct Stored {
    id: i64,
    prev: Option<String>,
    hash: Option<String>,
    columns: (
        i64,
        String,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
    ),
}

const STORED: &str = "SELECT id, prev, hash, at, actor, actor_kind, source, action, target, \
                      outcome, request_id, detail FROM audit";

impl Stored {
    fn read(r: &Row<'_>) -> rusqlite::Result<Stored> {
        Ok(Stored {
            id: r.get(0)?,
            prev: r.get(1)?,
            hash: r.get(2)?,
            columns: (
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
            ),
        })
    }

    /// Its hash, recomputed as following `prev`.
    fn digest(&self, prev: &str) -> String {
        let c = &self.columns;
        let entry = Entry {
            at: c.0,
            actor: &c.1,
            actor_kind: &c.2,
            source: &c.3,
            action: &c.4,
            target: c.5.as_deref(),
            outcome: &c.6,
            request_id: c.7.as_deref(),
            detail: &c.8,
        };
        digest(prev, &entry)
    }
}

/// Links every entry written before the chain existed, in order (the upgrade to layout 6): the one
/// update the log ever takes, its trigger lifted for that alone, in the upgrade's transaction.
/// Never run again: an entry without a link later is what `verify` must report.
pub fn link_existing(conn: &Connection) -> Result<(), StoreError> {
    let entries: Vec<Stored> = conn
        .prepare(&format!("{STORED} ORDER BY id"))
        .and_then(|mut s| s.query_map([], Stored::read)?.collect())
        .map_err(sql_error)?;
    conn.execute_batch("DROP TRIGGER audit_no_update")
        .map_err(sql_error)?;
    let mut prev = GENESIS.to_string();
    for e in entries {
        let hash = e.digest(&prev);
        conn.execute(
            "UPDATE audit SET prev = ?, hash = ? WHERE id = ?",
            (&prev, &hash, e.id),
        )
        .map_err(sql_error)?;
        prev = hash;
    }
    // As layout 1 made it.
    conn.execute_batch(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit \
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    )
    .map_err(sql_error)
}

/// Walks the chain from the oldest kept entry to the newest, checking each against the one before.
pub fn verify(conn: &Connection) -> Result<AuditChain, StoreError> {
    let mut stmt = conn
        .prepare(&format!("{STORED} ORDER BY id"))
        .map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let (mut entries, mut expected) = (0u64, None::<String>);
    while let Some(r) = rows.next().map_err(sql_error)? {
        let e = Stored::read(r).map_err(sql_error)?;
        let (Some(prev), Some(hash)) = (&e.prev, &e.hash) else {
            return Ok(broken(
                entries,
                e.id,
                "is not in the chain: written behind the console's back",
            ));
        };
        // The oldest kept entry is trusted to follow what retention removed.
        if expected.as_ref().is_some_and(|x| x != prev) {
            let reason = "does not follow the entry before it: one was removed or replaced";
            return Ok(broken(entries, e.id, reason));
        }
        if e.digest(prev) != *hash {
            return Ok(broken(entries, e.id, "was changed after it was written"));
        }
        entries += 1;
        expected = Some(hash.clone());
    }
    Ok(AuditChain {
        intact: true,
        entries,
        head: expected,
        broken_at: None,
        reason: None,
    })
}

fn broken(entries: u64, id: i64, reason: &str) -> AuditChain {
    AuditChain {
        intact: false,
        entries,
        head: None,
        broken_at: Some(id),
        reason: Some(reason.to_string()),
    }
}
