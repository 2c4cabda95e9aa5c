//! The exported JavaScript API (names and shapes of `shared/api.md`).

use alloc::string::String;
use alloc::vec::Vec;

use authwire_core::error::ChannelOpError;
use authwire_core::io::ChannelId;
use authwire_core::realtime::bindings;
use authwire_core::realtime::ChannelOptions;
use authwire_core::{Client, ClientConfig};
use authwire_wire::frame::{UserData, Vsn};
use authwire_wire::json::{self, Value};
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::driver::{self, ChannelJs, Listen, Shared};
use crate::host::{self, error_kind};

fn realtime_error(e: &ChannelOpError) -> JsValue {
    host::make_error(error_kind::REALTIME, e.code(), e.message(), -1)
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    Some(cur)
}

fn js_get(obj: &JsValue, path: &[&str]) -> Option<JsValue> {
    let mut cur = obj.clone();
    for p in path {
        if !cur.is_object() {
            return None;
        }
        cur = Reflect::get(&cur, &JsValue::from_str(p)).ok()?;
    }
    if cur.is_undefined() || cur.is_null() {
        None
    } else {
        Some(cur)
    }
}

/// Creates a client: `createClient(url, key, options?)`. Throws an `AuthwireError` with code
/// `invalid_url` or `missing_key` for a bad configuration.
#[wasm_bindgen(js_name = createClient, skip_typescript)]
pub fn create_client(url: &str, key: &str, options: Option<JsValue>) -> Result<AuthwireClient, JsValue> {
    let mut cfg =
        ClientConfig::new(url, key).map_err(|e| host::make_error(error_kind::BASE, e.code(), e.message(), -1))?;
    let opts = options.unwrap_or(JsValue::UNDEFINED);
    let parsed = host::to_json(&opts).and_then(|t| json::parse(&t).ok()).unwrap_or(Value::Null);
    let num = |path: &[&str]| get(&parsed, path).and_then(Value::as_i64).filter(|n| *n >= 0).map(|n| n as u64);
    if let Some(v) = get(&parsed, &["realtime", "vsn"]).and_then(Value::as_str) {
        cfg.realtime.vsn = Vsn::from_query(v).ok_or_else(|| {
            host::make_error(error_kind::BASE, "invalid_option", "realtime.vsn must be '1.0.0' or '2.0.0'", -1)
        })?;
    }
    if get(&parsed, &["realtime", "apikey"]).and_then(Value::as_str) == Some("session") {
        cfg.apikey_mode = authwire_core::config::ApikeyMode::Session;
    }
    if let Some(ms) = num(&["realtime", "heartbeatIntervalMs"]) {
        cfg.realtime.heartbeat_interval_ms = ms.max(1_000);
    }
    if let Some(ms) = num(&["realtime", "timeout"]) {
        cfg.realtime.timeout_ms = ms;
    }
    if let Some(level) = get(&parsed, &["realtime", "logLevel"]).and_then(Value::as_str) {
        // realtime-js types it 'warn' but the server only knows 'warning' (§1.2).
        cfg.realtime.log_level = Some(String::from(if level == "warn" { "warning" } else { level }));
    }
    if let Some(params) = get(&parsed, &["realtime", "params"]).and_then(Value::as_object) {
        for (k, v) in params {
            if let Some(s) = v.as_str() {
                cfg.realtime.params.push((k.clone(), String::from(s)));
            }
        }
    }
    let use_worker = get(&parsed, &["realtime", "worker"]).and_then(Value::as_bool).unwrap_or(true);
    let fetch_impl = js_get(&opts, &["global", "fetch"]).unwrap_or(JsValue::UNDEFINED);
    let logger = js_get(&opts, &["realtime", "logger"]).and_then(|f| f.dyn_into::<Function>().ok());
    let seed = host::seed() as u64;
    let shared = driver::start(Client::new(cfg, seed), use_worker, fetch_impl, logger);
    Ok(AuthwireClient { shared })
}

/// An authwire client: the session and the Realtime socket.
#[wasm_bindgen]
pub struct AuthwireClient {
    shared: Shared,
}

fn channel_options(opts: &JsValue) -> ChannelOptions {
    let parsed = host::to_json(opts).and_then(|t| json::parse(&t).ok()).unwrap_or(Value::Null);
    let b = |path: &[&str]| get(&parsed, path).and_then(Value::as_bool).unwrap_or(false);
    let replay = get(&parsed, &["config", "broadcast", "replay"]).map(|r| authwire_wire::realtime::Replay {
        since: r.get("since").and_then(Value::as_i64).unwrap_or(0).max(0) as u64,
        limit: r.get("limit").and_then(Value::as_i64).map(|l| l.clamp(0, i64::from(u32::MAX)) as u32),
    });
    let key = get(&parsed, &["config", "presence", "key"]).map(|k| match k {
        Value::Str(s) => s.clone(),
        other => other.to_json(),
    });
    ChannelOptions {
        broadcast_self: b(&["config", "broadcast", "self"]),
        broadcast_ack: b(&["config", "broadcast", "ack"]),
        replay,
        presence_key: key,
        presence_enabled: b(&["config", "presence", "enabled"]),
        private: b(&["config", "private"]),
    }
}

#[wasm_bindgen]
impl AuthwireClient {
    /// `client.channel(name, opts?)`: the channel for `realtime:<name>` (the same object for
    /// the same name while it is registered).
    #[wasm_bindgen(skip_typescript)]
    pub fn channel(&self, name: &str, opts: Option<JsValue>) -> Result<JsValue, JsValue> {
        let opts = channel_options(&opts.unwrap_or(JsValue::UNDEFINED));
        let id = self.shared.borrow_mut().core.channel(name, opts).map_err(|e| realtime_error(&e))?;
        if let Some(c) = self.shared.borrow().channels.get(&id) {
            return Ok(c.obj.clone());
        }
        let obj: JsValue = RealtimeChannel { shared: self.shared.clone(), id }.into();
        self.shared
            .borrow_mut()
            .channels
            .insert(id, ChannelJs { obj: obj.clone(), subscribe_cb: None, listeners: Vec::new() });
        Ok(obj)
    }

    /// `client.getChannels()`.
    #[wasm_bindgen(js_name = getChannels, unchecked_return_type = "RealtimeChannel[]")]
    pub fn get_channels(&self) -> Array {
        let inner = self.shared.borrow();
        let out = Array::new();
        for id in inner.core.channel_ids() {
            if let Some(c) = inner.channels.get(&id) {
                out.push(&c.obj);
            }
        }
        out
    }

    /// `client.removeChannel(channel)`: unsubscribes and forgets it.
    #[wasm_bindgen(js_name = removeChannel, unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn remove_channel(&self, channel: &RealtimeChannel) -> Promise {
        let id = channel.id;
        let t = self.shared.borrow_mut().core.remove_channel(id, host::now());
        let p = driver::promise_for(&self.shared, t);
        self.shared.borrow_mut().channels.remove(&id);
        driver::drive(&self.shared);
        p
    }

    /// `client.removeAllChannels()`.
    #[wasm_bindgen(js_name = removeAllChannels, unchecked_return_type = "Promise<('ok' | 'timed out' | 'error')[]>")]
    pub fn remove_all_channels(&self) -> Promise {
        let ids = self.shared.borrow().core.channel_ids();
        let all = Array::new();
        for id in ids {
            let t = self.shared.borrow_mut().core.remove_channel(id, host::now());
            all.push(&driver::promise_for(&self.shared, t));
            self.shared.borrow_mut().channels.remove(&id);
        }
        driver::drive(&self.shared);
        Promise::all(&all)
    }

    /// `client.realtime`: socket controls.
    #[wasm_bindgen(getter)]
    pub fn realtime(&self) -> RealtimeApi {
        RealtimeApi { shared: self.shared.clone() }
    }

    /// Leaves every channel, closes the socket and releases every timer, listener and worker.
    pub fn destroy(&self) {
        self.shared.borrow_mut().core.destroy(host::now());
        driver::drive(&self.shared);
        let mut inner = self.shared.borrow_mut();
        inner.channels.clear();
        inner.heartbeat.clear();
    }
}

/// `client.realtime`.
#[wasm_bindgen]
pub struct RealtimeApi {
    shared: Shared,
}

#[wasm_bindgen]
impl RealtimeApi {
    /// Connects the socket even without channels.
    pub fn connect(&self) {
        self.shared.borrow_mut().core.connect(host::now());
        driver::drive(&self.shared);
    }
    /// Closes the socket; channels rejoin on the next `connect()` or subscribe.
    pub fn disconnect(&self) {
        self.shared.borrow_mut().core.disconnect(host::now());
        driver::drive(&self.shared);
    }
    /// `'connecting' | 'open' | 'closing' | 'closed'`.
    #[wasm_bindgen(js_name = connectionState, unchecked_return_type = "'connecting' | 'open' | 'closing' | 'closed'")]
    pub fn connection_state(&self) -> String {
        String::from(self.shared.borrow().core.connection_state().as_str())
    }
    /// `true` when the socket is open.
    #[wasm_bindgen(js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.shared.borrow().core.connection_state() == authwire_core::realtime::ConnectionState::Open
    }
    /// Listens to heartbeats: `(status, latencyMs?) => void`.
    #[wasm_bindgen(js_name = onHeartbeat)]
    pub fn on_heartbeat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: HeartbeatStatus, latencyMs?: number) => void")] cb: Function,
    ) {
        self.shared.borrow_mut().heartbeat.push(cb);
    }
}

/// A Realtime channel.
#[wasm_bindgen]
pub struct RealtimeChannel {
    shared: Shared,
    id: ChannelId,
}

impl RealtimeChannel {
    fn this(&self) -> JsValue {
        self.shared.borrow().channels.get(&self.id).map_or(JsValue::UNDEFINED, |c| c.obj.clone())
    }

    fn add_listener(&self, l: Listen, cb: Function) -> Result<(), JsValue> {
        let mut inner = self.shared.borrow_mut();
        let c = inner.channels.get_mut(&self.id).ok_or_else(|| realtime_error(&ChannelOpError::UnknownChannel))?;
        c.listeners.push((l, cb));
        Ok(())
    }

    fn ticket_promise(&self, t: Result<authwire_core::io::Ticket, ChannelOpError>) -> Result<Promise, JsValue> {
        let t = t.map_err(|e| realtime_error(&e))?;
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        Ok(p)
    }
}

#[wasm_bindgen]
impl RealtimeChannel {
    /// `realtime:<name>`.
    #[wasm_bindgen(getter)]
    pub fn topic(&self) -> String {
        self.shared.borrow().core.channel_info(self.id).map(|i| i.topic).unwrap_or_default()
    }

    /// `'closed' | 'joining' | 'joined' | 'leaving' | 'errored'`.
    #[wasm_bindgen(getter, unchecked_return_type = "RealtimeChannelState")]
    pub fn state(&self) -> String {
        let st = self.shared.borrow().core.channel_info(self.id).map(|i| i.state);
        String::from(st.map_or("closed", |s| s.as_str()))
    }

    /// The role of the token the server accepted for this channel (`anon`, `authenticated`, …).
    #[wasm_bindgen(js_name = effectiveRole)]
    pub fn effective_role(&self) -> Option<String> {
        self.shared.borrow().core.channel_info(self.id).and_then(|i| i.effective_role)
    }

    /// `channel.on(type, filter, callback)`; returns the channel.
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, kind: &str, filter: JsValue, cb: Function) -> Result<JsValue, JsValue> {
        let f = host::to_json(&filter).and_then(|t| json::parse(&t).ok()).unwrap_or(Value::Null);
        let s = |k: &str| f.get(k).and_then(Value::as_str).map(String::from);
        let listen = match kind {
            "broadcast" => Listen::Broadcast(s("event").unwrap_or_else(|| String::from("*"))),
            "presence" => {
                self.shared.borrow_mut().core.enable_presence(self.id).map_err(|e| realtime_error(&e))?;
                Listen::Presence(s("event").unwrap_or_else(|| String::from("*")))
            }
            "postgres_changes" => {
                let event = s("event").unwrap_or_else(|| String::from("*"));
                let spec =
                    bindings::spec(&event, s("schema").as_deref(), s("table").as_deref(), s("filter").as_deref());
                let idx = self
                    .shared
                    .borrow_mut()
                    .core
                    .add_postgres_binding(self.id, spec)
                    .map_err(|e| realtime_error(&e))?;
                Listen::Postgres(idx)
            }
            "system" => Listen::System,
            _ => {
                return Err(host::make_error(
                    error_kind::REALTIME,
                    "unknown_listener_type",
                    "unknown listener type",
                    -1,
                ));
            }
        };
        self.add_listener(listen, cb)?;
        Ok(self.this())
    }

    /// `channel.subscribe((status, err?) => void, timeout?)`; returns the channel.
    #[wasm_bindgen(skip_typescript)]
    pub fn subscribe(&self, cb: Option<Function>, timeout: Option<f64>) -> Result<JsValue, JsValue> {
        {
            let mut inner = self.shared.borrow_mut();
            if let Some(c) = inner.channels.get_mut(&self.id) {
                c.subscribe_cb = cb;
            }
            let t = timeout.filter(|t| *t >= 0.0).map(|t| t as u64);
            inner.core.subscribe(self.id, t, host::now()).map_err(|e| realtime_error(&e))?;
        }
        driver::drive(&self.shared);
        Ok(self.this())
    }

    /// `channel.send({ type: 'broadcast', event, payload })`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ type: 'broadcast'; event: string; payload?: unknown }")]
        message: JsValue,
    ) -> Result<Promise, JsValue> {
        let event = js_get(&message, &["event"]).and_then(|e| e.as_string()).unwrap_or_default();
        let payload = js_get(&message, &["payload"]).unwrap_or(JsValue::UNDEFINED);
        let data = if host::is_binary(&payload) {
            UserData::Binary(host::bytes_of(&payload).to_vec())
        } else if payload.is_undefined() {
            UserData::Json(String::from("{}"))
        } else {
            let text = host::to_json(&payload).ok_or_else(|| {
                host::make_error(
                    error_kind::REALTIME,
                    "payload_not_json",
                    "the payload cannot be serialised as JSON",
                    -1,
                )
            })?;
            UserData::Json(text)
        };
        let t = self.shared.borrow_mut().core.send_broadcast(self.id, &event, data, host::now());
        self.ticket_promise(t)
    }

    /// `channel.track(state)`.
    #[wasm_bindgen(skip_typescript)]
    pub fn track(&self, state: JsValue) -> Result<Promise, JsValue> {
        let text = host::to_json(&state).filter(|t| t.starts_with('{')).ok_or_else(|| {
            host::make_error(error_kind::REALTIME, "payload_not_json", "track() needs a JSON object", -1)
        })?;
        let t = self.shared.borrow_mut().core.track(self.id, &text, host::now());
        self.ticket_promise(t)
    }

    /// `channel.untrack()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn untrack(&self) -> Result<Promise, JsValue> {
        let t = self.shared.borrow_mut().core.untrack(self.id, host::now());
        self.ticket_promise(t)
    }

    /// `channel.presenceState()`: `{ [key]: presence[] }`.
    #[wasm_bindgen(js_name = presenceState, unchecked_return_type = "Record<string, RealtimePresence[]>")]
    pub fn presence_state(&self) -> JsValue {
        let json = self.shared.borrow().core.presence_state_json(self.id).unwrap_or_else(|| String::from("{}"));
        host::parse_json(&json)
    }

    /// `channel.unsubscribe()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn unsubscribe(&self) -> Promise {
        let t = self.shared.borrow_mut().core.unsubscribe(self.id, host::now());
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        p
    }
}
