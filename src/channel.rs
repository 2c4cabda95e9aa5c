//! `RealtimeChannel`: listeners (`on`), `subscribe`, pushes (`send`, `httpSend`, `track`,
//! `untrack`, `unsubscribe`), presence state and the channel's state and role.
//!
//! A call throws only where realtime-js 2.119 throws for it (a `presence` or
//! `postgres_changes` listener added while joining or joined, a second `subscribe()` on an
//! instance that has closed); everything else is reported the way realtime-js reports it: a
//! status, a `system` message, a resolved or rejected promise, a log line. A channel that has
//! closed is forgotten by the core, and the object keeps realtime-js's manners: `state` is
//! `'closed'`, `send()` goes over HTTP, `httpSend()` works, `unsubscribe()` resolves `'ok'`.

use alloc::string::String;
use core::cell::Cell;

use authwire_core::error::ChannelOpError;
use authwire_core::io::{ChannelId, Level, Ticket};
use authwire_core::realtime::channel::ChannelState;
use authwire_core::realtime::{bindings, HttpChannel};
use authwire_wire::frame::UserData;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::driver::{self, Listen, Shared};
use crate::host;

/// The `RealtimeError` thrown (or rejected with) for a channel call the core refused.
pub(crate) fn refused(e: ChannelOpError) -> JsValue {
    host::realtime_error(e.code(), e.message(), None)
}

/// A Realtime channel.
#[wasm_bindgen]
pub struct RealtimeChannel {
    pub(crate) shared: Shared,
    pub(crate) id: ChannelId,
    /// `realtime:<name>`.
    pub(crate) topic: String,
    pub(crate) private: bool,
    /// `subscribe()` started a join on this instance.
    pub(crate) subscribed: Cell<bool>,
}

impl RealtimeChannel {
    /// The object the app holds: registered channels keep theirs (same name, same object);
    /// one the core forgot gets a twin that behaves the same.
    fn this(&self) -> JsValue {
        let obj = self.shared.borrow().channels.get(&self.id).map(|c| c.obj.clone());
        obj.unwrap_or_else(|| {
            let twin = RealtimeChannel {
                shared: self.shared.clone(),
                id: self.id,
                topic: self.topic.clone(),
                private: self.private,
                subscribed: Cell::new(self.subscribed.get()),
            };
            twin.into()
        })
    }

    fn sub_topic(&self) -> &str {
        self.topic.strip_prefix(authwire_wire::realtime::TOPIC_PREFIX).unwrap_or(&self.topic)
    }

    fn target(&self) -> HttpChannel<'_> {
        HttpChannel { sub_topic: self.sub_topic(), private: self.private }
    }

    fn state_now(&self) -> Option<ChannelState> {
        self.shared.borrow().core.channel_info(self.id).map(|i| i.state)
    }

    /// realtime-js's refusal of a listener that would change the join once it is under way.
    fn too_late(&self, kind: &str) -> JsValue {
        let mut m = String::from("cannot add `");
        m.push_str(kind);
        m.push_str("` callbacks for ");
        m.push_str(&self.topic);
        m.push_str(" after `subscribe()`.");
        host::realtime_error(ChannelOpError::BindingAfterSubscribe.code(), &m, None)
    }

    fn add_listener(&self, l: Listen, cb: Function) {
        if let Some(c) = self.shared.borrow_mut().channels.get_mut(&self.id) {
            c.listeners.push((l, cb));
        }
    }

    /// A promise for push ticket `t` (resolving `'ok' | 'timed out' | 'error'`), or one
    /// rejected with the refusal.
    fn ticket_promise(&self, t: Result<Ticket, ChannelOpError>) -> Promise {
        match t {
            Ok(t) => {
                let p = driver::promise_for(&self.shared, t);
                driver::drive(&self.shared);
                p
            }
            Err(e) => Promise::reject(&refused(e)),
        }
    }

    fn log(&self, level: Level, msg: String) {
        driver::log(&self.shared, level, &msg);
    }
}

#[wasm_bindgen]
impl RealtimeChannel {
    /// `realtime:<name>`.
    #[wasm_bindgen(getter)]
    pub fn topic(&self) -> String {
        self.topic.clone()
    }

    /// `'closed' | 'joining' | 'joined' | 'leaving' | 'errored'`.
    #[wasm_bindgen(getter, unchecked_return_type = "RealtimeChannelState")]
    pub fn state(&self) -> String {
        String::from(self.state_now().unwrap_or(ChannelState::Closed).as_str())
    }

    /// The role of the token the server accepted for this channel (`anon`, `authenticated`, …).
    #[wasm_bindgen(js_name = effectiveRole)]
    pub fn effective_role(&self) -> Option<String> {
        self.shared.borrow().core.channel_info(self.id).and_then(|i| i.effective_role)
    }

    /// `channel.on(type, filter, callback)`; returns the channel. Event names match without
    /// regard to case, as realtime-js's; an unknown type is ignored (and logged).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, kind: &str, filter: JsValue, cb: Function) -> Result<JsValue, JsValue> {
        let event = || host::opt_str(&filter, "event").map_or_else(|| String::from("*"), |e| e.to_lowercase());
        let listen = match kind {
            "broadcast" => Some(Listen::Broadcast(event())),
            "presence" => {
                let r = self.shared.borrow_mut().core.enable_presence(self.id);
                match r {
                    Err(ChannelOpError::BindingAfterSubscribe) => return Err(self.too_late(kind)),
                    // A channel that has closed: realtime-js keeps the listener, which never fires.
                    Err(_) => None,
                    Ok(()) => Some(Listen::Presence(event())),
                }
            }
            "postgres_changes" => {
                let s = |k: &str| host::opt_str(&filter, k);
                let spec = bindings::spec(
                    &s("event").unwrap_or_else(|| String::from("*")),
                    s("schema").as_deref(),
                    s("table").as_deref(),
                    host::pg_filter(&filter).as_deref(),
                );
                let r = driver::with_core(&self.shared, |c, _| c.register_postgres_binding(self.id, spec));
                driver::drive(&self.shared);
                match r {
                    Err(ChannelOpError::BindingAfterSubscribe) => return Err(self.too_late(kind)),
                    Err(_) => None,
                    // An identical binding: realtime-js ignores the listener and logs it.
                    Ok(r) if !r.new => {
                        let mut m = String::from("duplicate `postgres_changes` binding for ");
                        m.push_str(&self.topic);
                        m.push_str(" ignored");
                        self.log(Level::Error, m);
                        None
                    }
                    Ok(r) => Some(Listen::Postgres(r.index)),
                }
            }
            "system" => Some(Listen::System(event() == "gap")),
            _ => {
                let mut m = String::from("unknown_listener_type: ");
                m.push_str(kind);
                m.push_str(" listeners never fire");
                self.log(Level::Warn, m);
                None
            }
        };
        if let Some(l) = listen {
            self.add_listener(l, cb);
        }
        Ok(self.this())
    }

    /// `channel.subscribe((status, err?) => void, timeout?)`; returns the channel. On a channel
    /// that is joining, joined or errored it does nothing (the callback is not kept), as
    /// realtime-js; on one that has closed it throws realtime-js's error.
    #[wasm_bindgen(skip_typescript)]
    pub fn subscribe(&self, cb: Option<Function>, timeout: Option<f64>) -> Result<JsValue, JsValue> {
        if self.state_now().is_some_and(|s| s != ChannelState::Closed) {
            return Ok(self.this());
        }
        let t = timeout.filter(|t| *t >= 0.0).map(|t| t as u64);
        let r = driver::with_core(&self.shared, |c, now| c.subscribe(self.id, t, now));
        match r {
            Ok(()) => {
                self.subscribed.set(true);
                if let Some(c) = self.shared.borrow_mut().channels.get_mut(&self.id) {
                    c.subscribe_cb = cb;
                }
                driver::drive(&self.shared);
                Ok(self.this())
            }
            // Closed after a join (or removed): Phoenix's "tried to join multiple times".
            Err(ChannelOpError::UnknownChannel) if self.subscribed.get() => {
                Err(refused(ChannelOpError::AlreadySubscribed))
            }
            Err(e) => Err(refused(e)),
        }
    }

    /// `channel.send({ type, event, payload }, { timeout? })`: a broadcast over the socket
    /// when the channel is joined, else over HTTP; `type: 'presence'` tracks or untracks.
    #[wasm_bindgen(skip_typescript)]
    pub fn send(&self, message: JsValue, opts: Option<JsValue>) -> Promise {
        let timeout = opts.and_then(|o| host::opt_num(&o, "timeout")).filter(|t| *t > 0.0).map(|t| t as u64);
        let event = host::opt_str(&message, "event").unwrap_or_default();
        let payload = host::opt_any(&message, "payload");
        if host::opt_str(&message, "type").as_deref() == Some("presence") {
            return match event.as_str() {
                "untrack" => self.untrack(),
                _ => self.track(payload),
            };
        }
        let data = if host::is_binary(&payload) {
            UserData::Binary(host::bytes_of(&payload).to_vec())
        } else if payload.is_undefined() {
            UserData::Json(String::from("{}"))
        } else {
            match host::to_json(&payload) {
                Some(text) => UserData::Json(text),
                None => {
                    let reason = "the payload cannot be serialised as JSON";
                    return Promise::reject(&refused(ChannelOpError::PayloadNotJson { reason }));
                }
            }
        };
        let r = driver::with_core(&self.shared, |c, now| {
            match c.send_broadcast_within(self.id, &event, data.clone(), timeout, now) {
                // A channel that closed sends over HTTP, as realtime-js's closed channels do.
                Err(ChannelOpError::UnknownChannel) => c.broadcast_over_http(self.target(), &event, data, timeout, now),
                other => other,
            }
        });
        self.ticket_promise(r)
    }

    /// `channel.httpSend(event, payload, { timeout? })`: the HTTP broadcast endpoint, whatever
    /// the socket; resolves `{ success: true }` on 202 and rejects otherwise, as realtime-js.
    #[wasm_bindgen(js_name = httpSend, skip_typescript)]
    pub fn http_send(&self, event: &str, payload: JsValue, opts: Option<JsValue>) -> Promise {
        if payload.is_undefined() || payload.is_null() {
            return Promise::reject(&refused(ChannelOpError::PayloadRequired));
        }
        let timeout = opts.and_then(|o| host::opt_num(&o, "timeout")).filter(|t| *t > 0.0).map(|t| t as u64);
        let Some(text) = host::to_json(&payload).filter(|_| !host::is_binary(&payload)) else {
            let reason = "httpSend() takes a JSON payload in authwire";
            return Promise::reject(&refused(ChannelOpError::PayloadNotJson { reason }));
        };
        let r = driver::with_core(&self.shared, |c, now| c.http_send(self.target(), event, &text, timeout, now));
        match r {
            Ok(t) => {
                let p = driver::http_send_promise(&self.shared, t);
                driver::drive(&self.shared);
                p
            }
            Err(e) => Promise::reject(&refused(e)),
        }
    }

    /// `channel.track(state)`.
    #[wasm_bindgen(skip_typescript)]
    pub fn track(&self, state: JsValue) -> Promise {
        let Some(text) = host::to_json(&state).filter(|t| t.starts_with('{')) else {
            return Promise::reject(&refused(ChannelOpError::PayloadNotJson { reason: "track() needs a JSON object" }));
        };
        let t = driver::with_core(&self.shared, |c, now| c.track(self.id, &text, now));
        self.ticket_promise(t)
    }

    /// `channel.untrack()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
    pub fn untrack(&self) -> Promise {
        let t = driver::with_core(&self.shared, |c, now| c.untrack(self.id, now));
        self.ticket_promise(t)
    }

    /// `channel.presenceState()`: `{ [key]: presence[] }`.
    #[wasm_bindgen(js_name = presenceState, unchecked_return_type = "Record<string, RealtimePresence[]>")]
    pub fn presence_state(&self) -> JsValue {
        let json = self.shared.borrow().core.presence_state_json(self.id).unwrap_or_else(|| String::from("{}"));
        host::parse_json(&json)
    }

    /// `channel.unsubscribe()`: leaves and closes now (`CLOSED`); resolves `'ok'`.
    #[wasm_bindgen(unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
    pub fn unsubscribe(&self) -> Promise {
        let t = driver::with_core(&self.shared, |c, now| c.unsubscribe(self.id, now));
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        p
    }
}
