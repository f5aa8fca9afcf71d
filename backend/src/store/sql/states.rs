//! A command's row, and how its state moves: what callbacks, polls and Hermod's answer do to a
//! command, shared by the modules that store them.

use super::time;
use super::writer::Batch;
use crate::params;
use crate::store::StoreError;
use crate::store::conn::{Conn, Row};
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};

pub const COLUMNS: &str = "c.id, c.client, c.type, c.state, c.command_id, c.external_id, c.created_at, \
     c.updated_at, c.expires_at, c.request, c.destinations, c.answer, c.reissue_of, c.created_by, \
     c.overdue_at, c.reason";

pub fn record(r: &Row<'_>) -> Result<CommandRecord, StoreError> {
    Ok(CommandRecord {
        id: r.get(0)?,
        client: r.get(1)?,
        command_type: r.get(2)?,
        state: CommandState::parse(&r.get::<String>(3)?),
        command_id: r.get(4)?,
        external_id: r.get(5)?,
        created_at: time(r.get(6)?),
        updated_at: time(r.get(7)?),
        expires_at: r.get::<Option<i64>>(8)?.map(time),
        request: r.json(9)?,
        destinations: r.json(10)?,
        answer: r.json_or_none(11)?,
        reissue_of: r.get(12)?,
        created_by: r.get(13)?,
        overdue_at: r.get::<Option<i64>>(14)?.map(time),
        reason: r.get(15)?,
        matched: Vec::new(),
    })
}

pub fn by_id(conn: Conn<'_>, id: i64) -> Result<Option<CommandRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM commands c WHERE c.id = ?"),
        &params![id],
        record,
    )
}

pub fn existing(conn: Conn<'_>, id: i64) -> Result<CommandRecord, StoreError> {
    by_id(conn, id)?.ok_or_else(|| StoreError(format!("command {id} is not in the store")))
}

/// Publishes the command as it now is, and returns it.
pub fn changed(b: &mut Batch<'_>, id: i64) -> Result<CommandRecord, StoreError> {
    let command = existing(b.db(), id)?;
    publish(b, &command)?;
    Ok(command)
}

/// Publishes `command`, as the caller knows it to be now.
pub fn publish(b: &mut Batch<'_>, command: &CommandRecord) -> Result<(), StoreError> {
    b.event(|seq| FeedEvent::Command {
        seq,
        command: command.clone(),
    })
}

/// Who reports a command's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Hermod's own word on the outcome: it posts callbacks for answers and timeouts.
    Callback,
    /// An answer to our poll, which may lag behind a callback.
    Poll,
}

/// What a callback says of its command's state: its own, or [`CommandState::CallbackReceived`]
/// when it names none.
pub fn reported(state: Option<&str>) -> CommandState {
    state.map_or(CommandState::CallbackReceived, CommandState::parse)
}

/// Moves a command to `state` unless it already reached a terminal state (the first outcome Hermod
/// reports is the outcome), or, for a poll, once any callback came for it. A callback also ends the
/// wait for one (`callback_due`, `overdue_at`: overdue.rs), whatever it says. Returns whether
/// anything changed; the caller publishes the change.
pub fn advance_state(
    b: &Batch<'_>,
    id: i64,
    state: &CommandState,
    by: By,
    reason: Option<&str>,
) -> Result<bool, StoreError> {
    let (current, called_back, awaited): (String, bool, bool) = b
        .db()
        .query_row(
            "SELECT state, EXISTS (SELECT 1 FROM callbacks WHERE command = ?1), \
             callback_due IS NOT NULL OR overdue_at IS NOT NULL FROM commands WHERE id = ?1",
            &params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .ok_or_else(|| StoreError(format!("command {id} is not in the store")))?;
    let current = CommandState::parse(&current);
    let sticky = (current.is_terminal() && current != CommandState::SendFailed)
        || (by == By::Poll && called_back);
    let awaited = awaited && by == By::Callback;
    if (sticky || &current == state) && !awaited {
        return Ok(false);
    }
    let state = if sticky { &current } else { state };
    // A decided command no longer counts down to its expiry; a state the console does not know,
    // from a callback, is a decision too.
    let decided =
        state.is_terminal() || (by == By::Callback && matches!(state, CommandState::Other(_)));
    // A sticky state keeps the reason it ended with (`?6` below).
    let reason = failure(state, reason);
    b.db().execute(
        "UPDATE commands SET state = ?1, updated_at = ?2, \
         expires_at = CASE WHEN ?3 THEN NULL ELSE expires_at END, \
         callback_due = CASE WHEN ?4 THEN NULL ELSE callback_due END, \
         overdue_at = CASE WHEN ?4 THEN NULL ELSE overdue_at END, \
         reason = CASE WHEN ?6 THEN reason ELSE ?7 END WHERE id = ?5",
        &params![
            state.as_str(),
            b.now(),
            decided,
            awaited,
            id,
            sticky,
            reason
        ],
    )?;
    Ok(true)
}

/// A command's `reason`: only a failed outcome keeps one (a completed callback's `message` is no
/// reason), and a state that moves on drops the last.
pub fn failure<'r>(state: &CommandState, reason: Option<&'r str>) -> Option<&'r str> {
    let failed = state.is_terminal() && *state != CommandState::Completed;
    reason.filter(|_| failed)
}
