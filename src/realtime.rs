//! `client.realtime`: the socket's controls (`connect`, `disconnect`, `setAuth`), its state and
//! heartbeat listeners.

use alloc::string::String;

use authwire_core::realtime::ConnectionState;
use js_sys::Function;
use wasm_bindgen::prelude::*;

use crate::driver::{self, Shared};
use crate::host;

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
    /// Closes the socket; channels rejoin on the next `connect()` or subscribe.
    pub fn disconnect(&self) {
        driver::with_core(&self.shared, |c, now| c.disconnect(now));
        driver::drive(&self.shared);
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
    /// Third-party auth only: use `token`, or ask `accessToken()` again when omitted.
    #[wasm_bindgen(js_name = setAuth)]
    pub fn set_auth(&self, token: Option<String>) -> Result<(), JsValue> {
        let r = driver::with_core(&self.shared, |c, now| c.set_auth(token, now));
        driver::drive(&self.shared);
        r.map_err(|e| host::auth_error(&e))
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
