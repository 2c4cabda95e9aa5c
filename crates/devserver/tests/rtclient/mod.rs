//! A Realtime test client over a real WebSocket (tokio-tungstenite), speaking V1 or V2 with
//! the `authwire_wire` codecs, plus token minting for tests.

#![allow(dead_code, unreachable_pub)]

use authwire_devserver::jwt::{Alg, JwtKeys};
use authwire_wire::frame::{self, Frame, Payload, Side, UserBroadcast, UserData, Vsn, WireMsg};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Map, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A connected socket.
pub struct Ws {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub vsn: Vsn,
    next_ref: u64,
    /// Frames read while waiting for something else.
    pending: std::collections::VecDeque<Frame>,
    pub closed: Option<Option<u16>>,
}

/// A refused handshake: status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub status: u16,
    pub body: String,
}

impl Refused {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Connects to `path?query` on `addr`, with optional extra headers.
pub async fn connect_raw(
    addr: std::net::SocketAddr,
    path_and_query: &str,
    headers: &[(&str, &str)],
    vsn: Vsn,
) -> Result<Ws, Refused> {
    let url = format!("ws://{addr}{path_and_query}");
    let mut req = url.into_client_request().expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(Ws { ws, vsn, next_ref: 1, pending: Default::default(), closed: None }),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(Refused {
            status: resp.status().as_u16(),
            body: resp.body().as_ref().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default(),
        }),
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

/// Connects to `/realtime/v1/websocket?apikey=<key>&vsn=<vsn>`.
pub async fn connect(addr: std::net::SocketAddr, key: &str, vsn: Vsn) -> Result<Ws, Refused> {
    connect_raw(addr, &format!("/realtime/v1/websocket?apikey={key}&vsn={}", vsn.as_str()), &[], vsn).await
}

/// The default realtime-js join payload with `config` overrides merged in.
pub fn join_payload(config: Value, access_token: Option<&str>) -> Value {
    let mut cfg = json!({
        "broadcast": { "ack": false, "self": false },
        "presence": { "key": "", "enabled": false },
        "postgres_changes": [],
        "private": false,
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut cfg, config) {
        for (k, v) in extra {
            base.insert(k, v);
        }
    }
    let mut p = json!({ "config": cfg });
    if let Some(t) = access_token {
        p["access_token"] = Value::String(t.to_owned());
    }
    p
}

/// Matches the `phx_reply` to `msg_ref`.
fn is_reply_to(msg_ref: &str) -> impl Fn(&Frame) -> bool + '_ {
    move |f| f.event == "phx_reply" && f.msg_ref.as_deref() == Some(msg_ref)
}

/// A reply's (status, response, frame).
fn reply_parts(f: Frame) -> (String, Value, Frame) {
    let p = payload(&f);
    (p["status"].as_str().unwrap_or_default().to_owned(), p["response"].clone(), f)
}

/// A received frame's JSON payload.
pub fn payload(f: &Frame) -> Value {
    match &f.payload {
        Payload::Json(t) => serde_json::from_str(t).unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

impl Ws {
    fn make_ref(&mut self) -> String {
        let r = self.next_ref.to_string();
        self.next_ref += 1;
        r
    }

    pub async fn send_frame(&mut self, f: &Frame) {
        let msg = frame::encode(f, self.vsn, Side::Client).expect("encodable");
        let m = match msg {
            WireMsg::Text(t) => Message::Text(t.into()),
            WireMsg::Binary(b) => Message::Binary(b.into()),
        };
        self.ws.send(m).await.expect("send");
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.to_owned().into())).await.expect("send");
    }

    /// Sends a text frame; a failure (the server already closed) is returned, not a panic.
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.ws.send(Message::Text(text.to_owned().into())).await.is_ok()
    }

    pub async fn send_binary(&mut self, b: Vec<u8>) {
        self.ws.send(Message::Binary(b.into())).await.expect("send");
    }

    /// Sends a JSON push; returns its ref.
    pub async fn push(&mut self, join_ref: Option<&str>, topic: &str, event: &str, payload: Value) -> String {
        let r = self.make_ref();
        let f = Frame {
            join_ref: join_ref.map(str::to_owned),
            msg_ref: Some(r.clone()),
            topic: topic.to_owned(),
            event: event.to_owned(),
            payload: Payload::Json(payload.to_string()),
        };
        self.send_frame(&f).await;
        r
    }

    /// Sends a kind-3 user broadcast with a JSON payload; returns its ref.
    pub async fn push_user_broadcast(&mut self, join_ref: &str, topic: &str, event: &str, data: UserData) -> String {
        let r = self.make_ref();
        let f = Frame {
            join_ref: Some(join_ref.to_owned()),
            msg_ref: Some(r.clone()),
            topic: topic.to_owned(),
            event: "broadcast".into(),
            payload: Payload::UserBroadcast(UserBroadcast { event: event.into(), metadata: String::new(), data }),
        };
        self.send_frame(&f).await;
        r
    }

    /// The next frame, or `None` after `timeout` (or when the socket closed).
    pub async fn recv(&mut self, timeout: Duration) -> Option<Frame> {
        if let Some(f) = self.pending.pop_front() {
            return Some(f);
        }
        self.recv_wire(timeout).await
    }

    async fn recv_wire(&mut self, timeout: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) => {
                    self.closed.get_or_insert(None);
                    return None;
                }
                Ok(Some(Err(_))) => {
                    self.closed.get_or_insert(None);
                    return None;
                }
                Ok(Some(Ok(m))) => m,
            };
            let wire = match m {
                Message::Text(t) => WireMsg::Text(t.as_str().to_owned()),
                Message::Binary(b) => WireMsg::Binary(b.to_vec()),
                Message::Close(c) => {
                    self.closed = Some(c.map(|c| u16::from(c.code)));
                    return None;
                }
                _ => continue,
            };
            return Some(frame::decode(&wire, self.vsn, Side::Server).expect("server frames decode"));
        }
    }

    /// Waits for a frame matching `pred` (others are kept for later `recv`s).
    pub async fn expect(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Frame) -> bool) -> Frame {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.recv_wire(left).await {
                Some(f) if pred(&f) => return f,
                Some(f) => self.pending.push_back(f),
                None => panic!("no {what} within {timeout:?} (closed: {:?}); pending: {:?}", self.closed, self.pending),
            }
        }
    }

    /// Waits for the reply to `msg_ref`.
    pub async fn reply(&mut self, msg_ref: &str) -> (String, Value, Frame) {
        let f = self.expect(&format!("reply to {msg_ref}"), Duration::from_secs(10), is_reply_to(msg_ref)).await;
        reply_parts(f)
    }

    /// Waits for `event` on `topic`.
    pub async fn event(&mut self, topic: &str, event: &str) -> Frame {
        self.event_within(topic, event, Duration::from_secs(10)).await
    }

    pub async fn event_within(&mut self, topic: &str, event: &str, t: Duration) -> Frame {
        self.expect(&format!("{event} on {topic}"), t, |f| f.topic == topic && f.event == event).await
    }

    /// Waits for the next frame and asserts that it matches `pred`: nothing else (pending
    /// frames included) arrived before it. With a barrier frame — one the server sends on
    /// the same ordered path after the frame that must not come — this is a sound negative
    /// check.
    pub async fn expect_next(&mut self, what: &str, timeout: Duration, pred: impl Fn(&Frame) -> bool) -> Frame {
        if let Some(f) = self.pending.pop_front() {
            assert!(pred(&f), "unexpected frame before {what}: {f:?}");
            return f;
        }
        match self.recv_wire(timeout).await {
            Some(f) if pred(&f) => f,
            Some(f) => panic!("unexpected frame before {what}: {f:?}"),
            None => panic!("no {what} within {timeout:?} (closed: {:?})", self.closed),
        }
    }

    /// The next frame is `event` on `topic` (see [`Ws::expect_next`]).
    pub async fn next_event(&mut self, topic: &str, event: &str) -> Frame {
        self.expect_next(&format!("{event} on {topic}"), Duration::from_secs(10), |f| {
            f.topic == topic && f.event == event
        })
        .await
    }

    /// The next frame is the reply to `msg_ref`: (status, response, frame).
    pub async fn next_reply(&mut self, msg_ref: &str) -> (String, Value, Frame) {
        let f =
            self.expect_next(&format!("the reply to {msg_ref}"), Duration::from_secs(10), is_reply_to(msg_ref)).await;
        reply_parts(f)
    }

    /// A heartbeat whose reply must be the next frame. The server handles a socket's frames in
    /// order and sends what handling them causes (replies, `system` messages, closes) before
    /// it reads the next one, so this is a barrier for "handling the frames sent before sent
    /// nothing". Fan-out deliveries (broadcasts, changes) go through the socket's outbox and
    /// are not ordered with it: their barrier is a later message on the same fan-out path.
    pub async fn heartbeat_barrier(&mut self) {
        let r = self.push(None, "phoenix", "heartbeat", json!({})).await;
        let (status, _, _) = self.next_reply(&r).await;
        assert_eq!(status, "ok");
    }

    /// Joins `topic` with `payload`; returns (join_ref, status, response).
    pub async fn join(&mut self, topic: &str, payload: Value) -> (String, String, Value) {
        let r = self.make_ref();
        let f = Frame {
            join_ref: Some(r.clone()),
            msg_ref: Some(r.clone()),
            topic: topic.to_owned(),
            event: "phx_join".into(),
            payload: Payload::Json(payload.to_string()),
        };
        self.send_frame(&f).await;
        let (status, resp, _) = self.reply(&r).await;
        (r, status, resp)
    }

    /// Joins and asserts success; returns the join_ref.
    pub async fn join_ok(&mut self, topic: &str, payload: Value) -> String {
        let (jr, status, resp) = self.join(topic, payload).await;
        assert_eq!(status, "ok", "join {topic}: {resp}");
        jr
    }

    /// Sends a heartbeat and waits for its reply.
    pub async fn heartbeat(&mut self) -> Value {
        let r = self.push(None, "phoenix", "heartbeat", json!({})).await;
        let (status, resp, _) = self.reply(&r).await;
        assert_eq!(status, "ok");
        resp
    }

    /// Waits for the server to close the socket; returns the close code (None: no close frame).
    pub async fn closed_within(&mut self, d: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + d;
        while self.closed.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "socket still open after {d:?}");
            if let Some(f) = self.recv_wire(left).await {
                self.pending.push_back(f);
            }
        }
        self.closed.unwrap()
    }

    pub async fn close(mut self) {
        self.ws.close(None).await.ok();
    }

    /// Closes with a close frame carrying `code` and `reason`.
    pub async fn close_with(mut self, code: u16, reason: &str) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        self.ws.close(Some(CloseFrame { code: code.into(), reason: reason.to_owned().into() })).await.ok();
    }
}

/// Mints tokens signed with the project's JWT secret (HS256).
pub struct Minter {
    keys: JwtKeys,
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Minter {
    pub fn new(jwt_secret: &str) -> Self {
        let pkcs8 = JwtKeys::generate_es256_pkcs8().unwrap();
        Minter { keys: JwtKeys::new(jwt_secret.as_bytes(), &pkcs8, "test-kid".into()).unwrap() }
    }
    pub fn sign(&self, claims: Value) -> String {
        let Value::Object(m) = claims else { panic!("claims must be an object") };
        self.keys.sign(Alg::Hs256, &m).unwrap()
    }
    /// A user token: role authenticated, `sub`, optional `session_id`, exp in `ttl` seconds.
    pub fn user(&self, sub: &str, session: Option<&str>, ttl: i64) -> String {
        let mut c = Map::new();
        c.insert("sub".into(), sub.into());
        c.insert("role".into(), "authenticated".into());
        c.insert("aud".into(), "authenticated".into());
        c.insert("exp".into(), (now() + ttl).into());
        c.insert("iat".into(), now().into());
        if let Some(s) = session {
            c.insert("session_id".into(), s.into());
        }
        self.sign(Value::Object(c))
    }
    /// An anon token expiring in `ttl` seconds.
    pub fn anon(&self, ttl: i64) -> String {
        self.sign(json!({ "role": "anon", "exp": now() + ttl, "iat": now() }))
    }
}
