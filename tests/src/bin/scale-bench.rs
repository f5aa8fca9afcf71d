//! `make bench`, part two: does the console stay fast with 100,000 commands? Fills a stopped
//! console's SQLite file (rows shaped like the simulator's: sign requests, PKCS#7-sized callback
//! bodies naming their signer), starts it again, lets its indexer make all of it searchable, then
//! times the list, filter, deep-cursor, search and export endpoints over HTTP, median of several runs.
//! Baselines in the same run: the same endpoints on 1,000 commands, and the same text search done
//! without the index (a scan of every body, as a console without one would).

use hermod_console_tests::{Console, WAIT, wait_until};
use std::time::{Duration, Instant};

const RUNS: usize = 15;

fn open(console: &Console) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(console.data_dir().join("hermod-console.sqlite3"))
        .expect("open the database");
    conn.busy_timeout(Duration::from_secs(30))
        .expect("busy timeout");
    conn
}

/// Adds `n` commands, each answered and with one matched callback, queued for the console's indexer,
/// in one transaction, while the console is stopped.
fn fill(console: &Console, n: usize) {
    let mut conn = open(console);
    let started = Instant::now();
    let tx = conn.transaction().expect("begin");
    let now: i64 = 1_790_000_000_000;
    let signature = "MIIG".to_string() + &"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo".repeat(60);
    for i in 0..n {
        let external = format!("bench-{i:06}");
        let command_id = format!("{}", 1_000_000_000 + i);
        let request = format!(
            r#"{{"commandHeader":{{"lifespan":300,"timeout":300,"externalId":"{external}"}},"signCommand":{{"params":{{"tbs":[{{"key":"tbs","data":"UGF5IDEwMCBFVVIgdG8gQUNNRQ==","content_type":"text/plain","content_encoding":"base64","visible":true}}],"format":"pkcs7"}}}}}}"#
        );
        let (ty, state) = match i % 4 {
            0 => ("ping", "COMPLETED"),
            1 => ("sign", "COMPLETED"),
            2 => ("sign", "REJECTED"),
            _ => ("provision", "EXPIRED"),
        };
        let at = now + i as i64 * 1000;
        let id: i64 = tx
            .query_row(
                "INSERT INTO commands (client, type, state, command_id, external_id, created_at, \
                 updated_at, request, answer) VALUES ('idm', ?, ?, ?, ?, ?, ?, ?, \
                 '{\"at\":\"2026-09-21T14:13:20.000Z\",\"status\":200,\"body\":\"{}\",\"error\":null,\"duration_ms\":3}') \
                 RETURNING id",
                (ty, state, &command_id, &external, at, at, &request),
                |r| r.get(0),
            )
            .expect("insert a command");
        let body = format!(
            r#"{{"commandId":"{command_id}","externalId":"{external}","state":"{state}","signer":"CN=Hermod Simulator Device {i:06}","response":"{signature}"}}"#
        );
        let digest = (i as u128).to_be_bytes();
        tx.execute(
            "INSERT INTO callbacks (received_at, client, type, command_id, command, state, \
             external_id, body, headers, auth, digest) \
             VALUES (?, 'idm', ?, ?, ?, ?, ?, ?, '[]', 'basic ok (bench)', ?)",
            (
                at + 2000,
                ty,
                &command_id,
                id,
                state,
                &external,
                &body,
                &digest[..],
            ),
        )
        .expect("insert a callback");
        let callback = tx.last_insert_rowid();
        for doc in [id * 4, id * 4 + 3, callback * 4 + 1] {
            tx.execute("INSERT INTO unindexed (doc) VALUES (?)", [doc])
                .expect("queue for indexing");
        }
    }
    tx.commit().expect("commit");
    println!(
        "  filled {n} commands + callbacks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Waits until the console's indexer has made everything searchable; how long that took.
async fn indexed(console: &Console, n: usize) -> Duration {
    let started = Instant::now();
    wait_until("the indexer to catch up", WAIT * 40, || async {
        let page = console.get("/api/commands?limit=1&q=bench-").await.json();
        (page["unindexed"].as_u64().unwrap_or(0) == 0).then_some(())
    })
    .await;
    let took = started.elapsed();
    println!(
        "  indexed {} documents in {:.1} s ({:.0}/s)",
        3 * n,
        took.as_secs_f64(),
        (3 * n) as f64 / took.as_secs_f64()
    );
    took
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

/// Median milliseconds of `GET path` (the whole body read), and the body's size.
async fn time_get(console: &Console, path: &str) -> (f64, usize) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let r = console.get(path).await;
        assert_eq!(r.status.as_u16(), 200, "{path}: {}", r.text);
        times.push(started.elapsed());
        size = r.text.len();
    }
    (median(times), size)
}

/// The same text search without the index: every request, answer and callback body scanned.
fn time_scan(console: &Console, needle: &str) -> f64 {
    let conn = open(console);
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut stmt = conn
            .prepare(
                "SELECT c.id FROM commands c WHERE instr(lower(c.request), ?1) > 0 \
                 OR instr(lower(COALESCE(c.answer, '')), ?1) > 0 \
                 OR EXISTS (SELECT 1 FROM callbacks b WHERE b.command = c.id \
                            AND instr(lower(b.body), ?1) > 0) \
                 ORDER BY c.id DESC LIMIT 51",
            )
            .expect("prepare the scan");
        let rows: Vec<i64> = stmt
            .query_map([needle.to_lowercase()], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .expect("scan");
        assert!(!rows.is_empty());
        times.push(started.elapsed());
    }
    median(times)
}

const QUERIES: [(&str, &str); 6] = [
    ("first page", "/api/commands?limit=50"),
    (
        "filtered: sign + REJECTED",
        "/api/commands?limit=50&type=sign&state=REJECTED",
    ),
    (
        "time window",
        "/api/commands?limit=50&since=2026-09-21T14:13:30Z&until=2026-09-21T14:20:00Z",
    ),
    (
        "search: one externalId",
        "/api/commands?limit=50&q=bench-000777",
    ),
    (
        "search: signer subject",
        "/api/commands?limit=50&q=Simulator%20Device%20000123",
    ),
    ("callbacks, first page", "/api/callbacks?limit=50"),
];

async fn measure(n: usize) -> Vec<f64> {
    let mut console = Console::demo().start().await;
    let status = console.stop().await;
    assert!(status.success(), "the console stopped cleanly");
    fill(&console, n);
    console.start_again().await;
    indexed(&console, n).await;
    let mut results = Vec::new();
    for (name, path) in QUERIES {
        let (ms, _) = time_get(&console, path).await;
        println!("  {name:<28} {ms:8.2} ms");
        results.push(ms);
    }
    // The deepest page: the cursor of the oldest commands.
    let deep = format!("/api/commands?limit=50&cursor={}", 60);
    let (ms, _) = time_get(&console, &deep).await;
    println!("  {:<28} {ms:8.2} ms", "deepest page (cursor)");
    results.push(ms);
    let started = Instant::now();
    let export = console.get("/api/commands/export?format=csv").await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  {:<28} {:8.2} ms  ({} rows, {:.1} MB, {:.0} rows/s)",
        "export, all (CSV)",
        secs * 1000.0,
        export.text.lines().count() - 1,
        export.text.len() as f64 / 1e6,
        (export.text.lines().count() - 1) as f64 / secs
    );
    results.push(secs * 1000.0);
    if n >= 100_000 {
        let indexed = results[3];
        let scan = time_scan(&console, "bench-000777");
        println!(
            "  baseline: the same search as a scan of every body: {scan:.2} ms ({:.0}x slower than the index)",
            scan / indexed
        );
    }
    results
}

#[tokio::main]
async fn main() {
    println!(
        "Hermod Console scale benchmark (median of {RUNS} runs over HTTP, debug or release as built)"
    );
    println!("baseline: 1,000 commands");
    let small = measure(1_000).await;
    println!("100,000 commands");
    let large = measure(100_000).await;
    println!(
        "\n  {:<28} {:>10} {:>10} {:>8}",
        "query", "1k (ms)", "100k (ms)", "ratio"
    );
    let names = QUERIES
        .iter()
        .map(|(n, _)| *n)
        .chain(["deepest page (cursor)", "export, all (CSV)"]);
    for ((name, a), b) in names.zip(&small).zip(&large) {
        println!("  {name:<28} {a:>10.2} {b:>10.2} {:>7.1}x", b / a);
    }
}
