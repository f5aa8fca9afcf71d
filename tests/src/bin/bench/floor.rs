//! What this machine's disk allows before the console does anything else, beside measures 2 and 4:
//! the commits those measures wait for, alone. One SQLite file (in this program, beside the
//! console's) with the console's settings (8 KiB pages, WAL, `synchronous = FULL`, a checkpoint every
//! 300 pages), one table without an index, and one writer thread that takes whatever waits, runs it
//! in one transaction and commits (a sync) before it answers, as the console's writer does. No HTTP,
//! no Hermod, no feed, no audit, no search.

use crate::load::Load;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A write: the row to update (None: insert one), and where its id and the moment it was committed
/// go.
struct Job {
    update: Option<i64>,
    done: mpsc::Sender<(i64, Instant)>,
}

/// The writer thread on a new file `name` in `dir`, inserting rows of `row_len` bytes; started once
/// what the measure before left unwritten is on disk (`settle_disk`), as every measure is.
fn start_writer(
    dir: &Path,
    name: &str,
    row_len: usize,
) -> (mpsc::Sender<Job>, JoinHandle<rusqlite::Result<()>>) {
    crate::settle_disk();
    // The console's settings (backend/src/store/sqlite/schema.rs, `connect`).
    let conn = Connection::open(dir.join(name)).expect("open the floor's database");
    conn.execute_batch(
        "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
         PRAGMA wal_autocheckpoint = 300; \
         CREATE TABLE writes (id INTEGER PRIMARY KEY, request TEXT NOT NULL, answer TEXT);",
    )
    .expect("set the floor's database up");
    let (jobs, queue) = mpsc::channel();
    let writer = std::thread::spawn(move || write(conn, queue, row_len));
    (jobs, writer)
}

fn write(mut conn: Connection, jobs: mpsc::Receiver<Job>, row_len: usize) -> rusqlite::Result<()> {
    let request = "r".repeat(row_len);
    // A ping's answer: a few hundred bytes.
    let answer = "a".repeat(300);
    while let Ok(first) = jobs.recv() {
        let batch: Vec<Job> = std::iter::once(first).chain(jobs.try_iter()).collect();
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(batch.len());
        for job in &batch {
            ids.push(match job.update {
                None => {
                    tx.prepare_cached("INSERT INTO writes (request) VALUES (?)")?
                        .execute([&request])?;
                    tx.last_insert_rowid()
                }
                Some(id) => {
                    tx.prepare_cached("UPDATE writes SET answer = ? WHERE id = ?")?
                        .execute(rusqlite::params![answer, id])?;
                    id
                }
            });
        }
        tx.commit()?;
        let committed = Instant::now();
        for (job, id) in batch.into_iter().zip(ids) {
            let _ = job.done.send((id, committed));
        }
    }
    Ok(())
}

/// Beside measure 4: `concurrency` senders in closed loop for `warmup + window`, each recording a
/// send (a row of a ping's size) and then its answer, every write synced before the sender goes on;
/// the time of each pair started in the window.
pub fn two_commits(dir: &Path, concurrency: usize, warmup: Duration, window: Duration) -> Load {
    let (jobs, writer) = start_writer(dir, "two-commits.sqlite", 300);
    let counted_from = Instant::now() + warmup;
    let end = counted_from + window;
    let senders: Vec<_> = (0..concurrency)
        .map(|_| {
            let jobs = jobs.clone();
            std::thread::spawn(move || {
                let (done, answers) = mpsc::channel();
                let write = |update| {
                    let done = done.clone();
                    jobs.send(Job { update, done })
                        .expect("the writer is running");
                    answers.recv().expect("the writer answers").0
                };
                let mut latencies = Vec::new();
                let mut last_end = counted_from;
                loop {
                    let began = Instant::now();
                    if began >= end {
                        return (latencies, last_end);
                    }
                    let id = write(None);
                    write(Some(id));
                    if began >= counted_from {
                        last_end = Instant::now();
                        latencies.push((last_end - began).as_micros() as u32);
                    }
                }
            })
        })
        .collect();
    drop(jobs);
    let mut load = Load::default();
    let mut last_end = counted_from;
    for s in senders {
        let (latencies, ended) = s.join().expect("a sender");
        load.latencies_us.extend(latencies);
        last_end = last_end.max(ended);
    }
    finish(writer);
    load.latencies_us.sort_unstable();
    load.ok = load.latencies_us.len() as u64;
    load.total_ok = load.ok;
    load.window = last_end - counted_from;
    load
}

/// Beside measure 2: a row of `row_len` bytes written `rate` times a second for `seconds`, open loop,
/// each synced; from each write's due moment to its commit, sorted.
pub fn paced_commits(dir: &Path, rate: u64, seconds: u64, row_len: usize) -> Vec<u32> {
    let (jobs, writer) = start_writer(dir, "paced-commits.sqlite", row_len);
    let (done, answers) = mpsc::channel();
    let start = Instant::now();
    let mut due = Vec::new();
    for k in 0..rate * seconds {
        let at = start + Duration::from_secs_f64(k as f64 / rate as f64);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let done = done.clone();
        jobs.send(Job { update: None, done })
            .expect("the writer is running");
        due.push(at);
    }
    drop(jobs);
    drop(done);
    // One sender: the writer answers in the order the writes were queued.
    let mut latencies: Vec<u32> = due
        .iter()
        .zip(answers.iter())
        .map(|(at, (_, committed))| committed.saturating_duration_since(*at).as_micros() as u32)
        .collect();
    finish(writer);
    latencies.sort_unstable();
    latencies
}

fn finish(writer: JoinHandle<rusqlite::Result<()>>) {
    writer
        .join()
        .expect("the floor's writer")
        .expect("the floor's writes");
}
