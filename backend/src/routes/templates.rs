//! `/api/templates`: named command templates, shared by everyone; changes are audited.

use super::{Created, NoContent, invalid};
use crate::audit::Event;
use crate::auth::{Caller, RequestMeta};
use crate::error::{ApiError, ApiJson};
use crate::state::AppState;
use crate::store::{Store, TemplateError};
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{TemplateInput, TemplateRecord};
use hermod_shared::hermod::{CommandBody, CommandType};
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

/// A template must be one that could be sent: a known type, a known client, a body of that type.
fn check(app: &AppState, t: &mut TemplateInput) -> Result<(), ApiError> {
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
        && app.client(client).is_none()
    {
        return Err(invalid("/client", format!("no API client `{client}`")));
    }
    CommandBody::parse(ty, &t.body).map_err(|e| ApiError::invalid(&e.under("/body")))?;
    Ok(())
}

pub async fn list(
    State(store): State<Arc<dyn Store>>,
) -> Result<Json<Vec<TemplateRecord>>, ApiError> {
    Ok(Json(store.templates().await?))
}

async fn save(
    app: AppState,
    meta: RequestMeta,
    caller: Caller,
    id: Option<i64>,
    mut input: TemplateInput,
) -> Result<TemplateRecord, ApiError> {
    check(&app, &mut input)?;
    let record = app
        .store
        .save_template(id, input, caller.name.clone())
        .await?;
    let action = if id.is_some() {
        "template_updated"
    } else {
        "template_created"
    };
    app.audit
        .record(
            &meta,
            Some(&caller),
            Event::ok(action, record.name.clone()).detail(
                json!({"id": record.id, "type": record.command_type, "client": record.client}),
            ),
        )
        .await;
    Ok(record)
}

pub async fn create(
    State(app): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Created<TemplateRecord>, ApiError> {
    let record = save(app, meta, caller, None, input).await?;
    Ok(Created(record))
}

pub async fn update(
    State(app): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<TemplateRecord>, ApiError> {
    Ok(Json(save(app, meta, caller, Some(id), input).await?))
}

pub async fn remove(
    State(app): State<AppState>,
    meta: RequestMeta,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<NoContent, ApiError> {
    let record = app
        .store
        .delete_template(id)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    app.audit
        .record(
            &meta,
            Some(&caller),
            Event::ok("template_removed", record.name).detail(json!({"id": record.id})),
        )
        .await;
    Ok(NoContent)
}
