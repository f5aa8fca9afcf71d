//! `/api/users`: accounts (admin). Passwords are hashed before they reach the store and never leave it.

use super::{Created, NoContent, invalid};
use crate::audit::{AuditLog, Event};
use crate::auth::{Auth, Caller, RequestMeta, password};
use crate::error::{ApiError, ApiJson, Code};
use crate::store::{AccountError, Store};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{NewUser, UserRecord, UserUpdate};
use serde_json::json;
use std::sync::Arc;

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match e {
            AccountError::Store(e) => ApiError::store(e),
            AccountError::Exists => invalid("/username", "that username is taken"),
            AccountError::NotFound => ApiError::not_found("user"),
            AccountError::LastAdmin => ApiError::new(
                Code::LastAdmin,
                "this would leave the console without an admin; make someone else admin first",
            ),
        }
    }
}

/// A username is what people type.
pub const USERNAME_RULE: &str = "1 to 64 letters, digits, '.', '-', '_' or '@'";

pub fn check_username(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(invalid("/username", USERNAME_RULE))
    }
}

async fn hashed(auth: &Auth, password_text: String) -> Result<String, ApiError> {
    if let Some(why) = password::weakness(&password_text) {
        return Err(invalid("/password", why));
    }
    password::hash(password_text, auth.cost)
        .await
        .map_err(ApiError::internal)
}

pub async fn list(State(store): State<Arc<dyn Store>>) -> Result<Json<Vec<UserRecord>>, ApiError> {
    Ok(Json(store.users().await?))
}

pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    State(auth): State<Arc<Auth>>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<Created<UserRecord>, ApiError> {
    check_username(&new.username)?;
    let hash = hashed(&auth, new.password).await?;
    let user = store.create_user(new.username, hash, new.role).await?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("user_created", user.username.clone()).detail(json!({"role": user.role})),
        )
        .await;
    Ok(Created(user))
}

pub async fn update(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    State(auth): State<Arc<Auth>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(change): ApiJson<UserUpdate>,
) -> Result<Json<UserRecord>, ApiError> {
    let hash = match change.password {
        Some(p) => Some(hashed(&auth, p).await?),
        None => None,
    };
    let password_changed = hash.is_some();
    let changed = store.update_user(id, change.role, hash).await?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("user_updated", changed.user.username.clone()).detail(json!({
                "role": change.role,
                "password_changed": password_changed,
                "tokens_revoked": changed.tokens_revoked,
            })),
        )
        .await;
    Ok(Json(changed.user))
}

pub async fn remove(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<NoContent, ApiError> {
    let removed = store.delete_user(id).await?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("user_removed", removed.user.username)
                .detail(json!({"tokens_revoked": removed.tokens_revoked})),
        )
        .await;
    Ok(NoContent)
}
