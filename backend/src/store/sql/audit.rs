//! The audit log: appended to, never changed (triggers refuse updates and deletes).

use super::chain::{self, Entry};
use super::matched;
use super::select::Sql;
use super::time;
use super::writer::Batch;
use crate::params;
use crate::store::conn::{Conn, Row};
use crate::store::{AuditEntry, AuditFilter, StoreError};
use hermod_shared::console::{AuditRecord, ListPage};

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
    let prev = chain::head(b.db())?;
    let hash = chain::digest(&prev, &entry);
    b.db()
        .execute(
            "INSERT INTO audit (at, actor, actor_kind, source, action, target, outcome, \
             request_id, detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &params![
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
            ],
        )
        .map(drop)
}

fn record(r: &Row<'_>) -> Result<AuditRecord, StoreError> {
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
        detail: r.json(9)?,
        matched: Vec::new(),
    })
}

const COLUMNS: &str = "id, at, actor, actor_kind, source, action, target, outcome, request_id, \
                       detail";

/// The entries about command `id`: its send, its polls, its link; oldest first.
pub fn about_command(conn: Conn<'_>, id: i64) -> Result<Vec<AuditRecord>, StoreError> {
    conn.query(
        &format!(
            "SELECT {COLUMNS} FROM audit \
             WHERE target = ? AND action IN ('command_sent', 'poll', 'command_linked') ORDER BY id"
        ),
        &params![id.to_string()],
        record,
    )
}

/// `SELECT <select> FROM audit WHERE <filters>`: the whole list, before its page is taken.
fn query(f: &AuditFilter, select: &str) -> Sql {
    let mut sql = Sql::new(format!("SELECT {select} FROM audit WHERE 1 = 1"));
    sql.and_eq("actor", &f.actor).and_eq("action", &f.action);
    if let Some(q) = f.query.search() {
        // The log is small next to the bodies, and searched rarely: a scan.
        sql.push(" AND ")
            .any_holds(&q, &["actor", "action", "target", "source", "detail"]);
    }
    sql.and_window("at", &f.query);
    sql
}

pub fn list(conn: Conn<'_>, f: &AuditFilter) -> Result<ListPage<AuditRecord>, StoreError> {
    let mut page = query(f, COLUMNS).newest_first("id", &f.query).page(
        conn,
        f.query.page,
        Some(&query(f, "1")),
        record,
        |a| a.id,
    )?;
    if let Some(q) = f.query.search() {
        matched::audit(&q, &mut page.items);
    }
    Ok(page)
}
