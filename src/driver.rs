//! The one driver of the core: feeds it host events, executes its outputs, arms the one host
//! timer, and delivers events to application listeners.
//!
//! Borrow discipline: the core is borrowed only to feed it or to pop one output; every call
//! into JavaScript (host work, listeners, promise resolution) happens with no borrow held, so a
//! listener may call back into the SDK.

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use authwire_core::io::{
    AppEvent, ChannelId, ConnId, Input, ListenerId, LockOp, Output, PresenceEvent, PushOutcome, RequestId, StorageOp,
    Ticket, WireMsg,
};
use authwire_core::map::VecMap;
use authwire_core::Client;
use authwire_wire::json::ObjectWriter;
use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::host::{self, kind, Host};

/// What a channel listener listens to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listen {
    /// `broadcast` with this event (`*` for all).
    Broadcast(String),
    /// `presence` with this event (`sync`, `join`, `leave`, `update`).
    Presence(String),
    /// `postgres_changes` for this local binding.
    Postgres(u32),
    /// `system`.
    System,
}

/// The JS side of a channel: its object, subscribe callback and listeners.
pub(crate) struct ChannelJs {
    /// The `RealtimeChannel` object handed out (same topic → same object).
    pub(crate) obj: JsValue,
    pub(crate) subscribe_cb: Option<Function>,
    pub(crate) listeners: Vec<(Listen, Function)>,
}

/// How to resolve a pending promise.
pub(crate) enum Pending {
    /// A channel push: resolves with `'ok' | 'timed out' | 'error'`.
    Push(Function),
    /// An auth command: resolves with `{ data, error }`; `null_data` is the `data` on error.
    Auth { resolve: Function, null_data: &'static str, navigate: bool },
}

/// Everything one client instance owns in the browser.
pub(crate) struct Inner {
    pub(crate) core: Client,
    host: Host,
    /// The host's event callback; dropped (after `host.dispose()`) when the client goes.
    _emit: Closure<dyn FnMut(u32, f64, JsValue, JsValue)>,
    pub(crate) channels: VecMap<ChannelId, ChannelJs>,
    /// Promise resolvers by ticket.
    pub(crate) pending: VecMap<Ticket, Pending>,
    pub(crate) heartbeat: Vec<Function>,
    pub(crate) auth_listeners: VecMap<ListenerId, Function>,
    /// `client.fetch` calls waiting for the token to settle: (resolve, input, init).
    pub(crate) token_waiters: Vec<(Function, JsValue, JsValue)>,
    pub(crate) fetch_impl: JsValue,
    pub(crate) logger: Option<Function>,
    /// The app's `accessToken()` (third-party auth).
    pub(crate) access_token_fn: Option<Function>,
    /// The deadline the host timer is armed for.
    armed: Option<u64>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Release sockets, timers, workers and listeners before the callback goes away.
        self.host.dispose();
    }
}

/// The shared handle every exported object holds.
pub(crate) type Shared = Rc<RefCell<Inner>>;

/// Browser-side settings of a driver.
pub(crate) struct Setup {
    pub(crate) use_worker: bool,
    pub(crate) fetch_impl: JsValue,
    pub(crate) logger: Option<Function>,
    pub(crate) storage: JsValue,
    pub(crate) access_token_fn: Option<Function>,
}

/// Starts a driver for `core`.
pub(crate) fn start(core: Client, setup: Setup) -> Shared {
    let Setup { use_worker, fetch_impl, logger, storage, access_token_fn } = setup;
    Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
        let w = weak.clone();
        let emit =
            Closure::<dyn FnMut(u32, f64, JsValue, JsValue)>::new(move |k: u32, n: f64, a: JsValue, b: JsValue| {
                if let Some(shared) = w.upgrade() {
                    on_host_event(&shared, k, n, a, b);
                }
            });
        let host = Host::new(emit.as_ref().unchecked_ref(), use_worker);
        let auth = &core.config().auth;
        host.auth(&storage, &auth.storage_key, auth.persist_session && !core.config().third_party);
        RefCell::new(Inner {
            core,
            host,
            _emit: emit,
            channels: VecMap::new(),
            pending: VecMap::new(),
            heartbeat: Vec::new(),
            auth_listeners: VecMap::new(),
            token_waiters: Vec::new(),
            fetch_impl,
            logger,
            access_token_fn,
            armed: None,
        })
    })
}

fn on_host_event(shared: &Shared, k: u32, n: f64, a: JsValue, b: JsValue) {
    let input = match k {
        kind::OPEN => Input::SocketOpened { conn: ConnId(n as u32) },
        kind::MESSAGE => {
            let msg = match a.as_string() {
                Some(t) => WireMsg::Text(t),
                None => WireMsg::Binary(Uint8Array::new(&a).to_vec()),
            };
            Input::SocketMessage { conn: ConnId(n as u32), msg }
        }
        kind::CLOSE => Input::SocketClosed {
            conn: ConnId(n as u32),
            code: a.as_f64().unwrap_or(1006.0) as u16,
            reason: b.as_string().unwrap_or_default(),
        },
        kind::TIMER => {
            shared.borrow_mut().armed = None;
            Input::Timeout
        }
        kind::HTTP => Input::HttpResponse {
            id: RequestId(n as u64),
            status: a.as_f64().unwrap_or(0.0) as u16,
            body: b.as_string().unwrap_or_default(),
        },
        kind::HTTP_FAILED => Input::HttpFailed { id: RequestId(n as u64), message: a.as_string().unwrap_or_default() },
        kind::VISIBILITY => Input::Visibility { visible: n != 0.0 },
        kind::ONLINE => Input::Online { online: n != 0.0 },
        kind::WAKE => Input::Wake,
        kind::STORAGE => Input::Storage {
            id: RequestId(n as u64),
            result: if a.as_f64() == Some(1.0) { Ok(b.as_string()) } else { Err(b.as_string().unwrap_or_default()) },
        },
        kind::STORAGE_CHANGED => Input::StorageChanged { value: a.as_string() },
        kind::LOCK => {
            if a.as_f64() == Some(1.0) {
                Input::LockGranted { id: RequestId(n as u64) }
            } else {
                Input::LockUnavailable { id: RequestId(n as u64) }
            }
        }
        kind::TAB => match a.as_string() {
            Some(data) => Input::TabMessage { data },
            None => return,
        },
        kind::DIGEST => Input::Digest { id: RequestId(n as u64), b64url: a.as_string() },
        kind::VERIFIED => Input::Verified { id: RequestId(n as u64), ok: a.as_f64() == Some(1.0) },
        kind::ACCESS_TOKEN => {
            if n == 0.0 {
                Input::AccessToken { token: a.as_string() }
            } else {
                Input::AccessTokenFailed { message: a.as_string().unwrap_or_default() }
            }
        }
        _ => return,
    };
    feed(shared, input);
}

/// Runs `f` on the core with the clocks read first: no JS call happens while the core is
/// borrowed.
pub(crate) fn with_core<R>(shared: &Shared, f: impl FnOnce(&mut Client, authwire_core::Now) -> R) -> R {
    let now = host::now();
    f(&mut shared.borrow_mut().core, now)
}

/// Feeds one input and runs what follows.
pub(crate) fn feed(shared: &Shared, input: Input) {
    with_core(shared, |c, now| c.handle(input, now));
    drive(shared);
}

/// Drains the core's outputs, then re-arms the host timer.
pub(crate) fn drive(shared: &Shared) {
    loop {
        let next = shared.borrow_mut().core.poll_output();
        match next {
            Some(o) => execute(shared, o),
            None => break,
        }
    }
    release_token_waiters(shared);
    let (host, delay) = {
        let mut inner = shared.borrow_mut();
        let deadline = inner.core.poll_timeout().map(|d| d.as_millis());
        if deadline == inner.armed {
            return;
        }
        inner.armed = deadline;
        let delay = match deadline {
            Some(d) => d.saturating_sub(host::now_mono() as u64) as f64,
            None => -1.0,
        };
        (inner.host.clone().unchecked_into::<Host>(), delay)
    };
    host.set_timer(delay);
}

fn host_of(shared: &Shared) -> Host {
    shared.borrow().host.clone().unchecked_into::<Host>()
}

fn execute(shared: &Shared, o: Output) {
    match o {
        Output::Connect { conn, url } => host_of(shared).connect(conn.0, &url),
        Output::Send { conn, msg: WireMsg::Text(t) } => host_of(shared).send_text(conn.0, &t),
        Output::Send { conn, msg: WireMsg::Binary(b) } => host_of(shared).send_bytes(conn.0, &b),
        Output::Close { conn, code, reason } => host_of(shared).close(conn.0, code, reason),
        Output::Http { id, request } => {
            let headers = Array::new();
            for (k, v) in &request.headers {
                let pair = Array::new();
                pair.push(&JsValue::from_str(k));
                pair.push(&JsValue::from_str(v));
                headers.push(&pair);
            }
            let fetch_impl = shared.borrow().fetch_impl.clone();
            host_of(shared).fetch(id.0 as f64, request.method, &request.url, &headers, request.body, &fetch_impl);
        }
        Output::Event(e) => dispatch(shared, e),
        Output::Storage { id, op } => {
            let h = host_of(shared);
            match op {
                StorageOp::Get(k) => h.storage(id.0 as f64, 0, &k, None),
                StorageOp::Set(k, v) => h.storage(id.0 as f64, 1, &k, Some(v)),
                StorageOp::Remove(k) => h.storage(id.0 as f64, 2, &k, None),
            }
        }
        Output::Lock { id, op: LockOp::Acquire { name, timeout_ms } } => {
            host_of(shared).lock(id.0 as f64, &name, timeout_ms as f64);
        }
        Output::Lock { op: LockOp::Release { of }, .. } => host_of(shared).unlock(of.0 as f64),
        Output::TabPost(json) => host_of(shared).post(&json),
        Output::Digest { id, data } => host_of(shared).digest(id.0 as f64, &data),
        Output::Verify { id, alg, jwk, signed, signature } => {
            host_of(shared).verify(id.0 as f64, &alg, &jwk, &signed, &signature);
        }
        Output::ReplaceUrl(url) => host_of(shared).replace_url(&url),
        Output::FetchAccessToken => {
            let f = shared.borrow().access_token_fn.clone();
            if let Some(f) = f {
                host_of(shared).access_token(&f);
            }
        }
        Output::Log(level, msg) => {
            let logger = shared.borrow().logger.clone();
            if let Some(f) = logger {
                let kind = match level {
                    authwire_core::io::Level::Info => "info",
                    authwire_core::io::Level::Warn => "warn",
                    authwire_core::io::Level::Error => "error",
                };
                let fns = Array::of1(&f);
                host::deliver(&fns, 3, Some(String::from(kind)), &JsValue::from_str(&msg));
            }
        }
    }
}

/// `client.fetch` calls that were waiting for the token go out once it settled.
fn release_token_waiters(shared: &Shared) {
    if shared.borrow().token_waiters.is_empty() {
        return;
    }
    let token = with_core(shared, |c, now| c.fetch_token(now));
    let Some(token) = token else { return };
    let (waiters, fetch_impl, key) = {
        let mut inner = shared.borrow_mut();
        (core::mem::take(&mut inner.token_waiters), inner.fetch_impl.clone(), inner.core.config().key.clone())
    };
    for (resolve, input, init) in waiters {
        let p = host::authed_fetch(&fetch_impl, &input, &init, &key, token.clone());
        host::resolve_with(&resolve, &p);
    }
}

fn presence_json(e: &PresenceEvent) -> (&'static str, String) {
    let list = |metas: &[String]| {
        let mut s = String::from("[");
        for (i, m) in metas.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(m);
        }
        s.push(']');
        s
    };
    let mut w = ObjectWriter::new();
    let name = match e {
        PresenceEvent::Sync => "sync",
        PresenceEvent::Join { .. } => "join",
        PresenceEvent::Leave { .. } => "leave",
        PresenceEvent::Update { .. } => "update",
    };
    w.str("event", name);
    match e {
        PresenceEvent::Sync => {}
        PresenceEvent::Join { key, current, new } => {
            w.str("key", key).raw("currentPresences", &list(current)).raw("newPresences", &list(new));
        }
        PresenceEvent::Leave { key, current, left } => {
            w.str("key", key).raw("currentPresences", &list(current)).raw("leftPresences", &list(left));
        }
        PresenceEvent::Update { key, new, old } => {
            w.str("key", key).raw("newPresences", &list(new)).raw("oldPresences", &list(old));
        }
    }
    (name, w.finish())
}

fn listeners(shared: &Shared, ch: ChannelId, want: impl Fn(&Listen) -> bool) -> Array {
    let inner = shared.borrow();
    let fns = Array::new();
    if let Some(c) = inner.channels.get(&ch) {
        for (l, f) in &c.listeners {
            if want(l) {
                fns.push(f);
            }
        }
    }
    fns
}

fn dispatch(shared: &Shared, e: AppEvent) {
    match e {
        AppEvent::ChannelStatus { channel, status, error } => {
            let cb = shared.borrow().channels.get(&channel).and_then(|c| c.subscribe_cb.clone());
            if let Some(cb) = cb {
                let err = match &error {
                    Some(e) => host::make_error(host::error_kind::REALTIME, e.code(), e.message(), -1),
                    None => JsValue::UNDEFINED,
                };
                host::deliver(&Array::of1(&cb), 3, Some(String::from(status.as_str())), &err);
            }
        }
        AppEvent::Broadcast { channel, event, payload, binary } => {
            let fns = listeners(shared, channel, |l| matches!(l, Listen::Broadcast(e) if e == "*" || *e == event));
            if fns.length() > 0 {
                let extra = binary.map_or(JsValue::UNDEFINED, |b| Uint8Array::from(b.as_slice()).into());
                host::deliver(&fns, 2, Some(payload), &extra);
            }
        }
        AppEvent::Presence { channel, event } => {
            let (name, json) = presence_json(&event);
            let fns = listeners(shared, channel, |l| matches!(l, Listen::Presence(e) if e == name || e == "*"));
            if fns.length() > 0 {
                host::deliver(&fns, 0, Some(json), &JsValue::UNDEFINED);
            }
        }
        AppEvent::PostgresChange { channel, bindings, payload } => {
            let fns = listeners(shared, channel, |l| matches!(l, Listen::Postgres(b) if bindings.contains(b)));
            if fns.length() > 0 {
                host::deliver(&fns, 1, Some(payload), &JsValue::UNDEFINED);
            }
        }
        AppEvent::System { channel, payload } => {
            let fns = listeners(shared, channel, |l| *l == Listen::System);
            if fns.length() > 0 {
                host::deliver(&fns, 0, Some(payload), &JsValue::UNDEFINED);
            }
        }
        AppEvent::PushDone { ticket, outcome } => {
            let resolve = shared.borrow_mut().pending.remove(&ticket);
            if let Some(Pending::Push(f)) = resolve {
                host::resolve_with(&f, &JsValue::from_str(outcome.as_str()));
            }
            if let PushOutcome::Error(e) = outcome {
                let logger = shared.borrow().logger.clone();
                if let Some(l) = logger {
                    host::deliver(&Array::of1(&l), 3, Some(String::from("push")), &JsValue::from_str(e.code()));
                }
            }
        }
        AppEvent::Done { ticket, result } => {
            let pending = shared.borrow_mut().pending.remove(&ticket);
            match pending {
                Some(Pending::Auth { resolve, null_data, navigate }) => {
                    let value = match result {
                        Ok(data) => {
                            if navigate {
                                let url = authwire_wire::json::field(&data, "url")
                                    .ok()
                                    .flatten()
                                    .and_then(authwire_wire::json::str_of);
                                if let Some(u) = url {
                                    host::navigate(&u);
                                }
                            }
                            host::auth_result(Some(data), &JsValue::NULL)
                        }
                        Err(e) => {
                            let status = e.status().map_or(-1, i32::from);
                            let err = host::auth_error(e.name(), e.code(), e.message(), status);
                            host::auth_result(Some(String::from(null_data)), &err)
                        }
                    };
                    host::resolve_with(&resolve, &value);
                }
                Some(Pending::Push(f)) => {
                    host::resolve_with(&f, &JsValue::from_str(if result.is_ok() { "ok" } else { "error" }))
                }
                None => {}
            }
        }
        AppEvent::AuthChange { listener, event, session } => {
            let fns = {
                let inner = shared.borrow();
                let a = Array::new();
                for (id, f) in inner.auth_listeners.iter() {
                    if listener.is_none_or(|l| l == *id) {
                        a.push(f);
                    }
                }
                a
            };
            if fns.length() > 0 {
                host::deliver(&fns, 4, session, &JsValue::from_str(event.as_str()));
            }
        }
        AppEvent::Heartbeat { status, latency_ms } => {
            let fns = {
                let inner = shared.borrow();
                let a = Array::new();
                for f in &inner.heartbeat {
                    a.push(f);
                }
                a
            };
            if fns.length() > 0 {
                let lat = latency_ms.map_or(JsValue::UNDEFINED, |l| JsValue::from_f64(l as f64));
                host::deliver(&fns, 3, Some(String::from(status.as_str())), &lat);
            }
        }
    }
}

/// A promise resolved with the push outcome of `ticket`.
pub(crate) fn promise_for(shared: &Shared, ticket: Ticket) -> js_sys::Promise {
    let mut resolver = None;
    let p = js_sys::Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    if let Some(r) = resolver {
        shared.borrow_mut().pending.insert(ticket, Pending::Push(r));
    }
    p
}

/// A promise resolved with `{ data, error }` when auth command `ticket` is done.
pub(crate) fn auth_promise(
    shared: &Shared,
    ticket: Ticket,
    null_data: &'static str,
    navigate: bool,
) -> js_sys::Promise {
    let mut resolver = None;
    let p = js_sys::Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    if let Some(r) = resolver {
        shared.borrow_mut().pending.insert(ticket, Pending::Auth { resolve: r, null_data, navigate });
    }
    drive(shared);
    p
}
