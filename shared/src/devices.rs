//! Devices: what the console gathers about one phone, smart card or person's certificate from the
//! commands and results it has seen (README.md, "Devices").

use crate::decoded::CertSummary;
use serde::{Deserialize, Serialize};

/// One device as `GET /api/devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeviceRecord {
    pub id: i64,
    /// What names it: `profile:<id>` (a `to` destination or a `profileid`), `card:<id>` (a
    /// `smartcardid`) or `subject:<DN>` (a certificate it holds).
    pub key: String,
    pub first_seen: String,
    pub last_seen: String,
    /// The commands it is named in (its results included).
    pub commands: i64,
}

/// `GET /api/devices/{key}`: the device, and the certificates it was seen with, the newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeviceDetail {
    pub device: DeviceRecord,
    pub certificates: Vec<HeldCertificate>,
}

/// A certificate seen in a device's command (installed by it, or in its result), each once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HeldCertificate {
    pub certificate: CertSummary,
    /// When it was last seen, and in which command.
    pub seen_at: String,
    pub command: i64,
}
