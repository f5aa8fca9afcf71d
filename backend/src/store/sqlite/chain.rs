//! The audit log as a hash chain (README.md, "Audit log"). Triggers already refuse to change or
//! delete an entry, but whoever can write the file can drop them. So each entry also gets a link in
//! `audit_chain`: the hash of the link before it and of the entry as stored. An entry edited,
//! removed or slipped in behind the console's back breaks the chain at that entry, and
//! `hermod-console audit verify` (and `GET /api/audit/chain`) names it. Someone able to recompute
//! every hash after the edit is caught only against a head recorded elsewhere: both give it.
//!
//! Retention removes the oldest entries with their links but keeps the newest removed link as the
//! anchor the remaining chain starts from.

use super::sql_error;
use crate::store::StoreError;
use hermod_shared::console::AuditChain;
use rusqlite::{Connection, OptionalExtension, Row};
use serde_json::json;
use sha2::{Digest, Sha256};

/// What the first entry ever links to.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const ENTRY: &str = "SELECT id, at, actor, actor_kind, source, action, target, outcome, request_id, \
                     detail FROM audit";

/// The hash of an entry linked to `prev`: its columns as `ENTRY` selects them, from column `first`
/// of `r` on, every one as stored, in a JSON array, so no two different entries hash the same text.
fn digest(prev: &str, r: &Row<'_>, first: usize) -> rusqlite::Result<String> {
    let text = |i: usize| r.get::<_, String>(first + i);
    let maybe = |i: usize| r.get::<_, Option<String>>(first + i);
    let columns = json!([
        r.get::<_, i64>(first)?,
        r.get::<_, i64>(first + 1)?,
        text(2)?,
        text(3)?,
        text(4)?,
        text(5)?,
        maybe(6)?,
        text(7)?,
        maybe(8)?,
        text(9)?,
    ]);
    let mut hash = Sha256::new();
    hash.update(prev.as_bytes());
    hash.update(b"\n");
    hash.update(columns.to_string().as_bytes());
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The newest link's hash (the anchor's, when retention removed every entry).
fn head(conn: &Connection) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT hash FROM audit_chain ORDER BY id DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(sql_error)
}

/// Links entry `id`, just written, to the chain: in the transaction that wrote it.
pub fn link(conn: &Connection, id: i64) -> Result<(), StoreError> {
    let prev = head(conn)?.unwrap_or_else(|| GENESIS.to_string());
    let hash = conn
        .prepare_cached(&format!("{ENTRY} WHERE id = ?"))
        .and_then(|mut s| s.query_row([id], |r| digest(&prev, r, 0)))
        .map_err(sql_error)?;
    conn.prepare_cached("INSERT INTO audit_chain (id, prev, hash) VALUES (?, ?, ?)")
        .and_then(|mut s| s.execute((id, &prev, &hash)))
        .map(drop)
        .map_err(sql_error)
}

/// Links every entry written before the chain existed, in order (the upgrade to layout 6). Never
/// run afterwards: entries missing from the chain later are what `verify` must report.
pub fn link_existing(conn: &Connection) -> Result<(), StoreError> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM audit ORDER BY id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(sql_error)?;
    ids.into_iter().try_for_each(|id| link(conn, id))
}

/// Drops the links of entries retention removed, but for the newest of them: the anchor.
pub fn prune(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM audit_chain WHERE id NOT IN (SELECT id FROM audit) AND id < \
         (SELECT max(id) FROM audit_chain WHERE id NOT IN (SELECT id FROM audit) \
          AND id < coalesce((SELECT min(id) FROM audit), 9223372036854775807))",
        [],
    )
    .map(drop)
    .map_err(sql_error)
}

/// Walks the chain from its anchor to its head, checking every link against its entry.
pub fn verify(conn: &Connection) -> Result<AuditChain, StoreError> {
    let unlinked: Option<i64> = conn
        .query_row(
            "SELECT min(id) FROM audit WHERE id NOT IN (SELECT id FROM audit_chain)",
            [],
            |r| r.get(0),
        )
        .map_err(sql_error)?;
    // The entry's columns come in `ENTRY`'s order, from column 3.
    let mut stmt = conn
        .prepare(
            "SELECT c.id, c.prev, c.hash, a.id, a.at, a.actor, a.actor_kind, a.source, a.action, \
             a.target, a.outcome, a.request_id, a.detail \
             FROM audit_chain c LEFT JOIN audit a ON a.id = c.id ORDER BY c.id",
        )
        .map_err(sql_error)?;
    let mut rows = stmt.query([]).map_err(sql_error)?;
    let (mut entries, mut expected, mut head) = (0u64, None::<String>, None::<String>);
    while let Some(r) = rows.next().map_err(sql_error)? {
        let id: i64 = r.get(0).map_err(sql_error)?;
        let prev: String = r.get(1).map_err(sql_error)?;
        let hash: String = r.get(2).map_err(sql_error)?;
        if let Some(missing) = unlinked.filter(|&m| m < id) {
            return Ok(broken(entries, missing, UNLINKED));
        }
        let entry: Option<i64> = r.get(3).map_err(sql_error)?;
        if entry.is_none() {
            // Links before the first entry are retention's anchor; any later one lost its entry.
            if entries > 0 {
                return Ok(broken(
                    entries,
                    id,
                    "was removed: its link is there, the entry is not",
                ));
            }
        } else if expected.as_ref().is_some_and(|e| *e != prev) {
            let reason = "does not follow the entry before it: one was removed or replaced";
            return Ok(broken(entries, id, reason));
        } else if digest(&prev, r, 3).map_err(sql_error)? != hash {
            return Ok(broken(entries, id, "was changed after it was written"));
        } else {
            entries += 1;
        }
        expected = Some(hash.clone());
        head = Some(hash);
    }
    if let Some(missing) = unlinked {
        return Ok(broken(entries, missing, UNLINKED));
    }
    Ok(AuditChain {
        intact: true,
        entries,
        head,
        broken_at: None,
        reason: None,
    })
}

const UNLINKED: &str = "is not in the chain: written behind the console's back";

fn broken(entries: u64, id: i64, reason: &str) -> AuditChain {
    AuditChain {
        intact: false,
        entries,
        head: None,
        broken_at: Some(id),
        reason: Some(reason.to_string()),
    }
}
