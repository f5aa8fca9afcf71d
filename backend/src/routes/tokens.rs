//! `/api/tokens`: API tokens for automation (admin). A token is shown once, when it is made; the store
//! keeps only its hash.

use super::{Created, invalid};
use crate::audit::{AuditLog, Event};
use crate::auth::{Caller, RequestMeta, TOKEN_PREFIX, random_token, token_hash};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiJson};
use crate::store::{NewApiToken, Store};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{MintedToken, NewToken, TokenRecord};
use serde_json::json;
use std::sync::Arc;

/// Tokens live at most this long.
const MAX_DAYS: u32 = 366;

pub async fn list(State(store): State<Arc<dyn Store>>) -> Result<Json<Vec<TokenRecord>>, ApiError> {
    Ok(Json(store.tokens().await?))
}

/// A new token for `new`, made by `maker`: the token itself (shown once) and what the store keeps.
pub fn mint(new: &NewToken, maker: &str) -> Result<(String, NewApiToken), ApiError> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.len() > 64 {
        return Err(invalid("/name", "a name of 1 to 64 characters"));
    }
    if !(1..=MAX_DAYS).contains(&new.expires_in_days) {
        return Err(invalid(
            "/expires_in_days",
            format!("between 1 and {MAX_DAYS} days"),
        ));
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let minted = NewApiToken {
        name,
        token_hash: token_hash(&token),
        role: new.role,
        created_by: maker.to_string(),
        expires_at: now_ms() + i64::from(new.expires_in_days) * 86_400_000,
    };
    Ok((token, minted))
}

pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Created<MintedToken>, ApiError> {
    let (token, minted) = mint(&new, &caller.name)?;
    let record = store.create_token(minted).await?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("token_created", record.name.clone()).detail(
                json!({"id": record.id, "role": record.role, "expires_at": record.expires_at}),
            ),
        )
        .await;
    Ok(Created(MintedToken { token, record }))
}

pub async fn revoke(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TokenRecord>, ApiError> {
    let record = store
        .revoke_token(id)
        .await?
        .ok_or_else(|| ApiError::not_found("token"))?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("token_revoked", record.name.clone()).detail(json!({"id": record.id})),
        )
        .await;
    Ok(Json(record))
}
