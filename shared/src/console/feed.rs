//! The live feed's events (`/api/events`, docs/ARCHITECTURE.md "The live feed").

use super::{CallbackRecord, CommandRecord};
use serde::{Deserialize, Serialize};

/// A stored event of the live feed (`/api/events`); `seq` is its SSE `id:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FeedEvent {
    /// A command was created or changed.
    Command { seq: i64, command: CommandRecord },
    /// A callback arrived, or an earlier one was matched to its command.
    Callback { seq: i64, callback: CallbackRecord },
    /// A command's callback is overdue: the command as it then was, `overdue_at` set.
    Overdue { seq: i64, command: CommandRecord },
}

impl FeedEvent {
    pub fn seq(&self) -> i64 {
        match self {
            FeedEvent::Command { seq, .. }
            | FeedEvent::Callback { seq, .. }
            | FeedEvent::Overdue { seq, .. } => *seq,
        }
    }

    /// The command the event is about, when it carries one.
    pub fn command(&self) -> Option<&CommandRecord> {
        match self {
            FeedEvent::Command { command, .. } | FeedEvent::Overdue { command, .. } => {
                Some(command)
            }
            FeedEvent::Callback { .. } => None,
        }
    }

    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            FeedEvent::Command { .. } => "command",
            FeedEvent::Callback { .. } => "callback",
            FeedEvent::Overdue { .. } => "overdue",
        }
    }
}

/// The `heartbeat` event: no `id:`, so it never moves `Last-Event-ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Heartbeat {
    pub server_time: String,
    /// The last sequence sent on this stream.
    pub seq: i64,
    /// Seconds between heartbeats: two missed ones mean the stream is dead.
    pub every_secs: u64,
}
