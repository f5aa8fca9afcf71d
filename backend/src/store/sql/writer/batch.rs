//! One transaction in the making, as the writer's jobs see it: its connection and time, the feed
//! events it made (numbered as they are made on SQLite, at the commit on PostgreSQL), and the
//! search documents it queued.

use crate::clock::now_ms;
use crate::feed::Published;
use crate::store::StoreError;
use crate::store::conn::{Conn, Value};
use hermod_shared::console::FeedEvent;

/// One transaction in the making, as a job sees it.
pub struct Batch<'c> {
    conn: Conn<'c>,
    now: i64,
    /// The number of the batch's first feed event; the others follow it. `None` on PostgreSQL:
    /// there the events wait unnumbered, and are numbered right before the commit
    /// (postgres/sequence.rs).
    first_seq: Option<i64>,
    /// The events made, framed for publication (SQLite).
    pub(super) events: Vec<Published>,
    /// The events made and waiting for their numbers (PostgreSQL).
    pub(super) unnumbered: u64,
    /// Search documents queued by this batch.
    pub(super) docs: u64,
}

/// What a feed row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Command,
    Callback,
    Overdue,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Command => "command",
            FeedKind::Callback => "callback",
            FeedKind::Overdue => "overdue",
        }
    }
}

/// Where a batch stood before a job: what undoing the job puts back.
#[derive(Clone, Copy)]
pub(super) struct Mark {
    events: usize,
    unnumbered: u64,
    docs: u64,
}

impl<'c> Batch<'c> {
    /// A batch on `conn`, inside a transaction the caller began, whose first feed event is
    /// numbered `first_seq` (`None`: at the commit, PostgreSQL's way; the caller then numbers them
    /// with `sequence::number` before it commits).
    pub fn start(conn: Conn<'c>, first_seq: Option<i64>) -> Batch<'c> {
        Batch {
            conn,
            now: now_ms(),
            first_seq,
            events: Vec::new(),
            unnumbered: 0,
            docs: 0,
        }
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            events: self.events.len(),
            unnumbered: self.unnumbered,
            docs: self.docs,
        }
    }

    /// Forgets what a job queued after `mark` (its rows are undone by the caller).
    pub(super) fn undo(&mut self, mark: Mark) {
        self.events.truncate(mark.events);
        self.unnumbered = mark.unnumbered;
        self.docs = mark.docs;
    }

    /// The number of the batch's next feed event; 0 while events wait for their numbers.
    fn next_seq(&self) -> i64 {
        self.first_seq
            .map_or(0, |first| first + self.events.len() as i64)
    }

    /// The number of the batch's last feed event, if it made any and numbered them.
    pub(super) fn last_seq(&self) -> Option<i64> {
        let made = self.events.len() as i64;
        self.first_seq.filter(|_| made > 0).map(|f| f + made - 1)
    }
}

impl<'c> Batch<'c> {
    /// The batch's connection.
    pub fn db(&self) -> Conn<'c> {
        self.conn
    }

    /// The batch's time: every row a batch writes carries the same one.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Records a feed event and queues it for publication after the commit. The row points at the
    /// record; `state` is kept for command events, whose record changes later.
    pub fn event(&mut self, event: impl FnOnce(i64) -> FeedEvent) -> Result<(), StoreError> {
        let event = event(self.next_seq());
        let (kind, id, state) = match &event {
            FeedEvent::Command { command, .. } => {
                (FeedKind::Command, command.id, Some(command.state.as_str()))
            }
            FeedEvent::Callback { callback, .. } => (FeedKind::Callback, callback.id, None),
            FeedEvent::Overdue { command, .. } => {
                (FeedKind::Overdue, command.id, Some(command.state.as_str()))
            }
        };
        if self.first_seq.is_none() {
            // Nothing is framed here: the replicas' listeners read the event from the table.
            return self.event_json(kind, id, state, 0, |_, _| {});
        }
        let json = serde_json::to_string(&event)?;
        self.event_json(kind, id, state, json.len(), |_, frame| {
            frame.push_str(&json)
        })
    }

    /// [`Batch::event`] for an event whose JSON the caller writes (about `size` bytes), given the
    /// event's sequence number.
    pub fn event_json(
        &mut self,
        kind: FeedKind,
        id: i64,
        state: Option<&str>,
        size: usize,
        json: impl FnOnce(i64, &mut String),
    ) -> Result<(), StoreError> {
        if self.first_seq.is_none() {
            crate::store::postgres::sequence::wait(self.conn, self.now, kind.as_str(), id, state)?;
            self.unnumbered += 1;
            return Ok(());
        }
        let seq = self.next_seq();
        self.conn.execute(
            "INSERT INTO feed (seq, at, kind, ref, state) VALUES (?, ?, ?, ?, ?)",
            &crate::params![seq, self.now, kind.as_str(), id, state],
        )?;
        self.events
            .push(Published::writing(seq, kind.as_str(), size, |frame| {
                json(seq, frame)
            }));
        Ok(())
    }

    /// Sets a time column of one row to the batch's time: `sql` takes the time, then the row's key.
    pub fn stamp<'k>(&mut self, sql: &str, key: impl Into<Value<'k>>) -> Result<(), StoreError> {
        self.db()
            .execute(sql, &[self.now.into(), key.into()])
            .map(drop)
    }

    /// Tells the indexer there is a new request, callback or poll to index: it finds them by id.
    pub fn indexable(&mut self) {
        self.docs += 1;
    }

    /// Queues a command's answer for the indexer (answers come in any order, so by key).
    pub fn unindexed(&mut self, doc: i64) -> Result<(), StoreError> {
        let added = self.conn.execute(
            "INSERT INTO unindexed (doc) VALUES (?) ON CONFLICT DO NOTHING",
            &crate::params![doc],
        )?;
        self.docs += added;
        Ok(())
    }
}
