//! Nothing lost silently (issue 14), on the same [`Rig`]: the send queue (a full queue refuses
//! the new push, pushes in flight settle when the channel breaks, the old user's queued pushes
//! are discarded on sign-out), gap events, and replay on rejoin with de-duplication.

use super::*;

fn outcome(r: &Rig, t: u64) -> Option<PushOutcome> {
    r.events.iter().find_map(|e| match e {
        AppEvent::PushDone { ticket, outcome } if *ticket == Ticket(t) => Some(outcome.clone()),
        _ => None,
    })
}

#[test]
fn a_full_send_queue_refuses_the_new_push_and_keeps_the_queued_ones() {
    let mut r = Rig::new(RealtimeConfig { push_buffer_limit: 2, ..cfg() });
    r.ready = false;
    let ch = r.subscribe("room");
    for t in 1..=3 {
        let data = UserData::Json(alloc::format!("{{\"n\":{t}}}"));
        r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", data, Ticket(t), now, v, &HTTP, out)).unwrap();
    }
    use crate::error::PushError;
    assert_eq!(outcome(&r, 3), Some(PushOutcome::Error(PushError::QueueFull)), "refused at once, typed");
    assert_eq!((outcome(&r, 1), outcome(&r, 2)), (None, None), "the queued ones wait");
    r.ready = true;
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    let sent: Vec<_> = r
        .sent
        .iter()
        .filter(|f| f.event == "broadcast")
        .map(|f| match &f.payload {
            Payload::Json(p) => p.clone(),
            _ => String::new(),
        })
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].contains("\"n\":1") && sent[1].contains("\"n\":2"), "in order: {sent:?}");
    assert_eq!((outcome(&r, 1), outcome(&r, 2)), (Some(PushOutcome::Ok), Some(PushOutcome::Ok)));
}

#[test]
fn pushes_in_flight_when_the_socket_drops_settle_at_once_as_channel_closed() {
    use crate::error::PushError;
    let mut r = Rig::new(cfg());
    let ch = r.subscribe("room");
    // The model server does not answer presence pushes: the track stays in flight.
    r.call(|rt, now, v, out| rt.track(ch, "{\"a\":1}", Ticket(7), now, v, out)).unwrap();
    assert_eq!(outcome(&r, 7), None);
    r.server_close(1006, "");
    assert_eq!(outcome(&r, 7), Some(PushOutcome::Error(PushError::ChannelClosed)), "not left to hang");
    // Its timer was stopped with it: nothing fires later for it.
    r.advance(20_000);
    let n = r.events.iter().filter(|e| matches!(e, AppEvent::PushDone { ticket: Ticket(7), .. })).count();
    assert_eq!(n, 1);
}

#[test]
fn the_old_users_queued_pushes_are_discarded_on_sign_out_never_sent_with_the_next_token() {
    use crate::error::PushError;
    use crate::token::TokenChange;
    let mut r = Rig::new(cfg());
    r.ready = false;
    let ch = r.subscribe("room");
    r.call(|rt, now, v, out| rt.send_broadcast(ch, "e", UserData::Json("{}".into()), Ticket(1), now, v, &HTTP, out))
        .unwrap();
    r.call(|rt, now, v, out| rt.token_changed(TokenChange::SignedOut, now, v, out));
    assert_eq!(outcome(&r, 1), Some(PushOutcome::Error(PushError::SignedOut)));
    r.ready = true;
    r.call(|rt, now, v, out| rt.resume(now, v, out));
    assert_eq!(r.sent_events(), ["phx_join"], "the public channel rejoins; the old push is not sent");
}

#[test]
fn a_rejoin_after_a_lost_socket_reports_the_gap_before_any_live_message() {
    let mut r = Rig::new(cfg());
    let ch = r.subscribe("room");
    r.advance(1_000);
    r.server_close(1006, "");
    // Reconnect (full jitter under 1 s) and rejoin.
    r.advance(5_000);
    assert_eq!(r.names(ch), ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED"]);
    r.push("realtime:room", "broadcast", r#"{"type":"broadcast","event":"e","payload":{}}"#);
    r.pump();
    let order: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::ChannelStatus { status, .. } => Some(status.as_str()),
            AppEvent::System { code: Some("gap"), .. } => Some("gap"),
            AppEvent::Broadcast { .. } => Some("broadcast"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED", "gap", "broadcast"]);
    let gap = r.rt.channel_info(ch).unwrap().last_gap.unwrap();
    // The socket last heard from the server at T0 (the join's reply): the gap starts 5 s
    // before that, however late the loss is noticed.
    assert_eq!((gap.from.as_millis(), gap.reason), (T0 - 5_000, "public_channel"));
    assert!(gap.to.as_millis() > T0 + 1_000 && gap.to.as_millis() <= T0 + 6_000, "{gap:?}");
    let payload = r
        .events
        .iter()
        .find_map(|e| match e {
            AppEvent::System { payload, code: Some("gap"), .. } => Some(payload.clone()),
            _ => None,
        })
        .unwrap();
    assert!(payload.starts_with(&alloc::format!("{{\"event\":\"gap\",\"from\":{},", T0 - 5_000)), "{payload}");
    // A first join is no gap.
    let other = r.subscribe("other");
    assert!(r.rt.channel_info(other).unwrap().last_gap.is_none());
}

fn private_opts() -> ChannelOptions {
    ChannelOptions { private: true, replay_on_rejoin: true, ..ChannelOptions::default() }
}

/// The `config.broadcast.replay` of each join sent on `topic`.
fn replays(r: &Rig, topic: &str) -> Vec<Option<String>> {
    r.sent
        .iter()
        .filter(|f| f.event == "phx_join" && f.topic == topic)
        .map(|f| match &f.payload {
            Payload::Json(p) => authwire_wire::json::field(p, "config")
                .ok()
                .flatten()
                .and_then(|c| authwire_wire::json::field(c, "broadcast").ok().flatten())
                .and_then(|b| authwire_wire::json::field(b, "replay").ok().flatten())
                .map(String::from),
            _ => None,
        })
        .collect()
}

fn replayed(id: &str, n: u32) -> String {
    alloc::format!(r#"{{"type":"broadcast","event":"e","payload":{{"n":{n}}},"meta":{{"replayed":true,"id":"{id}"}}}}"#)
}

#[test]
fn a_private_channel_rejoining_after_a_loss_replays_what_it_missed_once_and_reports_no_gap() {
    let mut r = Rig::new(cfg());
    let ch = r.rt.channel("band", private_opts()).unwrap();
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    // Live before the loss, with an id (a database broadcast).
    r.push("realtime:band", "broadcast", r#"{"type":"broadcast","event":"e","payload":{"n":0},"meta":{"id":"m0"}}"#);
    r.advance(10_000);
    r.server_close(1006, "");
    r.advance(5_000);
    let asked = replays(&r, "realtime:band");
    assert_eq!(asked[0], None, "a first join asks for nothing");
    // From 5 s before the last frame heard (m0, at T0), not before the loss was noticed.
    assert_eq!(asked[1].as_deref(), Some(alloc::format!(r#"{{"since":{}}}"#, T0 - 5_000).as_str()));
    // The server replays m0 (seen live already) and m1; then m1's live copy and a new one.
    r.push("realtime:band", "broadcast", &replayed("m0", 0));
    r.push("realtime:band", "broadcast", &replayed("m1", 1));
    r.push("realtime:band", "broadcast", r#"{"type":"broadcast","event":"e","payload":{"n":1},"meta":{"id":"m1"}}"#);
    r.push("realtime:band", "broadcast", r#"{"type":"broadcast","event":"e","payload":{"n":2}}"#);
    r.pump();
    let got: Vec<String> = r
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Broadcast { payload, .. } => {
                authwire_wire::json::field(payload, "payload").ok().flatten().map(String::from)
            }
            AppEvent::System { code: Some("gap"), .. } => Some(String::from("gap")),
            _ => None,
        })
        .collect();
    assert_eq!(got, [r#"{"n":0}"#, r#"{"n":1}"#, r#"{"n":2}"#], "each once, in order, no gap");
}

#[test]
fn a_replay_that_reaches_the_servers_limit_is_a_gap_and_opting_out_asks_for_none() {
    let mut r = Rig::new(cfg());
    let ch = r.rt.channel("band", private_opts()).unwrap();
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    r.server_close(1006, "");
    r.advance(5_000);
    for n in 0..25 {
        r.push("realtime:band", "broadcast", &replayed(&alloc::format!("m{n}"), n));
    }
    r.push("realtime:band", "broadcast", r#"{"type":"broadcast","event":"e","payload":{"live":true}}"#);
    r.pump();
    let kinds: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::Broadcast { .. } => Some("b"),
            AppEvent::System { code: Some("gap"), .. } => Some("gap"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 27);
    assert_eq!(&kinds[24..], ["b", "gap", "b"], "the gap after the 25th replayed, before the live one");
    assert_eq!(r.rt.channel_info(ch).unwrap().last_gap.unwrap().reason, "replay_limit");
    // Opted out: no replay asked, and the rejoin is a `not_replayed` gap.
    let mut r = Rig::new(cfg());
    let ch = r.rt.channel("band", ChannelOptions { replay_on_rejoin: false, ..private_opts() }).unwrap();
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    r.server_close(1006, "");
    r.advance(5_000);
    assert_eq!(replays(&r, "realtime:band"), [None, None]);
    assert_eq!(r.rt.channel_info(ch).unwrap().last_gap.unwrap().reason, "not_replayed");
}

#[test]
fn a_private_channel_that_carries_unstored_broadcasts_still_replays_but_reports_a_not_stored_gap() {
    let mut r = Rig::new(cfg());
    let ch = r.rt.channel("band", private_opts()).unwrap();
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    // A client's socket broadcast: no `meta.id`, so the server never stored it.
    r.push("realtime:band", "broadcast", r#"{"type":"broadcast","event":"chat","payload":{"n":0}}"#);
    r.advance(10_000);
    r.server_close(1006, "");
    r.advance(5_000);
    assert!(replays(&r, "realtime:band")[1].is_some(), "the stored ones are still asked for");
    r.push("realtime:band", "broadcast", &replayed("m1", 1));
    r.pump();
    let kinds: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::ChannelStatus { status: crate::io::SubscribeStatus::Subscribed, .. } => Some("SUBSCRIBED"),
            AppEvent::Broadcast { .. } => Some("b"),
            AppEvent::System { code: Some("gap"), .. } => Some("gap"),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["SUBSCRIBED", "b", "SUBSCRIBED", "gap", "b"], "the gap right after the rejoin, then the replay");
    let gap = r.rt.channel_info(ch).unwrap().last_gap.unwrap();
    assert_eq!(
        (gap.reason, gap.from.as_millis(), gap.to.as_millis() >= gap.from.as_millis()),
        ("not_stored", T0 - 5_000, true)
    );
}

#[test]
fn a_postgres_changes_gap_ends_when_the_server_has_subscribed_the_feed_again() {
    let mut r = Rig::new(cfg());
    let ch = r.channel("db");
    r.rt.register_postgres_binding(ch, spec("INSERT", Some("public"), Some("songs"), None)).unwrap();
    r.call(|rt, now, v, out| rt.subscribe(ch, None, now, v, out)).unwrap();
    r.advance(1_000);
    r.server_close(1006, "");
    r.advance(5_000);
    assert_eq!(r.names(ch), ["SUBSCRIBED", "CHANNEL_ERROR", "SUBSCRIBED"]);
    let gaps = |r: &Rig| r.events.iter().filter(|e| matches!(e, AppEvent::System { code: Some("gap"), .. })).count();
    assert_eq!(gaps(&r), 0, "changes committed before the feed is back are missed too: held");
    r.advance(700);
    let back = r.now.wall.as_millis();
    r.push(
        "realtime:db",
        "system",
        r#"{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"db"}"#,
    );
    r.pump();
    assert_eq!(gaps(&r), 1);
    let order: Vec<&str> = r
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::System { code: Some("gap"), .. } => Some("gap"),
            AppEvent::System { .. } => Some("system"),
            _ => None,
        })
        .collect();
    assert_eq!(order, ["gap", "system"], "the gap before the feed's own message");
    let gap = r.rt.channel_info(ch).unwrap().last_gap.unwrap();
    assert_eq!((gap.from.as_millis(), gap.to.as_millis(), gap.reason), (T0 - 5_000, back, "postgres_changes"));
}
