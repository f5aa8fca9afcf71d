//! API tokens, kept by the hash of the token.

use super::time;
use super::writer::Batch;
use crate::params;
use crate::store::conn::{Conn, Row};
use crate::store::{NewApiToken, StoreError};
use hermod_shared::console::TokenRecord;

const COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at";

fn record(r: &Row<'_>) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.role(2)?,
        created_by: r.get(3)?,
        created_at: time(r.get(4)?),
        expires_at: time(r.get(5)?),
        revoked_at: r.get::<Option<i64>>(6)?.map(time),
        last_used_at: r.get::<Option<i64>>(7)?.map(time),
    })
}

pub fn create(b: &mut Batch<'_>, t: NewApiToken) -> Result<TokenRecord, StoreError> {
    b.db()
        .query_row(
            &format!(
                "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at, expires_at) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
            ),
            &params![
                &t.name,
                &t.token_hash,
                t.role.as_str(),
                &t.created_by,
                b.now(),
                t.expires_at,
            ],
            record,
        )?
        .ok_or_else(|| StoreError("creating an API token returned no row".into()))
}

pub fn all(conn: Conn<'_>) -> Result<Vec<TokenRecord>, StoreError> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id DESC"),
        &[],
        record,
    )
}

pub fn by_hash(conn: Conn<'_>, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM api_tokens WHERE token_hash = ?"),
        &params![token_hash],
        record,
    )
}

pub fn touch(b: &mut Batch<'_>, id: i64) -> Result<(), StoreError> {
    b.stamp("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", id)
}

/// Revokes a token (keeping the first revocation's time); `None` when there is no such token.
pub fn revoke(b: &mut Batch<'_>, id: i64) -> Result<Option<TokenRecord>, StoreError> {
    b.db().query_row(
        &format!(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? \
             RETURNING {COLUMNS}"
        ),
        &params![b.now(), id],
        record,
    )
}
