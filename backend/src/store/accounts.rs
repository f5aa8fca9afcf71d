//! Users, sessions, API tokens and the audit log. Reads use the pool; writes go through the writer.

use super::{Store, StoreError};
use crate::clock::{now_ms, rfc3339};
use hermod_shared::console::{AuditRecord, Role, TokenRecord, UserRecord};
use serde_json::Value;
use sqlx::{FromRow, QueryBuilder, Sqlite};

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError(format!("unknown role `{s}` in the store")))
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    role: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            id: r.id,
            username: r.username,
            role: role(&r.role)?,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        })
    }
}

/// A live session with its user, as the authentication middleware needs it.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub username: String,
    pub role: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    role: String,
    created_by: String,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            id: r.id,
            name: r.name,
            role: role(&r.role)?,
            created_by: r.created_by,
            created_at: rfc3339(r.created_at),
            expires_at: rfc3339(r.expires_at),
            revoked_at: r.revoked_at.map(rfc3339),
            last_used_at: r.last_used_at.map(rfc3339),
        })
    }
}

const TOKEN_COLUMNS: &str =
    "id, name, role, created_by, created_at, expires_at, revoked_at, last_used_at";

/// What an audit line records; the id and time are the store's.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: String,
    pub actor_kind: &'static str,
    pub source: String,
    pub action: &'static str,
    pub target: Option<String>,
    pub outcome: &'static str,
    pub request_id: Option<String>,
    pub detail: Value,
}

#[derive(FromRow)]
struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    actor_kind: String,
    source: String,
    action: String,
    target: Option<String>,
    outcome: String,
    request_id: Option<String>,
    detail: String,
}

impl TryFrom<AuditRow> for AuditRecord {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditRecord {
            id: r.id,
            at: rfc3339(r.at),
            actor: r.actor,
            actor_kind: r.actor_kind,
            source: r.source,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            request_id: r.request_id,
            detail: serde_json::from_str(&r.detail)?,
        })
    }
}

/// Filters of `GET /api/audit`.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub q: Option<String>,
    pub limit: i64,
    pub before_id: Option<i64>,
}

/// Why a user change was refused.
#[derive(Debug)]
pub enum AccountError {
    Store(StoreError),
    /// The username is taken.
    Exists,
    NotFound,
    /// It would leave no admin.
    LastAdmin,
}

impl std::fmt::Display for AccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AccountError::Store(e) => write!(f, "{e}"),
            AccountError::Exists => f.write_str("that username is taken"),
            AccountError::NotFound => f.write_str("no such user"),
            AccountError::LastAdmin => f.write_str(
                "this would leave the console without an admin; make someone else admin first",
            ),
        }
    }
}

impl std::error::Error for AccountError {}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        AccountError::Store(e)
    }
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(e.into())
    }
}

impl super::reads::PagedFilter for AuditFilter {
    fn export_page(&self, before_id: Option<i64>) -> Self {
        AuditFilter {
            limit: super::reads::MAX_LIMIT,
            before_id,
            ..self.clone()
        }
    }
}

impl Store {
    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT id, username, role, created_at, updated_at FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(UserRecord::try_from).collect()
    }

    /// The user and their password hash.
    pub async fn user_by_name(
        &self,
        username: &str,
    ) -> Result<Option<(UserRecord, String)>, StoreError> {
        let row: Option<(i64, String, String, i64, i64, String)> = sqlx::query_as(
            "SELECT id, username, role, created_at, updated_at, password_hash FROM users \
             WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, username, role, created_at, updated_at, hash)| {
            UserRow {
                id,
                username,
                role,
                created_at,
                updated_at,
            }
            .try_into()
            .map(|u| (u, hash))
        })
        .transpose()
    }

    pub async fn create_user(
        &self,
        username: String,
        password_hash: String,
        role: Role,
    ) -> Result<UserRecord, AccountError> {
        self.run(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                let row: Option<UserRow> = sqlx::query_as(
                    "INSERT INTO users (username, password_hash, role, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING \
                     RETURNING id, username, role, created_at, updated_at",
                )
                .bind(&username)
                .bind(&password_hash)
                .bind(role.as_str())
                .bind(now)
                .bind(now)
                .fetch_optional(&mut *conn)
                .await?;
                row.map(UserRecord::try_from).transpose()
            })
        })
        .await?
        .ok_or(AccountError::Exists)
    }

    /// Changes a user's role and/or password. Changing the password ends their sessions.
    pub async fn update_user(
        &self,
        id: i64,
        role: Option<Role>,
        password_hash: Option<String>,
    ) -> Result<UserRecord, AccountError> {
        self.run(move |conn| {
            Box::pin(async move {
                let current: Option<String> =
                    sqlx::query_scalar("SELECT role FROM users WHERE id = ?")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let Some(current) = current else {
                    return Ok(Err(AccountError::NotFound));
                };
                if current == "admin" && role.is_some_and(|r| r != Role::Admin) {
                    let admins: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                            .fetch_one(&mut *conn)
                            .await?;
                    if admins <= 1 {
                        return Ok(Err(AccountError::LastAdmin));
                    }
                }
                let now = now_ms();
                if let Some(r) = role {
                    sqlx::query("UPDATE users SET role = ?, updated_at = ? WHERE id = ?")
                        .bind(r.as_str())
                        .bind(now)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                if let Some(hash) = &password_hash {
                    sqlx::query("UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?")
                        .bind(hash)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                    revoke_sessions_of(conn, id).await?;
                }
                let row: UserRow = sqlx::query_as(
                    "SELECT id, username, role, created_at, updated_at FROM users WHERE id = ?",
                )
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
                Ok(Ok(UserRecord::try_from(row)?))
            })
        })
        .await?
        .inspect(|_| self.access_changed())
    }

    /// Removes a user (and so their sessions), unless they are the last admin.
    pub async fn delete_user(&self, id: i64) -> Result<UserRecord, AccountError> {
        self.run(move |conn| {
            Box::pin(async move {
                let row: Option<UserRow> = sqlx::query_as(
                    "SELECT id, username, role, created_at, updated_at FROM users WHERE id = ?",
                )
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else {
                    return Ok(Err(AccountError::NotFound));
                };
                if row.role == "admin" {
                    let admins: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                            .fetch_one(&mut *conn)
                            .await?;
                    if admins <= 1 {
                        return Ok(Err(AccountError::LastAdmin));
                    }
                }
                sqlx::query("DELETE FROM users WHERE id = ?")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                Ok(Ok(UserRecord::try_from(row)?))
            })
        })
        .await?
        .inspect(|_| self.access_changed())
    }

    pub async fn create_session(
        &self,
        token_hash: String,
        user_id: i64,
        csrf_token: String,
        expires_at: i64,
        source: String,
    ) -> Result<(), StoreError> {
        self.run(move |conn| {
            Box::pin(async move {
                let now = now_ms();
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, \
                     last_seen_at, expires_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&token_hash)
                .bind(user_id)
                .bind(&csrf_token)
                .bind(now)
                .bind(now)
                .bind(expires_at)
                .bind(&source)
                .execute(&mut *conn)
                .await?;
                // Ended sessions are of no use; keep the table small.
                sqlx::query("DELETE FROM sessions WHERE expires_at < ? OR revoked_at IS NOT NULL")
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT s.user_id, u.username, u.role, s.csrf_token, s.last_seen_at, s.expires_at, \
             s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Sets a time column of one row to now: `sql` takes the time, then the row's key.
    async fn stamp<K>(&self, sql: &'static str, key: K) -> Result<(), StoreError>
    where
        K: for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite> + Send + Sync + 'static,
    {
        self.run(move |conn| {
            Box::pin(async move {
                sqlx::query(sql)
                    .bind(now_ms())
                    .bind(&key)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn touch_session(&self, token_hash: String) -> Result<(), StoreError> {
        self.stamp(
            "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?",
            token_hash,
        )
        .await
    }

    pub async fn revoke_session(&self, token_hash: String) -> Result<(), StoreError> {
        self.stamp(
            "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
            token_hash,
        )
        .await
        .inspect(|_| self.access_changed())
    }

    pub async fn create_token(
        &self,
        name: String,
        token_hash: String,
        role: Role,
        created_by: String,
        expires_at: i64,
    ) -> Result<TokenRecord, StoreError> {
        self.run(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "INSERT INTO api_tokens (name, token_hash, role, created_by, created_at, \
                     expires_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING {TOKEN_COLUMNS}"
                );
                let row: TokenRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(&name)
                    .bind(&token_hash)
                    .bind(role.as_str())
                    .bind(&created_by)
                    .bind(now_ms())
                    .bind(expires_at)
                    .fetch_one(&mut *conn)
                    .await?;
                TokenRecord::try_from(row)
            })
        })
        .await
    }

    pub async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY id DESC");
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(TokenRecord::try_from).collect()
    }

    /// The token behind a hash, with its role; the caller checks expiry and revocation.
    pub async fn token(&self, token_hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?");
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.map(TokenRecord::try_from).transpose()
    }

    pub async fn touch_token(&self, id: i64) -> Result<(), StoreError> {
        self.stamp("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", id)
            .await
    }

    /// Revokes a token; `None` when there is no such token.
    pub async fn revoke_token(&self, id: i64) -> Result<Option<TokenRecord>, StoreError> {
        self.run(move |conn| {
            Box::pin(async move {
                let sql = format!(
                    "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? \
                     RETURNING {TOKEN_COLUMNS}"
                );
                let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(now_ms())
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                row.map(TokenRecord::try_from).transpose()
            })
        })
        .await
        .inspect(|_| self.access_changed())
    }

    pub async fn audit(&self, entry: AuditEntry) -> Result<(), StoreError> {
        self.run(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO audit (at, actor, actor_kind, source, action, target, outcome, \
                     request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(now_ms())
                .bind(&entry.actor)
                .bind(entry.actor_kind)
                .bind(&entry.source)
                .bind(entry.action)
                .bind(&entry.target)
                .bind(entry.outcome)
                .bind(&entry.request_id)
                .bind(entry.detail.to_string())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn list_audit(
        &self,
        f: &AuditFilter,
    ) -> Result<(Vec<AuditRecord>, Option<String>), StoreError> {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT id, at, actor, actor_kind, source, action, target, outcome, request_id, detail \
             FROM audit WHERE 1 = 1",
        );
        if let Some(a) = &f.actor {
            qb.push(" AND actor = ").push_bind(a.clone());
        }
        if let Some(a) = &f.action {
            qb.push(" AND action = ").push_bind(a.clone());
        }
        super::reads::push_range(&mut qb, "at", f.since, f.until, f.before_id);
        if let Some(p) = super::reads::search_pattern(&f.q) {
            qb.push(" AND ");
            super::reads::push_contains(
                &mut qb,
                &["actor", "action", "target", "source", "detail"],
                &p,
            );
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(f.limit + 1);
        let rows: Vec<AuditRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let items = super::rows::records(rows)?;
        Ok(super::reads::page(items, f.limit, |a: &AuditRecord| a.id))
    }
}

async fn revoke_sessions_of(
    conn: &mut sqlx::SqliteConnection,
    user_id: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
