//! `/api/overview`: how the commands sent in a window ended, per type and client, with the time to
//! their first callback (README.md, "The console": Overview). The page links each number to the list it counts.

use super::{invalid, time};
use crate::clock::now_ms;
use crate::error::{ApiError, ApiQuery};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use hermod_shared::overview::Overview;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// The window when none is asked for.
const DEFAULT_WINDOW_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct WindowQuery {
    /// From this time on (RFC 3339); the day before `until` when left out.
    pub since: Option<String>,
    /// Up to this time (RFC 3339); now when left out.
    pub until: Option<String>,
}

pub async fn get(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> Result<Json<Overview>, ApiError> {
    let until = time("until", &q.until)?.unwrap_or_else(now_ms);
    let since = time("since", &q.since)?.unwrap_or(until - DEFAULT_WINDOW_MS);
    if since >= until {
        return Err(invalid("since", "must be before `until`"));
    }
    Ok(Json(store.overview(since, until).await?))
}
