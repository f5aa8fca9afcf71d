//! The feed's history: each row points at the record it is about. Replay rebuilds the events from the
//! records, so a body is stored once; a command event keeps the state the command had then, and a
//! callback shows whether it is matched now. Retention removes the oldest events (`retention.rs`): a
//! replay from before what is kept starts with a `reset` instead of skipping what went.

use super::{callbacks, states, time};
use crate::feed::Published;
use crate::params;
use crate::store::StoreError;
use crate::store::conn::Conn;
use hermod_shared::console::{CommandRecord, CommandState, FeedEvent};

type Row = (i64, i64, String, i64, Option<String>);

/// Events after `after`, oldest first: at most `max_events`, and no more once `max_bytes` of them are
/// read (but always one, when there is one). When events after `after` were pruned, a `reset` comes
/// first: its `id:` is the sequence just before the oldest event kept (where the stream now stands),
/// its `data:` that oldest event's sequence.
pub fn after(
    conn: Conn<'_>,
    after: i64,
    max_events: usize,
    max_bytes: usize,
    summary: usize,
) -> Result<Vec<Published>, StoreError> {
    // One read transaction: a batch pruned between the two reads would otherwise go unnoticed.
    conn.snapshot(|conn| {
        let mut events = Vec::new();
        let mut after = after;
        let oldest: Option<i64> = conn.one("SELECT MIN(seq) FROM feed", &[])?;
        // Numbers start at 1 and go without a gap (invariant 3): an oldest past 1 was pruned to.
        if let Some(oldest) = oldest
            && oldest > 1
            && after < oldest - 1
        {
            after = oldest - 1;
            events.push(Published::new(after, "reset", &oldest.to_string()));
        }
        let rows = conn.query(
            "SELECT seq, at, kind, ref, state FROM feed WHERE seq > ? ORDER BY seq LIMIT ?",
            &params![after, max_events as i64],
            |r| -> Result<Row, StoreError> {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            },
        )?;
        let mut bytes = 0;
        for (seq, at, kind, id, state) in rows {
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
    conn: Conn<'_>,
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
