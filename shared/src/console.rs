//! The console's own API (browser ↔ backend; README.md "Console API") and the live feed's events
//! (docs/ARCHITECTURE.md "The live feed").
//! Times are RFC 3339 strings in UTC; ids are integers; Hermod's `commandId` is a string of digits.

use crate::decoded::DecodedItem;
use crate::hermod::Destination;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

mod accounts;
mod by_hand;
mod feed;
pub use accounts::*;
pub use by_hand::FromJson;
pub use feed::*;

/// A configured Hermod API user, as the browser may see it: never its key or callback password.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientInfo {
    /// The same as Hermod's `client-id`.
    pub id: String,
    pub label: String,
    pub command_url: String,
    /// What to put in Hermod's `allowed-clients` entry as `callback-url`.
    pub callback_url: String,
    /// The user half of `callback-basic-auth`; `None` when callbacks for this client are unauthenticated.
    pub callback_user: Option<String>,
    /// Its entry in Hermod's `allowed-clients`, ready to paste; the secrets are placeholders.
    #[serde(default)]
    pub allowed_clients_entry: String,
    /// The command types it is sent beyond the seven the console knows (`custom_commands`): written
    /// in the JSON tab, no form.
    #[serde(default)]
    pub custom_commands: Vec<String>,
}

/// `POST /api/clients/{id}/check`: whether the client's command URL answers and takes its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClientCheck {
    /// `reachable` (the key was taken), `key_refused`, `tls_failed`, `unreachable` or `unexpected`.
    pub verdict: String,
    /// Hermod's HTTP status, when it answered.
    pub status: Option<u16>,
    /// In words, for the page.
    pub detail: String,
}

/// `POST /api/commands`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SendCommand {
    pub client: String,
    #[serde(rename = "type")]
    pub command_type: String,
    pub body: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reissue_of: Option<i64>,
}

/// `POST /api/commands/{id}/link`: the commandId Hermod created a command under, when its send ended
/// unknown (the operator found it in Hermod's log, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkCommand {
    pub command_id: String,
}

/// Where a command stands. Hermod's own states are only partly documented, so unknown ones are kept as
/// they came.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommandState {
    /// Recorded, request on its way to Hermod.
    Sending,
    /// Hermod refused the request or could not be reached: nothing was created.
    SendFailed,
    /// Hermod may have accepted the request, but its answer never arrived.
    SendUnknown,
    InProgress,
    Completed,
    Rejected,
    Failed,
    Expired,
    /// A callback came for it but named no state: Hermod posts callbacks for answers and timeouts,
    /// so the command has ended, its outcome in the callback's body.
    CallbackReceived,
    Other(String),
}

impl CommandState {
    pub const KNOWN: [CommandState; 9] = [
        CommandState::Sending,
        CommandState::SendFailed,
        CommandState::SendUnknown,
        CommandState::InProgress,
        CommandState::Completed,
        CommandState::Rejected,
        CommandState::Failed,
        CommandState::Expired,
        CommandState::CallbackReceived,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            CommandState::Sending => "SENDING",
            CommandState::SendFailed => "SEND_FAILED",
            CommandState::SendUnknown => "SEND_UNKNOWN",
            CommandState::InProgress => "IN_PROGRESS",
            CommandState::Completed => "COMPLETED",
            CommandState::Rejected => "REJECTED",
            CommandState::Failed => "FAILED",
            CommandState::Expired => "EXPIRED",
            CommandState::CallbackReceived => "CALLBACK_RECEIVED",
            CommandState::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> CommandState {
        let upper = s.trim().to_ascii_uppercase();
        CommandState::KNOWN
            .into_iter()
            .find(|k| k.as_str() == upper)
            .unwrap_or(CommandState::Other(upper))
    }

    /// No further change is expected from Hermod.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            CommandState::SendFailed
                | CommandState::Completed
                | CommandState::Rejected
                | CommandState::Failed
                | CommandState::Expired
                | CommandState::CallbackReceived
        )
    }

    /// How the page colours it: "progress", "ok", "bad", "warn" or "neutral".
    pub fn tone(&self) -> &'static str {
        match self {
            CommandState::Sending | CommandState::InProgress => "progress",
            CommandState::Completed => "ok",
            CommandState::Rejected | CommandState::Failed | CommandState::SendFailed => "bad",
            CommandState::Expired | CommandState::SendUnknown => "warn",
            CommandState::CallbackReceived | CommandState::Other(_) => "neutral",
        }
    }
}

/// A string: one of the known states, or a state of Hermod's as it came.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for CommandState {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CommandState".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let known: Vec<&str> = CommandState::KNOWN
            .iter()
            .map(CommandState::as_str)
            .collect();
        schemars::json_schema!({
            "type": "string",
            "description": "Where a command stands: one of `examples`, or a state Hermod reported \
                            that the console does not know, upper case.",
            "examples": known,
        })
    }
}

impl fmt::Display for CommandState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CommandState {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CommandState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| CommandState::parse(&s))
    }
}

/// One HTTP exchange with Hermod, kept as it happened. The body is the raw text Hermod sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HermodReply {
    pub at: String,
    pub status: Option<u16>,
    pub body: Option<String>,
    /// What went wrong when there was no usable answer (unreachable, timeout, certificate).
    pub error: Option<String>,
    pub duration_ms: u64,
}

/// A command the console sent (or tried to send).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CommandRecord {
    pub id: i64,
    pub client: String,
    #[serde(rename = "type")]
    pub command_type: String,
    pub state: CommandState,
    /// Hermod's `commandId`, once Hermod answered.
    pub command_id: Option<String>,
    pub external_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When Hermod will expire it (`timeout` after its answer), while it can still change.
    pub expires_at: Option<String>,
    pub destinations: Vec<Destination>,
    /// The body as sent to Hermod.
    pub request: Value,
    /// Hermod's answer to the create request.
    pub answer: Option<HermodReply>,
    pub reissue_of: Option<i64>,
    pub created_by: Option<String>,
    /// Since when its callback is overdue: Hermod accepted it, its expiry and `[overdue]
    /// after_expiry_secs` passed, and no callback came. A callback that comes later clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_at: Option<String>,
    /// Why it did not complete, in one line: the error of the callback or poll that ended it
    /// (`CODE: message`), or what became of its send. Only on a failed outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// In a list searched with `q`: where the text was found (see [`MOST_MATCHED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

/// A callback Hermod posted, kept whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CallbackRecord {
    pub id: i64,
    pub received_at: String,
    /// The API client whose credential (or path) it came with.
    pub client: Option<String>,
    #[serde(rename = "type")]
    pub callback_type: String,
    pub command_id: Option<String>,
    /// The command it belongs to; `None` while it matches none we sent.
    pub command: Option<i64>,
    pub state: Option<String>,
    pub external_id: Option<String>,
    /// The body exactly as received.
    pub body: String,
    /// Request headers; `Authorization` is replaced by the verdict.
    pub headers: Vec<(String, String)>,
    /// `"basic ok (user)"`, `"path only (unauthenticated)"`, …
    pub auth: String,
    /// The path it was posted to (none for callbacks stored before paths were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lists and the live feed carry the first `limits.summary_body_bytes` of a body (by default
    /// [`SUMMARY_BODY_BYTES`]); the whole one is at `GET /api/callbacks/{id}`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_truncated: bool,
    /// In a list searched with `q`: where the text was found (see [`MOST_MATCHED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matched: Vec<String>,
}

/// A record of a list searched with `q` names at most this many places where the text was found,
/// the record's own fields first: "commandId", "externalId", "request /signCommand/params/tbs/0/data"
/// (a JSON pointer into a body), "answer", "decoded: <item label>", then "callback #12", "poll #3"
/// for a command found through them. Places are names, never values: no secret can be among them.
pub const MOST_MATCHED: usize = 5;

/// How much of a callback's body a list or a feed event carries, unless configured otherwise.
pub const SUMMARY_BODY_BYTES: usize = 16 << 10;

/// The first `max` bytes of `body` (cut at a character boundary), and whether anything was cut.
pub fn summary(body: &str, max: usize) -> (&str, bool) {
    if body.len() <= max {
        return (body, false);
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| body.is_char_boundary(i))
        .unwrap_or(0);
    (&body[..cut], true)
}

/// The type a callback gets when it came to a path other than `…/callback/<type>`.
pub const MISROUTED: &str = "misrouted";

impl CallbackRecord {
    /// The record as lists and the feed carry it: its body cut to `max` bytes.
    pub fn summarized(mut self, max: usize) -> CallbackRecord {
        let (kept, cut) = summary(&self.body, max);
        if cut {
            self.body = kept.to_string();
            self.body_truncated = true;
        }
        self
    }

    pub fn unmatched(&self) -> bool {
        self.command.is_none()
    }
}

/// A poll of Hermod's `…/command/poll/{commandId}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PollRecord {
    pub id: i64,
    pub command: i64,
    pub reply: HermodReply,
}

/// One step in a command's life, in time order, with what the backend decoded from its body (the
/// request, for `sent`).
///
/// `I` is how a decoded item is read: typed ([`DecodedItem`]) where it is made and checked; the page
/// reads it as a [`Value`] by the fields it shows, since typed readers of every kind of material
/// cost its wasm more than that view does (docs/ARCHITECTURE.md, "The page's size").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "TimelineEntry")
)]
#[serde(rename_all = "snake_case", bound(deserialize = "I: Deserialize<'de>"))]
pub enum TimelineEntry<I = DecodedItem> {
    Sent {
        at: String,
        #[serde(default)]
        decoded: Vec<I>,
    },
    Answer {
        reply: HermodReply,
        #[serde(default)]
        decoded: Vec<I>,
    },
    Callback {
        callback: CallbackRecord,
        #[serde(default)]
        decoded: Vec<I>,
    },
    Poll {
        poll: PollRecord,
        #[serde(default)]
        decoded: Vec<I>,
    },
}

impl<I> TimelineEntry<I> {
    pub fn at(&self) -> &str {
        match self {
            TimelineEntry::Sent { at, .. } => at,
            TimelineEntry::Answer { reply, .. } => &reply.at,
            TimelineEntry::Callback { callback, .. } => &callback.received_at,
            TimelineEntry::Poll { poll, .. } => &poll.reply.at,
        }
    }

    pub fn decoded_mut(&mut self) -> &mut Vec<I> {
        match self {
            TimelineEntry::Sent { decoded, .. }
            | TimelineEntry::Answer { decoded, .. }
            | TimelineEntry::Callback { decoded, .. }
            | TimelineEntry::Poll { decoded, .. } => decoded,
        }
    }
}

/// `GET /api/commands/{id}`; `I` as in [`TimelineEntry`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "CommandDetail")
)]
#[serde(bound(deserialize = "I: Deserialize<'de>"))]
pub struct CommandDetail<I = DecodedItem> {
    pub command: CommandRecord,
    pub timeline: Vec<TimelineEntry<I>>,
    /// The oldest callbacks and polls left out of `timeline`; `?all=true` gives every one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub omitted: u64,
    /// A QR code for each destination's `uri`, in the same order (`None` when it does not fit one).
    #[serde(default)]
    pub qr: Vec<Option<QrCode>>,
    /// The request as a curl command line, with `X-Api-Key: <redacted>`.
    #[serde(default)]
    pub curl: String,
    /// The commands that re-issue this one, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reissued_as: Vec<i64>,
    /// The devices it names (`GET /api/devices/{key}`), once its bodies are indexed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
}

/// A QR code's modules, row by row: `size` × `size` characters, `1` dark, `0` light. The page draws it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QrCode {
    pub size: u32,
    pub modules: String,
}

/// `GET /api/commands/{id}/next`: the command that follows this one in its use case (a provision's
/// certificate, a startpinreset's endpinreset), filled from what this one gave, for the send page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct NextCommand {
    pub client: String,
    #[serde(rename = "type")]
    pub command_type: String,
    /// With the keys the send form writes.
    pub body: Value,
    /// What was filled in, and what is still the operator's to do before sending it.
    pub note: String,
}

/// `GET /api/diff?a=<body>&b=<body>`: how body `b` differs from body `a`, the material decoded from
/// each included (under `/decoded/<where it was found>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BodyDiff {
    /// What `a` and `b` are, in words: "callback #12 of command #5".
    pub a: String,
    pub b: String,
    /// Key by key, each object's removed and changed keys before its added ones; the first
    /// [`BodyDiff::MOST`].
    pub changes: Vec<BodyChange>,
    /// Differences beyond those listed.
    #[serde(default)]
    pub more: u64,
}

impl BodyDiff {
    /// The most differences listed.
    pub const MOST: usize = 500;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BodyChange {
    /// A JSON pointer into both documents.
    pub path: String,
    /// `added` (only in `b`), `removed` (only in `a`) or `changed`.
    pub change: String,
    /// The value in `a` (compact JSON, long ones cut).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// `POST /api/commands/{id}/poll`: the poll as recorded, and the command after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PollResult {
    pub poll: PollRecord,
    pub command: CommandRecord,
    /// The state Hermod's answer reports, as the console reads it (`envelope`), when it reports
    /// one: the command keeps its own when a callback already decided it.
    #[serde(default)]
    pub reported: Option<String>,
}

/// Every list answers in this envelope. `feed_seq` is the feed's sequence at the time of the read:
/// subscribe with `?after=feed_seq` to miss nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename = "{T}Page"))]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub feed_seq: i64,
    /// With a text search: how many of the newest records were not yet indexed, so not searched.
    /// Indexing runs beside the writes and catches up within moments.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unindexed: u64,
    /// How many records the filters select, on every page together (the same on each page), counted
    /// up to [`TOTAL_CAP`]: past it, `total` is the cap and `total_capped` is true. A count goes
    /// through every record it counts, so an uncapped one over a filter that holds most of a big
    /// table would cost each page a scan of all of it; the cap keeps it to a bounded read (at
    /// 100,000 commands, a filtered page took 14.6 ms counting up to 10,000 and 0.7 ms without a
    /// count: README.md, "Performance").
    #[serde(default)]
    pub total: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
}

/// The most a list counts of its records ([`ListPage::total`]).
pub const TOTAL_CAP: u64 = 1_000;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The `error` of a [`Problem`]: a short, stable code a program can match on. Each code has one
/// status (docs/ARCHITECTURE.md, "Errors"). On the wire it is a string, so a page reads a code it
/// does not know yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    UnsupportedMediaType,
    InvalidJson,
    InvalidQuery,
    UnreadableBody,
    InvalidField,
    Unauthenticated,
    InvalidCredentials,
    Unauthorized,
    Forbidden,
    Csrf,
    NotFound,
    BodyTooSlow,
    NoCommandId,
    UnexpectedCommandId,
    ClientGone,
    LastAdmin,
    NotLinkable,
    CommandIdTaken,
    UnknownHost,
    BodyTooLarge,
    TooManyAttempts,
    TooManyStreams,
    TooManyCallbacks,
    HermodRefused,
    HermodServerError,
    HermodUnreachable,
    HermodCertificate,
    HermodBadAnswer,
    HermodTimeout,
    RequestTimeout,
    StoreUnavailable,
    NotReady,
    Internal,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 33] = [
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidJson,
        ErrorCode::InvalidQuery,
        ErrorCode::UnreadableBody,
        ErrorCode::InvalidField,
        ErrorCode::Unauthenticated,
        ErrorCode::InvalidCredentials,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::Csrf,
        ErrorCode::NotFound,
        ErrorCode::BodyTooSlow,
        ErrorCode::NoCommandId,
        ErrorCode::UnexpectedCommandId,
        ErrorCode::ClientGone,
        ErrorCode::LastAdmin,
        ErrorCode::NotLinkable,
        ErrorCode::CommandIdTaken,
        ErrorCode::UnknownHost,
        ErrorCode::BodyTooLarge,
        ErrorCode::TooManyAttempts,
        ErrorCode::TooManyStreams,
        ErrorCode::TooManyCallbacks,
        ErrorCode::HermodRefused,
        ErrorCode::HermodServerError,
        ErrorCode::HermodUnreachable,
        ErrorCode::HermodCertificate,
        ErrorCode::HermodBadAnswer,
        ErrorCode::HermodTimeout,
        ErrorCode::RequestTimeout,
        ErrorCode::StoreUnavailable,
        ErrorCode::NotReady,
        ErrorCode::Internal,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::UnreadableBody => "unreadable_body",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::InvalidCredentials => "invalid_credentials",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::Csrf => "csrf",
            ErrorCode::NotFound => "not_found",
            ErrorCode::BodyTooSlow => "body_too_slow",
            ErrorCode::NoCommandId => "no_command_id",
            ErrorCode::UnexpectedCommandId => "unexpected_command_id",
            ErrorCode::ClientGone => "client_gone",
            ErrorCode::LastAdmin => "last_admin",
            ErrorCode::NotLinkable => "not_linkable",
            ErrorCode::CommandIdTaken => "command_id_taken",
            ErrorCode::UnknownHost => "unknown_host",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::TooManyAttempts => "too_many_attempts",
            ErrorCode::TooManyStreams => "too_many_streams",
            ErrorCode::TooManyCallbacks => "too_many_callbacks",
            ErrorCode::HermodRefused => "hermod_refused",
            ErrorCode::HermodServerError => "hermod_server_error",
            ErrorCode::HermodUnreachable => "hermod_unreachable",
            ErrorCode::HermodCertificate => "hermod_certificate",
            ErrorCode::HermodBadAnswer => "hermod_bad_answer",
            ErrorCode::HermodTimeout => "hermod_timeout",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::NotReady => "not_ready",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error answer of the console API.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(not(target_arch = "wasm32"), derive(Deserialize))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Problem {
    /// An [`ErrorCode`]'s `as_str`: `invalid_json`, `invalid_field`, `hermod_unreachable`, …
    pub error: String,
    /// What happened and what to do.
    pub detail: String,
    /// The offending field as a JSON pointer into the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Hermod's status and body, when Hermod answered with an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hermod_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hermod_body: Option<String>,
    /// The command as recorded, when the failure happened after recording it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<CommandRecord>,
}

/// A named command template, shared by everyone (`/api/templates`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TemplateRecord {
    pub id: i64,
    pub name: String,
    /// The API client it is meant for, if any.
    pub client: Option<String>,
    #[serde(rename = "type")]
    pub command_type: String,
    pub body: Value,
    pub created_by: String,
    pub updated_at: String,
}

/// `POST /api/templates` and `PUT /api/templates/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TemplateInput {
    pub name: String,
    #[serde(default)]
    pub client: Option<String>,
    #[serde(rename = "type")]
    pub command_type: String,
    pub body: Value,
}
