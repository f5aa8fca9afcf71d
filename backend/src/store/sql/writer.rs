//! The single writer: one thread that owns the only writing connection. SQLite allows one writer at a
//! time, and a commit costs a sync to disk; rather than have every request wait for the lock and pay
//! its own sync, requests hand their write to this thread as a job. Each time it wakes it runs
//! everything waiting in one transaction, commits once, publishes the feed events the batch made, in
//! sequence order, then answers every job. One failing job does not sink the others: most jobs run in
//! a savepoint of their own; the hot paths' (a callback stored, a command recorded and its send's
//! outcome) are repeatable and run without one, the whole transaction run again without a job that
//! failed after it wrote (see [`transaction`]).
//!
//! Jobs are plain closures over a [`Batch`] that answer through their own typed channel, so nothing is
//! type-erased on the way back. Background jobs (the search indexer's) run only when no request waits.

use crate::clock::now_ms;
use crate::feed::Feed;
use crate::store::conn::sqlite_error as sql_error;
use crate::store::conn::{Conn, PgConn};
use crate::store::{StoreError, StoreInstruments};
use rusqlite::Connection;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;
use tokio::sync::{oneshot, watch};

mod batch;
pub use batch::{Batch, FeedKind};

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

/// A job that may run twice ([`Writer::write_repeatable`]), so it needs no savepoint of its own.
trait Repeatable: Send {
    /// Runs the write and keeps its result; whether it succeeded.
    fn run(&mut self, batch: &mut Batch<'_>) -> bool;
    /// Answers with the last run's result, given the fate of its transaction.
    fn finish(self: Box<Self>, commit: Result<(), &StoreError>);
}

struct Task<F, T, E> {
    f: F,
    result: Option<Result<T, E>>,
    /// `f` goes back with the answer, so what it holds is freed by the request's thread: freeing on
    /// the writer what another thread allocated costs the allocator a lock per job, contended.
    tx: oneshot::Sender<(Result<T, E>, F)>,
}

impl<F, T, E> Repeatable for Task<F, T, E>
where
    F: FnMut(&mut Batch<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, batch: &mut Batch<'_>) -> bool {
        // Cleared first: a run that panics leaves no result from an earlier one.
        self.result = None;
        let result = (self.f)(batch);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<(), &StoreError>) {
        let Task { f, result, tx } = *self;
        let answer = match (result, commit) {
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)) | None, Err(e)) => Err(E::from(e.clone())),
            // It panicked.
            (None, Ok(())) => Err(E::from(stopped())),
        };
        let _ = tx.send((answer, f));
    }
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    repeatable: Vec<Box<dyn Repeatable>>,
    background: VecDeque<Job>,
    stopped: bool,
    /// The thread sleeps on the condition variable: only then does a new job need to wake it (a
    /// wake-up is a system call, paid by the request that queues the job).
    asleep: bool,
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
    /// Transactions committed, the writes in them, and how long committing took.
    pub instruments: StoreInstruments,
}

/// The handle requests use to hand their writes over.
#[derive(Clone)]
pub struct Writer {
    queue: Arc<(Mutex<Queue>, Condvar)>,
    pub progress: Arc<Progress>,
    thread: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
}

impl Writer {
    /// Starts the writer thread on `conn`, publishing committed events to `feed` (on SQLite: on
    /// PostgreSQL, the replica's listener publishes every replica's); `queued` search documents wait
    /// for the indexer from before.
    pub fn start(conn: Writing, feed: Feed, queued: u64) -> Result<Writer, StoreError> {
        if let Writing::Sqlite(c) = &conn {
            // Each job's savepoint copies the pages it changes to a sub-journal. Left to the
            // default, SQLite spills that journal past 64 KiB (eight pages) into a new temporary
            // file, one per transaction: a file created in /var/tmp, written page by page and
            // deleted for nearly every batch, callbacks' pages included. In memory it is emptied as
            // each job's savepoint is released, so it stays one job's size.
            c.execute_batch("PRAGMA temp_store = MEMORY")
                .map_err(sql_error)?;
        }
        if let Writing::Postgres { .. } = &conn {
            crate::store::postgres::sequence::prepare(conn.conn())?;
        }
        let last_seq = super::select::feed_seq(conn.conn())?;
        let progress = Arc::new(Progress {
            seq: AtomicI64::new(last_seq),
            docs_queued: AtomicU64::new(queued),
            docs: watch::channel(0).0,
            last_foreground: AtomicI64::new(0),
            instruments: StoreInstruments::default(),
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

    /// Whether the writer was stopped (and so takes no more writes).
    pub fn stopped(&self) -> bool {
        self.queue
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .stopped
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
        let accepted = self.enqueue(|q| {
            if background {
                q.background.push_back(job);
            } else {
                q.jobs.push(job);
            }
        });
        async move {
            if !accepted {
                return Err(E::from(stopped()));
            }
            // A dropped job (its transaction could not start, or it panicked) answers as a failure.
            rx.await.unwrap_or_else(|_| Err(E::from(stopped())))
        }
    }

    /// [`Writer::write`] for a job that may run twice: it runs without a savepoint of its own, which
    /// saves copying every page it changes, and when a job of its batch fails after writing, the
    /// batch is undone and run again without that one. So `f` must do nothing but write through
    /// the batch; what it owns is freed by the caller's thread.
    pub fn write_repeatable<T, E>(
        &self,
        f: impl FnMut(&mut Batch<'_>) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let task = Box::new(Task {
            f,
            result: None,
            tx,
        });
        let accepted = self.enqueue(|q| q.repeatable.push(task));
        async move {
            if !accepted {
                return Err(E::from(stopped()));
            }
            match rx.await {
                Ok((answer, _f)) => answer,
                Err(_) => Err(E::from(stopped())),
            }
        }
    }

    /// Queues a job (unless the writer stopped) and wakes the writer if it sleeps.
    fn enqueue(&self, push: impl FnOnce(&mut Queue)) -> bool {
        let (lock, wake) = &*self.queue;
        let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
        if q.stopped {
            return false;
        }
        push(&mut q);
        if q.asleep {
            wake.notify_one();
        }
        true
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

fn run(conn: Writing, queue: &(Mutex<Queue>, Condvar), feed: &Feed, progress: &Progress) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut repeatable: Vec<Box<dyn Repeatable>> = Vec::with_capacity(MAX_BATCH);
    let mut foreground;
    loop {
        {
            let (lock, wake) = queue;
            let mut q = lock.lock().unwrap_or_else(|p| p.into_inner());
            let idle = |q: &Queue| q.jobs.is_empty() && q.repeatable.is_empty();
            while idle(&q) && q.background.is_empty() && !q.stopped {
                q.asleep = true;
                q = wake.wait(q).unwrap_or_else(|p| p.into_inner());
                q.asleep = false;
            }
            if idle(&q) && q.background.is_empty() {
                // Stopped with nothing left: leave the database file whole, its log empty.
                drop(q);
                if let Writing::Sqlite(c) = &conn
                    && let Err(e) = c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                {
                    tracing::warn!(error = %e, "the last checkpoint failed; the log is kept");
                }
                return;
            }
            foreground = !idle(&q);
            if !foreground {
                jobs.extend(q.background.pop_front());
            } else {
                let n = q.repeatable.len().min(MAX_BATCH);
                repeatable.extend(q.repeatable.drain(..n));
                let n = q.jobs.len().min(MAX_BATCH - n);
                jobs.extend(q.jobs.drain(..n));
            }
        }
        conn.revive();
        run_batch(&conn, &mut jobs, &mut repeatable, feed, progress);
        if foreground {
            progress.last_foreground.store(now_ms(), Ordering::Relaxed);
        }
    }
}

/// The connection the writer thread owns.
pub enum Writing {
    Sqlite(Connection),
    /// With where it came from: a connection the database dropped is made again.
    Postgres {
        conn: Box<PgConn>,
        url: String,
    },
}

impl Writing {
    /// On PostgreSQL, makes the connection again when the database dropped it (a restart, a
    /// failover): the batch that found it broken has failed, and was answered so; the next goes on.
    /// Until the database is back, each batch fails the same way (503: Hermod sends again).
    fn revive(&self) {
        let Writing::Postgres { conn, url } = self else {
            return;
        };
        if !conn.is_closed() {
            return;
        }
        let fresh = crate::store::postgres::connect(url).and_then(|fresh| {
            crate::store::postgres::sequence::prepare(Conn::Postgres(&fresh))?;
            Ok(fresh)
        });
        match fresh {
            Ok(fresh) => {
                conn.replace(fresh);
                tracing::info!("the store's writer is connected to the database again");
            }
            Err(e) => tracing::warn!(error = %e, "the store's writer cannot reach the database"),
        }
    }

    pub fn conn(&self) -> Conn<'_> {
        match self {
            Writing::Sqlite(c) => Conn::Sqlite(c),
            Writing::Postgres { conn, .. } => Conn::Postgres(conn),
        }
    }

    /// Whether the engine ended the transaction itself. SQLite does on a full disk or an I/O error;
    /// PostgreSQL keeps a failed transaction open (aborted) until it is rolled back.
    fn left_transaction(&self) -> bool {
        match self {
            Writing::Sqlite(c) => c.is_autocommit(),
            Writing::Postgres { .. } => false,
        }
    }

    /// Rows changed so far, where the engine counts them (SQLite): how a repeatable job that failed
    /// is known to have written. On PostgreSQL any failure spoils the whole transaction anyway.
    fn changes(&self) -> Option<u64> {
        match self {
            Writing::Sqlite(c) => Some(c.total_changes()),
            Writing::Postgres { .. } => None,
        }
    }
}

fn exec(conn: &Writing, sql: &str) -> Result<(), StoreError> {
    match conn {
        Writing::Sqlite(c) => c
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(sql_error),
        Writing::Postgres { conn, .. } => conn.batch(sql),
    }
}

/// Runs one batch in one transaction, commits it, publishes its events and answers every job.
fn run_batch(
    conn: &Writing,
    jobs: &mut Vec<Job>,
    repeatable: &mut Vec<Box<dyn Repeatable>>,
    feed: &Feed,
    progress: &Progress,
) {
    let mut finishes: Vec<Finish> = Vec::with_capacity(jobs.len());
    let result = transaction(conn, jobs, repeatable, &mut finishes, progress);
    // Jobs a broken transaction left unrun are dropped: their requests are answered as failures.
    jobs.clear();
    let answered = finishes.len() + repeatable.len();
    match result {
        Ok(batch) => {
            let publish = matches!(conn, Writing::Sqlite(_));
            // Before the events go out, so a subscriber that sees an event sees its sequence too.
            if let Some(last) = batch.last_seq().filter(|_| publish) {
                progress.seq.store(last, Ordering::Release);
            }
            let m = &progress.instruments;
            m.commits.inc();
            m.writes.inc_by(answered as u64);
            m.batch_size.observe(answered as f64);
            // Counted before anyone hears of the commit: a search asked for right after a write
            // must know that write is not indexed yet, not report everything searched.
            if batch.docs > 0 {
                progress
                    .docs_queued
                    .fetch_add(batch.docs, Ordering::Release);
                progress.docs.send_modify(|n| *n = n.wrapping_add(1));
            }
            if publish {
                feed.publish(batch.events);
            }
            for finish in finishes {
                finish(Ok(()));
            }
            for job in repeatable.drain(..) {
                job.finish(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "store transaction failed; nothing in it was kept");
            if !conn.left_transaction() {
                let _ = exec(conn, "ROLLBACK");
            }
            for finish in finishes {
                finish(Err(&e));
            }
            for job in repeatable.drain(..) {
                job.finish(Err(&e));
            }
        }
    }
}

/// The batch's transaction, committed: the repeatable jobs first, without savepoints, then the
/// others, each in a savepoint. An error here is the connection's own trouble (a full disk, an I/O
/// error) and sinks the whole batch.
fn transaction<'c>(
    conn: &'c Writing,
    jobs: &mut Vec<Job>,
    repeatable: &mut [Box<dyn Repeatable>],
    finishes: &mut Vec<Finish>,
    progress: &Progress,
) -> Result<Batch<'c>, StoreError> {
    let mut failed = vec![false; repeatable.len()];
    let mut guarded = false;
    let (begin, first_seq) = match conn {
        // IMMEDIATE: take the write lock now, waiting out another program's write (up to the busy
        // timeout) rather than failing half-way through the batch.
        Writing::Sqlite(_) => (
            "BEGIN IMMEDIATE",
            Some(progress.seq.load(Ordering::Relaxed) + 1),
        ),
        Writing::Postgres { .. } => ("BEGIN", None),
    };
    let mut batch = loop {
        exec(conn, begin)?;
        let mut batch = Batch::start(conn.conn(), first_seq);
        if run_repeatable(conn, &mut batch, repeatable, &mut failed, guarded)? {
            break batch;
        }
        // One failed after it wrote: undo it all and run the others again, each in a savepoint
        // this time, so no job runs more than twice whatever fails.
        drop(batch);
        exec(conn, "ROLLBACK")?;
        guarded = true;
    };
    for job in jobs.drain(..) {
        exec(conn, "SAVEPOINT job")?;
        let mark = batch.mark();
        let outcome = catch_unwind(AssertUnwindSafe(|| job(&mut batch)));
        if matches!(&outcome, Ok(o) if o.ok) {
            exec(conn, "RELEASE job")?;
        } else {
            batch.undo(mark);
            exec(conn, "ROLLBACK TO job").and_then(|()| exec(conn, "RELEASE job"))?;
        }
        match outcome {
            Ok(o) => finishes.push(o.finish),
            Err(_) => tracing::error!("a store job panicked; its write was undone"),
        }
    }
    if batch.unnumbered > 0 {
        crate::store::postgres::sequence::number(conn.conn())?;
    }
    let committing = Instant::now();
    exec(conn, "COMMIT")?;
    progress
        .instruments
        .commit_seconds
        .observe(committing.elapsed().as_secs_f64());
    Ok(batch)
}

/// Runs the repeatable jobs not failed yet. `Ok(false)`: one failed after it had written, so the
/// transaction must be undone (it is marked failed; the others run again). `guarded` gives each its
/// own savepoint, and then a failure is undone alone.
fn run_repeatable(
    conn: &Writing,
    batch: &mut Batch<'_>,
    jobs: &mut [Box<dyn Repeatable>],
    failed: &mut [bool],
    guarded: bool,
) -> Result<bool, StoreError> {
    for (job, failed) in jobs.iter_mut().zip(failed.iter_mut()) {
        if *failed {
            continue;
        }
        if guarded {
            exec(conn, "SAVEPOINT job")?;
        }
        let mark = batch.mark();
        let changes = conn.changes();
        let ran = catch_unwind(AssertUnwindSafe(|| job.run(batch)));
        let ok = matches!(ran, Ok(true));
        if ran.is_err() {
            tracing::error!("a store job panicked; its write was undone");
        }
        if !ok {
            *failed = true;
            batch.undo(mark);
            if conn.left_transaction() {
                // SQLite ended the transaction itself (a full disk, an I/O error): nothing of it
                // stands, and what ran after would commit on its own.
                return Err(StoreError(
                    "the store's transaction was rolled back under a failing write".into(),
                ));
            }
        }
        if guarded {
            if !ok {
                exec(conn, "ROLLBACK TO job")?;
            }
            exec(conn, "RELEASE job")?;
        } else if !ok && (changes.is_none() || conn.changes() != changes) {
            // It wrote (or, without a count, it may have; on PostgreSQL the transaction is aborted).
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
