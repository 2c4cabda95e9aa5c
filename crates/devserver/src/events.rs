//! `/_dev/events`: the server's own record of what it received and sent — WebSocket
//! handshakes (accepted and refused), frames in and out, socket closes, and `/auth/v1`
//! requests — so tests can assert on what the server saw instead of sleeping and hoping.
//!
//! The record is a ring of the last [`CAPACITY`] events behind one mutex. An event holds a
//! few short strings (topic, event name, refs) and token *fingerprints*: payloads are never
//! copied and no token or refresh token is ever stored whole (a [`TokenInfo`] keeps the
//! claims tests look at and the first 12 hex characters of the token's SHA-256).
//!
//! `GET /_dev/events?after=<seq>&kind=<k>[,<k>…]&user=<sub>&topic=<topic>&conn=<id>` →
//! `{ "next", "dropped", "events": [ … ] }`, oldest first; `DELETE /_dev/events` clears the
//! record (sequence numbers keep counting). The README's `/_dev` section has the fields.

use crate::http::Shared;
use crate::jwt::{decode_unverified, Claims};
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest as _, Query, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many events the record keeps; older ones are counted in `dropped`.
pub(crate) const CAPACITY: usize = 200_000;

/// What a test may learn about a token without the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenInfo {
    sub: Option<String>,
    role: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    session_id: Option<String>,
    /// The first 12 hex characters of the SHA-256 of the token text.
    fp: String,
}

impl TokenInfo {
    /// The info of `token` when it is a JWT (decoded, not verified); `None` otherwise.
    pub(crate) fn of(token: &str) -> Option<Arc<TokenInfo>> {
        let (_, claims) = decode_unverified(token).ok()?;
        Some(TokenInfo::with_claims(token, &claims))
    }

    /// The info of `token` whose claims are already decoded.
    pub(crate) fn with_claims(token: &str, claims: &Claims) -> Arc<TokenInfo> {
        Arc::new(TokenInfo {
            sub: claims.sub().map(str::to_owned),
            role: claims.role().map(str::to_owned),
            exp: claims.exp(),
            iat: claims.iat(),
            session_id: claims.session_id().map(str::to_owned),
            fp: fingerprint(token),
        })
    }

    /// The `sub` claim, shared (the `user` field of an event).
    pub(crate) fn user(&self) -> Option<Arc<str>> {
        self.sub.as_deref().map(Arc::from)
    }
}

/// The first 12 hex characters of the SHA-256 of `text`: enough to tell tokens apart,
/// useless to replay one.
pub(crate) fn fingerprint(text: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Who ended a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum By {
    Client,
    Server,
}

/// One recorded event (the README lists the fields per kind).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", rename_all_fields = "camelCase")]
pub(crate) enum Event {
    /// A WebSocket handshake was accepted.
    WsOpen {
        conn: u64,
        path: &'static str,
        vsn: &'static str,
        mode: &'static str,
        apikey_role: Option<Box<str>>,
        #[serde(serialize_with = "shared")]
        user: Option<Arc<str>>,
        #[serde(serialize_with = "shared")]
        token: Option<Arc<TokenInfo>>,
    },
    /// A WebSocket handshake was refused (no socket).
    WsRefused {
        path: &'static str,
        status: u16,
        /// The body's `error` (raw mode) or `message` (gateway); `None` for an empty body.
        error: Option<Box<str>>,
        #[serde(serialize_with = "shared")]
        user: Option<Arc<str>>,
        #[serde(serialize_with = "shared")]
        token: Option<Arc<TokenInfo>>,
    },
    /// A socket ended; `code`/`reason` are `None` when it ended without a close frame.
    WsClose { conn: u64, by: By, code: Option<u16>, reason: Option<Box<str>> },
    /// A decoded frame from a client.
    FrameIn {
        conn: u64,
        topic: Box<str>,
        event: Box<str>,
        #[serde(rename = "ref")]
        msg_ref: Option<Box<str>>,
        join_ref: Option<Box<str>>,
        #[serde(serialize_with = "shared")]
        user: Option<Arc<str>>,
        /// `phx_join` (its `access_token`) and `access_token` frames only.
        #[serde(serialize_with = "shared")]
        token: Option<Arc<TokenInfo>>,
    },
    /// A frame sent to a client (recorded just before it is written).
    FrameOut {
        conn: u64,
        topic: Box<str>,
        event: Box<str>,
        #[serde(rename = "ref")]
        msg_ref: Option<Box<str>>,
        /// `phx_reply` frames: the reply's `status`.
        status: Option<Box<str>>,
        #[serde(serialize_with = "shared")]
        user: Option<Arc<str>>,
        /// `broadcast` frames: the broadcast's own event name.
        user_event: Option<Box<str>>,
        /// `meta.id` when present.
        msg_id: Option<Box<str>>,
    },
    /// An `/auth/v1` request and its answer.
    Http {
        method: Box<str>,
        /// Without the query string, except `grant_type=…`.
        path: Box<str>,
        status: u16,
        #[serde(serialize_with = "shared")]
        user: Option<Arc<str>>,
        #[serde(serialize_with = "shared")]
        token: Option<Arc<TokenInfo>>,
        /// Refresh grants: the fingerprint of the presented refresh token.
        refresh_token: Option<Box<str>>,
    },
}

impl Event {
    fn kind(&self) -> &'static str {
        match self {
            Event::WsOpen { .. } => "ws_open",
            Event::WsRefused { .. } => "ws_refused",
            Event::WsClose { .. } => "ws_close",
            Event::FrameIn { .. } => "frame_in",
            Event::FrameOut { .. } => "frame_out",
            Event::Http { .. } => "http",
        }
    }

    fn conn(&self) -> Option<u64> {
        match self {
            Event::WsOpen { conn, .. }
            | Event::WsClose { conn, .. }
            | Event::FrameIn { conn, .. }
            | Event::FrameOut { conn, .. } => Some(*conn),
            Event::WsRefused { .. } | Event::Http { .. } => None,
        }
    }

    fn user(&self) -> Option<&str> {
        match self {
            Event::WsOpen { user, .. }
            | Event::WsRefused { user, .. }
            | Event::FrameIn { user, .. }
            | Event::FrameOut { user, .. }
            | Event::Http { user, .. } => user.as_deref(),
            Event::WsClose { .. } => None,
        }
    }

    fn topic(&self) -> Option<&str> {
        match self {
            Event::FrameIn { topic, .. } | Event::FrameOut { topic, .. } => Some(topic),
            _ => None,
        }
    }
}

/// Serialises a shared value like the value itself (serde's `rc` feature stays off).
fn shared<T: ?Sized + Serialize, S: serde::Serializer>(v: &Option<Arc<T>>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

const KINDS: [&str; 6] = ["ws_open", "ws_refused", "ws_close", "frame_in", "frame_out", "http"];

#[derive(Debug, Serialize)]
struct Record {
    seq: u64,
    #[serde(rename = "atMs")]
    at_ms: u64,
    #[serde(flatten)]
    event: Event,
}

#[derive(Debug)]
struct Ring {
    records: VecDeque<Record>,
    /// The seq the next event gets (the first is 1).
    next_seq: u64,
    /// The first seq not removed by a `DELETE`.
    floor: u64,
    /// The highest seq evicted for capacity (0: none since the floor).
    evicted_hi: u64,
}

/// The record (one per server).
#[derive(Debug)]
pub(crate) struct Events {
    started: Instant,
    ring: Mutex<Ring>,
}

/// A parsed `GET /_dev/events` query.
#[derive(Debug, Default)]
struct Filter {
    after: u64,
    kinds: Option<Vec<&'static str>>,
    user: Option<String>,
    topic: Option<String>,
    conn: Option<u64>,
}

impl Filter {
    fn parse(params: &[(String, String)]) -> Result<Filter, String> {
        let mut f = Filter::default();
        for (k, v) in params {
            match k.as_str() {
                "after" => f.after = v.parse().map_err(|_| format!("after: not a sequence number: {v:?}"))?,
                "kind" => {
                    let mut kinds = Vec::new();
                    for k in v.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                        let known = KINDS.iter().find(|n| **n == k);
                        kinds.push(*known.ok_or_else(|| format!("kind: unknown kind {k:?} (one of {KINDS:?})"))?);
                    }
                    f.kinds = Some(kinds);
                }
                "user" => f.user = Some(v.clone()),
                "topic" => f.topic = Some(v.clone()),
                "conn" => f.conn = Some(v.parse().map_err(|_| format!("conn: not a connection id: {v:?}"))?),
                other => return Err(format!("unknown parameter {other:?} (after, kind, user, topic, conn)")),
            }
        }
        Ok(f)
    }

    fn matches(&self, r: &Record) -> bool {
        let e = &r.event;
        r.seq > self.after
            && self.kinds.as_ref().is_none_or(|ks| ks.contains(&e.kind()))
            && self.user.as_deref().is_none_or(|u| e.user() == Some(u))
            && self.conn.is_none_or(|c| e.conn() == Some(c))
            && self.topic.as_deref().is_none_or(|t| {
                // `realtime:room` or just `room`.
                e.topic().is_some_and(|have| have == t || have.strip_prefix("realtime:") == Some(t))
            })
    }
}

impl Events {
    /// An empty record whose `atMs` counts from `started`.
    pub(crate) fn new(started: Instant) -> Self {
        Events { started, ring: Mutex::new(Ring { records: VecDeque::new(), next_seq: 1, floor: 1, evicted_hi: 0 }) }
    }

    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends an event, evicting the oldest when the ring is full.
    pub(crate) fn record(&self, event: Event) {
        let at_ms = self.started.elapsed().as_millis() as u64;
        let mut ring = self.ring();
        let seq = ring.next_seq;
        ring.next_seq += 1;
        if ring.records.len() >= CAPACITY {
            if let Some(old) = ring.records.pop_front() {
                ring.evicted_hi = old.seq;
            }
        }
        ring.records.push_back(Record { seq, at_ms, event });
    }

    /// Forgets every event; sequence numbers keep counting.
    pub(crate) fn clear(&self) {
        let mut ring = self.ring();
        ring.records.clear();
        ring.floor = ring.next_seq;
        ring.evicted_hi = 0;
    }

    /// The answer to a query, as JSON text (built under the lock: nothing is copied out).
    fn query_json(&self, f: &Filter) -> serde_json::Result<Vec<u8>> {
        #[derive(Serialize)]
        struct Answer<'a> {
            next: u64,
            dropped: u64,
            events: Vec<&'a Record>,
        }
        let ring = self.ring();
        let newest = ring.next_seq - 1;
        // Evicted seqs are floor..=evicted_hi; count those after `after`.
        let dropped = ring.evicted_hi.saturating_sub(f.after.max(ring.floor - 1));
        // Records are in seq order: skip the ones at or before `after` without looking at them.
        let start = ring.records.partition_point(|r| r.seq <= f.after);
        let events = ring.records.range(start..).filter(|r| f.matches(r)).collect();
        serde_json::to_vec(&Answer { next: newest.max(f.after), dropped, events })
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

/// `GET /_dev/events`.
pub(crate) async fn get(
    State(state): State<Shared>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Response {
    let params = match query {
        Ok(Query(p)) => p,
        Err(e) => return bad_request(e.body_text()),
    };
    let filter = match Filter::parse(&params) {
        Ok(f) => f,
        Err(m) => return bad_request(m),
    };
    match state.events.query_json(&filter) {
        Ok(body) => ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "message": e.to_string() }))).into_response(),
    }
}

/// `DELETE /_dev/events`.
pub(crate) async fn delete(State(state): State<Shared>) -> Response {
    state.events.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// The `grant_type` of a query string, if any.
fn grant_type(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == "grant_type").map(|(_, v)| v.into_owned())
}

/// Records every `/auth/v1` request with its answer (a middleware inside the Host guard).
/// A refresh grant's body is read here first, to fingerprint the presented refresh token,
/// and handed on unchanged (read the way the handler reads it, so a refused body is refused
/// alike).
pub(crate) async fn record_http(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path != "/auth/v1" && !path.starts_with("/auth/v1/") {
        return next.run(req).await;
    }
    let grant = grant_type(req.uri().query());
    let shown: Box<str> = match &grant {
        Some(g) => format!("{path}?grant_type={g}").into(),
        None => path.into(),
    };
    let method: Box<str> = req.method().as_str().into();
    let token = crate::auth::bearer(req.headers()).as_deref().and_then(TokenInfo::of);
    let user = token.as_ref().and_then(|t| t.user());
    let mut refresh_token = None;
    let req = if req.method() == Method::POST && path == "/auth/v1/token" && grant.as_deref() == Some("refresh_token") {
        let (parts, body) = req.into_parts();
        let bytes = match Bytes::from_request(Request::new(body), &()).await {
            Ok(b) => b,
            Err(rejection) => return rejection.into_response(),
        };
        refresh_token = crate::auth::presented_refresh_token(&bytes).map(|t| fingerprint(&t).into());
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    state.events.record(Event::Http { method, path: shown, status, user, token, refresh_token });
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(conn: u64) -> Event {
        Event::WsClose { conn, by: By::Client, code: None, reason: None }
    }

    fn answer(ev: &Events, params: &[(&str, &str)]) -> serde_json::Value {
        let p: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        serde_json::from_slice(&ev.query_json(&Filter::parse(&p).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn seq_next_dropped_and_clear() {
        let ev = Events::new(Instant::now());
        ev.record(close(1));
        ev.record(close(2));
        let a = answer(&ev, &[]);
        assert_eq!((a["next"].as_u64(), a["dropped"].as_u64()), (Some(2), Some(0)));
        assert_eq!(a["events"][0]["seq"], 1);
        assert_eq!(a["events"][1]["kind"], "ws_close");
        assert_eq!(a["events"][1]["by"], "client");
        assert_eq!(a["events"][1]["code"], serde_json::Value::Null);
        let a = answer(&ev, &[("after", "1"), ("conn", "2")]);
        assert_eq!(a["events"].as_array().unwrap().len(), 1);
        assert_eq!(answer(&ev, &[("after", "9")])["next"], 9);
        ev.clear();
        ev.record(close(3));
        let a = answer(&ev, &[]);
        assert_eq!((a["events"][0]["seq"].as_u64(), a["dropped"].as_u64()), (Some(3), Some(0)));
    }

    #[test]
    fn eviction_is_counted() {
        let ev = Events::new(Instant::now());
        for i in 0..CAPACITY as u64 + 5 {
            ev.record(close(i));
        }
        let a = answer(&ev, &[("kind", "ws_open")]);
        assert_eq!(a["dropped"], 5);
        assert_eq!(a["events"].as_array().unwrap().len(), 0);
        assert_eq!(answer(&ev, &[("after", "3"), ("kind", "http")])["dropped"], 2);
        assert_eq!(answer(&ev, &[("after", "5"), ("kind", "http")])["dropped"], 0);
    }

    #[test]
    fn fields_and_filters() {
        let ev = Events::new(Instant::now());
        let user: Option<Arc<str>> = Some("u1".into());
        ev.record(Event::FrameOut {
            conn: 7,
            topic: "realtime:room".into(),
            event: "broadcast".into(),
            msg_ref: None,
            status: None,
            user: user.clone(),
            user_event: Some("cursor".into()),
            msg_id: Some("m1".into()),
        });
        ev.record(Event::Http {
            method: "POST".into(),
            path: "/auth/v1/token?grant_type=refresh_token".into(),
            status: 200,
            user: None,
            token: None,
            refresh_token: Some(fingerprint("abcdefghijkl").into()),
        });
        let a = answer(&ev, &[("topic", "room"), ("user", "u1")]);
        let e = &a["events"][0];
        assert_eq!(
            (e["kind"].as_str(), e["userEvent"].as_str(), e["msgId"].as_str()),
            (Some("frame_out"), Some("cursor"), Some("m1"))
        );
        assert_eq!(e["ref"], serde_json::Value::Null);
        assert!(e["atMs"].is_u64());
        assert_eq!(answer(&ev, &[("topic", "realtime:room")])["events"].as_array().unwrap().len(), 1);
        let a = answer(&ev, &[("kind", "http,ws_open")]);
        assert_eq!(a["events"][0]["refreshToken"].as_str().map(str::len), Some(12));
        let p = |k: &str, v: &str| Filter::parse(&[(k.to_owned(), v.to_owned())]).is_err();
        assert!(p("kind", "nope") && p("after", "x") && p("conn", "-1") && p("bogus", "1"));
    }

    #[test]
    fn token_info_keeps_no_token() {
        let keys = crate::jwt::JwtKeys::new(
            b"a-test-secret-a-test-secret-a-test-secret",
            &crate::jwt::JwtKeys::generate_es256_pkcs8().unwrap(),
            "k".into(),
        )
        .unwrap();
        let claims = json!({ "sub": "u1", "role": "authenticated", "exp": 2_000_000_000i64, "iat": 1_900_000_000i64,
                             "session_id": "s1" });
        let token = keys.sign(crate::jwt::Alg::Hs256, claims.as_object().unwrap()).unwrap();
        let info = TokenInfo::of(&token).unwrap();
        let text = serde_json::to_string(&*info).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            json!({ "sub": "u1", "role": "authenticated", "exp": 2_000_000_000i64, "iat": 1_900_000_000i64,
                    "sessionId": "s1", "fp": fingerprint(&token) })
        );
        assert!(!text.contains(token.rsplit('.').next().unwrap()));
        assert!(TokenInfo::of("potato").is_none() && TokenInfo::of("sb_publishable_x").is_none());
        assert_eq!(fingerprint("x").len(), 12);
    }
}
