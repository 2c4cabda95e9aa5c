//! `phx_join` (protocol reference §4.2, §4.3, §5.1, §5.5, §6.2, §8.2): the checks in the
//! real server's order (topic, faults, limits, token, strict sessions, private read policy,
//! replay), the reply that echoes the `postgres_changes` bindings with their ids, the
//! replayed messages, and the refusal after `--join-error-delay-ms`.

use super::{next_check, uuid, Channel};
use crate::http::unix_now;
use crate::realtime::authz::{self, Reads};
use crate::realtime::hub::{Member, TopicKey};
use crate::realtime::limits::CallWindow;
use crate::realtime::socket::{CloseHow, Session};
use authwire_wire::frame::{Frame, Payload};
use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::realtime::{parse_join, JoinRequest, TOPIC_PREFIX};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The most messages replayed on join (§6.2).
const REPLAY_HARD_LIMIT: i64 = 25;

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

/// The binding id: a stable hash of the entry as sent, in `phash2`'s range (0..2^27).
pub(in crate::realtime) fn binding_id(entry: &Value) -> i64 {
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
    pub(in crate::realtime) async fn on_join(&mut self, f: Frame) {
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
                    self.close_socket(CloseHow::Code(1001, String::new())).await;
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
            user: claims.sub().map(Arc::from),
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
}

fn unable_to_connect() -> JoinError {
    "UnableToConnectToProject: Realtime was unable to connect to the project database".into()
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
