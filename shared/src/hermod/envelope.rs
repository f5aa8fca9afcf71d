//! What the console reads out of the bodies Hermod sends (callbacks, polls, create answers), as
//! tolerantly as it can: where each field sits is configured (`EnvelopeKeys`), ids may be numbers,
//! and nothing is rejected.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::{Destination, EnvelopeKeys};

/// A callback or poll body as Hermod sent it, with the fields the console understands pulled out.
/// Serialises as the raw body, whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub command_id: Option<String>,
    pub external_id: Option<String>,
    pub command_type: Option<String>,
    pub state: Option<String>,
    pub response: Option<Value>,
    pub error: Option<Value>,
    pub raw: Value,
}

/// The first non-null value at any of `pointers`.
fn find<'v>(raw: &'v Value, pointers: &[String]) -> Option<&'v Value> {
    pointers
        .iter()
        .filter_map(|p| raw.pointer(p))
        .find(|v| !v.is_null())
}

/// [`find`], as text when it is a scalar (ids may come as numbers).
fn text(raw: &Value, pointers: &[String]) -> Option<String> {
    find(raw, pointers).and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

/// What a create answer says was created, read as tolerantly as a callback: the envelope's pointers
/// find the id and state, ids may be numbers, and each destination is read on its own, so one odd
/// entry (or an unexpected type anywhere else) does not lose the rest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateAnswer {
    pub command_id: Option<String>,
    /// Upper-cased, as `EnvelopeKeys::state` reads it.
    pub state: Option<String>,
    pub destinations: Vec<Destination>,
}

impl CreateAnswer {
    pub fn read(raw: &Value, keys: &EnvelopeKeys) -> CreateAnswer {
        let Correlation {
            command_id, state, ..
        } = Correlation::of(raw, keys);
        let destinations = raw
            .get("destinations")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|d| serde_json::from_value(d.clone()).ok())
                    .collect()
            })
            .unwrap_or_default();
        CreateAnswer {
            command_id,
            state,
            destinations,
        }
    }
}

/// What ties a body to its command, read without copying the rest of it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Correlation {
    pub command_id: Option<String>,
    pub external_id: Option<String>,
    /// Upper-cased, as `EnvelopeKeys::state` reads it.
    pub state: Option<String>,
    /// Its error as one line ([`reason`]).
    pub reason: Option<String>,
}

impl Correlation {
    pub fn of(raw: &Value, keys: &EnvelopeKeys) -> Correlation {
        Correlation {
            command_id: text(raw, &keys.command_id),
            external_id: text(raw, &keys.external_id),
            state: text(raw, &keys.state).map(|s| keys.state(&s)),
            reason: find(raw, &keys.error).and_then(reason),
        }
    }
}

/// The longest reason kept, in characters: a line for a list, not a body.
pub const REASON_MAX: usize = 300;

/// An error as one line for lists and headers: `CODE: message` from an object with `code` and
/// `message` (either alone as it is), a string as it is, anything else as compact JSON.
pub fn reason(error: &Value) -> Option<String> {
    let field = |k: &str| {
        error
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let line = match error {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Object(_) => match (field("code"), field("message")) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(one), None) | (None, Some(one)) => one.to_string(),
            (None, None) => error.to_string(),
        },
        other => other.to_string(),
    };
    one_line(&line)
}

/// `text` on one line (runs of white space as one space), cut at [`REASON_MAX`]; `None` when empty.
pub fn one_line(text: &str) -> Option<String> {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then(|| line.chars().take(REASON_MAX).collect())
}

impl Envelope {
    /// Tolerant: ids may be strings or numbers, missing fields stay `None`, nothing is rejected.
    pub fn extract(raw: Value, keys: &EnvelopeKeys) -> Envelope {
        let Correlation {
            command_id,
            external_id,
            state,
            ..
        } = Correlation::of(&raw, keys);
        Envelope {
            command_id,
            external_id,
            command_type: text(&raw, &keys.command_type),
            state,
            response: find(&raw, &keys.response).cloned(),
            error: find(&raw, &keys.error).cloned(),
            raw,
        }
    }

    pub fn with_defaults(raw: Value) -> Envelope {
        Envelope::extract(raw, &EnvelopeKeys::default())
    }
}

impl Serialize for Envelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(Envelope::with_defaults)
    }
}
