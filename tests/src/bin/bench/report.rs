//! The one table: a row per figure, a column per server measured.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Figures by row key, and what the server did wrong.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub cells: BTreeMap<String, String>,
    /// The console broke a promise (a 2xx not stored, an event lost): the bench then exits non-zero.
    pub problems: Vec<String>,
    /// A measure that did not run to its end.
    pub failures: Vec<String>,
}

impl Outcome {
    pub fn cell(&mut self, key: &str, value: String) {
        self.cells.insert(key.to_string(), value);
    }

    pub fn problem(&mut self, what: String) {
        self.problems.push(what);
    }

    pub fn merge(&mut self, other: Outcome) {
        self.cells.extend(other.cells);
        self.problems.extend(other.problems);
        self.failures.extend(other.failures);
    }
}

/// (key, label) of every row, in order.
pub const ROWS: &[(&str, &str)] = &[
    (
        "ingest.rate",
        "1. durable ingest, 2 KB callbacks, 32 senders: 2xx/s",
    ),
    ("ingest.latency", "   latency p50 / p99"),
    ("ingest.errors", "   non-2xx"),
    ("ingest.cpu", "   server CPU per 2xx (user + system)"),
    ("ingest.batch", "   writes per commit (whole run)"),
    ("ingest.stored", "   every 2xx stored"),
    (
        "fanout.1000",
        "2. 100 streams, callbacks at 1,000/s: POST→event p50 / p99 / max",
    ),
    (
        "fanout.1000.check",
        "   every stream got every callback once, in order",
    ),
    (
        "fanout.1000.floor",
        "   this disk's floor: one synced commit a callback, p50 / p99 / max",
    ),
    ("fanout.500", "   the same at 500/s: p50 / p99 / max"),
    (
        "fanout.500.check",
        "   every stream got every callback once, in order",
    ),
    ("fanout.500.floor", "   this disk's floor at 500/s"),
    ("idle.1000", "3. server memory per idle stream, 1,000 held"),
    ("idle.10000", "   10,000 held"),
    (
        "proxy.console",
        "4. ping via POST /api/commands, 8 concurrent",
    ),
    ("proxy.direct", "   the same straight at the simulator"),
    ("proxy.overhead", "   overhead, p50"),
    (
        "proxy.floor",
        "   this disk's floor: two synced commits a send, 8 concurrent",
    ),
    ("disk", "5. disk per stored callback"),
    (
        "page.wire",
        "6. the wasm on the wire (Accept-Encoding: br, gzip)",
    ),
    ("page.headers", "   Content-Encoding / Cache-Control"),
    ("page.raw", "   the wasm uncompressed"),
];

pub const METHODS: &str = "\
How each figure is taken (one run; every measure on a fresh server with a fresh data directory,
after `sync` has written out what earlier measures and builds left unwritten):
1. 32 keep-alive connections (a lean HTTP/1.1 client of this program), each posting its next callback
   as soon as the last is answered, to /clients/idm/rest/callback/sign with idm's Basic credential:
   sign callbacks of ~1.9 KB (unique commandId and externalId, a 1.5 KB base64 PKCS#7-like blob in a
   nested result). 1 s warm-up, then 8 s counted: 2xx per second, latency of each 2xx. CPU: the
   server process's user + system time over the whole run (/proc/PID/stat) / its 2xx. \"Stored\":
   /api/callbacks paged back (for at most 20 s) holds every callback answered 2xx in the run;
   hermod_console_callbacks_stored_total from /metrics is compared too, and stands in for the rows
   the 20 s leave unread.
2. 100 /api/events streams (one viewer API token; the console's per-session stream cap raised), all
   open before the first post; callbacks of measure 1's shape posted open loop for 10 s: each at its
   scheduled time (1 ms or 2 ms apart) on an idle keep-alive connection or a new one, whatever became
   of the ones before. Latency: from the moment a callback is written to the moment each stream has
   read its event, over all streams × events. A stream the server closes resumes with
   Last-Event-ID, as a browser does (counted as a reconnect). Beside the check, the POSTs' own answer
   times: events cannot flow faster than the callbacks are taken.
3. Raw TCP connections each sending GET /api/events and reading only the answer's head, then left
   idle. (VmRSS of the server process with N open − VmRSS before) / N, each VmRSS read from
   /proc/PID/status once it holds within 1 % for a second.
4. `hermod-console simulate` and `hermod-console serve` (pointed at it) as two processes; ping
   commands (externalId hold-…: the simulator keeps them open, so no callbacks arrive meanwhile), 8
   keep-alive connections in closed loop, 1 s warm-up + 5 s each way: with an operator token through
   POST /api/commands, and with the X-Api-Key straight at the simulator. Overhead = difference of p50s.
   The floor: in this program, in a SQLite file beside the console's (its settings: 8 KiB pages, WAL,
   synchronous = FULL), 8 threads in closed loop each insert a row and then update it, every write
   committed and synced by one writer thread that takes whatever waits in one transaction, as the
   console's does; 1 s warm-up + 5 s; the time of each pair. No HTTP, no Hermod, no index, feed or
   audit: what keeping a send's two writes durable costs before anything else.
5. 20,000 callbacks of measure 1's shape posted to a fresh console, SIGTERM, then the size of every
   file in its data directory / callbacks stored, beside the average body.
6. GET /, the .wasm named in index.html fetched with Accept-Encoding: br, gzip: body bytes as
   transferred; then again with Accept-Encoding: identity.
PostgreSQL, two replicas: two consoles (`demo`, `database_url` set) on one database of a PostgreSQL
   cluster this program starts (initdb in a temporary directory; fsync, synchronous_commit and
   full_page_writes on: a commit waits for its sync, as SQLite's does). Measure 1: the 32 senders
   split between the replicas; server CPU is the two consoles', PostgreSQL's own not counted; stored
   and /metrics summed over both. Measure 2: the streams on the first replica, the callbacks posted
   to the second, so every event crosses from one replica to the other through the database.";

/// Prints the table (markdown, padded to line up in a terminal).
pub fn print(columns: &[(String, Outcome)]) {
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["measure".to_string()];
    header.extend(columns.iter().map(|(name, _)| name.clone()));
    lines.push(header);
    for (key, label) in ROWS {
        let mut line = vec![label.to_string()];
        for (_, outcome) in columns {
            line.push(
                outcome
                    .cells
                    .get(*key)
                    .cloned()
                    .unwrap_or_else(|| "—".into()),
            );
        }
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let pad = |s: &str, w: usize, right: bool| {
        let fill = " ".repeat(w - s.chars().count());
        if right {
            format!("{fill}{s}")
        } else {
            format!("{s}{fill}")
        }
    };
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, s)| pad(s, widths[i], i > 0 && n > 0))
            .collect();
        println!("| {} |", cells.join(" | "));
        if n == 0 {
            let rule: String = widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 {
                        format!("{}|", "-".repeat(w + 2))
                    } else {
                        format!("{}:|", "-".repeat(w + 1))
                    }
                })
                .collect();
            println!("|{rule}");
        }
    }
}
