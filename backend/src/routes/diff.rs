//! `GET /api/diff?a=<body>&b=<body>`: how one body differs from another (README.md, "Comparing
//! bodies"). A body is named `command:<id>` (its request), `answer:<id>` (Hermod's answer to it),
//! `callback:<id>` or `poll:<id>`. Each is compared as JSON (a body that is not JSON as one string)
//! with what was decoded from it beside it, under `/decoded/<what it is>`, so two certificates differ
//! by their subject or validity, not only by their base64.

use super::commands::decoding;
use super::invalid;
use crate::decode::decode_body;
use crate::diff::diff;
use crate::error::{ApiError, ApiQuery};
use crate::store::Store;
use axum::Json;
use axum::extract::State;
use hermod_shared::console::BodyDiff;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Deserialize, JsonSchema)]
pub struct DiffQuery {
    /// The body compared from: `command:<id>`, `answer:<id>`, `callback:<id>` or `poll:<id>`.
    a: String,
    /// The body compared with it.
    b: String,
}

pub async fn compare(
    State(store): State<Arc<dyn Store>>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<BodyDiff>, ApiError> {
    let (a, a_body) = body(&*store, &q.a, "/a").await?;
    let (b, b_body) = body(&*store, &q.b, "/b").await?;
    let (changes, more) =
        decoding(move || diff(&document(a_body), &document(b_body), BodyDiff::MOST)).await?;
    Ok(Json(BodyDiff {
        a,
        b,
        changes,
        more,
    }))
}

/// What `reference` names, in words, and its body: as JSON, or as one string when it is not JSON.
async fn body(
    store: &dyn Store,
    reference: &str,
    field: &str,
) -> Result<(String, Value), ApiError> {
    let json = |text: String| serde_json::from_str(&text).unwrap_or(Value::String(text));
    let bad = || {
        let what = "a body: command:<id>, answer:<id>, callback:<id> or poll:<id>";
        invalid(field, what)
    };
    let (kind, id) = reference.split_once(':').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let found = match kind {
        "command" | "answer" => store.command(id).await?.and_then(|c| {
            let of = format!("{} #{id}", c.command_type);
            match kind {
                "command" => Some((format!("the request of {of}"), c.request)),
                _ => c
                    .answer
                    .and_then(|a| a.body)
                    .map(|b| (format!("Hermod's answer to {of}"), json(b))),
            }
        }),
        "callback" => store.callback(id).await?.map(|c| {
            let of = c.command.map(|n| format!(" of command #{n}"));
            (
                format!("callback #{id}{}", of.unwrap_or_default()),
                json(c.body),
            )
        }),
        "poll" => store.poll(id).await?.and_then(|p| {
            let of = format!("poll #{id} of command #{}", p.command);
            p.reply.body.map(|b| (of, json(b)))
        }),
        _ => return Err(bad()),
    };
    found.ok_or_else(|| ApiError::not_found(&format!("body {reference}")))
}

/// A body as it is compared: `{"body": …, "decoded": {"<what>": …}}`, each decoded item under its
/// label (a second with the same label numbered).
fn document(body: Value) -> Value {
    let mut decoded = Map::new();
    // Both sides' chain checks say the same (no bundle), so only what the bodies hold differs.
    for item in decode_body(&body, None) {
        let mut key = item.label.clone();
        for n in 2.. {
            if !decoded.contains_key(&key) {
                break;
            }
            key = format!("{} ({n})", item.label);
        }
        let value = serde_json::to_value(&item.decoded).unwrap_or(Value::Null);
        decoded.insert(key, value);
    }
    let mut doc = Map::new();
    doc.insert("body".into(), body);
    if !decoded.is_empty() {
        doc.insert("decoded".into(), Value::Object(decoded));
    }
    Value::Object(doc)
}
