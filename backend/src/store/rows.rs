//! Rows as SQLite holds them, and their conversion to the API's records.

use super::StoreError;
use crate::clock::rfc3339;
use hermod_shared::console::{
    CallbackRecord, CommandRecord, CommandState, HermodReply, PollRecord,
};
use sqlx::FromRow;

/// The columns [`CommandRow`] reads, as a literal so queries stay `&'static str`.
macro_rules! command_columns {
    () => {
        "id, client, type, state, command_id, external_id, created_at, updated_at, expires_at, \
         request, destinations, answer, reissue_of, created_by"
    };
}
pub(crate) use command_columns;

/// The columns [`CallbackRow`] reads.
macro_rules! callback_columns {
    () => {
        "id, received_at, client, type, command_id, command, state, external_id, body, headers, auth"
    };
}
pub(crate) use callback_columns;

#[derive(FromRow)]
pub struct CommandRow {
    id: i64,
    client: String,
    #[sqlx(rename = "type")]
    command_type: String,
    state: String,
    command_id: Option<String>,
    external_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    expires_at: Option<i64>,
    request: String,
    destinations: String,
    answer: Option<String>,
    reissue_of: Option<i64>,
    created_by: Option<String>,
}

impl TryFrom<CommandRow> for CommandRecord {
    type Error = StoreError;

    fn try_from(r: CommandRow) -> Result<Self, StoreError> {
        Ok(CommandRecord {
            id: r.id,
            client: r.client,
            command_type: r.command_type,
            state: CommandState::parse(&r.state),
            command_id: r.command_id,
            external_id: r.external_id,
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
            expires_at: r.expires_at.map(rfc3339),
            destinations: serde_json::from_str(&r.destinations)?,
            request: serde_json::from_str(&r.request)?,
            answer: r.answer.as_deref().map(serde_json::from_str).transpose()?,
            reissue_of: r.reissue_of,
            created_by: r.created_by,
        })
    }
}

#[derive(FromRow)]
pub struct CallbackRow {
    id: i64,
    received_at: i64,
    client: Option<String>,
    #[sqlx(rename = "type")]
    callback_type: String,
    command_id: Option<String>,
    command: Option<i64>,
    state: Option<String>,
    external_id: Option<String>,
    body: String,
    headers: String,
    auth: String,
}

impl TryFrom<CallbackRow> for CallbackRecord {
    type Error = StoreError;

    fn try_from(r: CallbackRow) -> Result<Self, StoreError> {
        Ok(CallbackRecord {
            id: r.id,
            received_at: rfc3339(r.received_at),
            client: r.client,
            callback_type: r.callback_type,
            command_id: r.command_id,
            command: r.command,
            state: r.state,
            external_id: r.external_id,
            body: r.body,
            headers: serde_json::from_str(&r.headers)?,
            auth: r.auth,
        })
    }
}

#[derive(FromRow)]
pub struct PollRow {
    id: i64,
    command: i64,
    reply: String,
}

impl TryFrom<PollRow> for PollRecord {
    type Error = StoreError;

    fn try_from(r: PollRow) -> Result<Self, StoreError> {
        let reply: HermodReply = serde_json::from_str(&r.reply)?;
        Ok(PollRecord {
            id: r.id,
            command: r.command,
            reply,
        })
    }
}

/// Converts every row, failing on the first that does not convert.
pub fn records<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(T::try_from).collect()
}
