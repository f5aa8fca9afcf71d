//! The single writer. SQLite allows one writer at a time; rather than have handlers queue on its lock and
//! pay one fsync each, they hand their write to this task, which runs everything waiting in one
//! transaction (each write in its own savepoint, so one failure does not sink the others), commits once,
//! then answers every handler and publishes the feed events in sequence order.

use super::rows::{CallbackRow, CommandRow, PollRow, callback_columns, command_columns};
use super::{Store, StoreError};
use crate::clock::now_ms;
use crate::feed::{Feed, Published};
use futures_util::future::BoxFuture;
use hermod_shared::console::{
    CallbackRecord, CommandRecord, CommandState, FeedEvent, HermodReply, PollRecord,
};
use hermod_shared::hermod::Destination;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{Connection, SqliteConnection};
use std::any::Any;
use tokio::sync::{mpsc, oneshot};

/// Writes waiting beyond this many go into the next transaction.
const MAX_BATCH: usize = 256;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A write that is not one of the feed's: it runs in the same transaction as everything else in its
/// batch, in its own savepoint.
type Job = Box<
    dyn for<'c> FnOnce(
            &'c mut SqliteConnection,
        ) -> BoxFuture<'c, Result<Box<dyn Any + Send>, StoreError>>
        + Send,
>;

pub(super) enum Op {
    Run(Job, Reply<Box<dyn Any + Send>>),
    InsertCommand(NewCommand, Reply<CommandRecord>),
    FinishSend(SendResult, Reply<CommandRecord>),
    InsertCallback(NewCallback, Reply<CallbackSaved>),
    InsertPoll(NewPoll, Reply<(PollRecord, CommandRecord)>),
}

/// A command about to be sent: recorded as `SENDING` first, so nothing is lost if the send never ends.
pub struct NewCommand {
    pub client: String,
    pub command_type: String,
    pub external_id: Option<String>,
    pub request: Value,
    pub reissue_of: Option<i64>,
    pub created_by: Option<String>,
    /// What the decoder found in the request, as searchable words.
    pub decoded: String,
}

/// What came of sending a command to Hermod.
pub struct SendResult {
    pub id: i64,
    pub state: CommandState,
    pub command_id: Option<String>,
    pub destinations: Vec<Destination>,
    pub reply: HermodReply,
    pub expires_at: Option<i64>,
    /// What the decoder found in Hermod's answer.
    pub decoded: String,
}

pub struct NewCallback {
    pub received_at: i64,
    pub client: Option<String>,
    pub callback_type: String,
    pub command_id: Option<String>,
    pub state: Option<String>,
    pub external_id: Option<String>,
    pub body: String,
    pub headers: Vec<(String, String)>,
    pub auth: String,
    /// What the decoder found in the body.
    pub decoded: String,
}

pub enum CallbackSaved {
    Stored(Box<CallbackRecord>),
    /// The same delivery was stored before, under this id.
    Duplicate(i64),
}

pub struct NewPoll {
    pub command: i64,
    pub reply: HermodReply,
    /// The state the answer reports, if it reports one.
    pub state: Option<CommandState>,
    pub decoded: String,
}

impl Store {
    async fn write<T>(&self, make: impl FnOnce(Reply<T>) -> Op) -> Result<T, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(make(tx))
            .await
            .map_err(|_| StoreError("the store's writer has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError("the store's writer has stopped".into()))?
    }

    /// Runs `job` on the writer's connection, inside its transaction.
    pub async fn run<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let erased: Job = Box::new(move |conn| {
            Box::pin(async move { job(conn).await.map(|v| Box::new(v) as Box<dyn Any + Send>) })
        });
        let any = self.write(|r| Op::Run(erased, r)).await?;
        any.downcast::<T>()
            .map(|v| *v)
            .map_err(|_| StoreError("a store job answered with the wrong type".into()))
    }

    pub async fn insert_command(&self, c: NewCommand) -> Result<CommandRecord, StoreError> {
        self.write(|r| Op::InsertCommand(c, r)).await
    }

    pub async fn finish_send(&self, s: SendResult) -> Result<CommandRecord, StoreError> {
        self.write(|r| Op::FinishSend(s, r)).await
    }

    pub async fn insert_callback(&self, c: NewCallback) -> Result<CallbackSaved, StoreError> {
        self.write(|r| Op::InsertCallback(c, r)).await
    }

    pub async fn insert_poll(&self, p: NewPoll) -> Result<(PollRecord, CommandRecord), StoreError> {
        self.write(|r| Op::InsertPoll(p, r)).await
    }
}

pub(super) async fn start(
    mut conn: SqliteConnection,
    feed: Feed,
) -> Result<mpsc::Sender<Op>, StoreError> {
    let next_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM feed")
        .fetch_one(&mut conn)
        .await?;
    let (tx, mut rx) = mpsc::channel::<Op>(MAX_BATCH * 4);
    tokio::spawn(async move {
        let mut w = Writer { next_seq };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            w.run_batch(&mut conn, &mut batch, &feed).await;
        }
    });
    Ok(tx)
}

/// Answers one handler once the batch's fate is known.
type Finish = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

fn finish_with<T: Send + 'static>(reply: Reply<T>, result: Result<T, StoreError>) -> Finish {
    Box::new(move |commit| {
        let _ = reply.send(match (result, commit) {
            (Ok(v), Ok(())) => Ok(v),
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(StoreError(e.0.clone())),
        });
    })
}

struct Writer {
    next_seq: i64,
}

impl Writer {
    async fn run_batch(&mut self, conn: &mut SqliteConnection, batch: &mut Vec<Op>, feed: &Feed) {
        let seq_before = self.next_seq;
        let mut events = Vec::new();
        let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
        let outcome = async {
            let mut tx = conn.begin().await?;
            for op in batch.drain(..) {
                finishes.push(self.apply_in_savepoint(&mut tx, op, &mut events).await?);
            }
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        // Ops that never ran still hold their reply senders: dropping them answers "writer stopped",
        // which the handlers turn into 503.
        batch.clear();
        match &outcome {
            Ok(()) => {
                for f in finishes {
                    f(Ok(()));
                }
                feed.publish(events);
            }
            Err(e) => {
                tracing::error!(error = %e, "store transaction failed");
                self.next_seq = seq_before;
                for f in finishes {
                    f(Err(e));
                }
            }
        }
    }

    /// Runs one write in its own savepoint. An `Err` means the connection itself is in trouble and the
    /// whole batch must go; a failed write alone is answered through its `Finish`.
    async fn apply_in_savepoint(
        &mut self,
        conn: &mut SqliteConnection,
        op: Op,
        events: &mut Vec<Published>,
    ) -> Result<Finish, StoreError> {
        let mark = (self.next_seq, events.len());
        sqlx::query("SAVEPOINT op").execute(&mut *conn).await?;
        Ok(match op {
            Op::Run(job, reply) => {
                let r = job(conn).await;
                finish_with(reply, self.settle(conn, r, mark, events).await?)
            }
            Op::InsertCommand(c, reply) => {
                let r = self.insert_command(conn, c, events).await;
                finish_with(reply, self.settle(conn, r, mark, events).await?)
            }
            Op::FinishSend(s, reply) => {
                let r = self.finish_send(conn, s, events).await;
                finish_with(reply, self.settle(conn, r, mark, events).await?)
            }
            Op::InsertCallback(c, reply) => {
                let r = self.insert_callback(conn, c, events).await;
                finish_with(reply, self.settle(conn, r, mark, events).await?)
            }
            Op::InsertPoll(p, reply) => {
                let r = self.insert_poll(conn, p, events).await;
                finish_with(reply, self.settle(conn, r, mark, events).await?)
            }
        })
    }

    /// Keeps a successful write, or undoes a failed one (its rows and its feed events) alone.
    async fn settle<T>(
        &mut self,
        conn: &mut SqliteConnection,
        result: Result<T, StoreError>,
        (seq_before, events_before): (i64, usize),
        events: &mut Vec<Published>,
    ) -> Result<Result<T, StoreError>, StoreError> {
        if result.is_ok() {
            sqlx::query("RELEASE op").execute(&mut *conn).await?;
        } else {
            sqlx::raw_sql("ROLLBACK TO op; RELEASE op")
                .execute(&mut *conn)
                .await?;
            self.next_seq = seq_before;
            events.truncate(events_before);
        }
        Ok(result)
    }

    async fn event(
        &mut self,
        conn: &mut SqliteConnection,
        event: impl FnOnce(i64) -> FeedEvent,
        events: &mut Vec<Published>,
    ) -> Result<(), StoreError> {
        let seq = self.next_seq;
        let ev = event(seq);
        let data = serde_json::to_string(&ev)?;
        sqlx::query("INSERT INTO feed (seq, at, kind, payload) VALUES (?, ?, ?, ?)")
            .bind(seq)
            .bind(now_ms())
            .bind(ev.name())
            .bind(&data)
            .execute(&mut *conn)
            .await?;
        self.next_seq += 1;
        events.push(Published {
            seq,
            name: ev.name(),
            data,
        });
        Ok(())
    }

    async fn command_event(
        &mut self,
        conn: &mut SqliteConnection,
        id: i64,
        events: &mut Vec<Published>,
    ) -> Result<CommandRecord, StoreError> {
        let record = command(conn, id).await?;
        let for_event = record.clone();
        self.event(
            conn,
            |seq| FeedEvent::Command {
                seq,
                command: for_event,
            },
            events,
        )
        .await?;
        Ok(record)
    }

    async fn callback_event(
        &mut self,
        conn: &mut SqliteConnection,
        id: i64,
        events: &mut Vec<Published>,
    ) -> Result<CallbackRecord, StoreError> {
        let sql = concat!(
            "SELECT ",
            callback_columns!(),
            " FROM callbacks WHERE id = ?"
        );
        let row: CallbackRow = sqlx::query_as(sql).bind(id).fetch_one(&mut *conn).await?;
        let record = CallbackRecord::try_from(row)?;
        let for_event = record.clone();
        self.event(
            conn,
            |seq| FeedEvent::Callback {
                seq,
                callback: for_event,
            },
            events,
        )
        .await?;
        Ok(record)
    }

    async fn insert_command(
        &mut self,
        conn: &mut SqliteConnection,
        c: NewCommand,
        events: &mut Vec<Published>,
    ) -> Result<CommandRecord, StoreError> {
        let now = now_ms();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO commands (client, type, state, external_id, created_at, updated_at, \
             request, reissue_of, created_by, decoded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             RETURNING id",
        )
        .bind(&c.client)
        .bind(&c.command_type)
        .bind(CommandState::Sending.as_str())
        .bind(&c.external_id)
        .bind(now)
        .bind(now)
        .bind(serde_json::to_string(&c.request)?)
        .bind(c.reissue_of)
        .bind(&c.created_by)
        .bind(&c.decoded)
        .fetch_one(&mut *conn)
        .await?;
        refresh_search(conn, id).await?;
        self.command_event(conn, id, events).await
    }

    async fn finish_send(
        &mut self,
        conn: &mut SqliteConnection,
        s: SendResult,
        events: &mut Vec<Published>,
    ) -> Result<CommandRecord, StoreError> {
        let current = command(conn, s.id).await?;
        let mut command_id = s.command_id.clone();
        if command_id.is_none()
            && s.state == CommandState::SendUnknown
            && let Some(external_id) = &current.external_id
        {
            // Hermod's callback may have come while the send was still waiting for its answer: it
            // names the command Hermod created (by externalId), so that commandId is adopted.
            command_id = sqlx::query_scalar(
                "SELECT command_id FROM callbacks WHERE client = ? AND external_id = ? \
                 AND command IS NULL AND command_id IS NOT NULL \
                 AND received_at >= (SELECT created_at FROM commands WHERE id = ?) \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(&current.client)
            .bind(external_id)
            .bind(s.id)
            .fetch_optional(&mut *conn)
            .await?;
        }
        sqlx::query(
            "UPDATE commands SET state = ?, command_id = ?, destinations = ?, answer = ?, \
             expires_at = ?, updated_at = ?, decoded = decoded || ' ' || ? WHERE id = ?",
        )
        .bind(s.state.as_str())
        .bind(&command_id)
        .bind(serde_json::to_string(&s.destinations)?)
        .bind(serde_json::to_string(&s.reply)?)
        .bind(s.expires_at)
        .bind(now_ms())
        .bind(&s.decoded)
        .bind(s.id)
        .execute(&mut *conn)
        .await?;
        if let Some(command_id) = &command_id {
            // Callbacks that beat Hermod's answer here are matched now.
            let early: Vec<(i64, Option<String>)> = sqlx::query_as(
                "UPDATE callbacks SET command = ? WHERE client = ? AND command_id = ? \
                 AND command IS NULL RETURNING id, state",
            )
            .bind(s.id)
            .bind(&current.client)
            .bind(command_id)
            .fetch_all(&mut *conn)
            .await?;
            for (callback_id, state) in early {
                self.callback_event(conn, callback_id, events).await?;
                if let Some(state) = state {
                    advance_state(conn, s.id, &CommandState::parse(&state)).await?;
                }
            }
        }
        refresh_search(conn, s.id).await?;
        self.command_event(conn, s.id, events).await
    }

    async fn insert_callback(
        &mut self,
        conn: &mut SqliteConnection,
        c: NewCallback,
        events: &mut Vec<Published>,
    ) -> Result<CallbackSaved, StoreError> {
        let digest = callback_digest(&c);
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO callbacks (received_at, client, type, command_id, state, external_id, body, \
             headers, auth, digest, decoded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (digest) DO NOTHING RETURNING id",
        )
        .bind(c.received_at)
        .bind(&c.client)
        .bind(&c.callback_type)
        .bind(&c.command_id)
        .bind(&c.state)
        .bind(&c.external_id)
        .bind(&c.body)
        .bind(serde_json::to_string(&c.headers)?)
        .bind(&c.auth)
        .bind(&digest)
        .bind(&c.decoded)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(id) = id else {
            let first: i64 = sqlx::query_scalar("SELECT id FROM callbacks WHERE digest = ?")
                .bind(&digest)
                .fetch_one(&mut *conn)
                .await?;
            return Ok(CallbackSaved::Duplicate(first));
        };
        sqlx::query(
            "INSERT INTO callback_search (rowid, text) SELECT id, body || ' ' || decoded || ' ' || \
             COALESCE(command_id, '') || ' ' || COALESCE(external_id, '') FROM callbacks WHERE id = ?",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        if let Some(command) = match_command(conn, &c).await? {
            sqlx::query("UPDATE callbacks SET command = ? WHERE id = ?")
                .bind(command)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let changed = match &c.state {
                Some(state) => advance_state(conn, command, &CommandState::parse(state)).await?,
                None => false,
            };
            refresh_search(conn, command).await?;
            let record = self.callback_event(conn, id, events).await?;
            if changed {
                self.command_event(conn, command, events).await?;
            }
            return Ok(CallbackSaved::Stored(Box::new(record)));
        }
        Ok(CallbackSaved::Stored(Box::new(
            self.callback_event(conn, id, events).await?,
        )))
    }

    async fn insert_poll(
        &mut self,
        conn: &mut SqliteConnection,
        p: NewPoll,
        events: &mut Vec<Published>,
    ) -> Result<(PollRecord, CommandRecord), StoreError> {
        let row: PollRow = sqlx::query_as(
            "INSERT INTO polls (command, at, reply, decoded) VALUES (?, ?, ?, ?) \
             RETURNING id, command, reply",
        )
        .bind(p.command)
        .bind(now_ms())
        .bind(serde_json::to_string(&p.reply)?)
        .bind(&p.decoded)
        .fetch_one(&mut *conn)
        .await?;
        refresh_search(conn, p.command).await?;
        let changed = match &p.state {
            Some(state) => advance_state(conn, p.command, state).await?,
            None => false,
        };
        let record = if changed {
            self.command_event(conn, p.command, events).await?
        } else {
            command(conn, p.command).await?
        };
        Ok((PollRecord::try_from(row)?, record))
    }
}

async fn command(conn: &mut SqliteConnection, id: i64) -> Result<CommandRecord, StoreError> {
    let sql = concat!("SELECT ", command_columns!(), " FROM commands WHERE id = ?");
    let row: CommandRow = sqlx::query_as(sql).bind(id).fetch_one(&mut *conn).await?;
    row.try_into()
}

/// The command a callback belongs to: by (client, commandId); failing that, a command whose send ended
/// unknown (so its commandId was never learnt) with the same client and externalId, which then adopts
/// the callback's commandId.
async fn match_command(
    conn: &mut SqliteConnection,
    c: &NewCallback,
) -> Result<Option<i64>, StoreError> {
    let (Some(client), Some(command_id)) = (&c.client, &c.command_id) else {
        return Ok(None);
    };
    let by_id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM commands WHERE client = ? AND command_id = ? ORDER BY id DESC LIMIT 1",
    )
    .bind(client)
    .bind(command_id)
    .fetch_optional(&mut *conn)
    .await?;
    if by_id.is_some() {
        return Ok(by_id);
    }
    let Some(external_id) = &c.external_id else {
        return Ok(None);
    };
    let adopted: Option<i64> = sqlx::query_scalar(
        "UPDATE commands SET command_id = ? WHERE id = (SELECT id FROM commands WHERE client = ? \
         AND external_id = ? AND command_id IS NULL AND state = ? ORDER BY id DESC LIMIT 1) \
         RETURNING id",
    )
    .bind(command_id)
    .bind(client)
    .bind(external_id)
    .bind(CommandState::SendUnknown.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(adopted)
}

/// Moves a command to `state` unless it already reached a terminal state (the first outcome Hermod
/// reports is the outcome). Returns whether anything changed.
async fn advance_state(
    conn: &mut SqliteConnection,
    id: i64,
    state: &CommandState,
) -> Result<bool, StoreError> {
    let current: String = sqlx::query_scalar("SELECT state FROM commands WHERE id = ?")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let current = CommandState::parse(&current);
    let sticky = current.is_terminal() && current != CommandState::SendFailed;
    if sticky || &current == state {
        return Ok(false);
    }
    // A decided command no longer counts down to its expiry.
    let sql = if state.is_terminal() {
        "UPDATE commands SET state = ?, updated_at = ?, expires_at = NULL WHERE id = ?"
    } else {
        "UPDATE commands SET state = ?, updated_at = ? WHERE id = ?"
    };
    sqlx::query(sql)
        .bind(state.as_str())
        .bind(now_ms())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Rewrites a command's search row from everything it now holds: its request and answer, its
/// callbacks and polls, and what was decoded from each.
async fn refresh_search(conn: &mut SqliteConnection, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM command_search WHERE rowid = ?")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO command_search (rowid, text) SELECT c.id, \
         c.request || ' ' || COALESCE(c.answer, '') || ' ' || COALESCE(c.command_id, '') || ' ' || \
         COALESCE(c.external_id, '') || ' ' || c.decoded || ' ' || \
         COALESCE((SELECT group_concat(b.body || ' ' || b.decoded, ' ') FROM callbacks b \
                   WHERE b.command = c.id), '') || ' ' || \
         COALESCE((SELECT group_concat(p.reply || ' ' || p.decoded, ' ') FROM polls p \
                   WHERE p.command = c.id), '') \
         FROM commands c WHERE c.id = ?",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn callback_digest(c: &NewCallback) -> String {
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
    h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
}
