//! `GET /api/commands/{id}/next`: the command that follows one in its use case, filled from what that
//! one gave (README.md, "Follow-up commands"). A provision's result names the profile it made and its
//! request the keys, so a certificate command for them is written; a startpinreset's result carries
//! the token's nonce, so an endpinreset is. Hermod's results are not documented (docs/hermod.md §3.2),
//! so each value is looked for by name anywhere in the callbacks and polls, inside the payload of a
//! JWS too, the newest first.

use super::commands::{DETAIL_STEPS, with_decoded};
use super::record_id;
use crate::error::{ApiError, Code};
use crate::state::Clients;
use crate::store::Store;
use axum::Json;
use axum::extract::{Path, State};
use hermod_shared::console::{CommandDetail, NextCommand, TimelineEntry};
use hermod_shared::decoded::Decoded;
use hermod_shared::hermod::{BodyKeys, CommandType};
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn next(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    Path(id): Path<String>,
) -> Result<Json<NextCommand>, ApiError> {
    let id = record_id(&id, "command")?;
    let stored = store
        .command_detail(id, Some(DETAIL_STEPS))
        .await?
        .ok_or_else(|| ApiError::not_found("command"))?;
    let keys = clients.body_keys.clone();
    with_decoded(stored, None, move |detail| follow(&detail, &keys))
        .await?
        .map(Json)
        .map_err(|why| ApiError::new(Code::NotFound, why))
}

/// The command after `detail`'s, or why there is none (yet).
fn follow(detail: &CommandDetail, keys: &BodyKeys) -> Result<NextCommand, String> {
    let command = &detail.command;
    let (id, request) = (command.id, &command.request);
    let results = results(detail);
    let found = |name: &str| results.iter().find_map(|v| text_named(v, name));
    let (next, object, note) = match CommandType::parse(&command.command_type) {
        Some(CommandType::Provision) => {
            let profile = found("profileid")
                .ok_or_else(|| format!("provision #{id} has no result naming its profile yet"))?;
            let keys = request
                .pointer("/provCommand/profile/keygenrequests")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|k| k.get("keyid"))
                .map(|keyid| json!({ "keyid": keyid }));
            let object = json!({"profileid": profile, "certificates": keys.collect::<Vec<_>>()});
            let note = format!(
                "Filled from provision #{id}: its profile {profile}, and an entry for each of its \
                 keys. Each certificate is yours to add: the CA issues it from the key's request, \
                 decoded on #{id}'s page."
            );
            (CommandType::Certificate, object, note)
        }
        Some(ty @ CommandType::StartPinReset) => {
            let nonce = found("nonce")
                .ok_or_else(|| format!("startpinreset #{id} has no result with a nonce yet"))?;
            let mut object = json!({ "encryptednonce": nonce });
            let started = request.get(keys.key(ty));
            if let Some(card) = started.and_then(|s| s.get("smartcardid")) {
                object["smartcardid"] = card.clone();
            }
            let note = format!(
                "Filled from startpinreset #{id}: encryptednonce holds the nonce the token gave; \
                 replace it with that nonce encrypted under the token's admin key before sending."
            );
            (CommandType::EndPinReset, object, note)
        }
        _ => return Err(format!("no command follows a {}", command.command_type)),
    };
    // To the same destinations, for as long; the new command gets an externalId of its own.
    let mut header = json!({});
    for key in ["to", "lifespan", "timeout"] {
        if let Some(v) = request.pointer(&format!("/commandHeader/{key}")) {
            header[key] = v.clone();
        }
    }
    let mut body = json!({ "commandHeader": header });
    body[next.body_key()] = object;
    Ok(NextCommand {
        client: command.client.clone(),
        command_type: next.as_str().into(),
        body,
        note,
    })
}

/// Every JSON value Hermod sent about the command, the newest first: callback and poll bodies, each
/// followed by the payloads of the JWSs decoded from it.
fn results(detail: &CommandDetail) -> Vec<Value> {
    let mut found = Vec::new();
    for step in detail.timeline.iter().rev() {
        let (body, decoded) = match step {
            TimelineEntry::Callback { callback, decoded } => (Some(&callback.body), decoded),
            TimelineEntry::Poll { poll, decoded } => (poll.reply.body.as_ref(), decoded),
            TimelineEntry::Sent { .. } | TimelineEntry::Answer { .. } => continue,
        };
        found.extend(body.and_then(|b| serde_json::from_str::<Value>(b).ok()));
        found.extend(decoded.iter().filter_map(|d| match &d.decoded {
            Decoded::Jws { payload, .. } => Some(payload.clone()),
            _ => None,
        }));
    }
    found
}

/// The first text (or number) under a key called `name`, in any case, anywhere in `v`.
fn text_named(v: &Value, name: &str) -> Option<String> {
    match v {
        Value::Object(map) => map.iter().find_map(|(key, value)| match value {
            Value::String(s) if key.eq_ignore_ascii_case(name) => Some(s.clone()),
            Value::Number(n) if key.eq_ignore_ascii_case(name) => Some(n.to_string()),
            _ => text_named(value, name),
        }),
        Value::Array(items) => items.iter().find_map(|item| text_named(item, name)),
        _ => None,
    }
}
