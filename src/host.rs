//! The bridge to `js/glue.js`, the JavaScript half of the shell, in both directions: the
//! imports the driver calls (the `Host` object that runs side work, the delivery functions,
//! option readers; the error classes of `js/errors.js`) and [`HostEvents`], the exported object through which
//! the host reports every result, one named method per kind of report.

use alloc::rc::Weak;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use authwire_core::io::{ConnId, Input, RequestId, WireMsg};
use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

use crate::driver::{self, Inner};

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// The JS object that runs side work and reports to a [`HostEvents`].
    #[derive(Clone)]
    pub(crate) type Host;

    #[wasm_bindgen(constructor)]
    pub(crate) fn new(events: HostEvents, use_worker: bool) -> Host;
    #[wasm_bindgen(method)]
    pub(crate) fn connect(this: &Host, conn: u32, url: &str);
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_text(this: &Host, conn: u32, data: &str);
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_bytes(this: &Host, conn: u32, data: &[u8]);
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &Host, conn: u32, code: u16, reason: &str);
    /// Arms the one host timer in `ms`, or disarms it (`None`).
    #[wasm_bindgen(method, js_name = setTimer)]
    pub(crate) fn set_timer(this: &Host, ms: Option<f64>);
    #[wasm_bindgen(method)]
    pub(crate) fn fetch(
        this: &Host,
        id: f64,
        method: &str,
        url: &str,
        headers: &Array,
        body: Option<String>,
        fetch_impl: &JsValue,
    );
    #[wasm_bindgen(method)]
    pub(crate) fn dispose(this: &Host);
    #[wasm_bindgen(method)]
    pub(crate) fn auth(this: &Host, storage: &JsValue, storage_key: &str, persist: bool);
    #[wasm_bindgen(method, js_name = storageGet)]
    pub(crate) fn storage_get(this: &Host, id: f64, key: &str);
    #[wasm_bindgen(method, js_name = storageSet)]
    pub(crate) fn storage_set(this: &Host, id: f64, key: &str, value: &str);
    #[wasm_bindgen(method, js_name = storageRemove)]
    pub(crate) fn storage_remove(this: &Host, id: f64, key: &str);
    #[wasm_bindgen(method)]
    pub(crate) fn lock(this: &Host, id: f64, name: &str, timeout_ms: f64);
    #[wasm_bindgen(method)]
    pub(crate) fn unlock(this: &Host, id: f64);
    #[wasm_bindgen(method)]
    pub(crate) fn post(this: &Host, json: &str);
    #[wasm_bindgen(method)]
    pub(crate) fn digest(this: &Host, id: f64, data: &str);
    #[wasm_bindgen(method)]
    pub(crate) fn verify(this: &Host, id: f64, alg: &str, jwk: &str, signed: &str, signature: &str);
    #[wasm_bindgen(method, js_name = replaceUrl)]
    pub(crate) fn replace_url(this: &Host, url: &str);
    #[wasm_bindgen(method, js_name = accessToken)]
    pub(crate) fn access_token(this: &Host, f: &Function);
    /// Aborts fetch `id` (no report follows).
    #[wasm_bindgen(method)]
    pub(crate) fn abort(this: &Host, id: f64);

    #[wasm_bindgen(js_name = authResult)]
    pub(crate) fn auth_result(data: &str, error: &JsValue) -> JsValue;
    /// `fetch` with `apikey` and the bearer token when `input` is on the project's origin
    /// (`project`: its URL); to any other origin, the app's request as it is.
    #[wasm_bindgen(js_name = authedFetch)]
    pub(crate) fn authed_fetch(
        fetch_impl: &JsValue,
        input: &JsValue,
        init: &JsValue,
        apikey: &str,
        token: Option<String>,
        project: &str,
    ) -> JsValue;
    /// `{ data: { subscription } }` for `onAuthStateChange`.
    #[wasm_bindgen(js_name = authSubscription)]
    pub(crate) fn auth_subscription(api: JsValue, id: u32, cb: &Function) -> JsValue;
    #[wasm_bindgen(js_name = navigate)]
    pub(crate) fn navigate(url: &str);
    #[wasm_bindgen(js_name = pageUrl)]
    pub(crate) fn page_url() -> Option<String>;

    /// Calls each of `fns` with `(status, detail)`: subscribe statuses (with a
    /// `RealtimeError` or `undefined`) and heartbeats (with the latency or `undefined`).
    #[wasm_bindgen(js_name = deliverStatus)]
    pub(crate) fn deliver_status(fns: &Array, status: &str, detail: &JsValue);
    /// Calls each of `fns` with the parsed JSON payload (presence).
    #[wasm_bindgen(js_name = deliverJson)]
    pub(crate) fn deliver_json(fns: &Array, json: &str);
    /// Calls each of `fns` with a `system` payload, authwire's `code` added when there is one.
    #[wasm_bindgen(js_name = deliverSystem)]
    pub(crate) fn deliver_system(fns: &Array, json: &str, code: Option<&str>);
    /// Calls each of `fns` with a Postgres change, its values typed by column.
    #[wasm_bindgen(js_name = deliverChange)]
    pub(crate) fn deliver_change(fns: &Array, json: &str);
    /// Calls each of `fns` with a broadcast; binary user data becomes its `payload`.
    #[wasm_bindgen(js_name = deliverBroadcast)]
    pub(crate) fn deliver_broadcast(fns: &Array, json: &str, binary: Option<&[u8]>);
    /// Calls each of `fns` with `(event, session)`.
    #[wasm_bindgen(js_name = deliverAuth)]
    pub(crate) fn deliver_auth(fns: &Array, event: &str, session: Option<String>);
    /// Calls the app's `realtime.logger` with `(kind, msg, data)`.
    pub(crate) fn log(logger: &Function, kind: &str, msg: &str, data: &JsValue);
    /// `reconnectAfterMs(tries)`: a delay in ms, or `None` when it threw or gave no usable
    /// number.
    #[wasm_bindgen(js_name = callForMs)]
    pub(crate) fn call_for_ms(f: &Function, tries: u32) -> Option<f64>;
    #[wasm_bindgen(js_name = resolveWith)]
    pub(crate) fn resolve_with(f: &Function, value: &JsValue);

    #[wasm_bindgen(js_name = parseJson)]
    pub(crate) fn parse_json(text: &str) -> JsValue;
    #[wasm_bindgen(js_name = toJson)]
    pub(crate) fn to_json(value: &JsValue) -> Option<String>;
    #[wasm_bindgen(js_name = optStr)]
    pub(crate) fn opt_str(obj: &JsValue, path: &str) -> Option<String>;
    #[wasm_bindgen(js_name = optNum)]
    pub(crate) fn opt_num(obj: &JsValue, path: &str) -> Option<f64>;
    #[wasm_bindgen(js_name = optBool)]
    pub(crate) fn opt_bool(obj: &JsValue, path: &str) -> Option<bool>;
    #[wasm_bindgen(js_name = optFn)]
    pub(crate) fn opt_fn(obj: &JsValue, path: &str) -> Option<Function>;
    #[wasm_bindgen(js_name = optAny)]
    pub(crate) fn opt_any(obj: &JsValue, path: &str) -> JsValue;
    #[wasm_bindgen(js_name = optPairs)]
    pub(crate) fn opt_pairs(obj: &JsValue, path: &str) -> Array;
    /// Socket URL parameters of any JSON type as `[key, text]` pairs, flattened as Phoenix
    /// serialises them (`a[b]=…`).
    #[wasm_bindgen(js_name = optParams)]
    pub(crate) fn opt_params(obj: &JsValue, path: &str) -> Array;
    /// A `postgres_changes` listener's `filter`: the string, or what a filter builder builds.
    #[wasm_bindgen(js_name = pgFilter)]
    pub(crate) fn pg_filter(spec: &JsValue) -> Option<String>;
    #[wasm_bindgen(js_name = isBinary)]
    pub(crate) fn is_binary(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = bytesOf)]
    pub(crate) fn bytes_of(value: &JsValue) -> Uint8Array;
    #[wasm_bindgen(js_name = nowMono)]
    pub(crate) fn now_mono() -> f64;
    #[wasm_bindgen(js_name = nowWall)]
    fn now_wall() -> f64;
    /// A seed for the core's jitter generator (never for secrets).
    pub(crate) fn seed() -> f64;
    /// `len` bytes of `crypto.getRandomValues`, or `None` when the runtime has none.
    #[wasm_bindgen(js_name = randomBytes)]
    pub(crate) fn random_bytes(len: u32) -> Option<Uint8Array>;
}

/// The error classes (`js/errors.js`), made in Rust, thrown or returned to the app.
#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    /// `AuthwireError` (a refused configuration).
    type AuthwireError;
    #[wasm_bindgen(constructor)]
    fn new(code: &str, message: &str) -> AuthwireError;
    /// An auth error of auth-js's class `name` (`extra`: the weak password's reasons or the
    /// URL error's details, as JSON).
    #[wasm_bindgen(js_name = authErrorOf)]
    fn auth_error_of(name: &str, code: &str, message: &str, status: Option<u16>, extra: Option<String>) -> JsValue;
    /// `RealtimeError`.
    type RealtimeError;
    #[wasm_bindgen(constructor)]
    // `cause`: JSON text, realtime-js's `Error` `cause`.
    fn new(code: &str, message: &str, cause: Option<&str>) -> RealtimeError;

    /// `isAuthError(e)`: the marker test, defined next to the class that sets the marker.
    #[wasm_bindgen(js_name = isAuthError)]
    pub(crate) fn is_auth_error(e: &JsValue) -> bool;
}

/// Both clocks now.
pub(crate) fn now() -> authwire_core::Now {
    authwire_core::Now::new(now_mono() as u64, now_wall() as u64)
}

/// An `AuthwireError` for a refused configuration.
pub(crate) fn config_error(e: &authwire_core::ConfigError) -> JsValue {
    AuthwireError::new(e.code(), e.message()).into()
}

/// The `AuthwireError` (code `destroyed`) a call after `destroy()` rejects with, where no
/// typed result of its own carries it (`client.fetch`).
pub(crate) fn destroyed_error() -> JsValue {
    let e = authwire_core::error::AuthError::Destroyed;
    AuthwireError::new(e.code(), e.message()).into()
}

/// An auth error of auth-js's class for `e`, with the code and the HTTP status (if any).
pub(crate) fn auth_error(e: &authwire_core::error::AuthError) -> JsValue {
    auth_error_of(e.name(), e.code(), e.message(), e.status(), crate::auth::error_extra(e))
}

/// A `RealtimeError` (a channel status's reason, or a refused channel call), with realtime-js's
/// `cause` (JSON text) where there is one.
pub(crate) fn realtime_error(code: &str, message: &str, cause: Option<&str>) -> JsValue {
    RealtimeError::new(code, message, cause).into()
}

/// What the host reports, one method per kind of report; `js/glue.js` holds the one object
/// of a client and drops it on `dispose()`. Reports for a client that is gone are ignored.
#[wasm_bindgen(skip_typescript)]
pub struct HostEvents {
    pub(crate) shared: Weak<RefCell<Inner>>,
}

impl HostEvents {
    fn feed(&self, input: Input) {
        if let Some(shared) = self.shared.upgrade() {
            driver::feed(&shared, input);
        }
    }
    /// `feed` with the clocks the JS side read with the event (one crossing less each).
    fn feed_at(&self, input: Input, mono: f64, wall: f64) {
        if let Some(shared) = self.shared.upgrade() {
            driver::feed_at(&shared, input, authwire_core::Now::new(mono as u64, wall as u64));
        }
    }
}

#[wasm_bindgen]
impl HostEvents {
    /// The WebSocket of `conn` opened.
    pub fn opened(&self, conn: u32) {
        self.feed(Input::SocketOpened { conn: ConnId(conn) });
    }
    /// A text frame arrived on `conn`; `mono`, `wall`: the clocks (`nowMono()`, `nowWall()`)
    /// read with it, so the busiest input costs no calls back into JS for them.
    pub fn message(&self, conn: u32, text: String, mono: f64, wall: f64) {
        self.feed_at(Input::SocketMessage { conn: ConnId(conn), msg: WireMsg::Text(text) }, mono, wall);
    }
    /// A binary frame arrived on `conn` (clocks as for [`HostEvents::message`]).
    #[wasm_bindgen(js_name = binaryMessage)]
    pub fn binary_message(&self, conn: u32, bytes: Vec<u8>, mono: f64, wall: f64) {
        self.feed_at(Input::SocketMessage { conn: ConnId(conn), msg: WireMsg::Binary(bytes) }, mono, wall);
    }
    /// `conn` closed, or failed to open (1006).
    pub fn closed(&self, conn: u32, code: u16, reason: String) {
        self.feed(Input::SocketClosed { conn: ConnId(conn), code, reason });
    }
    /// The host timer fired.
    pub fn timer(&self) {
        if let Some(shared) = self.shared.upgrade() {
            driver::timer_fired(&shared);
        }
    }
    /// An HTTP response, any status.
    #[wasm_bindgen(js_name = httpResponse)]
    pub fn http_response(&self, id: f64, status: u16, body: String) {
        self.feed(Input::HttpResponse { id: RequestId(id as u64), status, body });
    }
    /// A fetch failed without a response.
    #[wasm_bindgen(js_name = httpFailed)]
    pub fn http_failed(&self, id: f64, message: String) {
        self.feed(Input::HttpFailed { id: RequestId(id as u64), message });
    }
    /// A storage operation succeeded: the value read (`None` when absent, or for a write).
    #[wasm_bindgen(js_name = storageValue)]
    pub fn storage_value(&self, id: f64, value: Option<String>) {
        self.feed(Input::Storage { id: RequestId(id as u64), result: Ok(value) });
    }
    /// A storage operation threw.
    #[wasm_bindgen(js_name = storageFailed)]
    pub fn storage_failed(&self, id: f64, message: String) {
        self.feed(Input::Storage { id: RequestId(id as u64), result: Err(message) });
    }
    /// Another tab wrote the session key (a `storage` event).
    #[wasm_bindgen(js_name = storageChanged)]
    pub fn storage_changed(&self, value: Option<String>) {
        self.feed(Input::StorageChanged { value });
    }
    /// A lock request was granted.
    #[wasm_bindgen(js_name = lockGranted)]
    pub fn lock_granted(&self, id: f64) {
        self.feed(Input::LockGranted { id: RequestId(id as u64) });
    }
    /// A lock request timed out, or there are no Web Locks.
    #[wasm_bindgen(js_name = lockUnavailable)]
    pub fn lock_unavailable(&self, id: f64) {
        self.feed(Input::LockUnavailable { id: RequestId(id as u64) });
    }
    /// A message from another tab (JSON text).
    #[wasm_bindgen(js_name = tabMessage)]
    pub fn tab_message(&self, data: String) {
        self.feed(Input::TabMessage { data });
    }
    /// A SHA-256 digest, base64url, or `None` without WebCrypto.
    pub fn digest(&self, id: f64, b64url: Option<String>) {
        self.feed(Input::Digest { id: RequestId(id as u64), b64url });
    }
    /// A signature check.
    pub fn verified(&self, id: f64, ok: bool) {
        self.feed(Input::Verified { id: RequestId(id as u64), ok });
    }
    /// The app's `accessToken()` resolved.
    #[wasm_bindgen(js_name = accessToken)]
    pub fn access_token(&self, token: Option<String>) {
        self.feed(Input::AccessToken { token });
    }
    /// The app's `accessToken()` threw.
    #[wasm_bindgen(js_name = accessTokenFailed)]
    pub fn access_token_failed(&self, message: String) {
        self.feed(Input::AccessTokenFailed { message });
    }
    /// Page visibility changed.
    pub fn visibility(&self, visible: bool) {
        self.feed(Input::Visibility { visible });
    }
    /// `online` / `offline`.
    pub fn online(&self, online: bool) {
        self.feed(Input::Online { online });
    }
    /// The page came back from the back/forward cache.
    pub fn wake(&self) {
        self.feed(Input::Wake);
    }
}
