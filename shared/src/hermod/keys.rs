//! What the console assumes of Hermod's bodies where the documentation is silent, as settings
//! (docs/hermod.md): the keys of the guessed command objects, and where a callback's fields and
//! states are found.

use super::CommandType;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The keys Hermod takes the command objects of the four types under whose key is guessed
/// (docs/hermod.md §2.2): configurable, so a Hermod that names them otherwise is reached from the form
/// all the same. The form writes the guessed key ([`CommandType::body_key`]); the console moves the
/// object to the configured key before it records and sends the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BodyKeys {
    pub certificate: String,
    pub ping: String,
    pub startpinreset: String,
    pub endpinreset: String,
}

impl Default for BodyKeys {
    fn default() -> Self {
        BodyKeys {
            certificate: CommandType::Certificate.body_key().into(),
            ping: CommandType::Ping.body_key().into(),
            startpinreset: CommandType::StartPinReset.body_key().into(),
            endpinreset: CommandType::EndPinReset.body_key().into(),
        }
    }
}

impl BodyKeys {
    /// The key Hermod takes `ty`'s object under.
    pub fn key(&self, ty: CommandType) -> &str {
        match ty {
            CommandType::Certificate => &self.certificate,
            CommandType::Ping => &self.ping,
            CommandType::StartPinReset => &self.startpinreset,
            CommandType::EndPinReset => &self.endpinreset,
            documented => documented.body_key(),
        }
    }

    /// Each configured key with its setting's name, for checking them at load.
    pub fn all(&self) -> [(&'static str, &str); 4] {
        [
            ("certificate", &self.certificate),
            ("ping", &self.ping),
            ("startpinreset", &self.startpinreset),
            ("endpinreset", &self.endpinreset),
        ]
    }

    /// `body` as Hermod takes it: `ty`'s object moved from the guessed key to the configured one.
    /// A body that already uses the configured key, or holds both, is left as written.
    pub fn to_hermod(&self, ty: CommandType, body: &mut Value) {
        rename(body, ty.body_key(), self.key(ty));
    }

    /// The reverse, for a Hermod stand-in that reads the body with the guessed keys.
    pub fn from_hermod(&self, ty: CommandType, body: &mut Value) {
        rename(body, self.key(ty), ty.body_key());
    }
}

fn rename(body: &mut Value, from: &str, to: &str) {
    if let Value::Object(map) = body
        && from != to
        && !map.contains_key(to)
        && let Some(v) = map.remove(from)
    {
        map.insert(to.to_string(), v);
    }
}

/// Where the envelope fields of a callback (or poll answer) are found, as JSON pointers tried in
/// order. The body shape is not publicly documented (docs/hermod.md §3.2), so it is configurable;
/// the first pointer of each list is also the shape the simulator writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvelopeKeys {
    pub command_id: Vec<String>,
    pub external_id: Vec<String>,
    pub command_type: Vec<String>,
    pub state: Vec<String>,
    pub response: Vec<String>,
    pub error: Vec<String>,
    /// State names Hermod's documentation does not give, each with the console state it means
    /// (`CANCELLED = "REJECTED"`): such a name then ends its command for good, where a name the
    /// console does not know is kept as it came and a later callback may still move it.
    pub states: BTreeMap<String, String>,
}

/// The states a name in [`EnvelopeKeys::states`] may stand for: Hermod's own, as the console knows them.
pub const HERMOD_STATES: [&str; 5] = ["IN_PROGRESS", "COMPLETED", "REJECTED", "FAILED", "EXPIRED"];

impl Default for EnvelopeKeys {
    fn default() -> Self {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        EnvelopeKeys {
            command_id: v(&["/commandId", "/command_id", "/id", "/command/commandId"]),
            external_id: v(&["/externalId", "/external_id", "/command/externalId"]),
            command_type: v(&["/commandType", "/command_type", "/type"]),
            state: v(&["/state", "/status", "/command/state"]),
            response: v(&["/response", "/result", "/data"]),
            error: v(&["/error", "/errorMessage", "/message"]),
            states: BTreeMap::new(),
        }
    }
}

impl EnvelopeKeys {
    /// A state as the console reads it: upper case, a name in `states` put as the state it means.
    pub fn state(&self, said: &str) -> String {
        let upper = said.trim().to_ascii_uppercase();
        self.states
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&upper))
            .map_or(upper, |(_, means)| means.to_ascii_uppercase())
    }
}
