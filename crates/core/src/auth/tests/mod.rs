//! The auth commands driven through a whole [`Client`] by hand (storage, locks and GoTrue
//! answered by the test): when commands run (start-up, refreshes, `destroy`) and the result
//! shapes auth-js 2.119 gives (checked against it on the devserver by
//! `tests/e2e/dropin_auth.test.mjs`).

use alloc::string::String;
use alloc::vec::Vec;
use std::format;

use authwire_wire::jwt;

use super::AuthCommand;
use crate::error::AuthError;
use crate::io::{AppEvent, AuthEvent, HttpRequest, Input, LockOp, Output, RequestId, StorageOp, Ticket};
use crate::{Client, ClientConfig, Now};

const T0: u64 = 1_800_000_000_000;
const KEY: &str = "sb_publishable_test";

/// An access token for user `u1` expiring at `exp` (seconds), with `aal1` and a password `amr`.
fn at(exp: u64) -> String {
    let mut t = jwt::b64url_encode(br#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#);
    t.push('.');
    let claims = format!(
        r#"{{"sub":"u1","role":"authenticated","exp":{exp},"session_id":"s1","aal":"aal1","amr":[{{"method":"password","timestamp":1}}]}}"#
    );
    t.push_str(&jwt::b64url_encode(claims.as_bytes()));
    t.push_str(".c2ln");
    t
}

fn user(extra: &str) -> String {
    format!(r#"{{"id":"u1","email":"a@b.c","identities":[{{"provider":"email"}}]{extra}}}"#)
}

fn token_response(exp: u64, rt: &str) -> String {
    format!(
        r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600,"expires_at":{exp},"refresh_token":"{rt}","user":{}}}"#,
        at(exp),
        user("")
    )
}

/// A stored session expiring at `exp`.
fn stored(exp: u64, rt: &str) -> String {
    format!(
        r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600,"expires_at":{exp},"refresh_token":"{rt}","user":{}}}"#,
        at(exp),
        user("")
    )
}

/// A client and what it sent that is still unanswered.
struct H {
    c: Client,
    now: Now,
    http: Vec<(RequestId, HttpRequest)>,
    gets: Vec<(RequestId, String)>,
    digests: Vec<(RequestId, String)>,
    events: Vec<AppEvent>,
    /// When set, storage writes and removals wait here instead of landing at once.
    held_writes: Option<Vec<RequestId>>,
    /// Lock names another tab holds: asking for them is answered unavailable.
    taken: Vec<String>,
    /// Every lock request and release, in order: `acquire <name>` / `release <name>`.
    lock_log: Vec<String>,
    lock_names: Vec<(RequestId, String)>,
    /// The runtime's `crypto.getRandomValues` (`None`: the runtime has none).
    csprng: fn(usize) -> Option<Vec<u8>>,
}

impl H {
    fn with(persist: bool, pkce: bool, page: Option<&str>) -> H {
        H::with_csprng(persist, pkce, page, |len| Some(crate::rng::test_bytes(len)))
    }

    fn with_csprng(persist: bool, pkce: bool, page: Option<&str>, csprng: fn(usize) -> Option<Vec<u8>>) -> H {
        let mut cfg = ClientConfig::new("http://127.0.0.1:54321", KEY).unwrap();
        cfg.auth.persist_session = persist;
        cfg.auth.pkce = pkce;
        let mut h = H {
            c: Client::new(cfg, 7),
            now: Now::new(0, T0),
            http: Vec::new(),
            gets: Vec::new(),
            digests: Vec::new(),
            events: Vec::new(),
            held_writes: None,
            taken: Vec::new(),
            lock_log: Vec::new(),
            lock_names: Vec::new(),
            csprng,
        };
        let now = h.now;
        h.c.start(page.map(String::from), now);
        h.c.add_auth_listener(now);
        h.drain();
        h
    }

    fn new() -> H {
        H::with(true, false, None)
    }

    /// A persisting client, nothing stored at start, signed in with a password: refresh token
    /// `rt1`, access token expiring at `exp`.
    fn signed_in(exp: u64) -> H {
        let mut h = H::new();
        h.read("-auth-token", None);
        let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"secret"}"#)));
        let (id, _) = h.request("POST", "grant_type=password");
        h.answer(id, 200, &token_response(exp, "rt1"));
        assert!(h.done(t).unwrap().is_ok());
        h
    }

    /// Runs the outputs: storage writes and removals land, locks are granted, reads and
    /// requests wait for the test.
    fn drain(&mut self) {
        let mut feed = Vec::new();
        while let Some(o) = self.c.poll_output() {
            match o {
                Output::Http { id, request } => self.http.push((id, request)),
                Output::Storage { id, op: StorageOp::Get(k) } => self.gets.push((id, k)),
                Output::Storage { id, .. } => match &mut self.held_writes {
                    Some(held) => held.push(id),
                    None => feed.push(Input::Storage { id, result: Ok(None) }),
                },
                Output::Lock { id, op: LockOp::Acquire { name, .. } } => {
                    self.lock_log.push(format!("acquire {name}"));
                    if self.taken.contains(&name) {
                        feed.push(Input::LockUnavailable { id });
                    } else {
                        feed.push(Input::LockGranted { id });
                    }
                    self.lock_names.push((id, name));
                }
                Output::Lock { op: LockOp::Release { of }, .. } => {
                    let name = self.lock_names.iter().find(|(i, _)| *i == of).map_or("?", |(_, n)| n.as_str());
                    self.lock_log.push(format!("release {name}"));
                }
                Output::Digest { id, data } => self.digests.push((id, data)),
                Output::Event(e) => self.events.push(e),
                // Answered before the next output, as the shell does.
                Output::Entropy { len } => {
                    let now = self.now;
                    self.c.handle(Input::Entropy { bytes: (self.csprng)(len) }, now);
                }
                _ => {}
            }
        }
        for i in feed {
            self.input(i);
        }
    }

    fn input(&mut self, i: Input) {
        let now = self.now;
        self.c.handle(i, now);
        self.drain();
    }

    fn cmd(&mut self, cmd: AuthCommand) -> Ticket {
        let now = self.now;
        let t = self.c.auth_command(cmd, now);
        self.drain();
        t
    }

    /// Answers the oldest read of `key` with `value`.
    fn read(&mut self, key_suffix: &str, value: Option<&str>) {
        let i = self.gets.iter().position(|(_, k)| k.ends_with(key_suffix)).expect("a storage read");
        let (id, _) = self.gets.remove(i);
        self.input(Input::Storage { id, result: Ok(value.map(String::from)) });
    }

    /// Answers every pending read of the session key with `value` (the refresh protocol's
    /// re-reads included).
    fn reads(&mut self, value: Option<&str>) {
        while self.gets.iter().any(|(_, k)| k.ends_with("-auth-token")) {
            self.read("-auth-token", value);
        }
    }

    /// The request matching `method` and `path` (taken out).
    fn request(&mut self, method: &str, path: &str) -> (RequestId, HttpRequest) {
        let i = self
            .http
            .iter()
            .position(|(_, r)| r.method == method && r.url.contains(path))
            .unwrap_or_else(|| panic!("no {method} {path} among {:?}", self.http));
        self.http.remove(i)
    }

    fn answer(&mut self, id: RequestId, status: u16, body: &str) {
        self.input(Input::HttpResponse { id, status, body: String::from(body) });
    }

    fn done(&self, t: Ticket) -> Option<Result<String, AuthError>> {
        self.events.iter().find_map(|e| match e {
            AppEvent::Done { ticket, result } if *ticket == t => Some(result.clone()),
            _ => None,
        })
    }

    fn auth_events(&self) -> Vec<AuthEvent> {
        self.events
            .iter()
            .filter_map(|e| match e {
                AppEvent::AuthChange { event, .. } => Some(*event),
                _ => None,
            })
            .collect()
    }
}

fn bearer(r: &HttpRequest) -> &str {
    r.headers.iter().find(|(k, _)| k == "Authorization").map_or("", |(_, v)| v.as_str())
}

#[test]
fn get_session_right_after_start_settles_once_storage_is_read() {
    let mut h = H::new();
    let t = h.cmd(AuthCommand::GetSession);
    assert_eq!(h.done(t), None, "start-up has not read storage yet");
    h.read("-auth-token", None);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"session":null}"#))));
    // INITIAL_SESSION went first, as both wait for start-up in auth-js.
    assert_eq!(h.auth_events(), [AuthEvent::InitialSession]);

    let mut h = H::with(false, false, None);
    let t = h.cmd(AuthCommand::GetSession);
    assert_eq!(h.done(t), Some(Ok(String::from(r#"{"session":null}"#))), "without persistence at once");
}

#[test]
fn commands_given_during_start_up_run_once_it_settles() {
    // A stored session inside its refresh margin: start-up refreshes it; getSession, getUser
    // and initialize wait for that and then see (and use) the new token.
    let exp = T0 / 1000 + 30;
    let mut h = H::new();
    let (s, u, i) = (h.cmd(AuthCommand::GetSession), h.cmd(AuthCommand::GetUser(None)), h.cmd(AuthCommand::Initialize));
    h.read("-auth-token", Some(&stored(exp, "rt-old")));
    h.reads(Some(&stored(exp, "rt-old")));
    assert!(h.http.iter().all(|(_, r)| !r.url.ends_with("/user")), "getUser waits for the refresh");
    let (id, _) = h.request("POST", "grant_type=refresh_token");
    h.answer(id, 200, &token_response(exp + 3600, "rt-new"));
    h.reads(Some(&stored(exp, "rt-old")));
    let session = h.done(s).expect("getSession answered").unwrap();
    assert!(session.contains("rt-new"), "{session}");
    assert_eq!(h.done(i), Some(Ok(String::from("null"))));
    let (id, r) = h.request("GET", "/user");
    assert_eq!(bearer(&r), format!("Bearer {}", at(exp + 3600)));
    h.answer(id, 200, &user(""));
    assert!(h.done(u).unwrap().unwrap().starts_with(r#"{"user":{"id":"u1""#));
}

#[test]
fn start_up_from_the_page_url_settles_parked_commands_and_initialize_reports_url_errors() {
    // An implicit-flow fragment: start-up asks GoTrue for the user first.
    let exp = T0 / 1000 + 3600;
    let url = format!("http://localhost/cb#access_token={}&refresh_token=rt1&expires_in=3600", at(exp));
    let mut h2 = H::with(true, false, Some(&url));
    let t = h2.cmd(AuthCommand::GetSession);
    h2.read("-auth-token", None);
    assert_eq!(h2.done(t), None, "waits for the user of the URL session");
    let (id, _) = h2.request("GET", "/user");
    h2.answer(id, 200, &user(""));
    assert!(h2.done(t).expect("answered").unwrap().contains("rt1"));

    // An error in the URL: initialize() reports auth-js's AuthImplicitGrantRedirectError.
    let url = "http://localhost/cb?error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid";
    let mut h3 = H::with(true, false, Some(url));
    let t = h3.cmd(AuthCommand::Initialize);
    h3.read("-auth-token", None);
    let e = h3.done(t).unwrap().unwrap_err();
    assert_eq!(
        (e.name(), e.status(), e.details()),
        ("AuthImplicitGrantRedirectError", Some(500), Some(("access_denied", "otp_expired")))
    );
    assert_eq!(e.message(), "Email link is invalid");

    // A PKCE code without a stored verifier settles too.
    let mut h4 = H::with(true, true, Some("http://localhost/cb?code=abc"));
    let t = h4.cmd(AuthCommand::GetSession);
    h4.read("-auth-token", None);
    h4.read("-code-verifier", None);
    assert_eq!(h4.done(t), Some(Ok(String::from(r#"{"session":null}"#))));
    let t = h4.cmd(AuthCommand::Initialize);
    assert_eq!(h4.done(t), Some(Err(AuthError::PkceVerifierMissing)));
}

#[test]
fn a_command_that_uses_the_token_waits_for_the_refresh_of_an_expired_one() {
    let exp = T0 / 1000 + 3600;
    let mut h = H::signed_in(exp);
    // The device slept past the token's expiry.
    h.now = Now::new(10, (exp + 10) * 1000);
    let u = h.cmd(AuthCommand::GetUserIdentities);
    h.reads(Some(&stored(exp, "rt1")));
    assert!(h.http.iter().all(|(_, r)| !r.url.ends_with("/user")), "no request with the expired token");
    let (id, _) = h.request("POST", "grant_type=refresh_token");
    h.answer(id, 200, &token_response(exp + 7200, "rt2"));
    h.reads(Some(&stored(exp, "rt1")));
    let (id, r) = h.request("GET", "/user");
    assert_eq!(bearer(&r), format!("Bearer {}", at(exp + 7200)));
    h.answer(id, 200, &user(""));
    assert_eq!(h.done(u), Some(Ok(String::from(r#"{"identities":[{"provider":"email"}]}"#))));
}

/// G8 in Chromium: each renderer keeps its own copy of `localStorage`, so a tab granted the
/// refresh lock right after another tab's rotation can still read the rotated token. The
/// `spent:` lock (taken by the rotating tab before it releases the refresh lock) tells it so.
#[test]
fn a_token_another_tab_rotated_is_not_presented_while_storage_lags() {
    let exp = T0 / 1000 + 3600;
    let mut h = H::signed_in(exp);
    // Another tab rotated rt1 and holds its spent lock; this tab's storage still shows rt1.
    h.taken.push(super::spent::spent_lock_name("sb-127-auth-token", "rt1"));
    h.now = Now::new(10, (exp + 10) * 1000);
    let u = h.cmd(AuthCommand::GetUserIdentities);
    for _ in 0..3 {
        h.read("-auth-token", Some(&stored(exp, "rt1")));
        assert!(h.http.iter().all(|(_, r)| !r.url.contains("grant_type=refresh_token")), "rt1 is not presented");
    }
    // The other tab's write reaches this tab's storage: adopted without a request.
    h.reads(Some(&stored(exp + 7200, "rt2")));
    assert!(h.http.iter().all(|(_, r)| !r.url.contains("grant_type=refresh_token")), "no refresh at all");
    let (id, r) = h.request("GET", "/user");
    assert_eq!(bearer(&r), format!("Bearer {}", at(exp + 7200)));
    h.answer(id, 200, &user(""));
    assert!(h.done(u).unwrap().is_ok());
    assert_eq!(h.auth_events().last(), Some(&AuthEvent::TokenRefreshed));
}

/// The rotating side: the presented token's spent lock is taken before the refresh lock goes,
/// and the tab keeps only the newest one.
#[test]
fn a_rotation_marks_the_presented_token_spent_before_releasing_the_refresh_lock() {
    let exp = T0 / 1000 + 3600;
    let mut h = H::signed_in(exp);
    let spent = |rt: &str| super::spent::spent_lock_name("sb-127-auth-token", rt);
    for (i, (from, to)) in [("rt1", "rt2"), ("rt2", "rt3")].into_iter().enumerate() {
        let e = exp + 7200 * i as u64;
        h.now = Now::new(10 + i as u64, (e + 10) * 1000);
        h.lock_log.clear();
        let r = h.cmd(AuthCommand::RefreshSession(None));
        h.reads(Some(&stored(e, from)));
        let (id, req) = h.request("POST", "grant_type=refresh_token");
        assert!(req.body.as_deref().unwrap_or("").contains(from));
        h.answer(id, 200, &token_response(e + 7200, to));
        h.reads(Some(&stored(e, from)));
        assert!(h.done(r).unwrap().is_ok());
        let pos = |l: &str| h.lock_log.iter().position(|x| x == l).unwrap_or_else(|| panic!("{l} in {:?}", h.lock_log));
        let taken = pos(&format!("acquire {}", spent(from)));
        assert!(taken < pos("release lock:sb-127-auth-token"), "{:?}", h.lock_log);
        if i == 1 {
            assert!(h.lock_log.contains(&format!("release {}", spent("rt1"))), "the older spent lock is given back");
        }
    }
}

#[test]
fn destroy_settles_everything_that_waits() {
    let mut h = H::new();
    let parked = h.cmd(AuthCommand::GetSession);
    h.read("-auth-token", Some(&stored(T0 / 1000 + 3600, "rt1")));
    // getSession was answered at start-up; now one in flight and one parked for a refresh.
    assert!(h.done(parked).is_some());
    let in_flight = h.cmd(AuthCommand::GetUser(None));
    let now = h.now;
    h.c.destroy(now);
    h.drain();
    assert_eq!(h.done(in_flight), Some(Err(AuthError::Destroyed)));
    let later = h.cmd(AuthCommand::GetSession);
    assert_eq!(h.done(later), Some(Err(AuthError::Destroyed)));

    let mut h = H::new();
    let before = h.cmd(AuthCommand::GetSession);
    let now = h.now;
    h.c.destroy(now);
    h.drain();
    assert_eq!(h.done(before), Some(Err(AuthError::Destroyed)), "a command parked for start-up");
}

#[test]
fn sign_out_resolves_only_once_the_session_key_is_removed() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"secret"}"#)));
    let (id, _) = h.request("POST", "grant_type=password");
    h.answer(id, 200, &token_response(T0 / 1000 + 3600, "rt1"));
    assert!(h.done(t).unwrap().is_ok());
    // The server answers the logout before the storage removal has landed: a page that
    // reloads right after `await signOut()` must not find the session.
    h.held_writes = Some(Vec::new());
    let t = h.cmd(AuthCommand::SignOut(String::from("global")));
    let (id, _) = h.request("POST", "/logout");
    h.answer(id, 204, "");
    assert_eq!(h.done(t), None, "signOut resolved before the session key was removed");
    let held = h.held_writes.take().unwrap();
    assert!(!held.is_empty(), "the sign-out removes the session key");
    for id in held {
        h.input(Input::Storage { id, result: Ok(None) });
    }
    assert_eq!(h.done(t), Some(Ok(String::from("{}"))));
    // The removal failing (storage denied) is the caller's error: the session survives a reload.
    let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"secret"}"#)));
    let (id, _) = h.request("POST", "grant_type=password");
    h.answer(id, 200, &token_response(T0 / 1000 + 3600, "rt2"));
    assert!(h.done(t).unwrap().is_ok());
    h.held_writes = Some(Vec::new());
    let t = h.cmd(AuthCommand::SignOut(String::from("local")));
    let (id, _) = h.request("POST", "/logout");
    h.answer(id, 204, "");
    for id in h.held_writes.take().unwrap() {
        h.input(Input::Storage { id, result: Err(String::from("SecurityError: access denied")) });
    }
    assert_eq!(h.done(t).map(|r| r.map_err(|e| String::from(e.code()))), Some(Err(String::from("storage_error"))));
}

/// The client's PKCE verifiers for a run whose runtime answers every request for random bytes
/// with `csprng`, the seed being the same.
fn verifiers(csprng: fn(usize) -> Option<Vec<u8>>) -> (Vec<String>, Vec<Option<Result<String, AuthError>>>) {
    let mut h = H::with_csprng(true, true, None, csprng);
    h.read("-auth-token", None);
    let mut results = Vec::new();
    let mut found = Vec::new();
    for _ in 0..3 {
        let now = h.now;
        let t = h.c.auth_command(AuthCommand::ResetPasswordForEmail(String::from(r#"{"email":"a@b.c"}"#)), now);
        while let Some(o) = h.c.poll_output() {
            match o {
                Output::Storage { op: StorageOp::Set(k, v), .. } if k.ends_with("-code-verifier") => found.push(v),
                Output::Entropy { len } => {
                    let now = h.now;
                    h.c.handle(Input::Entropy { bytes: (h.csprng)(len) }, now);
                }
                Output::Event(e) => h.events.push(e),
                _ => {}
            }
        }
        results.push(h.done(t));
    }
    (found, results)
}

#[test]
fn pkce_verifiers_are_made_of_the_runtime_s_random_bytes_and_of_nothing_else() {
    // Without a CSPRNG there is no verifier: the flow fails at once, typed, nothing is sent.
    let (found, results) = verifiers(|_| None);
    assert!(found.is_empty(), "{found:?}");
    assert!(results.iter().all(|r| *r == Some(Err(AuthError::CryptoUnavailable))), "{results:?}");
    assert_eq!(AuthError::CryptoUnavailable.code(), "crypto_unavailable");

    // A verifier is the hex of 56 bytes the runtime gave (448 bits; RFC 7636 asks for 256),
    // each byte used once: constant bytes give the same verifier every time (nothing from the
    // seed is mixed in), counting bytes give distinct ones.
    let (found, _) = verifiers(|len| Some(alloc::vec![0xAB; len]));
    assert_eq!(found.len(), 3);
    for v in &found {
        let hex = v.strip_suffix("/recovery").unwrap();
        assert_eq!(hex, "ab".repeat(56));
    }
    let (found, _) = verifiers(|len| Some(crate::rng::test_bytes(len)));
    assert_eq!(found.len(), 3);
    let hexes: Vec<&str> = found.iter().map(|v| v.strip_suffix("/recovery").unwrap()).collect();
    assert!(hexes[0] != hexes[1] && hexes[1] != hexes[2] && hexes[0] != hexes[2], "{hexes:?}");
    assert!(hexes.iter().all(|h| h.len() == 112 && h.bytes().all(|b| b.is_ascii_hexdigit())));
}

#[test]
fn a_request_that_times_out_is_aborted_and_fails_as_a_network_error() {
    let mut h = H::new();
    h.read("-auth-token", None);
    let t = h.cmd(AuthCommand::SignInWithPassword(String::from(r#"{"email":"a@b.c","password":"pw"}"#)));
    let (id, _) = h.request("POST", "grant_type=password");
    // No answer: the deadline passes.
    h.now = Now::new(10_001, T0 + 10_001);
    let now = h.now;
    h.c.handle(Input::Timeout, now);
    let mut cancelled = false;
    while let Some(o) = h.c.poll_output() {
        match o {
            Output::CancelHttp { id: c } => cancelled |= c == id,
            Output::Event(e) => h.events.push(e),
            _ => {}
        }
    }
    assert!(cancelled, "the host is told to abort the fetch");
    assert_eq!(h.done(t).and_then(Result::err).map(|e| String::from(e.code())).as_deref(), Some("network_error"));
    // A late answer is dropped.
    h.answer(id, 200, &token_response(T0 / 1000 + 3_600, "rt"));
    assert!(h.auth_events().iter().all(|e| *e != AuthEvent::SignedIn));
}

mod results;
