//! `client.realtime`: the socket's controls (`connect`, `disconnect`, `setAuth`), its state and
//! heartbeat listeners.

use alloc::string::String;

use authwire_core::realtime::ConnectionState;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::driver::{self, Shared};

/// `client.realtime`.
#[wasm_bindgen]
pub struct RealtimeApi {
    pub(crate) shared: Shared,
}

#[wasm_bindgen]
impl RealtimeApi {
    /// Connects the socket even without channels.
    pub fn connect(&self) {
        driver::with_core(&self.shared, |c, now| c.connect(now));
        driver::drive(&self.shared);
    }
    /// Closes the socket as realtime-js does (no status code; no reconnect until `connect()`
    /// or a subscribe). Resolves `'ok'` once the close is done and the channels have seen it,
    /// `'timeout'` if the browser never reports it.
    #[wasm_bindgen(skip_typescript)]
    pub fn disconnect(&self) -> Promise {
        let t = driver::with_core(&self.shared, |c, now| c.disconnect(now));
        let p = driver::disconnect_promise(&self.shared, t);
        driver::drive(&self.shared);
        p
    }
    /// `'connecting' | 'open' | 'closed'` (`RealtimeConnectionState`).
    #[wasm_bindgen(js_name = connectionState, unchecked_return_type = "RealtimeConnectionState")]
    pub fn connection_state(&self) -> String {
        String::from(self.shared.borrow().core.connection_state().as_str())
    }
    /// `true` when the socket is open.
    #[wasm_bindgen(js_name = isConnected)]
    pub fn is_connected(&self) -> bool {
        self.shared.borrow().core.connection_state() == ConnectionState::Open
    }
    /// `setAuth(token?)`; never throws. With a session it changes nothing (authwire applies
    /// the session's token itself; logged once at `info`). Without one (and without the
    /// `accessToken` option) `token` becomes the socket's token for joins and `access_token`
    /// pushes; `setAuth()` goes back to the project key. With `accessToken`: `token`, or the
    /// callback asked again.
    #[wasm_bindgen(js_name = setAuth, skip_typescript)]
    pub fn set_auth(&self, token: JsValue) -> Promise {
        let token = token.as_string().filter(|t| !t.is_empty());
        driver::with_core(&self.shared, |c, now| c.set_auth(token, now));
        driver::drive(&self.shared);
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Listens to heartbeats: `(status, latencyMs?) => void`.
    #[wasm_bindgen(js_name = onHeartbeat)]
    pub fn on_heartbeat(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(status: HeartbeatStatus, latencyMs?: number) => void")] cb: Function,
    ) {
        // After destroy() the callback is never called: not kept either.
        if !driver::is_destroyed(&self.shared) {
            self.shared.borrow_mut().heartbeat.push(cb);
        }
    }
}
