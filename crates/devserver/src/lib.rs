//! authwire-devserver: a local server that speaks Supabase's Auth (GoTrue) and Realtime
//! protocols on a PostgreSQL cluster it starts itself.
//!
//! In-process use (tests):
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use authwire_devserver::{Config, DevServer};
//! let server = DevServer::start(Config::for_tests("/tmp/private/authwire")).await?;
//! println!("{} {}", server.url(), server.keys().anon_key.len());
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//! The binary (`authwire-dev`) is [`run`] plus signal handling; see [`Config`] for flags.

mod auth;
pub mod config;
mod db;
mod dev_faults;
mod events;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod http;
pub mod jwt;
pub mod keys;
pub mod pg;
mod realtime;
mod rest;
pub mod schema;
mod sys;

pub use config::{Config, JwtAlg, Mode, Seed};
pub use keys::ProjectKeys;

use std::fmt;
use std::fs;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// `--host` did not resolve.
    Resolve(String, std::io::Error),
    /// The listening socket could not be bound (port busy, no permission…).
    Bind(SocketAddr, std::io::Error),
    /// The data dir could not be created or used.
    DataDir(PathBuf, std::io::Error),
    /// Another authwire-dev is using this data dir.
    Locked(PathBuf),
    /// Keys could not be loaded or created.
    Keys(keys::KeysError),
    /// The managed PostgreSQL failed.
    Cluster(pg::ClusterError),
    /// Connecting to the database failed.
    Database(String),
    /// A migration failed.
    Schema(schema::SchemaError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Resolve(host, e) => write!(f, "cannot resolve --host {host}: {e}"),
            StartError::Bind(addr, e) if e.kind() == std::io::ErrorKind::AddrInUse => write!(
                f,
                "cannot listen on {addr}: address already in use (another authwire-dev?); choose another --port, or --port 0 for any free port"
            ),
            StartError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            StartError::DataDir(p, e) => write!(f, "data dir {}: {e}", p.display()),
            StartError::Locked(p) => {
                write!(f, "data dir {} is in use by another authwire-dev; stop it or pass another --data-dir", p.display())
            }
            StartError::Keys(e) => write!(f, "keys: {e}"),
            StartError::Cluster(e) => write!(f, "PostgreSQL: {e}"),
            StartError::Database(e) => write!(f, "database: {e}"),
            StartError::Schema(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Entry point for starting a server in-process.
#[derive(Debug)]
pub struct DevServer;

impl DevServer {
    /// Binds the port first (so a busy port fails before anything else starts), then
    /// prepares the data dir, keys, PostgreSQL and migrations, and serves HTTP. Returns once
    /// everything is up, i.e. when the binary would print its ready line.
    pub async fn start(config: Config) -> Result<Handle, StartError> {
        let started = Instant::now();
        let listener = bind(&config).await?;
        let addr =
            listener.local_addr().map_err(|e| StartError::Bind(SocketAddr::from(([0, 0, 0, 0], config.port)), e))?;
        if !addr.ip().is_loopback() {
            warn_exposed(addr);
        }

        let data_dir = prepare_data_dir(&config.data_dir)?;
        let lock = lock_data_dir(&data_dir)?;
        let keys = keys::load_or_create(&data_dir, http::unix_now()).map_err(StartError::Keys)?;

        let (fatal_tx, fatal_rx) = watch::channel(None::<String>);
        let (cluster, pg_config) = match &config.database_url {
            Some(url) => {
                let pg_config: tokio_postgres::Config =
                    url.parse().map_err(|e| StartError::Database(format!("--database-url: {e}")))?;
                tracing::info!(database = %redact_url(url), "using an external database");
                (None, pg_config)
            }
            None => {
                let cluster = pg::Cluster::start(&data_dir).await.map_err(StartError::Cluster)?;
                let pg_config = cluster.pg_config();
                let exited = cluster.exited();
                let tx = fatal_tx.clone();
                tokio::spawn(async move {
                    let how = exited.await;
                    tx.send_replace(Some(format!("PostgreSQL exited ({how})")));
                });
                (Some(cluster), pg_config)
            }
        };

        let result = async {
            let mut db = connect(&pg_config, fatal_tx.clone()).await?;
            schema::migrate(&mut db, config.seed, &config.sql).await.map_err(StartError::Schema)?;
            // The Realtime change feed is up before the ready line.
            let realtime = realtime::Realtime::start(&config, &pg_config)
                .await
                .map_err(|e| StartError::Database(format!("Realtime change feed: {e}")))?;
            Ok::<_, StartError>((db, realtime))
        }
        .await;
        let (db, realtime) = match result {
            Ok(v) => v,
            Err(e) => {
                if let Some(c) = &cluster {
                    c.stop().await.ok();
                }
                return Err(e);
            }
        };

        let url = format!("http://{}", url_host(addr.ip())) + &format!(":{}", addr.port());
        let extra_hosts = match addr.ip() {
            ip if ip.is_loopback() || ip.is_unspecified() => Vec::new(),
            IpAddr::V4(v4) => vec![v4.to_string()],
            IpAddr::V6(v6) => vec![format!("[{v6}]")],
        };
        let serving_since = Instant::now();
        let state = Arc::new(http::AppState {
            config,
            keys,
            url: url.clone(),
            extra_hosts,
            db,
            pool: db::Pool::new(pg_config.clone()),
            auth: auth::AuthState::default(),
            realtime: realtime.clone(),
            started: serving_since,
            requests: AtomicU64::new(0),
            events: events::Events::new(serving_since),
        });
        let project = state.keys.project.clone();
        #[cfg(feature = "fuzzing")]
        let fuzz_state = state.clone();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let app = http::router(state);
        let tx = fatal_tx.clone();
        let server = tokio::spawn(async move {
            // Connect info gives handlers the peer address (the wrong-password limiter).
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            // Sockets end (1001) and the change feed stops when serving stops or is aborted.
            let _realtime = realtime::StopGuard(realtime.clone());
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                stop_rx.await.ok();
                realtime.stop();
            });
            if let Err(e) = serve.await {
                tx.send_replace(Some(format!("HTTP server failed: {e}")));
            }
        });
        tracing::info!(%url, ms = started.elapsed().as_millis() as u64, "ready");
        Ok(Handle {
            addr,
            url,
            keys: project,
            data_dir,
            cluster,
            stop_tx: Some(stop_tx),
            server,
            fatal: fatal_rx,
            database: pg_config,
            _lock: lock,
            #[cfg(feature = "fuzzing")]
            state: fuzz_state,
        })
    }
}

/// A running server. Dropping it without [`Handle::shutdown`] stops serving and asks
/// PostgreSQL to shut down without waiting for it.
pub struct Handle {
    addr: SocketAddr,
    url: String,
    keys: ProjectKeys,
    data_dir: PathBuf,
    cluster: Option<pg::Cluster>,
    stop_tx: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
    fatal: watch::Receiver<Option<String>>,
    database: tokio_postgres::Config,
    /// Held for the server's lifetime: the data-dir lock.
    _lock: fs::File,
    /// The server's state, for the fuzzing sessions.
    #[cfg(feature = "fuzzing")]
    state: http::Shared,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").field("url", &self.url).field("data_dir", &self.data_dir).finish_non_exhaustive()
    }
}

impl Handle {
    /// Runs one in-memory socket session (see [`fuzzing`]); the frames it sent back.
    #[cfg(feature = "fuzzing")]
    pub(crate) async fn fuzz_session(&self, s: realtime::FuzzSession) -> u64 {
        realtime::fuzz_connection(&self.state, s).await
    }

    /// The bound address (the real port when `--port 0`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The project keys (what `/_dev/config` serves).
    pub fn keys(&self) -> &ProjectKeys {
        &self.keys
    }
    /// The canonical data dir.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
    /// Where the managed cluster lives (`None` with `--database-url`).
    pub fn cluster(&self) -> Option<&pg::ClusterRecord> {
        self.cluster.as_ref().map(pg::Cluster::record)
    }

    /// Connection settings for the database as its superuser (the managed cluster's private
    /// socket, or the `--database-url`), e.g. for tests that inspect or prepare data.
    pub fn database(&self) -> tokio_postgres::Config {
        self.database.clone()
    }

    /// Resolves if the server can no longer work (PostgreSQL died, the database connection
    /// broke, the HTTP server failed), with the reason.
    pub async fn failed(&self) -> String {
        let mut rx = self.fatal.clone();
        let why = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone().unwrap_or_default(),
            Err(_) => String::from("the server's supervisor ended"),
        };
        why
    }

    /// Stops serving (in-flight requests get up to 5 s), closes the database connection and
    /// stops PostgreSQL, waiting until it has exited.
    pub async fn shutdown(mut self) -> Result<(), pg::ClusterError> {
        if let Some(tx) = self.stop_tx.take() {
            tx.send(()).ok();
        }
        let server = &mut self.server;
        if tokio::time::timeout(Duration::from_secs(5), &mut *server).await.is_err() {
            server.abort();
            // Wait for the task to drop its state (and with it the database client).
            (&mut *server).await.ok();
        }
        match self.cluster.take() {
            Some(c) => c.stop().await,
            None => Ok(()),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.server.abort();
        // pg::Cluster's own Drop asks PostgreSQL for a fast shutdown.
    }
}

/// Runs the binary: start, print `authwire-dev ready <url>` on stdout, serve until SIGTERM,
/// SIGINT, SIGHUP, the parent process going away, or a fatal failure; then stop everything.
pub async fn run(config: Config) -> Result<(), RunError> {
    use tokio::signal::unix::{signal, SignalKind};
    let parent = std::os::unix::process::parent_id();
    // Install handlers before starting, so an early SIGTERM still stops Postgres cleanly.
    let mut term = signal(SignalKind::terminate()).map_err(RunError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(RunError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(RunError::Signals)?;

    let seed = config.seed;
    // Start-up is not cancelled by a signal (that could leave PostgreSQL half started);
    // the signal is remembered and honoured as soon as start-up is over.
    let start = DevServer::start(config);
    tokio::pin!(start);
    let mut stop_early = false;
    let handle = loop {
        tokio::select! {
            h = &mut start => break h.map_err(RunError::Start)?,
            _ = term.recv() => stop_early = true,
            _ = int.recv() => stop_early = true,
        }
    };
    if stop_early {
        tracing::info!("signalled during start-up: stopping");
        return handle.shutdown().await.map_err(RunError::Stop);
    }
    if seed == Seed::Demo {
        for (email, password, _) in schema::DEMO_USERS {
            tracing::info!("demo user {email} / {password}");
        }
    }
    {
        // The contract line; a closed stdout must not bring the server down.
        let mut out = std::io::stdout().lock();
        writeln!(out, "authwire-dev ready {}", handle.url()).ok();
        out.flush().ok();
    }

    let parent_gone = async {
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if std::os::unix::process::parent_id() != parent {
                return;
            }
        }
    };
    let failure = tokio::select! {
        _ = term.recv() => { tracing::info!("SIGTERM: stopping"); None }
        _ = int.recv() => { tracing::info!("SIGINT: stopping"); None }
        _ = hup.recv() => { tracing::info!("SIGHUP: stopping"); None }
        _ = parent_gone => { tracing::warn!("parent process exited: stopping"); None }
        why = handle.failed() => { tracing::error!("{why}: stopping"); Some(why) }
    };
    handle.shutdown().await.map_err(RunError::Stop)?;
    match failure {
        Some(why) => Err(RunError::Failed(why)),
        None => Ok(()),
    }
}

/// Why [`run`] ended with an error.
#[derive(Debug)]
pub enum RunError {
    /// Signal handlers could not be installed.
    Signals(std::io::Error),
    /// Start-up failed (nothing is left running).
    Start(StartError),
    /// The server failed while running.
    Failed(String),
    /// PostgreSQL could not be stopped.
    Stop(pg::ClusterError),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Signals(e) => write!(f, "installing signal handlers: {e}"),
            RunError::Start(e) => write!(f, "{e}"),
            RunError::Failed(why) => write!(f, "{why}"),
            RunError::Stop(e) => write!(f, "stopping: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Logs to stderr; the filter comes from `AUTHWIRE_LOG` (e.g. `debug`,
/// `info,authwire_devserver=trace`), default `info`.
pub fn init_logging() {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let default =
        || Targets::new().with_default(tracing::Level::INFO).with_target("tokio_postgres", tracing::Level::WARN);
    let filter = std::env::var("AUTHWIRE_LOG").ok().and_then(|s| s.parse::<Targets>().ok()).unwrap_or_else(default);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_target(false);
    tracing_subscriber::registry().with(fmt).with(filter).try_init().ok();
}

async fn bind(config: &Config) -> Result<tokio::net::TcpListener, StartError> {
    let ip = match config.host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let host = config.host.trim_start_matches('[').trim_end_matches(']');
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, config.port))
                .await
                .map_err(|e| StartError::Resolve(config.host.clone(), e))?
                .collect();
            // Prefer IPv4 so that the advertised 127.0.0.1 URL works for `localhost`.
            addrs
                .iter()
                .find(|a| a.is_ipv4())
                .or(addrs.first())
                .map(SocketAddr::ip)
                .ok_or_else(|| StartError::Resolve(config.host.clone(), std::io::Error::other("no addresses")))?
        }
    };
    let addr = SocketAddr::new(ip, config.port);
    tokio::net::TcpListener::bind(addr).await.map_err(|e| StartError::Bind(addr, e))
}

fn url_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        // `::` is dual-stack on Linux, so 127.0.0.1 reaches it too.
        IpAddr::V6(v6) if v6.is_unspecified() => Ipv4Addr::LOCALHOST.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

fn warn_exposed(addr: SocketAddr) {
    let banner = format!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! authwire-dev is listening on {addr}, which is NOT a loopback address.\n\
         !! It is a development server: it serves its JWT secret and service-role key\n\
         !! at /_dev/config and trusts every caller. Do not expose it to a network.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    );
    eprintln!("{banner}");
    tracing::warn!(%addr, "bound to a non-loopback address");
}

/// Creates the data dir (0700: it holds secrets) and returns its canonical path.
fn prepare_data_dir(dir: &Path) -> Result<PathBuf, StartError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StartError::DataDir(dir.to_path_buf(), e))?;
    dir.canonicalize().map_err(|e| StartError::DataDir(dir.to_path_buf(), e))
}

fn lock_data_dir(dir: &Path) -> Result<fs::File, StartError> {
    let path = dir.join("authwire-dev.lock");
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StartError::DataDir(path.clone(), e))?;
    match sys::try_lock_exclusive(&file) {
        Ok(true) => {}
        Ok(false) => return Err(StartError::Locked(dir.to_path_buf())),
        Err(e) => return Err(StartError::DataDir(path, e)),
    }
    file.set_len(0).ok();
    writeln!(file, "{}", std::process::id()).ok();
    Ok(file)
}

async fn connect(
    config: &tokio_postgres::Config,
    fatal: watch::Sender<Option<String>>,
) -> Result<tokio_postgres::Client, StartError> {
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .map_err(|e| StartError::Database(schema::describe_pg_error(&e, "")))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            fatal.send_replace(Some(format!("database connection lost: {e}")));
        }
    });
    Ok(client)
}

/// The URL with any password replaced, for logs.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "<database url>".into() };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(url_host("127.0.0.1".parse().unwrap()), "127.0.0.1");
        assert_eq!(url_host("0.0.0.0".parse().unwrap()), "127.0.0.1");
        assert_eq!(url_host("::1".parse().unwrap()), "[::1]");
        assert_eq!(url_host("10.0.0.2".parse().unwrap()), "10.0.0.2");
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("host=/tmp user=x"), "<database url>");
    }
}
