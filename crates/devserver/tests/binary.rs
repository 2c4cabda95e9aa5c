//! The `authwire-dev` binary as scripts use it: start, ready line, `/_dev/config`, guards,
//! SIGTERM, restarts, migrations, and the failure modes of the command line.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use authwire_devserver::jwt::decode_unverified;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_authwire-dev");
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// A 0700 directory, like the temp dirs tests are run in (PostgreSQL cannot reach into it).
fn private_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("authwire-dev-test").tempdir().unwrap()
}

struct Server {
    child: Child,
    url: String,
    port: u16,
    stderr_path: PathBuf,
}

fn start(data_dir: &Path, extra: &[&str]) -> Server {
    try_start(Command::new(BIN), data_dir, extra).unwrap_or_else(|log| panic!("server did not become ready:\n{log}"))
}

/// Starts the server and waits for the ready line; on failure returns its stderr.
fn try_start(mut cmd: Command, data_dir: &Path, extra: &[&str]) -> Result<Server, String> {
    let stderr_path = data_dir.with_extension(format!("stderr.{}", rand_suffix()));
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = cmd
        .args(["--port", "0", "--join-error-delay-ms", "0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The ready line, or the end of stdout (the server exited), or the deadline.
    match rx.recv_timeout(READY_TIMEOUT) {
        Ok(line) => {
            let url = line.strip_prefix("authwire-dev ready ").unwrap_or_else(|| panic!("unexpected stdout: {line}"));
            let port = url.rsplit(':').next().unwrap().parse().unwrap();
            assert_eq!(url, format!("http://127.0.0.1:{port}"));
            Ok(Server { child, url: url.to_string(), port, stderr_path })
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if !wait_pid(child.id(), Duration::from_secs(10)) {
                child.kill().ok();
            }
            child.wait().ok();
            Err(std::fs::read_to_string(&stderr_path).unwrap_or_default())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            child.kill().ok();
            child.wait().ok();
            Err(std::fs::read_to_string(&stderr_path).unwrap_or_default())
        }
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

/// Waits until process `pid` has exited — any process, not only a child of ours — for at
/// most `limit`; false when it is still running. A Linux pidfd becomes readable when its
/// process ends, so this waits for the exit itself rather than polling for it.
#[allow(unsafe_code)]
fn wait_pid(pid: u32, limit: Duration) -> bool {
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    let Ok(raw_pid) = libc::pid_t::try_from(pid) else { return false };
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw_pid, 0) };
    if fd < 0 {
        // No such process: it has exited (and been reaped) already.
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    // SAFETY: `fd` is the new descriptor pidfd_open returned; OwnedFd closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as std::os::fd::RawFd) };
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        let rc = unsafe { libc::poll(&mut p, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        if rc < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        return rc > 0;
    }
}

fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    if !wait_pid(child.id(), limit) {
        child.kill().ok();
        panic!("process did not exit within {limit:?}");
    }
    child.wait().unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill").arg(format!("-{sig}")).arg(child.id().to_string()).status().unwrap().success();
    assert!(ok, "kill -{sig} failed");
}

impl Server {
    fn stop(mut self) -> ExitStatus {
        signal(&self.child, "TERM");
        wait_exit(&mut self.child, Duration::from_secs(30))
    }
    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

/// A minimal HTTP/1.1 request over a fresh connection (`Connection: close`).
fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Reply { status, head: head.to_string(), body: body.to_string() }
}

fn get(port: u16, path: &str) -> Reply {
    request(port, "GET", path, &[])
}

fn cluster_dir(data_dir: &Path) -> PathBuf {
    let rec: Value = serde_json::from_slice(&std::fs::read(data_dir.join("cluster.json")).unwrap()).unwrap();
    PathBuf::from(rec["pgdata"].as_str().unwrap())
}

/// The postmaster's pid, from its pid file (first line), while the file exists.
fn pid_file_pid(pgdata: &Path) -> Option<u32> {
    std::fs::read_to_string(pgdata.join("postmaster.pid")).ok()?.lines().next()?.trim().parse().ok()
}

/// No process mentions the cluster dir any more, and PostgreSQL removed its pid file.
/// Waits for the exit of each process still running (see [`wait_pid`]), up to 15 s.
fn assert_cluster_stopped(pgdata: &Path) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = Command::new("pgrep").arg("-f").arg(pgdata).output().unwrap();
        let running = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let mut pids: Vec<u32> = running.lines().filter_map(|l| l.trim().parse().ok()).collect();
        pids.extend(pid_file_pid(pgdata));
        if pids.is_empty() {
            assert!(!pgdata.join("postmaster.pid").exists(), "postgres left its pid file in {}", pgdata.display());
            return;
        }
        for pid in pids {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(wait_pid(pid, left), "postgres still running for {}: {running}", pgdata.display());
        }
    }
}

/// Removes a root-layout cluster once its test is done (the next root start would do it too).
fn remove_cluster(pgdata: &Path) {
    if let Some(base) = pgdata.parent().filter(|b| b.starts_with("/var/lib/authwire-dev")) {
        std::fs::remove_dir_all(base).ok();
    }
}

#[test]
fn starts_serves_refuses_stops_and_restarts_with_the_same_keys() {
    let tmp = private_dir();
    let data = tmp.path().join("data");
    let t0 = Instant::now();
    let server = start(&data, &[]);
    eprintln!("cold start to ready line: {:?}", t0.elapsed());

    let config = get(server.port, "/_dev/config");
    assert_eq!(config.status, 200, "{}", config.body);
    let config = config.json();
    assert_eq!(config["url"], server.url.as_str());
    for key in ["url", "anonKey", "publishableKey", "serviceRoleKey", "secretKey", "jwtSecret", "jwks"] {
        assert!(!config[key].is_null(), "{key} missing");
    }
    let (header, claims) = decode_unverified(config["anonKey"].as_str().unwrap()).unwrap();
    assert_eq!((header.alg.as_str(), claims.role()), ("HS256", Some("anon")));
    let (_, claims) = decode_unverified(config["serviceRoleKey"].as_str().unwrap()).unwrap();
    assert_eq!(claims.role(), Some("service_role"));
    assert!(config["publishableKey"].as_str().unwrap().starts_with("sb_publishable_"));
    assert!(config["secretKey"].as_str().unwrap().starts_with("sb_secret_"));
    assert!(config["jwtSecret"].as_str().unwrap().len() >= 40);
    assert_eq!(config["jwks"]["keys"][0]["kty"], "EC");
    assert!(!server.stderr().contains(config["jwtSecret"].as_str().unwrap()), "secret logged");

    // Host guard (DNS rebinding) and origin checks.
    let bad = request(server.port, "GET", "/auth/v1/health", &[("Host", "evil.example:54321")]);
    assert_eq!(bad.status, 403);
    assert_eq!(bad.json()["code"], "host_not_allowed");
    assert_eq!(request(server.port, "GET", "/auth/v1/health", &[("Host", "localhost")]).status, 200);
    assert_eq!(request(server.port, "GET", "/_dev/config", &[("Origin", "https://evil.example")]).status, 403);
    let ok = request(server.port, "GET", "/_dev/config", &[("Origin", "http://localhost:5173")]);
    assert_eq!(ok.header("access-control-allow-origin").as_deref(), Some("http://localhost:5173"));
    let pre = request(
        server.port,
        "OPTIONS",
        "/auth/v1/token",
        &[
            ("Origin", "http://127.0.0.1:8080"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "apikey, authorization, x-client-info"),
        ],
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-headers").as_deref(), Some("apikey, authorization, x-client-info"));

    // /_dev routes other than config need the service role.
    assert_eq!(get(server.port, "/_dev/stats").status, 401);
    let anon = config["anonKey"].as_str().unwrap();
    assert_eq!(request(server.port, "GET", "/_dev/stats", &[("apikey", anon)]).status, 403);
    let secret = config["secretKey"].as_str().unwrap();
    let stats = request(server.port, "GET", "/_dev/stats", &[("apikey", secret)]);
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.json()["db"]["users"], 0);
    let bearer = format!("Bearer {}", config["serviceRoleKey"].as_str().unwrap());
    assert_eq!(request(server.port, "GET", "/_dev/stats", &[("Authorization", &bearer)]).status, 200);

    let health = get(server.port, "/auth/v1/health").json();
    assert_eq!(health["name"], "GoTrue");
    let jwks = get(server.port, "/auth/v1/.well-known/jwks.json");
    assert_eq!(jwks.header("cache-control").as_deref(), Some("public, max-age=600"));
    assert_eq!(jwks.json(), config["jwks"]);
    assert_eq!(get(server.port, "/nope").status, 404);

    let pgdata = cluster_dir(&data);
    let status = server.stop();
    assert!(status.success(), "exit status {status}");
    assert_cluster_stopped(&pgdata);

    // Second start on the same data dir: same keys, warm.
    let t1 = Instant::now();
    let again = start(&data, &[]);
    eprintln!("warm start to ready line: {:?}", t1.elapsed());
    let mut config2 = get(again.port, "/_dev/config").json();
    config2["url"] = config["url"].clone();
    assert_eq!(config2, config);
    assert!(again.stop().success());
    assert_cluster_stopped(&pgdata);
    remove_cluster(&pgdata);
}

#[test]
fn sql_files_apply_once_and_a_changed_file_is_refused() {
    let tmp = private_dir();
    let data = tmp.path().join("data");
    let sql = tmp.path().join("001_notes.sql");
    std::fs::write(
        &sql,
        "create table public.notes (
           id bigint generated always as identity primary key,
           user_id uuid not null references auth.users (id) on delete cascade default auth.uid(),
           body text not null,
           created_at timestamptz default now());
         alter table public.notes enable row level security;
         create policy own_notes on public.notes for all to authenticated
           using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
         create policy read_private on realtime.messages for select to authenticated
           using (realtime.topic() = 'room:' || (select auth.uid())::text);
         alter publication supabase_realtime add table public.notes;
         select extensions.uuid_generate_v4(), uuid_generate_v4(), gen_random_uuid(), crypt('x', gen_salt('bf'));",
    )
    .unwrap();
    let sql_arg = sql.to_str().unwrap();
    let server = start(&data, &["--sql", sql_arg, "--seed", "demo"]);
    let secret = get(server.port, "/_dev/config").json()["secretKey"].as_str().unwrap().to_string();
    let stats = request(server.port, "GET", "/_dev/stats", &[("apikey", &secret)]).json();
    assert_eq!(stats["db"]["users"], 2, "demo seed");
    let pgdata = cluster_dir(&data);
    assert!(server.stop().success());

    // Unchanged: applied already, starts fine.
    let server = start(&data, &["--sql", sql_arg, "--seed", "demo"]);
    assert!(server.stop().success());

    // Changed: a clear error, non-zero exit, nothing left running.
    std::fs::write(&sql, "select 1;").unwrap();
    let err = try_start(Command::new(BIN), &data, &["--sql", sql_arg]).err().expect("a changed migration must fail");
    assert!(err.contains("001_notes.sql") && err.contains("already applied"), "{err}");
    assert_cluster_stopped(&pgdata);

    // A failing file names itself and the line.
    let bad = tmp.path().join("002_bad.sql");
    std::fs::write(&bad, "select 1;\n\nselect * from no_such_table;").unwrap();
    let data2 = tmp.path().join("data2");
    let err = try_start(Command::new(BIN), &data2, &["--sql", bad.to_str().unwrap()]).err().expect("bad SQL must fail");
    assert!(err.contains("002_bad.sql") && err.contains("no_such_table") && err.contains("line 3"), "{err}");
    assert_cluster_stopped(&cluster_dir(&data2));
    remove_cluster(&cluster_dir(&data2));
    remove_cluster(&pgdata);
}

#[test]
fn a_killed_server_takes_postgres_with_it_and_the_next_start_works() {
    let tmp = private_dir();
    let data = tmp.path().join("data");
    let mut server = start(&data, &[]);
    let pgdata = cluster_dir(&data);
    signal(&server.child, "KILL");
    wait_exit(&mut server.child, Duration::from_secs(10));
    // PR_SET_PDEATHSIG asks the postmaster for a fast shutdown.
    assert_cluster_stopped(&pgdata);
    let server = start(&data, &[]);
    assert_eq!(get(server.port, "/auth/v1/health").status, 200);
    assert!(server.stop().success());
    assert_cluster_stopped(&pgdata);
    remove_cluster(&pgdata);
}

#[test]
fn a_busy_port_fails_fast_with_the_address_and_starts_nothing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let tmp = private_dir();
    let data = tmp.path().join("data");
    let out = Command::new(BIN)
        .args(["--port", &port.to_string(), "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")) && stderr.contains("in use"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(!data.exists(), "nothing is prepared before the port is bound");
}

#[test]
fn usage_errors_exit_2() {
    for args in [&["--bogus"][..], &["--mode", "proxy"], &["--limits", "maybe"]] {
        let out = Command::new(BIN).args(args).stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("error:") && stderr.contains(args[0]), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--port",
        "--host",
        "--database-url",
        "--data-dir",
        "--mode",
        "--jwt-alg",
        "--token-ttl",
        "--join-error-delay-ms",
        "--seed",
        "--sql",
        "--strict-sessions",
        "--limits",
        "--refresh-reuse-interval",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn a_second_server_on_the_same_data_dir_is_refused() {
    let tmp = private_dir();
    let data = tmp.path().join("data");
    let first = start(&data, &[]);
    let err = try_start(Command::new(BIN), &data, &[]).err().expect("second server must fail");
    assert!(err.contains("in use by another authwire-dev"), "{err}");
    assert_eq!(get(first.port, "/auth/v1/health").status, 200, "the first one is unharmed");
    let pgdata = cluster_dir(&data);
    assert!(first.stop().success());
    assert_cluster_stopped(&pgdata);
    remove_cluster(&pgdata);
}

/// The non-root layout (`<data-dir>/pgdata`), exercised by running as the `postgres` user.
/// Skipped unless we are root and that user can execute the binary.
#[test]
fn runs_as_a_normal_user_with_the_cluster_in_the_data_dir() {
    let Some((uid, gid)) = postgres_user() else {
        eprintln!("skipped: not root, or no `postgres` user");
        return;
    };
    let can_run = Command::new(BIN).arg("--version").uid(uid).gid(gid).output().is_ok_and(|o| o.status.success());
    if !can_run {
        eprintln!("skipped: the `postgres` user cannot execute {BIN}");
        return;
    }
    let tmp = private_dir();
    std::os::unix::fs::chown(tmp.path(), Some(uid), Some(gid)).unwrap();
    let data = tmp.path().join("data");
    let mut cmd = Command::new(BIN);
    cmd.uid(uid).gid(gid).env("USER", "postgres");
    let server = try_start(cmd, &data, &[]).unwrap_or_else(|log| panic!("{log}"));
    let pgdata = cluster_dir(&data);
    assert_eq!(pgdata, data.canonicalize().unwrap().join("pgdata"));
    assert_eq!(get(server.port, "/auth/v1/health").status, 200);
    assert!(server.stop().success());
    assert_cluster_stopped(&pgdata);
    remove_cluster(&pgdata);
}

fn postgres_user() -> Option<(u32, u32)> {
    let me = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&me.stdout).trim() != "0" {
        return None;
    }
    let out = Command::new("getent").args(["passwd", "postgres"]).output().ok()?;
    let line = String::from_utf8(out.stdout).ok()?;
    let f: Vec<&str> = line.trim().split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// When the process that started the devserver dies (a crashed test runner, a closed
/// terminal multiplexer), the devserver notices and stops its PostgreSQL.
#[test]
fn the_server_stops_when_its_parent_dies() {
    let tmp = private_dir();
    let data = tmp.path().join("data");
    // The devserver writes to our pipe (sh hands it down); the script reports its pid.
    let script = format!("{BIN} --port 0 --data-dir '{}' 2>&1 & echo \"devserver pid $!\"; wait", data.display());
    let mut parent =
        Command::new("sh").arg("-c").arg(&script).stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = parent.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = String::new();
    let mut devserver = None;
    let deadline = Instant::now() + READY_TIMEOUT;
    while !out.contains("authwire-dev ready") {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines.recv_timeout(left).unwrap_or_else(|e| panic!("not ready ({e}): {out}"));
        if let Some(pid) = line.strip_prefix("devserver pid ") {
            devserver = pid.trim().parse::<u32>().ok();
        }
        out.push_str(&line);
        out.push('\n');
    }
    let devserver = devserver.expect("the script printed the devserver's pid");
    let pgdata = cluster_dir(&data);
    signal(&parent, "KILL");
    parent.wait().unwrap();
    // The orphaned devserver polls its parent id; then it stops PostgreSQL and exits.
    assert!(wait_pid(devserver, Duration::from_secs(20)), "devserver still running after its parent died");
    assert_cluster_stopped(&pgdata);
    remove_cluster(&pgdata);
    // Everything it wrote, up to the end of the pipe (it has exited, so the end comes).
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(10)) {
        out.push_str(&line);
        out.push('\n');
    }
    assert!(out.contains("parent process exited"), "{out}");
}
