//! Liveness and readiness, public and cheap; the metrics, for admins and API tokens.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

pub async fn live() -> &'static str {
    "ok"
}

pub async fn ready(State(app): State<AppState>) -> Result<&'static str, ApiError> {
    app.store.ping().await?;
    Ok("ready")
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let text = app.metrics.text(app.store.commits());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
