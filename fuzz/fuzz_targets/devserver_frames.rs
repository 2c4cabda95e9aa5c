//! The devserver's connection handler fed arbitrary frames: one real server (PostgreSQL,
//! schema, hub, change feed) per process, one in-memory socket session per input, through the
//! same `socket::run` a browser's socket takes (see `authwire_devserver::fuzzing` for the input
//! format). Peer input must never panic the server.
#![no_main]
use authwire_devserver::fuzzing::Harness;
use libfuzzer_sys::fuzz_target;
use std::cell::OnceCell;

thread_local! {
    // Leaked on purpose: the thread-local's destructor runs after tokio's own thread-locals
    // are gone, so dropping the server there would panic; `stop_postgres` stops its cluster.
    static HARNESS: OnceCell<&'static Harness> = const { OnceCell::new() };
}

extern "C" fn stop_postgres() {
    // libFuzzer leaves by `exit`, which drops no static: stop the cluster this process started.
    let dir = std::env::temp_dir().join(format!("authwire-fuzz-{}", std::process::id()));
    let _ = std::process::Command::new("pkill").arg("-TERM").arg("-f").arg(dir.as_os_str()).status();
}

fuzz_target!(|data: &[u8]| {
    HARNESS.with(|h| {
        let h = h.get_or_init(|| {
            unsafe { libc::atexit(stop_postgres) };
            Box::leak(Box::new(Harness::start()))
        });
        h.feed(data);
    });
});
