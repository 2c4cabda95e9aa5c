//! `createClient` and the `AuthwireClient` it returns: option parsing, the channel registry
//! (`channel`, `getChannels`, `removeChannel(s)`), `client.fetch`, `diagnose` and `destroy`.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

use authwire_core::error::ChannelOpError;
use authwire_core::realtime::ChannelOptions;
use authwire_core::{Client, ClientConfig, ConfigError};
use authwire_wire::frame::Vsn;
use js_sys::{Array, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;

use crate::auth::AuthApi;
use crate::channel::{self, RealtimeChannel};
use crate::driver::{self, ChannelJs, Shared};
use crate::host;
use crate::realtime::RealtimeApi;

/// Creates a client: `createClient(url, key, options?)`. Throws an `AuthwireError` with code
/// `invalid_url`, `missing_key` or `invalid_option` for a bad configuration.
#[wasm_bindgen(js_name = createClient, skip_typescript)]
pub fn create_client(url: &str, key: &str, options: Option<JsValue>) -> Result<AuthwireClient, JsValue> {
    let mut cfg = ClientConfig::new(url, key).map_err(|e| host::config_error(&e))?;
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
            host::config_error(&ConfigError::InvalidOption { reason: "realtime.vsn must be '1.0.0' or '2.0.0'" })
        })?;
    }
    if host::opt_str(&opts, "realtime.apikey").as_deref() == Some("session") {
        cfg.apikey_mode = authwire_core::config::ApikeyMode::Session;
    }
    if let Some(ms) = num("realtime.heartbeatIntervalMs") {
        cfg.realtime.heartbeat_interval_ms = ms.max(1_000);
    }
    if let Some(n) = num("realtime.maxPayloadBytes") {
        cfg.realtime.max_payload_bytes = (n > 0).then_some(n as usize);
    }
    if let Some(ms) = num("realtime.timeout") {
        cfg.realtime.timeout_ms = ms;
    }
    if let Some(level) = host::opt_str(&opts, "realtime.logLevel") {
        // realtime-js types it 'warn' but the server only knows 'warning' (§1.2).
        cfg.realtime.log_level = Some(if level == "warn" { String::from("warning") } else { level });
    }
    // Any JSON value, serialised as Phoenix does (`eventsPerSecond: 10`, nested `a[b]`).
    cfg.realtime.params = host::opt_params(&opts, "realtime.params")
        .iter()
        .filter_map(|p| {
            let p: Array = p.unchecked_into();
            Some((p.get(0).as_string()?, p.get(1).as_string()?))
        })
        .collect();
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
    // Called for each reconnect attempt with realtime-js's `tries` (the driver answers the
    // core's `ReconnectDelay` output); without it, the default full-jitter policy.
    let reconnect_fn = host::opt_fn(&opts, "realtime.reconnectAfterMs");
    cfg.realtime.reconnect_from_app = reconnect_fn.is_some();
    let access_token_fn = host::opt_fn(&opts, "accessToken");
    cfg.third_party = access_token_fn.is_some();
    let setup = driver::Setup {
        use_worker: host::opt_bool(&opts, "realtime.worker").unwrap_or(true),
        fetch_impl: host::opt_any(&opts, "global.fetch"),
        logger: host::opt_fn(&opts, "realtime.logger"),
        storage: host::opt_any(&opts, "auth.storage"),
        access_token_fn,
        reconnect_fn,
    };
    let seed = host::seed() as u64;
    let shared = driver::start(Client::new(cfg, seed), setup);
    let page = host::page_url();
    driver::with_core(&shared, |c, now| c.start(page, now));
    driver::drive(&shared);
    let auth = AuthApi::new(shared.clone()).into();
    let fetch_shared = shared.clone();
    let fetch = Closure::new(move |input, init| authed_fetch(&fetch_shared, input, init));
    Ok(AuthwireClient { shared, auth, fetch })
}

/// `client.fetch(input, init?)`: `fetch` with `apikey` and `Authorization: Bearer <current
/// access token>`, sent once auth has settled (start-up or a refresh due).
fn authed_fetch(shared: &Shared, input: JsValue, init: JsValue) -> Promise {
    if driver::is_destroyed(shared) {
        return Promise::reject(&host::destroyed_error());
    }
    let token = driver::with_core(shared, |c, now| c.fetch_token(now));
    driver::drive(shared);
    match token {
        Some(t) => {
            let (fetch_impl, key, project) = {
                let inner = shared.borrow();
                (inner.fetch_impl.clone(), inner.core.config().key.clone(), inner.core.config().url.http(""))
            };
            host::authed_fetch(&fetch_impl, &input, &init, &key, t, &project).unchecked_into()
        }
        None => {
            // Auth is settling (start-up or a refresh): send once it has.
            let mut fns = None;
            let p = Promise::new(&mut |resolve, reject| fns = Some((resolve, reject)));
            if let Some((resolve, reject)) = fns {
                shared.borrow_mut().token_waiters.push((resolve, reject, input, init));
            }
            p
        }
    }
}

/// An authwire client: the session and the Realtime socket.
#[wasm_bindgen]
pub struct AuthwireClient {
    shared: Shared,
    /// The one `client.auth` object (`client.auth === client.auth`, as supabase-js).
    auth: JsValue,
    /// The one `client.fetch` function: a closure, so it works unbound
    /// (`new PostgrestClient(url, { fetch: client.fetch })`), as supabase-js's own property.
    fetch: Closure<dyn Fn(JsValue, JsValue) -> Promise>,
}

fn channel_options(opts: &JsValue) -> ChannelOptions {
    let b = |path: &str| host::opt_bool(opts, path).unwrap_or(false);
    let replay = host::opt_any(opts, "config.broadcast.replay");
    // `replay: false` (authwire): no replay on rejoin either.
    let replay_on_rejoin = replay.as_bool() != Some(false);
    let replay = (replay.is_object()).then(|| authwire_wire::realtime::Replay {
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
        replay_on_rejoin,
        presence_key: key,
        presence_enabled: b("config.presence.enabled"),
        private: b("config.private"),
    }
}

#[wasm_bindgen]
impl AuthwireClient {
    /// `client.channel(name, opts?)`: the channel for `realtime:<name>` (the same object for
    /// the same name while it is registered; one that has closed frees the name at once).
    #[wasm_bindgen(skip_typescript)]
    pub fn channel(&self, name: &str, opts: Option<JsValue>) -> Result<JsValue, JsValue> {
        let opts = channel_options(&opts.unwrap_or(JsValue::UNDEFINED));
        let private = opts.private;
        let id = self.shared.borrow_mut().core.channel(name, opts);
        let id = id.map_err(|e| match e {
            ChannelOpError::ReplayOnPublicChannel => {
                // realtime-js's wording, which names the topic.
                let mut m = String::from("tried to use replay on public channel 'realtime:");
                m.push_str(name.strip_prefix("realtime:").unwrap_or(name));
                m.push_str("'. It must be a private channel.");
                host::realtime_error(e.code(), &m, None)
            }
            e => channel::refused(e),
        })?;
        if let Some(c) = self.shared.borrow().channels.get(&id) {
            return Ok(c.obj.clone());
        }
        let topic = self.shared.borrow().core.channel_info(id).map(|i| i.topic).unwrap_or_default();
        let obj: JsValue =
            RealtimeChannel { shared: self.shared.clone(), id, topic, private, subscribed: Cell::new(false) }.into();
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

    /// `client.removeChannel(channel)`: unsubscribes and forgets it; its callback sees
    /// `CLOSED` first, and the name is free at once.
    #[wasm_bindgen(js_name = removeChannel, unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
    pub fn remove_channel(&self, channel: &RealtimeChannel) -> Promise {
        let id = channel.id;
        let t = driver::with_core(&self.shared, |c, now| c.remove_channel(id, now));
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        p
    }

    /// `client.removeAllChannels()`: removes every channel, then disconnects the socket.
    #[wasm_bindgen(js_name = removeAllChannels, unchecked_return_type = "Promise<RealtimeChannelSendResponse[]>")]
    pub fn remove_all_channels(&self) -> Promise {
        let tickets = driver::with_core(&self.shared, |c, now| c.remove_all_channels(now));
        let all = Array::new();
        for t in tickets {
            all.push(&driver::promise_for(&self.shared, t));
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
    #[wasm_bindgen(getter, unchecked_return_type = "AuthApi")]
    pub fn auth(&self) -> JsValue {
        self.auth.clone()
    }

    /// `client.fetch`: `fetch` with `apikey` and `Authorization: Bearer <current access
    /// token>` (refreshed first when due), for PostgREST or function clients sharing the
    /// session. The same function each time, usable unbound.
    #[wasm_bindgen(getter, skip_typescript)]
    pub fn fetch(&self) -> JsValue {
        self.fetch.as_ref().clone()
    }

    /// A plain object explaining the auth and socket state (tokens redacted).
    #[wasm_bindgen(unchecked_return_type = "AuthwireDiagnosis")]
    pub fn diagnose(&self) -> JsValue {
        let now = host::now();
        let json = self.shared.borrow().core.diagnose_json(now);
        host::parse_json(&json)
    }

    /// The one terminal state: leaves every channel, closes the socket, releases the session
    /// lock, and settles every waiting promise with `destroyed` (pushes `'error'`, auth
    /// results `{ error }` with code `destroyed`, `httpSend()` and `client.fetch` rejected,
    /// `disconnect()` `'ok'`); then every browser resource goes (socket, timers, the heartbeat
    /// Worker, page listeners, the cross-tab channel, lock requests, fetches) and every
    /// callback is dropped. Every later call answers `destroyed` the same way; nothing is
    /// called back. From inside a listener it takes effect once the current event has
    /// reached every listener. Calling it again does nothing.
    pub fn destroy(&self) {
        driver::with_core(&self.shared, |c, now| c.destroy(now));
        driver::drive(&self.shared);
    }
}
