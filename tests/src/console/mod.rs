//! A running console under test, as `demo` (with its simulator) or `serve` with a config file: how
//! it is started, logged into as `admin`, restarted on the same data directory, stopped, and reached
//! beside the process through its database file. Who calls it is in `callers`, its API in `api`.

mod api;
mod callers;

pub use api::burst_id;
pub use callers::*;

use crate::{Process, Secrets, TempDir, Transcript, args, http_client};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
enum Mode {
    Demo,
    Serve { config: PathBuf },
}

/// The variable the first admin's password comes from (README.md).
pub const ADMIN_PASSWORD_ENV: &str = "HERMOD_CONSOLE_ADMIN_PASSWORD";

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
        Console::demo_with(Secrets::random())
    }

    /// [`Console::demo`] with `secrets`: replicas of one console share them.
    pub fn demo_with(secrets: Secrets) -> ConsoleBuilder {
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
}

impl Drop for Console {
    fn drop(&mut self) {
        // Kill the process before its data directory goes.
        self.process.take();
    }
}
