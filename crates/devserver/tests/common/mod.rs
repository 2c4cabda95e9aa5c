//! Shared test helpers: one devserver per test binary (a [`Fixture`]), a minimal HTTP/1.1
//! client over real TCP, and waits with deadlines (on `/_dev/events`, `/_dev/stats` or any
//! condition) instead of fixed sleeps.
//!
//! Independence: every `#[tokio::test]` takes a [`Lease`] on its binary's server. Tests that
//! only touch their own users, topics and tables take a shared lease and run side by side;
//! tests that change server-wide state (faults, the change-feed pause, tenant-wide limits,
//! latency measured on an idle server) take an exclusive lease, which waits until no other
//! test holds one and clears the faults when it ends. A test never relies on what another
//! test did: data it needs is made by the test itself or by the fixture's setup SQL.

#![allow(dead_code, unreachable_pub)]

use authwire_devserver::{Config, DevServer};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Where a shared server listens, and how to reach its database.
#[derive(Debug, Clone)]
pub struct Server {
    addr: std::net::SocketAddr,
    url: String,
    database: tokio_postgres::Config,
}

impl Server {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The database as its superuser (the managed cluster's socket).
    pub fn database(&self) -> tokio_postgres::Config {
        self.database.clone()
    }
}

/// A running server plus its keys, shared by the tests of one binary.
pub struct Ctx {
    pub server: Server,
    pub anon: String,
    pub service: String,
    pub publishable: String,
    pub secret: String,
    pub jwt_secret: String,
    /// A superuser connection (driven by the fixture's own runtime, usable from any test).
    pub db: tokio_postgres::Client,
}

/// One devserver for the tests of a binary: started on first use, on its own runtime and
/// thread (each `#[tokio::test]` has its own runtime), stopped when the process exits.
pub struct Fixture {
    prefix: &'static str,
    configure: fn(&mut Config),
    /// SQL run once after start (users, policies, tables the tests share read-only).
    setup: Option<fn() -> String>,
    ctx: OnceLock<Ctx>,
    lock: RwLock<()>,
}

/// A test's hold on the shared server.
pub struct Lease {
    ctx: &'static Ctx,
    exclusive: bool,
    _read: Option<RwLockReadGuard<'static, ()>>,
    _write: Option<RwLockWriteGuard<'static, ()>>,
}

impl std::ops::Deref for Lease {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        self.ctx
    }
}

impl Lease {
    /// The context itself, for tasks that outlive a borrow of the lease.
    pub fn ctx(&self) -> &'static Ctx {
        self.ctx
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // An exclusive test that failed half-way must not leave its faults to the next one.
        if self.exclusive {
            clear_faults_blocking(self.ctx);
        }
    }
}

/// `DELETE /_dev/faults` over a blocking socket (used from `Drop`, where nothing can await).
fn clear_faults_blocking(ctx: &Ctx) {
    use std::io::{Read as _, Write as _};
    let Ok(mut s) = std::net::TcpStream::connect(ctx.server.addr) else { return };
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let req = format!(
        "DELETE /_dev/faults HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\napikey: {}\r\nContent-Length: 0\r\n\r\n",
        ctx.service
    );
    if s.write_all(req.as_bytes()).is_ok() {
        let mut sink = Vec::new();
        s.read_to_end(&mut sink).ok();
    }
}

/// Servers to stop at exit: their stop signal and the thread that serves them.
type Running = Vec<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>;
static RUNNING: Mutex<Running> = Mutex::new(Vec::new());

/// Makes the process stop its servers when it exits. Rust runs no destructors for statics
/// and libtest has no "after all tests" hook; the C runtime's `atexit` list does run when
/// `main` returns (or `exit` is called).
#[allow(unsafe_code)]
fn stop_at_exit() {
    // SAFETY: registers a plain `extern "C"` function that takes nothing and cannot unwind
    // (it ignores every error); the C runtime calls it once, at exit.
    unsafe { libc::atexit(stop_all) };
}

/// Stops every server of this process and waits for them (PostgreSQL included).
extern "C" fn stop_all() {
    let running = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for (stop, _) in &running {
        stop.send(()).ok();
    }
    for (_, thread) in running {
        thread.join().ok();
    }
}

impl Fixture {
    pub const fn new(prefix: &'static str, configure: fn(&mut Config), setup: Option<fn() -> String>) -> Self {
        Fixture { prefix, configure, setup, ctx: OnceLock::new(), lock: RwLock::const_new(()) }
    }

    /// A lease for a test that touches only its own users, topics and tables.
    pub async fn shared(&'static self) -> Lease {
        let ctx = self.ctx();
        Lease { ctx, exclusive: false, _read: Some(self.lock.read().await), _write: None }
    }

    /// A lease for a test that changes server-wide state: no other test runs meanwhile, and
    /// the faults are cleared before and after.
    pub async fn exclusive(&'static self) -> Lease {
        let ctx = self.ctx();
        let guard = self.lock.write().await;
        let r = ctx.service("DELETE", "/_dev/faults").send().await;
        assert_eq!(r.status, 200, "clearing faults: {}", r.text);
        // A quiet server: the sockets of the tests that just ended are gone (a fault that
        // counts the sockets it reaches counts only this test's).
        wait_for("the sockets of earlier tests to close", Duration::from_secs(10), || async {
            (ctx.realtime_stats().await["connections"] == 0).then_some(())
        })
        .await;
        Lease { ctx, exclusive: true, _read: None, _write: Some(guard) }
    }

    fn ctx(&'static self) -> &'static Ctx {
        self.ctx.get_or_init(|| self.start())
    }

    /// Starts the server on a thread of its own that keeps it (and the runtime its tasks run
    /// on) alive until the process exits.
    fn start(&'static self) -> Ctx {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{}-server", self.prefix))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                rt.block_on(self.serve(ready_tx, stop_rx));
            })
            .unwrap();
        let Ok(ctx) = ready_rx.recv() else { panic!("the {} server did not start (see its panic above)", self.prefix) };
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if running.is_empty() {
            stop_at_exit();
        }
        running.push((stop_tx, thread));
        ctx
    }

    async fn serve(&'static self, ready: std::sync::mpsc::Sender<Ctx>, stop: std::sync::mpsc::Receiver<()>) {
        let tmp = tempfile::Builder::new().prefix(self.prefix).tempdir().unwrap();
        let mut config = Config::for_tests(tmp.path().join("data"));
        (self.configure)(&mut config);
        let started = Instant::now();
        let server = DevServer::start(config).await.expect("server starts");
        let (db, conn) = server.database().connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        if let Some(sql) = self.setup {
            db.batch_execute(&sql()).await.unwrap_or_else(|e| panic!("{} setup SQL: {e:?}", self.prefix));
        }
        let k = server.keys().clone();
        eprintln!("{}: server up in {} ms", self.prefix, started.elapsed().as_millis());
        let ctx = Ctx {
            server: Server { addr: server.addr(), url: server.url().to_owned(), database: server.database() },
            anon: k.anon_key.clone(),
            service: k.service_role_key.clone(),
            publishable: k.publishable_key.clone(),
            secret: k.secret_key.clone(),
            jwt_secret: k.jwt_secret.clone(),
            db,
        };
        ready.send(ctx).ok();
        // Until the process exits (`stop_all`) or every sender is gone.
        tokio::task::spawn_blocking(move || stop.recv().ok()).await.ok();
        let pgdata = server.cluster().map(|c| c.pgdata.clone());
        server.shutdown().await.ok();
        if let Some(base) = pgdata.as_deref().and_then(std::path::Path::parent) {
            if base.starts_with("/var/lib/authwire-dev") {
                std::fs::remove_dir_all(base).ok();
            }
        }
        drop(tmp);
    }
}

/// An HTTP response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
    /// The error code of a new-shape (`code`) or legacy-shape (`error_code`) body.
    pub fn code(&self) -> String {
        let j = self.json();
        match (&j["code"], &j["error_code"]) {
            (Value::String(s), _) => s.clone(),
            (_, Value::String(s)) => s.clone(),
            _ => j["error"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// A request under construction.
pub struct Req {
    addr: std::net::SocketAddr,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

impl Req {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
    /// `apikey` and `Authorization: Bearer` with the same key, as supabase-js sends them.
    pub fn key(self, key: &str) -> Self {
        self.header("apikey", key).header("Authorization", &format!("Bearer {key}"))
    }
    /// The new error shape.
    pub fn v2024(self) -> Self {
        self.header("X-Supabase-Api-Version", "2024-01-01")
    }
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }
    pub fn json(mut self, v: Value) -> Self {
        self.body = Some(v.to_string());
        self.headers.push(("Content-Type".into(), "application/json".into()));
        self
    }
    pub fn raw_body(mut self, b: &str) -> Self {
        self.body = Some(b.to_owned());
        self
    }
    pub async fn send(self) -> Resp {
        let mut s = tokio::net::TcpStream::connect(self.addr).await.expect("connect");
        let body = self.body.unwrap_or_default();
        let mut head = format!(
            "{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.method,
            self.path,
            body.len()
        );
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut raw))
            .await
            .expect("response in time")
            .unwrap();
        parse_response(&raw)
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = HashMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().to_owned();
            headers
                .entry(k)
                .and_modify(|e: &mut String| {
                    e.push_str(", ");
                    e.push_str(&v);
                })
                .or_insert(v);
        }
    }
    if headers.get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap();
            rest = &rest[nl + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    Resp { status, headers, text: String::from_utf8_lossy(&body).into_owned() }
}

impl Ctx {
    pub fn req(&self, method: &str, path: &str) -> Req {
        Req { addr: self.server.addr(), method: method.into(), path: path.into(), headers: Vec::new(), body: None }
    }
    /// A key-level request with the anon key.
    pub fn anon(&self, method: &str, path: &str) -> Req {
        self.req(method, path).key(&self.anon)
    }
    /// A request with the service-role key.
    pub fn service(&self, method: &str, path: &str) -> Req {
        self.req(method, path).key(&self.service)
    }
    /// A user-level request: anon `apikey`, the user's token as Bearer.
    pub fn user(&self, method: &str, path: &str, at: &str) -> Req {
        self.req(method, path).header("apikey", &self.anon).bearer(at)
    }

    /// Signs up a fresh email user; returns the token response.
    pub async fn signup(&self, email: &str, password: &str) -> Value {
        let r = self
            .anon("POST", "/auth/v1/signup")
            .json(serde_json::json!({ "email": email, "password": password }))
            .send()
            .await;
        assert_eq!(r.status, 200, "signup {email}: {}", r.text);
        r.json()
    }

    /// Password grant; returns the response.
    pub async fn password(&self, email: &str, password: &str) -> Resp {
        self.anon("POST", "/auth/v1/token?grant_type=password")
            .json(serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
    }

    /// Refresh grant; returns the response.
    pub async fn refresh(&self, token: &str) -> Resp {
        self.anon("POST", "/auth/v1/token?grant_type=refresh_token")
            .v2024()
            .json(serde_json::json!({ "refresh_token": token }))
            .send()
            .await
    }

    /// `GET /_dev/events?<query>`: the answer (`next`, `dropped`, `events`).
    pub async fn events(&self, query: &str) -> Value {
        let r = self.service("GET", &format!("/_dev/events?{query}")).send().await;
        assert_eq!(r.status, 200, "/_dev/events?{query}: {}", r.text);
        r.json()
    }

    /// Waits until `/_dev/events?<query>` holds an event matching `pred`; returns it.
    pub async fn wait_event(&self, what: &str, query: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let pred = &pred;
        wait_for(what, Duration::from_secs(10), || async move {
            self.events(query).await["events"].as_array().and_then(|es| es.iter().find(|e| pred(e)).cloned())
        })
        .await
    }

    /// The `realtime` section of `/_dev/stats`.
    pub async fn realtime_stats(&self) -> Value {
        let r = self.service("GET", "/_dev/stats").send().await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["realtime"].clone()
    }
}

/// Polls `check` until it yields a value or `timeout` passes (then fails naming `what`).
/// The pause between polls only spaces them out; what is waited for is the condition.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A unique email for a test.
pub fn email(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{tag}-{n}@example.com")
}

/// Decodes a JWT's claims without verifying it.
pub fn claims(token: &str) -> Value {
    let (_, c) = authwire_devserver::jwt::decode_unverified(token).expect("a JWT");
    Value::Object(c.0)
}
