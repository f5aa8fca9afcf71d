//! Measures 1 (durable ingest) and 5 (disk per stored callback).

use crate::load::{
    Bodies, Kind, Load, Stop, Target, closed_loop, cpu_seconds, ms, running, thousands,
};
use crate::report::Outcome;
use hermod_console_tests::Console;
use hermod_shared::console::{CallbackRecord, ListPage};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const SENDERS: usize = 32;
pub const WARMUP: Duration = Duration::from_secs(1);
pub const WINDOW: Duration = Duration::from_secs(8);
pub const DISK_CALLBACKS: u64 = 20_000;
/// Paging the stored callbacks back is the direct check of "every 2xx committed", but a fast store
/// can take more in 9 s than is worth reading back; past this, the metric alone says it.
const PAGE_BUDGET: Duration = Duration::from_secs(20);

/// Callbacks from [`SENDERS`] closed loops, shared out over the target's servers (of replicas, both).
async fn send_callbacks(target: &Target, stop: Stop) -> Load {
    let bodies = Arc::new(Bodies::new());
    let addrs = target.post_addrs(true);
    let loops = addrs.iter().enumerate().map(|(i, addr)| {
        // Each server's share of the requests is numbered apart from the others'.
        let offset = i as u64 * 1_000_000_000;
        let request = request(target, bodies.clone(), offset);
        let senders = SENDERS / addrs.len();
        async move {
            let mut load = closed_loop(addr, senders, stop, request).await;
            for seq in &mut load.ok_seqs {
                *seq += offset;
            }
            load
        }
    });
    let loads = futures_util::future::join_all(loops).await;
    loads
        .into_iter()
        .reduce(Load::merge)
        .expect("a server to send to")
}

/// Request `offset + seq`: a callback, as Hermod posts it.
fn request(
    target: &Target,
    bodies: Arc<Bodies>,
    offset: u64,
) -> Arc<dyn Fn(u64) -> (Vec<u8>, usize) + Send + Sync> {
    // Built once: each request only differs in its body.
    let head = target.callback_request(b"");
    let head = String::from_utf8(head).expect("ASCII head");
    let head = head
        .strip_suffix("content-length: 0\r\n\r\n")
        .expect("a POST head ends with its length")
        .to_string();
    Arc::new(move |seq: u64| {
        let body = bodies.sign_callback(offset + seq);
        let mut request = format!("{head}content-length: {}\r\n\r\n", body.len()).into_bytes();
        request.extend_from_slice(&body);
        (request, body.len())
    })
}

pub async fn durable_ingest(kind: Kind) -> Outcome {
    let target = Target::start(kind).await;
    eprintln!(
        "[bench]   {SENDERS} senders, {} s warm-up + {} s",
        WARMUP.as_secs(),
        WINDOW.as_secs()
    );
    let cpu = || -> Option<f64> { target.pids().into_iter().map(cpu_seconds).sum() };
    let cpu_before = cpu();
    let load = send_callbacks(
        &target,
        Stop::Time {
            warmup: WARMUP,
            window: WINDOW,
        },
    )
    .await;
    let cpu = cpu_before.zip(cpu()).map(|(before, after)| after - before);
    let mut out = Outcome::default();
    // Less sensitive than the rate to what else runs on the machine.
    if let Some(cpu) = cpu {
        out.cell(
            "ingest.cpu",
            format!("{:.0} µs", cpu * 1e6 / load.total_ok.max(1) as f64),
        );
    }
    out.cell(
        "ingest.rate",
        format!("{}/s", thousands(load.rate() as u64)),
    );
    out.cell(
        "ingest.latency",
        format!("{} / {}", ms(load.p(0.50)), ms(load.p(0.99))),
    );
    let mut errors = format!("{}", load.non_2xx);
    if load.errors > 0 {
        errors.push_str(&format!(" (+{} unanswered)", load.errors));
    }
    if let Some(first) = &load.first_failure {
        errors.push_str(&format!(" first: {first}"));
    }
    out.cell("ingest.errors", errors);
    if !target.pids().into_iter().all(running) {
        out.cell("ingest.stored", "NO: the server process ended".into());
        out.problem(format!(
            "durable ingest: the server process ended during the load; its log ends:\n{}",
            target.log_tail().unwrap_or_default()
        ));
        return out;
    }
    if let Some(console) = target.console() {
        out.cell("ingest.batch", batch_size(&target.consoles()).await);
        let verdict = check_stored(console, &target.consoles(), &load.ok_seqs).await;
        if !verdict.0 {
            out.problem(format!("durable ingest: {}", verdict.1));
        }
        out.cell("ingest.stored", verdict.1);
    }
    out
}

/// The writer's transactions and the writes in them, from `/metrics`: how well commits are shared.
async fn batch_size(consoles: &[&Console]) -> String {
    match (
        counter(consoles, "hermod_console_store_writes_total").await,
        counter(consoles, "hermod_console_store_commits_total").await,
    ) {
        (Some(writes), Some(commits)) if commits > 0.0 => format!(
            "{:.1} ({} commits)",
            writes / commits,
            thousands(commits as u64)
        ),
        _ => "(no store counters in /metrics)".to_string(),
    }
}

/// A counter of `/metrics`, summed over `consoles` (each replica counts its own work).
async fn counter(consoles: &[&Console], name: &str) -> Option<f64> {
    let mut sum = 0.0;
    for console in consoles {
        let metrics = console.get("/metrics").await;
        sum += metrics.text.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse::<f64>()
                .ok()
        })?;
    }
    Some(sum)
}

/// Reads the stored callbacks back (from `console`) and compares them with the 2xx answers; the
/// consoles' own count (`/metrics`, summed over `all`) is shown beside, and stands in for the rows
/// the time budget left unread.
async fn check_stored(console: &Console, all: &[&Console], ok_seqs: &[u64]) -> (bool, String) {
    let acknowledged = ok_seqs.len() as u64;
    let counted = counter(all, "hermod_console_callbacks_stored_total")
        .await
        .map(|n| n as u64);
    let started = Instant::now();
    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut complete = false;
    while started.elapsed() < PAGE_BUDGET {
        let query = match &cursor {
            Some(c) => format!(
                "?limit=500&cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            ),
            None => "?limit=500".to_string(),
        };
        let page: ListPage<CallbackRecord> = console.callbacks(&query).await;
        for c in &page.items {
            if let Some(seq) = c
                .external_id
                .as_deref()
                .and_then(|e| e.strip_prefix("bench-seq-"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                seen.insert(seq);
            }
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            complete = true;
            break;
        }
    }
    let found = ok_seqs.iter().filter(|s| seen.contains(s)).count() as u64;
    let metric = match counted {
        Some(n) if n == acknowledged => "= /metrics".to_string(),
        Some(n) => format!("(/metrics says {}: wrong)", thousands(n)),
        None => "(no count in /metrics)".to_string(),
    };
    if complete {
        let ok = found == acknowledged;
        let verdict = if ok { "yes" } else { "NO" };
        return (
            ok,
            format!(
                "{verdict}: {} 2xx, {} of them read back {metric}",
                thousands(acknowledged),
                thousands(found)
            ),
        );
    }
    let ok = counted == Some(acknowledged);
    let verdict = if ok { "yes" } else { "NOT SHOWN" };
    (
        ok,
        format!(
            "{verdict}: {} 2xx {metric}; {} read back in {} s, the rest unread",
            thousands(acknowledged),
            thousands(found),
            PAGE_BUDGET.as_secs()
        ),
    )
}

pub async fn disk(kind: Kind) -> Outcome {
    assert_eq!(kind, Kind::Console, "only the console stores");
    let mut target = Target::start(kind).await;
    eprintln!(
        "[bench]   {} callbacks, {SENDERS} senders",
        thousands(DISK_CALLBACKS)
    );
    let load = send_callbacks(&target, Stop::Count(DISK_CALLBACKS)).await;
    let console = target.console_mut().expect("a console");
    // The search index is part of what a callback costs on disk: stop only once it is built (a
    // console that indexes as it stores reports nothing outstanding).
    let indexed = searchable(console).await;
    eprintln!("[bench]   searchable after {:.1} s", indexed.as_secs_f64());
    let status = console.stop().await;
    assert!(
        status.success(),
        "the console exited with {status} on SIGTERM"
    );
    let bytes = dir_size(&console.data_dir());
    let stored = load.total_ok.max(1);
    let per = bytes as f64 / stored as f64;
    let body = load.ok_body_bytes as f64 / stored as f64;
    let mut cell = format!(
        "{:.1} KB ({:.1}× the {:.1} KB body; {} callbacks, {:.1} MB)",
        per / 1000.0,
        per / body,
        body / 1000.0,
        thousands(load.total_ok),
        bytes as f64 / 1e6
    );
    if load.total_ok != DISK_CALLBACKS {
        // Still a true figure per stored callback; the shortfall is shown beside it.
        cell.push_str(&format!(
            "; {} not acknowledged, first: {}",
            DISK_CALLBACKS - load.total_ok,
            load.first_failure.as_deref().unwrap_or("none")
        ));
    }
    let mut out = Outcome::default();
    out.cell("disk", cell);
    out
}

/// Waits (at most a minute) until a search reports no record left unindexed; how long that took.
async fn searchable(console: &Console) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let page = console
            .get("/api/callbacks?limit=1&q=bench-seq")
            .await
            .json();
        if page["unindexed"].as_u64().unwrap_or(0) == 0 {
            break;
        }
    }
    started.elapsed()
}

/// Bytes of every file under `dir`.
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
