//! What the measures run against, what they send, and the closed-loop load they send it with.

use crate::bare::BareServer;
use crate::http::{self, Conn};
use hermod_console_tests::postgres::{self, Cluster};
use hermod_console_tests::{Console, Secrets, b64};
use hermod_shared::console::Role;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bare,
    Console,
    /// Two consoles on one PostgreSQL database (README, "Running several replicas").
    Replicas,
}

/// A fresh server for one measure: the bare receiver, or a console (`demo`) started by the test
/// harness on its own data directory.
pub enum Target {
    Bare(BareServer),
    Console {
        console: Box<Console>,
        /// A viewer's API token, for the feed.
        token: String,
    },
    /// Streams open on the first replica; callbacks go to both, or to the second alone.
    Replicas {
        first: Box<Console>,
        second: Box<Console>,
        token: String,
        _database: Cluster,
    },
}

/// The consoles of a measure each get this environment.
fn console(secrets: Secrets) -> hermod_console_tests::ConsoleBuilder {
    // The fan-out and idle measures open thousands of streams with one token.
    Console::demo_with(secrets).env("HERMOD_CONSOLE__AUTH__MAX_STREAMS_PER_SESSION", "20000")
}

impl Target {
    pub async fn start(kind: Kind) -> Target {
        match kind {
            Kind::Bare => Target::Bare(BareServer::start().await.expect("start the bare server")),
            Kind::Console => {
                let console = console(Secrets::random()).start().await;
                let token = console.mint_token("bench", Role::Viewer, 1).await.token;
                Target::Console {
                    console: Box::new(console),
                    token,
                }
            }
            Kind::Replicas => {
                // Durable, as the SQLite store is (synchronous = FULL): a commit waits for its sync.
                let database = postgres::start(&[
                    ("fsync", "on"),
                    ("synchronous_commit", "on"),
                    ("full_page_writes", "on"),
                ]);
                let url = database.database();
                let secrets = Secrets::random();
                let replica = || {
                    console(secrets.clone())
                        .env("HERMOD_CONSOLE__DATABASE_URL", url.clone())
                        .start()
                };
                let first = replica().await;
                let second = replica().await;
                let token = first.mint_token("bench", Role::Viewer, 1).await.token;
                Target::Replicas {
                    first: Box::new(first),
                    second: Box::new(second),
                    token,
                    _database: database,
                }
            }
        }
    }

    /// `127.0.0.1:PORT`: where streams are opened.
    pub fn addr(&self) -> String {
        match self {
            Target::Bare(b) => b.addr.clone(),
            Target::Console { console, .. } => host_port(&console.url),
            Target::Replicas { first, .. } => host_port(&first.url),
        }
    }

    /// Where callbacks are posted: each server, or of replicas the one the streams are not on
    /// (`spread`: every replica, each taking its share).
    pub fn post_addrs(&self, spread: bool) -> Vec<String> {
        match self {
            Target::Replicas { first, second, .. } if spread => {
                vec![host_port(&first.url), host_port(&second.url)]
            }
            Target::Replicas { second, .. } => vec![host_port(&second.url)],
            _ => vec![self.addr()],
        }
    }

    /// The server processes: their CPU time is the measure's.
    pub fn pids(&self) -> Vec<u32> {
        match self {
            Target::Bare(b) => vec![b.pid()],
            _ => self
                .consoles()
                .iter()
                .map(|c| c.pid().expect("the console runs"))
                .collect(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.pids()[0]
    }

    /// The console streams are opened on.
    pub fn console(&self) -> Option<&Console> {
        self.consoles().first().copied()
    }

    pub fn consoles(&self) -> Vec<&Console> {
        match self {
            Target::Bare(_) => Vec::new(),
            Target::Console { console, .. } => vec![console],
            Target::Replicas { first, second, .. } => vec![first, second],
        }
    }

    pub fn console_mut(&mut self) -> Option<&mut Console> {
        match self {
            Target::Bare(_) => None,
            Target::Console { console, .. } => Some(console),
            Target::Replicas { first, .. } => Some(first),
        }
    }

    /// `POST /clients/idm/rest/callback/sign` with `body` and idm's Basic credential, as Hermod sends.
    pub fn callback_request(&self, body: &[u8]) -> Vec<u8> {
        let auth = match self {
            // The bare server checks nothing, but gets the same bytes.
            Target::Bare(_) => format!("Basic {}", b64("idm-callback:bare")),
            // Replicas share their configuration's secrets.
            Target::Console { .. } | Target::Replicas { .. } => {
                let (user, password) = self.console().expect("a console").idm_auth();
                format!("Basic {}", b64(format!("{user}:{password}")))
            }
        };
        http::request(
            "POST",
            "/clients/idm/rest/callback/sign",
            &self.addr(),
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            body,
        )
    }

    /// `GET /api/events` with the viewer token, resuming after `last_id` when given.
    pub fn events_request(&self, last_id: Option<u64>) -> Vec<u8> {
        let mut headers = vec![("accept", "text/event-stream".to_string())];
        if let Target::Console { token, .. } | Target::Replicas { token, .. } = self {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        if let Some(id) = last_id {
            headers.push(("last-event-id", id.to_string()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        http::request("GET", "/api/events", &self.addr(), &headers, b"")
    }
}

impl Target {
    /// The end of the console's log (stderr and stdout), for saying why it failed.
    pub fn log_tail(&self) -> Option<String> {
        let log = self.console()?.log();
        let lines: Vec<&str> = log.lines().collect();
        Some(lines[lines.len().saturating_sub(20)..].join("\n"))
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        // A failed measure unwinds through here, and the console's log goes with its directory.
        if std::thread::panicking()
            && let Some(tail) = self.log_tail()
        {
            eprintln!("[bench] the console's log ended:\n{tail}");
        }
    }
}

/// Whether `pid` is still running (not gone, not a zombie waiting to be reaped).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            Some(!matches!(state, 'Z' | 'X'))
        })
        .unwrap_or(false)
}

pub fn host_port(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, rest)| rest)
        .trim_end_matches('/')
        .to_string()
}

/// Sign callbacks of about 2 KB, shaped like the simulator's: ids unique per request, and a base64
/// PKCS#7-like blob that, like a real one, repeats the signer's certificate in every callback (about
/// 900 bytes, the same for the whole run) around a 256-byte signature that differs between requests.
pub struct Bodies {
    signatures: Vec<String>,
    /// Keeps commandIds of different runs apart.
    run: u64,
}

impl Bodies {
    pub fn new() -> Bodies {
        let mut state = hermod_console_tests::random_u64() | 1;
        let mut next = move || {
            // xorshift64: filler that only has to look random to an index.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        };
        // A DER SEQUENCE header, as a PKCS#7 blob starts, then the "certificate".
        let mut certificate = vec![0x30, 0x82, 0x04, 0x84];
        certificate.extend((0..900).map(|_| next()));
        let signatures = (0..1024)
            .map(|_| {
                let mut der = certificate.clone();
                der.extend((0..256).map(|_| next()));
                b64(der)
            })
            .collect();
        Bodies {
            signatures,
            run: u64::from(next()) * 1000 + u64::from(next()),
        }
    }

    /// The callback of request `seq`: `externalId` is `bench-seq-<seq>`, which the fan-out measure
    /// finds in each event.
    pub fn sign_callback(&self, seq: u64) -> Vec<u8> {
        let signature = &self.signatures[seq as usize % self.signatures.len()];
        format!(
            r#"{{"commandId":"{run}{seq:010}","externalId":"bench-seq-{seq}","commandType":"SIGN","state":"COMPLETED","result":{{"format":"pkcs7","mechanism":"CKM_SHA256_RSA_PKCS","signature":"{signature}","signer":{{"subject":"CN=Hermod Simulator Device,O=Bench","serial":"{seq:08x}","keyId":"signer"}},"tbs":[{{"key":"tbs","digest":"SHA-256"}}]}},"error":null}}"#,
            run = self.run,
        )
        .into_bytes()
    }
}

/// When a closed loop stops.
#[derive(Clone, Copy)]
pub enum Stop {
    /// Runs `warmup + window`; only requests started in the window are counted in the rate and
    /// latencies.
    Time { warmup: Duration, window: Duration },
    /// Sends exactly this many requests, all counted.
    Count(u64),
}

/// What a closed loop saw.
#[derive(Default)]
pub struct Load {
    /// 2xx answers to requests started in the counted window.
    pub ok: u64,
    pub non_2xx: u64,
    /// Requests that got no answer (connection refused, reset, closed).
    pub errors: u64,
    /// Of the 2xx answers in the window, sorted.
    pub latencies_us: Vec<u32>,
    /// The counted window, from its start until the last counted request ended.
    pub window: Duration,
    /// Every 2xx, warm-up included.
    pub total_ok: u64,
    /// Request bodies of every 2xx, in bytes.
    pub ok_body_bytes: u64,
    /// The `seq` of every 2xx.
    pub ok_seqs: Vec<u64>,
    pub first_failure: Option<String>,
}

impl Load {
    /// Two loads run side by side (one per replica) as one.
    pub fn merge(mut self, other: Load) -> Load {
        self.ok += other.ok;
        self.non_2xx += other.non_2xx;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
        self.window = self.window.max(other.window);
        self.total_ok += other.total_ok;
        self.ok_body_bytes += other.ok_body_bytes;
        self.ok_seqs.extend(other.ok_seqs);
        self.first_failure = self.first_failure.or(other.first_failure);
        self
    }

    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64().max(1e-9)
    }

    pub fn p(&self, q: f64) -> Duration {
        Duration::from_micros(percentile(&self.latencies_us, q) as u64)
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
pub fn percentile(sorted: &[u32], q: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// `concurrency` keep-alive connections, each sending its next request as soon as the last is
/// answered. `make(seq)` gives request `seq` and the length of its body.
pub async fn closed_loop(
    addr: &str,
    concurrency: usize,
    stop: Stop,
    make: Arc<dyn Fn(u64) -> (Vec<u8>, usize) + Send + Sync>,
) -> Load {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (window_start, end) = match stop {
        Stop::Time { warmup, window } => (started + warmup, Some(started + warmup + window)),
        Stop::Count(_) => (started, None),
    };
    let limit = match stop {
        Stop::Count(n) => n,
        Stop::Time { .. } => u64::MAX,
    };
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, make, addr) = (next.clone(), make.clone(), addr.to_string());
        tasks.push(tokio::spawn(async move {
            let mut load = Load::default();
            let mut conn: Option<Conn> = None;
            loop {
                if end.is_some_and(|end| Instant::now() >= end) {
                    break;
                }
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= limit {
                    break;
                }
                let (request, body_len) = make(seq);
                let c = match &mut conn {
                    Some(c) => c,
                    None => match Conn::connect(&addr).await {
                        Ok(c) => conn.insert(c),
                        Err(e) => {
                            load.errors += 1;
                            load.first_failure.get_or_insert(format!("connect: {e}"));
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    },
                };
                let sent = Instant::now();
                let answer = c.send(&request).await;
                let took = sent.elapsed();
                let counted = sent >= window_start;
                match answer {
                    Ok(r) if r.head.is_success() => {
                        load.total_ok += 1;
                        load.ok_body_bytes += body_len as u64;
                        load.ok_seqs.push(seq);
                        if counted {
                            load.ok += 1;
                            load.latencies_us.push(took.as_micros() as u32);
                        }
                    }
                    Ok(r) => {
                        load.non_2xx += 1;
                        load.first_failure.get_or_insert_with(|| {
                            format!(
                                "{}: {}",
                                r.head.status,
                                String::from_utf8_lossy(&r.body)
                                    .chars()
                                    .take(200)
                                    .collect::<String>()
                            )
                        });
                        if r.head.header("connection") == Some("close") {
                            conn = None;
                        }
                    }
                    Err(e) => {
                        load.errors += 1;
                        load.first_failure.get_or_insert(format!("no answer: {e}"));
                        conn = None;
                    }
                }
            }
            load
        }));
    }
    let mut total = Load::default();
    for task in tasks {
        let l = task.await.expect("a sender");
        total.ok += l.ok;
        total.non_2xx += l.non_2xx;
        total.errors += l.errors;
        total.total_ok += l.total_ok;
        total.ok_body_bytes += l.ok_body_bytes;
        total.latencies_us.extend(l.latencies_us);
        total.ok_seqs.extend(l.ok_seqs);
        if total.first_failure.is_none() {
            total.first_failure = l.first_failure;
        }
    }
    total.window = window_start.elapsed();
    total.latencies_us.sort_unstable();
    total
}

/// User + system CPU seconds process `pid` has used so far (`/proc/PID/stat`).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is the
    // first, utime the twelfth, stime the thirteenth.
    let rest: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
    let ticks: u64 = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf only reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(ticks as f64 / per_second)
}

/// Milliseconds with a precision that suits the value.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
