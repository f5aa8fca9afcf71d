//! `GET /api/commands/{id}/evidence`: one zip file holding everything kept about a command (README.md,
//! "Evidence"). Each body is its own file, with the bytes the console stored; beside them what was
//! decoded and checked, the audit entries about the command, and a manifest with every file's
//! SHA-256, so a copy handed to an auditor can be checked file by file.

use super::commands::with_decoded;
use super::{ZipFile, record_id};
use crate::clock::{now_ms, rfc3339};
use crate::error::ApiError;
use crate::state::Clients;
use crate::store::{Evidence, Store};
use crate::zip;
use axum::extract::{Path, State};
use hermod_shared::console::{AuditRecord, CommandDetail, TimelineEntry};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub async fn evidence(
    State(store): State<Arc<dyn Store>>,
    State(clients): State<Arc<Clients>>,
    Path(id): Path<String>,
) -> Result<ZipFile, ApiError> {
    let id = record_id(&id, "command")?;
    let Evidence { detail, audit } = store
        .evidence(id)
        .await?
        .ok_or_else(|| ApiError::not_found("command"))?;
    let made_at = rfc3339(now_ms());
    let trust = clients.trust(&detail.detail.command.client);
    let files = with_decoded(detail, trust, move |detail| {
        files(&detail, &audit, &made_at)
    })
    .await?;
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    if files.len() > zip::MOST_FILES || bytes > zip::MOST_BYTES / 2 {
        return Err(ApiError::internal(format!(
            "command {id}'s evidence is {} files and {bytes} bytes: more than one zip file holds",
            files.len()
        )));
    }
    Ok(ZipFile {
        name: format!("command-{id}-evidence.zip"),
        bytes: zip::stored(&files),
    })
}

/// A body as a file: `.json` when it is JSON, else `.txt`.
fn body_file(dir: &str, body: &str) -> (String, Vec<u8>) {
    let ext = match serde_json::from_str::<Value>(body) {
        Ok(_) => "json",
        Err(_) => "txt",
    };
    (format!("{dir}/body.{ext}"), body.as_bytes().to_vec())
}

fn pretty(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("the API's types serialize")
}

/// `value` without its `body` (that has a file of its own), pretty.
fn without_body(value: &impl Serialize) -> Vec<u8> {
    let mut v = serde_json::to_value(value).expect("the API's types serialize");
    if let Value::Object(map) = &mut v {
        map.remove("body");
    }
    pretty(&v)
}

/// The files of the evidence, the manifest last.
fn files(detail: &CommandDetail, audit: &[AuditRecord], made_at: &str) -> Vec<(String, Vec<u8>)> {
    let command = &detail.command;
    let mut files = vec![
        ("command.json".to_string(), pretty(command)),
        // As it went to Hermod: the console sends the stored request, serialized the same way.
        (
            "request.json".to_string(),
            serde_json::to_vec(&command.request).expect("JSON serializes"),
        ),
    ];
    if let Some(answer) = &command.answer {
        files.push(("answer/reply.json".into(), without_body(answer)));
        files.extend(answer.body.as_deref().map(|b| body_file("answer", b)));
    }
    let mut decoded = Vec::new();
    for entry in &detail.timeline {
        let step = match entry {
            TimelineEntry::Sent { .. } => "request".to_string(),
            TimelineEntry::Answer { .. } => "answer".to_string(),
            TimelineEntry::Callback { callback, .. } => {
                let dir = format!("callbacks/{}", callback.id);
                files.push((format!("{dir}/received.json"), without_body(callback)));
                files.push(body_file(&dir, &callback.body));
                dir
            }
            TimelineEntry::Poll { poll, .. } => {
                let dir = format!("polls/{}", poll.id);
                files.push((format!("{dir}/reply.json"), without_body(&poll.reply)));
                files.extend(poll.reply.body.as_deref().map(|b| body_file(&dir, b)));
                dir
            }
        };
        let mut entry = entry.clone();
        let items = std::mem::take(entry.decoded_mut());
        if !items.is_empty() {
            decoded.push(json!({"step": step, "decoded": items}));
        }
    }
    files.push(("decoded.json".into(), pretty(&decoded)));
    files.push(("audit.json".into(), pretty(&audit)));
    let listed: Vec<Value> = files
        .iter()
        .map(|(name, bytes)| {
            let sha256: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            json!({"name": name, "bytes": bytes.len(), "sha256": sha256})
        })
        .collect();
    let manifest = json!({
        "command": command.id,
        "made_at": made_at,
        "made_by": format!("Hermod Console {}", env!("CARGO_PKG_VERSION")),
        "files": listed,
    });
    files.push(("manifest.json".into(), pretty(&manifest)));
    files
}
