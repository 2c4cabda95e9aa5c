//! The client with the shell's side work played by hand (storage, locks, a Realtime server
//! that accepts every join): `realtime.setAuth(token?)` as supabase-js apps call it, and
//! `removeAllChannels()`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use authwire_wire::frame::{self, Frame, Payload, Side, Vsn};
use authwire_wire::jwt::b64url_encode;

use super::Client;
use crate::config::{ApikeyMode, ClientConfig};
use crate::io::SubscribeStatus;
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
    /// The reply payload to every `phx_join`.
    join_reply: String,
    /// Sockets close (1006) before they open, as a refused handshake looks to a browser.
    refuse_handshake: bool,
    /// What `accessToken()` answers (third-party mode), and how often it was asked.
    access_token: Option<String>,
    asks: Vec<Now>,
    /// HTTP requests, left unanswered.
    http: Vec<(crate::io::RequestId, crate::io::HttpRequest)>,
    /// Every connection asked for.
    conns: Vec<crate::io::ConnId>,
}

impl Drive {
    fn new(stored: Option<String>) -> Drive {
        Drive::with(stored, None, ApikeyMode::Project)
    }

    /// `access_token`: the client has an `accessToken` option that answers this.
    fn with(stored: Option<String>, access_token: Option<Option<String>>, mode: ApikeyMode) -> Drive {
        let mut cfg = ClientConfig::new("http://127.0.0.1:54321", "sb_publishable_key").unwrap();
        cfg.third_party = access_token.is_some();
        cfg.apikey_mode = mode;
        let mut d = Drive {
            c: Client::new(cfg, 7),
            now: Now::new(0, T0),
            stored,
            frames: Vec::new(),
            events: Vec::new(),
            logs: Vec::new(),
            join_reply: String::from(r#"{"status":"ok","response":{"postgres_changes":[]}}"#),
            refuse_handshake: false,
            access_token: access_token.flatten(),
            asks: Vec::new(),
            http: Vec::new(),
            conns: Vec::new(),
        };
        d.c.start(None, d.now);
        d.pump();
        d
    }

    /// Lets `ms` of virtual time pass, firing every deadline on the way.
    fn advance(&mut self, ms: u64) {
        let end = self.now.mono.add(ms);
        while let Some(t) = self.c.poll_timeout().filter(|t| *t <= end) {
            let step = t.since(self.now.mono);
            self.now = self.now.advance(step);
            self.c.handle(Input::Timeout, self.now);
            self.pump();
        }
        let rest = end.since(self.now.mono);
        self.now = self.now.advance(rest);
    }

    /// Answers the HTTP request to `path` (the newest) with `status` and `body`.
    fn answer_http(&mut self, path: &str, status: u16, body: &str) {
        let i = self.http.iter().rposition(|(_, r)| r.url.ends_with(path)).expect("a request to that path");
        let (id, _) = self.http.remove(i);
        self.c.handle(Input::HttpResponse { id, status, body: String::from(body) }, self.now);
        self.pump();
    }

    /// The channel's statuses with their error codes.
    fn statuses(&self, ch: crate::io::ChannelId) -> Vec<(SubscribeStatus, Option<String>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AppEvent::ChannelStatus { channel, status, error } if *channel == ch => {
                    Some((*status, error.as_ref().map(|e| String::from(e.code()))))
                }
                _ => None,
            })
            .collect()
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
                Output::Connect { conn, .. } if self.refuse_handshake => {
                    self.conns.push(conn);
                    Some(Input::SocketClosed { conn, code: 1006, reason: String::new() })
                }
                Output::Connect { conn, .. } => {
                    self.conns.push(conn);
                    Some(Input::SocketOpened { conn })
                }
                Output::FetchAccessToken => {
                    self.asks.push(self.now);
                    Some(Input::AccessToken { token: self.access_token.clone() })
                }
                Output::Http { id, request } => {
                    self.http.push((id, request));
                    None
                }
                Output::Send { conn, msg } => {
                    let f = frame::decode(&msg, Vsn::V2, Side::Client).unwrap();
                    let answer = (f.event == "phx_join").then(|| Frame {
                        join_ref: f.join_ref.clone(),
                        msg_ref: f.msg_ref.clone(),
                        topic: f.topic.clone(),
                        event: String::from("phx_reply"),
                        payload: Payload::Json(self.join_reply.clone()),
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
    // The shell drops its mirror of removed channels only when this count moves.
    assert_eq!(d.c.channels_removed(), 3);
}

#[test]
fn channels_removed_counts_each_channel_once_when_it_goes() {
    let mut d = Drive::new(None);
    let a = d.subscribe("a");
    let _b = d.subscribe("b");
    assert_eq!(d.c.channels_removed(), 0);
    d.c.remove_channel(a, d.now);
    d.pump();
    assert_eq!(d.c.channels_removed(), 1);
    assert!(d.c.channel_info(a).is_none());
    // Removing it again, or feeding more input, does not count it twice.
    d.c.remove_channel(a, d.now);
    d.pump();
    assert_eq!(d.c.channels_removed(), 1);
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

fn jwt_exp(sub: &str, exp_s: u64) -> String {
    let claims = format!(r#"{{"sub":"{sub}","role":"authenticated","exp":{exp_s},"session_id":"s1"}}"#);
    format!("{}.{}.sig", b64url_encode(br#"{"alg":"ES256","typ":"JWT"}"#), b64url_encode(claims.as_bytes()))
}

#[test]
fn an_access_token_callback_that_keeps_returning_an_expired_token_is_asked_with_backoff() {
    let mut d = Drive::with(None, Some(Some(jwt_exp("alice", T0 / 1000 - 60))), ApikeyMode::Project);
    // Asked at start (the answer came before any channel existed); a channel then waits.
    let ch = d.subscribe("room");
    d.advance(60_000);
    // 0, 1, 3, 8, 18, 48 s: six asks in the first minute, not a loop.
    let at: Vec<u64> = d.asks.iter().map(|n| n.mono.as_millis()).collect();
    assert_eq!(at, [0, 1_000, 3_000, 8_000, 18_000, 48_000]);
    d.advance(600_000);
    assert!(d.asks.len() <= 6 + 11, "then once a minute: {}", d.asks.len());
    // G4: the expired token never joined; the app was told once.
    assert!(d.tokens().is_empty(), "{:?}", d.tokens());
    assert_eq!(d.c.refusal().map(|r| r.code.as_str()), Some("token_expired"));
    // A fresh token ends the wait: the channel joins with it.
    let fresh = jwt_exp("alice", T0 / 1000 + 3_600);
    d.access_token = Some(fresh.clone());
    d.advance(60_000);
    assert_eq!(d.tokens(), [("phx_join".to_string(), Some(fresh))]);
    assert_eq!(d.statuses(ch).last().map(|s| s.0), Some(SubscribeStatus::Subscribed));
}

#[test]
fn a_channel_waiting_for_an_access_token_callback_that_answers_an_expired_token_is_told_once() {
    let mut d = Drive::with(None, Some(None), ApikeyMode::Project);
    let ch = d.subscribe("room");
    d.access_token = Some(jwt_exp("alice", T0 / 1000 - 60));
    // `setAuth()` in third-party mode asks the callback again.
    d.c.set_auth(None, d.now);
    d.pump();
    d.advance(3_000);
    let errors: Vec<_> = d.statuses(ch).into_iter().filter_map(|s| s.1).collect();
    assert_eq!(errors, ["token_expired"], "told once, with the cause");
    // At start, at setAuth(), then 1 s and 2 s later.
    let at: Vec<u64> = d.asks.iter().map(|n| n.mono.as_millis()).collect();
    assert_eq!(at, [0, 0, 1_000, 3_000]);
}

#[test]
fn a_join_refused_for_a_user_that_does_not_exist_names_it_and_the_auth_server_confirms_once() {
    let token = jwt("ghost", 1);
    let stored = format!(
        r#"{{"access_token":"{token}","refresh_token":"r1","expires_in":3600,"expires_at":{},"token_type":"bearer","user":{{"id":"ghost"}}}}"#,
        T0 / 1000 + 3_600
    );
    let mut d = Drive::new(Some(stored));
    d.join_reply = String::from(
        r#"{"status":"error","response":{"reason":"Unauthorized: User from sub claim in JWT does not exist"}}"#,
    );
    let ch = d.subscribe("room");
    assert_eq!(d.statuses(ch)[0], (SubscribeStatus::ChannelError, Some(String::from("user_not_found"))));
    assert_eq!(d.c.refusal().map(|r| r.code.as_str()), Some("user_not_found"));
    // The rejoins are refused too, but the auth server is asked once about this token.
    d.advance(20_000);
    let asked: Vec<_> = d.http.iter().filter(|(_, r)| r.url.ends_with("/auth/v1/user")).collect();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].1.headers.contains(&(String::from("Authorization"), format!("Bearer {token}"))));
    // The server accepts the anon key once the session is gone.
    d.join_reply = String::from(r#"{"status":"ok","response":{"postgres_changes":[]}}"#);
    d.answer_http(
        "/auth/v1/user",
        403,
        r#"{"code":403,"error_code":"user_not_found","msg":"User from sub claim in JWT does not exist"}"#,
    );
    // It agrees: the session is over, and says why.
    assert!(d.c.auth().session().is_none());
    let reason = d.c.auth().sign_out_reason().unwrap();
    assert_eq!((reason.as_str(), reason.code()), ("session_revoked", Some("user_not_found")));
    let r = d.c.refusal().unwrap();
    assert_eq!((r.code.as_str(), r.auth_code.as_deref()), ("user_not_found", Some("user_not_found")));
}

#[test]
fn a_refused_handshake_is_explained_by_the_auth_server_for_each_new_token_only() {
    let token = jwt("alice", 1);
    let mut d = Drive::with(None, Some(Some(token.clone())), ApikeyMode::Session);
    // The socket opened once, then the server starts refusing the token's handshake.
    let ch = d.subscribe("room");
    d.refuse_handshake = true;
    let conn = *d.conns.last().unwrap();
    d.c.handle(Input::SocketClosed { conn, code: 1006, reason: String::new() }, d.now);
    d.pump();
    d.advance(30_000);
    let asked = d.http.iter().filter(|(_, r)| r.url.ends_with("/auth/v1/user")).count();
    assert_eq!(asked, 1, "one question, however many reconnects");
    d.answer_http(
        "/auth/v1/user",
        403,
        r#"{"code":403,"error_code":"bad_jwt","msg":"invalid JWT: unable to parse or verify signature, token signature is invalid: signature is invalid"}"#,
    );
    let last_error = d.statuses(ch).into_iter().filter_map(|s| s.1).next_back();
    assert_eq!(last_error.as_deref(), Some("invalid_jwt"));
    let r = d.c.refusal().unwrap();
    assert_eq!((r.code.as_str(), r.auth_code.as_deref(), r.handshake), ("invalid_jwt", Some("bad_jwt"), true));
}

#[test]
fn a_session_the_server_no_longer_knows_is_explained_by_the_auth_server() {
    let token = jwt("deleted", 1);
    let stored = format!(
        r#"{{"access_token":"{token}","refresh_token":"r1","expires_in":3600,"expires_at":{},"token_type":"bearer","user":{{"id":"deleted"}}}}"#,
        T0 / 1000 + 20
    );
    let mut d = Drive::new(Some(stored));
    // Within the refresh margin: the start-up refresh goes out, and the user is gone.
    let body =
        r#"{"code":400,"error_code":"refresh_token_not_found","msg":"Invalid Refresh Token: Refresh Token Not Found"}"#;
    d.answer_http("grant_type=refresh_token", 400, body);
    let reason = d.c.auth().sign_out_reason().unwrap();
    assert_eq!((reason.as_str(), reason.code()), ("refresh_failed", Some("refresh_token_not_found")));
    // Its access token is still valid: the auth server is asked why, once.
    let asked: Vec<_> = d.http.iter().filter(|(_, r)| r.url.ends_with("/auth/v1/user")).collect();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].1.headers.contains(&(String::from("Authorization"), format!("Bearer {token}"))));
    d.answer_http(
        "/auth/v1/user",
        403,
        r#"{"code":403,"error_code":"user_not_found","msg":"User from sub claim in JWT does not exist"}"#,
    );
    let reason = d.c.auth().sign_out_reason().unwrap();
    assert_eq!((reason.as_str(), reason.code()), ("session_revoked", Some("user_not_found")));
    assert_eq!(d.c.refusal().map(|r| r.code.as_str()), Some("user_not_found"));
}
