//! Channel lifecycle on a socket (protocol reference §4–§7): `phx_join` with its checks in
//! the real server's order, `phx_leave`, `access_token`, the token-expiry timer,
//! server-initiated shutdown (`system` error then `phx_close`), broadcast and presence.

use super::authz::{self, PolicyContext, Reads};
use super::hub::{Member, TopicKey};
use super::limits::CallWindow;
use super::socket::{FanMsg, Session};
use super::ChanId;
use crate::http::unix_now;
use crate::jwt::{Claims, JwtError};
use authwire_wire::frame::{Frame, Payload, UserBroadcast};
use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::realtime::{parse_join, JoinConfig, JoinRequest, System, TOPIC_PREFIX};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The longest time between two checks of a channel's token (§5.4).
const CONFIRM_TOKEN_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// The most messages replayed on join (§6.2).
const REPLAY_HARD_LIMIT: i64 = 25;

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

/// A refused join: the reason, and whether the socket is closed afterwards (1001).
struct JoinError {
    reason: String,
    close_socket: bool,
}

impl From<String> for JoinError {
    fn from(reason: String) -> Self {
        JoinError { reason, close_socket: false }
    }
}

impl From<&str> for JoinError {
    fn from(reason: &str) -> Self {
        JoinError { reason: reason.to_owned(), close_socket: false }
    }
}

/// When to check a token next: min(5 minutes, until `exp`).
fn next_check(claims: &Claims) -> Instant {
    let left = claims.exp().map_or(0, |exp| exp - unix_now()).max(1) as u64;
    Instant::now() + CONFIRM_TOKEN_INTERVAL.min(Duration::from_secs(left))
}

/// The binding id: a stable hash of the entry as sent, in `phash2`'s range (0..2^27).
pub(super) fn binding_id(entry: &Value) -> i64 {
    let text = entry.to_json();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % (1 << 27)) as i64
}

/// The `postgres_changes` entries of a join payload, as sent (`null` entries dropped).
fn raw_bindings(payload: &Value) -> Vec<(i64, Value)> {
    let Some(items) = payload.get("config").and_then(|c| c.get("postgres_changes")).and_then(Value::as_array) else {
        return Vec::new();
    };
    items.iter().filter(|v| v.as_object().is_some()).map(|v| (binding_id(v), v.clone())).collect()
}

/// The join reply: each binding echoed with its id first, then its keys in order.
fn join_response(bindings: &[(i64, Value)]) -> String {
    let mut arr = String::from("[");
    for (i, (id, v)) in bindings.iter().enumerate() {
        if i > 0 {
            arr.push(',');
        }
        let mut w = ObjectWriter::new();
        w.i64("id", *id);
        for (k, val) in v.as_object().unwrap_or(&[]) {
            if k != "id" {
                w.value(k, val);
            }
        }
        arr.push_str(&w.finish());
    }
    arr.push(']');
    let mut w = ObjectWriter::new();
    w.raw("postgres_changes", &arr);
    w.finish()
}

/// §5.1: which token a join uses.
fn choose_token<'a>(req: &'a JoinRequest, connect: &'a str) -> &'a str {
    let first = req.access_token.as_deref().or(req.user_token.as_deref());
    if first.is_some_and(|t| t.starts_with("sb_")) {
        return connect;
    }
    req.user_token.as_deref().or(req.access_token.as_deref()).unwrap_or(connect)
}

/// Checks `config.broadcast.replay`: an object whose `since`/`limit` are integers.
fn replay_params_valid(payload: &Value) -> bool {
    let Some(r) = payload.get("config").and_then(|c| c.get("broadcast")).and_then(|b| b.get("replay")) else {
        return true;
    };
    if r.is_null() {
        return true;
    }
    if r.as_object().is_none() {
        return false;
    }
    let int_or_absent = |k: &str| match r.get(k) {
        None | Some(Value::Null) => true,
        Some(v) => v.as_i64().is_some() && matches!(v, Value::Num(n) if !n.contains(['.', 'e', 'E'])),
    };
    int_or_absent("since") && int_or_absent("limit")
}

impl Session {
    pub(super) fn policy_ctx<'a>(&'a self, claims: &'a Claims, sub_topic: &'a str) -> PolicyContext<'a> {
        PolicyContext { claims, topic: sub_topic, headers: &self.conn.headers }
    }

    pub(super) async fn on_join(&mut self, f: Frame) {
        let topic = f.topic.clone();
        // A second join of a joined topic closes the old instance first (§4.3).
        if let Some(old) = self.channels.remove(&topic) {
            self.teardown(&old);
            self.send_close(&old).await;
        }
        let rt = self.state.realtime.clone();
        match self.try_join(&f).await {
            Ok(()) => {
                rt.stats.joins_ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                rt.stats.joins_refused.fetch_add(1, Ordering::Relaxed);
                tracing::info!(socket = self.handle.id, topic = %topic, reason = %e.reason, "join refused");
                self.pause(rt.settings.join_error_delay).await;
                let mut w = ObjectWriter::new();
                w.str("reason", &e.reason);
                self.reply(f.join_ref.clone(), f.msg_ref.clone(), &topic, "error", &w.finish(), "phx_join").await;
                if e.close_socket {
                    self.close_socket(super::socket::CloseHow::Code(1001, String::new())).await;
                }
            }
        }
    }

    async fn try_join(&mut self, f: &Frame) -> Result<(), JoinError> {
        let rt = self.state.realtime.clone();
        let sub_topic = f.topic[TOPIC_PREFIX.len()..].to_owned();
        if sub_topic.is_empty() {
            return Err("TopicNameRequired: You must provide a topic name".into());
        }
        let raw = match &f.payload {
            Payload::Json(p) => p.as_str(),
            _ => "{}",
        };
        let value = json::parse(raw).ok().filter(|v| v.as_object().is_some()).unwrap_or(Value::Obj(Vec::new()));
        let req = parse_join(raw).unwrap_or_default();
        let cfg = req.config.clone().unwrap_or_default();
        if let Some(reason) = rt.faults.refused_join(&sub_topic) {
            return Err(reason.into());
        }

        // Limits, in the real server's order.
        let limits = &rt.settings.limits;
        if self.channels.is_empty() {
            if let Some(max) = limits.max_concurrent_users {
                if rt.active_users() >= max as usize {
                    return Err("ConnectionRateLimitReached: Too many connected users".into());
                }
            }
        }
        let now = std::time::Instant::now();
        rt.joins.add(1, now);
        if rt.joins.exceeded(limits.max_joins_per_second, now) {
            return Err(JoinError {
                reason: "ClientJoinRateLimitReached: Too many joins per second".into(),
                close_socket: true,
            });
        }
        if let Some(max) = limits.max_channels_per_client {
            if self.channels.len() >= max as usize {
                return Err("ChannelRateLimitReached: Too many channels".into());
            }
        }

        // The token (§5.1, §5.3).
        let token = choose_token(&req, &self.conn.token).to_owned();
        let claims = authz::verify(&self.state, &token, unix_now()).map_err(|e| authz::join_reason(&e))?;
        if claims.exp().is_none_or(|exp| exp - unix_now() <= 0) {
            return Err("InvalidJWTToken: Token expiration time is invalid".into());
        }
        if rt.settings.strict_sessions {
            let db = rt.pool.get().await.map_err(|_| unable_to_connect())?;
            match authz::strict_check(&db, &claims).await.map_err(|_| unable_to_connect())? {
                Ok(()) => {}
                Err(refusal) => return Err(format!("Unauthorized: {}", refusal.message()).into()),
            }
        }

        // Private channels: the read policy (§5.5).
        let reads = if cfg.private {
            let mut db = rt.pool.get().await.map_err(|_| unable_to_connect())?;
            let ctx = self.policy_ctx(&claims, &sub_topic);
            let reads =
                authz::read_policies(&mut db, &ctx, cfg.presence_enabled).await.map_err(|_| unable_to_connect())?;
            if !reads.broadcast && !reads.presence {
                return Err(format!(
                    "Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"
                )
                .into());
            }
            reads
        } else {
            Reads { broadcast: true, presence: true }
        };

        // Replay (§6.2).
        let replay = match &cfg.replay {
            None => None,
            Some(_) if !replay_params_valid(&value) => {
                return Err("UnableToReplayMessages: Replay params are not valid".into());
            }
            Some(_) if !cfg.private => {
                return Err("UnableToReplayMessages: Replay is not allowed for public channels".into());
            }
            Some(_) if !reads.broadcast => {
                return Err(format!(
                    "Unauthorized: You do not have permissions to read from this Channel topic: {sub_topic}"
                )
                .into());
            }
            Some(r) => {
                let limit = r.limit.map_or(REPLAY_HARD_LIMIT, |l| i64::from(l).clamp(1, REPLAY_HARD_LIMIT));
                let db = rt.pool.get().await.map_err(|_| unable_to_connect())?;
                let rows = db
                    .query(
                        "select id::text, event, payload::text from (
                           select id, event, payload, inserted_at from realtime.messages
                           where topic = $1::text and extension = 'broadcast' and private is true
                             and inserted_at >= to_timestamp($2::float8 / 1000.0)
                           order by inserted_at desc limit $3) m
                         order by inserted_at asc",
                        &[&sub_topic, &(r.since as f64), &limit],
                    )
                    .await
                    .map_err(|e| {
                        tracing::warn!("replay query failed: {}", authz::describe(&e));
                        JoinError::from("UnableToReplayMessages: Realtime was unable to replay messages")
                    })?;
                Some(
                    rows.iter()
                        .map(|r| (r.get::<_, String>(0), r.get::<_, Option<String>>(1), r.get::<_, Option<String>>(2)))
                        .collect::<Vec<_>>(),
                )
            }
        };

        // Joined.
        let id = rt.next_id();
        let key = TopicKey { private: cfg.private, name: sub_topic.clone() };
        let presence_key = match cfg.presence_key.as_str() {
            "" => uuid(),
            k => k.to_owned(),
        };
        let bindings = raw_bindings(&value);
        if let Some(sub) = claims.sub() {
            self.handle.add_user(sub);
        }
        let chan = Channel {
            id,
            topic: f.topic.clone(),
            key: key.clone(),
            join_ref: f.join_ref.clone(),
            check_at: next_check(&claims),
            cfg: cfg.clone(),
            token,
            claims,
            reads,
            write_broadcast: None,
            write_presence: None,
            presence_key,
            presence_calls: CallWindow::default(),
            replayed: HashSet::new(),
            bindings,
        };
        let response = join_response(&chan.bindings);
        rt.hub.join(
            &key,
            id,
            Member { socket: self.handle.clone(), read_broadcast: reads.broadcast, read_presence: reads.presence },
        );
        self.handle.channels.fetch_add(1, Ordering::Relaxed);
        let join_ref = chan.join_ref.clone();
        let topic = chan.topic.clone();
        let has_bindings = !chan.bindings.is_empty();
        self.channels.insert(topic.clone(), chan);
        self.reply(join_ref.clone(), f.msg_ref.clone(), &topic, "ok", &response, "phx_join").await;

        if cfg.presence_enabled && (!cfg.private || reads.presence) {
            let state = rt.hub.presence_state(&key);
            self.push(join_ref.clone(), &topic, "presence_state", state).await;
        }
        if let Some(rows) = replay {
            for (mid, event, payload) in rows {
                let mut meta = ObjectWriter::new();
                meta.bool("replayed", true).str("id", &mid);
                let mut w = ObjectWriter::new();
                w.str("type", "broadcast")
                    .opt_str("event", event.as_deref())
                    .raw("payload", payload.as_deref().unwrap_or("{}"))
                    .raw("meta", &meta.finish());
                if let Some(c) = self.channels.get_mut(&topic) {
                    c.replayed.insert(mid);
                }
                self.push(join_ref.clone(), &topic, "broadcast", w.finish()).await;
            }
        }
        if has_bindings {
            self.subscribe_changes(&topic).await;
        }
        Ok(())
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
        self.send(&f).await;
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
        self.push(c.join_ref.clone(), &c.topic, "system", sys.to_payload()).await;
        self.send_close(&c).await;
    }

    /// The periodic token check (§5.4); `force_expired` treats the token as expired now.
    pub(super) async fn check_token(&mut self, topic: &str, force_expired: bool) {
        let Some(c) = self.channels.get(topic) else { return };
        let now = unix_now();
        let verdict = if force_expired {
            Err(JwtError::Expired { seconds_ago: c.claims.exp().map_or(0, |exp| (now - exp).max(0)) })
        } else {
            authz::verify(&self.state, &c.token, now)
        };
        match verdict {
            Ok(claims) => {
                let c = self.channels.get_mut(topic).expect("checked above");
                c.check_at = next_check(&claims);
                c.claims = claims;
            }
            Err(e) => self.shutdown_channel(topic, &authz::shutdown_message(&e)).await,
        }
    }

    pub(super) async fn on_channel_event(&mut self, f: Frame) {
        match f.event.as_str() {
            "broadcast" => self.on_broadcast(f).await,
            "presence" => self.on_presence(f).await,
            "access_token" => self.on_access_token(f).await,
            other => tracing::debug!(socket = self.handle.id, event = other, "unknown channel event ignored"),
        }
    }

    async fn on_access_token(&mut self, f: Frame) {
        let Payload::Json(p) = &f.payload else { return };
        let Some(token) =
            json::parse(p).ok().and_then(|v| v.get("access_token").and_then(Value::as_str).map(str::to_owned))
        else {
            return;
        };
        let topic = f.topic.clone();
        let Some(c) = self.channels.get(&topic) else { return };
        if token.starts_with("sb_") || token == c.token {
            return;
        }
        let (private, presence, old_reads, sub_topic) =
            (c.cfg.private, c.cfg.presence_enabled, c.reads, c.key.name.clone());
        let rt = self.state.realtime.clone();
        let claims = match authz::verify(&self.state, &token, unix_now()) {
            Ok(c) => c,
            Err(e) => return self.shutdown_channel(&topic, &authz::shutdown_message(&e)).await,
        };
        if rt.settings.strict_sessions {
            let verdict = match rt.pool.get().await {
                Ok(db) => authz::strict_check(&db, &claims).await.ok(),
                Err(_) => None,
            };
            match verdict {
                Some(Ok(())) => {}
                Some(Err(refusal)) => return self.shutdown_channel(&topic, refusal.message()).await,
                None => {
                    return self
                        .shutdown_channel(&topic, "Realtime was unable to connect to the project database")
                        .await
                }
            }
        }
        let mut reads = old_reads;
        if private {
            let tracking = self.channels.get(&topic).is_some_and(|c| rt.hub.is_tracking(&c.key, c.id));
            let checked = match rt.pool.get().await {
                Ok(mut db) => {
                    let ctx = self.policy_ctx(&claims, &sub_topic);
                    authz::read_policies(&mut db, &ctx, presence || tracking).await.ok()
                }
                Err(_) => None,
            };
            let Some(new) = checked else {
                return self.shutdown_channel(&topic, "Realtime was unable to connect to the project database").await;
            };
            if !new.broadcast && !new.presence {
                let msg = format!("You do not have permissions to read from this Channel topic: {sub_topic}");
                return self.shutdown_channel(&topic, &msg).await;
            }
            if (old_reads.broadcast && !new.broadcast)
                || ((presence || tracking) && old_reads.presence && !new.presence)
            {
                let msg = format!("You no longer have permission to read from this Channel topic: {sub_topic}");
                return self.shutdown_channel(&topic, &msg).await;
            }
            reads = new;
        }
        let Some(c) = self.channels.get_mut(&topic) else { return };
        if let Some(sub) = claims.sub() {
            self.handle.add_user(sub);
        }
        c.check_at = next_check(&claims);
        c.token = token;
        c.claims = claims;
        c.reads = reads;
        c.write_broadcast = None;
        c.write_presence = None;
        let (key, id, has_bindings) = (c.key.clone(), c.id, !c.bindings.is_empty());
        rt.hub.set_reads(&key, id, reads.broadcast, reads.presence);
        if has_bindings {
            self.subscribe_changes(&topic).await;
        }
    }

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

    async fn on_broadcast(&mut self, f: Frame) {
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

    async fn on_presence(&mut self, f: Frame) {
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
                    None | Some(Value::Null) => serde_json::Map::new(),
                    Some(p @ Value::Obj(_)) => match serde_json::from_str::<serde_json::Value>(&p.to_json()) {
                        Ok(serde_json::Value::Object(m)) => m,
                        _ => serde_json::Map::new(),
                    },
                    Some(_) => {
                        let reason = r#"{"reason":"Presence track payload must be a map"}"#;
                        return self.reply(join_ref, f.msg_ref.clone(), &topic, "error", reason, "presence").await;
                    }
                };
                let size = serde_json::Value::Object(meta.clone()).to_string().len();
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

fn unable_to_connect() -> JoinError {
    "UnableToConnectToProject: Realtime was unable to connect to the project database".into()
}

/// A random UUID (the real server generates a v1 UUID per join as the presence key).
pub(super) fn uuid() -> String {
    let bytes = crate::jwt::random_bytes(16).unwrap_or_else(|_| {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        t.to_le_bytes().to_vec()
    });
    crate::keys::uuid_v4(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_reply_echoes_bindings_in_order() {
        let p = json::parse(
            r#"{"config":{"postgres_changes":[{"event":"INSERT","schema":"public","table":"messages","filter":"room_id=eq.1"},null,{"table":"t","event":"*"}]}}"#,
        )
        .unwrap();
        let b = raw_bindings(&p);
        assert_eq!(b.len(), 2);
        let r = join_response(&b);
        let want_first = format!(
            r#"{{"id":{},"event":"INSERT","schema":"public","table":"messages","filter":"room_id=eq.1"}}"#,
            b[0].0
        );
        assert!(r.starts_with(&format!(r#"{{"postgres_changes":[{want_first},"#)), "{r}");
        assert!(b[0].0 >= 0 && b[0].0 < (1 << 27));
        assert_eq!(binding_id(&b[0].1), b[0].0);
        assert_eq!(join_response(&[]), r#"{"postgres_changes":[]}"#);
    }

    #[test]
    fn token_choice() {
        let r = |at: Option<&str>, ut: Option<&str>| JoinRequest {
            config: None,
            access_token: at.map(str::to_owned),
            user_token: ut.map(str::to_owned),
        };
        assert_eq!(choose_token(&r(None, None), "c"), "c");
        assert_eq!(choose_token(&r(Some("sb_x"), None), "c"), "c");
        assert_eq!(choose_token(&r(None, Some("sb_x")), "c"), "c");
        assert_eq!(choose_token(&r(Some("a"), None), "c"), "a");
        assert_eq!(choose_token(&r(Some("a"), Some("u")), "c"), "u");
    }

    #[test]
    fn replay_params() {
        let ok = json::parse(r#"{"config":{"broadcast":{"replay":{"since":1,"limit":5}}}}"#).unwrap();
        assert!(replay_params_valid(&ok));
        let bad = json::parse(r#"{"config":{"broadcast":{"replay":{"since":"x"}}}}"#).unwrap();
        assert!(!replay_params_valid(&bad));
        let bad = json::parse(r#"{"config":{"broadcast":{"replay":3}}}"#).unwrap();
        assert!(!replay_params_valid(&bad));
        assert!(replay_params_valid(&json::parse("{}").unwrap()));
    }
}
