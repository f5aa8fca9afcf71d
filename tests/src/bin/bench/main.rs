//! `make bench` (issue 8): the console's core jobs at the machine's speed, each beside the same job
//! done by a do-nothing axum server in the same run (the limit), and optionally by another console
//! binary (`--baseline-bin PATH` or `HERMOD_CONSOLE_BASELINE_BIN`: an older build, say). Prints one
//! table to stdout and progress to stderr; exits non-zero when a measure could not run or the console
//! broke a promise (a 2xx callback not stored, a feed event lost or repeated).
//!
//! Everything goes over HTTP to the real binary (`HERMOD_CONSOLE_BIN`, a release build): no part of
//! the console's store is opened here, so the bench outlives any rewrite of it.
//!
//! Hidden modes: `--bare-axum-server` runs the baseline server (a child process, so its memory is
//! measured apart from the load generator's); `--console-only` measures the console alone and prints
//! its figures as JSON (how the baseline binary is measured: `HERMOD_CONSOLE_BIN` is read per process).

mod bare;
mod fanout;
mod floor;
mod http;
mod idle;
mod ingest;
mod load;
mod page;
mod proxy;
mod report;

use load::Kind;
use report::Outcome;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The measures in the order they run.
#[derive(Debug, Clone, Copy)]
enum Measure {
    Ingest,
    Fanout(u64),
    Idle,
    Proxy,
    Disk,
    Page,
}

const MEASURES: [Measure; 7] = [
    Measure::Ingest,
    Measure::Fanout(1000),
    Measure::Fanout(500),
    Measure::Idle,
    Measure::Proxy,
    Measure::Disk,
    Measure::Page,
];

/// No measure takes near this long unless something hangs.
const MEASURE_TIMEOUT: Duration = Duration::from_secs(120);

impl Measure {
    /// The name `--only` takes.
    fn name(self) -> &'static str {
        match self {
            Measure::Ingest => "ingest",
            Measure::Fanout(_) => "fanout",
            Measure::Idle => "idle",
            Measure::Proxy => "proxy",
            Measure::Disk => "disk",
            Measure::Page => "page",
        }
    }

    /// The row a failure is reported in.
    fn first_row(self) -> String {
        match self {
            Measure::Ingest => "ingest.rate".into(),
            Measure::Fanout(rate) => format!("fanout.{rate}"),
            Measure::Idle => "idle.1000".into(),
            Measure::Proxy => "proxy.console".into(),
            Measure::Disk => "disk".into(),
            Measure::Page => "page.wire".into(),
        }
    }

    /// The bare server has no store, no commands and no page.
    fn applies(self, kind: Kind) -> bool {
        match kind {
            Kind::Console => true,
            Kind::Bare => matches!(self, Measure::Ingest | Measure::Fanout(_) | Measure::Idle),
            // What replicas change: taking callbacks together, and passing events between them.
            Kind::Replicas => matches!(self, Measure::Ingest | Measure::Fanout(_)),
        }
    }

    async fn run(self, kind: Kind) -> Outcome {
        match self {
            Measure::Ingest => ingest::durable_ingest(kind).await,
            Measure::Fanout(rate) => fanout::fanout(kind, rate).await,
            Measure::Idle => idle::idle_streams(kind).await,
            Measure::Proxy => proxy::proxy_overhead().await,
            Measure::Disk => ingest::disk(kind).await,
            Measure::Page => page::page(kind).await,
        }
    }
}

/// Writes out what the machine still holds unwritten (the build just before, the measure before
/// this one: half a gigabyte of log and database after an ingest), so that writing it back does not
/// land in this measure's syncs: one did, once, as a 116 ms fan-out maximum.
pub fn settle_disk() {
    if let Err(e) = std::process::Command::new("sync").status() {
        eprintln!("[bench]   `sync` did not run ({e}); measuring anyway");
    }
}

/// Every chosen measure that applies to `kind`, each in its own task so a panic (the harness's way
/// of failing) is reported in its row and the others still run.
async fn column(kind: Kind, name: &str, only: &[String]) -> Outcome {
    let mut outcome = Outcome::default();
    let chosen = |m: &Measure| only.is_empty() || only.iter().any(|o| o == m.name());
    for m in MEASURES
        .into_iter()
        .filter(|m| m.applies(kind) && chosen(m))
    {
        eprintln!("[bench] {name}: {m:?}");
        settle_disk();
        let started = Instant::now();
        let task = tokio::spawn(m.run(kind));
        let abort = task.abort_handle();
        let failure = match tokio::time::timeout(MEASURE_TIMEOUT, task).await {
            Ok(Ok(o)) => {
                outcome.merge(o);
                None
            }
            Ok(Err(e)) if e.is_panic() => {
                let p = e.into_panic();
                Some(
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panicked".into()),
                )
            }
            Ok(Err(e)) => Some(e.to_string()),
            Err(_) => {
                // Dropping the measure's servers stops them.
                abort.abort();
                Some(format!("did not finish in {} s", MEASURE_TIMEOUT.as_secs()))
            }
        };
        if let Some(f) = failure {
            let short: String = f
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(120)
                .collect();
            outcome.cell(&m.first_row(), format!("failed: {short}"));
            outcome.failures.push(format!("{name}, {m:?}: {f}"));
        }
        eprintln!("[bench]   {:.1} s", started.elapsed().as_secs_f64());
    }
    outcome
}

/// The baseline console binary's column, measured by a child run of this program.
fn baseline_column(bin: &str, only: &[String]) -> Outcome {
    let failed = |why: String| {
        let mut o = Outcome::default();
        o.cell("ingest.rate", format!("failed: {why}"));
        o.failures.push(format!("baseline {bin}: {why}"));
        o
    };
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return failed(e.to_string()),
    };
    let mut command = std::process::Command::new(exe);
    command.arg("--console-only");
    if !only.is_empty() {
        command.args(["--only", &only.join(",")]);
    }
    let output = command
        .env("HERMOD_CONSOLE_BIN", bin)
        .stderr(std::process::Stdio::inherit())
        .output();
    match output {
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            match stdout.lines().last().map(serde_json::from_str::<Outcome>) {
                Some(Ok(outcome)) => outcome,
                _ => failed(format!("its run gave no figures ({})", o.status)),
            }
        }
        Err(e) => failed(e.to_string()),
    }
}

/// Lifts the soft open-file limit to the hard one (the servers started from here inherit it): 10,000
/// held streams are 10,000 sockets on each side. Returns the limit now in force.
fn raise_open_files() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    limit.rlim_cur
}

/// CPU seconds the whole machine spent busy, and this program with its (reaped) children: the
/// difference over the run is what other work took from the cores the measures ran on.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: sysconf reads a constant; getrusage only writes the struct passed.
    let (tick, own) = unsafe {
        let tick = libc::sysconf(libc::_SC_CLK_TCK).max(1) as f64;
        let mut own = 0.0;
        for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
            let mut usage: libc::rusage = std::mem::zeroed();
            if libc::getrusage(who, &mut usage) == 0 {
                for t in [usage.ru_utime, usage.ru_stime] {
                    own += t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
                }
            }
        }
        (tick, own)
    };
    let machine = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|stat| {
            let fields: Vec<f64> = stat
                .lines()
                .next()?
                .split_whitespace()
                .skip(1)
                .filter_map(|f| f.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
            let busy: f64 = fields.iter().take(8).sum::<f64>()
                - fields.get(3).copied().unwrap_or(0.0)
                - fields.get(4).copied().unwrap_or(0.0);
            Some(busy / tick)
        })
        .unwrap_or(0.0);
    (machine, own)
}

const USAGE: &str = "usage: bench [--baseline-bin PATH] [--only ingest,fanout,idle,proxy,disk,page]
  HERMOD_CONSOLE_BIN           the console to measure (a release build)
  HERMOD_CONSOLE_BASELINE_BIN  another console binary measured beside it (as --baseline-bin)";

fn main() -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let mut baseline = std::env::var("HERMOD_CONSOLE_BASELINE_BIN")
        .ok()
        .filter(|b| !b.is_empty());
    let mut only: Vec<String> = Vec::new();
    let mut console_only = false;
    let mut arguments = std::env::args().skip(1);
    while let Some(a) = arguments.next() {
        match a.as_str() {
            "--bare-axum-server" => {
                return match runtime.block_on(bare::serve()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("bare axum server: {e}");
                        ExitCode::FAILURE
                    }
                };
            }
            "--console-only" => console_only = true,
            "--baseline-bin" => baseline = arguments.next(),
            "--only" => {
                only = arguments
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(str::to_string)
                    .collect();
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let known = MEASURES.map(Measure::name);
    if let Some(unknown) = only.iter().find(|o| !known.contains(&o.as_str())) {
        eprintln!("no measure {unknown:?}\n{USAGE}");
        return ExitCode::from(2);
    }
    if console_only {
        raise_open_files();
        let outcome = runtime.block_on(column(Kind::Console, "baseline console", &only));
        println!("{}", serde_json::to_string(&outcome).expect("JSON"));
        return ExitCode::SUCCESS;
    }

    if std::env::var_os("HERMOD_CONSOLE_BIN").is_none() {
        // The harness would fall back to the debug build, whose figures mean nothing here.
        eprintln!(
            "HERMOD_CONSOLE_BIN is not set (`make bench` sets it to the release build)\n{USAGE}"
        );
        return ExitCode::from(2);
    }
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let open_files = raise_open_files();
    let console_bin = hermod_console_tests::binary();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "[bench] console {}; {cores} cores; open-file limit {open_files}",
        console_bin.display()
    );
    let mut columns = vec![
        (
            "bare axum".to_string(),
            runtime.block_on(column(Kind::Bare, "bare axum", &only)),
        ),
        (
            "Hermod Console".to_string(),
            runtime.block_on(column(Kind::Console, "console", &only)),
        ),
    ];
    columns.push((
        "PostgreSQL, two replicas".to_string(),
        runtime.block_on(column(Kind::Replicas, "two replicas", &only)),
    ));
    if let Some(bin) = &baseline {
        eprintln!("[bench] baseline console {bin}");
        columns.push((format!("baseline: {bin}"), baseline_column(bin, &only)));
    }

    println!();
    println!("hermod-console bench: {}", console_bin.display());
    let cpu_after = cpu_seconds();
    let others = ((cpu_after.0 - cpu_before.0) - (cpu_after.1 - cpu_before.1)).max(0.0)
        / (started.elapsed().as_secs_f64() * cores.max(1) as f64);
    println!(
        "{cores} cores, shared: the load generator (this program) runs on the same cores as the \
         server it measures, so every figure includes its cost. Other processes took {:.0} % of \
         the cores during the run (when that is more than a few %, the figures are low).",
        others * 100.0
    );
    println!();
    report::print(&columns);
    println!();
    println!("{}", report::METHODS);
    println!();
    let mut bad = false;
    for (name, outcome) in &columns {
        for f in &outcome.failures {
            println!("did not run: {f}");
            bad = true;
        }
        for p in &outcome.problems {
            println!("{name} misbehaved: {p}");
            bad = true;
        }
    }
    println!("ran in {:.0} s", started.elapsed().as_secs_f64());
    if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
