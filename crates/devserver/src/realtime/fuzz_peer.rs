//! The in-memory peer of the fuzzing sessions (feature `fuzzing`; see `crate::fuzzing`): a
//! socket session exactly as an accepted handshake starts one, whose frames come from memory.

use super::socket::{BoxFut, Transport};
use crate::http::Shared;
use authwire_wire::frame::Vsn;
use axum::extract::ws::Message;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One fuzzing input for [`fuzz_connection`]: the serializer, the connect key, and the
/// frames (text `Ok`, binary `Err`).
pub(crate) struct FuzzSession {
    pub(crate) v2: bool,
    pub(crate) key: String,
    pub(crate) frames: Vec<Result<String, Vec<u8>>>,
}

/// The peer of a fuzzing session: hands over its frames, then is gone; counts what it got.
struct MemPeer {
    inbox: VecDeque<Message>,
    sent: Arc<AtomicU64>,
}

impl Transport for MemPeer {
    fn recv(&mut self) -> BoxFut<'_, Option<Result<Message, axum::Error>>> {
        let m = self.inbox.pop_front().map(Ok);
        Box::pin(async move { m })
    }
    fn send(&mut self, _m: Message) -> BoxFut<'_, Result<(), axum::Error>> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
    fn feed(&mut self, m: Message) -> BoxFut<'_, Result<(), axum::Error>> {
        self.send(m)
    }
    fn flush(&mut self) -> BoxFut<'_, Result<(), axum::Error>> {
        Box::pin(async { Ok(()) })
    }
}

/// A socket session as a browser's would run after an accepted handshake with `s.key`, fed
/// `s.frames` by an in-memory peer; returns how many frames the server sent back.
pub(crate) async fn fuzz_connection(state: &Shared, s: FuzzSession) -> u64 {
    let Ok(mut conn) = super::handshake::authenticate(state, Some(&s.key)).await else { return 0 };
    conn.id = state.realtime.next_id();
    conn.vsn = if s.v2 { Vsn::V2 } else { Vsn::V1 };
    conn.headers = String::from("{}");
    let inbox = s
        .frames
        .into_iter()
        .map(|f| match f {
            Ok(t) => Message::Text(t.into()),
            Err(b) => Message::Binary(b.into()),
        })
        .collect();
    let sent = Arc::new(AtomicU64::new(0));
    let peer = MemPeer { inbox, sent: sent.clone() };
    super::socket::run(state.clone(), Box::new(peer), conn).await;
    sent.load(Ordering::Relaxed)
}
