//! `/api/templates`: named command templates, shared by everyone; changes are audited.

use super::{Created, NoContent, invalid};
use crate::audit::{AuditLog, Event};
use crate::auth::{Caller, RequestMeta};
use crate::error::{ApiError, ApiJson};
use crate::hermod::Sending;
use crate::state::Clients;
use crate::store::{Store, TemplateError};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{TemplateInput, TemplateRecord};
use hermod_shared::hermod::CommandType;
use serde_json::json;
use std::sync::Arc;

impl From<TemplateError> for ApiError {
    fn from(e: TemplateError) -> ApiError {
        match e {
            TemplateError::Store(e) => ApiError::store(e),
            TemplateError::NameTaken => invalid("/name", "a template with that name exists"),
            TemplateError::NotFound => ApiError::not_found("template"),
        }
    }
}

/// A template must be one that could be sent: a known type, a known client, a body the console
/// would send (hermod.rs, `Sending`).
fn check(clients: &Clients, t: &mut TemplateInput) -> Result<(), ApiError> {
    t.name = t.name.trim().to_string();
    if t.name.is_empty() || t.name.chars().count() > 80 {
        return Err(invalid("/name", "a name of 1 to 80 characters"));
    }
    let ty = CommandType::parse(&t.command_type).ok_or_else(|| {
        invalid(
            "/type",
            format!("unknown command type `{}`", t.command_type),
        )
    })?;
    t.command_type = ty.as_str().to_string();
    if let Some(client) = &t.client
        && clients.client(client).is_none()
    {
        return Err(invalid("/client", format!("no API client `{client}`")));
    }
    Sending::read(&t.body).map_err(|e| ApiError::invalid(&e.under("/body")))?;
    Ok(())
}

pub async fn list(
    State(store): State<Arc<dyn Store>>,
) -> Result<Json<Vec<TemplateRecord>>, ApiError> {
    Ok(Json(store.templates().await?))
}

/// Creates a template (`id` None) or updates one.
async fn save(
    store: &dyn Store,
    clients: &Clients,
    audit: &AuditLog,
    meta: &RequestMeta,
    caller: &Caller,
    id: Option<i64>,
    mut input: TemplateInput,
) -> Result<TemplateRecord, ApiError> {
    check(clients, &mut input)?;
    let record = store.save_template(id, input, caller.name.clone()).await?;
    let action = if id.is_some() {
        "template_updated"
    } else {
        "template_created"
    };
    audit
        .record(
            meta,
            Some(caller),
            Event::ok(action, record.name.clone()).detail(
                json!({"id": record.id, "type": record.command_type, "client": record.client}),
            ),
        )
        .await;
    Ok(record)
}

pub async fn create(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Created<TemplateRecord>, ApiError> {
    let record = save(&*store, &clients, &audit, &meta, &caller, None, input).await?;
    Ok(Created(record))
}

pub async fn update(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<TemplateRecord>, ApiError> {
    let record = save(&*store, &clients, &audit, &meta, &caller, Some(id), input).await?;
    Ok(Json(record))
}

pub async fn remove(
    State(store): State<Arc<dyn Store>>,
    State(audit): State<Arc<AuditLog>>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<NoContent, ApiError> {
    let record = store
        .delete_template(id)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("template_removed", record.name).detail(json!({"id": record.id})),
        )
        .await;
    Ok(NoContent)
}
