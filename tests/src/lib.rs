//! Harness for the black-box tests: runs the built `hermod-console` binary on real ports with a real
//! SQLite file in a fresh temporary directory, logs in as a user would, talks to it over HTTP, reads its
//! live feed, and keeps everything it saw (response headers and bodies, feed data, the process's
//! stdout and stderr) for the secrets scan.
//!
//! The binary comes from `HERMOD_CONSOLE_BIN`, else `target/debug/hermod-console` of this workspace
//! (`cargo build -p hermod-console` makes it).

pub mod browser;

use base64::Engine;
use hermod_shared::console::{
    CallbackRecord, CommandDetail, CommandRecord, FeedEvent, Heartbeat, ListPage, MintedToken,
    Problem, Role, SessionInfo, UserRecord,
};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long anything that should be quick may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(15);
/// How long a process may take to print its `listening on` lines.
const STARTUP: Duration = Duration::from_secs(30);

/// The binary under test.
pub fn binary() -> PathBuf {
    let path = match std::env::var_os("HERMOD_CONSOLE_BIN") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/hermod-console"),
    };
    assert!(
        path.is_file(),
        "the hermod-console binary is not at {}: run `cargo build -p hermod-console` first, or set \
         HERMOD_CONSOLE_BIN to the binary to test",
        path.display()
    );
    path
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A random 64-bit number (std only: `RandomState` is seeded from the OS).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.finish()
}

/// `prefix` followed by random hex: unique external ids, bodies and secrets. Steering prefixes such as
/// `slow-` stay at the start.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", random_u64())
}

pub fn b64(data: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A directory under the system's temp dir, removed (with everything in it) on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "hermod-console-tests-{tag}-{}-{:016x}",
            std::process::id(),
            random_u64()
        ));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A free port on 127.0.0.1 right now (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Polls `f` until it gives `Some`, or panics naming `what` after `timeout`.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Installs the crypto provider reqwest needs, once, and builds a client.
pub fn http_client() -> reqwest::Client {
    client_builder(None, HeaderMap::new())
        .build()
        .expect("build an HTTP client")
}

/// A client builder with the suite's timeout, `headers` on every request, and (when `ca` is given)
/// trusting only that PEM CA for HTTPS.
pub fn client_builder(ca: Option<&Path>, headers: HeaderMap) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .default_headers(headers);
    if let Some(ca) = ca {
        let pem = std::fs::read(ca).unwrap_or_else(|e| panic!("read {}: {e}", ca.display()));
        let certs = reqwest::Certificate::from_pem_bundle(&pem).expect("a PEM CA bundle");
        builder = builder.tls_certs_only(certs);
    }
    builder
}

// ---------------------------------------------------------------------------------------------------
// Secrets

/// Distinctive API keys and callback passwords, set through the environment so tests know them (and
/// can scan for them).
#[derive(Debug, Clone)]
pub struct Secrets {
    pub idm_key: String,
    pub idm_password: String,
    pub da_key: String,
    pub da_password: String,
    /// The console's `admin`, set through `HERMOD_CONSOLE_ADMIN_PASSWORD` (or read from what `demo`
    /// printed, when the test leaves that variable out).
    pub admin_password: String,
}

pub const IDM_CALLBACK_USER: &str = "idm-callback";
pub const DA_CALLBACK_USER: &str = "da-callback";

impl Secrets {
    pub fn random() -> Secrets {
        Secrets {
            idm_key: unique("SeCrEtIdmKey"),
            idm_password: unique("SeCrEtIdmPw"),
            da_key: unique("SeCrEtDaKey"),
            da_password: unique("SeCrEtDaPw"),
            admin_password: unique("SeCrEtAdminPw"),
        }
    }

    /// Console and simulator overrides that make `demo` use these secrets on both sides.
    pub fn demo_env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (id, key, password, user) in [
            ("IDM", &self.idm_key, &self.idm_password, IDM_CALLBACK_USER),
            ("DA", &self.da_key, &self.da_password, DA_CALLBACK_USER),
        ] {
            env.push((format!("HERMOD_CONSOLE__CLIENTS__{id}__KEY"), key.clone()));
            env.push((
                format!("HERMOD_CONSOLE__CLIENTS__{id}__CALLBACK_PASSWORD"),
                password.clone(),
            ));
            env.push((format!("HERMOD_SIMULATOR__CLIENTS__{id}__KEY"), key.clone()));
            env.push((
                format!("HERMOD_SIMULATOR__CLIENTS__{id}__CALLBACK_BASIC_AUTH"),
                format!("{user}:{password}"),
            ));
        }
        env
    }

    /// The `X-Api-Key` header value of `idm`: base64 of `idm:<key>`.
    pub fn idm_api_key_header(&self) -> String {
        b64(format!("idm:{}", self.idm_key))
    }

    /// Every form in which a secret could leak: raw keys and passwords, the `X-Api-Key` values and the
    /// Basic credentials as sent on the wire, the admin's password.
    pub fn forms(&self) -> Vec<String> {
        vec![
            self.admin_password.clone(),
            self.idm_key.clone(),
            self.idm_password.clone(),
            self.da_key.clone(),
            self.da_password.clone(),
            b64(format!("idm:{}", self.idm_key)),
            b64(format!("da:{}", self.da_key)),
            b64(format!("{IDM_CALLBACK_USER}:{}", self.idm_password)),
            b64(format!("{DA_CALLBACK_USER}:{}", self.da_password)),
        ]
    }
}

// ---------------------------------------------------------------------------------------------------
// Processes

/// A running `hermod-console` process: stderr goes to a log file, stdout is read for the `listening on`
/// lines and then drained into the same log. Killed on drop.
pub struct Process {
    child: Option<Child>,
}

/// What a process said while starting.
pub struct Started {
    pub process: Process,
    /// `scheme://ADDR` of each announced listener, in the order asked for.
    pub urls: Vec<String>,
    /// Every stdout line up to the last announcement.
    pub lines: Vec<String>,
}

impl Process {
    /// Starts the binary with `args` and `env` (on top of a clean environment: no inherited
    /// `HERMOD_*` or `RUST_LOG`), appending its stderr and stdout to `log`, and waits for one stdout
    /// line `<prefix> on http://ADDR` (or `https://`) per entry of `announce`; returns the addresses in
    /// that order.
    pub async fn spawn(
        args: &[OsString],
        env: &[(String, String)],
        log: &Path,
        announce: &[&str],
    ) -> (Process, Vec<String>) {
        let started = Process::start(args, env, log, announce).await;
        let addrs = started
            .urls
            .iter()
            .map(|u| {
                u.split_once("://")
                    .map_or(u.as_str(), |(_, a)| a)
                    .to_string()
            })
            .collect();
        (started.process, addrs)
    }

    /// [`Process::spawn`], giving whole URLs and the stdout lines seen while starting.
    pub async fn start(
        args: &[OsString],
        env: &[(String, String)],
        log: &Path,
        announce: &[&str],
    ) -> Started {
        let open_log = || {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("open the log file")
        };
        let mut cmd = command(args, env);
        cmd.stdout(Stdio::piped()).stderr(Stdio::from(open_log()));
        let mut child = cmd.spawn().expect("start hermod-console");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut stdout_log = open_log();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        let _ = writeln!(stdout_log, "{l}");
                        let _ = tx.send(l);
                    }
                    Err(_) => break,
                }
            }
        });
        let mut process = Process { child: Some(child) };
        let mut found: Vec<Option<String>> = vec![None; announce.len()];
        let mut lines = Vec::new();
        let deadline = tokio::time::Instant::now() + STARTUP;
        while found.iter().any(Option::is_none) {
            let line = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => {
                    let status = process.wait(Duration::from_secs(5));
                    panic!(
                        "hermod-console {args:?} ended ({status:?}) before announcing {announce:?}; \
                         its log:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
                Err(_) => panic!(
                    "hermod-console {args:?} did not announce {announce:?} within {STARTUP:?}; \
                     its log:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ),
            };
            for (i, prefix) in announce.iter().enumerate() {
                for scheme in ["http", "https"] {
                    if let Some(addr) = line.strip_prefix(&format!("{prefix} on {scheme}://")) {
                        found[i] = Some(format!("{scheme}://{}", addr.trim()));
                    }
                }
            }
            lines.push(line);
        }
        Started {
            process,
            urls: found.into_iter().map(Option::unwrap).collect(),
            lines,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits (up to `timeout`) for the process to end by itself. `None` if it did not
    /// (it is then killed).
    pub async fn terminate(mut self, timeout: Duration) -> Option<ExitStatus> {
        let pid = self.pid();
        tokio::task::spawn_blocking(move || {
            let sent = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .expect("run kill");
            assert!(sent.success(), "kill -TERM {pid} failed");
            // Dropping `self` kills the process if it is still running.
            self.wait(timeout)
        })
        .await
        .expect("wait for the process")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `hermod-console simulate` process with its config in `dir`: `idm` as its client, calling back to a
/// console on `console_port`, `extra` added to the config's top level. The process and its address.
pub async fn simulator(
    dir: &Path,
    secrets: &Secrets,
    console_port: u16,
    extra: &str,
) -> (Process, String) {
    let toml = dir.join("hermod-simulator.toml");
    std::fs::write(
        &toml,
        format!(
            r#"listen = "127.0.0.1:0"
public_url = "https://hermod.test/hermod/rest/ms"
fqdn = "hermod.test"
{extra}
[clients.idm]
key = "{key}"
callback_url = "http://127.0.0.1:{console_port}/clients/idm/rest"
callback_basic_auth = "{IDM_CALLBACK_USER}:{password}"
"#,
            key = secrets.idm_key,
            password = secrets.idm_password,
        ),
    )
    .expect("write the simulator's config");
    let mut sim_args = args(["simulate", "--config"]);
    sim_args.push(toml.into_os_string());
    let (process, addrs) = Process::spawn(
        &sim_args,
        &[],
        &dir.join("simulator.log"),
        &["simulator listening"],
    )
    .await;
    (process, addrs[0].clone())
}

/// The binary with `args`, on a clean environment (no inherited `HERMOD_*` or `RUST_LOG`; `RUST_LOG=info`
/// unless `env` says otherwise) plus `env`.
fn command(args: &[OsString], env: &[(String, String)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(binary());
    cmd.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if n.starts_with("HERMOD_") || n == "RUST_LOG" {
            cmd.env_remove(&name);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Runs the binary to its end (at most `timeout`): exit status, stdout, stderr.
pub async fn run_to_exit(
    args: &[OsString],
    env: &[(String, String)],
    timeout: Duration,
) -> (ExitStatus, String, String) {
    run_with_input(args, env, None, timeout).await
}

/// [`run_to_exit`], writing `input` (when given) to the process's stdin.
pub async fn run_with_input(
    args: &[OsString],
    env: &[(String, String)],
    input: Option<String>,
    timeout: Duration,
) -> (ExitStatus, String, String) {
    let mut cmd = command(args, env);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let output = tokio::time::timeout(
        timeout,
        tokio::task::spawn_blocking(move || {
            let mut child = cmd.spawn().expect("run hermod-console");
            if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
                stdin.write_all(text.as_bytes()).expect("write stdin");
            }
            child.wait_with_output().expect("wait for hermod-console")
        }),
    )
    .await
    .expect("hermod-console did not exit in time")
    .expect("join the waiting thread");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `["a", "b"]` as arguments.
pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(items: I) -> Vec<OsString> {
    items.into_iter().map(Into::into).collect()
}

// ---------------------------------------------------------------------------------------------------
// Responses

/// Everything the tests received (response bodies and feed data), for the secrets scan.
pub type Transcript = Arc<Mutex<String>>;

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    /// Reads the whole answer, and adds its headers and body to `transcript`.
    pub async fn read(response: reqwest::Response, transcript: &Transcript) -> Resp {
        let r = Resp::read_unrecorded(response).await;
        let mut t = transcript.lock().expect("transcript lock");
        for (name, value) in &r.headers {
            t.push_str(&format!(
                "{name}: {}\n",
                String::from_utf8_lossy(value.as_bytes())
            ));
        }
        t.push_str(&r.text);
        t.push('\n');
        r
    }

    /// Reads the whole answer, keeping it out of the transcript: only for the answers whose job is
    /// to hand out a credential (a login, a minted token), which the secrets scan would flag.
    pub async fn read_unrecorded(response: reqwest::Response) -> Resp {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("read the response body");
        Resp {
            status,
            headers,
            text,
        }
    }

    /// Panics (showing the body) unless the status is `status`.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.text))
    }

    #[track_caller]
    pub fn parse<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.text).unwrap_or_else(|e| {
            panic!(
                "unexpected JSON shape ({e}), status {}: {}",
                self.status, self.text
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON problem body of an error answer (docs/ARCHITECTURE.md): `error` and `detail`
    /// present and not empty, served as JSON.
    #[track_caller]
    pub fn problem(&self) -> Problem {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "an error must be JSON, got content-type {content_type:?}, status {}: {}",
            self.status,
            self.text
        );
        let p: Problem = self.parse();
        assert!(!p.error.is_empty(), "empty `error`: {}", self.text);
        assert!(!p.detail.is_empty(), "empty `detail`: {}", self.text);
        p
    }

    /// Asserts the status and the problem body, and (when given) its `error` code and `field`.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, error: Option<&str>, field: Option<&str>) -> Problem {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected {status}, got {}: {}",
            self.status,
            self.text
        );
        let p = self.problem();
        if let Some(error) = error {
            assert_eq!(p.error, error, "error code of {}", self.text);
        }
        if let Some(field) = field {
            assert_eq!(p.field.as_deref(), Some(field), "field of {}", self.text);
        }
        p
    }
}

// ---------------------------------------------------------------------------------------------------
// Server-sent events

/// One server-sent event as framed on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    /// `event:`; `message` when absent.
    pub event: String,
    pub id: Option<String>,
    pub data: String,
    pub retry: Option<u64>,
}

impl SseEvent {
    /// The `id:` as a sequence number.
    #[track_caller]
    pub fn seq(&self) -> i64 {
        self.id
            .as_deref()
            .unwrap_or_else(|| panic!("event without id: {self:?}"))
            .parse()
            .unwrap_or_else(|_| panic!("id is not an integer: {self:?}"))
    }

    /// The `data:` of a `command` or `callback` event, checked against its `id:` and name.
    #[track_caller]
    pub fn feed(&self) -> FeedEvent {
        let e: FeedEvent = serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("feed data is not a FeedEvent ({err}): {self:?}"));
        assert_eq!(e.seq(), self.seq(), "data seq and id: {self:?}");
        assert_eq!(e.name(), self.event, "event name: {self:?}");
        e
    }

    #[track_caller]
    pub fn heartbeat(&self) -> Heartbeat {
        assert_eq!(self.event, "heartbeat");
        serde_json::from_str(&self.data)
            .unwrap_or_else(|err| panic!("heartbeat data ({err}): {self:?}"))
    }

    pub fn is_heartbeat(&self) -> bool {
        self.event == "heartbeat"
    }
}

/// What reading the stream gave.
#[derive(Debug)]
pub enum Next {
    Event(SseEvent),
    /// The server ended the stream.
    End,
    /// Nothing complete arrived in time.
    Timeout,
}

/// A reader of `/api/events`: parses `event:`/`id:`/`data:`/`retry:` frames from the byte stream.
pub struct Sse {
    response: reqwest::Response,
    buf: Vec<u8>,
    ended: bool,
    event: Option<String>,
    id: Option<String>,
    data: Option<String>,
    retry: Option<u64>,
    transcript: Transcript,
}

impl Sse {
    pub fn new(response: reqwest::Response, transcript: Transcript) -> Sse {
        Sse {
            response,
            buf: Vec::new(),
            ended: false,
            event: None,
            id: None,
            data: None,
            retry: None,
            transcript,
        }
    }

    /// The stream's response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.response.headers()
    }

    /// Parses one complete line from the buffer; returns an event when a blank line completes one.
    fn parse_line(&mut self) -> Option<Option<SseEvent>> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8(line).expect("SSE is UTF-8");
        if line.is_empty() {
            if self.data.is_none() && self.event.is_none() && self.id.is_none() {
                return Some(None);
            }
            let event = SseEvent {
                event: self.event.take().unwrap_or_else(|| "message".into()),
                id: self.id.take(),
                data: self.data.take().unwrap_or_default(),
                retry: self.retry.take(),
            };
            return Some(Some(event));
        }
        if line.starts_with(':') {
            return Some(None);
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f.to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()),
            None => (line.clone(), String::new()),
        };
        match field.as_str() {
            "event" => self.event = Some(value),
            "id" => self.id = Some(value),
            "retry" => self.retry = value.parse().ok(),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(&value);
                }
                None => self.data = Some(value),
            },
            _ => {}
        }
        Some(None)
    }

    /// The next event (heartbeats included), the end of the stream, or a timeout.
    pub async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(parsed) = self.parse_line() {
                if let Some(e) = parsed {
                    return Next::Event(e);
                }
            }
            if self.ended {
                return Next::End;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return Next::Timeout,
                Ok(Ok(Some(chunk))) => {
                    self.transcript
                        .lock()
                        .expect("transcript lock")
                        .push_str(&String::from_utf8_lossy(&chunk));
                    self.buf.extend_from_slice(&chunk);
                }
                Ok(Ok(None)) | Ok(Err(_)) => self.ended = true,
            }
        }
    }

    /// The next `command` or `callback` event, skipping heartbeats; panics on end or timeout.
    #[track_caller]
    pub fn next_feed(&mut self, wait: Duration) -> impl Future<Output = SseEvent> + '_ {
        let caller = std::panic::Location::caller();
        async move {
            loop {
                match self.next(wait).await {
                    Next::Event(e) if e.is_heartbeat() => continue,
                    Next::Event(e) => return e,
                    other => panic!("{caller}: expected a feed event, got {other:?}"),
                }
            }
        }
    }

    /// Feed events up to and including the first for which `done` holds (heartbeats skipped).
    pub async fn feed_until(
        &mut self,
        wait: Duration,
        mut done: impl FnMut(&FeedEvent) -> bool,
    ) -> Vec<SseEvent> {
        let deadline = Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let e = match self.next(left).await {
                Next::Event(e) if e.is_heartbeat() => continue,
                Next::Event(e) => e,
                other => panic!(
                    "feed ended ({other:?}) before the awaited event; seen: {:?}",
                    seen.iter().map(SseEvent::seq).collect::<Vec<_>>()
                ),
            };
            let stop = done(&e.feed());
            seen.push(e);
            if stop {
                return seen;
            }
        }
    }

    /// Feed events until one with `seq >= last` (inclusive).
    pub async fn feed_to_seq(&mut self, last: i64, wait: Duration) -> Vec<SseEvent> {
        self.feed_until(wait, |e| e.seq() >= last).await
    }
}

// ---------------------------------------------------------------------------------------------------
// The console under test

#[derive(Debug, Clone)]
enum Mode {
    Demo,
    Serve { config: PathBuf },
}

/// The variable the first admin's password comes from (README.md).
pub const ADMIN_PASSWORD_ENV: &str = "HERMOD_CONSOLE_ADMIN_PASSWORD";
/// The session cookie's name; over HTTPS with the `__Host-` prefix.
pub const SESSION_COOKIE: &str = "hermod_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-hermod_session";

/// A logged-in browser session, as the harness holds it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The session cookie's name and value.
    pub cookie_name: String,
    pub cookie: String,
    pub csrf_token: String,
    /// The login answer's whole `Set-Cookie` header.
    pub set_cookie: String,
}

impl Session {
    /// The `Cookie` header a browser sends with it.
    pub fn cookie_header(&self) -> String {
        format!("{}={}", self.cookie_name, self.cookie)
    }
}

/// A kind of credential the harness was handed, for the secrets scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Password,
    SessionCookie,
    CsrfToken,
    ApiToken,
}

/// The credentials handed out during a test: passwords set, session cookies and CSRF tokens from
/// logins, API tokens minted.
pub type Issued = Arc<Mutex<Vec<(Credential, String)>>>;

/// How to start a console; [`Console::demo`] and [`Console::serve`] make one.
pub struct ConsoleBuilder {
    mode: Mode,
    listen: String,
    env: Vec<(String, String)>,
    secrets: Secrets,
    admin_env: bool,
    ca: Option<PathBuf>,
}

impl ConsoleBuilder {
    /// Adds an environment variable (a later one with the same name wins).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.env.retain(|(n, _)| *n != name);
        self.env.push((name, value.into()));
        self
    }

    pub fn listen(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }

    /// Leaves `HERMOD_CONSOLE_ADMIN_PASSWORD` unset: `demo` makes a password and prints it, and the
    /// harness logs in with what it printed (as a person would).
    pub fn printed_admin_password(mut self) -> Self {
        self.admin_env = false;
        self
    }

    /// The console serves HTTPS with a certificate from this CA (PEM): the harness's clients trust
    /// it, and only it.
    pub fn trust(mut self, ca: impl Into<PathBuf>) -> Self {
        self.ca = Some(ca.into());
        self
    }

    /// Starts the console and logs in as `admin`; [`Console::http`] then carries that session.
    pub async fn start(self) -> Console {
        let dir = TempDir::new("console");
        let mut env = self.env;
        if self.admin_env && !env.iter().any(|(n, _)| n == ADMIN_PASSWORD_ENV) {
            env.push((
                ADMIN_PASSWORD_ENV.to_string(),
                self.secrets.admin_password.clone(),
            ));
        }
        let mut console = Console {
            url: String::new(),
            sim_url: None,
            secrets: self.secrets,
            http: http_client(),
            admin: None,
            transcript: Arc::default(),
            issued: Arc::default(),
            startup: Vec::new(),
            process: None,
            mode: self.mode,
            listen: self.listen,
            env,
            ca: self.ca,
            dir,
        };
        console.launch().await;
        if !self.admin_env {
            console.secrets.admin_password = console
                .printed_password()
                .expect("demo prints the admin's password when none is set");
        }
        let admin = console
            .login("admin", &console.secrets.admin_password.clone())
            .await;
        console.http = console.session_client(&admin);
        console.admin = Some(admin);
        console
    }
}

/// A running console (and, in `demo`, its simulator), with helpers for its API. Killed on drop; its
/// data directory removed.
pub struct Console {
    /// `http://ADDR` (or `https://ADDR`) of the console.
    pub url: String,
    /// `http://ADDR` of the simulator (`demo` only).
    pub sim_url: Option<String>,
    pub secrets: Secrets,
    /// Logged in as `admin`: sends the session cookie, `Origin` and `X-CSRF-Token`, as the page does.
    pub http: reqwest::Client,
    admin: Option<Session>,
    transcript: Transcript,
    issued: Issued,
    startup: Vec<String>,
    process: Option<Process>,
    mode: Mode,
    listen: String,
    env: Vec<(String, String)>,
    ca: Option<PathBuf>,
    dir: TempDir,
}

impl Console {
    /// `hermod-console demo` with known secrets and commands that complete after 200 ms.
    pub fn demo() -> ConsoleBuilder {
        let secrets = Secrets::random();
        let mut env = secrets.demo_env();
        env.push(("HERMOD_SIMULATOR__COMPLETE_AFTER_MS".into(), "200".into()));
        ConsoleBuilder {
            mode: Mode::Demo,
            listen: "127.0.0.1:0".into(),
            env,
            secrets,
            admin_env: true,
            ca: None,
        }
    }

    /// `hermod-console serve --config FILE`; `secrets` are the ones the file holds (and the admin's
    /// password, set through the environment).
    pub fn serve(config: impl Into<PathBuf>, secrets: Secrets) -> ConsoleBuilder {
        ConsoleBuilder {
            mode: Mode::Serve {
                config: config.into(),
            },
            listen: "127.0.0.1:0".into(),
            env: Vec::new(),
            secrets,
            admin_env: true,
            ca: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The running process's id (`None` while stopped): what the benchmark reads `/proc` of.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Process::pid)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("console.log")
    }

    /// Everything the process wrote to stderr and stdout so far (across restarts).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The stdout lines of the last start, up to its `listening on` line.
    pub fn startup_lines(&self) -> &[String] {
        &self.startup
    }

    /// The password in `demo`'s "log in at … as admin with password …" line of the last start.
    pub fn printed_password(&self) -> Option<String> {
        self.startup.iter().find_map(|l| {
            let (_, rest) = l.split_once(" as admin with password ")?;
            rest.split_whitespace().next().map(str::to_string)
        })
    }

    /// Every response header, body and feed chunk the helpers received so far (logins and minted
    /// tokens excepted: handing out a credential is their job).
    pub fn transcript(&self) -> String {
        self.transcript.lock().expect("transcript lock").clone()
    }

    pub fn transcript_handle(&self) -> Transcript {
        self.transcript.clone()
    }

    /// Every credential handed out so far, the admin's password included.
    pub fn issued(&self) -> Vec<(Credential, String)> {
        let mut all = vec![(Credential::Password, self.secrets.admin_password.clone())];
        all.extend(self.issued.lock().expect("issued lock").iter().cloned());
        all
    }

    fn issue(&self, kind: Credential, value: &str) {
        self.issued
            .lock()
            .expect("issued lock")
            .push((kind, value.to_string()));
    }

    /// The admin session the harness logged in with.
    pub fn admin_session(&self) -> &Session {
        self.admin.as_ref().expect("logged in")
    }

    async fn launch(&mut self) {
        let data = self.data_dir().into_os_string();
        let (arguments, announce): (Vec<OsString>, &[&str]) = match &self.mode {
            Mode::Demo => (
                args([
                    OsString::from("demo"),
                    "--listen".into(),
                    self.listen.clone().into(),
                    "--data-dir".into(),
                    data,
                ]),
                &["simulator listening", "listening"],
            ),
            Mode::Serve { config } => (
                args([
                    OsString::from("serve"),
                    "--config".into(),
                    config.clone().into_os_string(),
                    "--listen".into(),
                    self.listen.clone().into(),
                    "--data-dir".into(),
                    data,
                ]),
                &["listening"],
            ),
        };
        let started = Process::start(&arguments, &self.env, &self.log_path(), announce).await;
        self.process = Some(started.process);
        self.startup = started.lines;
        match started.urls.as_slice() {
            [sim, console] => {
                self.sim_url = Some(sim.clone());
                self.url = console.clone();
            }
            [console] => self.url = console.clone(),
            _ => unreachable!(),
        }
    }

    /// Stops the process with SIGTERM (it must exit 0 within 10 s: graceful shutdown does not hang),
    /// and starts it again on the same data directory and environment. Addresses change; the admin
    /// session is kept (sessions live in the store), with the new address as its `Origin`.
    pub async fn restart(&mut self) {
        let status = self.stop().await;
        assert!(status.success(), "hermod-console exited with {status}");
        self.start_again().await;
    }

    /// Starts a stopped console again, as [`Console::restart`] does after its stop.
    pub async fn start_again(&mut self) {
        self.launch().await;
        if let Some(admin) = &self.admin {
            self.http = self.session_client(admin);
        }
    }

    /// SIGTERM; waits for the process to end by itself (panics after 10 s).
    pub async fn stop(&mut self) -> ExitStatus {
        let process = self.process.take().expect("running");
        process
            .terminate(Duration::from_secs(10))
            .await
            .expect("hermod-console did not shut down within 10 s of SIGTERM")
    }

    /// Reaps a process that was killed (or kills it with SIGKILL if it still runs).
    pub fn kill(&mut self) {
        drop(self.process.take().expect("started"));
    }

    pub fn sim(&self) -> &str {
        self.sim_url
            .as_deref()
            .expect("a demo console has a simulator")
    }

    // ---- Who is calling

    fn client_with(&self, headers: HeaderMap) -> reqwest::Client {
        client_builder(self.ca.as_deref(), headers)
            .build()
            .expect("build an HTTP client")
    }

    /// No credential, no `Origin`: a stranger, a script, or Hermod.
    pub fn anonymous(&self) -> reqwest::Client {
        self.client_with(HeaderMap::new())
    }

    /// The console's own page: `Origin` only.
    pub fn same_origin(&self) -> reqwest::Client {
        self.client_with(self.origin_headers())
    }

    fn origin_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "origin",
            HeaderValue::from_str(&self.url).expect("URL is a header value"),
        );
        headers
    }

    /// What the page sends in `session`: the cookie, `Origin` and `X-CSRF-Token`.
    pub fn session_client(&self, session: &Session) -> reqwest::Client {
        let mut headers = self.origin_headers();
        let mut cookie =
            HeaderValue::from_str(&session.cookie_header()).expect("cookie is a header value");
        cookie.set_sensitive(true);
        headers.insert("cookie", cookie);
        headers.insert(
            "x-csrf-token",
            HeaderValue::from_str(&session.csrf_token).expect("CSRF token is a header value"),
        );
        self.client_with(headers)
    }

    /// Automation: `Authorization: Bearer <token>` and nothing else.
    pub fn bearer_client(&self, token: &str) -> reqwest::Client {
        let mut headers = HeaderMap::new();
        let mut value =
            HeaderValue::from_str(&format!("Bearer {token}")).expect("token is a header value");
        value.set_sensitive(true);
        headers.insert("authorization", value);
        self.client_with(headers)
    }

    /// `POST /api/session` from the console's own page (its `Origin`); the answer is not recorded.
    pub async fn try_login(&self, username: &str, password: &str) -> Resp {
        let response = self
            .same_origin()
            .post(format!("{}/api/session", self.url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .expect("send the login");
        Resp::read_unrecorded(response).await
    }

    /// Logs in (must answer 200 with a session cookie and a CSRF token).
    pub async fn login(&self, username: &str, password: &str) -> Session {
        let r = self.try_login(username, password).await;
        assert_eq!(
            r.status.as_u16(),
            200,
            "login as {username}: {} {}",
            r.status,
            r.text
        );
        let info: SessionInfo = r.parse();
        let set_cookie = r
            .header("set-cookie")
            .expect("a login sets the session cookie")
            .to_string();
        let (cookie_name, cookie) = set_cookie
            .split(';')
            .next()
            .and_then(|kv| kv.trim().split_once('='))
            .filter(|(name, value)| {
                [SESSION_COOKIE, SECURE_SESSION_COOKIE].contains(name) && !value.is_empty()
            })
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .unwrap_or_else(|| panic!("no {SESSION_COOKIE} in {set_cookie}"));
        let csrf_token = info.csrf_token.expect("a session has a CSRF token");
        self.issue(Credential::SessionCookie, &cookie);
        self.issue(Credential::CsrfToken, &csrf_token);
        Session {
            user: info.user,
            role: info.role,
            cookie_name,
            cookie,
            csrf_token,
            set_cookie,
        }
    }

    /// A new account with `role` and a random name and password, made by the admin.
    pub async fn create_user(&self, role: Role) -> (UserRecord, String) {
        let password = unique("SeCrEtUserPw");
        let name = unique(&format!("{role}-"));
        self.issue(Credential::Password, &password);
        let user: UserRecord = self
            .post_json(
                "/api/users",
                &json!({"username": name, "password": password, "role": role}),
            )
            .await
            .expect(201)
            .parse();
        (user, password)
    }

    /// A new account with `role`, logged in.
    pub async fn agent(&self, role: Role) -> Agent {
        let (user, password) = self.create_user(role).await;
        let session = self.login(&user.username, &password).await;
        Agent {
            url: self.url.clone(),
            http: self.session_client(&session),
            session: Some(session),
            user: Some(user),
            password: Some(password),
            transcript: self.transcript.clone(),
        }
    }

    /// Someone using the API with `http` (anonymous, a token…).
    pub fn agent_with(&self, http: reqwest::Client) -> Agent {
        Agent {
            url: self.url.clone(),
            http,
            session: None,
            user: None,
            password: None,
            transcript: self.transcript.clone(),
        }
    }

    /// An API token minted by the admin (`POST /api/tokens`, 201); the answer is not recorded.
    pub async fn mint_token(&self, name: &str, role: Role, days: u32) -> MintedToken {
        let response = self
            .http
            .post(format!("{}/api/tokens", self.url))
            .json(&json!({"name": name, "role": role, "expires_in_days": days}))
            .send()
            .await
            .expect("mint a token");
        let r = Resp::read_unrecorded(response).await.expect(201);
        let minted: MintedToken = r.parse();
        self.issue(Credential::ApiToken, &minted.token);
        minted
    }

    /// Runs one SQL statement on the console's database file, beside the running console: the tests'
    /// stand-in for the passage of time (an API token a year old) where no API could make it.
    /// Returns the rows changed.
    pub async fn sql(&self, statement: &str) -> Result<u64, String> {
        let conn = self.connect_db().map_err(|e| e.to_string())?;
        conn.execute(statement, [])
            .map(|n| n as u64)
            .map_err(|e| e.to_string())
    }

    /// A connection of our own to the console's database file, beside the running console.
    fn connect_db(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(self.data_dir().join("hermod-console.sqlite3"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(conn)
    }

    /// Takes the database's write lock beside the running console, as another program might: the
    /// console's writes fail (after its busy timeout) until the connection is dropped.
    pub fn hold_write_lock(&self) -> rusqlite::Connection {
        let conn = self.connect_db().expect("open the database");
        conn.execute_batch("BEGIN IMMEDIATE")
            .expect("take the write lock");
        conn
    }

    // ---- HTTP

    pub async fn read(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("send the request");
        Resp::read(response, &self.transcript).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.read(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.read(self.http.post(format!("{}{path}", self.url)).json(body))
            .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Resp {
        self.read(self.http.put(format!("{}{path}", self.url)).json(body))
            .await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.read(self.http.delete(format!("{}{path}", self.url)))
            .await
    }

    /// A POST with exactly this content type (or none) and body.
    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut request = self.http.post(format!("{}{path}", self.url)).body(body);
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        self.read(request).await
    }

    /// `GET /healthz` answers 200: the process is alive and well.
    pub async fn assert_healthy(&self) {
        let r = self.get("/healthz").await;
        assert_eq!(r.status, StatusCode::OK, "/healthz: {}", r.text);
        let r = self.get("/readyz").await;
        assert_eq!(r.status, StatusCode::OK, "/readyz: {}", r.text);
    }

    // ---- Commands

    /// `POST /api/commands` as `client`.
    pub async fn send_as(&self, client: &str, ty: &str, body: Value) -> Resp {
        self.post_json(
            "/api/commands",
            &json!({"client": client, "type": ty, "body": body}),
        )
        .await
    }

    /// `POST /api/commands` as `idm`; must answer 201 with the record.
    pub async fn send(&self, ty: &str, body: Value) -> CommandRecord {
        self.send_as("idm", ty, body).await.expect(201).parse()
    }

    pub async fn commands(&self, query: &str) -> ListPage<CommandRecord> {
        self.get(&format!("/api/commands{query}"))
            .await
            .expect(200)
            .parse()
    }

    pub async fn callbacks(&self, query: &str) -> ListPage<CallbackRecord> {
        self.get(&format!("/api/callbacks{query}"))
            .await
            .expect(200)
            .parse()
    }

    pub async fn detail(&self, id: i64) -> CommandDetail {
        self.get(&format!("/api/commands/{id}"))
            .await
            .expect(200)
            .parse()
    }

    /// Waits until command `id` is in `state`.
    pub async fn wait_for_state(&self, id: i64, state: &str) -> CommandRecord {
        wait_until(
            &format!("command {id} to be {state}"),
            WAIT,
            || async move {
                let c = self.detail(id).await.command;
                (c.state.as_str() == state).then_some(c)
            },
        )
        .await
    }

    /// Waits until `n` callbacks for command `id` are stored.
    pub async fn wait_for_callbacks(&self, id: i64, n: usize) -> Vec<CallbackRecord> {
        wait_until(
            &format!("{n} callback(s) for command {id}"),
            WAIT,
            || async move {
                let items = self.callbacks(&format!("?command={id}")).await.items;
                (items.len() >= n).then_some(items)
            },
        )
        .await
    }

    /// The current feed sequence (from a list's `feed_seq`).
    pub async fn feed_seq(&self) -> i64 {
        self.commands("?limit=1").await.feed_seq
    }

    // ---- Receiver

    /// Posts a callback body to `path` with `auth` as Basic credential (`None`: no Authorization), as
    /// Hermod does: no session, no cookie.
    pub async fn post_callback(
        &self,
        path: &str,
        auth: Option<(&str, &str)>,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let mut request = self
            .anonymous()
            .post(format!("{}{path}", self.url))
            .header("content-type", content_type)
            .body(body.into());
        if let Some((user, password)) = auth {
            request = request.header(
                "authorization",
                format!("Basic {}", b64(format!("{user}:{password}"))),
            );
        }
        self.read(request).await
    }

    /// `idm`'s correct callback credential.
    pub fn idm_auth(&self) -> (&str, &str) {
        (IDM_CALLBACK_USER, &self.secrets.idm_password)
    }

    // ---- Feed

    /// Opens `/api/events`, with `Last-Event-ID: last_event_id` and/or `?after=after`; checks the
    /// answer is a stream.
    pub async fn events(&self, last_event_id: Option<&str>, after: Option<i64>) -> Sse {
        self.events_as(&self.http, last_event_id, after).await
    }

    /// `/api/events` opened with `http`'s credentials.
    pub async fn events_as(
        &self,
        http: &reqwest::Client,
        last_event_id: Option<&str>,
        after: Option<i64>,
    ) -> Sse {
        let mut url = format!("{}/api/events", self.url);
        if let Some(a) = after {
            url.push_str(&format!("?after={a}"));
        }
        let mut request = http.get(url).timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("open /api/events");
        assert_eq!(response.status(), StatusCode::OK, "/api/events answered");
        let ct = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(ct.starts_with("text/event-stream"), "content-type {ct}");
        Sse::new(response, self.transcript.clone())
    }

    /// A live feed subscription that is known to be registered: it replays from `feed_seq` (so nothing
    /// after now is missed, whatever the timing).
    pub async fn subscribe(&self) -> Sse {
        let seq = self.feed_seq().await;
        self.events(None, Some(seq)).await
    }

    // ---- Simulator

    pub async fn sim_get(&self, path: &str) -> Resp {
        self.read(self.anonymous().get(format!("{}{path}", self.sim())))
            .await
    }

    pub async fn sim_post(&self, path: &str) -> Resp {
        self.read(self.anonymous().post(format!("{}{path}", self.sim())))
            .await
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        // Kill the process before its data directory goes.
        self.process.take();
    }
}

/// Someone using the console's API with their own credential (a session, a token, or none).
pub struct Agent {
    pub url: String,
    pub http: reqwest::Client,
    pub session: Option<Session>,
    pub user: Option<UserRecord>,
    pub password: Option<String>,
    transcript: Transcript,
}

impl Agent {
    pub async fn read(&self, request: reqwest::RequestBuilder) -> Resp {
        let response = request.send().await.expect("send the request");
        Resp::read(response, &self.transcript).await
    }

    /// `method path`, with `body` as JSON when given.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(body);
        }
        self.read(request).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Resp {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.call(reqwest::Method::DELETE, path, None).await
    }
}

// ---------------------------------------------------------------------------------------------------
// Sample command bodies (docs/hermod.md §7), steered by `externalId`

/// `commandHeader` with `timeout` and `lifespan` of `timeout_secs`.
pub fn header(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "lifespan": timeout_secs,
        "timeout": timeout_secs,
        "to": ["@tmp"],
        "externalId": external_id,
    })
}

/// A sign request as in §7.2, with real base64.
pub fn sign_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "signCommand": { "params": {
            "description": [ { "key": "requester", "description": "Signing request from",
                               "content_type": "text/plain", "content_encoding": "base64",
                               "data": b64("Example Bank"), "visible": true } ],
            "tbs": [ { "key": "tbs", "description": "Text to sign",
                       "content_type": "text/plain", "content_encoding": "base64",
                       "data": b64("Pay 100 EUR to ACME"), "visible": true } ],
            "filter": { "op": "eq", "param": "key.type", "value": "RSA" },
            "format": "pkcs7",
            "mechanism": "CKM_SHA256_RSA_PKCS"
        } }
    })
}

/// §7.3.
pub fn authenticate_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "authCommand": { "params": {
            "description": [ { "key": "auth_image", "description": "Verify that image is equal",
                               "content_type": "application/hermod+content-id",
                               "data": "AUTH:4018", "visible": true } ],
            "tbs": [ { "key": "challenge", "content_type": "text/plain", "content_encoding": "base64",
                       "data": b64(unique("challenge-")), "visible": false } ],
            "format": "jws",
            "mechanism": "CKM_SHA256_RSA_PKCS"
        } }
    })
}

/// §7.4, with device info.
pub fn ping_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "pingCommand": { "deviceinfo": "true" }
    })
}

/// §7.1, asking for a P-256 key (quick to make).
pub fn provision_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "provCommand": {
            "nonce": unique("n-"),
            "userid": "jane.doe@example.com",
            "responsesignaturekey": "ATTESTATION",
            "responseformat": "jws",
            "profile": {
                "servername": "Example IDM",
                "name": "Example Mobile ID",
                "keygenrequests": [ {
                    "keyid": "signer",
                    "usage": "SIG",
                    "keytypeprios": [ { "keytype": "EC", "keylength": "256", "responsemechanism": "ES256" } ],
                    "storageprios": [ "APP" ],
                    "keystate": "ACTIVE"
                } ],
                "visualData": { "contentId": "PROV:0c5e" }
            }
        }
    })
}

/// §7.4.
pub fn certificate_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "certCommand": { "profileid": "profile-1", "smartcardid": "token-1",
                         "desktopKeyProtectionLevel": "CONSENT",
                         "certificates": [ { "keyid": "signer", "certificate": b64("not really DER") } ] }
    })
}

/// §7.5.
pub fn startpinreset_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "startpinresetCommand": { "profileid": "profile-1", "operation": "pinreset" }
    })
}

/// §7.5.
pub fn endpinreset_body(external_id: &str, timeout_secs: u64) -> Value {
    json!({
        "commandHeader": header(external_id, timeout_secs),
        "endpinresetCommand": { "smartcardid": "token-1", "encryptednonce": b64("nonce"),
                                "newadminkey": "0123456789abcdef0123456789abcdef0123456789abcdef" }
    })
}

/// A valid body for every command type.
pub fn body_for(ty: &str, external_id: &str, timeout_secs: u64) -> Value {
    match ty {
        "sign" => sign_body(external_id, timeout_secs),
        "authenticate" => authenticate_body(external_id, timeout_secs),
        "ping" => ping_body(external_id, timeout_secs),
        "provision" => provision_body(external_id, timeout_secs),
        "certificate" => certificate_body(external_id, timeout_secs),
        "startpinreset" => startpinreset_body(external_id, timeout_secs),
        "endpinreset" => endpinreset_body(external_id, timeout_secs),
        other => panic!("no sample body for {other}"),
    }
}

/// Every command type, as in Hermod's paths.
pub const TYPES: [&str; 7] = [
    "provision",
    "certificate",
    "authenticate",
    "sign",
    "ping",
    "startpinreset",
    "endpinreset",
];

/// A callback body in the simulator's default shape (docs/hermod.md §7.6).
pub fn callback_body(command_id: &str, external_id: &str, state: &str) -> String {
    json!({
        "commandId": command_id,
        "externalId": external_id,
        "commandType": "SIGN",
        "state": state,
        "response": b64(unique("signature-")),
        "error": null,
    })
    .to_string()
}
