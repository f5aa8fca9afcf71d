//! `make bench`: does the console stay fast with 100,000 commands? Fills a real console's SQLite file
//! (rows shaped like the simulator's: sign requests, PKCS#7-sized callback bodies, decoded words),
//! then times the list, filter, deep-cursor, search and export endpoints over HTTP, median of several
//! runs. Baselines in the same run: the same endpoints on 1,000 commands, and the same text search done
//! without the index (a scan of every body, as a console without one would).

use hermod_console_tests::Console;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::time::{Duration, Instant};

const RUNS: usize = 15;

/// Adds `n` commands, each with one matched callback and its search rows, in one transaction.
async fn fill(console: &Console, n: usize) {
    let mut conn = SqliteConnectOptions::new()
        .filename(console.data_dir().join("hermod-console.sqlite3"))
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .expect("open the database");
    let started = Instant::now();
    let mut tx = sqlx::Connection::begin(&mut conn).await.expect("begin");
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
        let decoded = format!("Pay 100 EUR to ACME CN=Hermod Simulator Device {i:06}");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO commands (client, type, state, command_id, external_id, created_at, \
             updated_at, request, answer, decoded) VALUES ('idm', ?, ?, ?, ?, ?, ?, ?, \
             '{\"at\":\"2026-09-21T14:13:20.000Z\",\"status\":200,\"body\":\"{}\",\"error\":null,\"duration_ms\":3}', \
             ?) RETURNING id",
        )
        .bind(ty)
        .bind(state)
        .bind(&command_id)
        .bind(&external)
        .bind(at)
        .bind(at)
        .bind(&request)
        .bind(&decoded)
        .fetch_one(&mut *tx)
        .await
        .expect("insert a command");
        let body = format!(
            r#"{{"commandId":"{command_id}","externalId":"{external}","state":"{state}","response":"{signature}"}}"#
        );
        sqlx::query(
            "INSERT INTO callbacks (received_at, client, type, command_id, command, state, \
             external_id, body, headers, auth, digest, decoded) \
             VALUES (?, 'idm', ?, ?, ?, ?, ?, ?, '[]', 'basic ok (bench)', ?, ?)",
        )
        .bind(at + 2000)
        .bind(ty)
        .bind(&command_id)
        .bind(id)
        .bind(state)
        .bind(&external)
        .bind(&body)
        .bind(format!("bench-digest-{i}"))
        .bind(&decoded)
        .execute(&mut *tx)
        .await
        .expect("insert a callback");
        sqlx::query("INSERT INTO command_search (rowid, text) VALUES (?, ?)")
            .bind(id)
            .bind(format!(
                "{request} {command_id} {external} {decoded} {body}"
            ))
            .execute(&mut *tx)
            .await
            .expect("index the command");
    }
    tx.commit().await.expect("commit");
    println!(
        "  filled {n} commands + callbacks in {:.1} s",
        started.elapsed().as_secs_f64()
    );
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
async fn time_scan(console: &Console, needle: &str) -> f64 {
    let mut conn = SqliteConnectOptions::new()
        .filename(console.data_dir().join("hermod-console.sqlite3"))
        .read_only(true)
        .connect()
        .await
        .expect("open the database");
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT c.id FROM commands c WHERE instr(lower(c.request), ?1) > 0 \
             OR instr(lower(COALESCE(c.answer, '')), ?1) > 0 OR instr(lower(c.decoded), ?1) > 0 \
             OR EXISTS (SELECT 1 FROM callbacks b WHERE b.command = c.id \
                        AND instr(lower(b.body), ?1) > 0) \
             ORDER BY c.id DESC LIMIT 51",
        )
        .bind(needle.to_lowercase())
        .fetch_all(&mut conn)
        .await
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
        "search: decoded subject",
        "/api/commands?limit=50&q=Simulator%20Device%20000123",
    ),
    ("callbacks, first page", "/api/callbacks?limit=50"),
];

async fn measure(n: usize) -> Vec<f64> {
    let console = Console::demo().start().await;
    fill(&console, n).await;
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
        let scan = time_scan(&console, "bench-000777").await;
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
