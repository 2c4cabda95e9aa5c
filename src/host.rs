//! Bindings to `js/glue.js`, the JavaScript half of the shell.

use alloc::string::String;

use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;

/// Event kinds the host reports; must match `js/glue.js`.
pub(crate) mod kind {
    pub(crate) const OPEN: u32 = 1;
    pub(crate) const MESSAGE: u32 = 2;
    pub(crate) const CLOSE: u32 = 3;
    pub(crate) const TIMER: u32 = 4;
    pub(crate) const HTTP: u32 = 5;
    pub(crate) const HTTP_FAILED: u32 = 6;
    pub(crate) const VISIBILITY: u32 = 7;
    pub(crate) const ONLINE: u32 = 8;
    pub(crate) const WAKE: u32 = 9;
    pub(crate) const STORAGE: u32 = 10;
    pub(crate) const STORAGE_CHANGED: u32 = 11;
    pub(crate) const LOCK: u32 = 12;
    pub(crate) const TAB: u32 = 13;
    pub(crate) const DIGEST: u32 = 14;
    pub(crate) const VERIFIED: u32 = 15;
    pub(crate) const ACCESS_TOKEN: u32 = 16;
}

/// Error class selector for [`make_error`].
pub(crate) mod error_kind {
    pub(crate) const REALTIME: u32 = 2;
    pub(crate) const BASE: u32 = 0;
}

#[wasm_bindgen(module = "/js/glue.js")]
extern "C" {
    /// The JS object that runs side work.
    pub(crate) type Host;

    #[wasm_bindgen(constructor)]
    pub(crate) fn new(emit: &Function, use_worker: bool) -> Host;
    #[wasm_bindgen(method)]
    pub(crate) fn connect(this: &Host, conn: u32, url: &str);
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_text(this: &Host, conn: u32, data: &str);
    #[wasm_bindgen(method, js_name = send)]
    pub(crate) fn send_bytes(this: &Host, conn: u32, data: &[u8]);
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &Host, conn: u32, code: u16, reason: &str);
    #[wasm_bindgen(method, js_name = setTimer)]
    pub(crate) fn set_timer(this: &Host, ms: f64);
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
    #[wasm_bindgen(method)]
    pub(crate) fn storage(this: &Host, id: f64, op: u32, key: &str, value: Option<String>);
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

    #[wasm_bindgen(js_name = makeError)]
    pub(crate) fn make_error(kind: u32, code: &str, message: &str, status: i32) -> JsValue;
    #[wasm_bindgen(js_name = authError)]
    pub(crate) fn auth_error(name: &str, code: &str, message: &str, status: i32) -> JsValue;
    #[wasm_bindgen(js_name = authResult)]
    pub(crate) fn auth_result(data: Option<String>, error: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = authedFetch)]
    pub(crate) fn authed_fetch(
        fetch_impl: &JsValue,
        input: &JsValue,
        init: &JsValue,
        apikey: &str,
        token: Option<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = makeSubscription)]
    pub(crate) fn make_subscription(api: JsValue, id: u32, cb: &Function) -> JsValue;
    #[wasm_bindgen(js_name = navigate)]
    pub(crate) fn navigate(url: &str);
    #[wasm_bindgen(js_name = pageUrl)]
    pub(crate) fn page_url() -> Option<String>;
    pub(crate) fn deliver(fns: &Array, mode: u32, json: Option<String>, extra: &JsValue);
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
    #[wasm_bindgen(js_name = isBinary)]
    pub(crate) fn is_binary(value: &JsValue) -> bool;
    #[wasm_bindgen(js_name = bytesOf)]
    pub(crate) fn bytes_of(value: &JsValue) -> Uint8Array;
    #[wasm_bindgen(js_name = nowMono)]
    pub(crate) fn now_mono() -> f64;
    #[wasm_bindgen(js_name = nowWall)]
    pub(crate) fn now_wall() -> f64;
    pub(crate) fn seed() -> f64;
}

/// Both clocks now.
pub(crate) fn now() -> authwire_core::Now {
    authwire_core::Now::new(now_mono() as u64, now_wall() as u64)
}
