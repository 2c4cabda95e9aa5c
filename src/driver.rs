//! The one driver of the core: feeds it host reports and app commands, executes its outputs,
//! arms the one host timer, and delivers events to application listeners.
//!
//! Borrow discipline: the core is borrowed only to feed it or to pop one output; every call
//! into JavaScript (host work, listeners, promise resolution) happens with no borrow held, so a
//! listener may call back into the SDK.
//!
//! Re-entrancy: there is one drive at a time. A call made from inside a listener (or a promise
//! resolver, a logger) feeds the core and returns; its outputs queue behind the ones already
//! there, and the running drive executes them once the current event has reached every
//! listener, so events keep their order. The drive stops only when the core has nothing left,
//! also after releasing `client.fetch` waiters (which may start a refresh).
//!
//! Teardown: `destroy()` makes the core's one terminal state; the drive that sees it executes
//! the core's last outputs (closes, lock releases, `destroyed` answers), then [`dispose`]s:
//! whatever still waits settles `destroyed`, every JS value the client holds is dropped (the
//! app's callbacks and the channel objects: held here, they would keep the whole client alive
//! through the wasm objects they reference) and the host releases every browser resource.

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use authwire_core::error::{AuthError, ChannelError, ChannelOpError, PushError};
use authwire_core::io::{
    AppEvent, ChannelId, Input, Level, ListenerId, LockOp, Output, PresenceEvent, PushOutcome, StorageOp, Ticket,
    WireMsg,
};
use authwire_core::map::VecMap;
use authwire_core::Client;
use authwire_wire::json::ObjectWriter;
use js_sys::{Array, Function};
use wasm_bindgen::prelude::*;

use crate::host::{self, Host, HostEvents};

/// What a channel listener listens to. Event names are kept lowercased: realtime-js matches
/// them without regard to case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listen {
    /// `broadcast` with this event (`*` for all).
    Broadcast(String),
    /// `presence` with this event (`sync`, `join`, `leave`, `update`; `*`: all but `update`,
    /// which is authwire's own).
    Presence(String),
    /// `postgres_changes` for this local binding.
    Postgres(u32),
    /// `system`: every `system` message (as realtime-js), or with `{ event: 'gap' }` (`true`)
    /// only authwire's gap events.
    System(bool),
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
    /// `httpSend()`: resolves `{ success: true }` or rejects with a `RealtimeError`.
    HttpSend { resolve: Function, reject: Function },
    /// `realtime.disconnect()`: resolves `'ok'` or `'timeout'`, as realtime-js's.
    Disconnect(Function),
}

/// Everything one client instance owns in the browser.
pub(crate) struct Inner {
    pub(crate) core: Client,
    /// The JS host; it reports back through its [`HostEvents`]. `None` once disposed
    /// (after `destroy()`): no output reaches the browser any more.
    host: Option<Host>,
    /// A drive is running (see the module doc: calls from listeners do not nest one).
    driving: bool,
    pub(crate) channels: VecMap<ChannelId, ChannelJs>,
    /// Promise resolvers by ticket.
    pub(crate) pending: VecMap<Ticket, Pending>,
    pub(crate) heartbeat: Vec<Function>,
    pub(crate) auth_listeners: VecMap<ListenerId, Function>,
    /// `client.fetch` calls waiting for the token to settle: (resolve, reject, input, init).
    pub(crate) token_waiters: Vec<(Function, Function, JsValue, JsValue)>,
    pub(crate) fetch_impl: JsValue,
    pub(crate) logger: Option<Function>,
    /// The app's `accessToken()` (third-party auth).
    pub(crate) access_token_fn: Option<Function>,
    /// The app's `realtime.reconnectAfterMs(tries)`.
    reconnect_fn: Option<Function>,
    /// The deadline the host timer is armed for.
    armed: Option<u64>,
    /// The core's `channels_removed()` when `channels` last dropped the ones gone.
    removed_seen: u64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone without a `destroy()`: close the sockets, abort fetches, stop
        // the timer and the worker, remove page listeners, close the tab channel and release
        // held locks; the host then drops its `HostEvents`.
        if let Some(h) = self.host.take() {
            h.dispose();
        }
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
    pub(crate) reconnect_fn: Option<Function>,
}

/// Starts a driver for `core`.
pub(crate) fn start(core: Client, setup: Setup) -> Shared {
    let Setup { use_worker, fetch_impl, logger, storage, access_token_fn, reconnect_fn } = setup;
    Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
        let host = Host::new(HostEvents { shared: weak.clone() }, use_worker);
        let auth = &core.config().auth;
        host.auth(&storage, &auth.storage_key, auth.persist_session && !core.config().third_party);
        RefCell::new(Inner {
            core,
            host: Some(host),
            driving: false,
            channels: VecMap::new(),
            pending: VecMap::new(),
            heartbeat: Vec::new(),
            auth_listeners: VecMap::new(),
            token_waiters: Vec::new(),
            fetch_impl,
            logger,
            access_token_fn,
            reconnect_fn,
            armed: None,
            removed_seen: 0,
        })
    })
}

/// The host timer fired: it is no longer armed.
pub(crate) fn timer_fired(shared: &Shared) {
    shared.borrow_mut().armed = None;
    feed(shared, Input::Timeout);
}

/// Runs `f` on the core with the clocks read first: no JS call happens while the core is
/// borrowed.
pub(crate) fn with_core<R>(shared: &Shared, f: impl FnOnce(&mut Client, authwire_core::Now) -> R) -> R {
    let now = host::now();
    f(&mut shared.borrow_mut().core, now)
}

/// Feeds one input and runs what follows.
pub(crate) fn feed(shared: &Shared, input: Input) {
    feed_at(shared, input, host::now());
}

/// Feeds one input that arrived at `now` and runs what follows.
pub(crate) fn feed_at(shared: &Shared, input: Input, now: authwire_core::Now) {
    shared.borrow_mut().core.handle(input, now);
    drive(shared);
}

/// Drains the core's outputs, then re-arms the host timer; inside a running drive (a call
/// from a listener) it returns at once: the running drive executes what was queued.
pub(crate) fn drive(shared: &Shared) {
    {
        let mut inner = shared.borrow_mut();
        if inner.driving {
            return;
        }
        inner.driving = true;
    }
    loop {
        let next = shared.borrow_mut().core.poll_output();
        match next {
            Some(o) => execute(shared, o),
            None => {
                // Releasing `client.fetch` waiters may start a refresh: drained too.
                release_token_waiters(shared);
                if !shared.borrow().core.has_output() {
                    break;
                }
            }
        }
    }
    forget_closed_channels(shared);
    shared.borrow_mut().driving = false;
    if shared.borrow().core.is_destroyed() {
        return dispose(shared);
    }
    let (host, delay) = {
        let mut inner = shared.borrow_mut();
        let deadline = inner.core.poll_timeout().map(|d| d.as_millis());
        if deadline == inner.armed {
            return;
        }
        inner.armed = deadline;
        let delay = deadline.map(|d| d.saturating_sub(host::now_mono() as u64) as f64);
        (inner.host.clone(), delay)
    };
    if let Some(h) = host {
        h.set_timer(delay);
    }
}

/// `true` once `destroy()` was called (the core's flag: the one terminal state).
pub(crate) fn is_destroyed(shared: &Shared) -> bool {
    shared.borrow().core.is_destroyed()
}

/// After `destroy()`'s last outputs ran: settles what still waits with `destroyed`, drops
/// every JS value the client holds and releases every browser resource. Runs once.
fn dispose(shared: &Shared) {
    let (host, pending, waiters) = {
        let mut inner = shared.borrow_mut();
        let Some(host) = inner.host.take() else { return };
        inner.channels.clear();
        inner.heartbeat.clear();
        inner.auth_listeners.clear();
        inner.logger = None;
        inner.access_token_fn = None;
        inner.reconnect_fn = None;
        inner.fetch_impl = JsValue::UNDEFINED;
        inner.armed = None;
        (host, core::mem::take(&mut inner.pending), core::mem::take(&mut inner.token_waiters))
    };
    host.dispose();
    let mut pending = pending;
    let tickets: Vec<Ticket> = pending.keys().copied().collect();
    for p in tickets.iter().filter_map(|t| pending.remove(t)) {
        settle_destroyed(p);
    }
    for (_, reject, _, _) in waiters {
        host::resolve_with(&reject, &host::destroyed_error());
    }
}

/// Settles a promise the core no longer answers: the client was destroyed.
fn settle_destroyed(p: Pending) {
    match p {
        Pending::Push(f) => {
            host::resolve_with(&f, &JsValue::from_str(PushOutcome::Error(PushError::Destroyed).as_str()))
        }
        Pending::Auth { resolve, null_data, .. } => {
            host::resolve_with(&resolve, &host::auth_result(null_data, &host::auth_error(&AuthError::Destroyed)));
        }
        Pending::HttpSend { reject, .. } => {
            host::resolve_with(&reject, &crate::channel::refused(ChannelOpError::Destroyed));
        }
        Pending::Disconnect(f) => host::resolve_with(&f, &JsValue::from_str("ok")),
    }
}

/// Drops the listeners of channels the core forgot (they closed; their last events are
/// delivered by now).
fn forget_closed_channels(shared: &Shared) {
    let mut inner = shared.borrow_mut();
    // Checked after every drive, each message included: only when the core removed some.
    let removed = inner.core.channels_removed();
    if removed == inner.removed_seen {
        return;
    }
    inner.removed_seen = removed;
    let gone: Vec<ChannelId> =
        inner.channels.keys().copied().filter(|id| inner.core.channel_info(*id).is_none()).collect();
    for id in gone {
        inner.channels.remove(&id);
    }
}

/// Writes `msg` to the app's `realtime.logger`, if any.
pub(crate) fn log(shared: &Shared, level: Level, msg: &str) {
    let logger = shared.borrow().logger.clone();
    if let Some(f) = logger {
        host::log(&f, level_name(level), msg, &JsValue::UNDEFINED);
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

fn execute(shared: &Shared, o: Output) {
    let o = match o {
        Output::Event(e) => return dispatch(shared, e),
        Output::Log(level, msg) => return log(shared, level, &msg),
        Output::ReconnectDelay { tries } => {
            // Answered now, before the next output: the core waits for it.
            let f = shared.borrow().reconnect_fn.clone();
            let ms = f.and_then(|f| host::call_for_ms(&f, tries)).map(|ms| ms as u64);
            return with_core(shared, |c, now| c.handle(Input::ReconnectDelay { ms }, now));
        }
        Output::Entropy { len } => {
            // Answered now, before the next output: secrets are made of these bytes only.
            let bytes = host::random_bytes(len as u32).map(|b| b.to_vec());
            return with_core(shared, |c, now| c.handle(Input::Entropy { bytes }, now));
        }
        other => other,
    };
    // Side work needs the host; once it is disposed (destroy()) there is none to do.
    let Some(host) = shared.borrow().host.clone() else { return };
    match o {
        Output::Connect { conn, url } => host.connect(conn.0, &url),
        Output::Send { conn, msg: WireMsg::Text(t) } => host.send_text(conn.0, &t),
        Output::Send { conn, msg: WireMsg::Binary(b) } => host.send_bytes(conn.0, &b),
        Output::Close { conn, code, reason } => host.close(conn.0, code, reason),
        Output::Http { id, request } => {
            let headers = Array::new();
            for (k, v) in &request.headers {
                let pair = Array::new();
                pair.push(&JsValue::from_str(k));
                pair.push(&JsValue::from_str(v));
                headers.push(&pair);
            }
            let fetch_impl = shared.borrow().fetch_impl.clone();
            host.fetch(id.0 as f64, request.method, &request.url, &headers, request.body, &fetch_impl);
        }
        Output::CancelHttp { id } => host.abort(id.0 as f64),
        Output::Storage { id, op } => {
            let (h, id) = (&host, id.0 as f64);
            match op {
                StorageOp::Get(k) => h.storage_get(id, &k),
                StorageOp::Set(k, v) => h.storage_set(id, &k, &v),
                StorageOp::Remove(k) => h.storage_remove(id, &k),
            }
        }
        Output::Lock { id, op: LockOp::Acquire { name, timeout_ms } } => {
            host.lock(id.0 as f64, &name, timeout_ms as f64);
        }
        Output::Lock { op: LockOp::Release { of }, .. } => host.unlock(of.0 as f64),
        Output::TabPost(json) => host.post(&json),
        Output::Digest { id, data } => host.digest(id.0 as f64, &data),
        Output::Verify { id, alg, jwk, signed, signature } => {
            host.verify(id.0 as f64, &alg, &jwk, &signed, &signature);
        }
        Output::ReplaceUrl(url) => host.replace_url(&url),
        Output::FetchAccessToken => {
            let f = shared.borrow().access_token_fn.clone();
            if let Some(f) = f {
                host.access_token(&f);
            }
        }
        Output::Event(_) | Output::Log(..) | Output::ReconnectDelay { .. } | Output::Entropy { .. } => {}
    }
}

/// `client.fetch` calls that were waiting for the token go out once it settled.
fn release_token_waiters(shared: &Shared) {
    if shared.borrow().token_waiters.is_empty() {
        return;
    }
    let token = with_core(shared, |c, now| c.fetch_token(now));
    let Some(token) = token else { return };
    let (waiters, fetch_impl, key, project) = {
        let mut inner = shared.borrow_mut();
        let project = inner.core.config().url.http("");
        (core::mem::take(&mut inner.token_waiters), inner.fetch_impl.clone(), inner.core.config().key.clone(), project)
    };
    for (resolve, _, input, init) in waiters {
        let p = host::authed_fetch(&fetch_impl, &input, &init, &key, token.clone(), &project);
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
                let err = error.map_or(JsValue::UNDEFINED, |e| channel_error(&e));
                host::deliver_status(&Array::of1(&cb), status.as_str(), &err);
            }
        }
        AppEvent::Broadcast { channel, event, payload, binary } => {
            // Most names are lowercase ASCII already: no copy for those.
            let event = if event.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
                event
            } else {
                event.to_lowercase()
            };
            let fns = listeners(shared, channel, |l| matches!(l, Listen::Broadcast(e) if e == "*" || *e == event));
            if fns.length() > 0 {
                host::deliver_broadcast(&fns, &payload, binary.as_deref());
            }
        }
        AppEvent::Presence { channel, event } => {
            let (name, json) = presence_json(&event);
            // `*` gets what realtime-js gives it: sync, join and leave, not authwire's update.
            let fns = listeners(
                shared,
                channel,
                |l| matches!(l, Listen::Presence(e) if e == name || (e == "*" && name != "update")),
            );
            if fns.length() > 0 {
                host::deliver_json(&fns, &json);
            }
        }
        AppEvent::PostgresChange { channel, bindings, payload } => {
            let fns = listeners(shared, channel, |l| matches!(l, Listen::Postgres(b) if bindings.contains(b)));
            if fns.length() > 0 {
                host::deliver_change(&fns, &payload);
            }
        }
        AppEvent::System { channel, payload, code } => {
            let gap = code == Some("gap");
            let fns = listeners(shared, channel, |l| matches!(l, Listen::System(gap_only) if gap || !*gap_only));
            if fns.length() > 0 {
                host::deliver_system(&fns, &payload, code);
            }
        }
        AppEvent::PushDone { ticket, outcome } => {
            let resolve = shared.borrow_mut().pending.remove(&ticket);
            match resolve {
                Some(Pending::Push(f)) => host::resolve_with(&f, &JsValue::from_str(outcome.as_str())),
                Some(Pending::Disconnect(f)) => {
                    // After destroy() the socket is closed, which is what was asked.
                    let closed = matches!(outcome, PushOutcome::Ok | PushOutcome::Error(PushError::Destroyed));
                    let done = if closed { "ok" } else { "timeout" };
                    host::resolve_with(&f, &JsValue::from_str(done));
                }
                // The core reports a push ticket only with `PushDone`.
                Some(Pending::Auth { .. } | Pending::HttpSend { .. }) | None => {}
            }
            if let PushOutcome::Error(e) = outcome {
                let logger = shared.borrow().logger.clone();
                if let Some(l) = logger {
                    host::log(&l, "push", e.code(), &JsValue::UNDEFINED);
                }
            }
        }
        AppEvent::HttpSendDone { ticket, result } => {
            let pending = shared.borrow_mut().pending.remove(&ticket);
            if let Some(Pending::HttpSend { resolve, reject }) = pending {
                match result {
                    Ok(()) => host::resolve_with(&resolve, &host::parse_json(r#"{"success":true}"#)),
                    Err(e) => host::resolve_with(&reject, &crate::channel::refused(e)),
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
                            host::auth_result(&data, &JsValue::NULL)
                        }
                        Err(e) => host::auth_result(null_data, &host::auth_error(&e)),
                    };
                    host::resolve_with(&resolve, &value);
                }
                Some(Pending::Push(f)) => {
                    host::resolve_with(&f, &JsValue::from_str(if result.is_ok() { "ok" } else { "error" }))
                }
                Some(Pending::HttpSend { .. } | Pending::Disconnect(_)) | None => {}
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
                host::deliver_auth(&fns, event.as_str(), session);
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
                host::deliver_status(&fns, status.as_str(), &lat);
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

/// A promise for `disconnect()` ticket `ticket`: `'ok'` or `'timeout'`.
pub(crate) fn disconnect_promise(shared: &Shared, ticket: Ticket) -> js_sys::Promise {
    let mut resolver = None;
    let p = js_sys::Promise::new(&mut |resolve, _reject| resolver = Some(resolve));
    if let Some(r) = resolver {
        shared.borrow_mut().pending.insert(ticket, Pending::Disconnect(r));
    }
    p
}

/// A promise for `httpSend()` ticket `ticket`: `{ success: true }`, or a rejection.
pub(crate) fn http_send_promise(shared: &Shared, ticket: Ticket) -> js_sys::Promise {
    let mut fns = None;
    let p = js_sys::Promise::new(&mut |resolve, reject| fns = Some((resolve, reject)));
    if let Some((resolve, reject)) = fns {
        shared.borrow_mut().pending.insert(ticket, Pending::HttpSend { resolve, reject });
    }
    p
}

/// The `err` of a status callback: a `RealtimeError` whose message is realtime-js's, with
/// realtime-js's `cause` where it has one (the server's `{ reason }`, the close's code).
fn channel_error(e: &ChannelError) -> JsValue {
    let mut w = ObjectWriter::new();
    let cause = match e {
        ChannelError::SocketClosed { code, reason } => {
            w.u64("code", u64::from(*code)).str("reason", reason);
            true
        }
        ChannelError::Unauthorized { reason }
        | ChannelError::TokenExpired { reason }
        | ChannelError::InvalidJwt { reason }
        | ChannelError::RateLimited { reason } => {
            w.str("reason", reason);
            true
        }
        ChannelError::Server { reason } if !reason.is_empty() => {
            w.str("reason", reason);
            true
        }
        _ => false,
    };
    let cause = if cause { Some(w.finish()) } else { None };
    host::realtime_error(e.code(), &e.message(), cause.as_deref())
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
