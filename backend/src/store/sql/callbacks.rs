//! Callbacks: stored once each (a repeat is recognised by its digest), matched to their command,
//! listed, searched and exported. Storing one is the hot path of the whole console: a handful of
//! prepared statements, no read-back, nothing that grows with history.

use super::select::Sql;
use super::states::{self, By, advance_state, reported};
use super::time;
use super::writer::{Batch, FeedKind};
use super::{devices, find, matched};
use crate::params;
use crate::store::conn::{Conn, Row, Value};
use crate::store::{CallbackFilter, CallbackSaved, Exported, NewCallback, StoreError};
use hermod_shared::console::{CallbackRecord, CommandState, FeedEvent, ListPage, summary as cut};
use serde::Serialize;
use sha2::{Digest, Sha256};

const COLUMNS: &str = "id, received_at, client, type, command_id, command, state, external_id, \
     body, headers, auth, path";

fn record(r: &Row<'_>) -> Result<CallbackRecord, StoreError> {
    Ok(CallbackRecord {
        id: r.get(0)?,
        received_at: time(r.get(1)?),
        client: r.get(2)?,
        callback_type: r.get(3)?,
        command_id: r.get(4)?,
        command: r.get(5)?,
        state: r.get(6)?,
        external_id: r.get(7)?,
        body: r.get(8)?,
        headers: r.json(9)?,
        auth: r.get(10)?,
        path: r.get(11)?,
        body_truncated: false,
        matched: Vec::new(),
    })
}

/// A callback made ready to store, off the writer's thread: what takes time per byte of body (its
/// digest, its JSON for the feed) is done by the request that brought it, in parallel with others.
pub struct Prepared {
    c: NewCallback,
    /// 16 bytes of SHA-256 over what makes a delivery the same one: client, type, commandId and body.
    digest: [u8; 16],
    headers: String,
    /// The feed event's record without its `id` and `command`, which the writer fills in.
    fields: String,
}

/// The record's fields the request knows, in the event's JSON.
#[derive(Serialize)]
struct Fields<'a> {
    received_at: String,
    client: &'a Option<String>,
    #[serde(rename = "type")]
    callback_type: &'a str,
    command_id: &'a Option<String>,
    state: &'a Option<String>,
    external_id: &'a Option<String>,
    body: &'a str,
    headers: &'a [(String, String)],
    auth: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    body_truncated: bool,
}

impl Prepared {
    /// `summary`: how much of the body the feed event carries.
    pub fn new(c: NewCallback, summary: usize) -> Result<Prepared, StoreError> {
        let mut h = Sha256::new();
        for part in [
            c.client.as_deref().unwrap_or(""),
            &c.callback_type,
            c.command_id.as_deref().unwrap_or(""),
            &c.body,
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        let mut digest = [0u8; 16];
        digest.copy_from_slice(&h.finalize()[..16]);
        // The live feed carries what lists carry: a 5 MiB body would go to every open page.
        let (body, body_truncated) = cut(&c.body, summary);
        let fields = serde_json::to_string(&Fields {
            received_at: time(c.received_at),
            client: &c.client,
            callback_type: &c.callback_type,
            command_id: &c.command_id,
            state: &c.state,
            external_id: &c.external_id,
            body,
            headers: &c.headers,
            auth: &c.auth,
            path: &c.path,
            body_truncated,
        })?;
        Ok(Prepared {
            headers: serde_json::to_string(&c.headers)?,
            digest,
            fields,
            c,
        })
    }

    /// Writes the `callback` feed event, once the writer knows the record's id and command.
    fn event(&self, seq: i64, id: i64, command: Option<i64>, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "{{\"callback\":{{\"seq\":{seq},\"callback\":{{\"id\":{id},\"command\":"
        );
        match command {
            Some(c) => drop(write!(out, "{c},")),
            None => out.push_str("null,"),
        }
        // `fields` is a JSON object: its members follow `id` and `command` in the record.
        out.push_str(&self.fields[1..]);
        out.push_str("}}");
    }
}

/// Stores the callback; it may run twice ([`super::writer::Writer::write_repeatable`]).
pub fn insert(b: &mut Batch<'_>, p: &Prepared) -> Result<CallbackSaved, StoreError> {
    let c = &p.c;
    let conn = b.db();
    // Nothing may come between this look and the insert. On SQLite the one writer sees to that; on
    // PostgreSQL another replica may be taking the same delivery: a lock on its digest, held to the
    // commit, makes the later one wait and then find the first.
    if let Conn::Postgres(_) = conn {
        let key = i64::from_be_bytes(p.digest[..8].try_into().expect("16 bytes"));
        conn.query_row("SELECT pg_advisory_xact_lock(?)", &params![key], |_| Ok(()))?;
    }
    let first: Option<i64> = conn.query_row(
        "SELECT id FROM callbacks WHERE client IS NOT DISTINCT FROM ?1 \
         AND command_id IS NOT DISTINCT FROM ?2 AND digest = ?3",
        &params![&c.client, &c.command_id, &p.digest[..]],
        |r| r.get(0),
    )?;
    if let Some(first) = first {
        return Ok(CallbackSaved::Duplicate(first));
    }
    let command = match_command(conn, c)?;
    let id = conn.insert(
        "INSERT INTO callbacks (received_at, client, type, command_id, command, state, \
         external_id, body, headers, auth, digest, path, reason) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        &params![
            c.received_at,
            &c.client,
            &c.callback_type,
            &c.command_id,
            command,
            &c.state,
            &c.external_id,
            &c.body,
            &p.headers,
            &c.auth,
            &p.digest[..],
            &c.path,
            &c.reason,
        ],
    )?;
    b.indexable();
    b.event_json(
        FeedKind::Callback,
        id,
        None,
        p.fields.len() + 64,
        |seq, frame| p.event(seq, id, command, frame),
    )?;
    if let Some(command) = command
        && advance_state(
            b,
            command,
            &reported(c.state.as_deref()),
            By::Callback,
            c.reason.as_deref(),
        )?
    {
        states::changed(b, command)?;
    }
    Ok(CallbackSaved::Stored(id))
}

/// The command a callback belongs to: by (client, commandId); failing that, a command whose send ended
/// unknown (so its commandId was never learnt) with the same client and externalId, which then adopts
/// the callback's commandId. The newest, when there are several.
///
/// No `ORDER BY … LIMIT 1` here: with it SQLite compiles the statement anew on every run (its planner
/// weighs the bound values), which cost more than the rest of storing a callback.
fn match_command(conn: Conn<'_>, c: &NewCallback) -> Result<Option<i64>, StoreError> {
    let (Some(client), Some(command_id)) = (&c.client, &c.command_id) else {
        return Ok(None);
    };
    let newest = |sql: &str, params: &[Value<'_>]| -> Result<Option<i64>, StoreError> {
        Ok(conn
            .query(sql, params, |r| r.get::<i64>(0))?
            .into_iter()
            .max())
    };
    let by_id = newest(
        "SELECT id FROM commands WHERE client = ?1 AND command_id = ?2",
        &params![client, command_id],
    )?;
    if by_id.is_some() {
        return Ok(by_id);
    }
    let Some(external_id) = &c.external_id else {
        return Ok(None);
    };
    let unknown = newest(
        "SELECT id FROM commands WHERE client = ?1 AND external_id = ?2 AND command_id IS NULL \
         AND state = ?3",
        &params![client, external_id, CommandState::SendUnknown.as_str()],
    )?;
    if let Some(id) = unknown {
        conn.execute(
            "UPDATE commands SET command_id = ?1 WHERE id = ?2",
            &params![command_id, id],
        )?;
    }
    Ok(unknown)
}

pub fn by_id(conn: Conn<'_>, id: i64) -> Result<Option<CallbackRecord>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM callbacks WHERE id = ?"),
        &params![id],
        record,
    )
}

/// Publishes the callback as it now is (matched to its command, say).
pub fn changed(b: &mut Batch<'_>, id: i64) -> Result<(), StoreError> {
    let callback = by_id(b.db(), id)?
        .ok_or_else(|| StoreError(format!("callback {id} is not in the store")))?;
    b.event(|seq| FeedEvent::Callback { seq, callback })
}

/// A command's callbacks, oldest first: the newest `most` of them (all with `i64::MAX`).
pub fn of_command(
    conn: Conn<'_>,
    command: i64,
    most: i64,
) -> Result<Vec<CallbackRecord>, StoreError> {
    let mut sql = Sql::new(format!("SELECT {COLUMNS} FROM callbacks WHERE command = "));
    sql.bind(command)
        .push(" ORDER BY id DESC LIMIT ")
        .bind(most);
    let mut rows = sql.rows(conn, record)?;
    rows.reverse();
    Ok(rows)
}

/// `SELECT <select> FROM callbacks WHERE <filters>`: the whole list, before its page is taken.
fn query(conn: Conn<'_>, f: &CallbackFilter, select: &str) -> Sql {
    let mut sql = Sql::new(format!("SELECT {select} FROM callbacks WHERE 1 = 1"));
    if let Some(q) = f.query.search() {
        find::callbacks(&mut sql, conn, "id", &q);
    }
    sql.and_eq("type", &f.callback_type)
        .and_eq("state", &f.state)
        .and_eq("client", &f.client)
        .and_set("command", f.unmatched.map(|u| !u));
    if let Some(c) = f.command {
        sql.push(" AND command = ").bind(c);
    }
    devices::and_callbacks_of(&mut sql, "id", "command", &f.device);
    sql.and_window("received_at", &f.query);
    sql
}

pub fn list(conn: Conn<'_>, f: &CallbackFilter) -> Result<ListPage<CallbackRecord>, StoreError> {
    let counted = query(conn, f, "1");
    let mut page = query(conn, f, COLUMNS).newest_first("id", &f.query).page(
        conn,
        f.query.page,
        Some(&counted),
        record,
        |c| c.id,
    )?;
    if let Some(q) = f.query.search() {
        matched::callbacks(conn, &q, &mut page.items)?;
    }
    Ok(page)
}

/// A page of the export: each callback with what was decoded from it.
pub fn export(
    conn: Conn<'_>,
    f: &CallbackFilter,
) -> Result<ListPage<Exported<CallbackRecord>>, StoreError> {
    let select =
        format!("{COLUMNS}, COALESCE((SELECT words FROM decoded WHERE doc = id * 4 + 1), '')");
    let row = |r: &Row<'_>| {
        Ok(Exported {
            record: record(r)?,
            decoded: r.get(12)?,
        })
    };
    query(conn, f, &select)
        .newest_first("id", &f.query)
        .page(conn, f.query.page, None, row, |e| e.record.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_made_around_the_prepared_fields_is_the_feed_event_of_the_record() {
        let c = NewCallback {
            received_at: 1_790_000_000_123,
            client: Some("idm".into()),
            callback_type: "sign".into(),
            command_id: Some("1011".into()),
            state: None,
            reason: None,
            external_id: Some("ext \"quoted\"\n".into()),
            body: "{\"commandId\":\"1011\",\"x\":\"é\\u0000\"}".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            auth: "basic ok (idm-callback)".into(),
            path: "/clients/idm/rest/callback/sign".into(),
        };
        let record = |command| CallbackRecord {
            id: 42,
            received_at: time(c.received_at),
            client: c.client.clone(),
            callback_type: c.callback_type.clone(),
            command_id: c.command_id.clone(),
            command,
            state: c.state.clone(),
            external_id: c.external_id.clone(),
            body: c.body.clone(),
            headers: c.headers.clone(),
            auth: c.auth.clone(),
            path: Some(c.path.clone()),
            body_truncated: false,
            matched: Vec::new(),
        };
        let p = Prepared::new(c.clone(), hermod_shared::console::SUMMARY_BODY_BYTES).unwrap();
        for command in [None, Some(7)] {
            let mut json = String::new();
            p.event(9, 42, command, &mut json);
            let event: FeedEvent = serde_json::from_str(&json).unwrap();
            assert_eq!(
                event,
                FeedEvent::Callback {
                    seq: 9,
                    callback: record(command)
                }
            );
        }
    }
}
