//! `GET /api/clients`: the configured Hermod API users, without their secrets.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use hermod_shared::console::ClientInfo;

pub async fn list(State(app): State<AppState>) -> Json<Vec<ClientInfo>> {
    Json(app.clients.values().map(|c| app.client_info(c)).collect())
}
