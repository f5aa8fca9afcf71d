//! `GET /api/callbacks`: every callback received, those matching no command included.

use super::commands::decoding;
use super::{Export, ListQuery, export, int, record_id};
use crate::decode;
use crate::error::{ApiError, ApiQuery};
use crate::state::Clients;
use crate::store::{CallbackFilter, Exported, Store};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{CallbackRecord, ListPage};
use hermod_shared::decoded::DecodedItem;
use std::sync::Arc;

fn filter(q: &ListQuery) -> Result<CallbackFilter, ApiError> {
    let c = q.common()?;
    Ok(CallbackFilter {
        callback_type: c.kind,
        state: c.state,
        client: c.client,
        unmatched: q.unmatched()?,
        command: int("command", &q.command)?,
        device: q.device()?,
        query: c.query,
    })
}

/// A page of callbacks, each body cut to its first 16 KiB (`body_truncated` says when): a page of
/// 500 callbacks of 5 MiB each would otherwise be 2.5 GB.
pub async fn list(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListPage<CallbackRecord>>, ApiError> {
    Ok(Json(store.list_callbacks(filter(&q)?).await?))
}

/// One callback, its body whole.
pub async fn one(
    State(store): State<Arc<dyn Store>>,
    Path(id): Path<String>,
) -> Result<Json<CallbackRecord>, ApiError> {
    store
        .callback(record_id(&id, "callback")?)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("callback"))
}

/// `GET /api/callbacks/{id}/decoded`: what its body holds, decoded as a command's timeline decodes
/// it (chained to its client's `trust_bundle`), for a callback that may match no command.
pub async fn decoded(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    Path(id): Path<String>,
) -> Result<Json<Vec<DecodedItem>>, ApiError> {
    let callback = store
        .callback(record_id(&id, "callback")?)
        .await?
        .ok_or_else(|| ApiError::not_found("callback"))?;
    let trust = callback.client.as_deref().and_then(|c| clients.trust(c));
    decoding(move || decode::decode_text(&callback.body, trust.as_deref()))
        .await
        .map(Json)
}

const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "received_at",
    "client",
    "type",
    "command_id",
    "command",
    "state",
    "external_id",
    "auth",
    "body",
    "decoded",
];

fn export_row(e: &Exported<CallbackRecord>) -> Vec<String> {
    let c = &e.record;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        c.id.to_string(),
        c.received_at.clone(),
        opt(&c.client),
        c.callback_type.clone(),
        opt(&c.command_id),
        c.command.map(|id| id.to_string()).unwrap_or_default(),
        opt(&c.state),
        opt(&c.external_id),
        c.auth.clone(),
        c.body.clone(),
        e.decoded.clone(),
    ]
}

/// `GET /api/callbacks/export?format=csv|json` with the list's filters, streamed.
pub async fn export(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Export<Exported<CallbackRecord>>, ApiError> {
    export::stream_pages(
        &q.format,
        "callbacks",
        EXPORT_COLUMNS,
        export_row,
        filter(&q)?,
        move |f| {
            let store = store.clone();
            async move { store.export_callbacks(f).await }
        },
    )
}
