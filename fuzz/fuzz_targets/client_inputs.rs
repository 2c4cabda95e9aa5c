//! The client core fed arbitrary input sequences — server frames of any bytes, HTTP answers,
//! storage values, tab messages, `accessToken()` answers, locks, lifecycle events and clock
//! steps — between app commands: it must never panic, and every output must be one the shell
//! can execute (each request, lock and storage operation answered or left pending as the input
//! chooses).
#![no_main]
use arbitrary::Arbitrary;
use authwire_core::config::{ApikeyMode, ClientConfig};
use authwire_core::io::{ConnId, Input, LockOp, Output, RequestId, StorageOp};
use authwire_core::realtime::ChannelOptions;
use authwire_core::time::Now;
use authwire_core::Client;
use authwire_wire::frame::WireMsg;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Op {
    Open,
    Text(String),
    Binary(Vec<u8>),
    Close(u16),
    Http { status: u16, body: String },
    HttpFail,
    Storage(Option<String>),
    StorageFail,
    StorageChanged(Option<String>),
    Lock(bool),
    Tab(String),
    AccessToken(Option<String>),
    Advance(u16),
    ClockJump(u32),
    Subscribe { chan: u8, private: bool },
    Send(u8),
    Track(u8),
    SignIn(String),
    SignOut,
    Visible(bool),
    Online(bool),
    Wake,
}

#[derive(Arbitrary, Debug)]
struct Case {
    session_mode: bool,
    third_party: bool,
    ops: Vec<Op>,
}

fuzz_target!(|case: Case| {
    if case.ops.len() > 200 {
        return;
    }
    let mut cfg = ClientConfig::new("http://127.0.0.1:54321", "sb_publishable_fuzz").unwrap();
    cfg.third_party = case.third_party;
    if case.session_mode {
        cfg.apikey_mode = ApikeyMode::Session;
    }
    let mut c = Client::new(cfg, 1);
    let mut now = Now::new(0, 1_800_000_000_000);
    let (mut conn, mut http, mut storage, mut locks): (Option<ConnId>, Vec<RequestId>, Vec<RequestId>, Vec<RequestId>) =
        (None, Vec::new(), Vec::new(), Vec::new());
    let mut channels = Vec::new();
    c.start(None, now);
    for op in case.ops {
        // What the shell would have been asked to do so far.
        while let Some(o) = c.poll_output() {
            match o {
                Output::Connect { conn: id, .. } => conn = Some(id),
                Output::Http { id, .. } => http.push(id),
                Output::Storage { id, op: StorageOp::Get(_) } => storage.push(id),
                Output::Storage { id, .. } => c.handle(Input::Storage { id, result: Ok(None) }, now),
                Output::Lock { id, op: LockOp::Acquire { .. } } => locks.push(id),
                Output::Entropy { len } => c.handle(Input::Entropy { bytes: Some(vec![7; len]) }, now),
                _ => {}
            }
        }
        let input = match op {
            Op::Open => conn.map(|conn| Input::SocketOpened { conn }),
            Op::Text(t) => conn.map(|conn| Input::SocketMessage { conn, msg: WireMsg::Text(t) }),
            Op::Binary(b) => conn.map(|conn| Input::SocketMessage { conn, msg: WireMsg::Binary(b) }),
            Op::Close(code) => conn.take().map(|conn| Input::SocketClosed { conn, code, reason: String::new() }),
            Op::Http { status, body } => http.pop().map(|id| Input::HttpResponse { id, status, body }),
            Op::HttpFail => http.pop().map(|id| Input::HttpFailed { id, message: String::from("fuzz") }),
            Op::Storage(v) => storage.pop().map(|id| Input::Storage { id, result: Ok(v) }),
            Op::StorageFail => storage.pop().map(|id| Input::Storage { id, result: Err(String::from("fuzz")) }),
            Op::StorageChanged(value) => Some(Input::StorageChanged { value }),
            Op::Lock(granted) => locks.pop().map(|id| if granted { Input::LockGranted { id } } else { Input::LockUnavailable { id } }),
            Op::Tab(data) => Some(Input::TabMessage { data }),
            Op::AccessToken(token) => Some(Input::AccessToken { token }),
            Op::Advance(ms) => {
                now = now.advance(u64::from(ms));
                Some(Input::Timeout)
            }
            Op::ClockJump(s) => {
                now = Now::new(now.mono.as_millis(), now.wall.as_millis().saturating_add(u64::from(s) * 1000));
                Some(Input::Wake)
            }
            Op::Subscribe { chan, private } => {
                let opts = ChannelOptions { private, ..ChannelOptions::default() };
                if let Ok(id) = c.channel(&format!("room{}", chan % 4), opts) {
                    let _ = c.subscribe(id, None, now);
                    channels.push(id);
                }
                None
            }
            Op::Send(i) => {
                if let Some(id) = channels.get(usize::from(i) % channels.len().max(1)) {
                    let data = authwire_wire::frame::UserData::Json(String::from("{\"n\":1}"));
                    let _ = c.send_broadcast(*id, "e", data, now);
                }
                None
            }
            Op::Track(i) => {
                if let Some(id) = channels.get(usize::from(i) % channels.len().max(1)) {
                    let _ = c.track(*id, "{\"a\":1}", now);
                }
                None
            }
            Op::SignIn(creds) => {
                c.sign_in_with_password(&creds, now);
                None
            }
            Op::SignOut => {
                c.sign_out("local", now);
                None
            }
            Op::Visible(visible) => Some(Input::Visibility { visible }),
            Op::Online(online) => Some(Input::Online { online }),
            Op::Wake => Some(Input::Wake),
        };
        if let Some(i) = input {
            c.handle(i, now);
        }
        let _ = c.poll_timeout();
        let _ = c.diagnose_json(now);
    }
});
