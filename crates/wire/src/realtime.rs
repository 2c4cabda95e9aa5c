//! Typed Supabase Realtime payloads (protocol reference §4–§9): events, the `phx_join`
//! config, replies, `system` messages, presence state and diffs, Postgres change events.
//!
//! Readers take the raw JSON text of a frame payload and read only what they need; the parts
//! an application receives (records, metas, broadcast bodies) stay raw JSON text.

use alloc::string::String;
use alloc::vec::Vec;

use crate::frame::DecodeError;
use crate::json::{self, ObjectWriter, Value};

/// The topic prefix every Realtime channel carries (§4.1).
pub const TOPIC_PREFIX: &str = "realtime:";
/// The socket-level topic of heartbeats (§3).
pub const PHOENIX_TOPIC: &str = "phoenix";

/// A frame's event name, typed. Unknown names decode to [`Event::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// `phx_join`
    Join,
    /// `phx_leave`
    Leave,
    /// `phx_reply`
    Reply,
    /// `phx_close`: the channel instance ended (terminal, §4.4).
    Close,
    /// `phx_error`: the channel process crashed; rejoin.
    Error,
    /// `heartbeat` on topic `phoenix`.
    Heartbeat,
    /// `access_token`: a new JWT for the channel (§5.2).
    AccessToken,
    /// `broadcast`
    Broadcast,
    /// `presence` (client track/untrack).
    Presence,
    /// `presence_state`
    PresenceState,
    /// `presence_diff`
    PresenceDiff,
    /// `postgres_changes`
    PostgresChanges,
    /// `system`
    System,
    /// Anything else (tolerated and ignored by the core).
    Other(&'a str),
}

impl<'a> Event<'a> {
    /// Types an event name.
    pub fn parse(name: &'a str) -> Event<'a> {
        match name {
            "phx_join" => Event::Join,
            "phx_leave" => Event::Leave,
            "phx_reply" => Event::Reply,
            "phx_close" => Event::Close,
            "phx_error" => Event::Error,
            "heartbeat" => Event::Heartbeat,
            "access_token" => Event::AccessToken,
            "broadcast" => Event::Broadcast,
            "presence" => Event::Presence,
            "presence_state" => Event::PresenceState,
            "presence_diff" => Event::PresenceDiff,
            "postgres_changes" => Event::PostgresChanges,
            "system" => Event::System,
            other => Event::Other(other),
        }
    }
    /// The wire name.
    pub fn as_str(&self) -> &'a str {
        match self {
            Event::Join => "phx_join",
            Event::Leave => "phx_leave",
            Event::Reply => "phx_reply",
            Event::Close => "phx_close",
            Event::Error => "phx_error",
            Event::Heartbeat => "heartbeat",
            Event::AccessToken => "access_token",
            Event::Broadcast => "broadcast",
            Event::Presence => "presence",
            Event::PresenceState => "presence_state",
            Event::PresenceDiff => "presence_diff",
            Event::PostgresChanges => "postgres_changes",
            Event::System => "system",
            Event::Other(s) => s,
        }
    }
}

/// `config.broadcast.replay` (§6.2): replay stored messages since `since` (ms epoch).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Replay {
    /// Milliseconds since the epoch.
    pub since: u64,
    /// At most this many (the server caps at 25).
    pub limit: Option<u32>,
}

/// One `config.postgres_changes` entry (§8.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgChange {
    /// `*`, `INSERT`, `UPDATE` or `DELETE`.
    pub event: String,
    /// The schema (`public` by default in the SDK).
    pub schema: String,
    /// The table, if any.
    pub table: Option<String>,
    /// The filter (`column=op.value`), if any.
    pub filter: Option<String>,
}

impl PgChange {
    fn write(&self, out: &mut String) {
        let mut w = ObjectWriter::new();
        w.str("event", &self.event).str("schema", &self.schema);
        if let Some(t) = &self.table {
            w.str("table", t);
        }
        if let Some(f) = &self.filter {
            w.str("filter", f);
        }
        out.push_str(&w.finish());
    }
    /// Reads one entry as the server echoes it (keys as sent, plus `id`).
    fn read(v: &Value) -> Option<PgChange> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Some(PgChange {
            event: s("event").unwrap_or_else(|| String::from("*")),
            schema: s("schema")?,
            table: s("table"),
            filter: s("filter"),
        })
    }
}

/// The `config` object of a `phx_join` (§4.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinConfig {
    /// `broadcast.self`: receive your own broadcasts.
    pub broadcast_self: bool,
    /// `broadcast.ack`: the server replies to each broadcast push.
    pub broadcast_ack: bool,
    /// `broadcast.replay` (private channels only).
    pub replay: Option<Replay>,
    /// `presence.key` (empty: the server generates one per join).
    pub presence_key: String,
    /// `presence.enabled`.
    pub presence_enabled: bool,
    /// `postgres_changes` bindings, in order (the reply is matched by position).
    pub postgres_changes: Vec<PgChange>,
    /// `private`: authorise with RLS on `realtime.messages`.
    pub private: bool,
}

/// Builds a `phx_join` payload. Always carries `config` (a join without it is the legacy API,
/// §4.2). `access_token` is included only when given.
pub fn join_payload(cfg: &JoinConfig, access_token: Option<&str>) -> String {
    let mut b = ObjectWriter::new();
    b.bool("ack", cfg.broadcast_ack).bool("self", cfg.broadcast_self);
    if let Some(r) = &cfg.replay {
        let mut rw = ObjectWriter::new();
        rw.u64("since", r.since);
        if let Some(l) = r.limit {
            rw.u64("limit", u64::from(l));
        }
        b.raw("replay", &rw.finish());
    }
    let mut p = ObjectWriter::new();
    p.str("key", &cfg.presence_key).bool("enabled", cfg.presence_enabled);
    let mut pg = String::from("[");
    for (i, c) in cfg.postgres_changes.iter().enumerate() {
        if i > 0 {
            pg.push(',');
        }
        c.write(&mut pg);
    }
    pg.push(']');
    let mut c = ObjectWriter::new();
    c.raw("broadcast", &b.finish())
        .raw("presence", &p.finish())
        .raw("postgres_changes", &pg)
        .bool("private", cfg.private);
    let mut w = ObjectWriter::new();
    w.raw("config", &c.finish());
    if let Some(t) = access_token {
        w.str("access_token", t);
    }
    w.finish()
}

/// A `phx_join` payload as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinRequest {
    /// The config; `None` when the payload has no `config` (legacy API).
    pub config: Option<JoinConfig>,
    /// `access_token`, if a string.
    pub access_token: Option<String>,
    /// Legacy `user_token`, if a string.
    pub user_token: Option<String>,
}

/// Booleans as Realtime's `FlexibleBoolean` reads them: JSON booleans or the strings
/// `"true"`/`"false"` in any case.
fn flex_bool(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Str(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Reads a `phx_join` payload leniently, as the server does (invalid parts are dropped,
/// §4.2).
pub fn parse_join(payload: &str) -> Result<JoinRequest, DecodeError> {
    let v = json::parse(payload)?;
    if v.as_object().is_none() {
        return Err(DecodeError::Shape("join payload must be an object"));
    }
    let config = v.get("config").map(|c| {
        let b = c.get("broadcast");
        let p = c.get("presence");
        let replay = b.and_then(|b| b.get("replay")).and_then(|r| {
            r.as_object()?;
            Some(Replay {
                since: r.get("since").and_then(Value::as_i64).unwrap_or(0).max(0) as u64,
                limit: r.get("limit").and_then(Value::as_i64).map(|l| l.clamp(0, i64::from(u32::MAX)) as u32),
            })
        });
        let key = match p.and_then(|p| p.get("key")) {
            Some(Value::Str(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_json(),
        };
        JoinConfig {
            broadcast_self: flex_bool(b.and_then(|b| b.get("self"))),
            broadcast_ack: flex_bool(b.and_then(|b| b.get("ack"))),
            replay,
            presence_key: key,
            presence_enabled: flex_bool(p.and_then(|p| p.get("enabled"))),
            postgres_changes: c
                .get("postgres_changes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(PgChange::read).collect())
                .unwrap_or_default(),
            private: flex_bool(c.get("private")),
        }
    });
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
    Ok(JoinRequest { config, access_token: s("access_token"), user_token: s("user_token") })
}

/// A `phx_reply` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply<'a> {
    /// `ok`, `error`, …
    pub status: String,
    /// The raw `response` (an object, or a bare string for `payload_size_exceeded`).
    pub response: &'a str,
}

impl Reply<'_> {
    /// `true` for status `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
    /// The error text the way realtime-js surfaces it: `response.reason`, a bare string
    /// response, or the response's string values joined by `", "`.
    pub fn reason(&self) -> String {
        if let Some(s) = json::str_of(self.response) {
            return s;
        }
        let Ok(fs) = json::fields(self.response) else { return String::new() };
        if let Some((_, r)) = fs.iter().find(|(k, _)| k == "reason") {
            if let Some(s) = json::str_of(r) {
                return s;
            }
        }
        let mut out = String::new();
        for (_, v) in fs {
            let part = json::str_of(v).unwrap_or_else(|| String::from(v));
            if !out.is_empty() {
                out.push_str(", ");
            }
            out.push_str(&part);
        }
        out
    }
    /// The `postgres_changes` echo of a join reply: each entry as sent, with its server id.
    pub fn postgres_changes(&self) -> Result<Vec<(PgChange, i64)>, DecodeError> {
        let Some(raw) = json::field(self.response, "postgres_changes").ok().flatten() else {
            return Ok(Vec::new());
        };
        let v = json::parse(raw)?;
        let Some(items) = v.as_array() else { return Ok(Vec::new()) };
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            let id = it.get("id").and_then(Value::as_i64).ok_or(DecodeError::Shape("binding without id"))?;
            let spec = PgChange::read(it).ok_or(DecodeError::Shape("binding without schema"))?;
            out.push((spec, id));
        }
        Ok(out)
    }
}

/// Reads a `phx_reply` payload.
pub fn parse_reply(payload: &str) -> Result<Reply<'_>, DecodeError> {
    let fs = json::fields(payload)?;
    let status = fs
        .iter()
        .find(|(k, _)| k == "status")
        .and_then(|(_, v)| json::str_of(v))
        .ok_or(DecodeError::Shape("reply without status"))?;
    let response = fs.iter().find(|(k, _)| k == "response").map_or("{}", |(_, v)| *v);
    Ok(Reply { status, response })
}

/// Builds a `phx_reply` payload from a status and raw response JSON.
pub fn reply_payload(status: &str, response: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("status", status).raw("response", response);
    w.finish()
}

/// A `system` message (§9.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct System {
    /// `system` or `postgres_changes`.
    pub extension: String,
    /// `ok` or `error`.
    pub status: String,
    /// The text, e.g. `Token has expired 3 seconds ago`.
    pub message: String,
    /// The sub-topic, when present.
    pub channel: Option<String>,
}

impl System {
    /// Reads a `system` payload (missing fields read as empty).
    pub fn parse(payload: &str) -> Result<System, DecodeError> {
        let v = json::parse(payload)?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
        Ok(System {
            extension: s("extension").unwrap_or_default(),
            status: s("status").unwrap_or_default(),
            message: s("message").unwrap_or_default(),
            channel: s("channel"),
        })
    }
    /// The payload text.
    pub fn to_payload(&self) -> String {
        let mut w = ObjectWriter::new();
        w.str("extension", &self.extension).str("status", &self.status).str("message", &self.message);
        if let Some(c) = &self.channel {
            w.str("channel", c);
        }
        w.finish()
    }
    /// `true` for the token-expiry shutdown message (§5.4, §9.3).
    pub fn is_token_expired(&self) -> bool {
        self.status == "error" && self.message.starts_with("Token has expired")
    }
}

/// One presence meta: the tracked object plus the server's `phx_ref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceMeta {
    /// The server's reference for this meta.
    pub phx_ref: String,
    /// On an update, the reference this meta replaced.
    pub phx_ref_prev: Option<String>,
    /// The meta object's JSON text, as received.
    pub raw: String,
}

/// Presence entries: key → metas, in wire order.
pub type PresenceEntries = Vec<(String, Vec<PresenceMeta>)>;

fn read_entries(raw: &str) -> Result<PresenceEntries, DecodeError> {
    let mut out = Vec::new();
    for (key, entry) in json::fields(raw)? {
        let Some(metas_raw) = json::field(entry, "metas")? else { continue };
        let mut metas = Vec::new();
        for m in json::elements(metas_raw).unwrap_or_default() {
            let Ok(fs) = json::fields(m) else { continue };
            let get = |k: &str| fs.iter().find(|(n, _)| n == k).and_then(|(_, v)| json::str_of(v));
            // A meta without a ref cannot be tracked or removed; skip it.
            let Some(phx_ref) = get("phx_ref") else { continue };
            metas.push(PresenceMeta { phx_ref, phx_ref_prev: get("phx_ref_prev"), raw: String::from(m) });
        }
        out.push((key, metas));
    }
    Ok(out)
}

/// Reads a `presence_state` payload.
pub fn parse_presence_state(payload: &str) -> Result<PresenceEntries, DecodeError> {
    read_entries(payload)
}

/// A `presence_diff` payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceDiff {
    /// Keys with metas that joined (an update carries `phx_ref_prev`).
    pub joins: PresenceEntries,
    /// Keys with metas that left.
    pub leaves: PresenceEntries,
}

/// Reads a `presence_diff` payload.
pub fn parse_presence_diff(payload: &str) -> Result<PresenceDiff, DecodeError> {
    let fs = json::fields(payload)?;
    let get = |k: &str| fs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    Ok(PresenceDiff {
        joins: get("joins").map(read_entries).transpose()?.unwrap_or_default(),
        leaves: get("leaves").map(read_entries).transpose()?.unwrap_or_default(),
    })
}

/// Writes presence entries as the server sends them (`{key: {metas: [...]}}`).
pub fn presence_entries_json(entries: &[(String, Vec<PresenceMeta>)]) -> String {
    let mut w = ObjectWriter::new();
    for (key, metas) in entries {
        let mut arr = String::from("[");
        for (i, m) in metas.iter().enumerate() {
            if i > 0 {
                arr.push(',');
            }
            arr.push_str(&m.raw);
        }
        arr.push(']');
        let mut e = ObjectWriter::new();
        e.raw("metas", &arr);
        w.raw(key, &e.finish());
    }
    w.finish()
}

/// The change type of a Postgres change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
}

impl ChangeType {
    /// Types a `data.type` value.
    pub fn parse(s: &str) -> Option<ChangeType> {
        match s {
            "INSERT" => Some(ChangeType::Insert),
            "UPDATE" => Some(ChangeType::Update),
            "DELETE" => Some(ChangeType::Delete),
            _ => None,
        }
    }
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Insert => "INSERT",
            ChangeType::Update => "UPDATE",
            ChangeType::Delete => "DELETE",
        }
    }
    /// `true` if a binding for `event` (`*` or a type, any case) wants this change.
    pub fn matches(self, event: &str) -> bool {
        event == "*" || event.eq_ignore_ascii_case(self.as_str())
    }
}

/// A `postgres_changes` event (§8.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgChangeEvent<'a> {
    /// The ids of this channel's bindings the change matched.
    pub ids: Vec<i64>,
    /// `data.type`.
    pub change: ChangeType,
    /// The members of `data` as raw JSON text (`schema`, `table`, `record`, `old_record`,
    /// `columns`, `commit_timestamp`, `errors`).
    pub data: Vec<(String, &'a str)>,
}

impl PgChangeEvent<'_> {
    /// The raw value of `data.<key>`.
    pub fn data_field(&self, key: &str) -> Option<&str> {
        self.data.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

/// Reads a `postgres_changes` payload.
pub fn parse_postgres_changes(payload: &str) -> Result<PgChangeEvent<'_>, DecodeError> {
    let fs = json::fields(payload)?;
    let get = |k: &str| fs.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let ids_raw = get("ids").ok_or(DecodeError::Shape("postgres_changes without ids"))?;
    let mut ids = Vec::new();
    for e in json::elements(ids_raw)? {
        ids.push(json::int_of(e).ok_or(DecodeError::Shape("binding id must be an integer"))?);
    }
    let data_raw = get("data").ok_or(DecodeError::Shape("postgres_changes without data"))?;
    let data = json::fields(data_raw)?;
    let change = data
        .iter()
        .find(|(k, _)| k == "type")
        .and_then(|(_, v)| json::str_of(v))
        .and_then(|t| ChangeType::parse(&t))
        .ok_or(DecodeError::Shape("postgres_changes without a known data.type"))?;
    Ok(PgChangeEvent { ids, change, data })
}

/// `{"access_token": …}` for the `access_token` push (§5.2).
pub fn access_token_payload(token: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("access_token", token);
    w.finish()
}

/// A JSON broadcast payload: `{"type":"broadcast","event":…,"payload":…}` (§6.1).
pub fn broadcast_payload(event: &str, payload_json: &str) -> String {
    let mut w = ObjectWriter::new();
    w.str("type", "broadcast").str("event", event).raw("payload", payload_json);
    w.finish()
}

/// A presence push: `{"type":"presence","event":"track"|"untrack","payload":…}` (§7.1).
pub fn presence_payload(event: &str, payload_json: Option<&str>) -> String {
    let mut w = ObjectWriter::new();
    w.str("type", "presence").str("event", event);
    if let Some(p) = payload_json {
        w.raw("payload", p);
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn join_payload_matches_realtime_js_shape() {
        let cfg = JoinConfig::default();
        assert_eq!(
            join_payload(&cfg, Some("tok")),
            r#"{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[],"private":false},"access_token":"tok"}"#
        );
        let cfg = JoinConfig {
            broadcast_self: true,
            replay: Some(Replay { since: 5, limit: Some(3) }),
            postgres_changes: vec![PgChange {
                event: "INSERT".into(),
                schema: "public".into(),
                table: Some("songs".into()),
                filter: Some("id=eq.1".into()),
            }],
            private: true,
            ..JoinConfig::default()
        };
        let p = join_payload(&cfg, None);
        let back = parse_join(&p).unwrap();
        assert_eq!(back.config, Some(cfg));
        assert_eq!(back.access_token, None);
    }

    #[test]
    fn join_parse_is_lenient_like_the_server() {
        let r = parse_join(
            r#"{"config":{"private":"TRUE","broadcast":{"self":"false"},"presence":{"key":7}},"user_token":"u"}"#,
        )
        .unwrap();
        let c = r.config.unwrap();
        assert!(c.private);
        assert!(!c.broadcast_self);
        assert_eq!(c.presence_key, "7");
        assert_eq!(r.user_token.as_deref(), Some("u"));
        assert_eq!(parse_join("{}").unwrap().config, None);
        assert!(parse_join("[]").is_err());
    }

    #[test]
    fn reply_reasons() {
        let r = parse_reply(r#"{"status":"error","response":{"reason":"Unauthorized: no"}}"#).unwrap();
        assert!(!r.is_ok());
        assert_eq!(r.reason(), "Unauthorized: no");
        let r = parse_reply(r#"{"status":"error","response":"payload_size_exceeded"}"#).unwrap();
        assert_eq!(r.reason(), "payload_size_exceeded");
        let r = parse_reply(r#"{"status":"error","response":{"a":"x","b":"y"}}"#).unwrap();
        assert_eq!(r.reason(), "x, y");
        assert!(parse_reply(r#"{"response":{}}"#).is_err());
    }

    #[test]
    fn join_reply_bindings() {
        let r = parse_reply(
            r#"{"status":"ok","response":{"postgres_changes":[{"id":30636876,"event":"INSERT","schema":"public","table":"messages","filter":"room_id=eq.1"}]}}"#,
        )
        .unwrap();
        let b = r.postgres_changes().unwrap();
        assert_eq!(b[0].1, 30636876);
        assert_eq!(b[0].0.table.as_deref(), Some("messages"));
        let none = parse_reply(r#"{"status":"ok","response":{}}"#).unwrap();
        assert!(none.postgres_changes().unwrap().is_empty());
    }

    #[test]
    fn presence_payloads() {
        let st =
            parse_presence_state(r#"{"k1":{"metas":[{"phx_ref":"A","user":"alice"},{"no_ref":1}]},"k2":{"metas":[]}}"#)
                .unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].1.len(), 1);
        assert_eq!(st[0].1[0].phx_ref, "A");
        let d = parse_presence_diff(
            r#"{"joins":{"k1":{"metas":[{"phx_ref":"B","phx_ref_prev":"A","user":"alice2"}]}},"leaves":{"k1":{"metas":[{"phx_ref":"A"}]}}}"#,
        )
        .unwrap();
        assert_eq!(d.joins[0].1[0].phx_ref_prev.as_deref(), Some("A"));
        assert_eq!(d.leaves[0].1[0].phx_ref, "A");
        let text = presence_entries_json(&st);
        assert_eq!(parse_presence_state(&text).unwrap(), st);
    }

    #[test]
    fn postgres_change_events() {
        let p = r#"{"ids":[1,2],"data":{"schema":"public","table":"t","type":"UPDATE","record":{"id":1},"old_record":{"id":1},"columns":[],"commit_timestamp":"x","errors":null}}"#;
        let e = parse_postgres_changes(p).unwrap();
        assert_eq!(e.ids, [1, 2]);
        assert_eq!(e.change, ChangeType::Update);
        assert_eq!(e.data_field("record"), Some(r#"{"id":1}"#));
        assert!(ChangeType::Update.matches("*"));
        assert!(ChangeType::Update.matches("update"));
        assert!(!ChangeType::Update.matches("INSERT"));
        assert!(parse_postgres_changes(r#"{"ids":[1],"data":{"type":"TRUNCATE"}}"#).is_err());
    }

    #[test]
    fn system_messages() {
        let s = System::parse(
            r#"{"extension":"system","status":"error","message":"Token has expired 3 seconds ago","channel":"room1"}"#,
        )
        .unwrap();
        assert!(s.is_token_expired());
        assert_eq!(System::parse(&s.to_payload()).unwrap(), s);
        assert_eq!(Event::parse("presence_diff"), Event::PresenceDiff);
        assert_eq!(Event::parse("whatever"), Event::Other("whatever"));
        assert_eq!(Event::parse("whatever").as_str(), "whatever");
        assert_eq!(broadcast_payload("e", "{}").to_string(), r#"{"type":"broadcast","event":"e","payload":{}}"#);
    }
}
