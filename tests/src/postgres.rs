//! A temporary PostgreSQL cluster for the tests that run the console's store against PostgreSQL: made
//! by `initdb` in a fresh directory, its server a child of the test process on a free port, a fresh
//! database for each test.
//!
//! The binaries are those beside `initdb` on PATH, else the newest /usr/lib/postgresql/*/bin
//! (`make postgres-tools` installs them). PostgreSQL refuses to run as root, so as root the cluster
//! belongs to, and its server runs as, the `postgres` user.

use crate::free_port;
use std::ffi::OsStr;
use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a server may take to accept queries.
const STARTUP: Duration = Duration::from_secs(30);

/// Another process can take the free port before the server binds it; a new port then fixes it.
const ATTEMPTS: usize = 5;

/// A test cluster's data is thrown away, so durability only costs time. A test about durability
/// starts its own cluster with its own settings, which come after these and so win.
const FAST: &[(&str, &str)] = &[
    ("listen_addresses", "127.0.0.1"),
    ("max_connections", "300"),
    ("fsync", "off"),
    ("synchronous_commit", "off"),
    ("full_page_writes", "off"),
    // The write-ahead log kept small: left to the defaults it grows to hundreds of MB per cluster,
    // one cluster per test process, in the temporary directory.
    ("wal_level", "minimal"),
    ("max_wal_senders", "0"),
    ("min_wal_size", "32MB"),
    ("max_wal_size", "64MB"),
];

/// A running PostgreSQL server and its directory. Trust authentication: user `postgres`, no password.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    server: Option<Child>,
}

/// The cluster shared by every test of this process, started by the first to ask. A static never
/// drops, so its server goes with the process (a parent-death signal) and its directory with the next
/// start in a later process.
pub fn cluster() -> &'static Cluster {
    // A failed start is kept, so that every test fails at once with its reason instead of retrying.
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| Cluster::start(&[])) {
        Ok(cluster) => cluster,
        Err(e) => panic!("{e}"),
    }
}

/// A cluster of the caller's own, for the few tests that need other server settings (`-c name=value`)
/// or a server they may stop. Stopped, and its directory removed, on drop.
pub fn start(settings: &[(&str, &str)]) -> Cluster {
    Cluster::start(settings).unwrap_or_else(|e| panic!("{e}"))
}

impl Cluster {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A new empty database, so that tests sharing a cluster do not see each other's data; its URL.
    pub fn database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        // Over TCP with trust authentication any local user may act as `postgres`: no uid switch.
        let out = client(&self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", &name])
            .output()
            .expect("run createdb");
        assert!(
            out.status.success(),
            "createdb {name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn start(settings: &[(&str, &str)]) -> Result<Cluster, String> {
        remove_stale();
        let bin = bin_dir()?;
        let owner = owner()?;
        let dir = new_dir()?;
        let data = dir.join("data");
        // From here on, dropping `cluster` on an error stops the server and removes the directory.
        let mut cluster = Cluster {
            bin,
            dir,
            port: 0,
            server: None,
        };
        std::fs::create_dir(&data).map_err(|e| format!("create {}: {e}", data.display()))?;
        if let Some((uid, gid)) = owner {
            for d in [&cluster.dir, &data] {
                std::os::unix::fs::chown(d, Some(uid), Some(gid))
                    .map_err(|e| format!("chown {} to postgres: {e}", d.display()))?;
            }
        }

        let mut initdb = cluster.as_owner(owner.is_some(), false, "initdb")?;
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "--auth=trust", "--no-sync"])
            .args(["-E", "UTF8", "--locale=C"]);
        let status = initdb.status().map_err(|e| format!("run initdb: {e}"))?;
        if !status.success() {
            return Err(format!("initdb failed ({status}){}", cluster.log_tail()));
        }

        for attempt in 1..=ATTEMPTS {
            cluster.port = free_port();
            let mut postgres = cluster.as_owner(owner.is_some(), true, "postgres")?;
            postgres
                .arg("-D")
                .arg(&data)
                .args(["-p", &cluster.port.to_string()])
                // The Unix socket goes in the cluster's own directory: the default one may not exist.
                .arg("-k")
                .arg(&cluster.dir);
            for (name, value) in FAST.iter().chain(settings) {
                postgres.arg("-c").arg(format!("{name}={value}"));
            }
            cluster.server = Some(spawn_kept(postgres).map_err(|e| format!("run postgres: {e}"))?);
            match cluster.wait_ready() {
                Ok(()) => return Ok(cluster),
                Err(Some(_)) if attempt < ATTEMPTS => cluster.server = None,
                Err(Some(status)) => {
                    return Err(format!(
                        "postgres ended ({status}) at each of {ATTEMPTS} starts{}",
                        cluster.log_tail()
                    ));
                }
                Err(None) => {
                    return Err(format!(
                        "postgres did not accept queries on port {} within {STARTUP:?}{}",
                        cluster.port,
                        cluster.log_tail()
                    ));
                }
            }
        }
        unreachable!("the last attempt returns")
    }

    /// `program` of the cluster's binaries, run as the cluster's owner, its output appended to the log.
    /// `setpriv` switches user when we are root; with `pdeathsig` it also has the kernel signal the
    /// server when the thread that started it ends (see `spawn_kept`), so a test process that ends, or
    /// dies, leaves no server behind. SIGQUIT, not SIGKILL: PostgreSQL's immediate shutdown, quick
    /// too, but the server removes its System V shared memory segment, which SIGKILL leaves behind,
    /// one per test process, until the system's limit (kernel.shmmni) is reached.
    fn as_owner(&self, root: bool, pdeathsig: bool, program: &str) -> Result<Command, String> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.dir.join("log"))
            .map_err(|e| format!("open the log: {e}"))?;
        let err = log.try_clone().map_err(|e| format!("open the log: {e}"))?;
        let mut cmd = if root || pdeathsig {
            let mut cmd = client(OsStr::new("setpriv"));
            if root {
                cmd.args(["--reuid=postgres", "--regid=postgres", "--clear-groups"]);
            }
            if pdeathsig {
                cmd.args(["--pdeathsig", "SIGQUIT"]);
            }
            cmd.arg(self.bin.join(program));
            cmd
        } else {
            client(&self.bin.join(program))
        };
        // The `postgres` user may not be allowed into the test's working directory.
        cmd.current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        Ok(cmd)
    }

    /// `Ok` once the server accepts queries; `Err(Some)` if it ended first (its port was likely
    /// taken), `Err(None)` if it took too long.
    fn wait_ready(&mut self) -> Result<(), Option<ExitStatus>> {
        let deadline = Instant::now() + STARTUP;
        let port = self.port.to_string();
        let server = self.server.as_mut().expect("a server was started");
        let ended = |server: &mut Child| server.try_wait().ok().flatten();
        let mut listening = false;
        loop {
            if let Some(status) = ended(server) {
                return Err(Some(status));
            }
            // The TCP connection is cheap to try; but the server accepts it before it accepts
            // queries, which only `pg_isready` tells.
            listening = listening || TcpStream::connect(("127.0.0.1", self.port)).is_ok();
            if listening
                && client(&self.bin.join("pg_isready"))
                    .args(["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"])
                    .status()
                    .is_ok_and(|s| s.success())
            {
                // What answered may have been another process that took the port first.
                return ended(server).map_or(Ok(()), |status| Err(Some(status)));
            }
            if Instant::now() >= deadline {
                return Err(None);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        // Not its path: a failed start removes the directory.
        format!("; the end of its log:\n{tail}")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            // SIGINT, PostgreSQL's fast shutdown: SIGTERM's smart shutdown waits for every client
            // to disconnect, and a test's pool may still hold connections, closed only by tasks that
            // cannot run while we wait here.
            if let Ok(None) = server.try_wait() {
                let _ = Command::new("kill")
                    .args(["-INT", &server.id().to_string()])
                    .status();
                let deadline = Instant::now() + Duration::from_secs(10);
                while matches!(server.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let _ = server.kill();
            let _ = server.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL client or tool with none of the caller's `PG*` variables (`PGHOST`, `PGDATABASE`,
/// `PGOPTIONS`...), which would override or add to what the harness asks for.
fn client(program: &(impl AsRef<OsStr> + ?Sized)) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.as_encoded_bytes().starts_with(b"PG") {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Spawns from one thread that lives as long as the process: the kernel sends the parent-death
/// signal when the *thread* that spawned the child ends, and a test's thread ends with the test,
/// while the shared cluster must outlive it.
fn spawn_kept(cmd: Command) -> std::io::Result<Child> {
    type Request = (Command, mpsc::Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Request>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("postgres-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the postgres spawner thread");
        tx
    });
    let (reply, answer) = mpsc::channel();
    spawner
        .send((cmd, reply))
        .expect("the spawner thread is running");
    answer.recv().expect("the spawner thread answers")
}

/// The directory of the PostgreSQL binaries. `initdb` on PATH may be a symlink (Debian puts none
/// there; an image may), so its target's directory is the one with `postgres` beside it.
fn bin_dir() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("initdb"))
        .find(|p| p.is_file())
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .filter(|d| d.join("postgres").is_file());
    // Debian installs each major version side by side; by number, as 9.6 sorts after 15 as text.
    let newest = || {
        std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let major: u32 = name.to_str()?.split('.').next()?.parse().ok()?;
                let bin = e.path().join("bin");
                bin.join("postgres").is_file().then_some((major, bin))
            })
            .max()
            .map(|(_, bin)| bin)
    };
    on_path.or_else(newest).ok_or_else(|| {
        "no PostgreSQL: neither initdb on PATH nor /usr/lib/postgresql/*/bin; `make postgres-tools` \
         installs it"
            .to_string()
    })
}

/// The `postgres` user's uid and gid when we are root (PostgreSQL refuses to run as root), else `None`.
fn owner() -> Result<Option<(u32, u32)>, String> {
    let id = |args: &[&str]| -> Result<u32, String> {
        let out = Command::new("id")
            .args(args)
            .output()
            .map_err(|e| format!("run id: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| {
                format!(
                    "id {} failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    let not_there = |e: String| {
        format!(
            "{e}: PostgreSQL refuses to run as root, and runs as a `postgres` user, which is missing"
        )
    };
    Ok(Some((
        id(&["-u", "postgres"]).map_err(not_there)?,
        id(&["-g", "postgres"]).map_err(not_there)?,
    )))
}

/// `hermod-pg-<pid>-<nanos>` in the temp dir: the pid tells a later process whether it is stale.
fn new_dir() -> Result<PathBuf, String> {
    loop {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("hermod-pg-{}-{nanos}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // Two clusters started in the same nanosecond: the next one differs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("create {}: {e}", dir.display())),
        }
    }
}

/// Removes the directories of clusters whose process has ended: the shared cluster's is never
/// removed by its own process.
fn remove_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("hermod-pg-"))
            .and_then(|rest| rest.split_once('-'))
            .map(|(pid, _)| pid)
            .filter(|pid| pid.parse::<u32>().is_ok());
        if let Some(pid) = pid
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sql`'s answer in `database`, unaligned and without headers.
    fn psql(cluster: &Cluster, database: &str, sql: &str) -> String {
        let out = client(&cluster.bin.join("psql"))
            .args(["-X", "-h", "127.0.0.1", "-p", &cluster.port.to_string()])
            .args(["-U", "postgres", "-d", database, "-Atc", sql])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql -d {database} -c {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn shared_cluster_makes_distinct_databases() {
        // From two threads at once, as tests run.
        let urls: Vec<String> = std::thread::scope(|s| {
            let a = s.spawn(|| cluster().database());
            let b = s.spawn(|| cluster().database());
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert_ne!(urls[0], urls[1]);
        let cluster = cluster();
        for url in &urls {
            let prefix = format!("postgres://postgres@127.0.0.1:{}/", cluster.port());
            let name = url.strip_prefix(&prefix).expect("the cluster's URL");
            assert_eq!(psql(cluster, name, "select 1"), "1");
        }
    }

    #[test]
    fn own_cluster_has_its_settings_and_leaves_nothing() {
        let cluster = start(&[("max_connections", "20")]);
        assert_eq!(psql(&cluster, "postgres", "show max_connections"), "20");
        let dir = cluster.dir.clone();
        let pid = cluster.server.as_ref().expect("running").id();
        drop(cluster);
        assert!(!dir.exists(), "{} is still there", dir.display());
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "postgres {pid} still runs"
        );
    }
}
