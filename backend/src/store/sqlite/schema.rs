//! Opening the database file and bringing its layout up to date. The layout's version is SQLite's
//! `user_version`; each step runs once, forward only, in one transaction.

use crate::store::StoreError;
use crate::store::conn::sqlite_error as sql_error;
use crate::store::sql::chain;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// `(version it brings the database to, SQL)`, in order.
const STEPS: &[(i64, &str)] = &[
    (1, include_str!("schema/1_tables.sql")),
    (2, include_str!("schema/2_callback_path.sql")),
    (3, include_str!("schema/3_expiry_index.sql")),
    (4, include_str!("schema/4_retention.sql")),
    (5, include_str!("schema/5_decoded_items.sql")),
    (6, include_str!("schema/6_audit_chain.sql")),
    (7, include_str!("schema/7_overdue.sql")),
    (8, include_str!("schema/8_checks_and_reasons.sql")),
    (9, include_str!("schema/9_devices.sql")),
    (10, include_str!("schema/10_certificate_roles.sql")),
];

/// What a step does beyond its SQL, in the same transaction: layout 6 links the audit entries
/// already there (SQLite has no SHA-256 of its own).
fn after(step: i64, tx: &Connection) -> Result<(), StoreError> {
    match step {
        6 => chain::link_existing(tx.into()),
        _ => Ok(()),
    }
}

/// A write that finds the file locked by another program waits this long, then fails (503).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection with the settings every connection of ours has.
pub fn connect(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(sql_error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    // 8 KiB pages (for a new file: an existing one keeps its own): a callback of 2 to 4 KiB, as most
    // that carry PKI material are, would sit alone on a 4 KiB page, half of it empty. A checkpoint
    // every 300 pages (2.4 MiB of log): it holds the writer for a few milliseconds at most (the tail
    // of ingest latency), and a log reused from its start syncs faster than one that grows. FULL: a
    // callback is acknowledged only once it would survive a power cut.
    conn.execute_batch(
        "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 300;",
    )
    .map_err(sql_error)?;
    Ok(conn)
}

/// Brings the database to the newest layout. A database this binary is too old for is refused.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    if first_layout(conn)? {
        run(conn, 1, include_str!("schema/0_first_layout.sql"))?;
        tracing::info!("upgraded the database from the first layout; bodies are being re-indexed");
    }
    let version = known_layout(conn)?;
    for &(to, sql) in STEPS.iter().filter(|s| s.0 > version) {
        run(conn, to, sql)?;
    }
    Ok(())
}

/// The database's layout; an error for one newer than this binary knows.
fn known_layout(conn: &Connection) -> Result<i64, StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(sql_error)?;
    let newest = STEPS.last().map_or(0, |s| s.0);
    if version > newest {
        return Err(StoreError(format!(
            "the database is of layout {version}, newer than this binary knows ({newest}); \
             run the newer binary"
        )));
    }
    Ok(version)
}

/// Refuses a file that is not a console database this binary can open (not SQLite, another
/// program's, or of a newer layout).
pub fn check_known(conn: &Connection) -> Result<(), StoreError> {
    let ours = known_layout(conn)? > 0 || first_layout(conn)?;
    if !ours {
        return Err(StoreError("not a Hermod Console database".into()));
    }
    Ok(())
}

/// The layout before `user_version` was used: sqlx kept its own migrations table.
fn first_layout(conn: &Connection) -> Result<bool, StoreError> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )
    .map_err(sql_error)
}

fn run(conn: &mut Connection, to: i64, sql: &str) -> Result<(), StoreError> {
    // Tables are rebuilt by some steps; their references are checked once, at the end.
    conn.execute_batch("PRAGMA foreign_keys = OFF")
        .map_err(sql_error)?;
    let tx = conn.transaction().map_err(sql_error)?;
    tx.execute_batch(sql)
        .and_then(|()| tx.pragma_update(None, "user_version", to))
        .map_err(|e| StoreError(format!("upgrading the database to layout {to}: {e}")))?;
    after(to, &tx)?;
    let broken: i64 = tx
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(sql_error)?;
    if broken > 0 {
        return Err(StoreError(format!(
            "upgrading the database to layout {to} left {broken} broken references; nothing was changed"
        )));
    }
    tx.commit().map_err(sql_error)?;
    conn.execute_batch("PRAGMA foreign_keys = ON")
        .map_err(sql_error)
}
