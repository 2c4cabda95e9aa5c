//! Broadcast and presence pushes on a joined channel (protocol reference §6, §7): the
//! events-per-second and payload limits, the lazily checked write policy of private
//! channels, fan-out through the hub, acks, and presence track/untrack with its limits.

use crate::realtime::authz;
use crate::realtime::presence::Meta;
use crate::realtime::socket::{FanMsg, Session};
use authwire_wire::frame::{Frame, Payload, UserBroadcast};
use authwire_wire::json::{self, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl Session {
    /// The lazily evaluated write policy of a private channel for `extension`.
    async fn may_write(&mut self, topic: &str, extension: &str) -> bool {
        let Some(c) = self.channels.get(topic) else { return false };
        if !c.cfg.private {
            return true;
        }
        let cached = if extension == "presence" { c.write_presence } else { c.write_broadcast };
        if let Some(v) = cached {
            return v;
        }
        let rt = self.state.realtime.clone();
        let allowed = match rt.pool.get().await {
            Ok(mut db) => {
                let ctx = self.policy_ctx(&c.claims, &c.key.name);
                authz::write_policy(&mut db, &ctx, extension).await.unwrap_or(false)
            }
            Err(_) => false,
        };
        if let Some(c) = self.channels.get_mut(topic) {
            if extension == "presence" {
                c.write_presence = Some(allowed);
            } else {
                c.write_broadcast = Some(allowed);
            }
        }
        allowed
    }

    pub(super) async fn on_broadcast(&mut self, f: Frame) {
        let rt = self.state.realtime.clone();
        let topic = f.topic.clone();
        let now = std::time::Instant::now();
        rt.events.add(1, now);
        if rt.events.exceeded(rt.settings.limits.max_events_per_second, now) {
            return self.shutdown_channel(&topic, "Too many messages per second").await;
        }
        if !self.may_write(&topic, "broadcast").await {
            // Denied broadcasts are dropped without a reply, even with ack (§6.1).
            return;
        }
        let Some(c) = self.channels.get(&topic) else { return };
        let (ack, self_, key, id, join_ref) =
            (c.cfg.broadcast_ack, c.cfg.broadcast_self, c.key.clone(), c.id, c.join_ref.clone());
        let (msg, size) = match f.payload {
            Payload::Json(p) => {
                let size = p.len();
                (FanMsg::Json { event: "broadcast", payload: p, id: None }, size)
            }
            Payload::UserBroadcast(ub) => {
                let size = match &ub.data {
                    authwire_wire::frame::UserData::Json(s) => s.len(),
                    authwire_wire::frame::UserData::Binary(b) => b.len(),
                };
                // The server discards kind-3 metadata.
                (FanMsg::User { ub: UserBroadcast { metadata: String::new(), ..ub }, id: None }, size)
            }
            _ => {
                tracing::info!(socket = self.handle.id, "binary push on broadcast ignored");
                return;
            }
        };
        if rt.settings.limits.max_payload_bytes.is_some_and(|max| size > max) {
            if ack {
                self.reply(join_ref, f.msg_ref.clone(), &topic, "error", r#""payload_size_exceeded""#, "broadcast")
                    .await;
            }
            return;
        }
        rt.stats.broadcasts.fetch_add(1, Ordering::Relaxed);
        rt.hub.broadcast(&key, if self_ { None } else { Some(id) }, Arc::new(msg));
        if ack {
            self.reply(join_ref, f.msg_ref.clone(), &topic, "ok", "{}", "broadcast").await;
        }
    }

    pub(super) async fn on_presence(&mut self, f: Frame) {
        let rt = self.state.realtime.clone();
        let topic = f.topic.clone();
        let Some(c) = self.channels.get_mut(&topic) else { return };
        let join_ref = c.join_ref.clone();
        let body = match &f.payload {
            Payload::Json(p) => json::parse(p).ok(),
            _ => None,
        };
        let Some(body) = body.filter(|b| b.as_object().is_some()) else {
            return self.reply(join_ref, f.msg_ref.clone(), &topic, "error", "{}", "presence").await;
        };
        let Some(event) = body.get("event").and_then(Value::as_str).map(str::to_lowercase) else {
            return self.reply(join_ref, f.msg_ref.clone(), &topic, "ok", "{}", "presence").await;
        };
        let limits = &rt.settings.limits;
        let now = std::time::Instant::now();
        if c.presence_calls.call(limits.client_presence_max_calls, limits.client_presence_window, now) {
            return self.shutdown_channel(&topic, "Client presence rate limit exceeded").await;
        }
        rt.presence_events.add(1, now);
        if rt.presence_events.exceeded(limits.max_presence_events_per_second, now) {
            return self.shutdown_channel(&topic, "Too many presence messages per second").await;
        }
        match event.as_str() {
            "track" => {
                let meta = match body.get("payload") {
                    None | Some(Value::Null) => Meta::default(),
                    Some(p @ Value::Obj(_)) => Meta::from_wire(p),
                    Some(_) => {
                        let reason = r#"{"reason":"Presence track payload must be a map"}"#;
                        return self.reply(join_ref, f.msg_ref.clone(), &topic, "error", reason, "presence").await;
                    }
                };
                let size = meta.encoded_len();
                if limits.max_payload_bytes.is_some_and(|max| size > max) {
                    return self.shutdown_channel(&topic, "Track message size exceeded").await;
                }
                if !self.may_write(&topic, "presence").await {
                    return self.reply(join_ref, f.msg_ref.clone(), &topic, "error", "{}", "presence").await;
                }
                let Some(c) = self.channels.get(&topic) else { return };
                rt.hub.track(&c.key, c.id, &c.presence_key, meta);
                self.reply(join_ref, f.msg_ref.clone(), &topic, "ok", "{}", "presence").await;
            }
            "untrack" => {
                rt.hub.untrack(&c.key, c.id);
                self.reply(join_ref, f.msg_ref.clone(), &topic, "ok", "{}", "presence").await;
            }
            _ => self.reply(join_ref, f.msg_ref.clone(), &topic, "error", "{}", "presence").await,
        }
    }
}
