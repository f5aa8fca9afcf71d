//! The binary under test as a process: started on a clean environment, its announced addresses read
//! from stdout, its output kept in a log, stopped with SIGTERM or killed on drop; and what a process
//! needs around it, a temporary directory and a free port.

use crate::random_u64;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

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

/// A command URL nothing answers. Port 1 is privileged, and the tests bind only ports the system
/// hands out, so it stays closed; a port found free instead could be taken by a console or simulator
/// of a test running beside this one (`make test` runs four at a time).
pub const CLOSED_COMMAND_URL: &str = "http://127.0.0.1:1/hermod/rest/command";

/// A free port on 127.0.0.1 right now (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

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

    pub(crate) fn pid(&self) -> u32 {
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
