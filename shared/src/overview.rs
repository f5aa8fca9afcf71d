//! The Overview (README.md, "The console": Overview): how the commands sent in a window ended, per type and
//! client, and how long Hermod took to call back.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `GET /api/overview?since=…&until=…`: the commands created in `[since, until)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Overview {
    /// The window, RFC 3339 (the last 24 hours unless asked otherwise).
    pub since: String,
    pub until: String,
    /// One row per command type and client that sent any, by type then client.
    pub rows: Vec<OverviewRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OverviewRow {
    #[serde(rename = "type")]
    pub command_type: String,
    pub client: String,
    pub total: u64,
    /// How many are in each state now (`COMPLETED`, `REJECTED`, …); states none is in are left out.
    pub states: BTreeMap<String, u64>,
    /// How many got a callback, and the time from the send to the first one, in milliseconds: the
    /// median and the 95th percentile (nearest rank), absent when none got one.
    pub called_back: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_p50_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_p95_ms: Option<u64>,
}
