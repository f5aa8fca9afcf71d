//! The writer's batching, failures inside a batch, repeatable jobs, and the order of what it publishes.

use super::*;
use crate::store::sqlite::schema;
use std::sync::mpsc;

/// A writer on a fresh database: a SQLite file in a directory of its own (removed by the caller's
/// guard), or a PostgreSQL database of the test cluster.
struct Fixture {
    db: Db,
    writer: Writer,
    feed: Feed,
    _stop: StopOnDrop,
}

enum Db {
    File(std::path::PathBuf),
    Postgres(String),
}

impl Fixture {
    fn new(tag: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!(
            "hermod-writer-{tag}-{}-{:x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut conn = schema::connect(&dir.join("db.sqlite3"), false).unwrap();
        schema::migrate(&mut conn).unwrap();
        Fixture::start(Db::File(dir), Writing::Sqlite(conn))
    }

    /// The writer on PostgreSQL. Its driver may not start on the test's runtime thread.
    async fn postgres() -> Fixture {
        tokio::task::spawn_blocking(|| {
            let url = hermod_console_tests::postgres::cluster().database();
            let conn = crate::store::postgres::connect(&url).unwrap();
            crate::store::postgres::schema::migrate(&conn).unwrap();
            let writing = Writing::Postgres {
                conn: Box::new(conn),
                url: url.clone(),
            };
            Fixture::start(Db::Postgres(url), writing)
        })
        .await
        .unwrap()
    }

    fn start(db: Db, conn: Writing) -> Fixture {
        let feed = Feed::new(1024);
        let writer = Writer::start(conn, feed.clone(), 0).unwrap();
        Fixture {
            db,
            _stop: writer.stop_on_drop(),
            writer,
            feed,
        }
    }

    /// Occupies the writer with a job that waits until the returned sender is dropped: everything
    /// submitted meanwhile queues up for the next transaction.
    fn hold(&self) -> (mpsc::Sender<()>, impl Future<Output = ()>) {
        let (release, held) = mpsc::channel::<()>();
        let busy = self.writer.write(move |_| {
            let _ = held.recv();
            Ok::<_, StoreError>(())
        });
        (release, async move { busy.await.unwrap() })
    }

    fn commits(&self) -> u64 {
        self.writer.progress.instruments.commits.get()
    }

    fn count(&self, sql: &str) -> i64 {
        match &self.db {
            Db::File(dir) => {
                let conn = schema::connect(&dir.join("db.sqlite3"), true).unwrap();
                conn.query_row(sql, [], |r| r.get(0)).unwrap()
            }
            Db::Postgres(url) => {
                let (url, sql) = (url.clone(), sql.to_string());
                // Off the test's runtime, as the driver needs.
                std::thread::spawn(move || {
                    let conn = crate::store::postgres::connect(&url).unwrap();
                    Conn::from(&conn).one(&sql, &[]).unwrap()
                })
                .join()
                .unwrap()
            }
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.writer.close();
        if let Db::File(dir) = &self.db {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A write that adds one template named `name`.
fn template(
    name: impl Into<String>,
) -> impl FnMut(&mut Batch<'_>) -> Result<i64, StoreError> + Send {
    let name: String = name.into();
    move |b| {
        b.db().one(
            "INSERT INTO templates (name, type, body, created_by, created_at, updated_at) \
             VALUES (?, 'ping', '{}', 'test', ?, ?) RETURNING id",
            &crate::params![&name, b.now(), b.now()],
        )
    }
}

/// Waits until the writer has taken the holding job (so the next writes queue behind it).
fn wait_until_taken(f: &Fixture) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !f.writer.queue.0.lock().unwrap().jobs.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[tokio::test]
async fn writes_that_wait_together_commit_together() {
    let f = Fixture::new("batch");
    let (release, held) = f.hold();
    wait_until_taken(&f);
    let before = f.commits();
    let writes: Vec<_> = (0..50)
        .map(|i| f.writer.write(template(format!("t{i}"))))
        .collect();
    drop(release);
    held.await;
    for w in writes {
        w.await.unwrap();
    }
    assert_eq!(
        f.commits() - before,
        2,
        "the held write's transaction, then one for all fifty"
    );
    assert_eq!(f.count("SELECT COUNT(*) FROM templates"), 50);
}

#[tokio::test]
async fn a_failing_write_is_undone_alone_and_the_rest_of_its_batch_commits() {
    failing_write_undone_alone(Fixture::new("failing")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_failing_write_is_undone_alone_and_the_rest_of_its_batch_commits() {
    failing_write_undone_alone(Fixture::postgres().await).await;
}

async fn failing_write_undone_alone(f: Fixture) {
    let (release, held) = f.hold();
    wait_until_taken(&f);
    let before = f.commits();
    let first = f.writer.write(template("first"));
    // Writes a row, then fails: its row must go, and only its row.
    let failing = f.writer.write(|b| {
        template("half-done")(b)?;
        Err::<(), _>(StoreError("refused".into()))
    });
    // A constraint failure in SQLite itself (the name is taken by `first`).
    let clash = f.writer.write(template("first"));
    let panicking = f.writer.write(|b| -> Result<(), StoreError> {
        template("panicked")(b)?;
        panic!("a bug in a job");
    });
    let last = f.writer.write(template("last"));
    drop(release);
    held.await;
    assert!(first.await.is_ok());
    assert_eq!(failing.await.unwrap_err().0, "refused");
    assert!(clash.await.is_err());
    assert!(panicking.await.is_err());
    assert!(last.await.is_ok());
    assert_eq!(f.commits() - before, 2, "all of them in one transaction");
    assert_eq!(
        f.count("SELECT COUNT(*) FROM templates WHERE name IN ('first', 'last')"),
        2
    );
    assert_eq!(f.count("SELECT COUNT(*) FROM templates"), 2);
}

/// [`template`], counting its runs in `runs`.
fn counted(
    name: &'static str,
    runs: &Arc<AtomicU64>,
) -> impl FnMut(&mut Batch<'_>) -> Result<i64, StoreError> + Send + 'static {
    let (mut write, runs) = (template(name), runs.clone());
    move |b| {
        runs.fetch_add(1, Ordering::Relaxed);
        write(b)
    }
}

#[tokio::test]
async fn repeatable_writes_run_once_when_a_failure_wrote_nothing() {
    let f = Fixture::new("repeatable-once");
    let runs = Arc::new(AtomicU64::new(0));
    let (release, held) = f.hold();
    wait_until_taken(&f);
    let first = f.writer.write_repeatable(counted("first", &runs));
    let refused = f
        .writer
        .write_repeatable(|_| Err::<(), _>(StoreError("refused before writing".into())));
    // SQLite's own refusal (the name is taken) writes nothing either.
    let clash = f.writer.write_repeatable(template("first"));
    let last = f.writer.write_repeatable(counted("last", &runs));
    drop(release);
    held.await;
    assert!(first.await.is_ok() && last.await.is_ok());
    assert_eq!(refused.await.unwrap_err().0, "refused before writing");
    assert!(clash.await.is_err());
    assert_eq!(runs.load(Ordering::Relaxed), 2, "nothing ran again");
    assert_eq!(f.count("SELECT COUNT(*) FROM templates"), 2);
}

#[tokio::test]
async fn a_repeatable_write_that_fails_after_writing_is_left_out_and_the_rest_run_again() {
    repeatable_failure_runs_the_rest_again(Fixture::new("repeatable-again")).await;
}

/// PostgreSQL counts no changes, and any failure aborts its transaction: every failed repeatable
/// job sends the batch round again, as one that wrote does on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_repeatable_write_that_fails_is_left_out_and_the_rest_run_again() {
    repeatable_failure_runs_the_rest_again(Fixture::postgres().await).await;
}

async fn repeatable_failure_runs_the_rest_again(f: Fixture) {
    let runs = Arc::new(AtomicU64::new(0));
    let (release, held) = f.hold();
    wait_until_taken(&f);
    let before = f.commits();
    let first = f.writer.write_repeatable(counted("first", &runs));
    let failing = f.writer.write_repeatable(|b| {
        template("half-done")(b)?;
        Err::<(), _>(StoreError("refused after writing".into()))
    });
    let panicking = f.writer.write_repeatable(|b| -> Result<(), StoreError> {
        template("panicked")(b)?;
        panic!("a bug in a job");
    });
    let last = f.writer.write_repeatable(counted("last", &runs));
    // A job in a savepoint of its own, in the same batch.
    let other = f.writer.write(template("other"));
    drop(release);
    held.await;
    // In the order they were asked for (PostgreSQL hands out no id twice, undone or not).
    assert!(first.await.unwrap() < last.await.unwrap());
    assert_eq!(failing.await.unwrap_err().0, "refused after writing");
    assert!(panicking.await.is_err());
    assert!(other.await.is_ok());
    // `first` ran, then again after the failure undid it; `last` ran once, in the second run,
    // which gives each job its savepoint, so the panic in it costs no third run.
    assert_eq!(runs.load(Ordering::Relaxed), 3);
    assert_eq!(f.commits() - before, 2, "all of them in one transaction");
    assert_eq!(
        f.count("SELECT COUNT(*) FROM templates WHERE name IN ('first', 'last', 'other')"),
        3
    );
    assert_eq!(f.count("SELECT COUNT(*) FROM templates"), 3);
}

#[tokio::test]
async fn events_are_published_after_commit_in_sequence_without_gaps() {
    let f = Fixture::new("seq");
    let mut live = f.feed.subscribe();
    let (release, held) = f.hold();
    wait_until_taken(&f);
    let event = |kept: bool| {
        f.writer.write(move |b| {
            b.event_json(FeedKind::Command, 1, Some("SENDING"), 2, |_, out| {
                out.push_str("{}")
            })?;
            if kept {
                Ok(())
            } else {
                Err(StoreError("undone".into()))
            }
        })
    };
    // The undone event's number is given to the next one: published numbers have no gap.
    let writes = [event(true), event(false), event(true), event(true)];
    // Nothing is published before the commit.
    assert!(live.try_recv().is_err());
    drop(release);
    held.await;
    let results: Vec<bool> = futures_util::future::join_all(writes)
        .await
        .iter()
        .map(Result::is_ok)
        .collect();
    assert_eq!(results, [true, false, true, true]);
    let seqs: Vec<i64> = (0..3).map(|_| live.try_recv().unwrap().seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    assert!(live.try_recv().is_err(), "nothing for the undone write");
    assert_eq!(f.writer.progress.seq.load(Ordering::Acquire), 3);
    assert_eq!(f.count("SELECT COUNT(*) FROM feed"), 3);
    assert_eq!(f.count("SELECT MAX(seq) FROM feed"), 3);
}

#[tokio::test]
async fn a_closed_writer_finishes_what_was_queued_and_refuses_the_rest() {
    let f = Fixture::new("close");
    let queued: Vec<_> = (0..20)
        .map(|i| f.writer.write(template(format!("q{i}"))))
        .collect();
    let writer = f.writer.clone();
    tokio::task::spawn_blocking(move || writer.close())
        .await
        .unwrap();
    for w in queued {
        w.await.unwrap();
    }
    assert!(f.writer.write(template("late")).await.is_err());
    assert_eq!(f.count("SELECT COUNT(*) FROM templates"), 20);
    // Closed cleanly: the log was folded into the database file.
    let Db::File(dir) = &f.db else {
        unreachable!("a SQLite fixture")
    };
    let wal = dir.join("db.sqlite3-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the log is empty after a clean close"
    );
}

#[tokio::test]
async fn a_batch_keeps_its_undo_pages_in_memory() {
    let f = Fixture::new("subjournal");
    let (release, held) = f.hold();
    wait_until_taken(&f);
    // The first job adds about 40 pages; the second changes them all inside its savepoint, so
    // SQLite keeps a copy of each to undo it: far past the 64 KiB it would spill to a file.
    let first = f.writer.write(|b| {
        for i in 0..300 {
            template(format!("{i:0>1000}"))(b)?;
        }
        Ok::<_, StoreError>(())
    });
    let second = f.writer.write(|b| {
        b.db().execute("UPDATE templates SET body = '{ }'", &[])?;
        // An unnamed temporary file (O_TMPFILE) shows in /proc as `…/#<inode> (deleted)`.
        let open: Vec<String> = std::fs::read_dir("/proc/self/fd")
            .map_err(|e| StoreError(e.to_string()))?
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .map(|target| target.display().to_string())
            .filter(|t| t.contains("/#") && t.ends_with("(deleted)"))
            .collect();
        Ok::<_, StoreError>(open)
    });
    drop(release);
    held.await;
    first.await.unwrap();
    assert_eq!(second.await.unwrap(), Vec::<String>::new());
    assert_eq!(
        f.count("SELECT COUNT(*) FROM templates WHERE body = '{ }'"),
        300
    );
}
