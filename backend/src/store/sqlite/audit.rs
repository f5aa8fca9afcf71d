//! The audit log: appended to, never changed (triggers refuse updates and deletes).

use super::chain::{self, Entry};
use super::sql::Sql;
use super::writer::Batch;
use super::{json, sql_error, time};
use crate::store::{AuditEntry, AuditFilter, StoreError};
use hermod_shared::console::{AuditRecord, ListPage};
use rusqlite::{Connection, Row};

/// Writes entry `e`, following the newest entry in the chain (chain.rs).
pub fn append(b: &mut Batch<'_>, e: &AuditEntry) -> Result<(), StoreError> {
    let detail = e.detail.to_string();
    let entry = Entry {
        at: b.now(),
        actor: &e.actor,
        actor_kind: e.actor_kind,
        source: &e.source,
        action: e.action,
        target: e.target.as_deref(),
        outcome: e.outcome,
        request_id: e.request_id.as_deref(),
        detail: &detail,
    };
    let prev = chain::head(b.conn())?;
    let hash = chain::digest(&prev, &entry);
    b.conn()
        .prepare_cached(
            "INSERT INTO audit (at, actor, actor_kind, source, action, target, outcome, \
             request_id, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .and_then(|mut s| {
            s.execute(rusqlite::params![
                entry.at,
                entry.actor,
                entry.actor_kind,
                entry.source,
                entry.action,
                entry.target,
                entry.outcome,
                entry.request_id,
                entry.detail,
                prev,
                hash,
            ])
        })
        .map(drop)
        .map_err(sql_error)
}

fn record(r: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        id: r.get(0)?,
        at: time(r.get(1)?),
        actor: r.get(2)?,
        actor_kind: r.get(3)?,
        source: r.get(4)?,
        action: r.get(5)?,
        target: r.get(6)?,
        outcome: r.get(7)?,
        request_id: r.get(8)?,
        detail: json(r, 9)?,
    })
}

const SELECT: &str = "SELECT id, at, actor, actor_kind, source, action, target, outcome, \
                      request_id, detail FROM audit";

/// The entries about command `id`: its send, its polls, its link; oldest first.
pub fn about_command(conn: &Connection, id: i64) -> Result<Vec<AuditRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "{SELECT} WHERE target = ? AND action IN ('command_sent', 'poll', 'command_linked') \
         ORDER BY id"
    ))
    .and_then(|mut s| s.query_map([id.to_string()], record)?.collect())
    .map_err(sql_error)
}

pub fn list(conn: &Connection, f: &AuditFilter) -> Result<ListPage<AuditRecord>, StoreError> {
    let mut sql = Sql::new(format!("{SELECT} WHERE 1 = 1"));
    sql.and_eq("actor", &f.actor).and_eq("action", &f.action);
    if let Some(q) = f.query.search() {
        // The log is small next to the bodies, and searched rarely: a scan.
        sql.push(" AND ")
            .any_holds(&q, &["actor", "action", "target", "source", "detail"]);
    }
    sql.and_window("at", "id", &f.query)
        .newest_first("id", &f.query);
    sql.page(conn, f.query.page, record, |a| a.id)
}
