//! The feed's history: each row points at the record it is about. Replay rebuilds the events from the
//! records, so a body is stored once; a command event keeps the state the command had then, and a
//! callback shows whether it is matched now. Retention removes the oldest events (`retention.rs`): a
//! replay from before what is kept starts with a `reset` instead of skipping what went.

use super::{callbacks, snapshot, sql_error, states, time};
use crate::feed::Published;
use crate::store::StoreError;
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};
use rusqlite::Connection;

type Row = (i64, i64, String, i64, Option<String>);

/// Events after `after`, oldest first: at most `max_events`, and no more once `max_bytes` of them are
/// read (but always one, when there is one). When events after `after` were pruned, a `reset` comes
/// first: its `id:` is the sequence just before the oldest event kept (where the stream now stands),
/// its `data:` that oldest event's sequence.
pub fn after(
    conn: &Connection,
    after: i64,
    max_events: usize,
    max_bytes: usize,
    summary: usize,
) -> Result<Vec<Published>, StoreError> {
    // One read transaction: a batch pruned between the two reads would otherwise go unnoticed.
    snapshot(conn, |conn| {
        let mut events = Vec::new();
        let mut after = after;
        let oldest: Option<i64> = conn
            .prepare_cached("SELECT MIN(seq) FROM feed")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(sql_error)?;
        // Numbers start at 1 and go without a gap (invariant 3): an oldest past 1 was pruned to.
        if let Some(oldest) = oldest
            && oldest > 1
            && after < oldest - 1
        {
            after = oldest - 1;
            events.push(Published::new(after, "reset", &oldest.to_string()));
        }
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, at, kind, ref, state FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .map_err(sql_error)?;
        let rows = stmt
            .query_map((after, max_events as i64), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(sql_error)?;
        let mut bytes = 0;
        for row in rows {
            let (seq, at, kind, id, state): Row = row.map_err(sql_error)?;
            let Some(event) = event(conn, seq, at, &kind, id, state, summary)? else {
                continue;
            };
            let published = Published::new(seq, &kind, &serde_json::to_string(&event)?);
            bytes += published.frame.len();
            events.push(published);
            if bytes >= max_bytes {
                break;
            }
        }
        Ok(events)
    })
}

fn event(
    conn: &Connection,
    seq: i64,
    at: i64,
    kind: &str,
    id: i64,
    state: Option<String>,
    summary: usize,
) -> Result<Option<FeedEvent>, StoreError> {
    // A command event shows the command as it was then: its state, and, for an overdue event, the
    // mark a later callback may have cleared.
    let then = |mut command: CommandRecord| {
        if let Some(state) = &state {
            command.state = CommandState::parse(state);
            command.updated_at = time(at);
        }
        command
    };
    Ok(match kind {
        "command" => states::by_id(conn, id)?.map(|command| FeedEvent::Command {
            seq,
            command: then(command),
        }),
        "overdue" => states::by_id(conn, id)?.map(|command| FeedEvent::Overdue {
            seq,
            command: CommandRecord {
                overdue_at: Some(time(at)),
                ..then(command)
            },
        }),
        _ => callbacks::by_id(conn, id)?.map(|callback| FeedEvent::Callback {
            seq,
            callback: callback.summarized(summary),
        }),
    })
}
