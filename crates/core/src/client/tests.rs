//! The client with the shell's side work played by hand (storage, locks, a Realtime server
//! that accepts every join): `realtime.setAuth(token?)` as supabase-js apps call it, and
//! `removeAllChannels()`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, Vsn};
use authwire_wire::jwt::b64url_encode;

use super::Client;
use crate::config::ClientConfig;
use crate::io::{AppEvent, Input, Level, LockOp, Output, PushOutcome, StorageOp};
use crate::realtime::{ChannelOptions, ConnectionState};
use crate::time::Now;

const T0: u64 = 1_800_000_000_000;

fn jwt(sub: &str, n: u32) -> String {
    let claims =
        format!(r#"{{"sub":"{sub}","role":"authenticated","exp":{},"session_id":"s{n}","n":{n}}}"#, T0 / 1000 + 3_600);
    format!("{}.{}.sig", b64url_encode(br#"{"alg":"ES256","typ":"JWT"}"#), b64url_encode(claims.as_bytes()))
}

/// A client and everything it did.
struct Drive {
    c: Client,
    now: Now,
    stored: Option<String>,
    frames: Vec<Frame>,
    events: Vec<AppEvent>,
    logs: Vec<(Level, String)>,
}

impl Drive {
    fn new(stored: Option<String>) -> Drive {
        let cfg = ClientConfig::new("http://127.0.0.1:54321", "sb_publishable_key").unwrap();
        let mut d = Drive {
            c: Client::new(cfg, 7),
            now: Now::new(0, T0),
            stored,
            frames: Vec::new(),
            events: Vec::new(),
            logs: Vec::new(),
        };
        d.c.start(None, d.now);
        d.pump();
        d
    }

    /// Executes outputs until there are none; joins are accepted.
    fn pump(&mut self) {
        while let Some(o) = self.c.poll_output() {
            let reply = match o {
                Output::Storage { id, op: StorageOp::Get(_) } => {
                    Some(Input::Storage { id, result: Ok(self.stored.clone()) })
                }
                Output::Storage { id, .. } => Some(Input::Storage { id, result: Ok(None) }),
                Output::Lock { id, op: LockOp::Acquire { .. } } => Some(Input::LockGranted { id }),
                Output::Connect { conn, .. } => Some(Input::SocketOpened { conn }),
                Output::Send { conn, msg } => {
                    let f = frame::decode(&msg, Vsn::V2, Side::Client).unwrap();
                    let answer = (f.event == "phx_join").then(|| Frame {
                        join_ref: f.join_ref.clone(),
                        msg_ref: f.msg_ref.clone(),
                        topic: f.topic.clone(),
                        event: String::from("phx_reply"),
                        payload: Payload::Json(String::from(r#"{"status":"ok","response":{"postgres_changes":[]}}"#)),
                    });
                    self.frames.push(f);
                    answer
                        .map(|a| Input::SocketMessage { conn, msg: frame::encode(&a, Vsn::V2, Side::Server).unwrap() })
                }
                Output::Event(e) => {
                    self.events.push(e);
                    None
                }
                Output::Log(level, m) => {
                    self.logs.push((level, m));
                    None
                }
                Output::Entropy { len } => Some(Input::Entropy { bytes: Some(crate::rng::test_bytes(len)) }),
                _ => None,
            };
            if let Some(i) = reply {
                self.c.handle(i, self.now);
            }
        }
    }

    fn subscribe(&mut self, name: &str) -> crate::io::ChannelId {
        let id = self.c.channel(name, ChannelOptions::default()).unwrap();
        self.c.subscribe(id, None, self.now).unwrap();
        self.pump();
        id
    }

    fn set_auth(&mut self, token: Option<String>) {
        self.c.set_auth(token, self.now);
        self.pump();
    }

    /// `(event, access_token)` of every join and `access_token` push, in order.
    fn tokens(&self) -> Vec<(String, Option<String>)> {
        self.frames
            .iter()
            .filter(|f| f.event == "phx_join" || f.event == "access_token")
            .map(|f| {
                let Payload::Json(p) = &f.payload else { return (f.event.clone(), None) };
                let t =
                    authwire_wire::json::field(p, "access_token").ok().flatten().and_then(authwire_wire::json::str_of);
                (f.event.clone(), t)
            })
            .collect()
    }
}

#[test]
fn set_auth_without_a_session_supplies_the_socket_token() {
    let mut d = Drive::new(None);
    let (a1, a2, b) = (jwt("alice", 1), jwt("alice", 2), jwt("bob", 3));
    d.set_auth(Some(a1.clone()));
    d.subscribe("room");
    // G1: the join carries the token set before it went out; G3: a new one is pushed.
    d.set_auth(Some(a2.clone()));
    assert_eq!(d.tokens(), [("phx_join".to_string(), Some(a1)), ("access_token".to_string(), Some(a2))]);
    // Another user's token: every channel rejoins with it (G5 user switch).
    d.set_auth(Some(b.clone()));
    assert_eq!(d.tokens().last(), Some(&("phx_join".to_string(), Some(b))));
    // `setAuth()` goes back to the project key: an opaque key is not sent as a token.
    d.set_auth(None);
    assert_eq!(d.tokens().last(), Some(&("phx_join".to_string(), None)));
}

#[test]
fn set_auth_with_a_session_changes_nothing_and_says_so_once() {
    let token = jwt("alice", 1);
    let stored = format!(
        r#"{{"access_token":"{token}","refresh_token":"r1","expires_in":3600,"expires_at":{},"token_type":"bearer","user":{{"id":"alice"}}}}"#,
        T0 / 1000 + 3_600
    );
    let mut d = Drive::new(Some(stored));
    d.subscribe("room");
    d.set_auth(Some(jwt("mallory", 9)));
    d.set_auth(Some(jwt("mallory", 10)));
    d.set_auth(None);
    assert_eq!(d.tokens(), [("phx_join".to_string(), Some(token))]);
    let said: Vec<_> = d.logs.iter().filter(|(l, m)| *l == Level::Info && m.starts_with("setAuth()")).collect();
    assert_eq!(said.len(), 1, "{:?}", d.logs);
}

#[test]
fn remove_all_channels_leaves_each_then_disconnects() {
    let mut d = Drive::new(None);
    let a = d.subscribe("a");
    let b = d.subscribe("b");
    let idle = d.c.channel("idle", ChannelOptions::default()).unwrap();
    let tickets = d.c.remove_all_channels(d.now);
    d.pump();
    assert_eq!(tickets.len(), 3);
    for t in &tickets {
        assert!(d.events.contains(&AppEvent::PushDone { ticket: *t, outcome: PushOutcome::Ok }));
    }
    let closed: Vec<_> = d
        .events
        .iter()
        .filter_map(|e| match e {
            AppEvent::ChannelStatus { channel, status, .. } if status.as_str() == "CLOSED" => Some(*channel),
            _ => None,
        })
        .collect();
    assert_eq!(closed, [a, b], "the never-subscribed channel has no callback to tell");
    let leaves = d.frames.iter().filter(|f| f.event == "phx_leave").count();
    assert_eq!(leaves, 2);
    assert_eq!(d.c.connection_state(), ConnectionState::Closed);
    assert!(d.c.channel_ids().is_empty() && d.c.channel_info(idle).is_none());
}

#[test]
fn destroy_settles_every_waiting_ticket_destroyed_and_refuses_what_follows() {
    use crate::auth::AuthCommand;
    use crate::error::{AuthError, ChannelOpError, PushError};
    use crate::realtime::HttpChannel;
    use authwire_wire::frame::UserData;

    let mut d = Drive::new(None);
    let joined = d.subscribe("a");
    // Waiting when destroy() comes: a presence push the server has not answered, an HTTP
    // broadcast of a channel that is not joined, an httpSend(), a sign-in request.
    let track = d.c.track(joined, r#"{"u":1}"#, d.now).unwrap();
    let idle = d.c.channel("b", ChannelOptions::default()).unwrap();
    let fallback = d.c.send_broadcast(idle, "e", UserData::Json(String::from("{}")), d.now).unwrap();
    let target = HttpChannel { sub_topic: "b", private: false };
    let http_send = d.c.http_send(target, "e", "{}", None, d.now).unwrap();
    let sign_in =
        d.c.auth_command(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"pw"}"#)), d.now);
    d.pump();
    assert!(d
        .events
        .iter()
        .all(|e| !matches!(e, AppEvent::PushDone { .. } | AppEvent::Done { .. } | AppEvent::HttpSendDone { .. })));

    d.c.destroy(d.now);
    d.pump();
    let destroyed = PushOutcome::Error(PushError::Destroyed);
    for t in [track, fallback] {
        assert!(
            d.events.contains(&AppEvent::PushDone { ticket: t, outcome: destroyed.clone() }),
            "{t:?}: {:?}",
            d.events
        );
    }
    assert!(d.events.contains(&AppEvent::HttpSendDone { ticket: http_send, result: Err(ChannelOpError::Destroyed) }));
    assert!(d.events.contains(&AppEvent::Done { ticket: sign_in, result: Err(AuthError::Destroyed) }));
    assert_eq!(d.c.connection_state(), ConnectionState::Closed);
    assert_eq!(d.c.poll_timeout(), None, "no timer outlives destroy()");

    // Every later call answers `destroyed`, and nothing reaches the network.
    d.events.clear();
    let frames = d.frames.len();
    assert_eq!(d.c.channel("c", ChannelOptions::default()), Err(ChannelOpError::Destroyed));
    assert_eq!(d.c.subscribe(joined, None, d.now), Err(ChannelOpError::Destroyed));
    assert_eq!(d.c.track(joined, "{}", d.now), Err(ChannelOpError::Destroyed));
    let later = [d.c.disconnect(d.now), d.c.remove_channel(joined, d.now), d.c.unsubscribe(joined, d.now)];
    let auth = d.c.auth_command(AuthCommand::GetSession, d.now);
    d.c.connect(d.now);
    d.c.destroy(d.now);
    d.pump();
    for t in later {
        assert!(d.events.contains(&AppEvent::PushDone { ticket: t, outcome: destroyed.clone() }));
    }
    assert!(d.events.contains(&AppEvent::Done { ticket: auth, result: Err(AuthError::Destroyed) }));
    assert_eq!(d.frames.len(), frames);
    assert_eq!(d.c.fetch_token(d.now), Some(None));
    assert!(d.c.is_destroyed());
}
