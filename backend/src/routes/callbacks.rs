//! `GET /api/callbacks`: every callback received, those matching no command included.

use super::{ListQuery, int};
use crate::app::AppState;
use crate::error::ApiError;
use crate::error::ApiQuery;
use crate::store::CallbackFilter;
use axum::Json;
use axum::extract::State;
use hermod_shared::console::{CallbackRecord, ListPage};

pub async fn list(
    State(app): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListPage<CallbackRecord>>, ApiError> {
    let c = q.common()?;
    let filter = CallbackFilter {
        callback_type: c.kind,
        state: c.state,
        client: c.client,
        since: c.since,
        until: c.until,
        q: c.q,
        unmatched: q.unmatched()?,
        command: int("command", &q.command)?,
        limit: c.limit,
        before_id: c.before_id,
    };
    Ok(Json(
        app.store
            .list_callbacks(&filter)
            .await
            .map_err(ApiError::store)?,
    ))
}
