//! Accounts. The last admin can be neither demoted nor removed.

use super::time;
use super::writer::Batch;
use crate::params;
use crate::store::conn::{Conn, Row};
use crate::store::{AccountError, StoreError, UserChange};
use hermod_shared::console::{Role, UserRecord};

const COLUMNS: &str = "id, username, role, created_at, updated_at";

fn record(r: &Row<'_>) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.get(0)?,
        username: r.get(1)?,
        role: r.role(2)?,
        created_at: time(r.get(3)?),
        updated_at: time(r.get(4)?),
    })
}

pub fn count(conn: Conn<'_>) -> Result<i64, StoreError> {
    conn.one("SELECT COUNT(*) FROM users", &[])
}

pub fn all(conn: Conn<'_>) -> Result<Vec<UserRecord>, StoreError> {
    conn.query(
        &format!("SELECT {COLUMNS} FROM users ORDER BY username"),
        &[],
        record,
    )
}

/// The user and their password hash.
pub fn by_name(conn: Conn<'_>, username: &str) -> Result<Option<(UserRecord, String)>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS}, password_hash FROM users WHERE username = ?"),
        &params![username],
        |r| Ok((record(r)?, r.get(5)?)),
    )
}

fn by_id(conn: Conn<'_>, id: i64) -> Result<Option<UserRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?"),
        &params![id],
        record,
    )
}

pub fn create(
    b: &mut Batch<'_>,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<UserRecord, AccountError> {
    b.db()
        .query_row(
            &format!(
                "INSERT INTO users (username, password_hash, role, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING {COLUMNS}"
            ),
            &params![username, password_hash, role.as_str(), b.now(), b.now()],
            record,
        )?
        .ok_or(AccountError::Exists)
}

/// Refuses to take the admin role from the last admin.
fn keep_an_admin(conn: Conn<'_>, user: &UserRecord) -> Result<(), AccountError> {
    if user.role != Role::Admin {
        return Ok(());
    }
    let admins: i64 = conn.one("SELECT COUNT(*) FROM users WHERE role = 'admin'", &[])?;
    if admins <= 1 {
        return Err(AccountError::LastAdmin);
    }
    Ok(())
}

/// Revokes the unrevoked API tokens `username` made with a role above `kept` (all of them for
/// `None`): a token must not outlast its maker's right to make it.
fn revoke_tokens_of(
    b: &mut Batch<'_>,
    username: &str,
    kept: Option<Role>,
) -> Result<u64, AccountError> {
    let rank = "CASE role WHEN 'viewer' THEN 0 WHEN 'operator' THEN 1 ELSE 2 END";
    let above = kept.map_or(-1, |r| match r {
        Role::Viewer => 0,
        Role::Operator => 1,
        Role::Admin => 2,
    });
    Ok(b.db().execute(
        &format!(
            "UPDATE api_tokens SET revoked_at = ?1 \
             WHERE created_by = ?2 AND revoked_at IS NULL AND {rank} > ?3"
        ),
        &params![b.now(), username, above],
    )?)
}

pub fn update(
    b: &mut Batch<'_>,
    id: i64,
    role: Option<Role>,
    password_hash: Option<String>,
) -> Result<UserChange, AccountError> {
    let conn = b.db();
    let user = by_id(conn, id)?.ok_or(AccountError::NotFound)?;
    if role.is_some_and(|r| r != Role::Admin) {
        keep_an_admin(conn, &user)?;
    }
    if let Some(r) = role {
        conn.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
            &params![r.as_str(), b.now(), id],
        )?;
    }
    if let Some(hash) = &password_hash {
        conn.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            &params![hash, b.now(), id],
        )?;
        // A new password ends every session the old one opened.
        conn.execute(
            "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            &params![b.now(), id],
        )?;
    }
    let tokens_revoked = match role {
        Some(r) => revoke_tokens_of(b, &user.username, Some(r))?,
        None => 0,
    };
    let user = by_id(b.db(), id)?.ok_or(AccountError::NotFound)?;
    Ok(UserChange {
        user,
        tokens_revoked,
    })
}

/// Removes a user (and so their sessions) and revokes their tokens, unless they are the last admin.
pub fn delete(b: &mut Batch<'_>, id: i64) -> Result<UserChange, AccountError> {
    let conn = b.db();
    let user = by_id(conn, id)?.ok_or(AccountError::NotFound)?;
    keep_an_admin(conn, &user)?;
    conn.execute("DELETE FROM users WHERE id = ?", &params![id])?;
    let tokens_revoked = revoke_tokens_of(b, &user.username, None)?;
    Ok(UserChange {
        user,
        tokens_revoked,
    })
}
