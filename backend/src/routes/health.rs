//! Liveness and readiness, public and cheap.

use crate::app::AppState;
use crate::error::ApiError;
use axum::extract::State;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    app.store.ping().await.map_err(ApiError::store)?;
    Ok("ready")
}
