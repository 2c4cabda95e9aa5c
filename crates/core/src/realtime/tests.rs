//! Behaviour that must match realtime-js 2.119.1 (issue 10), each checked against what
//! realtime-js did in the same run: the channel registry (a closed channel frees its name at
//! once, so React StrictMode's subscribe / remove / subscribe leaves one membership), the
//! `err` of each status, invalid filters reported by the server with authwire's code added,
//! `send()`'s HTTP fallback whenever the channel is not joined, `httpSend()`'s endpoint and
//! results, and reconnect delays asked of the application per attempt.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, UserData, Vsn};

use super::bindings::spec;
use super::{BroadcastFallback, ChannelOptions, HttpChannel, HttpTarget, Realtime, RealtimeConfig};
use crate::error::ChannelOpError;
use crate::io::{AppEvent, ChannelId, ConnId, Input, Output, PushOutcome, Ticket};
use crate::sim::rt_endpoint::RtEndpoint;
use crate::sim::rt_server::{AcceptAll, ConnKey, ModelRealtime};
use crate::sim::world::{Faults, NoServices, World};
use crate::time::Now;
use crate::token::TokenView;

const T0: u64 = 1_800_000_000_000;
const HTTP: HttpTarget<'static> = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };

type W = World<RtEndpoint, AcceptAll, NoServices>;

fn world() -> W {
    let mut server = ModelRealtime::new(AcceptAll);
    server.record = true;
    let ep = RtEndpoint::new("ws://h/realtime/v1", 1, Some("user-token"), "anon");
    World::new(Now::new(0, T0), vec![ep], server, NoServices)
}

fn statuses(w: &W, ch: ChannelId) -> Vec<(&'static str, Option<String>)> {
    w.events_of(0)
        .filter_map(|e| match e {
            AppEvent::ChannelStatus { channel, status, error } if *channel == ch => {
                Some((status.as_str(), error.as_ref().map(|e| e.message().to_string())))
            }
            _ => None,
        })
        .collect()
}

fn names(w: &W, ch: ChannelId) -> Vec<&'static str> {
    statuses(w, ch).into_iter().map(|(s, _)| s).collect()
}

fn subscribe(w: &mut W, name: &str) -> ChannelId {
    w.with(0, |c, now| {
        let id = c.rt.channel(name, ChannelOptions::default()).unwrap();
        c.call(now, |rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    })
}

fn sent(w: &W) -> Vec<(String, Option<String>)> {
    w.server.received.iter().map(|r| (r.frame.event.clone(), r.frame.join_ref.clone())).collect()
}

const KEY: ConnKey = ConnKey { client: 0, conn: 1 };

#[test]
fn strict_mode_remove_then_the_same_name_subscribes_again_with_one_membership() {
    let mut w = world();
    let first = subscribe(&mut w, "room");
    w.run_for(1_000);
    // One tick: subscribe → removeChannel (not awaited) → channel(sameName).subscribe().
    let second = w.with(0, |c, now| {
        c.call(now, |rt, now, _, out| rt.remove_channel(first, Some(Ticket(1)), now, out));
        let id = c.rt.channel("room", ChannelOptions::default()).unwrap();
        c.call(now, |rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    });
    assert_ne!(first, second, "the removed channel's name gives a new channel at once");
    // The removed channel's callback saw CLOSED in that same call, and its promise is `ok`.
    assert_eq!(names(&w, first), ["SUBSCRIBED", "CLOSED"]);
    assert!(w.events_of(0).any(|e| matches!(e, AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::Ok })));
    w.run_for(1_000);
    assert_eq!(names(&w, second), ["SUBSCRIBED"]);
    assert_eq!(names(&w, first), ["SUBSCRIBED", "CLOSED"], "the old join's leave reply and close are stale");
    let order: Vec<&str> = w.server.received.iter().map(|r| r.frame.event.as_str()).collect();
    assert_eq!(order, ["phx_join", "phx_leave", "phx_join"]);
    // Exactly one live membership, the new channel's.
    let members = &w.server.conns[&KEY].channels;
    assert_eq!(members.len(), 1);
    assert_eq!(members["realtime:room"].join_ref, sent(&w)[2].1);
    assert_eq!(w.clients[0].rt.channel_ids(), [second]);
}

#[test]
fn strict_mode_before_the_socket_opened_sends_one_join() {
    let mut w = world();
    let first = subscribe(&mut w, "room");
    let second = w.with(0, |c, now| {
        c.call(now, |rt, now, _, out| rt.remove_channel(first, None, now, out));
        let id = c.rt.channel("room", ChannelOptions::default()).unwrap();
        c.call(now, |rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    });
    w.run_for(1_000);
    assert_eq!(names(&w, first), ["CLOSED"]);
    assert_eq!(names(&w, second), ["SUBSCRIBED"]);
    assert_eq!(sent(&w).iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), ["phx_join"]);
    assert_eq!(w.server.conns[&KEY].channels.len(), 1);
}

#[test]
fn unsubscribe_closes_at_once_and_frees_the_name() {
    let mut w = world();
    let first = subscribe(&mut w, "room");
    w.run_for(1_000);
    w.with(0, |c, now| c.call(now, |rt, now, _, out| rt.unsubscribe(first, Some(Ticket(7)), now, out)));
    // realtime-js's leave closes the channel inside the call: no wait for the reply.
    assert_eq!(names(&w, first), ["SUBSCRIBED", "CLOSED"]);
    assert!(w.events_of(0).any(|e| matches!(e, AppEvent::PushDone { ticket: Ticket(7), outcome: PushOutcome::Ok })));
    assert!(w.clients[0].rt.channel_ids().is_empty(), "a closed channel is not registered");
    let again = w.clients[0].rt.channel("room", ChannelOptions::default()).unwrap();
    assert_ne!(again, first);
    // The closed instance cannot join again (Phoenix's "tried to join multiple times").
    let err = w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(first, None, now, v, out)));
    assert_eq!(err, Err(ChannelOpError::AlreadySubscribed));
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(again, None, now, v, out))).unwrap();
    w.run_for(1_000);
    assert_eq!(names(&w, again), ["SUBSCRIBED"]);
    // Forgotten once ended: its id is unknown, its frames stale.
    w.clients[0].rt.forget_ended();
    assert!(w.clients[0].rt.channel_info(first).is_none());
}

#[test]
fn a_server_close_frees_the_name_and_closed_carries_no_error() {
    let mut w = world();
    let first = subscribe(&mut w, "room");
    w.run_for(1_000);
    let mut sends = Vec::new();
    w.server.shutdown(
        KEY,
        "realtime:room",
        "You no longer have permission to read from this Channel topic: room",
        &mut sends,
    );
    w.server_sends(sends);
    w.run_for(100);
    // realtime-js: CLOSED with no `err`; the `system` message before it says why.
    assert_eq!(statuses(&w, first), [("SUBSCRIBED", None), ("CLOSED", None)]);
    assert!(w.events_of(0).any(|e| matches!(e, AppEvent::System { .. })));
    let again = w.clients[0].rt.channel("room", ChannelOptions::default()).unwrap();
    assert_ne!(again, first);
}

#[test]
fn a_stale_close_of_the_removed_join_does_not_end_the_new_channel() {
    let mut w = world();
    let first = subscribe(&mut w, "room");
    w.run_for(1_000);
    // The new channel's join waits for auth; the old join's phx_close arrives meanwhile.
    let second = w.with(0, |c, now| {
        c.call(now, |rt, now, _, out| rt.remove_channel(first, None, now, out));
        c.set_ready(false, now);
        let id = c.rt.channel("room", ChannelOptions::default()).unwrap();
        c.call(now, |rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    });
    w.run_for(500);
    assert!(names(&w, second).is_empty());
    w.with(0, |c, now| c.set_ready(true, now));
    w.run_for(500);
    assert_eq!(names(&w, second), ["SUBSCRIBED"]);
}

#[test]
fn status_errors_are_realtime_js_s() {
    // A dropped socket: `socket closed: <code> (<reason>)`.
    let mut w = world();
    let ch = subscribe(&mut w, "room");
    w.run_for(1_000);
    w.server_close(KEY, 1001, "bye");
    w.run_for(100);
    assert_eq!(statuses(&w, ch)[1], ("CHANNEL_ERROR", Some("socket closed: 1001 (bye)".to_string())));
    // A join that is never answered: TIMED_OUT with no error.
    let mut w = world();
    w.run_for(10);
    let ch = subscribe(&mut w, "quiet");
    w.run_for(100);
    w.faults.insert(0, Faults { blackhole: true });
    let late = subscribe(&mut w, "late");
    w.run_for(10_500);
    assert_eq!(names(&w, ch), ["SUBSCRIBED"]);
    assert_eq!(statuses(&w, late)[0], ("TIMED_OUT", None));
    // A socket that never opens: one `channel error: transport failure` per joining channel,
    // not one per failed attempt.
    let mut w = world();
    w.server.down = true;
    let ch = subscribe(&mut w, "room");
    w.run_for(20_000);
    assert_eq!(statuses(&w, ch), [("CHANNEL_ERROR", Some("channel error: transport failure".to_string()))]);
}

#[test]
fn an_invalid_filter_goes_to_the_server_and_its_error_gets_the_code() {
    let mut w = world();
    let ch = w.with(0, |c, _| c.rt.channel("db", ChannelOptions::default()).unwrap());
    let r = w.clients[0].rt.register_postgres_binding(ch, spec("*", None, Some("songs"), Some("id=foo.1"))).unwrap();
    assert!(matches!(r.invalid, Some(ChannelOpError::InvalidFilter { .. })));
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(ch, None, now, v, out))).unwrap();
    w.run_for(1_000);
    let join = w.server.received.iter().find(|r| r.frame.event == "phx_join").unwrap();
    let Payload::Json(p) = &join.frame.payload else { panic!() };
    assert!(p.contains(r#""filter":"id=foo.1""#), "{p}");
    // The server answers as the devserver and Realtime do: SUBSCRIBED, then a system error.
    let sys = r#"{"extension":"postgres_changes","status":"error","message":"Error parsing `filter` params: [\"id\", \"foo\", \"1\"]","channel":"db"}"#;
    let jr = sent(&w)[0].1.clone();
    let f = Frame {
        join_ref: jr,
        msg_ref: None,
        topic: "realtime:db".into(),
        event: "system".into(),
        payload: Payload::Json(sys.into()),
    };
    let msg = frame::encode(&f, Vsn::V2, Side::Server).unwrap();
    let sends = w.server.raw(KEY, msg);
    w.server_sends(sends);
    w.run_for(100);
    assert_eq!(names(&w, ch), ["SUBSCRIBED"]);
    let got = w.events_of(0).find_map(|e| match e {
        AppEvent::System { payload, code, .. } => Some((payload.clone(), *code)),
        _ => None,
    });
    assert_eq!(got, Some((sys.to_string(), Some("invalid_filter"))));
}

/// The Realtime half driven by hand, for outputs a model world would not carry (HTTP, the
/// app's reconnect delays).
struct Bare {
    rt: Realtime,
    out: crate::io::Outbox,
    now: Now,
    ready: bool,
}

impl Bare {
    fn new(cfg: RealtimeConfig) -> Bare {
        Bare { rt: Realtime::new(cfg, 1), out: crate::io::Outbox::default(), now: Now::new(0, T0), ready: true }
    }
    fn view(&self) -> TokenView<'static> {
        TokenView { ready: self.ready, token: Some("user-token"), generation: 1, role: None, socket_key: Some("anon") }
    }
    fn drain(&mut self) -> Vec<Output> {
        core::iter::from_fn(|| self.out.pop()).collect()
    }
    fn advance(&mut self, ms: u64) {
        self.now = Now::new(self.now.mono.as_millis() + ms, T0 + self.now.mono.as_millis() + ms);
        let v = self.view();
        self.rt.handle_timeout(self.now, &v, &mut self.out);
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
    }
    /// Joins `name` on connection `conn`, answering the join.
    fn joined(&mut self, name: &str, conn: u32) -> ChannelId {
        let (now, v) = (self.now, self.view());
        let id = self.rt.channel(name, ChannelOptions::default()).unwrap();
        self.rt.subscribe(id, None, now, &v, &mut self.out).unwrap();
        self.input(Input::SocketOpened { conn: ConnId(conn) });
        let join = self.drain().into_iter().find_map(|o| match o {
            Output::Send { msg, .. } => frame::decode(&msg, Vsn::V2, Side::Client).ok(),
            _ => None,
        });
        let join = join.unwrap();
        let reply = Frame {
            join_ref: join.join_ref.clone(),
            msg_ref: join.msg_ref.clone(),
            topic: join.topic.clone(),
            event: "phx_reply".into(),
            payload: Payload::Json(r#"{"status":"ok","response":{"postgres_changes":[]}}"#.into()),
        };
        let msg = frame::encode(&reply, Vsn::V2, Side::Server).unwrap();
        self.input(Input::SocketMessage { conn: ConnId(conn), msg });
        id
    }
}

fn http_of(outs: &[Output]) -> Option<(crate::io::RequestId, crate::io::HttpRequest)> {
    outs.iter().find_map(|o| match o {
        Output::Http { id, request } => Some((*id, request.clone())),
        _ => None,
    })
}

#[test]
fn send_goes_over_http_whenever_the_channel_is_not_joined() {
    let mut b = Bare::new(RealtimeConfig {
        broadcast_fallback: BroadcastFallback::NotJoined,
        timeout_ms: 3_000,
        ..RealtimeConfig::new("ws://h/realtime/v1".into())
    });
    let (now, v) = (b.now, b.view());
    let ch = b.rt.channel("room", ChannelOptions::default()).unwrap();
    b.rt.subscribe(ch, None, now, &v, &mut b.out).unwrap();
    // Joining (the socket is still connecting): realtime-js falls back to HTTP.
    b.rt.send_broadcast(ch, "e", UserData::Json("{\"n\":1}".into()), Ticket(1), now, &v, &HTTP, &mut b.out).unwrap();
    let (req, http) = http_of(&b.drain()).expect("an HTTP broadcast");
    assert_eq!(http.url, "http://h/realtime/v1/api/broadcast");
    assert_eq!(
        http.body.as_deref(),
        Some(r#"{"messages":[{"topic":"room","event":"e","payload":{"n":1},"private":false}]}"#)
    );
    assert!(http.headers.contains(&("Authorization".into(), "Bearer user-token".into())));
    // No answer within the timeout: 'timed out', and the request is cancelled.
    b.advance(3_000);
    let outs = b.drain();
    assert!(outs.contains(&Output::CancelHttp { id: req }));
    assert!(outs.contains(&Output::Event(AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::TimedOut })));
    // A late answer is no longer the realtime half's.
    assert!(!b.rt.handle_http(req, Ok((202, "")), &mut b.out));
    assert!(b.drain().is_empty());
    // Joined on an open socket: the socket carries it.
    let mut b = Bare::new(RealtimeConfig {
        broadcast_fallback: BroadcastFallback::NotJoined,
        ..RealtimeConfig::new("ws://h/realtime/v1".into())
    });
    let ch = b.joined("room", 1);
    let (now, v) = (b.now, b.view());
    b.drain();
    b.rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(2), now, &v, &HTTP, &mut b.out).unwrap();
    let outs = b.drain();
    assert!(http_of(&outs).is_none());
    assert!(outs.iter().any(|o| matches!(o, Output::Send { .. })));
}

#[test]
fn http_broadcasts_wait_for_auth() {
    let mut b = Bare::new(RealtimeConfig::new("ws://h/realtime/v1".into()));
    b.ready = false;
    let (now, v) = (b.now, b.view());
    let ch = b.rt.channel("room", ChannelOptions::default()).unwrap();
    b.rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(1), now, &v, &HTTP, &mut b.out).unwrap();
    assert!(http_of(&b.drain()).is_none(), "G2: nothing goes out while auth is unresolved");
    b.ready = true;
    let v = b.view();
    b.rt.resume(now, &v, &mut b.out);
    let (req, _) = http_of(&b.drain()).expect("sent once auth is ready");
    b.rt.handle_http(req, Ok((200, "")), &mut b.out);
    assert!(b.drain().contains(&Output::Event(AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::Ok })));
}

#[test]
fn http_send_uses_the_single_message_endpoint_and_its_results() {
    let mut b = Bare::new(RealtimeConfig::new("ws://h/realtime/v1".into()));
    let (now, v) = (b.now, b.view());
    let target = HttpChannel { sub_topic: "band one", private: true };
    let send = |b: &mut Bare, t: u64| {
        b.rt.http_send(target, "new msg", "{\"a\":1}", Ticket(t), None, now, &v, &HTTP, &mut b.out);
        http_of(&b.drain()).unwrap()
    };
    let (req, http) = send(&mut b, 1);
    assert_eq!(http.url, "http://h/realtime/v1/api/broadcast/band%20one/events/new%20msg?private=true");
    assert_eq!(http.body.as_deref(), Some("{\"a\":1}"));
    b.rt.handle_http(req, Ok((202, "")), &mut b.out);
    assert!(b.drain().contains(&Output::Event(AppEvent::HttpSendDone { ticket: Ticket(1), result: Ok(()) })));
    let (req, _) = send(&mut b, 2);
    b.rt.handle_http(req, Ok((401, r#"{"message":"Unauthorized"}"#)), &mut b.out);
    let failed = ChannelOpError::HttpFailed { status: 401, message: "Unauthorized".into() };
    assert!(b.drain().contains(&Output::Event(AppEvent::HttpSendDone { ticket: Ticket(2), result: Err(failed) })));
    let (req, _) = send(&mut b, 3);
    b.rt.handle_http(req, Err("Failed to fetch"), &mut b.out);
    let failed = ChannelOpError::HttpFailed { status: 0, message: "Failed to fetch".into() };
    assert!(b.drain().contains(&Output::Event(AppEvent::HttpSendDone { ticket: Ticket(3), result: Err(failed) })));
    let (req, _) = send(&mut b, 4);
    b.advance(10_000);
    let outs = b.drain();
    assert!(outs.contains(&Output::CancelHttp { id: req }));
    let timeout = Err(ChannelOpError::HttpTimeout);
    assert!(outs.contains(&Output::Event(AppEvent::HttpSendDone { ticket: Ticket(4), result: timeout })));
}

#[test]
fn reconnect_delays_are_asked_of_the_app_per_attempt() {
    let mut b =
        Bare::new(RealtimeConfig { reconnect_from_app: true, ..RealtimeConfig::new("ws://h/realtime/v1".into()) });
    b.joined("room", 1);
    b.drain();
    let mut tries = Vec::new();
    let mut conn = 1;
    // Three failed attempts in a row: tries 1, 2, 3, each answered before the next step.
    b.input(Input::SocketClosed { conn: ConnId(conn), code: 1006, reason: String::new() });
    for attempt in 0..3 {
        let outs = b.drain();
        let asked = outs.iter().find_map(|o| match o {
            Output::ReconnectDelay { tries } => Some(*tries),
            _ => None,
        });
        tries.push(asked.expect("the app is asked"));
        b.input(Input::ReconnectDelay { ms: Some(100 * (attempt + 1)) });
        assert!(b.drain().is_empty(), "no connect before the app's delay");
        b.advance(100 * (attempt + 1));
        let connect = b.drain().into_iter().find_map(|o| match o {
            Output::Connect { conn, .. } => Some(conn.0),
            _ => None,
        });
        conn = connect.expect("a connect after the app's delay");
        b.input(Input::SocketClosed { conn: ConnId(conn), code: 1006, reason: String::new() });
    }
    assert_eq!(tries, [1, 2, 3]);
    // An unusable answer falls back to the default policy; an open socket starts over.
    b.drain();
    b.input(Input::ReconnectDelay { ms: None });
    b.advance(5_000);
    let conn = b.drain().into_iter().find_map(|o| match o {
        Output::Connect { conn, .. } => Some(conn),
        _ => None,
    });
    let conn = conn.expect("the default delay runs");
    b.input(Input::SocketOpened { conn });
    b.input(Input::SocketClosed { conn, code: 1006, reason: String::new() });
    assert!(b.drain().contains(&Output::ReconnectDelay { tries: 1 }));
    // `disconnect()` does not reconnect, so the app is not asked.
    b.input(Input::ReconnectDelay { ms: Some(10) });
    b.advance(10);
    let conn = b.drain().into_iter().find_map(|o| match o {
        Output::Connect { conn, .. } => Some(conn),
        _ => None,
    });
    b.input(Input::SocketOpened { conn: conn.unwrap() });
    b.drain();
    b.rt.disconnect(b.now, &mut b.out);
    assert!(!b.drain().iter().any(|o| matches!(o, Output::ReconnectDelay { .. })));
}

#[test]
fn disconnect_holds_the_socket_down_until_connect_or_subscribe() {
    let mut b = Bare::new(RealtimeConfig::new("ws://h/realtime/v1".into()));
    b.joined("room", 1);
    b.drain();
    let (now, v) = (b.now, b.view());
    b.rt.disconnect(now, &mut b.out);
    b.rt.resume(now, &v, &mut b.out);
    b.advance(60_000);
    let connects = |outs: Vec<Output>| outs.iter().filter(|o| matches!(o, Output::Connect { .. })).count();
    assert_eq!(connects(b.drain()), 0, "realtime-js's clean close does not reconnect");
    let (now, v) = (b.now, b.view());
    let other = b.rt.channel("other", ChannelOptions::default()).unwrap();
    b.rt.subscribe(other, None, now, &v, &mut b.out).unwrap();
    assert_eq!(connects(b.drain()), 1, "subscribe() connects again");
}
