//! The connection handler fed arbitrary frames (feature `fuzzing`, for the
//! `devserver_frames` cargo-fuzz target): one real server — its PostgreSQL, schema, keys,
//! hub and change feed — started once per process, and per input one socket session whose
//! peer is in memory: the frames go through the same `socket::run` as a browser's, with
//! every join check, policy query, replay, broadcast, presence and token push behind it.
//! Peer input must never panic the server (design.md).
//!
//! An input is a byte string: byte 0 chooses the serializer (bit 0: V2, else V1) and the
//! connect key (bit 1: the service-role JWT, else the anon JWT); then records of
//! `kind: u8, len: u16 LE, bytes`, a text frame when `kind` is even, else a binary one. In
//! text frames `$ANON` and `$SERVICE` are replaced by this server's keys, so seeds can carry
//! tokens it accepts.

use crate::realtime::FuzzSession;
use crate::{Config, DevServer, Handle};
use std::path::PathBuf;

/// A server for fuzzing, and the runtime it runs on.
pub struct Harness {
    handle: Option<Handle>,
    rt: tokio::runtime::Runtime,
    _dir: PathBuf,
}

impl Harness {
    /// Starts a server (its own PostgreSQL under a fresh directory in the temp dir), with the
    /// demo seed, no rate limits and no join-error delay, so each input runs at full speed.
    pub fn start() -> Harness {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let dir = std::env::temp_dir().join(format!("authwire-fuzz-{}", std::process::id()));
        let config = Config { limits: false, ..Config::for_tests(dir.join("data")) };
        let handle = rt.block_on(DevServer::start(config)).expect("the fuzzing devserver starts");
        Harness { handle: Some(handle), rt, _dir: dir }
    }

    /// Feeds one input's frames to a new socket session and runs it until the peer is done.
    /// Returns how many frames the session sent back.
    pub fn feed(&self, data: &[u8]) -> u64 {
        let Some((&mode, mut rest)) = data.split_first() else { return 0 };
        let Some(handle) = self.handle.as_ref() else { return 0 };
        let keys = handle.keys();
        let mut frames = Vec::new();
        while rest.len() >= 3 {
            let (kind, len) = (rest[0], usize::from(u16::from_le_bytes([rest[1], rest[2]])));
            let body = &rest[3..(3 + len).min(rest.len())];
            rest = &rest[(3 + len).min(rest.len())..];
            if kind % 2 == 0 {
                let text = String::from_utf8_lossy(body)
                    .replace("$ANON", &keys.anon_key)
                    .replace("$SERVICE", &keys.service_role_key);
                frames.push(Ok(text));
            } else {
                frames.push(Err(body.to_vec()));
            }
        }
        let key = if mode & 2 != 0 { &keys.service_role_key } else { &keys.anon_key };
        let session = FuzzSession { v2: mode & 1 != 0, key: key.clone(), frames };
        self.rt.block_on(handle.fuzz_session(session))
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown()).ok();
        }
    }
}
