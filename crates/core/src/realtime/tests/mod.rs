//! Behaviour that must match realtime-js 2.119.1 (issue 10), each checked against what
//! realtime-js did in the same run: the channel registry (a closed channel frees its name at
//! once, so React StrictMode's subscribe / remove / subscribe leaves one membership), the
//! `err` of each status, invalid filters reported by the server with authwire's code added,
//! `send()`'s HTTP fallback whenever the channel is not joined, `httpSend()`'s endpoint and
//! results, reconnect delays asked of the application per attempt, and `disconnect()`.
//!
//! [`Rig`] drives the machine by hand against a small server that answers as Realtime does.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, UserData, Vsn};
use authwire_wire::json::ObjectWriter;
use authwire_wire::realtime::{parse_join, reply_payload};

use super::bindings::spec;
use super::{BroadcastFallback, ChannelOptions, HttpChannel, HttpTarget, Realtime, RealtimeConfig};
use crate::error::ChannelOpError;
use crate::io::{AppEvent, ChannelId, ConnId, HttpRequest, Input, Outbox, Output, PushOutcome, RequestId, Ticket};
use crate::time::Now;
use crate::token::TokenView;

const T0: u64 = 1_800_000_000_000;
const HTTP: HttpTarget<'static> = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };

fn cfg() -> RealtimeConfig {
    RealtimeConfig::new("ws://h/realtime/v1".into())
}

/// [`Realtime`] on a hand-driven clock, and a server that accepts every connection (unless
/// `down`) and every join (echoing its `postgres_changes` with ids), answers leaves with `ok`
/// and `phx_close`, heartbeats with `ok`, and stays silent when `silent`. It records what the
/// client sent and the memberships it holds; app events and other outputs are kept.
struct Rig {
    rt: Realtime,
    out: Outbox,
    now: Now,
    ready: bool,
    down: bool,
    silent: bool,
    conn: Option<ConnId>,
    sent: Vec<Frame>,
    /// topic → join_ref of the server's membership.
    members: BTreeMap<String, Option<String>>,
    events: Vec<AppEvent>,
    others: Vec<Output>,
}

impl Rig {
    fn new(cfg: RealtimeConfig) -> Rig {
        Rig {
            rt: Realtime::new(cfg, 1),
            out: Outbox::default(),
            now: Now::new(0, T0),
            ready: true,
            down: false,
            silent: false,
            conn: None,
            sent: Vec::new(),
            members: BTreeMap::new(),
            events: Vec::new(),
            others: Vec::new(),
        }
    }

    fn view(&self) -> TokenView<'static> {
        TokenView {
            ready: self.ready,
            token: Some("user-token"),
            generation: 1,
            role: None,
            socket_key: Some("anon"),
            skew_ms: 0,
        }
    }

    /// Runs `f` on the machine with the view of now, then lets everything it caused happen.
    fn call<R>(&mut self, f: impl FnOnce(&mut Realtime, Now, &TokenView<'_>, &mut Outbox) -> R) -> R {
        let (now, v) = (self.now, self.view());
        let r = f(&mut self.rt, now, &v, &mut self.out);
        self.pump();
        r
    }

    fn input(&mut self, input: Input) {
        let (now, v) = (self.now, self.view());
        match input {
            Input::SocketOpened { conn } => self.rt.handle_opened(conn, now, &v, &mut self.out),
            Input::SocketClosed { conn, code, reason } => self.rt.handle_closed(conn, code, reason, now, &mut self.out),
            Input::SocketMessage { conn, msg } => self.rt.handle_message(conn, &msg, now, &v, &mut self.out),
            Input::ReconnectDelay { ms } => self.rt.reconnect_delay(ms, now),
            other => panic!("{other:?}"),
        }
        self.pump();
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now.mono.as_millis() + ms;
        // Step through each deadline on the way, as the shell's timer would.
        while let Some(t) = self.rt.poll_timeout().map(|t| t.as_millis()).filter(|t| *t <= end) {
            let t = t.max(self.now.mono.as_millis());
            self.now = Now::new(t, T0 + t);
            self.call(|rt, now, v, out| rt.handle_timeout(now, v, out));
        }
        self.now = Now::new(end, T0 + end);
    }

    /// A server frame to the client.
    fn deliver(&mut self, f: &Frame) {
        let Some(conn) = self.conn else { return };
        let msg = frame::encode(f, Vsn::V2, Side::Server).unwrap();
        let (now, v) = (self.now, self.view());
        self.rt.handle_message(conn, &msg, now, &v, &mut self.out);
    }

    fn reply(&mut self, to: &Frame, response: &str) {
        let r = Frame {
            join_ref: to.join_ref.clone(),
            msg_ref: to.msg_ref.clone(),
            topic: to.topic.clone(),
            event: "phx_reply".into(),
            payload: Payload::Json(reply_payload("ok", response)),
        };
        self.deliver(&r);
    }

    /// A push from the server's channel process on `topic` (its membership's join_ref).
    fn push(&mut self, topic: &str, event: &str, payload: &str) {
        let join_ref = self.members.get(topic).cloned().flatten();
        let f = Frame {
            join_ref,
            msg_ref: None,
            topic: topic.into(),
            event: event.into(),
            payload: Payload::Json(payload.into()),
        };
        self.deliver(&f);
    }

    /// The server ends `topic` with a `system` error, then `phx_close` (§4.4).
    fn shutdown(&mut self, topic: &str, message: &str) {
        let mut w = ObjectWriter::new();
        w.str("extension", "system").str("status", "error").str("message", message).str("channel", &topic[9..]);
        self.push(topic, "system", &w.finish());
        self.push(topic, "phx_close", "{}");
        self.members.remove(topic);
        self.pump();
    }

    /// The server closes the socket.
    fn server_close(&mut self, code: u16, reason: &str) {
        let Some(conn) = self.conn.take() else { return };
        self.members.clear();
        self.input(Input::SocketClosed { conn, code, reason: reason.into() });
    }

    fn on_frame(&mut self, f: Frame) {
        self.sent.push(f.clone());
        if self.silent {
            return;
        }
        match f.event.as_str() {
            "phx_join" => {
                let Payload::Json(p) = &f.payload else { return };
                let pg = parse_join(p).ok().and_then(|j| j.config).map(|c| c.postgres_changes).unwrap_or_default();
                let mut echo = String::from("[");
                for (i, c) in pg.iter().enumerate() {
                    let mut w = ObjectWriter::new();
                    w.i64("id", i as i64 + 1).str("event", &c.event).str("schema", &c.schema);
                    if let Some(t) = &c.table {
                        w.str("table", t);
                    }
                    if let Some(x) = &c.filter {
                        w.str("filter", x);
                    }
                    if i > 0 {
                        echo.push(',');
                    }
                    echo.push_str(&w.finish());
                }
                echo.push(']');
                self.members.insert(f.topic.clone(), f.join_ref.clone());
                self.reply(&f, &["{\"postgres_changes\":", &echo, "}"].concat());
            }
            "phx_leave" => {
                self.reply(&f, "{}");
                if self.members.get(&f.topic) == Some(&f.join_ref) {
                    self.members.remove(&f.topic);
                }
                let close = Frame {
                    event: "phx_close".into(),
                    msg_ref: f.join_ref.clone(),
                    payload: Payload::Json("{}".into()),
                    ..f
                };
                self.deliver(&close);
            }
            "heartbeat" => self.reply(&f, "{}"),
            _ => {}
        }
    }

    /// Executes the outputs, answering as the server and the browser would.
    fn pump(&mut self) {
        while let Some(o) = self.out.pop() {
            match o {
                Output::Connect { conn, .. } if self.down => {
                    let (now, reason) = (self.now, String::new());
                    self.rt.handle_closed(conn, 1006, reason, now, &mut self.out);
                }
                Output::Connect { conn, .. } => {
                    self.conn = Some(conn);
                    let (now, v) = (self.now, self.view());
                    self.rt.handle_opened(conn, now, &v, &mut self.out);
                }
                Output::Send { msg, .. } => self.on_frame(frame::decode(&msg, Vsn::V2, Side::Client).unwrap()),
                // The browser reports every close, with the code the close frame carried.
                Output::Close { conn, code, reason } => {
                    self.conn = None;
                    self.members.clear();
                    let now = self.now;
                    self.rt.handle_closed(conn, code, String::from(reason), now, &mut self.out);
                }
                Output::Event(e) => self.events.push(e),
                Output::Log(..) => {}
                other => self.others.push(other),
            }
        }
    }

    fn channel(&mut self, name: &str) -> ChannelId {
        self.rt.channel(name, ChannelOptions::default()).unwrap()
    }

    fn subscribe(&mut self, name: &str) -> ChannelId {
        let id = self.channel(name);
        self.call(|rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    }

    fn statuses(&self, ch: ChannelId) -> Vec<(&'static str, Option<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AppEvent::ChannelStatus { channel, status, error } if *channel == ch => {
                    Some((status.as_str(), error.as_ref().map(|e| e.message().to_string())))
                }
                _ => None,
            })
            .collect()
    }

    fn names(&self, ch: ChannelId) -> Vec<&'static str> {
        self.statuses(ch).into_iter().map(|(s, _)| s).collect()
    }

    fn sent_events(&self) -> Vec<&str> {
        self.sent.iter().filter(|f| f.topic != "phoenix").map(|f| f.event.as_str()).collect()
    }

    /// Takes the outputs other than socket traffic and events.
    fn take_others(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.others)
    }
}

#[test]
fn strict_mode_remove_then_the_same_name_subscribes_again_with_one_membership() {
    let mut r = Rig::new(cfg());
    let first = r.subscribe("room");
    assert_eq!(r.names(first), ["SUBSCRIBED"]);
    // One tick: subscribe → removeChannel (not awaited) → channel(sameName).subscribe().
    let second = r.call(|rt, now, v, out| {
        rt.remove_channel(first, Some(Ticket(1)), now, out);
        let id = rt.channel("room", ChannelOptions::default()).unwrap();
        rt.subscribe(id, None, now, v, out).unwrap();
        id
    });
    assert_ne!(first, second, "the removed channel's name gives a new channel at once");
    // The removed channel's callback saw CLOSED, its promise is `ok`; its leave reply and
    // phx_close (the old join_ref) are stale for the new channel.
    assert_eq!(r.names(first), ["SUBSCRIBED", "CLOSED"]);
    assert!(r.events.contains(&AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::Ok }));
    assert_eq!(r.names(second), ["SUBSCRIBED"]);
    assert_eq!(r.sent_events(), ["phx_join", "phx_leave", "phx_join"]);
    // Exactly one live membership, the new channel's.
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.members["realtime:room"], r.sent[2].join_ref);
    assert_eq!(r.rt.channel_ids(), [second]);
}

#[test]
fn strict_mode_before_the_socket_opened_sends_one_join() {
    let mut r = Rig::new(cfg());
    r.ready = false;
    let first = r.subscribe("room");
    let second = r.call(|rt, now, v, out| {
        rt.remove_channel(first, None, now, out);
        let id = rt.channel("room", ChannelOptions::default()).unwrap();
        rt.subscribe(id, None, now, v, out).unwrap();
        id
    });
    r.ready = true;
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    assert_eq!(r.names(first), ["CLOSED"]);
    assert_eq!(r.names(second), ["SUBSCRIBED"]);
    assert_eq!(r.sent_events(), ["phx_join"]);
    assert_eq!(r.members.len(), 1);
}

#[test]
fn unsubscribe_closes_at_once_and_frees_the_name() {
    let mut r = Rig::new(cfg());
    r.silent = true;
    let first = r.subscribe("room");
    let join = r.sent[0].clone();
    r.reply(&join, r#"{"postgres_changes":[]}"#);
    r.call(|rt, now, _, out| rt.unsubscribe(first, Some(Ticket(7)), now, out));
    // realtime-js's leave closes the channel inside the call: no wait for the reply (the
    // server here never answers it).
    assert_eq!(r.names(first), ["SUBSCRIBED", "CLOSED"]);
    assert!(r.events.contains(&AppEvent::PushDone { ticket: Ticket(7), outcome: PushOutcome::Ok }));
    assert!(r.rt.channel_ids().is_empty(), "a closed channel is not registered");
    r.silent = false;
    let again = r.channel("room");
    assert_ne!(again, first);
    // The closed instance cannot join again (Phoenix's "tried to join multiple times").
    let err = r.call(|rt, now, v, out| rt.subscribe(first, None, now, v, out));
    assert_eq!(err, Err(ChannelOpError::AlreadySubscribed));
    r.call(|rt, now, v, out| rt.subscribe(again, None, now, v, out)).unwrap();
    assert_eq!(r.names(again), ["SUBSCRIBED"]);
    // Forgotten once ended: its id is unknown from now on.
    r.rt.forget_ended();
    assert!(r.rt.channel_info(first).is_none());
}

#[test]
fn a_server_close_frees_the_name_and_closed_carries_no_error() {
    let mut r = Rig::new(cfg());
    let first = r.subscribe("room");
    r.shutdown("realtime:room", "You no longer have permission to read from this Channel topic: room");
    // realtime-js: CLOSED with no `err`; the `system` message before it says why.
    assert_eq!(r.statuses(first), [("SUBSCRIBED", None), ("CLOSED", None)]);
    assert!(r.events.iter().any(|e| matches!(e, AppEvent::System { code: None, .. })));
    assert!(r.rt.channel_ids().is_empty());
    let again = r.subscribe("room");
    assert_ne!(again, first);
    assert_eq!(r.names(again), ["SUBSCRIBED"]);
}

#[test]
fn a_stale_close_of_the_removed_join_does_not_end_the_new_channel() {
    let mut r = Rig::new(cfg());
    let first = r.subscribe("room");
    let old_join = r.sent[0].join_ref.clone();
    // The new channel's join waits for auth while the old join's phx_close arrives.
    r.silent = true;
    r.ready = false;
    let second = r.call(|rt, now, v, out| {
        rt.remove_channel(first, None, now, out);
        let id = rt.channel("room", ChannelOptions::default()).unwrap();
        rt.subscribe(id, None, now, v, out).unwrap();
        id
    });
    let close = Frame {
        join_ref: old_join.clone(),
        msg_ref: old_join,
        topic: "realtime:room".into(),
        event: "phx_close".into(),
        payload: Payload::Json("{}".into()),
    };
    r.deliver(&close);
    r.pump();
    assert!(r.names(second).is_empty());
    r.silent = false;
    r.ready = true;
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    assert_eq!(r.names(second), ["SUBSCRIBED"]);
}

#[test]
fn status_errors_are_realtime_js_s() {
    // A dropped socket: `socket closed: <code> (<reason>)`.
    let mut r = Rig::new(cfg());
    let ch = r.subscribe("room");
    r.server_close(1001, "bye");
    assert_eq!(r.statuses(ch)[1], ("CHANNEL_ERROR", Some("socket closed: 1001 (bye)".to_string())));
    // A join that is never answered: TIMED_OUT with no error.
    let mut r = Rig::new(cfg());
    r.silent = true;
    let ch = r.subscribe("quiet");
    r.advance(10_000);
    assert_eq!(r.statuses(ch), [("TIMED_OUT", None)]);
    // A socket that never opens: one `channel error: transport failure` per joining channel,
    // not one per failed attempt.
    let mut r = Rig::new(cfg());
    r.down = true;
    let ch = r.subscribe("room");
    r.advance(30_000);
    assert!(r.sent.is_empty());
    assert_eq!(r.statuses(ch), [("CHANNEL_ERROR", Some("channel error: transport failure".to_string()))]);
}

#[test]
fn an_invalid_filter_goes_to_the_server_and_its_error_gets_the_code() {
    let mut r = Rig::new(cfg());
    let ch = r.channel("db");
    let reg = r.rt.register_postgres_binding(ch, spec("*", None, Some("songs"), Some("id=foo.1"))).unwrap();
    assert!(matches!(reg.invalid, Some(ChannelOpError::InvalidFilter { .. })));
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    let Payload::Json(p) = &r.sent[0].payload else { panic!() };
    assert!(p.contains(r#""filter":"id=foo.1""#), "{p}");
    // The server answers as the devserver and Realtime do: SUBSCRIBED, then a system error.
    let sys = r#"{"extension":"postgres_changes","status":"error","message":"Error parsing `filter` params: [\"id\", \"foo\", \"1\"]","channel":"db"}"#;
    r.push("realtime:db", "system", sys);
    r.pump();
    assert_eq!(r.names(ch), ["SUBSCRIBED"]);
    let got = r.events.iter().find_map(|e| match e {
        AppEvent::System { payload, code, .. } => Some((payload.clone(), *code)),
        _ => None,
    });
    assert_eq!(got, Some((sys.to_string(), Some("invalid_filter"))));
}

fn http_of(outs: &[Output]) -> Option<(RequestId, HttpRequest)> {
    outs.iter().find_map(|o| match o {
        Output::Http { id, request } => Some((*id, request.clone())),
        _ => None,
    })
}

#[test]
fn send_goes_over_http_whenever_the_channel_is_not_joined() {
    let fallback = || RealtimeConfig { broadcast_fallback: BroadcastFallback::NotJoined, timeout_ms: 3_000, ..cfg() };
    let mut r = Rig::new(fallback());
    r.silent = true;
    let ch = r.subscribe("room");
    // Joining (the join is not answered yet): realtime-js falls back to HTTP.
    r.call(|rt, now, v, out| {
        rt.send_broadcast(ch, "e", UserData::Json("{\"n\":1}".into()), Ticket(1), now, v, &HTTP, out)
    })
    .unwrap();
    let (req, http) = http_of(&r.take_others()).expect("an HTTP broadcast");
    assert_eq!(http.url, "http://h/realtime/v1/api/broadcast");
    assert_eq!(
        http.body.as_deref(),
        Some(r#"{"messages":[{"topic":"room","event":"e","payload":{"n":1},"private":false}]}"#)
    );
    assert!(http.headers.contains(&("Authorization".into(), "Bearer user-token".into())));
    assert_eq!(r.sent_events(), ["phx_join"], "nothing else went over the socket");
    // No answer within the timeout: 'timed out', and the request is cancelled.
    r.advance(3_000);
    assert!(r.take_others().contains(&Output::CancelHttp { id: req }));
    assert!(r.events.contains(&AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::TimedOut }));
    // A late answer is no longer the realtime half's.
    assert!(!r.rt.handle_http(req, Ok((202, "")), &mut r.out));
    // Joined on an open socket: the socket carries it.
    let mut r = Rig::new(fallback());
    let ch = r.subscribe("room");
    r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(2), now, v, &HTTP, out))
        .unwrap();
    assert!(http_of(&r.take_others()).is_none());
    assert_eq!(r.sent_events(), ["phx_join", "broadcast"]);
}

#[test]
fn http_broadcasts_wait_for_auth() {
    let mut r = Rig::new(cfg());
    r.ready = false;
    let ch = r.channel("room");
    r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(1), now, v, &HTTP, out))
        .unwrap();
    assert!(http_of(&r.take_others()).is_none(), "G2: nothing goes out while auth is unresolved");
    r.ready = true;
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    let (req, _) = http_of(&r.take_others()).expect("sent once auth is ready");
    r.rt.handle_http(req, Ok((200, "")), &mut r.out);
    r.pump();
    assert!(r.events.contains(&AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::Ok }));
}

#[test]
fn http_send_uses_the_single_message_endpoint_and_its_results() {
    let mut r = Rig::new(cfg());
    let target = HttpChannel { sub_topic: "band one", private: true };
    let send = |r: &mut Rig, t: u64| {
        r.call(|rt, now, v, out| rt.http_send(target, "new msg", "{\"a\":1}", Ticket(t), None, now, v, &HTTP, out))
            .unwrap();
        http_of(&r.take_others()).unwrap()
    };
    let done = |r: &mut Rig, t: u64| {
        r.events.iter().find_map(|e| match e {
            AppEvent::HttpSendDone { ticket, result } if *ticket == Ticket(t) => Some(result.clone()),
            _ => None,
        })
    };
    let (req, http) = send(&mut r, 1);
    assert_eq!(http.url, "http://h/realtime/v1/api/broadcast/band%20one/events/new%20msg?private=true");
    assert_eq!(http.body.as_deref(), Some("{\"a\":1}"));
    r.rt.handle_http(req, Ok((202, "")), &mut r.out);
    r.pump();
    assert_eq!(done(&mut r, 1), Some(Ok(())));
    let (req, _) = send(&mut r, 2);
    r.rt.handle_http(req, Ok((401, r#"{"message":"Unauthorized"}"#)), &mut r.out);
    r.pump();
    assert_eq!(done(&mut r, 2), Some(Err(ChannelOpError::HttpFailed { status: 401, message: "Unauthorized".into() })));
    let (req, _) = send(&mut r, 3);
    r.rt.handle_http(req, Err("Failed to fetch"), &mut r.out);
    r.pump();
    assert_eq!(done(&mut r, 3), Some(Err(ChannelOpError::HttpFailed { status: 0, message: "Failed to fetch".into() })));
    let (req, _) = send(&mut r, 4);
    r.advance(10_000);
    assert!(r.take_others().contains(&Output::CancelHttp { id: req }));
    assert_eq!(done(&mut r, 4), Some(Err(ChannelOpError::HttpTimeout)));
}

fn asked(outs: &[Output]) -> Option<u32> {
    outs.iter().find_map(|o| match o {
        Output::ReconnectDelay { tries } => Some(*tries),
        _ => None,
    })
}

#[test]
fn reconnect_delays_are_asked_of_the_app_per_attempt() {
    let mut r = Rig::new(RealtimeConfig { reconnect_from_app: true, ..cfg() });
    r.subscribe("room");
    r.down = true;
    r.server_close(1006, "");
    // Three failed attempts in a row: tries 1, 2, 3, each answered before the next step.
    let mut tries = Vec::new();
    for attempt in 1..=3u64 {
        tries.push(asked(&r.take_others()).expect("the app is asked"));
        r.input(Input::ReconnectDelay { ms: Some(100 * attempt) });
        assert!(asked(&r.take_others()).is_none(), "no attempt before the app's delay");
        r.advance(100 * attempt);
    }
    assert_eq!(tries, [1, 2, 3]);
    // An unusable answer falls back to the default policy; an open socket starts over.
    assert_eq!(asked(&r.take_others()), Some(4));
    r.down = false;
    r.input(Input::ReconnectDelay { ms: None });
    r.advance(5_000);
    assert_eq!(r.rt.connection_state(), super::ConnectionState::Open);
    r.server_close(1006, "");
    assert_eq!(asked(&r.take_others()), Some(1));
    // `disconnect()` does not reconnect, so the app is not asked.
    r.input(Input::ReconnectDelay { ms: Some(10) });
    r.advance(10);
    r.call(|rt, now, _, out| rt.disconnect(now, out));
    assert!(asked(&r.take_others()).is_none());
}

#[test]
fn disconnect_closes_as_realtime_js_and_channels_see_the_reported_close() {
    let mut r = Rig::new(cfg());
    let ch = r.subscribe("room");
    // The browser's report is held back, as it arrives in a later task.
    let (now, v) = (r.now, r.view());
    r.rt.disconnect_then(Some(Ticket(9)), now, &mut r.out);
    let close = r.out.pop();
    let Some(Output::Close { conn, code, reason }) = close else { panic!("{close:?}") };
    assert_eq!((code, reason), (super::NO_STATUS, ""), "no status code, as realtime-js's close()");
    assert_eq!(r.rt.connection_state(), super::ConnectionState::Closed);
    r.rt.resume(now, &v, &mut r.out);
    r.pump();
    assert_eq!(r.names(ch), ["SUBSCRIBED"], "nothing until the browser reports the close");
    // The browser reports what the server's close frame said (here: an abrupt 1006).
    r.rt.handle_closed(conn, 1006, String::new(), now, &mut r.out);
    r.pump();
    assert_eq!(r.statuses(ch)[1], ("CHANNEL_ERROR", Some("socket closed: 1006".to_string())));
    let at = r.events.iter().position(|e| matches!(e, AppEvent::ChannelStatus { error: Some(_), .. }));
    let done = r.events.iter().position(|e| *e == AppEvent::PushDone { ticket: Ticket(9), outcome: PushOutcome::Ok });
    assert!(at < done && done.is_some(), "the channels see the close before the promise resolves");
    // No report at all: the promise resolves 'timed out' after the timeout.
    let mut r = Rig::new(cfg());
    r.subscribe("room");
    let now = r.now;
    r.rt.disconnect_then(Some(Ticket(3)), now, &mut r.out);
    assert!(matches!(r.out.pop(), Some(Output::Close { .. })));
    r.advance(10_000);
    assert!(r.events.contains(&AppEvent::PushDone { ticket: Ticket(3), outcome: PushOutcome::TimedOut }));
}

#[test]
fn disconnect_holds_the_socket_down_until_connect_or_subscribe() {
    let mut r = Rig::new(cfg());
    r.subscribe("room");
    r.call(|rt, now, _, out| rt.disconnect(now, out));
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    r.advance(60_000);
    assert_eq!(r.rt.connection_state(), super::ConnectionState::Closed, "realtime-js's clean close does not reconnect");
    let other = r.subscribe("other");
    assert_eq!(r.rt.connection_state(), super::ConnectionState::Open, "subscribe() connects again");
    assert_eq!(r.names(other), ["SUBSCRIBED"]);
}

#[test]
fn payloads_over_the_limit_are_refused_before_anything_is_sent() {
    let small =
        || RealtimeConfig { max_payload_bytes: Some(16), broadcast_fallback: BroadcastFallback::NotJoined, ..cfg() };
    let big = UserData::Json(String::from(r#"{"text":"seventeen bytes+"}"#));
    // Joined: neither the socket nor presence carries it.
    let mut r = Rig::new(small());
    let ch = r.subscribe("room");
    let e = r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", big.clone(), Ticket(1), now, v, &HTTP, out));
    assert_eq!(e.unwrap_err().code(), "payload_too_large");
    let e = r.call(|rt, now, v, out| rt.track(ch, r#"{"text":"seventeen bytes+"}"#, Ticket(2), now, v, out));
    assert_eq!(e.unwrap_err().code(), "payload_too_large");
    assert_eq!(r.sent_events(), ["phx_join"]);
    // Exactly the limit is sent.
    r.call(|rt, now, v, out| {
        rt.send_broadcast(ch, "e", UserData::Json("{\"t\":\"01234567\"}".into()), Ticket(3), now, v, &HTTP, out)
    })
    .unwrap();
    assert_eq!(r.sent_events(), ["phx_join", "broadcast"]);
    // Not joined (HTTP fallback) and httpSend: no request either.
    let mut r = Rig::new(small());
    r.silent = true;
    let ch = r.subscribe("room");
    let e = r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", big.clone(), Ticket(1), now, v, &HTTP, out));
    assert_eq!(e.unwrap_err().code(), "payload_too_large");
    let target = HttpChannel { sub_topic: "room", private: false };
    let e = r.call(|rt, now, v, out| {
        rt.http_send(target, "e", r#"{"text":"seventeen bytes+"}"#, Ticket(2), None, now, v, &HTTP, out)
    });
    assert_eq!(e.unwrap_err().code(), "payload_too_large");
    assert!(http_of(&r.take_others()).is_none());
}

mod nothing_lost;
