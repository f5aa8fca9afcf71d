//! Measure 3: server memory per idle feed stream: (VmRSS with N streams open − VmRSS before) / N.

use crate::http::open_idle;
use crate::load::{Kind, Target};
use crate::report::Outcome;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

pub const COUNTS: [usize; 2] = [1_000, 10_000];
/// Streams being opened at once: under the listen backlog, so no connection waits on a SYN retry.
const OPENING: usize = 100;

/// VmRSS of `pid`, in bytes.
fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(kb * 1024)
}

/// VmRSS once it stops moving: two readings a second apart within 1 % (at most 15 s).
async fn stable_rss(pid: u32) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = rss(pid).expect("read the server's VmRSS");
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = rss(pid).expect("read the server's VmRSS");
        if now.abs_diff(last) <= now / 100 || Instant::now() >= deadline {
            return now;
        }
        last = now;
    }
}

async fn open_many(target: &Arc<Target>, n: usize) -> Vec<TcpStream> {
    let gate = Arc::new(Semaphore::new(OPENING));
    let request = Arc::new(target.events_request(None));
    let addr = Arc::new(target.addr());
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let (gate, request, addr) = (gate.clone(), request.clone(), addr.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.expect("the gate stays open");
            open_idle(&addr, &request).await
        }));
    }
    let mut streams = Vec::with_capacity(n);
    for t in tasks {
        match t.await.expect("an opener") {
            Ok(s) => streams.push(s),
            Err(e) => panic!("stream {} of {n} did not open: {e}", streams.len() + 1),
        }
    }
    streams
}

/// The soft open-file limit of this process (the servers it starts inherit it).
fn open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    limit.rlim_cur
}

pub async fn idle_streams(kind: Kind) -> Outcome {
    let most = COUNTS[COUNTS.len() - 1] as u64;
    let limit = open_file_limit();
    assert!(
        limit >= most + 500,
        "the open-file limit is {limit} (hard limit included): {most} streams need about {} \
         (raise it with `ulimit -Hn` as root, or in /etc/security/limits.conf)",
        most + 500
    );
    let target = Arc::new(Target::start(kind).await);
    let pid = target.pid();
    let before = stable_rss(pid).await;
    let mut held = Vec::new();
    let mut out = Outcome::default();
    for count in COUNTS {
        eprintln!("[bench]   holding {count} streams");
        let more = open_many(&target, count - held.len()).await;
        held.extend(more);
        let with = stable_rss(pid).await;
        let per = with.saturating_sub(before) as f64 / count as f64;
        out.cell(
            &format!("idle.{count}"),
            format!(
                "{:.1} KiB (RSS {:.1} → {:.1} MiB)",
                per / 1024.0,
                before as f64 / 1048576.0,
                with as f64 / 1048576.0
            ),
        );
    }
    drop(held);
    out
}
