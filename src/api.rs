//! The exported JavaScript API (names and shapes of `shared/api.md`).

use alloc::string::String;
use alloc::vec::Vec;

use authwire_core::error::ChannelOpError;
use authwire_core::io::{ChannelId, Ticket};
use authwire_core::realtime::bindings;
use authwire_core::realtime::ChannelOptions;
use authwire_core::{Client, ClientConfig};
use authwire_wire::frame::{UserData, Vsn};
use authwire_wire::json;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;

use crate::driver::{self, ChannelJs, Listen, Shared};
use crate::host::{self, error_kind};

fn realtime_error(e: &ChannelOpError) -> JsValue {
    host::make_error(error_kind::REALTIME, e.code(), e.message(), -1)
}

/// `isAuthError(e)`: true for errors from `client.auth`, across bundle copies (a marker, not
/// `instanceof`).
#[wasm_bindgen(js_name = isAuthError, skip_typescript)]
pub fn is_auth_error(e: &JsValue) -> bool {
    e.is_object() && Reflect::get(e, &"__isAuthError".into()).ok().and_then(|v| v.as_bool()) == Some(true)
}

/// How many tries of `realtime.reconnectAfterMs` are evaluated up front.
const RECONNECT_TABLE_LEN: u32 = 16;

/// Creates a client: `createClient(url, key, options?)`. Throws an `AuthwireError` with code
/// `invalid_url` or `missing_key` for a bad configuration.
#[wasm_bindgen(js_name = createClient, skip_typescript)]
pub fn create_client(url: &str, key: &str, options: Option<JsValue>) -> Result<AuthwireClient, JsValue> {
    let mut cfg =
        ClientConfig::new(url, key).map_err(|e| host::make_error(error_kind::BASE, e.code(), e.message(), -1))?;
    let opts = options.unwrap_or(JsValue::UNDEFINED);
    let num = |path: &str| host::opt_num(&opts, path).filter(|n| *n >= 0.0).map(|n| n as u64);
    let pairs = |path: &str| -> Vec<(String, String)> {
        host::opt_pairs(&opts, path)
            .iter()
            .filter_map(|p| {
                let p: Array = p.unchecked_into();
                Some((p.get(0).as_string()?, p.get(1).as_string()?))
            })
            .collect()
    };
    if let Some(v) = host::opt_str(&opts, "realtime.vsn") {
        cfg.realtime.vsn = Vsn::from_query(&v).ok_or_else(|| {
            host::make_error(error_kind::BASE, "invalid_option", "realtime.vsn must be '1.0.0' or '2.0.0'", -1)
        })?;
    }
    if host::opt_str(&opts, "realtime.apikey").as_deref() == Some("session") {
        cfg.apikey_mode = authwire_core::config::ApikeyMode::Session;
    }
    if let Some(ms) = num("realtime.heartbeatIntervalMs") {
        cfg.realtime.heartbeat_interval_ms = ms.max(1_000);
    }
    if let Some(ms) = num("realtime.timeout") {
        cfg.realtime.timeout_ms = ms;
    }
    if let Some(level) = host::opt_str(&opts, "realtime.logLevel") {
        // realtime-js types it 'warn' but the server only knows 'warning' (§1.2).
        cfg.realtime.log_level = Some(if level == "warn" { String::from("warning") } else { level });
    }
    cfg.realtime.params = pairs("realtime.params");
    if let Some(b) = host::opt_bool(&opts, "auth.persistSession") {
        cfg.auth.persist_session = b;
    }
    if let Some(b) = host::opt_bool(&opts, "auth.autoRefreshToken") {
        cfg.auth.auto_refresh_token = b;
    }
    if let Some(k) = host::opt_str(&opts, "auth.storageKey") {
        cfg.auth.storage_key = k;
    }
    cfg.auth.pkce = host::opt_str(&opts, "auth.flowType").as_deref() == Some("pkce");
    if let Some(b) = host::opt_bool(&opts, "auth.detectSessionInUrl") {
        cfg.auth.detect_session_in_url = b;
    }
    cfg.headers = pairs("global.headers");
    if let Some(f) = host::opt_fn(&opts, "realtime.reconnectAfterMs") {
        // The core cannot call JS mid-step: evaluate the app's schedule for the first tries
        // (realtime-js counts tries from 1); the last value repeats.
        let mut table = Vec::new();
        for tries in 1..=RECONNECT_TABLE_LEN {
            let ms = f.call1(&JsValue::NULL, &JsValue::from_f64(f64::from(tries))).ok().and_then(|v| v.as_f64());
            table.push(ms.filter(|m| m.is_finite() && *m >= 0.0).unwrap_or(1_000.0) as u64);
        }
        cfg.realtime.reconnect = authwire_core::backoff::Backoff::Steps(table.into());
    }
    let access_token_fn = host::opt_fn(&opts, "accessToken");
    cfg.third_party = access_token_fn.is_some();
    let setup = driver::Setup {
        use_worker: host::opt_bool(&opts, "realtime.worker").unwrap_or(true),
        fetch_impl: host::opt_any(&opts, "global.fetch"),
        logger: host::opt_fn(&opts, "realtime.logger"),
        storage: host::opt_any(&opts, "auth.storage"),
        access_token_fn,
    };
    let seed = host::seed() as u64;
    let shared = driver::start(Client::new(cfg, seed), setup);
    let page = host::page_url();
    driver::with_core(&shared, |c, now| c.start(page, now));
    driver::drive(&shared);
    Ok(AuthwireClient { shared })
}

/// An authwire client: the session and the Realtime socket.
#[wasm_bindgen]
pub struct AuthwireClient {
    shared: Shared,
}

fn channel_options(opts: &JsValue) -> ChannelOptions {
    let b = |path: &str| host::opt_bool(opts, path).unwrap_or(false);
    let replay = host::opt_any(opts, "config.broadcast.replay");
    let replay = (!replay.is_undefined()).then(|| authwire_wire::realtime::Replay {
        since: host::opt_num(&replay, "since").unwrap_or(0.0).max(0.0) as u64,
        limit: host::opt_num(&replay, "limit").map(|l| l.clamp(0.0, f64::from(u32::MAX)) as u32),
    });
    // A non-string presence key is used as its JSON text, as the server would stringify it.
    let key = host::opt_any(opts, "config.presence.key");
    let key = if key.is_undefined() { None } else { key.as_string().or_else(|| host::to_json(&key)) };
    ChannelOptions {
        broadcast_self: b("config.broadcast.self"),
        broadcast_ack: b("config.broadcast.ack"),
        replay,
        presence_key: key,
        presence_enabled: b("config.presence.enabled"),
        private: b("config.private"),
    }
}

#[wasm_bindgen]
impl AuthwireClient {
    /// `client.channel(name, opts?)`: the channel for `realtime:<name>` (the same object for
    /// the same name while it is registered).
    #[wasm_bindgen(skip_typescript)]
    pub fn channel(&self, name: &str, opts: Option<JsValue>) -> Result<JsValue, JsValue> {
        let opts = channel_options(&opts.unwrap_or(JsValue::UNDEFINED));
        let id = self.shared.borrow_mut().core.channel(name, opts);
        let id = id.map_err(|e| realtime_error(&e))?;
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
        let t = driver::with_core(&self.shared, |c, now| c.remove_channel(id, now));
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
            let t = driver::with_core(&self.shared, |c, now| c.remove_channel(id, now));
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

    /// `client.auth`: the session.
    #[wasm_bindgen(getter)]
    pub fn auth(&self) -> AuthApi {
        AuthApi { shared: self.shared.clone() }
    }

    /// `fetch` with `apikey` and `Authorization: Bearer <current access token>` (refreshed
    /// first when due), for PostgREST or function clients sharing the session.
    #[wasm_bindgen(skip_typescript)]
    pub fn fetch(&self, input: JsValue, init: Option<JsValue>) -> Promise {
        let init = init.unwrap_or(JsValue::UNDEFINED);
        let token = driver::with_core(&self.shared, |c, now| c.fetch_token(now));
        driver::drive(&self.shared);
        match token {
            Some(t) => {
                let (fetch_impl, key) = {
                    let inner = self.shared.borrow();
                    (inner.fetch_impl.clone(), inner.core.config().key.clone())
                };
                host::authed_fetch(&fetch_impl, &input, &init, &key, t).unchecked_into()
            }
            None => {
                // Auth is settling (start-up or a refresh): send once it has.
                let mut resolver = None;
                let p = Promise::new(&mut |resolve, _| resolver = Some(resolve));
                if let Some(r) = resolver {
                    self.shared.borrow_mut().token_waiters.push((r, input, init));
                }
                p
            }
        }
    }

    /// A plain object explaining the auth and socket state (tokens redacted).
    #[wasm_bindgen(unchecked_return_type = "AuthwireDiagnosis")]
    pub fn diagnose(&self) -> JsValue {
        let now = host::now();
        let json = self.shared.borrow().core.diagnose_json(now);
        host::parse_json(&json)
    }

    /// Leaves every channel, closes the socket and releases every timer, listener and worker.
    pub fn destroy(&self) {
        driver::with_core(&self.shared, |c, now| c.destroy(now));
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
        driver::with_core(&self.shared, |c, now| c.connect(now));
        driver::drive(&self.shared);
    }
    /// Closes the socket; channels rejoin on the next `connect()` or subscribe.
    pub fn disconnect(&self) {
        driver::with_core(&self.shared, |c, now| c.disconnect(now));
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
    /// Third-party auth only: use `token`, or ask `accessToken()` again when omitted.
    #[wasm_bindgen(js_name = setAuth)]
    pub fn set_auth(&self, token: Option<String>) -> Result<(), JsValue> {
        let r = driver::with_core(&self.shared, |c, now| c.set_auth(token, now));
        driver::drive(&self.shared);
        r.map_err(|e| host::auth_error(e.name(), e.code(), e.message(), -1))
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

    fn ticket_promise(&self, t: Result<Ticket, ChannelOpError>) -> Result<Promise, JsValue> {
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
        let s = |k: &str| host::opt_str(&filter, k);
        let listen = match kind {
            "broadcast" => Listen::Broadcast(s("event").unwrap_or_else(|| String::from("*"))),
            "presence" => {
                let r = self.shared.borrow_mut().core.enable_presence(self.id);
                r.map_err(|e| realtime_error(&e))?;
                Listen::Presence(s("event").unwrap_or_else(|| String::from("*")))
            }
            "postgres_changes" => {
                let event = s("event").unwrap_or_else(|| String::from("*"));
                let spec =
                    bindings::spec(&event, s("schema").as_deref(), s("table").as_deref(), s("filter").as_deref());
                let idx = self.shared.borrow_mut().core.add_postgres_binding(self.id, spec);
                let idx = idx.map_err(|e| realtime_error(&e))?;
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
        if let Some(c) = self.shared.borrow_mut().channels.get_mut(&self.id) {
            c.subscribe_cb = cb;
        }
        let t = timeout.filter(|t| *t >= 0.0).map(|t| t as u64);
        let r = driver::with_core(&self.shared, |c, now| c.subscribe(self.id, t, now));
        r.map_err(|e| realtime_error(&e))?;
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
        let event = host::opt_str(&message, "event").unwrap_or_default();
        let payload = host::opt_any(&message, "payload");
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
        let t = driver::with_core(&self.shared, |c, now| c.send_broadcast(self.id, &event, data, now));
        self.ticket_promise(t)
    }

    /// `channel.httpSend(event, payload)`: always the HTTP broadcast endpoint.
    #[wasm_bindgen(js_name = httpSend, unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn http_send(&self, event: &str, payload: JsValue) -> Result<Promise, JsValue> {
        let text = host::to_json(&payload).unwrap_or_else(|| String::from("{}"));
        let t = driver::with_core(&self.shared, |c, now| c.http_send(self.id, event, &text, now));
        self.ticket_promise(t)
    }

    /// `channel.track(state)`.
    #[wasm_bindgen(skip_typescript)]
    pub fn track(&self, state: JsValue) -> Result<Promise, JsValue> {
        let text = host::to_json(&state).filter(|t| t.starts_with('{')).ok_or_else(|| {
            host::make_error(error_kind::REALTIME, "payload_not_json", "track() needs a JSON object", -1)
        })?;
        let t = driver::with_core(&self.shared, |c, now| c.track(self.id, &text, now));
        self.ticket_promise(t)
    }

    /// `channel.untrack()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<'ok' | 'timed out' | 'error'>")]
    pub fn untrack(&self) -> Result<Promise, JsValue> {
        let t = driver::with_core(&self.shared, |c, now| c.untrack(self.id, now));
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
        let t = driver::with_core(&self.shared, |c, now| c.unsubscribe(self.id, now));
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        p
    }
}

/// `client.auth`.
#[wasm_bindgen]
pub struct AuthApi {
    shared: Shared,
}

const USER_SESSION: &str = r#"{"user":null,"session":null}"#;
const SESSION: &str = r#"{"session":null}"#;
const USER: &str = r#"{"user":null}"#;

impl AuthApi {
    fn json_arg(v: &JsValue) -> String {
        host::to_json(v).unwrap_or_else(|| String::from("{}"))
    }
    fn run(&self, null_data: &'static str, navigate: bool, f: impl FnOnce(&mut Client, Now) -> Ticket) -> Promise {
        let t = driver::with_core(&self.shared, f);
        driver::auth_promise(&self.shared, t, null_data, navigate)
    }
    fn not_supported(what: &'static str) -> Promise {
        let e = authwire_core::error::AuthError::NotSupported { what };
        let err = host::auth_error(e.name(), e.code(), e.message(), -1);
        Promise::resolve(&host::auth_result(Some(String::from("null")), &err))
    }
}

use authwire_core::Now;

#[wasm_bindgen]
impl AuthApi {
    /// `signUp({ email | phone, password, options? })`.
    #[wasm_bindgen(js_name = signUp, skip_typescript)]
    pub fn sign_up(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_up(&c, now))
    }
    /// `signInWithPassword({ email | phone, password })`.
    #[wasm_bindgen(js_name = signInWithPassword, skip_typescript)]
    pub fn sign_in_with_password(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_password(&c, now))
    }
    /// `signInAnonymously({ options? })`.
    #[wasm_bindgen(js_name = signInAnonymously, skip_typescript)]
    pub fn sign_in_anonymously(&self, credentials: Option<JsValue>) -> Promise {
        let c = credentials.map_or_else(|| String::from("{}"), |v| Self::json_arg(&v));
        self.run(USER_SESSION, false, |core, now| core.sign_in_anonymously(&c, now))
    }
    /// `signInWithOtp({ email | phone, options? })`.
    #[wasm_bindgen(js_name = signInWithOtp, skip_typescript)]
    pub fn sign_in_with_otp(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_otp(&c, now))
    }
    /// `verifyOtp({ email | phone, token, type } | { token_hash, type })`.
    #[wasm_bindgen(js_name = verifyOtp, skip_typescript)]
    pub fn verify_otp(&self, params: JsValue) -> Promise {
        let c = Self::json_arg(&params);
        self.run(USER_SESSION, false, |core, now| core.verify_otp(&c, now))
    }
    /// `signInWithOAuth({ provider, options? })`: navigates to the provider unless
    /// `options.skipBrowserRedirect`.
    #[wasm_bindgen(js_name = signInWithOAuth, skip_typescript)]
    pub fn sign_in_with_oauth(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        let skip = host::opt_bool(&credentials, "options.skipBrowserRedirect").unwrap_or(false);
        self.run(r#"{"provider":null,"url":null}"#, !skip, |core, now| core.sign_in_with_oauth(&c, now))
    }
    /// `exchangeCodeForSession(code)`.
    #[wasm_bindgen(js_name = exchangeCodeForSession, skip_typescript)]
    pub fn exchange_code_for_session(&self, code: &str) -> Promise {
        self.run(USER_SESSION, false, |core, now| core.exchange_code(code, now))
    }
    /// `signInWithIdToken({ provider, token, nonce? })`.
    #[wasm_bindgen(js_name = signInWithIdToken, skip_typescript)]
    pub fn sign_in_with_id_token(&self, credentials: JsValue) -> Promise {
        let c = Self::json_arg(&credentials);
        self.run(USER_SESSION, false, |core, now| core.sign_in_with_id_token(&c, now))
    }
    /// `signOut({ scope? })`.
    #[wasm_bindgen(js_name = signOut, skip_typescript)]
    pub fn sign_out(&self, options: Option<JsValue>) -> Promise {
        let scope = options.and_then(|o| host::opt_str(&o, "scope")).unwrap_or_else(|| String::from("global"));
        self.run("null", false, |core, now| core.sign_out(&scope, now))
    }
    /// `getSession()`.
    #[wasm_bindgen(js_name = getSession, skip_typescript)]
    pub fn get_session(&self) -> Promise {
        self.run(SESSION, false, |core, now| core.get_session(now))
    }
    /// `getUser(jwt?)`.
    #[wasm_bindgen(js_name = getUser, skip_typescript)]
    pub fn get_user(&self, jwt: Option<String>) -> Promise {
        self.run(USER, false, |core, now| core.get_user(jwt.as_deref(), now))
    }
    /// `getClaims(jwt?)`.
    #[wasm_bindgen(js_name = getClaims, skip_typescript)]
    pub fn get_claims(&self, jwt: Option<String>) -> Promise {
        self.run("null", false, |core, now| core.get_claims(jwt.as_deref(), now))
    }
    /// `refreshSession({ refresh_token? })`.
    #[wasm_bindgen(js_name = refreshSession, skip_typescript)]
    pub fn refresh_session(&self, current: Option<JsValue>) -> Promise {
        let rt = current.and_then(|c| host::opt_str(&c, "refresh_token"));
        self.run(USER_SESSION, false, |core, now| core.refresh_session(rt.as_deref(), now))
    }
    /// `setSession({ access_token, refresh_token })`.
    #[wasm_bindgen(js_name = setSession, skip_typescript)]
    pub fn set_session(&self, tokens: JsValue) -> Promise {
        let at = host::opt_str(&tokens, "access_token").unwrap_or_default();
        let rt = host::opt_str(&tokens, "refresh_token").unwrap_or_default();
        self.run(USER_SESSION, false, |core, now| core.set_session(&at, &rt, now))
    }
    /// `updateUser(attributes)`.
    #[wasm_bindgen(js_name = updateUser, skip_typescript)]
    pub fn update_user(&self, attributes: JsValue) -> Promise {
        let c = Self::json_arg(&attributes);
        self.run(USER, false, |core, now| core.update_user(&c, now))
    }
    /// `onAuthStateChange((event, session) => void)`: `INITIAL_SESSION` first, then transitions.
    #[wasm_bindgen(js_name = onAuthStateChange, skip_typescript)]
    pub fn on_auth_state_change(&self, callback: Function) -> JsValue {
        let id = driver::with_core(&self.shared, |c, now| c.add_auth_listener(now));
        self.shared.borrow_mut().auth_listeners.insert(id, callback.clone());
        driver::drive(&self.shared);
        let sub = host::make_subscription(AuthApi { shared: self.shared.clone() }.into(), id.0, &callback);
        let data = js_sys::Object::new();
        let _ = Reflect::set(&data, &"subscription".into(), &sub);
        let out = js_sys::Object::new();
        let _ = Reflect::set(&out, &"data".into(), &data);
        out.into()
    }
    /// Removes an auth listener (used by `subscription.unsubscribe()`).
    #[wasm_bindgen(js_name = removeListener)]
    pub fn remove_listener(&self, id: u32) {
        let mut inner = self.shared.borrow_mut();
        inner.core.remove_auth_listener(authwire_core::io::ListenerId(id));
        inner.auth_listeners.remove(&authwire_core::io::ListenerId(id));
    }
    /// `startAutoRefresh()`.
    #[wasm_bindgen(js_name = startAutoRefresh)]
    pub fn start_auto_refresh(&self) -> Promise {
        driver::with_core(&self.shared, |c, now| c.start_auto_refresh(now));
        driver::drive(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }
    /// `stopAutoRefresh()`.
    #[wasm_bindgen(js_name = stopAutoRefresh)]
    pub fn stop_auto_refresh(&self) -> Promise {
        self.shared.borrow_mut().core.stop_auto_refresh();
        driver::drive(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }
    /// Why the last sign-out happened: `{ reason, code? }`, or `null`.
    #[wasm_bindgen(js_name = signOutReason, skip_typescript)]
    pub fn sign_out_reason(&self) -> JsValue {
        let inner = self.shared.borrow();
        let Some(r) = inner.core.sign_out_reason() else { return JsValue::NULL };
        let mut w = json::ObjectWriter::new();
        w.str("reason", r.as_str());
        if let Some(c) = r.code() {
            w.str("code", c);
        }
        host::parse_json(&w.finish())
    }
    /// Not supported by authwire: resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = signInWithSSO, skip_typescript)]
    pub fn sign_in_with_sso(&self) -> Promise {
        Self::not_supported("SSO is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = signInWithWeb3, skip_typescript)]
    pub fn sign_in_with_web3(&self) -> Promise {
        Self::not_supported("Web3 sign-in is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = linkIdentity, skip_typescript)]
    pub fn link_identity(&self) -> Promise {
        Self::not_supported("identity linking is not supported by authwire")
    }
    /// Not supported by authwire.
    #[wasm_bindgen(js_name = unlinkIdentity, skip_typescript)]
    pub fn unlink_identity(&self) -> Promise {
        Self::not_supported("identity linking is not supported by authwire")
    }
    /// `auth.mfa`: every method resolves with a `not_supported` error.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn mfa(&self) -> NotSupportedApi {
        NotSupportedApi { what: "MFA is not supported by authwire" }
    }
    /// `auth.admin`: every method resolves with a `not_supported` error.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn admin(&self) -> NotSupportedApi {
        NotSupportedApi { what: "the admin API is not supported by authwire (use a server-side client)" }
    }
}

/// `auth.mfa` / `auth.admin`: out of scope, typed errors instead of missing methods.
#[wasm_bindgen(skip_typescript)]
pub struct NotSupportedApi {
    what: &'static str,
}

#[wasm_bindgen]
impl NotSupportedApi {
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = enroll)]
    pub fn enroll(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    pub fn challenge(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    pub fn verify(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = listFactors)]
    pub fn list_factors(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = listUsers)]
    pub fn list_users(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
    /// Resolves with a `not_supported` error.
    #[wasm_bindgen(js_name = createUser)]
    pub fn create_user(&self) -> Promise {
        AuthApi::not_supported(self.what)
    }
}
