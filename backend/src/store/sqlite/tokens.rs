//! API tokens, kept by the hash of the token.

use super::writer::Batch;
use super::{role, sql_error, time};
use crate::store::{NewApiToken, StoreError};
use hermod_shared::console::TokenRecord;
use rusqlite::{Connection, OptionalExtension, Row};

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at";

fn record(r: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role: role(r, 2)?,
        created_by: r.get(3)?,
        created_at: time(r.get(4)?),
        expires_at: time(r.get(5)?),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(time),
        last_used_at: r.get::<_, Option<i64>>(7)?.map(time),
    })
}

pub fn create(b: &mut Batch<'_>, t: NewApiToken) -> Result<TokenRecord, StoreError> {
    b.conn()
        .prepare_cached(&format!(
            "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at, expires_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        ))
        .and_then(|mut s| {
            s.query_row(
                (
                    &t.name,
                    &t.token_hash,
                    t.role.as_str(),
                    &t.created_by,
                    b.now(),
                    t.expires_at,
                ),
                record,
            )
        })
        .map_err(sql_error)
}

pub fn all(conn: &Connection) -> Result<Vec<TokenRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_tokens ORDER BY id DESC"
    ))
    .and_then(|mut s| s.query_map([], record)?.collect())
    .map_err(sql_error)
}

pub fn by_hash(conn: &Connection, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = ?"
    ))
    .and_then(|mut s| s.query_row([token_hash], record).optional())
    .map_err(sql_error)
}

pub fn touch(b: &mut Batch<'_>, id: i64) -> Result<(), StoreError> {
    b.stamp("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", id)
}

/// Revokes a token (keeping the first revocation's time); `None` when there is no such token.
pub fn revoke(b: &mut Batch<'_>, id: i64) -> Result<Option<TokenRecord>, StoreError> {
    b.conn()
        .prepare_cached(&format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? \
             RETURNING {COLUMNS}"
        ))
        .and_then(|mut s| s.query_row((b.now(), id), record).optional())
        .map_err(sql_error)
}
