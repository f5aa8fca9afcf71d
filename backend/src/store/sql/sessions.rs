//! Browser sessions, kept by the hash of their token.

use super::writer::Batch;
use crate::params;
use crate::store::conn::Conn;
use crate::store::{NewSession, SessionRow, StoreError};

pub fn create(b: &mut Batch<'_>, s: NewSession) -> Result<(), StoreError> {
    let conn = b.db();
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, \
         expires_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
        &params![
            &s.token_hash,
            s.user_id,
            &s.csrf_token,
            b.now(),
            b.now(),
            s.expires_at,
            &s.source,
        ],
    )?;
    // Ended sessions are of no use; keep the table small.
    conn.execute(
        "DELETE FROM sessions WHERE expires_at < ? OR revoked_at IS NOT NULL",
        &params![b.now()],
    )?;
    Ok(())
}

pub fn by_hash(conn: Conn<'_>, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    conn.query_row(
        "SELECT s.user_id, u.username, u.role, s.csrf_token, s.last_seen_at, s.expires_at, \
         s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        &params![token_hash],
        |r| {
            Ok(SessionRow {
                user_id: r.get(0)?,
                username: r.get(1)?,
                role: r.role(2)?,
                csrf_token: r.get(3)?,
                last_seen_at: r.get(4)?,
                expires_at: r.get(5)?,
                revoked_at: r.get(6)?,
            })
        },
    )
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
