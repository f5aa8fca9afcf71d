//! Commands and their polls: recorded before they are sent, finished with Hermod's answer, listed,
//! searched, exported, and shown with their timeline.

use super::indexer::{self, Doc};
use super::select::Sql;
use super::states::{
    By, COLUMNS, advance_state, by_id, changed, existing, failure, publish, record, reported,
};
use super::writer::Batch;
use super::{audit, callbacks, time};
use super::{devices, find, matched};
use crate::params;
use crate::store::conn::{Conn, Row, Value};
use crate::store::{
    CommandFilter, Evidence, Exported, Link, LinkError, NewCommand, NewPoll, SendResult,
    StoreError, StoredDetail,
};
use hermod_shared::console::{
    CommandDetail, CommandRecord, CommandState, FeedEvent, HermodReply, ListPage, PollRecord,
    TimelineEntry,
};

/// Records a command before it is sent. It may run twice ([`super::writer::Writer::write_repeatable`]).
pub fn insert(b: &mut Batch<'_>, c: &NewCommand) -> Result<CommandRecord, StoreError> {
    let request = serde_json::to_string(&c.request)?;
    let id: i64 = b.db().one(
        "INSERT INTO commands (client, type, state, external_id, created_at, updated_at, \
         request, reissue_of, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        &params![
            &c.client,
            &c.command_type,
            CommandState::Sending.as_str(),
            &c.external_id,
            b.now(),
            b.now(),
            &request,
            c.reissue_of,
            &c.created_by,
        ],
    )?;
    b.indexable();
    let command = CommandRecord {
        id,
        client: c.client.clone(),
        command_type: c.command_type.clone(),
        state: CommandState::Sending,
        command_id: None,
        external_id: c.external_id.clone(),
        created_at: time(b.now()),
        updated_at: time(b.now()),
        expires_at: None,
        destinations: Vec::new(),
        request: c.request.clone(),
        answer: None,
        reissue_of: c.reissue_of,
        created_by: c.created_by.clone(),
        overdue_at: None,
        reason: None,
        matched: Vec::new(),
    };
    publish(b, &command)?;
    Ok(command)
}

/// Matches the callbacks of `command_id` that came before the command knew its id, each moving the
/// command on as a callback does; gives the command as it then is.
fn adopt(
    b: &mut Batch<'_>,
    mut command: CommandRecord,
    command_id: &str,
) -> Result<CommandRecord, StoreError> {
    let early: Vec<(i64, Option<String>, Option<String>)> = b.db().query(
        "UPDATE callbacks SET command = ? WHERE client = ? AND command_id = ? \
         AND command IS NULL RETURNING id, state, reason",
        &params![command.id, &command.client, command_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (callback, state, reason) in early {
        callbacks::changed(b, callback)?;
        let state = reported(state.as_deref());
        if advance_state(b, command.id, &state, By::Callback, reason.as_deref())? {
            command = existing(b.db(), command.id)?;
        }
    }
    Ok(command)
}

pub fn link(b: &mut Batch<'_>, l: Link) -> Result<CommandRecord, LinkError> {
    let Some(command) = by_id(b.db(), l.id)? else {
        return Err(LinkError::NotFound);
    };
    if command.state != CommandState::SendUnknown || command.command_id.is_some() {
        return Err(LinkError::NotUnknown(command.id, command.state));
    }
    let holder: Option<i64> = b.db().query_row(
        "SELECT id FROM commands WHERE client = ? AND command_id = ? LIMIT 1",
        &params![&command.client, &l.command_id],
        |r| r.get(0),
    )?;
    if let Some(holder) = holder {
        return Err(LinkError::Taken(holder));
    }
    // Hermod has it: its outcome is now awaited, like any command Hermod accepted.
    b.db().execute(
        "UPDATE commands SET state = ?, command_id = ?, updated_at = ?, \
         callback_due = expires_at WHERE id = ?",
        &params![
            CommandState::InProgress.as_str(),
            &l.command_id,
            b.now(),
            command.id,
        ],
    )?;
    let mut command = existing(b.db(), command.id)?;
    command = adopt(b, command, &l.command_id)?;
    publish(b, &command)?;
    let mut entry = l.audit;
    entry.target = Some(command.id.to_string());
    audit::append(b, &entry)?;
    Ok(command)
}

/// Records what came of a send, with its audit line. It may run twice, as [`insert`].
pub fn finish_send(b: &mut Batch<'_>, s: &SendResult) -> Result<CommandRecord, StoreError> {
    let mut command = existing(b.db(), s.id)?;
    let mut command_id = s.command_id.clone();
    if command_id.is_none()
        && s.state == CommandState::SendUnknown
        && let Some(external_id) = &command.external_id
    {
        // Hermod's callback may have come while the send was still waiting for its answer: it
        // names the command Hermod created (by externalId), so that commandId is adopted.
        command_id = b.db().query_row(
            "SELECT command_id FROM callbacks WHERE client = ? AND external_id = ? \
             AND command IS NULL AND command_id IS NOT NULL AND received_at >= ? \
             ORDER BY id DESC LIMIT 1",
            &params![
                &command.client,
                external_id,
                crate::clock::parse_rfc3339(&command.created_at),
            ],
            |r| r.get(0),
        )?;
    }
    // A command Hermod created awaits its callback from now until its expiry: callbacks come "for
    // command responses and timeouts" (docs/hermod.md). Callbacks adopted below end the wait.
    let callback_due = s.expires_at.filter(|_| command_id.is_some());
    let reason = failure(&s.state, s.reason.as_deref());
    b.db().execute(
        "UPDATE commands SET state = ?, command_id = ?, destinations = ?, answer = ?, \
         expires_at = ?, updated_at = ?, callback_due = ?, reason = ? WHERE id = ?",
        &params![
            s.state.as_str(),
            &command_id,
            serde_json::to_string(&s.destinations).unwrap_or_default(),
            serde_json::to_string(&s.reply).unwrap_or_default(),
            s.expires_at,
            b.now(),
            callback_due,
            reason,
            s.id,
        ],
    )?;
    b.unindexed(Doc::Answer.key(s.id))?;
    command.state = s.state.clone();
    command.command_id = command_id;
    command.destinations = s.destinations.clone();
    command.answer = Some(s.reply.clone());
    command.expires_at = s.expires_at.map(time);
    command.updated_at = time(b.now());
    command.reason = reason.map(str::to_string);
    if let Some(command_id) = command.command_id.clone() {
        // Callbacks that beat Hermod's answer here are matched now.
        command = adopt(b, command, &command_id)?;
    }
    publish(b, &command)?;
    let mut entry = s.audit.clone();
    if let serde_json::Value::Object(detail) = &mut entry.detail {
        detail.insert("command_id".into(), command.command_id.clone().into());
        detail.insert("state".into(), command.state.as_str().into());
    }
    entry.target = Some(command.id.to_string());
    audit::append(b, &entry)?;
    Ok(command)
}

pub fn insert_poll(
    b: &mut Batch<'_>,
    p: NewPoll,
) -> Result<(PollRecord, CommandRecord), StoreError> {
    let id: i64 = b.db().one(
        "INSERT INTO polls (command, at, reply) VALUES (?, ?, ?) RETURNING id",
        &params![
            p.command,
            b.now(),
            serde_json::to_string(&p.reply).unwrap_or_default(),
        ],
    )?;
    b.indexable();
    let moved = match &p.state {
        Some(state) => advance_state(b, p.command, state, By::Poll, p.reason.as_deref())?,
        None => false,
    };
    let command = if moved {
        changed(b, p.command)?
    } else {
        existing(b.db(), p.command)?
    };
    let poll = PollRecord {
        id,
        command: p.command,
        reply: p.reply,
    };
    Ok((poll, command))
}

/// One command and everything that happened to it, in time order: with `most`, only its newest
/// `most` callbacks and polls (a command polled or called back thousands of times must not make one
/// page of it megabytes), the others counted in `omitted`.
pub fn detail(
    conn: Conn<'_>,
    id: i64,
    most: Option<usize>,
) -> Result<Option<StoredDetail>, StoreError> {
    conn.snapshot(|conn| detail_now(conn, id, most))
}

/// Everything kept about command `id`, for its evidence file: its whole detail and the audit
/// entries about it, read at one moment.
pub fn evidence(conn: Conn<'_>, id: i64) -> Result<Option<Evidence>, StoreError> {
    conn.snapshot(|conn| {
        let Some(detail) = detail_now(conn, id, None)? else {
            return Ok(None);
        };
        let audit = audit::about_command(conn, id)?;
        Ok(Some(Evidence { detail, audit }))
    })
}

fn poll_record(r: &Row<'_>) -> Result<PollRecord, StoreError> {
    Ok(PollRecord {
        id: r.get(0)?,
        command: r.get(1)?,
        reply: r.json(2)?,
    })
}

/// One poll, whole.
pub fn poll(conn: Conn<'_>, id: i64) -> Result<Option<PollRecord>, StoreError> {
    conn.query_row(
        "SELECT id, command, reply FROM polls WHERE id = ?",
        &params![id],
        poll_record,
    )
}

/// [`detail`] inside a read transaction already open.
fn detail_now(
    conn: Conn<'_>,
    id: i64,
    most: Option<usize>,
) -> Result<Option<StoredDetail>, StoreError> {
    let limit = most.map_or(i64::MAX, |m| m as i64);
    {
        let Some(command) = by_id(conn, id)? else {
            return Ok(None);
        };
        let callbacks = callbacks::of_command(conn, id, limit)?;
        let mut polls: Vec<PollRecord> = conn.query(
            "SELECT id, command, reply FROM polls WHERE command = ? ORDER BY id DESC LIMIT ?",
            &params![id, limit],
            poll_record,
        )?;
        polls.reverse();
        let count = |sql: &str, shown: usize| -> Result<u64, StoreError> {
            if (shown as i64) < limit {
                return Ok(0);
            }
            let all: i64 = conn.one(sql, &params![id])?;
            Ok((all as u64).saturating_sub(shown as u64))
        };
        let omitted = count(
            "SELECT COUNT(*) FROM callbacks WHERE command = ?",
            callbacks.len(),
        )? + count("SELECT COUNT(*) FROM polls WHERE command = ?", polls.len())?;
        let mut timeline = vec![TimelineEntry::Sent {
            at: command.created_at.clone(),
            decoded: Vec::new(),
        }];
        if let Some(reply) = &command.answer {
            timeline.push(TimelineEntry::Answer {
                reply: HermodReply::clone(reply),
                decoded: Vec::new(),
            });
        }
        timeline.extend(
            callbacks
                .into_iter()
                .map(|callback| TimelineEntry::Callback {
                    callback,
                    decoded: Vec::new(),
                }),
        );
        timeline.extend(polls.into_iter().map(|poll| TimelineEntry::Poll {
            poll,
            decoded: Vec::new(),
        }));
        // Our timestamps are fixed-width UTC, so they sort as text.
        timeline.sort_by(|a, b| a.at().cmp(b.at()));
        let mut undecoded = Vec::new();
        for (i, entry) in timeline.iter_mut().enumerate() {
            let doc = match entry {
                TimelineEntry::Sent { .. } => Doc::Request.key(id),
                TimelineEntry::Answer { .. } => Doc::Answer.key(id),
                TimelineEntry::Callback { callback, .. } => Doc::Callback.key(callback.id),
                TimelineEntry::Poll { poll, .. } => Doc::Poll.key(poll.id),
            };
            match indexer::decoded(conn, doc)? {
                Some(items) => *entry.decoded_mut() = items,
                None => undecoded.push(i),
            }
        }
        // Through commands_by_reissue (layout 4), which holds only re-issues.
        let reissued_as = conn.query(
            "SELECT id FROM commands WHERE reissue_of = ? ORDER BY id",
            &params![id],
            |r| r.get(0),
        )?;
        Ok(Some(StoredDetail {
            detail: CommandDetail {
                command,
                timeline,
                omitted,
                qr: Vec::new(),
                curl: String::new(),
                reissued_as,
                devices: devices::of_command(conn, id)?,
            },
            undecoded,
        }))
    }
}

/// `SELECT <select> FROM commands c WHERE <filters>`: the whole list, before its page is taken.
fn query(conn: Conn<'_>, f: &CommandFilter, select: &str) -> Sql {
    let mut sql = Sql::new(format!("SELECT {select} FROM commands c WHERE 1 = 1"));
    if let Some(q) = f.query.search() {
        find::commands(&mut sql, conn, "c.id", &q);
    }
    sql.and_eq("c.type", &f.command_type)
        .and_eq("c.state", &f.state)
        .and_eq("c.client", &f.client)
        .and_set("c.overdue_at", f.overdue)
        .and_holding("c.reason", &f.reason);
    devices::and_commands_of(&mut sql, "c.id", &f.device);
    sql.and_window("c.created_at", &f.query);
    sql
}

pub fn list(conn: Conn<'_>, f: &CommandFilter) -> Result<ListPage<CommandRecord>, StoreError> {
    let counted = query(conn, f, "1");
    let mut page = query(conn, f, COLUMNS)
        .newest_first("c.id", &f.query)
        .page(conn, f.query.page, Some(&counted), record, |c| c.id)?;
    if let Some(q) = f.query.search() {
        matched::commands(conn, &q, &mut page.items)?;
    }
    Ok(page)
}

/// A page of the export: each command with everything decoded from it and its callbacks.
pub fn export(
    conn: Conn<'_>,
    f: &CommandFilter,
) -> Result<ListPage<Exported<CommandRecord>>, StoreError> {
    let select = format!(
        "{COLUMNS}, trim(COALESCE((SELECT string_agg(NULLIF(words, ''), ' ') FROM decoded \
         WHERE doc IN (c.id * 4, c.id * 4 + 3)), '') || ' ' || \
         COALESCE((SELECT string_agg(NULLIF(d.words, ''), ' ') FROM callbacks b \
         JOIN decoded d ON d.doc = b.id * 4 + 1 WHERE b.command = c.id), ''))"
    );
    let row = |r: &Row<'_>| {
        Ok(Exported {
            record: record(r)?,
            decoded: r.get(16)?,
        })
    };
    query(conn, f, &select).newest_first("c.id", &f.query).page(
        conn,
        f.query.page,
        None,
        row,
        |e| e.record.id,
    )
}

/// When a follow-up poll is due (see [`crate::store::Store::due_follow_ups`]).
pub struct Due {
    pub now: i64,
    pub after_ms: i64,
    pub max_polls: u32,
    pub limit: usize,
}

pub fn due_follow_ups(
    conn: Conn<'_>,
    clients: &[String],
    due: Due,
) -> Result<Vec<i64>, StoreError> {
    // `IN ()` is PostgreSQL's syntax error.
    if clients.is_empty() {
        return Ok(Vec::new());
    }
    let listed = (5..5 + clients.len())
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut params = Vec::from(params![
        due.now,
        due.after_ms,
        due.max_polls,
        due.limit as i64,
    ]);
    params.extend(clients.iter().map(Value::from));
    // PostgreSQL shifts by an INTEGER count only, and would type `?2` as the count's type.
    conn.query(
        &format!(
            "SELECT id FROM ( \
               SELECT c.id, c.expires_at, \
                 (SELECT COUNT(*) FROM polls p WHERE p.command = c.id AND p.at > c.expires_at) AS n \
               FROM commands c \
               WHERE c.expires_at IS NOT NULL AND c.expires_at <= ?1 AND c.command_id IS NOT NULL \
                 AND c.client IN ({listed}) \
                 AND NOT EXISTS (SELECT 1 FROM callbacks k WHERE k.command = c.id)) AS awaited \
             WHERE n < ?3 AND expires_at + (CAST(?2 AS BIGINT) << CAST(n AS INTEGER)) <= ?1 \
             ORDER BY expires_at LIMIT ?4"
        ),
        &params,
        |r| r.get(0),
    )
}

/// Marks overdue the awaited commands whose callback is late by `after_ms` past their expiry, at most
/// `limit` of them, the longest awaited first; each gets an `overdue` feed event. Gives them as marked.
pub fn mark_overdue(
    b: &mut Batch<'_>,
    after_ms: i64,
    limit: usize,
) -> Result<Vec<CommandRecord>, StoreError> {
    // PostgreSQL types `?1 - ?2` by neither side: the cast says which.
    let mut ids: Vec<i64> = b.db().query(
        "UPDATE commands SET overdue_at = ?1, updated_at = ?1, callback_due = NULL WHERE id IN ( \
           SELECT id FROM commands WHERE callback_due <= ?1 - CAST(?2 AS BIGINT) \
           ORDER BY callback_due LIMIT ?3) RETURNING id",
        &params![b.now(), after_ms, limit as i64],
        |r| r.get(0),
    )?;
    ids.sort_unstable();
    let mut marked = Vec::with_capacity(ids.len());
    for id in ids {
        let command = existing(b.db(), id)?;
        b.event(|seq| FeedEvent::Overdue {
            seq,
            command: command.clone(),
        })?;
        marked.push(command);
    }
    Ok(marked)
}
