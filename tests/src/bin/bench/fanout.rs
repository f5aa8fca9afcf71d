//! Measure 2: callbacks posted at a fixed rate (open loop) to a server with 100 open feed streams;
//! for each event each stream receives, the time from the callback's send to its arrival.

use crate::floor;
use crate::http::{Conn, Head, SseSplitter};
use crate::load::{Bodies, Kind, Target, ms, percentile};
use crate::report::Outcome;
use hermod_console_tests::TempDir;
use memchr::memmem;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

pub const SUBSCRIBERS: usize = 100;
pub const SECONDS: u64 = 10;
/// Connections opened before the first send (more are opened when all are busy).
const WARM_CONNECTIONS: usize = 32;
const MAX_IN_FLIGHT: usize = 4096;
/// An idle connection is used again only this soon after its last answer.
const REUSE_IDLE_FOR: Duration = Duration::from_secs(5);
/// How long after the last send the streams may take to deliver everything.
const DRAIN: Duration = Duration::from_secs(10);

/// What one stream saw.
#[derive(Default)]
struct Seen {
    /// (callback number, microseconds from its send), in arrival order.
    events: Vec<(u32, u32)>,
    /// Events whose id was not above the one before.
    out_of_order: u64,
    reconnects: u64,
    failure: Option<String>,
}

async fn open_stream(target: &Target, last_id: Option<u64>) -> std::io::Result<(Conn, Head)> {
    let mut conn = Conn::connect(&target.addr()).await?;
    let head = conn.open(&target.events_request(last_id)).await?;
    if head.status != 200 {
        return Err(std::io::Error::other(format!(
            "/api/events answered {}",
            head.status
        )));
    }
    Ok((conn, head))
}

/// The most recently used idle connection, unless it has been idle so long that the server may be
/// closing it (its idle timeout, `limits.header_read_timeout_secs`, is 10 s by default): a request
/// written as the server closes gets no answer, and would count as a failed post. Older ones are
/// dropped, as an HTTP client's pool does.
fn take_idle(pool: &Mutex<Vec<(Conn, Instant)>>) -> Option<Conn> {
    let mut pool = pool.lock().expect("pool lock");
    while let Some((conn, since)) = pool.pop() {
        if since.elapsed() < REUSE_IDLE_FOR {
            return Some(conn);
        }
    }
    None
}

/// The callback number an event carries in `externalId` (`bench-seq-N`), wherever the server puts it.
fn callback_number(event: &[u8]) -> Option<u32> {
    let at = memmem::find(event, b"bench-seq-")? + b"bench-seq-".len();
    let digits = event[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&event[at..at + digits])
        .ok()?
        .parse()
        .ok()
}

pub async fn fanout(kind: Kind, rate: u64) -> Outcome {
    let target = Arc::new(Target::start(kind).await);
    let n = (rate * SECONDS) as usize;
    let epoch = Instant::now();
    let send_us: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let acknowledged: Arc<Vec<AtomicBool>> =
        Arc::new((0..n).map(|_| AtomicBool::new(false)).collect());

    // Every stream is open (its head read: the server has subscribed it) before the first send.
    let mut streams = Vec::new();
    for _ in 0..SUBSCRIBERS {
        streams.push(
            open_stream(&target, None)
                .await
                .expect("open a feed stream"),
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let received: Arc<Vec<AtomicU64>> =
        Arc::new((0..SUBSCRIBERS).map(|_| AtomicU64::new(0)).collect());
    let mut readers = Vec::new();
    for (i, (mut conn, mut head)) in streams.into_iter().enumerate() {
        let (target, send_us, received, mut stop) = (
            target.clone(),
            send_us.clone(),
            received.clone(),
            stop_rx.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut seen = Seen::default();
            let mut splitter = SseSplitter::default();
            let mut last_id: Option<u64> = None;
            loop {
                let data = tokio::select! {
                    _ = stop.changed() => break,
                    data = conn.stream_data(&head, |bytes| {
                        let now = epoch.elapsed().as_micros() as u64;
                        splitter.push(bytes, |id, event| {
                            if let Some(id) = id {
                                if last_id.is_some_and(|last| id <= last) {
                                    seen.out_of_order += 1;
                                }
                                last_id = Some(id);
                            }
                            if let Some(k) = callback_number(event).filter(|&k| (k as usize) < n) {
                                let sent = send_us[k as usize].load(Ordering::Acquire);
                                seen.events.push((k, now.saturating_sub(sent) as u32));
                                received[i].fetch_add(1, Ordering::Release);
                            }
                        });
                    }) => data,
                };
                if matches!(data, Ok(true)) {
                    continue;
                }
                // The server closed the stream (a lagging subscriber is closed, by design): resume
                // after the last id, as the browser does.
                seen.reconnects += 1;
                if seen.reconnects > 50 {
                    seen.failure = Some(format!("stream closed 50 times ({data:?})"));
                    break;
                }
                splitter = SseSplitter::default();
                tokio::time::sleep(Duration::from_millis(20)).await;
                match open_stream(&target, last_id).await {
                    Ok((c, h)) => (conn, head) = (c, h),
                    Err(e) => {
                        seen.failure = Some(format!("reconnect: {e}"));
                        break;
                    }
                }
            }
            seen
        }));
    }

    // Open loop: each callback is sent at its time, on an idle connection or a new one, whatever
    // became of the ones before; only the cap on requests in flight (reached only by a server that
    // stalls for seconds) can hold one back, and that is counted as late.
    // Of replicas, the one the streams are not on: every event crosses over.
    let addr = target.post_addrs(false).remove(0);
    let pool: Arc<Mutex<Vec<(Conn, Instant)>>> = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..WARM_CONNECTIONS {
        let conn = Conn::connect(&addr).await.expect("connect a sender");
        pool.lock().expect("pool lock").push((conn, Instant::now()));
    }
    let gate = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let period = Duration::from_secs(1) / rate as u32;
    let bodies = Bodies::new();
    let mut sends = Vec::with_capacity(n);
    let mut late = 0u64;
    let start = Instant::now() + Duration::from_millis(50);
    for k in 0..n {
        let due = start + period * k as u32;
        tokio::time::sleep_until(due.into()).await;
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .expect("the gate stays open");
        if Instant::now() > due + Duration::from_millis(5) {
            late += 1;
        }
        let request = target.callback_request(&bodies.sign_callback(k as u64));
        let (pool, addr, send_us, acknowledged) = (
            pool.clone(),
            addr.clone(),
            send_us.clone(),
            acknowledged.clone(),
        );
        sends.push(tokio::spawn(async move {
            let _permit = permit;
            let idle = take_idle(&pool);
            let mut conn = match idle {
                Some(c) => c,
                None => Conn::connect(&addr).await.map_err(|e| e.to_string())?,
            };
            let sent = Instant::now();
            send_us[k].store(epoch.elapsed().as_micros() as u64, Ordering::Release);
            let r = conn.send(&request).await.map_err(|e| e.to_string())?;
            let answered = sent.elapsed().as_micros() as u32;
            if r.head.header("connection") != Some("close") {
                pool.lock().expect("pool lock").push((conn, Instant::now()));
            }
            if !r.head.is_success() {
                return Err(format!("{}", r.head.status));
            }
            acknowledged[k].store(true, Ordering::Release);
            Ok(answered)
        }));
    }
    let (mut failed, mut first_failure) = (0u64, None);
    let mut answers = Vec::with_capacity(n);
    for send in sends {
        match send.await.expect("a send") {
            Ok(us) => answers.push(us),
            Err(e) => {
                failed += 1;
                first_failure.get_or_insert(e);
            }
        }
    }
    answers.sort_unstable();
    let ok = acknowledged
        .iter()
        .filter(|a| a.load(Ordering::Acquire))
        .count() as u64;
    let drain_until = Instant::now() + DRAIN;
    while Instant::now() < drain_until && received.iter().any(|r| r.load(Ordering::Acquire) < ok) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop_tx.send(true);

    let (mut missing, mut duplicates, mut out_of_order, mut reconnects) = (0u64, 0u64, 0u64, 0u64);
    let mut short_streams = 0;
    let mut latencies = Vec::with_capacity(n * SUBSCRIBERS);
    let mut stream_failure = None;
    for r in readers {
        let seen = r.await.expect("a stream reader");
        let mut count = vec![0u32; n];
        for &(k, us) in &seen.events {
            count[k as usize] += 1;
            latencies.push(us);
        }
        let mut stream_missing = 0;
        for (k, c) in count.iter().enumerate() {
            if acknowledged[k].load(Ordering::Acquire) && *c == 0 {
                stream_missing += 1;
            }
            duplicates += u64::from(c.saturating_sub(1));
        }
        if stream_missing > 0 {
            short_streams += 1;
        }
        missing += stream_missing;
        out_of_order += seen.out_of_order;
        reconnects += seen.reconnects;
        stream_failure = stream_failure.or(seen.failure);
    }
    latencies.sort_unstable();
    let us = |v: u32| ms(Duration::from_micros(v as u64));
    let key = format!("fanout.{rate}");
    let mut out = Outcome::default();
    out.cell(&key, spread(&latencies));
    let mut check = if missing == 0 && duplicates == 0 && out_of_order == 0 {
        format!("yes: {ok} × {SUBSCRIBERS}")
    } else {
        format!(
            "NO: {missing} missing ({short_streams} streams short), {duplicates} duplicate, \
             {out_of_order} out of order"
        )
    };
    // A feed can only be as quick as the callbacks are taken: this shows when ingest is the limit.
    check.push_str(&format!(
        "; POSTs answered p50 {}, p99 {}",
        us(percentile(&answers, 0.50)),
        us(percentile(&answers, 0.99))
    ));
    if reconnects > 0 {
        check.push_str(&format!("; {reconnects} reconnects"));
    }
    if failed > 0 {
        check.push_str(&format!(
            "; {failed} posts failed (first: {})",
            first_failure.unwrap_or_default()
        ));
    }
    if late > 0 {
        check.push_str(&format!("; sent >5 ms late: {late}"));
    }
    if let Some(f) = stream_failure {
        check.push_str(&format!("; {f}"));
    }
    if kind != Kind::Bare && (missing > 0 || duplicates > 0 || out_of_order > 0) {
        out.problem(format!("fan-out at {rate}/s: {check}"));
    }
    out.cell(&format!("{key}.check"), check);
    if kind == Kind::Console {
        drop(target);
        out.cell(&format!("{key}.floor"), floor(rate).await);
    }
    out
}

/// The commits alone, at the same rate, on this disk (`floor.rs`): due moment to commit.
async fn floor(rate: u64) -> String {
    eprintln!("[bench]   one synced commit a callback, nothing else");
    let dir = TempDir::new("bench-floor");
    let path = dir.path().to_path_buf();
    let row = Bodies::new().sign_callback(0).len();
    let latencies =
        tokio::task::spawn_blocking(move || floor::paced_commits(&path, rate, SECONDS, row))
            .await
            .expect("the floor's measure");
    spread(&latencies)
}

/// p50 / p99 / max of sorted microseconds.
fn spread(latencies: &[u32]) -> String {
    let us = |v: u32| ms(Duration::from_micros(v as u64));
    format!(
        "{} / {} / {}",
        us(percentile(latencies, 0.50)),
        us(percentile(latencies, 0.99)),
        us(latencies.last().copied().unwrap_or(0))
    )
}
