//! Shared test helpers: one devserver per test file, a minimal HTTP/1.1 client over real TCP,
//! and a scenario runner that reports every failing scenario before stopping the server.

#![allow(dead_code, unreachable_pub)]

use authwire_devserver::{Config, DevServer, Handle};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A running server plus its keys, shared by the scenarios of one file.
pub struct Ctx {
    pub server: Handle,
    pub anon: String,
    pub service: String,
    pub publishable: String,
    pub secret: String,
    pub jwt_secret: String,
    pub db: tokio_postgres::Client,
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
}

/// A unique email for a scenario.
pub fn email(tag: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{tag}-{n}@example.com")
}

/// Decodes a JWT's claims without verifying it.
pub fn claims(token: &str) -> Value {
    let (_, c) = authwire_devserver::jwt::decode_unverified(token).expect("a JWT");
    Value::Object(c.0)
}

type Scenario = (&'static str, fn(Arc<Ctx>) -> Pin<Box<dyn Future<Output = ()> + Send>>);

/// Wraps an `async fn(Arc<Ctx>)` as a scenario.
#[macro_export]
macro_rules! scenario {
    ($f:ident) => {
        (
            stringify!($f),
            (|c| Box::pin($f(c)))
                as fn(std::sync::Arc<common::Ctx>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
        )
    };
}

/// Starts a server with `configure` applied to the test config, runs every scenario in order
/// (each in its own task, so a panic fails only that scenario), stops the server and fails
/// listing the scenarios that failed.
pub async fn run(prefix: &str, configure: impl FnOnce(&mut Config), scenarios: Vec<Scenario>) {
    let tmp = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    let mut config = Config::for_tests(tmp.path().join("data"));
    configure(&mut config);
    let started = Instant::now();
    let server = DevServer::start(config).await.expect("server starts");
    let (db, conn) = server.database().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let k = server.keys().clone();
    eprintln!("server up in {} ms", started.elapsed().as_millis());
    let ctx = Arc::new(Ctx {
        anon: k.anon_key.clone(),
        service: k.service_role_key.clone(),
        publishable: k.publishable_key.clone(),
        secret: k.secret_key.clone(),
        jwt_secret: k.jwt_secret.clone(),
        server,
        db,
    });
    let mut failed = Vec::new();
    for (name, f) in scenarios {
        let t = Instant::now();
        let res = tokio::spawn(f(ctx.clone())).await;
        match res {
            Ok(()) => eprintln!("scenario {name}: ok ({} ms)", t.elapsed().as_millis()),
            Err(e) => {
                eprintln!("scenario {name}: FAILED: {e}");
                failed.push(name);
            }
        }
    }
    let ctx = Arc::try_unwrap(ctx).ok().expect("scenarios released the context");
    drop(ctx.db);
    let pgdata = ctx.server.cluster().map(|c| c.pgdata.clone());
    ctx.server.shutdown().await.unwrap();
    if let Some(base) = pgdata.as_deref().and_then(std::path::Path::parent) {
        if base.starts_with("/var/lib/authwire-dev") {
            std::fs::remove_dir_all(base).ok();
        }
    }
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}
