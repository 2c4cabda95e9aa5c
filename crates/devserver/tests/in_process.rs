//! Starting the server inside the test process, through the library API.

use authwire_devserver::{Config, DevServer};
use std::io::{Read as _, Write as _};
use std::time::Duration;

fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_query_and_shut_down_in_process() {
    let tmp = tempfile::Builder::new().prefix("authwire-dev-inproc").tempdir().unwrap();
    let server = DevServer::start(Config::for_tests(tmp.path().join("data"))).await.unwrap();
    assert_eq!(server.url(), format!("http://127.0.0.1:{}", server.addr().port()));
    assert!(server.keys().publishable_key.starts_with("sb_publishable_"));
    let pgdata = server.cluster().expect("a managed cluster").pgdata.clone();

    let addr = server.addr();
    let reply = tokio::task::spawn_blocking(move || get(addr, "/auth/v1/health")).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"GoTrue\""), "{reply}");

    // A second in-process server on the same data dir is refused by the lock.
    let err = DevServer::start(Config::for_tests(tmp.path().join("data"))).await.unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");

    server.shutdown().await.unwrap();
    assert!(!pgdata.join("postmaster.pid").exists());
    let out = std::process::Command::new("pgrep").arg("-f").arg(&pgdata).output().unwrap();
    assert!(out.stdout.is_empty(), "postgres still running: {}", String::from_utf8_lossy(&out.stdout));
}
