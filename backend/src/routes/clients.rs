//! `/api/clients`: the configured Hermod API users, without their secrets, and a check that each
//! one's command URL answers and takes its key.

use crate::error::ApiError;
use crate::hermod::Failure;
use crate::state::Clients;
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{ClientCheck, ClientInfo};
use std::sync::Arc;

pub async fn list(State(clients): State<Arc<Clients>>) -> Json<Vec<ClientInfo>> {
    Json(clients.all().map(|c| clients.client_info(c)).collect())
}

/// Polls a commandId no command has (`0`): harmless, and every answer tells something. 401 or 403
/// is the key refused; any other answer means Hermod took the key (a 404, most likely).
pub async fn check(
    State(clients): State<Arc<Clients>>,
    Path(id): Path<String>,
) -> Result<Json<ClientCheck>, ApiError> {
    let client = clients
        .client(&id)
        .ok_or_else(|| ApiError::not_found("API client"))?;
    let exchange = client.hermod.poll("0").await;
    let status = exchange.reply.status;
    let failed = exchange.reply.error.clone().unwrap_or_default();
    let (verdict, detail) = match (exchange.failure, status) {
        (Some(Failure::Certificate), _) => ("tls_failed", failed),
        (Some(Failure::Unreachable), _) => ("unreachable", failed),
        (Some(_), _) => ("unexpected", failed),
        (None, Some(401 | 403)) => (
            "key_refused",
            format!(
                "Hermod answered {} to the key: check clients.{id}.key and Hermod's allowed-clients",
                status.unwrap_or_default()
            ),
        ),
        (None, Some(s)) if s >= 500 => (
            "unexpected",
            format!("Hermod (or a proxy in front of it) answered {s}"),
        ),
        (None, Some(s)) => (
            "reachable",
            format!("Hermod answered {s}: reachable, and the key was taken"),
        ),
        (None, None) => ("unexpected", "no answer".to_string()),
    };
    Ok(Json(ClientCheck {
        verdict: verdict.into(),
        status,
        detail,
    }))
}
