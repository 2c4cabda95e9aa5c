//! Channels on a socket (protocol reference §4–§7): the state of a joined channel instance
//! and its lifecycle — leave, the server-initiated shutdown (`system` error then
//! `phx_close`), teardown — plus the routing of channel events. The join with its checks is
//! in [`join`], the token timer and `access_token` in [`token`], broadcast and presence
//! pushes in [`messages`].
//!
//! Client payloads are read with the frame codec's JSON (`authwire_wire::json`), which keeps
//! key order and number text: the join reply echoes the bindings as sent and their ids hash
//! that text.

mod join;
mod messages;
mod token;

use super::authz::{PolicyContext, Reads};
use super::hub::TopicKey;
use super::limits::CallWindow;
use super::socket::Session;
use super::ChanId;
use crate::http::unix_now;
use crate::jwt::Claims;
use authwire_wire::frame::{Frame, Payload};
use authwire_wire::json::Value;
use authwire_wire::realtime::{JoinConfig, System};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The longest time between two checks of a channel's token (§5.4).
const CONFIRM_TOKEN_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// A joined channel instance.
#[derive(Debug)]
pub(super) struct Channel {
    pub(super) id: ChanId,
    /// `realtime:<name>`.
    pub(super) topic: String,
    pub(super) key: TopicKey,
    pub(super) join_ref: Option<String>,
    pub(super) cfg: JoinConfig,
    /// The token in force (never logged).
    pub(super) token: String,
    pub(super) claims: Claims,
    /// The token's `sub` (who the channel's frames are for, in `/_dev/events`).
    pub(super) user: Option<Arc<str>>,
    /// When the token is checked next.
    pub(super) check_at: Instant,
    pub(super) reads: Reads,
    pub(super) write_broadcast: Option<bool>,
    pub(super) write_presence: Option<bool>,
    pub(super) presence_key: String,
    pub(super) presence_calls: CallWindow,
    /// Ids of replayed messages (their live copies are not delivered again).
    pub(super) replayed: HashSet<String>,
    /// The `postgres_changes` bindings: (id, entry as sent).
    pub(super) bindings: Vec<(i64, Value)>,
}

/// When to check a token next: min(5 minutes, until `exp`).
fn next_check(claims: &Claims) -> Instant {
    let left = claims.exp().map_or(0, |exp| exp - unix_now()).max(1) as u64;
    Instant::now() + CONFIRM_TOKEN_INTERVAL.min(Duration::from_secs(left))
}

impl Session {
    fn policy_ctx<'a>(&'a self, claims: &'a Claims, sub_topic: &'a str) -> PolicyContext<'a> {
        PolicyContext { claims, topic: sub_topic, headers: &self.conn.headers }
    }

    pub(super) async fn on_leave(&mut self, f: Frame) {
        match self.channels.remove(&f.topic) {
            Some(c) => {
                self.teardown(&c);
                self.reply(c.join_ref.clone(), f.msg_ref.clone(), &f.topic, "ok", "{}", "phx_leave").await;
                self.send_close(&c).await;
            }
            // Phoenix answers a leave of an unknown topic with ok.
            None => self.reply(f.join_ref.clone(), f.msg_ref.clone(), &f.topic, "ok", "{}", "phx_leave").await,
        }
    }

    /// `[join_ref, join_ref, topic, "phx_close", {}]`.
    pub(super) async fn send_close(&mut self, c: &Channel) {
        let f = Frame {
            join_ref: c.join_ref.clone(),
            msg_ref: c.join_ref.clone(),
            topic: c.topic.clone(),
            event: "phx_close".into(),
            payload: Payload::Json("{}".into()),
        };
        self.send_as(&f, c.user.clone()).await;
    }

    /// Unregisters a channel instance everywhere (hub, presence, change feed).
    pub(super) fn teardown(&self, c: &Channel) {
        let rt = &self.state.realtime;
        rt.hub.leave(&c.key, c.id);
        rt.changes.unsubscribe(c.id);
        self.handle.channels.fetch_sub(1, Ordering::Relaxed);
    }

    pub(super) fn teardown_all(&mut self) {
        let chans: Vec<Channel> = self.channels.drain().map(|(_, c)| c).collect();
        for c in &chans {
            self.teardown(c);
        }
    }

    /// A server-initiated end: `system` error with `message`, then `phx_close` (§4.4).
    pub(super) async fn shutdown_channel(&mut self, topic: &str, message: &str) {
        let Some(c) = self.channels.remove(topic) else { return };
        tracing::info!(socket = self.handle.id, topic, message, "channel shut down");
        self.teardown(&c);
        let sys = System {
            extension: "system".into(),
            status: "error".into(),
            message: message.to_owned(),
            channel: Some(c.key.name.clone()),
        };
        let f = Frame {
            join_ref: c.join_ref.clone(),
            msg_ref: None,
            topic: c.topic.clone(),
            event: "system".into(),
            payload: Payload::Json(sys.to_payload()),
        };
        self.send_as(&f, c.user.clone()).await;
        self.send_close(&c).await;
    }

    pub(super) async fn on_channel_event(&mut self, f: Frame) {
        match f.event.as_str() {
            "broadcast" => self.on_broadcast(f).await,
            "presence" => self.on_presence(f).await,
            "access_token" => self.on_access_token(f).await,
            other => tracing::debug!(socket = self.handle.id, event = other, "unknown channel event ignored"),
        }
    }
}

/// A random UUID (the real server generates a v1 UUID per join as the presence key).
pub(super) fn uuid() -> String {
    let bytes = crate::jwt::random_bytes(16).unwrap_or_else(|_| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        t.to_le_bytes().to_vec()
    });
    crate::keys::uuid_v4(&bytes)
}
