//! A model of the Supabase Realtime server, precise about what the core depends on:
//! handshake refusals, join replies with binding ids, the join-error delay, leave and close,
//! `phx_error`, broadcast fan-out with `self` and `ack`, presence with diffs, Postgres change
//! events with ids, `access_token` handling, the token-expiry `system` message plus
//! `phx_close`, "unmatched topic", and broadcasts from the database (`realtime.send`):
//! stored, delivered live with `meta.id`, and replayed on a private join that asks
//! (`broadcast.replay`: the newest 25 since `since`, oldest first, `meta.replayed`). It is sans-IO too: [`ModelRealtime::on_connect`],
//! [`ModelRealtime::on_message`] and [`ModelRealtime::on_close`] return what it sends back.
//!
//! Tokens are judged by a [`TokenJudge`], so each test decides what "valid" means.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, UserBroadcast, UserData, Vsn, WireMsg};
use authwire_wire::json::{self, ObjectWriter};
use authwire_wire::realtime::{
    self as rt, parse_join, presence_entries_json, reply_payload, Event, JoinConfig, PresenceMeta, System,
    PHOENIX_TOPIC,
};
use authwire_wire::url::decode_component;

use authwire_core::time::UnixTime;

/// A simulated client endpoint (one tab / one SDK instance).
pub type ClientIdx = usize;

/// A connection as the server sees it: the client and that client's connection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ConnKey {
    /// The client.
    pub client: ClientIdx,
    /// The client's connection number.
    pub conn: u32,
}

/// What a token means to the model server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `role` claim.
    pub role: String,
    /// `sub` claim, if any.
    pub sub: Option<String>,
    /// `exp` in Unix seconds.
    pub exp: u64,
}

/// Decides whether a token is acceptable.
pub trait TokenJudge {
    /// The token's claims, or the server's reason for refusing it (`"The token provided is
    /// not a valid JWT"`, …). Expiry is checked by the server itself from `exp`.
    fn judge(&self, token: &str) -> Result<TokenInfo, String>;
    /// Whether `token` may read private topic `sub_topic`.
    fn can_read_private(&self, _token: &TokenInfo, _sub_topic: &str) -> bool {
        true
    }
}

/// Accepts every token as an `authenticated` one that never expires.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl TokenJudge for AcceptAll {
    fn judge(&self, _token: &str) -> Result<TokenInfo, String> {
        Ok(TokenInfo { role: String::from("authenticated"), sub: None, exp: u64::MAX / 2000 })
    }
}

/// A channel membership on the server.
#[derive(Debug, Clone)]
pub struct ServerChannel {
    /// The join_ref of the live join.
    pub join_ref: Option<String>,
    /// The join config.
    pub config: JoinConfig,
    /// The token in force.
    pub token: Option<String>,
    /// Its claims.
    pub info: Option<TokenInfo>,
    /// Binding ids given in the join reply.
    pub binding_ids: Vec<i64>,
    /// The tracked presence meta, if any.
    pub presence: Option<PresenceMeta>,
    /// The presence key.
    pub presence_key: String,
}

/// One open connection.
#[derive(Debug, Clone)]
pub struct ServerConn {
    /// Serializer.
    pub vsn: Vsn,
    /// The connect apikey.
    pub apikey: String,
    /// Its claims.
    pub info: TokenInfo,
    /// Channels by topic.
    pub channels: BTreeMap<String, ServerChannel>,
}

/// A message the server sends, with a delay (the join-error delay).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSend {
    /// The target connection.
    pub to: ConnKey,
    /// Extra delay before delivery, in milliseconds.
    pub delay_ms: u64,
    /// The message.
    pub msg: WireMsg,
}

/// A frame the server received, kept for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// When.
    pub at: UnixTime,
    /// From.
    pub from: ConnKey,
    /// The frame.
    pub frame: Frame,
}

/// A database broadcast the server stored (`realtime.messages`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Full topic (`realtime:<name>`).
    pub topic: String,
    /// For private channels only.
    pub private: bool,
    /// `meta.id`.
    pub id: String,
    /// Inserted at (the server's clock).
    pub at: UnixTime,
}

/// The most messages a replay sends (`@hard_limit 25`, protocol reference §6.2).
pub const REPLAY_HARD_LIMIT: usize = 25;

/// The model server.
#[derive(Debug)]
pub struct ModelRealtime<J: TokenJudge> {
    /// Judge of tokens.
    pub judge: J,
    /// Open connections.
    pub conns: BTreeMap<ConnKey, ServerConn>,
    /// Refuse every handshake (the server is down).
    pub down: bool,
    /// Refuse joins with this reason.
    pub refuse_joins: Option<String>,
    /// Delay of join error replies (Realtime's 5 s default, §4.3).
    pub join_error_delay_ms: u64,
    /// Record every received frame.
    pub record: bool,
    /// The record.
    pub received: Vec<Received>,
    /// Heartbeats are not answered (a half-open socket).
    pub mute_heartbeats: bool,
    /// Stored database broadcasts: (topic, private, id, inserted at), oldest first.
    pub stored: Vec<StoredMessage>,
    next_binding_id: i64,
    next_presence_ref: u64,
    presence_uuid: u64,
}

fn hb_reply(f: &Frame) -> Frame {
    Frame {
        join_ref: None,
        msg_ref: f.msg_ref.clone(),
        topic: String::from(PHOENIX_TOPIC),
        event: String::from("phx_reply"),
        payload: Payload::Json(reply_payload("ok", "{}")),
    }
}

impl<J: TokenJudge> ModelRealtime<J> {
    /// A server that is up and answers at once.
    pub fn new(judge: J) -> Self {
        ModelRealtime {
            judge,
            conns: BTreeMap::new(),
            down: false,
            refuse_joins: None,
            join_error_delay_ms: 0,
            record: false,
            received: Vec::new(),
            mute_heartbeats: false,
            stored: Vec::new(),
            next_binding_id: 1000,
            next_presence_ref: 0,
            presence_uuid: 0,
        }
    }

    fn encode(&self, to: ConnKey, f: &Frame) -> Option<WireMsg> {
        let vsn = self.conns.get(&to)?.vsn;
        frame::encode(f, vsn, Side::Server).ok()
    }

    fn send(&self, out: &mut Vec<ServerSend>, to: ConnKey, delay_ms: u64, f: &Frame) {
        if let Some(msg) = self.encode(to, f) {
            out.push(ServerSend { to, delay_ms, msg });
        }
    }

    /// A handshake for `url`: `Ok` accepts, `Err(status)` refuses with an HTTP status (which a
    /// browser sees as close code 1006).
    pub fn on_connect(&mut self, key: ConnKey, url: &str, now: UnixTime) -> Result<(), u16> {
        if self.down {
            return Err(503);
        }
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let mut apikey = None;
        let mut vsn = Vsn::V1;
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "apikey" => apikey = Some(decode_component(v)),
                "vsn" => vsn = Vsn::from_query(v).ok_or(403u16)?,
                _ => {}
            }
        }
        let apikey = apikey.ok_or(401u16)?;
        let info = self.judge.judge(&apikey).map_err(|_| 401u16)?;
        if info.exp * 1000 <= now.as_millis() {
            return Err(401);
        }
        self.conns.insert(key, ServerConn { vsn, apikey, info, channels: BTreeMap::new() });
        Ok(())
    }

    /// A connection closed (either side).
    pub fn on_close(&mut self, key: ConnKey) -> Vec<ServerSend> {
        let mut out = Vec::new();
        if let Some(conn) = self.conns.remove(&key) {
            for (topic, ch) in conn.channels {
                if ch.presence.is_some() {
                    self.presence_left(&topic, &ch, key, &mut out);
                }
            }
        }
        out
    }

    /// Every connection's keys.
    pub fn conn_keys(&self) -> Vec<ConnKey> {
        self.conns.keys().copied().collect()
    }

    fn reply(&self, out: &mut Vec<ServerSend>, to: ConnKey, f: &Frame, status: &str, response: &str, delay: u64) {
        let r = Frame {
            join_ref: f.join_ref.clone(),
            msg_ref: f.msg_ref.clone(),
            topic: f.topic.clone(),
            event: String::from("phx_reply"),
            payload: Payload::Json(reply_payload(status, response)),
        };
        self.send(out, to, delay, &r);
    }

    fn push_to(
        &self,
        out: &mut Vec<ServerSend>,
        to: ConnKey,
        topic: &str,
        join_ref: Option<String>,
        event: &str,
        p: String,
    ) {
        let f = Frame {
            join_ref,
            msg_ref: None,
            topic: String::from(topic),
            event: String::from(event),
            payload: Payload::Json(p),
        };
        self.send(out, to, 0, &f);
    }

    /// A message from a client.
    pub fn on_message(&mut self, from: ConnKey, msg: &WireMsg, now: UnixTime) -> Vec<ServerSend> {
        let mut out = Vec::new();
        let Some(conn) = self.conns.get(&from) else { return out };
        let Ok(f) = frame::decode(msg, conn.vsn, Side::Client) else { return out };
        if self.record {
            self.received.push(Received { at: now, from, frame: f.clone() });
        }
        if f.topic == PHOENIX_TOPIC {
            if f.event == "heartbeat" && !self.mute_heartbeats {
                self.send(&mut out, from, 0, &hb_reply(&f));
            }
            return out;
        }
        match Event::parse(&f.event) {
            Event::Join => self.join(from, &f, now, &mut out),
            Event::Leave => {
                self.reply(&mut out, from, &f, "ok", "{}", 0);
                let ch = self.conns.get_mut(&from).and_then(|c| c.channels.remove(&f.topic));
                if let Some(ch) = ch {
                    let jr = ch.join_ref.clone();
                    self.push_close(&mut out, from, &f.topic, jr.clone());
                    if ch.presence.is_some() {
                        self.presence_left(&f.topic, &ch, from, &mut out);
                    }
                }
            }
            _ if !self.conns[&from].channels.contains_key(&f.topic) => {
                self.reply(&mut out, from, &f, "error", r#"{"reason":"unmatched topic"}"#, 0);
            }
            Event::AccessToken => self.access_token(from, &f, now, &mut out),
            Event::Broadcast => self.broadcast(from, &f, &mut out),
            Event::Presence => self.presence(from, &f, &mut out),
            _ => {}
        }
        out
    }

    fn push_close(&self, out: &mut Vec<ServerSend>, to: ConnKey, topic: &str, join_ref: Option<String>) {
        let f = Frame {
            join_ref: join_ref.clone(),
            msg_ref: join_ref,
            topic: String::from(topic),
            event: String::from("phx_close"),
            payload: Payload::Json(String::from("{}")),
        };
        self.send(out, to, 0, &f);
    }

    fn join(&mut self, from: ConnKey, f: &Frame, now: UnixTime, out: &mut Vec<ServerSend>) {
        let Payload::Json(p) = &f.payload else { return };
        let req = parse_join(p).unwrap_or_default();
        let config = req.config.unwrap_or_default();
        let delay = self.join_error_delay_ms;
        // A duplicate join closes the old one first (§4.3).
        let old = self.conns.get_mut(&from).and_then(|c| c.channels.remove(&f.topic));
        if let Some(old) = old {
            self.push_close(out, from, &f.topic, old.join_ref.clone());
            if old.presence.is_some() {
                self.presence_left(&f.topic, &old, from, out);
            }
        }
        if let Some(reason) = &self.refuse_joins {
            let mut w = ObjectWriter::new();
            w.str("reason", reason);
            let r = w.finish();
            self.reply(out, from, f, "error", &r, delay);
            return;
        }
        // Which token the channel uses (§5.1).
        let given = req.user_token.or(req.access_token).filter(|t| !t.starts_with("sb_"));
        let conn = &self.conns[&from];
        let (token, info) = match given {
            Some(t) => match self.judge.judge(&t) {
                Ok(i) => (Some(t), i),
                Err(reason) => {
                    let mut code = String::from("MalformedJWT: ");
                    code.push_str(&reason);
                    let mut w = ObjectWriter::new();
                    w.str("reason", &code);
                    let r = w.finish();
                    self.reply(out, from, f, "error", &r, delay);
                    return;
                }
            },
            None => (Some(conn.apikey.clone()), conn.info.clone()),
        };
        let now_s = now.as_secs();
        if info.exp <= now_s {
            let mut reason = String::from("InvalidJWTToken: Token has expired ");
            json::write_u64(&mut reason, now_s - info.exp);
            reason.push_str(" seconds ago");
            let mut w = ObjectWriter::new();
            w.str("reason", &reason);
            let r = w.finish();
            self.reply(out, from, f, "error", &r, delay);
            return;
        }
        let sub_topic = String::from(f.topic.strip_prefix(rt::TOPIC_PREFIX).unwrap_or(&f.topic));
        if config.private && !self.judge.can_read_private(&info, &sub_topic) {
            let mut reason =
                String::from("Unauthorized: You do not have permissions to read from this Channel topic: ");
            reason.push_str(&sub_topic);
            let mut w = ObjectWriter::new();
            w.str("reason", &reason);
            let r = w.finish();
            self.reply(out, from, f, "error", &r, delay);
            return;
        }
        if config.replay.is_some() && !config.private {
            let r = r#"{"reason":"UnableToReplayMessages: Replay is not allowed for public channels"}"#;
            self.reply(out, from, f, "error", r, delay);
            return;
        }
        let replay = config.replay.clone();
        // Echo the bindings with ids.
        let mut echo = String::from("[");
        let mut ids = Vec::new();
        for (i, c) in config.postgres_changes.iter().enumerate() {
            self.next_binding_id += 1;
            ids.push(self.next_binding_id);
            if i > 0 {
                echo.push(',');
            }
            let mut w = ObjectWriter::new();
            w.str("event", &c.event).str("schema", &c.schema);
            if let Some(t) = &c.table {
                w.str("table", t);
            }
            if let Some(fl) = &c.filter {
                w.str("filter", fl);
            }
            w.i64("id", self.next_binding_id);
            echo.push_str(&w.finish());
        }
        echo.push(']');
        let mut resp = ObjectWriter::new();
        resp.raw("postgres_changes", &echo);
        let resp = resp.finish();
        let presence_key = if config.presence_key.is_empty() {
            self.presence_uuid += 1;
            let mut k = String::from("uuid-");
            json::write_u64(&mut k, self.presence_uuid);
            k
        } else {
            config.presence_key.clone()
        };
        let presence_enabled = config.presence_enabled;
        let ch = ServerChannel {
            join_ref: f.join_ref.clone(),
            config,
            token,
            info: Some(info),
            binding_ids: ids,
            presence: None,
            presence_key,
        };
        if let Some(c) = self.conns.get_mut(&from) {
            c.channels.insert(f.topic.clone(), ch);
        }
        self.reply(out, from, f, "ok", &resp, 0);
        if let Some(r) = replay {
            // The newest `limit` stored since `since`, sent oldest first after the reply.
            let limit = r.limit.map_or(REPLAY_HARD_LIMIT, |l| (l as usize).clamp(1, REPLAY_HARD_LIMIT));
            let matching: Vec<&StoredMessage> =
                self.stored.iter().filter(|m| m.topic == f.topic && m.private && m.at.as_millis() >= r.since).collect();
            for m in &matching[matching.len().saturating_sub(limit)..] {
                let p = db_broadcast_payload(&m.id, true);
                self.push_to(out, from, &f.topic, f.join_ref.clone(), "broadcast", p);
            }
        }
        if presence_enabled {
            let state = self.presence_state(&f.topic);
            self.push_to(out, from, &f.topic, f.join_ref.clone(), "presence_state", state);
        }
    }

    fn access_token(&mut self, from: ConnKey, f: &Frame, now: UnixTime, out: &mut Vec<ServerSend>) {
        let Payload::Json(p) = &f.payload else { return };
        let Some(tok) = json::field(p, "access_token").ok().flatten().and_then(json::str_of) else { return };
        if tok.starts_with("sb_") {
            return;
        }
        let same = self.conns[&from].channels.get(&f.topic).is_some_and(|c| c.token.as_deref() == Some(&tok));
        if same {
            return;
        }
        let judged = self.judge.judge(&tok);
        let now_s = now.as_secs();
        let problem = match &judged {
            Err(r) => Some(r.clone()),
            Ok(i) if i.exp <= now_s => {
                let mut m = String::from("Token has expired ");
                json::write_u64(&mut m, now_s - i.exp);
                m.push_str(" seconds ago");
                Some(m)
            }
            Ok(_) => None,
        };
        match problem {
            Some(message) => self.shutdown(from, &f.topic, &message, out),
            None => {
                if let Some(ch) = self.conns.get_mut(&from).and_then(|c| c.channels.get_mut(&f.topic)) {
                    ch.token = Some(tok);
                    ch.info = judged.ok();
                }
            }
        }
    }

    /// Ends a channel with a `system` error and `phx_close` (§4.4).
    pub fn shutdown(&mut self, key: ConnKey, topic: &str, message: &str, out: &mut Vec<ServerSend>) {
        let Some(ch) = self.conns.get_mut(&key).and_then(|c| c.channels.remove(topic)) else { return };
        let sys = System {
            extension: String::from("system"),
            status: String::from("error"),
            message: String::from(message),
            channel: Some(String::from(topic.strip_prefix(rt::TOPIC_PREFIX).unwrap_or(topic))),
        };
        self.push_to(out, key, topic, ch.join_ref.clone(), "system", sys.to_payload());
        self.push_close(out, key, topic, ch.join_ref.clone());
        if ch.presence.is_some() {
            self.presence_left(topic, &ch, key, out);
        }
    }

    /// Crashes a channel: `phx_error`, membership dropped.
    pub fn crash(&mut self, key: ConnKey, topic: &str) -> Vec<ServerSend> {
        let mut out = Vec::new();
        if let Some(ch) = self.conns.get_mut(&key).and_then(|c| c.channels.remove(topic)) {
            let f = Frame {
                join_ref: ch.join_ref.clone(),
                msg_ref: ch.join_ref.clone(),
                topic: String::from(topic),
                event: String::from("phx_error"),
                payload: Payload::Json(String::from("{}")),
            };
            self.send(&mut out, key, 0, &f);
        }
        out
    }

    /// The expiry check Realtime runs per channel (§5.4): every channel whose token expired is
    /// shut down with the real message. Run it as often as you like.
    pub fn expire_tokens(&mut self, now: UnixTime) -> Vec<ServerSend> {
        let mut out = Vec::new();
        let now_s = now.as_secs();
        let mut due = Vec::new();
        for (k, c) in &self.conns {
            for (topic, ch) in &c.channels {
                if let Some(i) = &ch.info {
                    if i.exp <= now_s {
                        due.push((*k, topic.clone(), now_s - i.exp));
                    }
                }
            }
        }
        for (k, topic, ago) in due {
            let mut m = String::from("Token has expired ");
            json::write_u64(&mut m, ago);
            m.push_str(" seconds ago");
            self.shutdown(k, &topic, &m, &mut out);
        }
        out
    }

    fn broadcast(&mut self, from: ConnKey, f: &Frame, out: &mut Vec<ServerSend>) {
        let (cfg_self, ack) = {
            let ch = &self.conns[&from].channels[&f.topic];
            (ch.config.broadcast_self, ch.config.broadcast_ack)
        };
        let (event, data) = match &f.payload {
            Payload::Json(p) => {
                let ev = json::field(p, "event").ok().flatten().and_then(json::str_of).unwrap_or_default();
                let data = json::field(p, "payload").ok().flatten().unwrap_or("{}");
                (ev, UserData::Json(String::from(data)))
            }
            Payload::UserBroadcast(ub) => (ub.event.clone(), ub.data.clone()),
            _ => return,
        };
        for (k, c) in &self.conns {
            if *k == from && !cfg_self {
                continue;
            }
            if !c.channels.contains_key(&f.topic) {
                continue;
            }
            let fr = match (c.vsn, &data) {
                (Vsn::V2, d) => Frame {
                    join_ref: None,
                    msg_ref: None,
                    topic: f.topic.clone(),
                    event: String::from("broadcast"),
                    payload: Payload::UserBroadcast(UserBroadcast {
                        event: event.clone(),
                        metadata: String::new(),
                        data: d.clone(),
                    }),
                },
                (Vsn::V1, UserData::Json(j)) => Frame {
                    join_ref: None,
                    msg_ref: None,
                    topic: f.topic.clone(),
                    event: String::from("broadcast"),
                    payload: Payload::Json(rt::broadcast_payload(&event, j)),
                },
                // Binary broadcasts are dropped for V1 subscribers (§2.1).
                (Vsn::V1, UserData::Binary(_)) => continue,
            };
            self.send(out, *k, 0, &fr);
        }
        if ack {
            self.reply(out, from, f, "ok", "{}", 0);
        }
    }

    fn presence(&mut self, from: ConnKey, f: &Frame, out: &mut Vec<ServerSend>) {
        let Payload::Json(p) = &f.payload else { return };
        let event = json::field(p, "event").ok().flatten().and_then(json::str_of).unwrap_or_default();
        match event.to_ascii_lowercase().as_str() {
            "track" => {
                let meta_raw = json::field(p, "payload").ok().flatten().unwrap_or("{}");
                if json::fields(meta_raw).is_err() {
                    self.reply(out, from, f, "error", r#"{"reason":"Presence track payload must be a map"}"#, 0);
                    return;
                }
                self.next_presence_ref += 1;
                let mut r = String::from("ref");
                json::write_u64(&mut r, self.next_presence_ref);
                let mut w = ObjectWriter::new();
                for (k, v) in json::fields(meta_raw).unwrap_or_default() {
                    w.raw(&k, v);
                }
                w.str("phx_ref", &r);
                let ch = self.conns.get_mut(&from).and_then(|c| c.channels.get_mut(&f.topic));
                let Some(ch) = ch else { return };
                let prev = ch.presence.take();
                if let Some(pr) = &prev {
                    w.str("phx_ref_prev", &pr.phx_ref);
                }
                let meta = PresenceMeta {
                    phx_ref: r,
                    phx_ref_prev: prev.as_ref().map(|p| p.phx_ref.clone()),
                    raw: w.finish(),
                };
                ch.presence = Some(meta.clone());
                let key = ch.presence_key.clone();
                self.reply(out, from, f, "ok", "{}", 0);
                let joins = alloc::vec![(key.clone(), alloc::vec![meta])];
                let leaves = prev.map(|p| alloc::vec![(key, alloc::vec![p])]).unwrap_or_default();
                self.fan_diff(&f.topic, &joins, &leaves, out);
            }
            "untrack" => {
                let ch = self.conns.get_mut(&from).and_then(|c| c.channels.get_mut(&f.topic));
                let Some(ch) = ch else { return };
                let prev = ch.presence.take();
                let key = ch.presence_key.clone();
                self.reply(out, from, f, "ok", "{}", 0);
                if let Some(p) = prev {
                    self.fan_diff(&f.topic, &[], &[(key, alloc::vec![p])], out);
                }
            }
            _ => self.reply(out, from, f, "error", "{}", 0),
        }
    }

    fn presence_left(&self, topic: &str, ch: &ServerChannel, _from: ConnKey, out: &mut Vec<ServerSend>) {
        if let Some(p) = &ch.presence {
            self.fan_diff(topic, &[], &[(ch.presence_key.clone(), alloc::vec![p.clone()])], out);
        }
    }

    fn fan_diff(
        &self,
        topic: &str,
        joins: &[(String, Vec<PresenceMeta>)],
        leaves: &[(String, Vec<PresenceMeta>)],
        out: &mut Vec<ServerSend>,
    ) {
        let mut w = ObjectWriter::new();
        w.raw("joins", &presence_entries_json(joins)).raw("leaves", &presence_entries_json(leaves));
        let p = w.finish();
        for (k, c) in &self.conns {
            if c.channels.contains_key(topic) {
                self.push_to(out, *k, topic, None, "presence_diff", p.clone());
            }
        }
    }

    fn presence_state(&self, topic: &str) -> String {
        let mut entries: rt::PresenceEntries = Vec::new();
        for c in self.conns.values() {
            if let Some(ch) = c.channels.get(topic) {
                if let Some(p) = &ch.presence {
                    match entries.iter_mut().find(|(k, _)| *k == ch.presence_key) {
                        Some((_, metas)) => metas.push(p.clone()),
                        None => entries.push((ch.presence_key.clone(), alloc::vec![p.clone()])),
                    }
                }
            }
        }
        presence_entries_json(&entries)
    }

    /// Emits a Postgres change on `topic` for every subscriber with a binding whose table
    /// matches; `record` is the row JSON.
    pub fn postgres_change(&self, topic: &str, table: &str, change: rt::ChangeType, record: &str) -> Vec<ServerSend> {
        let mut out = Vec::new();
        for (k, c) in &self.conns {
            let Some(ch) = c.channels.get(topic) else { continue };
            let ids: Vec<i64> = ch
                .config
                .postgres_changes
                .iter()
                .zip(&ch.binding_ids)
                .filter(|(b, _)| b.table.as_deref().is_none_or(|t| t == table || t == "*") && change.matches(&b.event))
                .map(|(_, id)| *id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            let mut idt = String::from("[");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    idt.push(',');
                }
                json::write_i64(&mut idt, *id);
            }
            idt.push(']');
            let mut d = ObjectWriter::new();
            d.str("schema", "public").str("table", table).str("type", change.as_str());
            d.str("commit_timestamp", "2026-11-22T00:00:00.000Z");
            d.raw("columns", "[]");
            match change {
                rt::ChangeType::Insert => {
                    d.raw("record", record);
                }
                rt::ChangeType::Update => {
                    d.raw("record", record).raw("old_record", record);
                }
                rt::ChangeType::Delete => {
                    d.raw("old_record", record);
                }
            }
            d.raw("errors", "null");
            let mut w = ObjectWriter::new();
            w.raw("ids", &idt).raw("data", &d.finish());
            self.push_to(&mut out, *k, topic, None, "postgres_changes", w.finish());
        }
        out
    }

    /// `realtime.send(payload, 'db', topic, private)`: stores the message (id `id`) and sends it
    /// to every channel joined on `topic` with the same privacy, with `meta.id`.
    pub fn db_broadcast(&mut self, topic: &str, private: bool, id: &str, now: UnixTime) -> Vec<ServerSend> {
        self.stored.push(StoredMessage { topic: String::from(topic), private, id: String::from(id), at: now });
        let mut out = Vec::new();
        for (k, c) in &self.conns {
            let Some(ch) = c.channels.get(topic).filter(|ch| ch.config.private == private) else { continue };
            self.push_to(&mut out, *k, topic, ch.join_ref.clone(), "broadcast", db_broadcast_payload(id, false));
        }
        out
    }

    /// Sends a raw server frame to a connection (for unknown-event and malformed-input tests).
    pub fn raw(&self, to: ConnKey, msg: WireMsg) -> Vec<ServerSend> {
        alloc::vec![ServerSend { to, delay_ms: 0, msg }]
    }
}

/// A database broadcast as the server sends it: `{type, event: "db", payload: {id}, meta}`.
fn db_broadcast_payload(id: &str, replayed: bool) -> String {
    let mut meta = ObjectWriter::new();
    if replayed {
        meta.bool("replayed", true);
    }
    meta.str("id", id);
    let mut body = ObjectWriter::new();
    body.str("id", id);
    let mut w = ObjectWriter::new();
    w.str("type", "broadcast").str("event", "db").raw("payload", &body.finish()).raw("meta", &meta.finish());
    w.finish()
}
