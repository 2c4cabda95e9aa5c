//! Behaviour of the Realtime half against the model server, on one virtual clock.

use authwire_core::io::{AppEvent, ChannelId, HeartbeatStatus, Input, PresenceEvent, PushOutcome, Ticket};
use authwire_core::realtime::bindings::spec;
use authwire_core::realtime::channel::ChannelState;
use authwire_core::realtime::{ChannelOptions, ConnectionState, HttpTarget, TokenChange};
use authwire_core::time::Now;
use authwire_sim::rt_endpoint::RtEndpoint;
use authwire_sim::rt_server::{AcceptAll, ConnKey, ModelRealtime, TokenInfo, TokenJudge};
use authwire_sim::world::{Faults, NoServices, World};
use authwire_wire::frame::{Payload, UserData, WireMsg};
use authwire_wire::realtime::ChangeType;

const T0: u64 = 1_800_000_000_000;

type W<J = AcceptAll> = World<RtEndpoint, J, NoServices>;

fn world(n: usize) -> W {
    let clients =
        (0..n).map(|i| RtEndpoint::new("ws://h/realtime/v1", i as u64 + 1, Some("user-token"), "anon")).collect();
    let mut server = ModelRealtime::new(AcceptAll);
    server.record = true;
    World::new(Now::new(0, T0), clients, server, NoServices)
}

fn statuses<J: TokenJudge>(w: &World<RtEndpoint, J, NoServices>, client: usize, ch: ChannelId) -> Vec<&'static str> {
    w.events_of(client)
        .filter_map(|e| match e {
            AppEvent::ChannelStatus { channel, status, .. } if *channel == ch => Some(status.as_str()),
            _ => None,
        })
        .collect()
}

fn subscribe<J: TokenJudge>(
    w: &mut World<RtEndpoint, J, NoServices>,
    client: usize,
    name: &str,
    opts: ChannelOptions,
) -> ChannelId {
    w.with(client, |c, now| {
        let id = c.rt.channel(name, opts).unwrap();
        c.call(now, |rt, now, v, out| rt.subscribe(id, None, now, v, out)).unwrap();
        id
    })
}

fn sent_events<J: TokenJudge>(w: &World<RtEndpoint, J, NoServices>, client: usize) -> Vec<String> {
    w.server.received.iter().filter(|r| r.from.client == client).map(|r| r.frame.event.clone()).collect()
}

fn join_payloads<J: TokenJudge>(w: &World<RtEndpoint, J, NoServices>) -> Vec<String> {
    w.server
        .received
        .iter()
        .filter(|r| r.frame.event == "phx_join")
        .map(|r| match &r.frame.payload {
            Payload::Json(p) => p.clone(),
            _ => String::new(),
        })
        .collect()
}

#[test]
fn join_then_leave() {
    let mut w = world(1);
    let ch = subscribe(&mut w, 0, "room1", ChannelOptions::default());
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED"]);
    assert_eq!(w.clients[0].rt.connection_state(), ConnectionState::Open);
    let p = &join_payloads(&w)[0];
    assert!(p.contains(r#""access_token":"user-token""#), "{p}");
    assert!(p.starts_with(r#"{"config":{"broadcast":{"ack":false,"self":false}"#));
    w.with(0, |c, now| c.call(now, |rt, now, _, out| rt.unsubscribe(ch, Some(Ticket(7)), now, out)));
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED", "CLOSED"]);
    assert!(w.events_of(0).any(|e| matches!(e, AppEvent::PushDone { ticket: Ticket(7), outcome: PushOutcome::Ok })));
    assert_eq!(w.clients[0].rt.channel_info(ch).unwrap().state, ChannelState::Closed);
    // No channels left: the socket closes after the idle delay.
    w.with(0, |c, now| c.call(now, |rt, now, _, out| rt.remove_channel(ch, None, now, out)));
    w.run_for(60_000);
    assert_eq!(w.clients[0].rt.connection_state(), ConnectionState::Closed);
}

#[test]
fn same_topic_returns_the_same_channel_and_subscribe_twice_is_refused() {
    let mut w = world(1);
    let a = subscribe(&mut w, 0, "room", ChannelOptions::default());
    let b = w.clients[0].rt.channel("room", ChannelOptions::default()).unwrap();
    assert_eq!(a, b);
    let again = w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(a, None, now, v, out)));
    assert_eq!(again.unwrap_err().code(), "already_subscribed");
    let long = "x".repeat(300);
    assert_eq!(w.clients[0].rt.channel(&long, ChannelOptions::default()).unwrap_err().code(), "topic_too_long");
    assert_eq!(w.clients[0].rt.channel("", ChannelOptions::default()).unwrap_err().code(), "empty_topic");
}

#[test]
fn rejoin_after_phx_error_uses_the_step_schedule() {
    let mut w = world(1);
    let ch = subscribe(&mut w, 0, "room1", ChannelOptions::default());
    w.run_for(1_000);
    let key = ConnKey { client: 0, conn: 1 };
    let sends = w.server.crash(key, "realtime:room1");
    w.server_sends(sends);
    let crash_at = w.now.mono.as_millis();
    w.run_for(500);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED", "CHANNEL_ERROR"]);
    assert_eq!(w.clients[0].rt.channel_info(ch).unwrap().state, ChannelState::Errored);
    w.run_for(2_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED"]);
    let joins: Vec<u64> =
        w.server.received.iter().filter(|r| r.frame.event == "phx_join").map(|r| r.at.as_millis() - T0).collect();
    assert_eq!(joins.len(), 2);
    // First rejoin step is 1 s after the error reached the client (plus one-way latency).
    assert_eq!(joins[1] - crash_at, 20 + 1_000 + 20);
}

#[test]
fn join_errors_back_off_1_2_5_10_seconds() {
    let mut w = world(1);
    w.server.refuse_joins = Some("PrivateOnly: This project only allows private channels".into());
    let ch = subscribe(&mut w, 0, "room1", ChannelOptions::default());
    w.run_for(30_000);
    let joins: Vec<u64> =
        w.server.received.iter().filter(|r| r.frame.event == "phx_join").map(|r| r.at.as_millis() - T0).collect();
    let gaps: Vec<u64> = joins.windows(2).map(|p| p[1] - p[0]).collect();
    // Each gap is the step plus one round trip (40 ms).
    assert_eq!(gaps[..4], [1_040, 2_040, 5_040, 10_040]);
    let err = w
        .events_of(0)
        .find_map(|e| match e {
            AppEvent::ChannelStatus { error: Some(e), .. } => Some(e.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(err.code(), "channel_error");
    assert_eq!(err.message(), "PrivateOnly: This project only allows private channels");
    assert!(statuses(&w, 0, ch).iter().all(|s| *s == "CHANNEL_ERROR"));
}

#[test]
fn heartbeat_deadline_reconnects_and_rejoins_every_channel() {
    let mut w = world(1);
    let a = subscribe(&mut w, 0, "a", ChannelOptions::default());
    let b = subscribe(&mut w, 0, "b", ChannelOptions::default());
    w.run_for(1_000);
    // The socket goes half-open: nothing gets through any more.
    w.faults.insert(0, Faults { blackhole: true });
    w.run_for(25_000 + 25_000);
    let hb: Vec<HeartbeatStatus> = w
        .events_of(0)
        .filter_map(|e| match e {
            AppEvent::Heartbeat { status, .. } => Some(*status),
            _ => None,
        })
        .collect();
    assert_eq!(hb, [HeartbeatStatus::Sent, HeartbeatStatus::Timeout]);
    assert_eq!(statuses(&w, 0, a), ["SUBSCRIBED", "CHANNEL_ERROR"]);
    w.faults.clear();
    w.run_for(20_000);
    assert_eq!(statuses(&w, 0, a), ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED"]);
    assert_eq!(statuses(&w, 0, b), ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED"]);
    assert_eq!(w.opens.len(), 2);
}

#[test]
fn any_inbound_frame_counts_as_liveness() {
    let mut w = world(1);
    subscribe(&mut w, 0, "a", ChannelOptions::default());
    w.run_for(1_000);
    w.server.mute_heartbeats = true;
    // Broadcast traffic keeps arriving although heartbeats are never answered.
    for _ in 0..12 {
        w.run_for(10_000);
        let sends = w.server.postgres_change("realtime:a", "t", ChangeType::Insert, "{}");
        w.server_sends(sends);
        let key = ConnKey { client: 0, conn: w.opens.len() as u32 };
        let sends = w.server.raw(key, WireMsg::Text(r#"[null,null,"realtime:a","noise",{}]"#.into()));
        w.server_sends(sends);
    }
    assert_eq!(w.opens.len(), 1, "the socket was never declared dead");
}

#[test]
fn pushes_wait_for_the_join_and_go_out_in_order() {
    let mut w = world(1);
    let ch =
        w.with(0, |c, _| c.rt.channel("room", ChannelOptions { broadcast_ack: true, ..Default::default() }).unwrap());
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(ch, None, now, v, out))).unwrap();
    let http = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };
    for i in 0..3u64 {
        w.with(0, |c, now| {
            c.call(now, |rt, now, v, out| {
                rt.send_broadcast(ch, "e", UserData::Json(format!("{{\"n\":{i}}}")), Ticket(i), now, v, &http, out)
            })
        })
        .unwrap();
    }
    // Nothing has gone out yet: the socket is still connecting.
    assert!(w.server.received.is_empty());
    w.run_for(1_000);
    let ev = sent_events(&w, 0);
    assert_eq!(ev, ["phx_join", "broadcast", "broadcast", "broadcast"]);
    let oks = w.events_of(0).filter(|e| matches!(e, AppEvent::PushDone { outcome: PushOutcome::Ok, .. })).count();
    assert_eq!(oks, 3);
}

#[test]
fn ack_timeout_resolves_timed_out() {
    let mut w = world(1);
    let ch = subscribe(&mut w, 0, "room", ChannelOptions { broadcast_ack: true, ..Default::default() });
    w.run_for(1_000);
    w.faults.insert(0, Faults { blackhole: true });
    let http = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };
    w.with(0, |c, now| {
        c.call(now, |rt, now, v, out| {
            rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(1), now, v, &http, out)
        })
    })
    .unwrap();
    w.run_for(9_999);
    assert!(!w.events_of(0).any(|e| matches!(e, AppEvent::PushDone { .. })));
    w.run_for(2);
    assert!(w
        .events_of(0)
        .any(|e| matches!(e, AppEvent::PushDone { ticket: Ticket(1), outcome: PushOutcome::TimedOut })));
}

#[test]
fn broadcast_without_a_subscription_uses_http() {
    let mut w = world(1);
    let ch = w.with(0, |c, _| c.rt.channel("room", ChannelOptions::default()).unwrap());
    let http = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };
    w.clients[0]
        .call(w.now, |rt, now, v, out| {
            rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(1), now, v, &http, out)
        })
        .unwrap();
    match w.clients[0].out.pop() {
        Some(authwire_core::io::Output::Http { request, .. }) => {
            assert_eq!(request.url, "http://h/realtime/v1/api/broadcast");
            assert_eq!(
                request.body.as_deref(),
                Some(r#"{"messages":[{"topic":"room","event":"e","payload":{},"private":false}]}"#)
            );
            assert!(request.headers.contains(&("Authorization".into(), "Bearer user-token".into())));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn presence_updates_and_the_ghost_case() {
    let mut w = world(2);
    let opts = || ChannelOptions { presence_enabled: true, presence_key: None, ..Default::default() };
    let a = subscribe(&mut w, 0, "lobby", opts());
    let b = subscribe(&mut w, 1, "lobby", opts());
    w.run_for(1_000);
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.track(a, r#"{"status":"online"}"#, Ticket(1), now, v, out)))
        .unwrap();
    w.run_for(500);
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.track(a, r#"{"status":"away"}"#, Ticket(2), now, v, out)))
        .unwrap();
    w.run_for(500);
    let kinds: Vec<&str> = w
        .events_of(1)
        .filter_map(|e| match e {
            AppEvent::Presence { event, .. } => Some(match event {
                PresenceEvent::Sync => "sync",
                PresenceEvent::Join { .. } => "join",
                PresenceEvent::Leave { .. } => "leave",
                PresenceEvent::Update { .. } => "update",
            }),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["sync", "join", "sync", "join", "leave", "update", "sync"]);
    let st = w.clients[1].rt.presence_state_json(b).unwrap();
    assert!(st.contains(r#""status":"away""#) && !st.contains("online"), "{st}");
    // The tracking client goes away: no ghost remains.
    let key = ConnKey { client: 0, conn: 1 };
    w.server_close(key, 1006, "");
    w.run_for(200);
    assert_eq!(w.clients[1].rt.presence_state_json(b).unwrap(), "{}");
}

#[test]
fn postgres_changes_are_routed_by_binding_id() {
    let mut w = world(1);
    let ch = w.with(0, |c, _| c.rt.channel("db", ChannelOptions::default()).unwrap());
    let ins = w.clients[0].rt.add_postgres_binding(ch, spec("INSERT", None, Some("songs"), None)).unwrap();
    let all = w.clients[0].rt.add_postgres_binding(ch, spec("*", None, Some("shows"), Some("id=eq.1"))).unwrap();
    let bad = w.clients[0].rt.add_postgres_binding(ch, spec("*", None, Some("x"), Some("id=wat.1")));
    assert_eq!(bad.unwrap_err().code(), "invalid_filter");
    w.with(0, |c, now| c.call(now, |rt, now, v, out| rt.subscribe(ch, None, now, v, out))).unwrap();
    w.run_for(1_000);
    let late = w.clients[0].rt.add_postgres_binding(ch, spec("*", None, Some("y"), None));
    assert_eq!(late.unwrap_err().code(), "binding_after_subscribe");
    for (table, kind) in [("songs", ChangeType::Insert), ("songs", ChangeType::Delete), ("shows", ChangeType::Update)] {
        let sends = w.server.postgres_change("realtime:db", table, kind, r#"{"id":1}"#);
        w.server_sends(sends);
    }
    w.run_for(100);
    let routed: Vec<(Vec<u32>, String)> = w
        .events_of(0)
        .filter_map(|e| match e {
            AppEvent::PostgresChange { bindings, payload, .. } => Some((bindings.clone(), payload.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(routed.len(), 2);
    assert_eq!(routed[0].0, [ins]);
    assert_eq!(routed[1].0, [all]);
    assert!(routed[0].1.contains(r#""eventType":"INSERT","new":{"id":1},"old":{}"#), "{}", routed[0].1);
    assert!(routed[1].1.contains(r#""eventType":"UPDATE","new":{"id":1},"old":{"id":1}"#), "{}", routed[1].1);
}

#[test]
fn binary_kind4_broadcasts_decode() {
    let mut w = world(2);
    let a = subscribe(&mut w, 0, "room", ChannelOptions::default());
    subscribe(&mut w, 1, "room", ChannelOptions::default());
    w.run_for(1_000);
    let http = HttpTarget { base_url: "http://h/realtime/v1", apikey: "anon" };
    w.with(0, |c, now| {
        c.call(now, |rt, now, v, out| {
            rt.send_broadcast(a, "bin", UserData::Binary(vec![1, 2, 3]), Ticket(1), now, v, &http, out)
        })
    })
    .unwrap();
    w.with(0, |c, now| {
        c.call(now, |rt, now, v, out| {
            rt.send_broadcast(a, "cursor", UserData::Json(r#"{"x":1}"#.into()), Ticket(2), now, v, &http, out)
        })
    })
    .unwrap();
    w.run_for(500);
    let got: Vec<(String, String, Option<Vec<u8>>)> = w
        .events_of(1)
        .filter_map(|e| match e {
            AppEvent::Broadcast { event, payload, binary, .. } => {
                Some((event.clone(), payload.clone(), binary.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(got[0], ("bin".into(), r#"{"type":"broadcast","event":"bin"}"#.into(), Some(vec![1, 2, 3])));
    assert_eq!(got[1], ("cursor".into(), r#"{"type":"broadcast","event":"cursor","payload":{"x":1}}"#.into(), None));
    // The sender did not ask for `self`.
    assert!(!w.events_of(0).any(|e| matches!(e, AppEvent::Broadcast { .. })));
}

#[test]
fn unknown_events_and_malformed_frames_are_ignored() {
    let mut w = world(1);
    let ch = subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(1_000);
    let key = ConnKey { client: 0, conn: 1 };
    for raw in [
        r#"[null,null,"realtime:room","brand_new_event",{"x":1}]"#,
        r#"[null,null,"realtime:room"]"#,
        "not json",
        r#"{"topic":"realtime:room"}"#,
        r#"[null,null,"realtime:room","postgres_changes",{"ids":"x"}]"#,
        r#"[null,null,"realtime:room","presence_diff",[]]"#,
    ] {
        let sends = w.server.raw(key, WireMsg::Text(raw.into()));
        w.server_sends(sends);
    }
    let sends = w.server.raw(key, WireMsg::Binary(vec![4, 200]));
    w.server_sends(sends);
    w.run_for(100);
    assert_eq!(w.clients[0].rt.connection_state(), ConnectionState::Open);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED"]);
    assert!(!w.events_of(0).any(|e| matches!(e, AppEvent::Broadcast { .. } | AppEvent::PostgresChange { .. })));
}

#[test]
fn join_payload_is_built_when_sent_not_when_subscribed() {
    // G1/G2 at the realtime level: subscribe while auth is unresolved, change the token, then
    // resolve: the one join carries the new token.
    let mut w = world(1);
    w.clients[0].ready = false;
    subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(1_000);
    assert!(join_payloads(&w).is_empty(), "no join while auth is unresolved");
    w.clients[0].token = Some("fresh-token".into());
    w.clients[0].generation += 1;
    let now = w.now;
    w.clients[0].set_ready(true, now);
    w.with(0, |_, _| ());
    w.run_for(1_000);
    let joins = join_payloads(&w);
    assert_eq!(joins.len(), 1);
    assert!(joins[0].contains("fresh-token"));
}

#[test]
fn a_token_changed_during_the_join_is_pushed_after_the_reply() {
    // G3 for the in-flight join (supabase-js#2655).
    let mut w = world(1);
    w.latency_ms = 100;
    let ch = subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(350); // socket open, join received by the server, reply in flight
    assert_eq!(sent_events(&w, 0), ["phx_join"]);
    let now = w.now;
    w.clients[0].set_token(Some("rotated"), TokenChange::Rotated, now);
    w.with(0, |_, _| ());
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED"]);
    assert_eq!(sent_events(&w, 0), ["phx_join", "access_token"]);
    let last = &w.server.received[1].frame;
    assert_eq!(last.payload, Payload::Json(r#"{"access_token":"rotated"}"#.into()));
    // Joined channels get the next rotation pushed at once.
    let now = w.now;
    w.clients[0].set_token(Some("rotated-2"), TokenChange::Rotated, now);
    w.with(0, |_, _| ());
    w.run_for(500);
    assert_eq!(sent_events(&w, 0), ["phx_join", "access_token", "access_token"]);
}

struct Expiring;
impl TokenJudge for Expiring {
    fn judge(&self, token: &str) -> Result<TokenInfo, String> {
        // Tokens look like "tok-<exp seconds>".
        let exp =
            token.strip_prefix("tok-").and_then(|s| s.parse().ok()).ok_or("The token provided is not a valid JWT")?;
        Ok(TokenInfo { role: "authenticated".into(), sub: None, exp })
    }
}

/// One client whose token expires 60 s after `T0` (`exp` returned), against a server that
/// judges expiry and records frames.
fn expiring_world() -> (W<Expiring>, u64) {
    let exp = T0 / 1000 + 60;
    let clients =
        vec![RtEndpoint::new("ws://h/realtime/v1", 1, Some(&format!("tok-{exp}")), &format!("tok-{}", exp + 10_000))];
    let mut server = ModelRealtime::new(Expiring);
    server.record = true;
    (World::new(Now::new(0, T0), clients, server, NoServices), exp)
}

#[test]
fn an_expiry_close_recovers_with_a_fresh_token() {
    // G6 at the realtime level: system "Token has expired" + phx_close → RECOVERING, then a
    // rejoin as soon as a new token is there.
    let (mut w, exp) = expiring_world();
    let ch = subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(61_000);
    let sends = w.server.expire_tokens(w.now.wall);
    w.server_sends(sends);
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED", "RECOVERING"]);
    assert_eq!(w.clients[0].rt.take_signals(), [authwire_core::realtime::Signal::TokenExpired { generation: 1 }]);
    // Nothing rejoins with the dead token.
    w.run_for(30_000);
    assert_eq!(join_payloads(&w).len(), 1);
    let now = w.now;
    w.clients[0].set_token(Some(&format!("tok-{}", exp + 3_600)), TokenChange::Rotated, now);
    w.with(0, |_, _| ());
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED", "RECOVERING", "SUBSCRIBED"]);
    assert!(join_payloads(&w)[1].contains(&format!("tok-{}", exp + 3_600)));
}

#[test]
fn sign_out_ends_private_channels_and_rejoins_public_ones_as_anon() {
    let mut w = world(1);
    let public = subscribe(&mut w, 0, "pub", ChannelOptions::default());
    let private = subscribe(&mut w, 0, "priv", ChannelOptions { private: true, ..Default::default() });
    w.run_for(1_000);
    let now = w.now;
    w.clients[0].set_token(None, TokenChange::SignedOut, now);
    w.with(0, |_, _| ());
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, private), ["SUBSCRIBED", "CLOSED"]);
    let closed_err = w.events_of(0).find_map(|e| match e {
        AppEvent::ChannelStatus { channel, error: Some(e), .. } if *channel == private => Some(e.code().to_string()),
        _ => None,
    });
    assert_eq!(closed_err.as_deref(), Some("signed_out"));
    assert_eq!(statuses(&w, 0, public), ["SUBSCRIBED", "SUBSCRIBED"]);
    let joins = join_payloads(&w);
    assert_eq!(joins.len(), 3);
    assert!(!joins[2].contains("access_token"), "the public rejoin carries no user token: {}", joins[2]);
}

#[test]
fn v1_serializer_joins_too() {
    let mut ep = RtEndpoint::new("ws://h/realtime/v1", 1, Some("t"), "anon");
    ep.rt = authwire_core::realtime::Realtime::new(
        authwire_core::realtime::RealtimeConfig {
            vsn: authwire_wire::frame::Vsn::V1,
            ..authwire_core::realtime::RealtimeConfig::new("ws://h/realtime/v1".into())
        },
        1,
    );
    let mut w = World::new(Now::new(0, T0), vec![ep], ModelRealtime::new(AcceptAll), NoServices);
    let ch = subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(1_000);
    assert_eq!(statuses(&w, 0, ch), ["SUBSCRIBED"]);
}

#[test]
fn offline_pauses_reconnects_and_online_reconnects_at_once() {
    let mut w = world(1);
    subscribe(&mut w, 0, "room", ChannelOptions::default());
    w.run_for(1_000);
    w.input(0, Input::Online { online: false });
    w.drop_all();
    w.run_for(60_000);
    assert_eq!(w.opens.len(), 1, "no reconnect while offline");
    w.input(0, Input::Online { online: true });
    w.run_for(100);
    assert_eq!(w.opens.len(), 2);
}

/// Runs the 1,000-client storm (server gone for 3 s) and returns the reconnect delays after
/// the server's return, sorted.
fn storm(policy: Option<authwire_core::backoff::Backoff>) -> Vec<u64> {
    const N: usize = 1_000;
    let mut w = world(N);
    w.latency_ms = 5;
    if let Some(p) = policy {
        for (i, c) in w.clients.iter_mut().enumerate() {
            let cfg = authwire_core::realtime::RealtimeConfig {
                reconnect: p.clone(),
                ..authwire_core::realtime::RealtimeConfig::new("ws://h/realtime/v1".into())
            };
            c.rt = authwire_core::realtime::Realtime::new(cfg, i as u64 + 1);
        }
    }
    for i in 0..N {
        subscribe(&mut w, i, "room", ChannelOptions::default());
    }
    w.run_for(2_000);
    assert_eq!(w.opens.len(), N);
    w.server.down = true;
    w.drop_all();
    w.run_for(3_000);
    w.server.down = false;
    let back = w.now.mono.as_millis();
    w.run_for(15_000);
    let mut times: Vec<u64> = w.opens[N..].iter().map(|(t, _)| t.as_millis() - back).collect();
    assert_eq!(times.len(), N, "every client came back");
    times.sort_unstable();
    times
}

fn busiest_100ms(times: &[u64]) -> usize {
    (0..times.len()).map(|i| times[i..].iter().take_while(|u| **u < times[i] + 100).count()).max().unwrap_or(0)
}

#[test]
fn reconnect_storm_is_spread() {
    // 1,000 clients; the server vanishes for 3 s and returns (default policy).
    let times = storm(None);
    let n = times.len();
    let (median, max, worst) = (times[n / 2], times[n - 1], busiest_100ms(&times));
    eprintln!("storm: median {median} ms, max {max} ms, busiest 100 ms window {worst} of {n}");
    assert!(worst * 10 <= n, "busiest 100 ms window holds {worst}");
    assert!(median <= 1_500, "median {median}");
    assert!(max <= 5_000, "max {max}");
}

#[test]
fn fixed_reconnect_steps_herd_the_crowd() {
    // realtime-js's 1/2/5/10 s schedule without jitter: the same storm comes back in a lump.
    let times =
        storm(Some(authwire_core::backoff::Backoff::Steps(std::borrow::Cow::Borrowed(&[1_000, 2_000, 5_000, 10_000]))));
    let worst = busiest_100ms(&times);
    eprintln!("fixed steps: busiest 100 ms window {worst} of {}", times.len());
    assert!(worst * 2 > times.len(), "most clients reconnect within one 100 ms window ({worst})");
}

#[test]
fn expiry_closes_name_the_token_generation_the_server_judged() {
    // Two channels hold the same token. The server closes A for expiry; a fresh token arrives
    // and is pushed to B; then B's close (sent before the push reached the server) arrives. B's
    // signal names the generation B last held, so the client refreshes once more rather than
    // leaving B waiting for a token change that may be an hour away.
    let (mut w, exp) = expiring_world();
    let a = subscribe(&mut w, 0, "a", ChannelOptions::default());
    let b = subscribe(&mut w, 0, "b", ChannelOptions::default());
    w.run_for(1_000);
    let key = ConnKey { client: 0, conn: 1 };
    let mut sends = Vec::new();
    w.server.shutdown(key, "realtime:a", "Token has expired 0 seconds ago", &mut sends);
    w.server_sends(sends);
    w.run_for(500);
    let now = w.now;
    w.clients[0].set_token(Some(&format!("tok-{}", exp + 3_600)), TokenChange::Rotated, now);
    w.with(0, |_, _| ());
    w.run_for(500);
    assert_eq!(w.clients[0].rt.take_signals(), [authwire_core::realtime::Signal::TokenExpired { generation: 1 }]);
    let mut sends = Vec::new();
    w.server.shutdown(key, "realtime:b", "Token has expired 0 seconds ago", &mut sends);
    w.server_sends(sends);
    w.run_for(500);
    assert_eq!(statuses(&w, 0, a), ["SUBSCRIBED", "RECOVERING", "SUBSCRIBED"]);
    assert_eq!(statuses(&w, 0, b), ["SUBSCRIBED", "RECOVERING"]);
    // Generation 2 is the current one: the client must refresh (and does, in `Client::sync`).
    assert_eq!(w.clients[0].rt.take_signals(), [authwire_core::realtime::Signal::TokenExpired { generation: 2 }]);
    let now = w.now;
    w.clients[0].set_token(Some(&format!("tok-{}", exp + 7_200)), TokenChange::Rotated, now);
    w.with(0, |_, _| ());
    w.run_for(500);
    assert_eq!(statuses(&w, 0, b), ["SUBSCRIBED", "RECOVERING", "SUBSCRIBED"]);
    assert!(join_payloads(&w).last().unwrap().contains(&format!("tok-{}", exp + 7_200)));
}

/// The database broadcasts `ch` got, as (id, replayed), and its gap reasons.
fn db_and_gaps<J: TokenJudge>(
    w: &World<RtEndpoint, J, NoServices>,
    client: usize,
    ch: ChannelId,
) -> (Vec<(String, bool)>, Vec<String>) {
    let mut got = Vec::new();
    let mut gaps = Vec::new();
    for e in w.events_of(client) {
        match e {
            AppEvent::Broadcast { channel, event, payload, .. } if *channel == ch && event == "db" => {
                let meta = authwire_wire::json::field(payload, "meta").unwrap().unwrap();
                let id = authwire_wire::json::field(meta, "id").unwrap().and_then(authwire_wire::json::str_of).unwrap();
                got.push((id, meta.contains("replayed")));
            }
            AppEvent::System { channel, payload, code: Some("gap") } if *channel == ch => {
                gaps.push(
                    authwire_wire::json::field(payload, "reason")
                        .unwrap()
                        .and_then(authwire_wire::json::str_of)
                        .unwrap(),
                );
            }
            _ => {}
        }
    }
    (got, gaps)
}

#[test]
fn a_private_channel_gets_what_the_database_stored_while_it_was_away_once_a_public_one_a_gap() {
    let mut w = world(1);
    let private = subscribe(
        &mut w,
        0,
        "band",
        ChannelOptions { private: true, replay_on_rejoin: true, ..ChannelOptions::default() },
    );
    let public = subscribe(&mut w, 0, "lobby", ChannelOptions::default());
    w.run_for(1_000);
    let now = w.now.wall;
    let live = w.server.db_broadcast("realtime:band", true, "m0", now);
    w.server_sends(live);
    w.run_for(1_000);
    w.drop_all();
    // While the socket is away: 30 stored on the private topic (more than a replay brings),
    // one on the public one.
    for i in 1..=30 {
        let now = w.now.wall;
        let s = w.server.db_broadcast("realtime:band", true, &format!("m{i}"), now);
        w.server_sends(s);
    }
    let now = w.now.wall;
    let s = w.server.db_broadcast("realtime:lobby", false, "p1", now);
    w.server_sends(s);
    w.run_for(10_000);
    assert_eq!(statuses(&w, 0, private).last(), Some(&"SUBSCRIBED"));
    let (got, gaps) = db_and_gaps(&w, 0, private);
    // m0 live; the replay brings the newest 25 (m6..m30), oldest first, marked replayed.
    let expected: Vec<(String, bool)> =
        core::iter::once((String::from("m0"), false)).chain((6..=30).map(|i| (format!("m{i}"), true))).collect();
    assert_eq!(got, expected);
    assert_eq!(gaps, ["replay_limit"], "25 replayed: there may be more, and there were (m1..m5)");
    let (got, gaps) = db_and_gaps(&w, 0, public);
    assert!(got.is_empty(), "public channels are not replayed");
    assert_eq!(gaps, ["public_channel"]);
}
