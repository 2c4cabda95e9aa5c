//! `RealtimeChannel`: listeners (`on`), `subscribe`, pushes (`send`, `httpSend`, `track`,
//! `untrack`, `unsubscribe`), presence state and the channel's state and role.

use alloc::string::String;

use authwire_core::error::ChannelOpError;
use authwire_core::io::{ChannelId, Ticket};
use authwire_core::realtime::bindings;
use authwire_core::realtime::channel::ChannelState;
use authwire_wire::frame::UserData;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::driver::{self, Listen, Shared};
use crate::host;

/// The `RealtimeError` thrown for a channel call the core refused.
pub(crate) fn refused(e: ChannelOpError) -> JsValue {
    host::realtime_error(e.code(), e.message())
}

/// A Realtime channel.
#[wasm_bindgen]
pub struct RealtimeChannel {
    pub(crate) shared: Shared,
    pub(crate) id: ChannelId,
}

impl RealtimeChannel {
    fn this(&self) -> JsValue {
        self.shared.borrow().channels.get(&self.id).map_or(JsValue::UNDEFINED, |c| c.obj.clone())
    }

    fn add_listener(&self, l: Listen, cb: Function) -> Result<(), JsValue> {
        let mut inner = self.shared.borrow_mut();
        let c = inner.channels.get_mut(&self.id).ok_or_else(|| refused(ChannelOpError::UnknownChannel))?;
        c.listeners.push((l, cb));
        Ok(())
    }

    fn ticket_promise(&self, t: Result<Ticket, ChannelOpError>) -> Result<Promise, JsValue> {
        let t = t.map_err(refused)?;
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
        String::from(st.unwrap_or(ChannelState::Closed).as_str())
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
                r.map_err(refused)?;
                Listen::Presence(s("event").unwrap_or_else(|| String::from("*")))
            }
            "postgres_changes" => {
                let event = s("event").unwrap_or_else(|| String::from("*"));
                let spec =
                    bindings::spec(&event, s("schema").as_deref(), s("table").as_deref(), s("filter").as_deref());
                let idx = self.shared.borrow_mut().core.add_postgres_binding(self.id, spec);
                let idx = idx.map_err(refused)?;
                Listen::Postgres(idx)
            }
            "system" => Listen::System,
            _ => return Err(refused(ChannelOpError::UnknownListenerType)),
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
        r.map_err(refused)?;
        driver::drive(&self.shared);
        Ok(self.this())
    }

    /// `channel.send({ type: 'broadcast', event, payload })`.
    #[wasm_bindgen(unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
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
                refused(ChannelOpError::PayloadNotJson { reason: "the payload cannot be serialised as JSON" })
            })?;
            UserData::Json(text)
        };
        let t = driver::with_core(&self.shared, |c, now| c.send_broadcast(self.id, &event, data, now));
        self.ticket_promise(t)
    }

    /// `channel.httpSend(event, payload)`: always the HTTP broadcast endpoint.
    #[wasm_bindgen(js_name = httpSend, unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
    pub fn http_send(&self, event: &str, payload: JsValue) -> Result<Promise, JsValue> {
        let text = host::to_json(&payload).unwrap_or_else(|| String::from("{}"));
        let t = driver::with_core(&self.shared, |c, now| c.http_send(self.id, event, &text, now));
        self.ticket_promise(t)
    }

    /// `channel.track(state)`.
    #[wasm_bindgen(skip_typescript)]
    pub fn track(&self, state: JsValue) -> Result<Promise, JsValue> {
        let text = host::to_json(&state)
            .filter(|t| t.starts_with('{'))
            .ok_or_else(|| refused(ChannelOpError::PayloadNotJson { reason: "track() needs a JSON object" }))?;
        let t = driver::with_core(&self.shared, |c, now| c.track(self.id, &text, now));
        self.ticket_promise(t)
    }

    /// `channel.untrack()`.
    #[wasm_bindgen(unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
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
    #[wasm_bindgen(unchecked_return_type = "Promise<RealtimeChannelSendResponse>")]
    pub fn unsubscribe(&self) -> Promise {
        let t = driver::with_core(&self.shared, |c, now| c.unsubscribe(self.id, now));
        let p = driver::promise_for(&self.shared, t);
        driver::drive(&self.shared);
        p
    }
}
