//! The Realtime server over real WebSockets against one devserver (gateway mode, the default):
//! handshake, serializers, heartbeat, channel lifecycle, broadcast, presence.

mod common;
mod rtclient;

use authwire_wire::frame::{Payload, UserData, Vsn};
use common::{Ctx, Fixture};
use rtclient::{connect, connect_raw, join_payload, payload, Minter};
use serde_json::{json, Value};
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

/// The server these tests share (gateway mode, the real limits).
static RT: Fixture = Fixture::new("authwire-dev-rt", |_| {}, None);
/// A server of its own for the test that trips the tenant-wide events/second limit (which
/// then holds for 5 s, for every channel of the server).
static FLOOD: Fixture = Fixture::new("authwire-dev-rt-flood", |_| {}, None);
/// `--limits off` lifts the limits.
static NO_LIMITS: Fixture = Fixture::new("authwire-dev-rt-nolimits", |c| c.limits = false, None);

fn addr(c: &Ctx) -> std::net::SocketAddr {
    c.server.addr()
}

#[tokio::test]
async fn handshake_gateway_mode() {
    let c = RT.shared().await;
    let a = addr(&c);
    // Invalid vsn: Phoenix's 403 with an empty body.
    let r = connect_raw(a, &format!("/realtime/v1/websocket?apikey={}&vsn=3.0.0", c.anon), &[], Vsn::V1)
        .await
        .err()
        .unwrap();
    assert_eq!((r.status, r.body.as_str()), (403, ""));
    // Gateway: no key, unknown opaque key.
    let r = connect_raw(a, "/realtime/v1/websocket?vsn=2.0.0", &[], Vsn::V2).await.err().unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "No API key found in request");
    let r = connect(a, "sb_publishable_nope", Vsn::V2).await.err().unwrap();
    assert_eq!((r.status, r.json()["message"].as_str()), (401, Some("Invalid API key")));
    // Publishable and secret keys are mapped to their JWT.
    let mut ws = connect(a, &c.publishable, Vsn::V2).await.unwrap();
    ws.heartbeat().await;
    ws.close().await;
    let mut ws = connect(a, &c.secret, Vsn::V2).await.unwrap();
    ws.heartbeat().await;
    ws.close().await;
    // JWTs go through Realtime's own checks.
    let m = Minter::new(&c.jwt_secret);
    for (token, body) in [
        ("potato".to_owned(), "The token provided is not a valid JWT"),
        (m.anon(-10), "Token has expired"),
        (m.sign(json!({ "exp": rtclient::now() + 60 })), "Fields `role` and `exp` are required in JWT"),
        (m.sign(json!({ "role": "anon" })), "Fields `role` and `exp` are required in JWT"),
        (Minter::new("another-secret-another-secret-another-secret").anon(60), "Failed to validate JWT signature"),
    ] {
        let r = connect(a, &token, Vsn::V2).await.err().unwrap();
        assert_eq!((r.status, r.json()), (401, json!({ "error": body })));
        assert!(r.body.starts_with("{\"error\""), "{}", r.body);
    }
    // x-api-key wins over the query parameter; /socket/websocket is the bare Realtime path.
    let mut ws =
        connect_raw(a, "/socket/websocket?apikey=potato&vsn=2.0.0", &[("x-api-key", &c.anon)], Vsn::V2).await.unwrap();
    ws.heartbeat().await;
    ws.close().await;
    // A foreign Origin is refused.
    let r = connect_raw(
        a,
        &format!("/realtime/v1/websocket?apikey={}", c.anon),
        &[("origin", "https://evil.example")],
        Vsn::V1,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(r.status, 403);
    let ok = connect_raw(
        a,
        &format!("/realtime/v1/websocket?apikey={}", c.anon),
        &[("origin", "http://localhost:5173")],
        Vsn::V1,
    )
    .await;
    assert!(ok.is_ok());
}

#[tokio::test]
async fn heartbeat_v1_and_v2() {
    let c = RT.shared().await;
    // No vsn means 1.0.0.
    let mut v1 =
        connect_raw(addr(&c), &format!("/realtime/v1/websocket?apikey={}", c.anon), &[], Vsn::V1).await.unwrap();
    v1.send_text(r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"7"}"#).await;
    let f = v1.expect("reply", T, |f| f.event == "phx_reply").await;
    assert_eq!(f.msg_ref.as_deref(), Some("7"));
    assert_eq!(payload(&f), json!({ "status": "ok", "response": {} }));
    let mut v2 = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    v2.send_text(r#"[null,"12","phoenix","heartbeat",{}]"#).await;
    let f = v2.expect("reply", T, |f| f.event == "phx_reply").await;
    assert_eq!((f.join_ref.as_deref(), f.msg_ref.as_deref(), f.topic.as_str()), (None, Some("12"), "phoenix"));
    assert_eq!(payload(&f), json!({ "status": "ok", "response": {} }));
}

#[tokio::test]
async fn join_reply_leave_and_close() {
    let c = RT.shared().await;
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut ws = connect(addr(&c), &c.anon, vsn).await.unwrap();
        let (jr, status, resp) = ws.join("realtime:room-a", join_payload(json!({}), None)).await;
        assert_eq!(status, "ok");
        assert_eq!(resp, json!({ "postgres_changes": [] }));
        // Leave: ok reply, then phx_close with ref = join_ref.
        let r = ws.push(Some(&jr), "realtime:room-a", "phx_leave", json!({})).await;
        let (status, resp, _) = ws.reply(&r).await;
        assert_eq!((status.as_str(), resp), ("ok", json!({})));
        let close = ws.event("realtime:room-a", "phx_close").await;
        assert_eq!(payload(&close), json!({}));
        if vsn == Vsn::V2 {
            assert_eq!((close.join_ref.as_deref(), close.msg_ref.as_deref()), (Some(jr.as_str()), Some(jr.as_str())));
        }
        // Leaving a topic that is not joined is ok too.
        let r = ws.push(None, "realtime:never", "phx_leave", json!({})).await;
        assert_eq!(ws.reply(&r).await.0, "ok");
        // `sb_` access tokens are ignored: the connect token is used.
        ws.join_ok("realtime:room-b", join_payload(json!({}), Some("sb_publishable_whatever"))).await;
        // A user token for another valid JWT works too (public channel).
        let m = Minter::new(&c.jwt_secret);
        ws.join_ok("realtime:room-c", join_payload(json!({}), Some(&m.anon(60)))).await;
    }
}

#[tokio::test]
async fn unmatched_and_malformed_frames() {
    let c = RT.shared().await;
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut ws = connect(addr(&c), &c.anon, vsn).await.unwrap();
        // Malformed frames are dropped; the socket stays.
        for bad in ["not json", "[1,2]", r#"{"topic":"x"}"#, "[null,null,\"t\",\"e\"]", "{}"] {
            ws.send_text(bad).await;
        }
        ws.send_binary(vec![9, 9, 9]).await;
        ws.heartbeat().await;
        // Unjoined topic.
        let r = ws
            .push(
                Some("5"),
                "realtime:nobody",
                "broadcast",
                json!({ "type": "broadcast", "event": "e", "payload": {} }),
            )
            .await;
        let (status, resp, f) = ws.reply(&r).await;
        assert_eq!((status.as_str(), resp), ("error", json!({ "reason": "unmatched topic" })));
        assert_eq!(f.topic, "realtime:nobody");
        // A topic outside realtime:* cannot be joined.
        let (_, status, resp) = ws.join("lobby", join_payload(json!({}), None)).await;
        assert_eq!((status.as_str(), resp), ("error", json!({ "reason": "unmatched topic" })));
        // `realtime:` alone.
        let (_, status, resp) = ws.join("realtime:", join_payload(json!({}), None)).await;
        assert_eq!(
            (status.as_str(), resp),
            ("error", json!({ "reason": "TopicNameRequired: You must provide a topic name" }))
        );
        // join_ref leniency: a stale join_ref is still handled.
        ws.join_ok("realtime:lenient", join_payload(json!({ "broadcast": { "ack": true, "self": true } }), None)).await;
        let r = ws
            .push(
                Some("999"),
                "realtime:lenient",
                "broadcast",
                json!({ "type": "broadcast", "event": "e", "payload": {} }),
            )
            .await;
        assert_eq!(ws.reply(&r).await.0, "ok");
        let r = ws
            .push(None, "realtime:lenient", "broadcast", json!({ "type": "broadcast", "event": "e", "payload": {} }))
            .await;
        assert_eq!(ws.reply(&r).await.0, "ok");
    }
}

#[tokio::test]
async fn duplicate_join_closes_the_old_one() {
    let c = RT.shared().await;
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let jr1 = ws.join_ok("realtime:dup", join_payload(json!({}), None)).await;
    let (jr2, status, _) = ws.join("realtime:dup", join_payload(json!({}), None)).await;
    assert_eq!(status, "ok");
    let close = ws.event("realtime:dup", "phx_close").await;
    assert_eq!(close.join_ref.as_deref(), Some(jr1.as_str()));
    assert_ne!(jr1, jr2);
    // A refused re-join still closes the old instance (expired token).
    let m = Minter::new(&c.jwt_secret);
    let (_, status, resp) = ws.join("realtime:dup", join_payload(json!({}), Some(&m.anon(-5)))).await;
    assert_eq!(status, "error");
    assert!(resp["reason"].as_str().unwrap().starts_with("InvalidJWTToken: Token has expired "), "{resp}");
    let close = ws.event("realtime:dup", "phx_close").await;
    assert_eq!(close.join_ref.as_deref(), Some(jr2.as_str()));
}

fn bcast(event: &str, p: Value) -> Value {
    json!({ "type": "broadcast", "event": event, "payload": p })
}

#[tokio::test]
async fn broadcast_self_and_ack() {
    let c = RT.shared().await;
    let topic = "realtime:bc-json";
    let mut a = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut b = connect(addr(&c), &c.anon, Vsn::V1).await.unwrap();
    let mut s = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let ja = a.join_ok(topic, join_payload(json!({ "broadcast": { "ack": true, "self": false } }), None)).await;
    b.join_ok(topic, join_payload(json!({}), None)).await;
    let js = s.join_ok(topic, join_payload(json!({ "broadcast": { "self": "TRUE" } }), None)).await;
    // Extra keys travel verbatim.
    let body = json!({ "type": "broadcast", "event": "cursor", "payload": { "x": 1 }, "extra": [1, 2] });
    let r = a.push(Some(&ja), topic, "broadcast", body.clone()).await;
    let (status, resp, _) = a.reply(&r).await;
    assert_eq!((status.as_str(), resp), ("ok", json!({})));
    let got = b.event(topic, "broadcast").await;
    assert_eq!(payload(&got), body);
    assert_eq!(got.msg_ref, None);
    let got = s.event(topic, "broadcast").await;
    assert_eq!((got.join_ref.as_deref(), payload(&got)), (None, body));
    // self: true receives its own; no ack means no reply.
    s.push(Some(&js), topic, "broadcast", bcast("mine", json!({ "n": 2 }))).await;
    let own = s.event(topic, "broadcast").await;
    assert_eq!(payload(&own)["event"], "mine");
    // `a` got nothing of its own (self: false): s's later broadcast, queued for `a` after any
    // copy of a's own, is the next frame `a` sees.
    assert_eq!(payload(&a.next_event(topic, "broadcast").await)["payload"], json!({ "n": 2 }));
    // And `s` got no reply to its un-acked broadcast.
    s.heartbeat_barrier().await;
}

#[tokio::test]
async fn broadcast_binary_kinds() {
    let c = RT.shared().await;
    let topic = "realtime:bc-bin";
    let mut sender = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut v2 = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut v1 = connect(addr(&c), &c.anon, Vsn::V1).await.unwrap();
    let js = sender.join_ok(topic, join_payload(json!({ "broadcast": { "ack": true } }), None)).await;
    v2.join_ok(topic, join_payload(json!({}), None)).await;
    v1.join_ok(topic, join_payload(json!({}), None)).await;
    // Kind 3 with JSON: kind 4 to V2, a JSON broadcast to V1.
    let r = sender.push_user_broadcast(&js, topic, "cursor", UserData::Json(r#"{"x":1}"#.into())).await;
    assert_eq!(sender.reply(&r).await.0, "ok");
    let f = v2.event(topic, "broadcast").await;
    let Payload::UserBroadcast(ub) = &f.payload else { panic!("kind 4 expected: {f:?}") };
    assert_eq!((ub.event.as_str(), &ub.data), ("cursor", &UserData::Json(r#"{"x":1}"#.into())));
    let f = v1.event(topic, "broadcast").await;
    assert_eq!(payload(&f), json!({ "event": "cursor", "payload": { "x": 1 }, "type": "broadcast" }));
    // Binary payloads reach V2 only.
    let r = sender.push_user_broadcast(&js, topic, "blob", UserData::Binary(vec![0, 1, 2, 255])).await;
    assert_eq!(sender.reply(&r).await.0, "ok");
    let f = v2.event(topic, "broadcast").await;
    let Payload::UserBroadcast(ub) = &f.payload else { panic!("kind 4 expected") };
    assert_eq!(ub.data, UserData::Binary(vec![0, 1, 2, 255]));
    // Not to V1: a later JSON broadcast on the same fan-out path is the next thing v1 sees.
    let r = sender.push_user_broadcast(&js, topic, "after", UserData::Json("{}".into())).await;
    assert_eq!(sender.reply(&r).await.0, "ok");
    assert_eq!(payload(&v1.next_event(topic, "broadcast").await)["event"], "after");
}

#[tokio::test]
async fn broadcast_payload_too_large() {
    let c = RT.shared().await;
    let topic = "realtime:bc-big";
    let mut a = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut b = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let ja = a.join_ok(topic, join_payload(json!({ "broadcast": { "ack": true } }), None)).await;
    b.join_ok(topic, join_payload(json!({}), None)).await;
    let big = "x".repeat(3_000_600);
    let r = a.push(Some(&ja), topic, "broadcast", bcast("big", json!({ "s": big }))).await;
    let (status, resp, _) = a.reply(&r).await;
    assert_eq!((status.as_str(), resp), ("error", json!("payload_size_exceeded")));
    // Not delivered: a later small broadcast on the same fan-out path is the next thing b sees.
    let r = a.push(Some(&ja), topic, "broadcast", bcast("small", json!({}))).await;
    assert_eq!(a.reply(&r).await.0, "ok");
    assert_eq!(payload(&b.next_event(topic, "broadcast").await)["event"], "small");
}

#[tokio::test]
async fn presence_state_diff_update() {
    let c = RT.shared().await;
    let topic = "realtime:pres";
    let mut a = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut b = connect(addr(&c), &c.anon, Vsn::V1).await.unwrap();
    let ja = a.join_ok(topic, join_payload(json!({ "presence": { "key": "alice", "enabled": true } }), None)).await;
    let st = a.event(topic, "presence_state").await;
    assert_eq!((st.join_ref.as_deref(), payload(&st)), (Some(ja.as_str()), json!({})));
    let r = a
        .push(
            Some(&ja),
            topic,
            "presence",
            json!({ "type": "presence", "event": "TRACK", "payload": { "user": "alice" } }),
        )
        .await;
    let (status, resp, _) = a.reply(&r).await;
    assert_eq!((status.as_str(), resp), ("ok", json!({})));
    let d = a.event(topic, "presence_diff").await;
    let d = payload(&d);
    let ref1 = d["joins"]["alice"]["metas"][0]["phx_ref"].as_str().unwrap().to_owned();
    assert_eq!(d["joins"]["alice"]["metas"][0]["user"], "alice");
    // B joins later with a generated key and sees A in its state.
    let jb = b.join_ok(topic, join_payload(json!({ "presence": { "enabled": true } }), None)).await;
    let st = payload(&b.event(topic, "presence_state").await);
    assert_eq!(st["alice"]["metas"][0]["phx_ref"], ref1.as_str());
    // B tracks: A sees the join under a UUID key.
    let r = b
        .push(
            Some(&jb),
            topic,
            "presence",
            json!({ "type": "presence", "event": "track", "payload": { "user": "bob" } }),
        )
        .await;
    assert_eq!(b.reply(&r).await.0, "ok");
    let d = payload(&a.event(topic, "presence_diff").await);
    let bob_key = d["joins"].as_object().unwrap().keys().next().unwrap().clone();
    assert_eq!(bob_key.len(), 36, "a UUID key: {bob_key}");
    // Same payload again: ok, no diff. New payload: update with phx_ref_prev and a leave.
    let r = a
        .push(
            Some(&ja),
            topic,
            "presence",
            json!({ "type": "presence", "event": "track", "payload": { "user": "alice" } }),
        )
        .await;
    assert_eq!(a.reply(&r).await.0, "ok");
    let r = a
        .push(
            Some(&ja),
            topic,
            "presence",
            json!({ "type": "presence", "event": "track", "payload": { "user": "alice", "s": 2 } }),
        )
        .await;
    assert_eq!(a.reply(&r).await.0, "ok");
    // B saw its own join first, then A's update.
    let own = payload(&b.event(topic, "presence_diff").await);
    assert!(own["joins"][&bob_key].is_object(), "{own}");
    let d = payload(&b.event(topic, "presence_diff").await);
    assert_eq!(d["joins"]["alice"]["metas"][0]["phx_ref_prev"], ref1.as_str());
    assert_eq!(d["joins"]["alice"]["metas"][0]["s"], 2);
    assert_eq!(d["leaves"]["alice"]["metas"][0]["phx_ref"], ref1.as_str());
    // Untrack and leaving send leaves.
    let r = a.push(Some(&ja), topic, "presence", json!({ "type": "presence", "event": "untrack" })).await;
    assert_eq!(a.reply(&r).await.0, "ok");
    let d = payload(&b.event(topic, "presence_diff").await);
    assert_eq!(d["leaves"]["alice"]["metas"][0]["s"], 2);
    let r = b.push(Some(&jb), topic, "phx_leave", json!({})).await;
    assert_eq!(b.reply(&r).await.0, "ok");
    let mut seen_bob_leave = false;
    for _ in 0..4 {
        let d = payload(&a.event(topic, "presence_diff").await);
        if d["leaves"][&bob_key].is_object() {
            seen_bob_leave = true;
            break;
        }
    }
    assert!(seen_bob_leave);
}

#[tokio::test]
async fn presence_errors_and_rate_limit() {
    let c = RT.shared().await;
    let topic = "realtime:pres-err";
    let mut a = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let ja = a.join_ok(topic, join_payload(json!({}), None)).await;
    let r = a.push(Some(&ja), topic, "presence", json!({ "type": "presence", "event": "track", "payload": [1] })).await;
    let (status, resp, _) = a.reply(&r).await;
    assert_eq!((status.as_str(), resp), ("error", json!({ "reason": "Presence track payload must be a map" })));
    let r = a.push(Some(&ja), topic, "presence", json!({ "type": "presence", "event": "dance" })).await;
    assert_eq!(a.reply(&r).await.1, json!({}));
    let r = a.push(Some(&ja), topic, "presence", json!({ "type": "presence" })).await;
    assert_eq!(a.reply(&r).await.0, "ok");
    // Those were 2 counted calls (no event is not counted); 3 more are allowed, the 6th closes.
    for i in 0..3 {
        let r = a
            .push(Some(&ja), topic, "presence", json!({ "type": "presence", "event": "track", "payload": { "i": i } }))
            .await;
        assert_eq!(a.reply(&r).await.0, "ok");
    }
    a.push(Some(&ja), topic, "presence", json!({ "type": "presence", "event": "track", "payload": { "i": 9 } })).await;
    let sys = a.event(topic, "system").await;
    assert_eq!(
        payload(&sys),
        json!({ "extension": "system", "status": "error", "message": "Client presence rate limit exceeded", "channel": "pres-err" })
    );
    assert_eq!(sys.join_ref.as_deref(), Some(ja.as_str()));
    a.event(topic, "phx_close").await;
    // The socket stays open.
    a.heartbeat().await;
}

#[tokio::test]
async fn oversized_frame_closes_the_socket() {
    let c = RT.shared().await;
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let big = format!(r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#, "y".repeat(5_000_100));
    // The server closes with 1009 as soon as it reads the header; the client may see the
    // close frame or, if it was still writing, a reset.
    let sent = ws.try_send_text(&big).await;
    let code = ws.closed_within(T).await;
    assert!(code == Some(1009) || (!sent && code.is_none()), "sent {sent}, close {code:?}");
}

#[tokio::test]
async fn stats_count_sockets() {
    let c = RT.shared().await;
    // The refused handshakes counted below are this test's own.
    let r = connect_raw(addr(&c), &format!("/realtime/v1/websocket?apikey={}&vsn=3.0.0", c.anon), &[], Vsn::V1).await;
    assert_eq!(r.err().map(|r| r.status), Some(403));
    assert_eq!(connect(addr(&c), "potato", Vsn::V2).await.err().map(|r| r.status), Some(401));
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    ws.join_ok("realtime:stats", join_payload(json!({}), None)).await;
    let s = c.service("GET", "/_dev/stats").send().await;
    assert_eq!(s.status, 200, "{}", s.text);
    let rt = &s.json()["realtime"];
    assert!(rt["connections"].as_u64().unwrap() >= 1, "{rt}");
    assert!(rt["channels"].as_u64().unwrap() >= 1, "{rt}");
    assert!(rt["framesIn"].as_u64().unwrap() > 0);
    assert!(rt["rejectedHandshakes"]["invalid_vsn"].as_u64().unwrap() >= 1, "{rt}");
    assert!(rt["rejectedHandshakes"]["malformed_jwt"].as_u64().unwrap() >= 1, "{rt}");
}

#[tokio::test]
async fn no_channel_limit() {
    let c = NO_LIMITS.shared().await;
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    for i in 0..101 {
        ws.join_ok(&format!("realtime:free-{i}"), join_payload(json!({}), None)).await;
    }
    let s = c.service("GET", "/_dev/stats").send().await.json();
    assert_eq!(s["realtime"]["settings"]["limits"]["maxChannelsPerClient"], Value::Null);
}

#[tokio::test]
async fn channels_per_client_limit() {
    let c = RT.shared().await;
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    for i in 0..100 {
        ws.join_ok(&format!("realtime:many-{i}"), join_payload(json!({}), None)).await;
    }
    let (_, status, resp) = ws.join("realtime:many-100", join_payload(json!({}), None)).await;
    assert_eq!((status.as_str(), resp), ("error", json!({ "reason": "ChannelRateLimitReached: Too many channels" })));
    // Re-joining a joined topic is not a new channel.
    ws.join_ok("realtime:many-5", join_payload(json!({}), None)).await;
}

#[tokio::test]
async fn events_per_second_limit() {
    let c = FLOOD.shared().await;
    let topic = "realtime:flood";
    let mut ws = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let jr = ws.join_ok(topic, join_payload(json!({}), None)).await;
    // 100 per second averaged over 5 s: the 501st message in the window shuts the channel.
    for i in 0..600 {
        ws.push(Some(&jr), topic, "broadcast", bcast("f", json!({ "i": i }))).await;
    }
    let sys = ws.event(topic, "system").await;
    assert_eq!(payload(&sys)["message"], "Too many messages per second");
    ws.event(topic, "phx_close").await;
    // HTTP broadcast answers 429 meanwhile.
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast")
        .json(json!({ "messages": [{ "topic": "flood", "event": "e", "payload": {} }] }))
        .send()
        .await;
    assert_eq!((r.status, r.json()), (429, json!({ "message": "You have exceeded your rate limit" })));
}

#[tokio::test]
async fn http_broadcast_batch() {
    let c = RT.shared().await;
    let mut ws = connect(addr(&c), &c.anon, Vsn::V1).await.unwrap();
    ws.join_ok("realtime:http-b", join_payload(json!({}), None)).await;
    let body = json!({ "messages": [
        { "topic": "http-b", "event": "one", "payload": { "n": 1 } },
        { "topic": "http-b", "event": "two", "payload": { "n": 2 }, "id": "0b9c54f2-7f4b-4c55-9b45-6c7a0d0e7d11" },
        { "topic": "http-b", "event": "priv", "payload": {}, "private": true },
    ]});
    // supabase-js sends the key as apikey and the token (here the publishable key) as Bearer.
    let r = c
        .req("POST", "/realtime/v1/api/broadcast")
        .header("apikey", &c.publishable)
        .bearer(&c.publishable)
        .json(body.clone())
        .send()
        .await;
    assert_eq!((r.status, r.text.as_str()), (202, ""));
    let one = payload(&ws.event("realtime:http-b", "broadcast").await);
    assert_eq!(one, json!({ "type": "broadcast", "event": "one", "payload": { "n": 1 } }));
    let two = payload(&ws.event("realtime:http-b", "broadcast").await);
    assert_eq!(two["meta"], json!({ "id": "0b9c54f2-7f4b-4c55-9b45-6c7a0d0e7d11" }));
    // The private one went to the private topic (anon cannot write there anyway): a later
    // public message, fanned out after it, is the next thing the public channel sees.
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast")
        .json(json!({ "messages": [{ "topic": "http-b", "event": "after", "payload": {} }] }))
        .send()
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(payload(&ws.next_event("realtime:http-b", "broadcast").await)["event"], "after");
    // Errors.
    let r = c.req("POST", "/realtime/v1/api/broadcast").json(body.clone()).send().await;
    assert_eq!((r.status, r.json()), (401, json!({ "message": "Unauthorized" })));
    let r = c.req("POST", "/realtime/v1/api/broadcast").bearer("potato").json(body).send().await;
    assert_eq!(r.status, 401);
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast")
        .json(json!({ "messages": [{ "topic": "t", "event": "e" }, { "topic": "t", "event": "e", "payload": {} }] }))
        .send()
        .await;
    assert_eq!(
        (r.status, r.json()),
        (422, json!({ "errors": { "messages": [{ "payload": ["can't be blank"] }, {}] } }))
    );
    let r = c.anon("POST", "/realtime/v1/api/broadcast").json(json!({})).send().await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn http_broadcast_single() {
    let c = RT.shared().await;
    let mut v2 = connect(addr(&c), &c.anon, Vsn::V2).await.unwrap();
    let mut v1 = connect(addr(&c), &c.anon, Vsn::V1).await.unwrap();
    v2.join_ok("realtime:http-s", join_payload(json!({}), None)).await;
    v1.join_ok("realtime:http-s", join_payload(json!({}), None)).await;
    let r = c.anon("POST", "/realtime/v1/api/broadcast/http-s/events/ping").json(json!({ "a": 1 })).send().await;
    assert_eq!(r.status, 202, "{}", r.text);
    for ws in [&mut v2, &mut v1] {
        let p = payload(&ws.event("realtime:http-s", "broadcast").await);
        assert_eq!(p, json!({ "type": "broadcast", "event": "ping", "payload": { "a": 1 } }));
    }
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast/http-s/events/blob")
        .header("Content-Type", "application/octet-stream")
        .raw_body("\u{1}\u{2}")
        .send()
        .await;
    assert_eq!(r.status, 202);
    let f = v2.event("realtime:http-s", "broadcast").await;
    let Payload::UserBroadcast(ub) = &f.payload else { panic!("kind 4 expected") };
    assert_eq!((ub.event.as_str(), &ub.data), ("blob", &UserData::Binary(vec![1, 2])));
    // Not to V1: a later JSON broadcast on the same fan-out path is the next thing v1 sees.
    let r = c.anon("POST", "/realtime/v1/api/broadcast/http-s/events/after").json(json!({})).send().await;
    assert_eq!(r.status, 202);
    assert_eq!(payload(&v1.next_event("realtime:http-s", "broadcast").await)["event"], "after");
    let r = c
        .anon("POST", "/realtime/v1/api/broadcast/http-s/events/x")
        .header("Content-Type", "text/plain")
        .raw_body("hi")
        .send()
        .await;
    assert_eq!(
        (r.status, r.json()),
        (415, json!({ "error": "Unsupported Media Type. Use application/json or application/octet-stream" }))
    );
}
