//! `/api/audit`: the audit log (admin), filtered, paged, and exported as CSV or JSON.

use super::{Export, ListQuery, export};
use crate::error::{ApiError, ApiQuery};
use crate::store::{AuditFilter, Store};
use axum::Json;
use axum::extract::State;
use hermod_shared::console::{AuditChain, AuditRecord, ListPage};
use std::sync::Arc;

fn filter(q: &ListQuery) -> Result<AuditFilter, ApiError> {
    let c = q.common()?;
    Ok(AuditFilter {
        actor: q.actor()?,
        action: c.kind,
        query: c.query,
    })
}

/// `GET /api/audit/chain`: the hash chain checked (store/sql/chain.rs).
pub async fn chain(State(store): State<Arc<dyn Store>>) -> Result<Json<AuditChain>, ApiError> {
    Ok(Json(store.audit_chain().await?))
}

pub async fn list(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListPage<AuditRecord>>, ApiError> {
    Ok(Json(store.list_audit(filter(&q)?).await?))
}

const COLUMNS: &[&str] = &[
    "id",
    "at",
    "actor",
    "actor_kind",
    "source",
    "action",
    "target",
    "outcome",
    "request_id",
    "detail",
];

fn row(a: &AuditRecord) -> Vec<String> {
    vec![
        a.id.to_string(),
        a.at.clone(),
        a.actor.clone(),
        a.actor_kind.clone(),
        a.source.clone(),
        a.action.clone(),
        a.target.clone().unwrap_or_default(),
        a.outcome.clone(),
        a.request_id.clone().unwrap_or_default(),
        a.detail.to_string(),
    ]
}

pub async fn export(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Export<AuditRecord>, ApiError> {
    export::stream_pages(&q.format, "audit", COLUMNS, row, filter(&q)?, move |f| {
        let store = store.clone();
        async move { store.list_audit(f).await }
    })
}
