//! The PostgreSQL cluster the devserver starts when no `--database-url` is given.
//!
//! Layout. PostgreSQL refuses to run as root and cannot reach a directory under a
//! root-private parent, so:
//! - not root: the cluster is `<data-dir>/pgdata`, its socket dir `<data-dir>/run` (or a 0700
//!   dir under /tmp when that path would exceed the unix socket length limit);
//! - root: the cluster is `/var/lib/authwire-dev/<hash of the canonical data dir>/pgdata`,
//!   owned by and run as the `postgres` user, socket dir beside it.
//!
//! Either way `<data-dir>/cluster.json` records where it is, and `<data-dir>/postgres.log`
//! receives the server's output. The server listens on a unix socket only
//! (`listen_addresses=''`) in a 0700 directory, with `trust` authentication: nothing but
//! this user (and root) can reach it. It runs with `wal_level=logical` for the change feed
//! and `fsync=off`: a development cluster trades durability for speed.
//!
//! Lifetime. The postmaster is spawned from a dedicated thread that lives until it exits,
//! with `PR_SET_PDEATHSIG=SIGINT`: if the devserver dies abruptly, the kernel asks the
//! postmaster for a fast shutdown. [`Cluster::stop`] does the same and waits for the exit.

use crate::sys::{self, Signal};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::io::{self, BufRead as _};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where root-run clusters live (owned by the `postgres` user).
const ROOT_CLUSTERS: &str = "/var/lib/authwire-dev";
/// The port only names the socket file (`.s.PGSQL.5432`) in our private socket dir.
const SOCKET_PORT: u16 = 5432;
/// The superuser initdb creates.
pub(crate) const SUPERUSER: &str = "postgres";
/// Longest unix socket path Linux accepts (sun_path is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Why the cluster could not be prepared, started or stopped.
#[derive(Debug)]
pub enum ClusterError {
    /// No `initdb`/`postgres` binaries found.
    NoBinaries,
    /// Running as root, but there is no `postgres` system user to run the server as.
    NoPostgresUser,
    /// A filesystem or process operation failed.
    Io(String, io::Error),
    /// `initdb` failed; its output.
    Initdb(String),
    /// The server exited during start-up or stop; the tail of postgres.log.
    Exited(String),
    /// The server did not accept connections in time; the tail of postgres.log.
    Timeout(String),
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClusterError::NoBinaries => f.write_str(
                "PostgreSQL binaries not found (tried `pg_config --bindir`, /usr/lib/postgresql/*/bin and PATH); \
                 install postgresql (and postgresql-15-wal2json) or pass --database-url",
            ),
            ClusterError::NoPostgresUser => f.write_str(
                "running as root needs a `postgres` system user to run PostgreSQL as (the postgresql package creates it)",
            ),
            ClusterError::Io(what, e) => write!(f, "{what}: {e}"),
            ClusterError::Initdb(out) => write!(f, "initdb failed:\n{out}"),
            ClusterError::Exited(tail) => write!(f, "PostgreSQL exited; last lines of its log:\n{tail}"),
            ClusterError::Timeout(tail) => {
                write!(f, "PostgreSQL did not accept connections in time; last lines of its log:\n{tail}")
            }
        }
    }
}

impl std::error::Error for ClusterError {}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let what = what.into();
    move |e| ClusterError::Io(what, e)
}

/// The record in `<data-dir>/cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRecord {
    /// The cluster's data directory (PGDATA).
    pub pgdata: PathBuf,
    /// The directory holding the server's unix socket.
    pub socket_dir: PathBuf,
    /// The port in the socket's file name.
    pub port: u16,
    /// The OS user the server runs as.
    pub os_user: String,
    /// The PostgreSQL binaries used.
    pub bindir: PathBuf,
}

/// The OS account to run PostgreSQL as when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

/// A running cluster owned by this process.
pub(crate) struct Cluster {
    record: ClusterRecord,
    pid: u32,
    exit: watch::Receiver<Option<String>>,
    log_path: PathBuf,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster").field("pgdata", &self.record.pgdata).field("pid", &self.pid).finish()
    }
}

impl Cluster {
    /// Initialises the cluster if needed, starts it and waits until it accepts connections.
    /// The caller holds the data-dir lock, so any postmaster still running on this cluster
    /// is a leftover of a killed run and is stopped first.
    pub(crate) async fn start(data_dir: &Path) -> Result<Cluster, ClusterError> {
        let data_dir = data_dir.to_path_buf();
        let Prepared { record, run_as, log_path } = tokio::task::spawn_blocking(move || prepare(&data_dir))
            .await
            .map_err(|e| ClusterError::Io("cluster preparation".into(), io::Error::other(e)))??;
        let (pid, exit) = spawn_postmaster(&record, run_as, &log_path)?;
        let cluster = Cluster { record, pid, exit, log_path };
        if let Err(e) = cluster.wait_ready(Duration::from_secs(60)).await {
            cluster.stop().await.ok();
            return Err(e);
        }
        tracing::info!(pgdata = %cluster.record.pgdata.display(), pid, "PostgreSQL is up");
        Ok(cluster)
    }

    /// Connection settings for the superuser over the private socket.
    pub(crate) fn pg_config(&self) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host_path(&self.record.socket_dir)
            .port(self.record.port)
            .user(SUPERUSER)
            .dbname("postgres")
            .application_name("authwire-dev")
            .connect_timeout(Duration::from_secs(5));
        c
    }

    /// Where the cluster lives.
    pub(crate) fn record(&self) -> &ClusterRecord {
        &self.record
    }

    /// Resolves when the postmaster has exited, with a description of how.
    pub(crate) fn exited(&self) -> impl std::future::Future<Output = String> + Send + 'static {
        let mut rx = self.exit.clone();
        async move {
            let how = match rx.wait_for(Option::is_some).await {
                Ok(v) => v.clone().unwrap_or_default(),
                Err(_) => "the supervising thread ended".to_string(),
            };
            how
        }
    }

    fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    async fn wait_ready(&self, limit: Duration) -> Result<(), ClusterError> {
        let deadline = Instant::now() + limit;
        let config = self.pg_config();
        loop {
            if self.has_exited() {
                return Err(ClusterError::Exited(log_tail(&self.log_path, 12)));
            }
            if let Ok((client, conn)) = config.connect(tokio_postgres::NoTls).await {
                drop(client);
                drop(conn);
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ClusterError::Timeout(log_tail(&self.log_path, 12)));
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Fast shutdown (SIGINT), escalating to SIGQUIT and SIGKILL if it hangs; returns once
    /// the postmaster has exited.
    pub(crate) async fn stop(&self) -> Result<(), ClusterError> {
        for (sig, wait) in [
            (Signal::Interrupt, Duration::from_secs(20)),
            (Signal::Quit, Duration::from_secs(5)),
            (Signal::Kill, Duration::from_secs(5)),
        ] {
            if self.has_exited() {
                return Ok(());
            }
            if let Err(e) = sys::send_signal(self.pid, sig) {
                tracing::debug!(pid = self.pid, "signal {sig:?}: {e}");
            }
            let mut rx = self.exit.clone();
            if tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await.is_ok() {
                tracing::info!("PostgreSQL stopped");
                return Ok(());
            }
            tracing::warn!(pid = self.pid, "PostgreSQL did not stop after {sig:?}");
        }
        Err(ClusterError::Io(
            format!("stopping PostgreSQL (pid {})", self.pid),
            io::Error::from(io::ErrorKind::TimedOut),
        ))
    }
}

impl Drop for Cluster {
    /// Best effort when dropped without [`Cluster::stop`]: ask for a fast shutdown, no wait.
    fn drop(&mut self) {
        if !self.has_exited() {
            sys::send_signal(self.pid, Signal::Interrupt).ok();
        }
    }
}

struct Prepared {
    record: ClusterRecord,
    run_as: Option<RunAs>,
    /// `<data-dir>/postgres.log`, whatever the layout.
    log_path: PathBuf,
}

/// Finds the binaries, lays out the directories, runs initdb when needed and clears a
/// leftover postmaster. Blocking.
fn prepare(data_dir: &Path) -> Result<Prepared, ClusterError> {
    let canonical = data_dir.canonicalize().map_err(io_err(format!("resolving {}", data_dir.display())))?;
    let record_path = canonical.join("cluster.json");
    let previous: Option<ClusterRecord> = fs::read(&record_path).ok().and_then(|b| serde_json::from_slice(&b).ok());

    let (base, run_as, os_user) = if sys::is_root() {
        let (uid, gid) = lookup_user(SUPERUSER).ok_or(ClusterError::NoPostgresUser)?;
        let root = Path::new(ROOT_CLUSTERS);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(root)
            .map_err(io_err(format!("creating {ROOT_CLUSTERS}")))?;
        let base = root.join(dir_hash(&canonical));
        gc_orphans(root, &base);
        (base, Some(RunAs { uid, gid }), SUPERUSER.to_string())
    } else {
        (canonical.clone(), None, std::env::var("USER").unwrap_or_else(|_| "current user".into()))
    };
    let pgdata = base.join("pgdata");

    // A data dir without a record is a fresh data dir: a cluster found at its hashed
    // location belongs to a deleted predecessor, and must not leak its users into this one.
    if run_as.is_some() && previous.as_ref().map(|p| &p.pgdata) != Some(&pgdata) && base.exists() {
        tracing::info!(dir = %base.display(), "removing a cluster left by a deleted data dir");
        stop_leftover(&pgdata);
        fs::remove_dir_all(&base).map_err(io_err(format!("removing {}", base.display())))?;
    }
    if let Some(r) = run_as {
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&base)
            .or_else(ignore_exists)
            .map_err(io_err(format!("creating {}", base.display())))?;
        std::os::unix::fs::chown(&base, Some(r.uid), Some(r.gid))
            .map_err(io_err(format!("chown {}", base.display())))?;
        fs::write(base.join("owner"), canonical.as_os_str().as_encoded_bytes())
            .map_err(io_err(format!("writing {}/owner", base.display())))?;
    }

    let existing_major = fs::read_to_string(pgdata.join("PG_VERSION")).ok().map(|s| s.trim().to_string());
    let bindir = find_bindir(existing_major.as_deref()).ok_or(ClusterError::NoBinaries)?;

    let socket_dir = choose_socket_dir(&base, &canonical);
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&socket_dir)
        .or_else(ignore_exists)
        .map_err(io_err(format!("creating {}", socket_dir.display())))?;
    fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("chmod {}", socket_dir.display())))?;
    if let Some(r) = run_as {
        std::os::unix::fs::chown(&socket_dir, Some(r.uid), Some(r.gid))
            .map_err(io_err(format!("chown {}", socket_dir.display())))?;
    }

    let record =
        ClusterRecord { pgdata: pgdata.clone(), socket_dir, port: SOCKET_PORT, os_user, bindir: bindir.clone() };
    // Written before initdb, so a crash mid-initdb is still recognised as ours next time.
    let body = serde_json::to_vec_pretty(&record).unwrap_or_default();
    fs::write(&record_path, body).map_err(io_err(format!("writing {}", record_path.display())))?;

    if existing_major.is_none() {
        if pgdata.exists() {
            // An interrupted initdb: start over.
            fs::remove_dir_all(&pgdata).map_err(io_err(format!("removing {}", pgdata.display())))?;
        }
        initdb(&bindir, &pgdata, &base, run_as)?;
    } else {
        stop_leftover(&pgdata);
    }
    Ok(Prepared { record, run_as, log_path: canonical.join("postgres.log") })
}

fn ignore_exists(e: io::Error) -> io::Result<()> {
    if e.kind() == io::ErrorKind::AlreadyExists {
        Ok(())
    } else {
        Err(e)
    }
}

fn choose_socket_dir(base: &Path, canonical_data_dir: &Path) -> PathBuf {
    let preferred = base.join("run");
    let socket_file_len = preferred.as_os_str().len() + "/.s.PGSQL.5432".len();
    if socket_file_len <= MAX_SOCKET_PATH {
        return preferred;
    }
    // Named by the data dir's hash; created 0700 by us (a foreign owner makes chmod fail).
    PathBuf::from(format!("/tmp/authwire-dev-{}", dir_hash(canonical_data_dir)))
}

/// First 16 hex digits of SHA-256 of the path: stable per data dir, short enough for sockets.
fn dir_hash(path: &Path) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, path.as_os_str().as_encoded_bytes());
    d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// uid and gid of an OS user, via `getent` (covers NSS, not just /etc/passwd).
fn lookup_user(name: &str) -> Option<(u32, u32)> {
    let out = Command::new("getent").args(["passwd", name]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8(out.stdout).ok()?;
    let mut f = line.trim().split(':');
    let (_, _, uid, gid) = (f.next()?, f.next()?, f.next()?, f.next()?);
    Some((uid.parse().ok()?, gid.parse().ok()?))
}

fn has_binaries(dir: &Path) -> bool {
    dir.join("postgres").is_file() && dir.join("initdb").is_file()
}

/// `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`, else PATH. A cluster
/// that already exists prefers the binaries of its own major version.
fn find_bindir(major: Option<&str>) -> Option<PathBuf> {
    if let Some(m) = major {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{m}/bin"));
        if has_binaries(&p) {
            return Some(p);
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_binaries(&p) {
            return Some(p);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| has_binaries(p))
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return Some(p);
    }
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|p| has_binaries(p))
}

fn as_user(cmd: &mut Command, run_as: Option<RunAs>) {
    if let Some(r) = run_as {
        cmd.uid(r.uid).gid(r.gid).env("HOME", "/var/lib/postgresql").env("USER", SUPERUSER);
    }
    // Our own PG* variables must not leak into the server's tools.
    for var in ["PGDATA", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE", "PGOPTIONS"] {
        cmd.env_remove(var);
    }
}

fn initdb(bindir: &Path, pgdata: &Path, cwd: &Path, run_as: Option<RunAs>) -> Result<(), ClusterError> {
    let started = Instant::now();
    let mut cmd = Command::new(bindir.join("initdb"));
    cmd.arg("-D")
        .arg(pgdata)
        .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
        .current_dir(cwd)
        .stdin(Stdio::null());
    as_user(&mut cmd, run_as);
    let out = cmd.output().map_err(io_err("running initdb"))?;
    if !out.status.success() {
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        return Err(ClusterError::Initdb(text));
    }
    tracing::info!(pgdata = %pgdata.display(), ms = started.elapsed().as_millis() as u64, "initdb done");
    Ok(())
}

/// Stops a postmaster still running on `pgdata` from a run that was killed. The caller holds
/// the data-dir lock, so no live devserver owns it.
fn stop_leftover(pgdata: &Path) {
    let Some(pid) = leftover_postmaster(pgdata) else { return };
    tracing::warn!(pid, "stopping a PostgreSQL left running by a previous authwire-dev");
    for (sig, wait) in [(Signal::Interrupt, 20), (Signal::Quit, 5), (Signal::Kill, 5)] {
        sys::send_signal(pid, sig).ok();
        let deadline = Instant::now() + Duration::from_secs(wait);
        while Instant::now() < deadline {
            if !sys::process_exists(pid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The pid in `postmaster.pid` if that process is alive and is a postgres serving `pgdata`.
/// A stale file (process gone) needs nothing: PostgreSQL replaces it itself.
fn leftover_postmaster(pgdata: &Path) -> Option<u32> {
    let file = fs::File::open(pgdata.join("postmaster.pid")).ok()?;
    let mut lines = io::BufReader::new(file).lines();
    let pid: u32 = lines.next()?.ok()?.trim().parse().ok()?;
    let dir = lines.next()?.ok()?;
    if !sys::process_exists(pid) || Path::new(dir.trim()) != pgdata {
        return None;
    }
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let exe = cmdline.split(|b| *b == 0).next()?;
    String::from_utf8_lossy(exe).ends_with("postgres").then_some(pid)
}

/// Removes root-run clusters whose data dir no longer exists (tests create many temporary
/// ones). Only the data dir's existence counts: another devserver may be between creating
/// its cluster dir and writing its records. A cluster whose postmaster is alive stays.
fn gc_orphans(root: &Path, keep: &Path) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir == keep || !dir.is_dir() {
            continue;
        }
        let orphaned = match fs::read(dir.join("owner")) {
            Ok(owner) if !owner.is_empty() => !Path::new(&*String::from_utf8_lossy(&owner)).exists(),
            // No owner record yet: being created right now, unless it is old.
            _ => entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(600))),
        };
        if !orphaned || leftover_postmaster(&dir.join("pgdata")).is_some() {
            continue;
        }
        match fs::remove_dir_all(&dir) {
            Ok(()) => tracing::debug!(dir = %dir.display(), "removed an orphaned cluster"),
            Err(e) => tracing::debug!(dir = %dir.display(), "could not remove an orphaned cluster: {e}"),
        }
    }
}

fn spawn_postmaster(
    record: &ClusterRecord,
    run_as: Option<RunAs>,
    log_path: &Path,
) -> Result<(u32, watch::Receiver<Option<String>>), ClusterError> {
    let log = fs::File::create(log_path).map_err(io_err(format!("creating {}", log_path.display())))?;
    let log2 = log.try_clone().map_err(io_err("duplicating the log descriptor"))?;
    let mut cmd = Command::new(record.bindir.join("postgres"));
    cmd.arg("-D").arg(&record.pgdata);
    let settings = [
        "listen_addresses=".to_string(),
        format!("unix_socket_directories={}", record.socket_dir.display()),
        "unix_socket_permissions=0700".into(),
        format!("port={}", record.port),
        "wal_level=logical".into(),
        "max_replication_slots=32".into(),
        "max_wal_senders=32".into(),
        "max_connections=200".into(),
        "fsync=off".into(),
        "synchronous_commit=off".into(),
        // Logical decoding reads only flushed WAL: with asynchronous commits, flush often so
        // the Realtime change feed sees a commit within milliseconds.
        "wal_writer_delay=10ms".into(),
        "full_page_writes=off".into(),
        "timezone=UTC".into(),
        "log_timezone=UTC".into(),
    ];
    for s in &settings {
        cmd.arg("-c").arg(s);
    }
    cmd.current_dir(record.pgdata.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        // Its own process group: a terminal's Ctrl-C reaches only us, and we stop it in order.
        .process_group(0);
    as_user(&mut cmd, run_as);
    sys::die_with_parent(&mut cmd);

    let (pid_tx, pid_rx) = std::sync::mpsc::channel::<io::Result<u32>>();
    let (exit_tx, exit_rx) = watch::channel(None);
    // The death signal follows the spawning *thread*, so that thread must outlive the child:
    // it spawns, then waits for the exit.
    std::thread::Builder::new()
        .name("postgres-supervisor".into())
        .spawn(move || {
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => {
                    pid_tx.send(Err(e)).ok();
                    return;
                }
            };
            pid_tx.send(Ok(child.id())).ok();
            let how = match child.wait() {
                Ok(status) => status.to_string(),
                Err(e) => format!("wait failed: {e}"),
            };
            exit_tx.send_replace(Some(how));
        })
        .map_err(io_err("starting the postgres supervisor thread"))?;
    let pid = pid_rx
        .recv()
        .map_err(|_| ClusterError::Io("starting postgres".into(), io::Error::other("supervisor thread died")))?
        .map_err(io_err(format!("starting {}", record.bindir.join("postgres").display())))?;
    Ok((pid, exit_rx))
}

/// The last `n` lines of a log file, for error messages.
pub(crate) fn log_tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_hash_is_stable_and_short() {
        assert_eq!(dir_hash(Path::new("/a/b")), dir_hash(Path::new("/a/b")));
        assert_ne!(dir_hash(Path::new("/a/b")), dir_hash(Path::new("/a/c")));
        assert_eq!(dir_hash(Path::new("/a/b")).len(), 16);
    }

    #[test]
    fn long_paths_get_a_short_socket_dir() {
        let long = PathBuf::from(format!("/tmp/{}", "x".repeat(120)));
        let s = choose_socket_dir(&long, &long);
        assert!(s.as_os_str().len() + 14 <= MAX_SOCKET_PATH);
        assert_eq!(choose_socket_dir(Path::new("/d"), Path::new("/d")), PathBuf::from("/d/run"));
    }

    #[test]
    fn finds_binaries_here() {
        // The build machines have Debian's postgresql installed.
        let dir = find_bindir(None).expect("postgresql binaries");
        assert!(has_binaries(&dir));
    }
}
