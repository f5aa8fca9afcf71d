//! The single writer: one thread that owns the only writing connection. SQLite allows one writer at a
//! time, and a commit costs an fsync; rather than have every request wait for the lock and pay its own
//! fsync, requests hand their write to this thread as a job. Each time it wakes it runs everything
//! waiting in one transaction (each job in its own savepoint, so one failure does not sink the others),
//! commits once, publishes the feed events the batch made, in sequence order, then answers every job.
//!
//! Jobs are plain closures over a [`Batch`] that answer through their own typed channel, so nothing is
//! type-erased on the way back. Background jobs (the search indexer's) run only when no request waits.

use super::sql_error;
use crate::clock::now_ms;
use crate::feed::{Feed, Published};
use crate::store::StoreError;
use hermod_shared::console::FeedEvent;
use rusqlite::Connection;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use tokio::sync::{oneshot, watch};

/// Jobs beyond this many wait for the next transaction, so one commit never holds up its first job
/// for long.
const MAX_BATCH: usize = 512;

/// Answers a job once the fate of its transaction is known.
type Finish = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// What a job did: whether its savepoint is kept, and how to answer it.
pub struct Outcome {
    ok: bool,
    finish: Finish,
}

type Job = Box<dyn FnOnce(&mut Batch<'_>) -> Outcome + Send>;

/// One transaction in the making, as a job sees it.
pub struct Batch<'c> {
    conn: &'c Connection,
    now: i64,
    next_seq: i64,
    events: Vec<Published>,
    /// Search documents queued by this batch.
    docs: u64,
}

/// What a feed row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    Command,
    Callback,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Command => "command",
            FeedKind::Callback => "callback",
        }
    }
}

impl Batch<'_> {
    pub fn conn(&self) -> &Connection {
        self.conn
    }

    /// The batch's time: every row a batch writes carries the same one.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Records a feed event and queues it for publication after the commit. The row points at the
    /// record; `state` is kept for command events, whose record changes later.
    pub fn event(&mut self, event: impl FnOnce(i64) -> FeedEvent) -> Result<(), StoreError> {
        let event = event(self.next_seq);
        let (kind, id, state) = match &event {
            FeedEvent::Command { command, .. } => {
                (FeedKind::Command, command.id, Some(command.state.as_str()))
            }
            FeedEvent::Callback { callback, .. } => (FeedKind::Callback, callback.id, None),
        };
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
        let seq = self.next_seq;
        self.conn
            .prepare_cached("INSERT INTO feed (seq, at, kind, ref, state) VALUES (?, ?, ?, ?, ?)")
            .and_then(|mut s| s.execute((seq, self.now, kind.as_str(), id, state)))
            .map_err(sql_error)?;
        self.events
            .push(Published::writing(seq, kind.as_str(), size, |frame| {
                json(seq, frame)
            }));
        self.next_seq += 1;
        Ok(())
    }

    /// Sets a time column of one row to the batch's time: `sql` takes the time, then the row's key.
    pub fn stamp(&mut self, sql: &str, key: impl rusqlite::ToSql) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute((self.now, key)))
            .map(drop)
            .map_err(sql_error)
    }

    /// Queues a search document for the indexer.
    pub fn unindexed(&mut self, doc: i64) -> Result<(), StoreError> {
        let added = self
            .conn
            .prepare_cached("INSERT OR IGNORE INTO unindexed (doc) VALUES (?)")
            .and_then(|mut s| s.execute([doc]))
            .map_err(sql_error)?;
        self.docs += added as u64;
        Ok(())
    }
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    background: VecDeque<Job>,
    stopped: bool,
}

/// What the writer publishes about its progress.
pub struct Progress {
    /// The sequence of the newest committed feed event.
    pub seq: AtomicI64,
    /// Search documents queued so far by this process (those found queued at start included).
    pub docs_queued: AtomicU64,
    /// Ticks when a batch queued documents, to wake the indexer.
    pub docs: watch::Sender<u64>,
    /// When (ms) the writer last committed requests' writes: the indexer waits for a pause.
    pub last_foreground: AtomicI64,
}

/// The handle requests use to hand their writes over.
#[derive(Clone)]
pub struct Writer {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    pub progress: Arc<Progress>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`, publishing committed events to `feed`.
    pub fn start(conn: Connection, feed: Feed) -> Result<Writer, StoreError> {
        let last_seq: i64 = conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM feed", [], |r| r.get(0))
            .map_err(sql_error)?;
        let queued: i64 = conn
            .query_row("SELECT COUNT(*) FROM unindexed", [], |r| r.get(0))
            .map_err(sql_error)?;
        let progress = Arc::new(Progress {
            seq: AtomicI64::new(last_seq),
            docs_queued: AtomicU64::new(queued as u64),
            docs: watch::channel(0).0,
            last_foreground: AtomicI64::new(0),
        });
        let queue = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
        let (q, p) = (queue.clone(), progress.clone());
        let thread = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run(conn, &q, &feed, &p))
            .map_err(|e| StoreError(format!("cannot start the store's writer: {e}")))?;
        Ok(Writer {
            queue,
            progress,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Finishes what is queued, folds the log into the database file, and stops. Blocks until done;
    /// writes asked for after this fail.
    pub fn close(&self) {
        stop(&self.queue);
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    /// Runs `f` in the writer's next transaction. Resolves once that transaction has committed (or
    /// failed): `Ok` means durable. An `Err` from `f` undoes what `f` wrote, and only that.
    pub fn write<T, E>(
        &self,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.submit(f, false)
    }

    /// [`Writer::write`] for work nobody waits on: it runs only when no other write is waiting.
    pub fn write_in_background<T, E>(
        &self,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.submit(f, true)
    }

    fn submit<T, E>(
        &self,
        f: impl FnOnce(&mut Batch<'_>) -> Result<T, E> + Send + 'static,
        background: bool,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |batch| {
            let result = f(batch);
            Outcome {
                ok: result.is_ok(),
                finish: Box::new(move |commit| {
                    let _ = tx.send(match (result, commit) {
                        (Ok(v), Ok(())) => Ok(v),
                        (Err(e), _) => Err(e),
                        (Ok(_), Err(e)) => Err(E::from(e.clone())),
                    });
                }),
            }
        });
        let accepted = {
            let (lock, wake) = &*self.queue;
            let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
            if q.stopped {
                false
            } else {
                if background {
                    q.background.push_back(job);
                } else {
                    q.jobs.push(job);
                }
                wake.notify_one();
                true
            }
        };
        async move {
            if !accepted {
                return Err(E::from(stopped()));
            }
            // A dropped job (its transaction could not start, or it panicked) answers as a failure.
            rx.await.unwrap_or_else(|_| Err(E::from(stopped())))
        }
    }
}

fn stopped() -> StoreError {
    StoreError("the store's writer could not write; see the log".into())
}

/// Stops the writer when dropped: its thread finishes what is queued, then ends.
pub struct StopOnDrop(Arc<(Mutex<Queue>, Condvar)>);

impl Writer {
    pub fn stop_on_drop(&self) -> StopOnDrop {
        StopOnDrop(self.queue.clone())
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        stop(&self.0);
    }
}

fn stop(queue: &(Mutex<Queue>, Condvar)) {
    let (lock, wake) = queue;
    lock.lock().unwrap_or_else(|p| p.into_inner()).stopped = true;
    wake.notify_one();
}

fn run(conn: Connection, queue: &(Mutex<Queue>, Condvar), feed: &Feed, progress: &Progress) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut foreground;
    loop {
        {
            let (lock, wake) = queue;
            let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
            while q.jobs.is_empty() && q.background.is_empty() && !q.stopped {
                q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            if q.jobs.is_empty() && q.background.is_empty() {
                // Stopped with nothing left: leave the database file whole, its log empty.
                drop(q);
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "the last checkpoint failed; the log is kept");
                }
                return;
            }
            foreground = !q.jobs.is_empty();
            if !foreground {
                jobs.extend(q.background.pop_front());
            } else {
                let n = q.jobs.len().min(MAX_BATCH);
                jobs.extend(q.jobs.drain(..n));
            }
        }
        run_batch(&conn, &mut jobs, feed, progress);
        if foreground {
            progress.last_foreground.store(now_ms(), Ordering::Relaxed);
        }
    }
}

fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(sql_error)
}

fn run_batch(conn: &Connection, jobs: &mut Vec<Job>, feed: &Feed, progress: &Progress) {
    // IMMEDIATE: take the write lock now, waiting out another program's write (up to the busy
    // timeout) rather than failing half-way through the batch.
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %e, jobs = jobs.len(), "the store cannot start a transaction");
        jobs.clear();
        return;
    }
    let mut batch = Batch {
        conn,
        now: now_ms(),
        next_seq: progress.seq.load(Ordering::Relaxed) + 1,
        events: Vec::new(),
        docs: 0,
    };
    let mut finishes: Vec<Finish> = Vec::with_capacity(jobs.len());
    let mut broken: Option<StoreError> = None;
    for job in jobs.drain(..) {
        if broken.is_some() {
            // Dropped unrun: its request is answered as a failure.
            continue;
        }
        if let Err(e) = exec(conn, "SAVEPOINT job") {
            broken = Some(e);
            continue;
        }
        let mark = (batch.next_seq, batch.events.len(), batch.docs);
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut batch)));
        let kept = matches!(&outcome, Ok(o) if o.ok);
        let settled = if kept {
            exec(conn, "RELEASE job")
        } else {
            (batch.next_seq, batch.docs) = (mark.0, mark.2);
            batch.events.truncate(mark.1);
            exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))
        };
        if let Err(e) = settled {
            // The connection itself is in trouble (a full disk, an I/O error): the batch goes.
            broken = Some(e);
        }
        match outcome {
            Ok(o) => finishes.push(o.finish),
            Err(_) => tracing::error!("a store job panicked; its write was undone"),
        }
    }
    let result = match broken {
        Some(e) => Err(e),
        None => exec(conn, "COMMIT"),
    };
    match result {
        Ok(()) => {
            // Before the events go out, so a subscriber that sees an event sees its sequence too.
            progress.seq.store(batch.next_seq - 1, Ordering::Release);
            feed.publish(batch.events);
            for finish in finishes {
                finish(Ok(()));
            }
            if batch.docs > 0 {
                progress
                    .docs_queued
                    .fetch_add(batch.docs, Ordering::Relaxed);
                progress.docs.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "store transaction failed; nothing in it was kept");
            if !conn.is_autocommit() {
                let _ = exec(conn, "ROLLBACK");
            }
            for finish in finishes {
                finish(Err(&e));
            }
        }
    }
}
