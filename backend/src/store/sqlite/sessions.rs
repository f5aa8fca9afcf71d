//! Browser sessions, kept by the hash of their token.

use super::writer::Batch;
use super::{role, sql_error};
use crate::store::{NewSession, SessionRow, StoreError};
use rusqlite::{Connection, OptionalExtension};

pub fn create(b: &mut Batch<'_>, s: NewSession) -> Result<(), StoreError> {
    let conn = b.conn();
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, \
         expires_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .and_then(|mut st| {
        st.execute((
            &s.token_hash,
            s.user_id,
            &s.csrf_token,
            b.now(),
            b.now(),
            s.expires_at,
            &s.source,
        ))
    })
    .map_err(sql_error)?;
    // Ended sessions are of no use; keep the table small.
    conn.prepare_cached("DELETE FROM sessions WHERE expires_at < ? OR revoked_at IS NOT NULL")
        .and_then(|mut st| st.execute([b.now()]))
        .map_err(sql_error)?;
    Ok(())
}

pub fn by_hash(conn: &Connection, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    conn.prepare_cached(
        "SELECT s.user_id, u.username, u.role, s.csrf_token, s.last_seen_at, s.expires_at, \
         s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
    )
    .and_then(|mut st| {
        st.query_row([token_hash], |r| {
            Ok(SessionRow {
                user_id: r.get(0)?,
                username: r.get(1)?,
                role: role(r, 2)?,
                csrf_token: r.get(3)?,
                last_seen_at: r.get(4)?,
                expires_at: r.get(5)?,
                revoked_at: r.get(6)?,
            })
        })
        .optional()
    })
    .map_err(sql_error)
}

pub fn touch(b: &mut Batch<'_>, token_hash: &str) -> Result<(), StoreError> {
    b.stamp(
        "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?",
        token_hash,
    )
}

pub fn revoke(b: &mut Batch<'_>, token_hash: &str) -> Result<(), StoreError> {
    b.stamp(
        "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
        token_hash,
    )
}
