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

use crate::params;
use crate::store::StoreError;
use crate::store::conn::{Conn, Row};
use hermod_shared::console::AuditChain;
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
pub fn head(conn: Conn<'_>) -> Result<String, StoreError> {
    let newest: Option<Option<String>> = conn.query_row(
        "SELECT hash FROM audit ORDER BY id DESC LIMIT 1",
        &[],
        |r| r.get(0),
    )?;
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
    fn read(r: &Row<'_>) -> Result<Stored, StoreError> {
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

    /// Its hash, if it is in the chain and follows `expected` (the hash of the entry before it;
    /// `None` for the oldest kept, trusted to follow what retention removed); else its id and what
    /// is wrong with it.
    fn check(&self, expected: Option<&str>) -> Result<String, (i64, &'static str)> {
        let (Some(prev), Some(hash)) = (&self.prev, &self.hash) else {
            return Err((
                self.id,
                "is not in the chain: written behind the console's back",
            ));
        };
        if expected.is_some_and(|x| x != prev) {
            let reason = "does not follow the entry before it: one was removed or replaced";
            return Err((self.id, reason));
        }
        if self.digest(prev) != *hash {
            return Err((self.id, "was changed after it was written"));
        }
        Ok(hash.clone())
    }
}

/// Links every entry written before the chain existed, in order (the upgrade to layout 6): the one
/// update the log ever takes, its trigger lifted for that alone, in the upgrade's transaction.
/// Never run again: an entry without a link later is what `verify` must report.
pub fn link_existing(conn: Conn<'_>) -> Result<(), StoreError> {
    let entries = conn.query(&format!("{STORED} ORDER BY id"), &[], Stored::read)?;
    conn.execute("DROP TRIGGER audit_no_update", &[])?;
    let mut prev = GENESIS.to_string();
    for e in entries {
        let hash = e.digest(&prev);
        conn.execute(
            "UPDATE audit SET prev = ?, hash = ? WHERE id = ?",
            &params![&prev, &hash, e.id],
        )?;
        prev = hash;
    }
    // As layout 1 made it.
    conn.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit \
         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
        &[],
    )
    .map(drop)
}

/// Walks the chain from the oldest kept entry to the newest, checking each against the one before.
pub fn verify(conn: Conn<'_>) -> Result<AuditChain, StoreError> {
    let (mut entries, mut expected) = (0u64, None::<String>);
    let mut broken_at = None;
    // Each entry is checked as it is read, then dropped: the log may be long. Rows past a break are
    // passed over.
    conn.query(&format!("{STORED} ORDER BY id"), &[], |r| {
        if broken_at.is_none() {
            match Stored::read(r)?.check(expected.as_deref()) {
                Ok(hash) => {
                    entries += 1;
                    expected = Some(hash);
                }
                Err(at) => broken_at = Some(at),
            }
        }
        Ok(())
    })?;
    Ok(match broken_at {
        Some((id, reason)) => broken(entries, id, reason),
        None => AuditChain {
            intact: true,
            entries,
            head: expected,
            broken_at: None,
            reason: None,
        },
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
