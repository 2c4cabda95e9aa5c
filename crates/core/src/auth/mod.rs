//! The auth half of the core: the GoTrue session, its persistence, refresh scheduling and the
//! cross-tab refresh protocol, the auth flows and the event queue. Sans-IO like the rest:
//! HTTP, storage, locks, tab messages and digests are outputs tagged with request ids, and
//! their results come back as inputs. Replies to requests the machine no longer waits for are
//! dropped.
//!
//! # The refresh protocol (guarantee G8)
//!
//! 1. acquire the Web Lock `lock:<storage key>` (with a timeout longer than a refresh request
//!    can take, so a live holder always finishes first) and record that the lock changed
//!    hands (`<storage key>-lock-holder`);
//! 2. re-read storage: another tab may have refreshed already — then adopt its session and
//!    send nothing;
//! 3. send the *newest* refresh token;
//! 4. commit guard: re-read storage; if it changed meanwhile (a sign-out, or another tab that
//!    got in without the lock), discard the response;
//! 5. write the new session, post it to the other tabs, release the lock, and only then tell
//!    the application (no user callback runs while the lock is held).
//!
//! A lock wait that times out reads the holder record: if the lock changed hands since the
//! last look (a chain of live holders), it waits again; a holder that kept it through a whole
//! wait is stuck, and the flight goes on without the lock — skipping step 1, never 2 or 4.
//!
//! Every other write of the session key (sign-in, sign-out, updated user) also happens under
//! the lock ([`SessionWrite`]), so none lands between another tab's steps 4 and 5. Tab
//! messages and `storage` events are hints: they may arrive after this tab's own later
//! write, so the stored session is read again and that is adopted.

pub mod requests;
pub mod session;

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::gotrue::parse_error;
use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::jwt;

use self::requests::{cred, Gotrue};
use self::session::Session;
use crate::backoff::Backoff;
use crate::error::AuthError;
use crate::io::{
    concat, AppEvent, AuthEvent, HttpRequest, Level, ListenerId, LockOp, Outbox, Output, RequestId, StorageOp, Ticket,
};
use crate::map::VecMap;
use crate::rng::Rng;
use crate::time::{Instant, Millis, Now, UnixTime};
use crate::timer::TimerTable;
use crate::token::TokenChange;

/// Auth settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `https://ref.supabase.co/auth/v1`.
    pub base_url: String,
    /// The API key.
    pub key: String,
    /// Storage key of the session (`sb-<ref>-auth-token`); also names the lock and the tab
    /// channel.
    pub storage_key: String,
    /// Persist the session and coordinate with other tabs.
    pub persist: bool,
    /// Refresh before expiry on a timer.
    pub auto_refresh: bool,
    /// `flowType: 'pkce'`.
    pub pkce: bool,
    /// Extra headers for every request.
    pub headers: Vec<(String, String)>,
    /// How long to wait for the cross-tab refresh lock. Longer than `request_timeout_ms`, so
    /// a live holder always finishes (or gives up) before another tab stops waiting.
    pub lock_timeout_ms: Millis,
    /// A GoTrue request without an answer after this long is treated as a network failure
    /// (a late answer is dropped).
    pub request_timeout_ms: Millis,
    /// The page URL at start, to take a session from (`detectSessionInUrl`).
    pub page_url: Option<String>,
}

/// Why the last sign-out happened (`signOutReason()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOutReason {
    /// The application called `signOut()`.
    User,
    /// A refresh failed for good; GoTrue's code.
    RefreshFailed(String),
    /// The server no longer knows the session or user (`session_not_found`, `user_not_found`,
    /// `user_banned` on `/user`).
    SessionRevoked(String),
    /// Another tab signed out.
    OtherTab,
}

impl SignOutReason {
    /// The string given to JS.
    pub fn as_str(&self) -> &str {
        match self {
            SignOutReason::User => "user",
            SignOutReason::RefreshFailed(_) => "refresh_failed",
            SignOutReason::SessionRevoked(_) => "session_revoked",
            SignOutReason::OtherTab => "other_tab",
        }
    }
    /// GoTrue's code behind it, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            SignOutReason::RefreshFailed(c) | SignOutReason::SessionRevoked(c) => Some(c),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Refresh,
    Retry,
    Request(RequestId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInKind {
    /// SIGNED_IN.
    SignIn,
    /// PASSWORD_RECOVERY instead of SIGNED_IN.
    Recovery,
    /// `setSession` with an expired token: TOKEN_REFRESHED.
    Refreshed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum UserPurpose {
    /// `getUser()`.
    Command,
    /// `setSession()` with a valid token: the user completes the session.
    SetSession(String, String),
    /// A session found in the page URL (implicit flow).
    FromUrl { at: String, rt: String, expires_in: u64, recovery: bool },
    /// `getClaims()` for an HS256 token: a successful `/user` means the claims stand.
    Claims(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HttpOp {
    /// A response that carries a session.
    SignIn {
        ticket: Option<Ticket>,
        kind: SignInKind,
        verifier: bool,
    },
    /// `signUp` without autoconfirm or an OTP request: no session.
    NoSession {
        ticket: Ticket,
    },
    Refresh {
        gen: u64,
    },
    User {
        ticket: Option<Ticket>,
        own: bool,
        purpose: UserPurpose,
    },
    UpdateUser {
        ticket: Ticket,
    },
    Logout {
        ticket: Ticket,
    },
    Jwks,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum StoreOp {
    Initial,
    RefreshBefore {
        gen: u64,
    },
    /// The lock holder's record, read after the lock wait timed out.
    LockHolder {
        gen: u64,
    },
    RefreshAfter {
        gen: u64,
        fresh: Session,
    },
    RefreshFailedReread {
        gen: u64,
        error: AuthError,
    },
    /// The session key written (or removed) by [`SessionWrite`].
    SessionWritten,
    /// The stored session read again after a tab message (its event and access token) or a
    /// `storage` event.
    Adopt {
        hint: Option<(AuthEvent, Option<String>)>,
    },
    Write,
    /// The PKCE verifier was written; continue with the digest.
    VerifierWritten {
        ticket: Ticket,
        verifier: String,
        creds: String,
        flow: PkceFlow,
    },
    /// The PKCE verifier for `code`; `ticket` is `None` for a code found in the page URL.
    VerifierRead {
        ticket: Option<Ticket>,
        code: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PkceFlow {
    OAuth,
    SignUp,
    Otp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DigestOp {
    Pkce { ticket: Ticket, creds: String, flow: PkceFlow },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum RefreshStep {
    /// Not persisting, so no other tab shares the token: straight to the request.
    Unshared,
    Lock(RequestId),
    /// The lock wait timed out: reading when its holder took it.
    LockHolder(RequestId),
    ReadBefore(RequestId),
    Request(RequestId),
    ReadAfter(RequestId),
    /// Writing the new session; then post, release, announce.
    Commit(RequestId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Refresh {
    gen: u64,
    step: RefreshStep,
    lock: Option<RequestId>,
    /// The refresh token this flight refreshes (the newest known).
    token: String,
    /// The session the flight will commit.
    fresh: Option<Session>,
    /// Lock waits begun again because the lock changed hands meanwhile.
    rewaits: u8,
    /// The lock holder's record at the last timed-out wait.
    holder_seen: Option<String>,
}

/// At most this many lock waits again behind holders that took the lock meanwhile, before
/// going on without it (bounds the wait behind a chain of holders).
const MAX_REWAITS: u8 = 8;

/// What a session write means for other tabs' results that arrive before it lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    /// This tab replaced the session (a sign-in, a sign-out): whatever another tab wrote
    /// before this write lands is superseded by it, so it is not adopted.
    Replace,
    /// This tab changed the session it has (an updated user): other tabs' results are
    /// adopted, and the write stores the session as it is when the write goes out.
    Amend,
}

/// What to do once a saved session landed (persist first, then notify).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Saved {
    announce: Option<AuthEvent>,
    ticket: Option<(Ticket, String)>,
    /// Post the announcement to the other tabs.
    post: bool,
}

/// A write of the session key. Every write of the key happens under the cross-tab lock, as
/// the refresh commit does, so no write (a sign-in, a sign-out) can land between a refresh's
/// commit guard and its commit in another tab (G8). What is written is the session as it is
/// when the write goes out; requests made meanwhile join it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SessionWrite {
    /// The lock request (or the refresh flight's lock this write took over).
    lock: RequestId,
    /// The lock is held: granted, or taken over from this tab's refresh flight.
    held: bool,
    /// The storage request in flight.
    writing: Option<RequestId>,
    /// The session changed while a write was in flight: write once more before releasing.
    again: bool,
    intent: Intent,
    after: Vec<Saved>,
}

/// The auth machine.
#[derive(Debug)]
pub struct Auth {
    cfg: AuthConfig,
    loaded: bool,
    /// The initial load is still refreshing or taking a session from the URL.
    init_busy: bool,
    session: Option<Session>,
    /// Increments on every session change; stale flights compare it.
    session_gen: u64,
    /// Increments whenever the access token changes.
    token_gen: u64,
    timers: TimerTable<Timer>,
    http: VecMap<RequestId, HttpOp>,
    /// When each request in `http` was sent (wall clock): a token in its answer was minted
    /// after that, so its expiry counts from there (G4), however late the answer arrives.
    sent_at: VecMap<RequestId, UnixTime>,
    store: VecMap<RequestId, StoreOp>,
    digests: VecMap<RequestId, DigestOp>,
    verifies: VecMap<RequestId, (Ticket, String)>,
    refresh: Option<Refresh>,
    write: Option<SessionWrite>,
    /// Announcements made while this tab holds the lock, with their session JSON: they go
    /// out when it is released (no user callback runs while the lock is held, G8).
    deferred: Vec<(AuthEvent, Option<String>)>,
    /// Commands waiting for the current refresh: (ticket, what to answer).
    refresh_waiters: Vec<(Ticket, Waiter)>,
    retry_attempt: u32,
    listeners: Vec<(ListenerId, bool)>,
    next_listener: u32,
    changes: Vec<TokenChange>,
    sign_out_reason: Option<SignOutReason>,
    auto_refresh: bool,
    rng: Rng,
    storage_error: Option<String>,
    last_refresh_error: Option<AuthError>,
    jwks: Option<(String, Instant)>,
    jwks_waiters: Vec<(Ticket, String)>,
    destroyed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiter {
    /// `getSession()`: `{ session }`.
    Session,
    /// `refreshSession()` / `setSession()`: `{ user, session }` or the error.
    UserSession,
}

/// The refresh retry policy after transient failures (network, 5xx, 409): full jitter from
/// 0.5 s growing to 30 s.
const RETRY: Backoff = Backoff::FullJitter { base: 500, cap: 30_000, growth_pct: 200 };
/// After a 429 GoTrue gives no `Retry-After`; back off harder.
const RETRY_429: Backoff = Backoff::FullJitter { base: 5_000, cap: 60_000, growth_pct: 200 };
/// JWKS cache lifetime (GoTrue sends `max-age=600`).
const JWKS_TTL_MS: Millis = 600_000;

fn data_session(session: Option<&str>) -> String {
    let mut w = ObjectWriter::new();
    w.raw("session", session.unwrap_or("null"));
    w.finish()
}

fn classify(status: u16, body: &str) -> AuthError {
    let e = parse_error(body);
    if status == 0 || (500..=504).contains(&status) || (520..=530).contains(&status) {
        let message = if e.message.is_empty() { String::from("the auth server did not answer") } else { e.message };
        return AuthError::RetryableFetch { status, message };
    }
    let code = e.code.unwrap_or_else(|| String::from("unknown"));
    if code == "weak_password" {
        return AuthError::WeakPassword { message: e.message, reasons: e.weak_password_reasons };
    }
    if code == "session_not_found" && status == 400 {
        return AuthError::SessionMissing;
    }
    AuthError::Api { status, code, message: e.message }
}

impl Auth {
    /// A machine that has not read storage yet.
    pub fn new(cfg: AuthConfig, seed: u64) -> Auth {
        Auth {
            auto_refresh: cfg.auto_refresh,
            cfg,
            loaded: false,
            init_busy: false,
            session: None,
            session_gen: 0,
            token_gen: 1,
            timers: TimerTable::default(),
            http: VecMap::new(),
            sent_at: VecMap::new(),
            store: VecMap::new(),
            digests: VecMap::new(),
            verifies: VecMap::new(),
            refresh: None,
            write: None,
            deferred: Vec::new(),
            refresh_waiters: Vec::new(),
            retry_attempt: 0,
            listeners: Vec::new(),
            next_listener: 0,
            changes: Vec::new(),
            sign_out_reason: None,
            rng: Rng::new(seed ^ 0x5EED_A07B),
            storage_error: None,
            last_refresh_error: None,
            jwks: None,
            jwks_waiters: Vec::new(),
            destroyed: false,
        }
    }

    fn gotrue(&self) -> Gotrue<'_> {
        Gotrue { base: &self.cfg.base_url, key: &self.cfg.key, headers: &self.cfg.headers }
    }

    // ------------------------------------------------------------------------------------
    // State for the client
    // ------------------------------------------------------------------------------------

    /// The current session.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Changes whenever the access token changes.
    pub fn token_generation(&self) -> u64 {
        self.token_gen
    }

    /// Token changes since the last call.
    pub fn take_changes(&mut self) -> Vec<TokenChange> {
        core::mem::take(&mut self.changes)
    }

    /// Why the last sign-out happened.
    pub fn sign_out_reason(&self) -> Option<&SignOutReason> {
        self.sign_out_reason.as_ref()
    }

    /// The last storage failure, if the session could not be persisted.
    pub fn storage_error(&self) -> Option<&str> {
        self.storage_error.as_deref()
    }

    /// The last refresh failure (kept while the session is still usable).
    pub fn last_refresh_error(&self) -> Option<&AuthError> {
        self.last_refresh_error.as_ref()
    }

    /// `true` while a refresh is in flight.
    pub fn refreshing(&self) -> bool {
        self.refresh.is_some()
    }

    /// G2: the token is settled — storage was read, no refresh is in flight, and the token
    /// (if any) is not expired. While `false`, nothing may join or push.
    ///
    /// G4: a token inside its refresh margin is not settled either — [`Auth::ensure_fresh`]
    /// will refresh it before it is used — unless a retry is backing off (then it is used
    /// until it expires). Without this, a refresh timer that fires late (a throttled
    /// background tab, a wall-clock jump) let a socket event join with the due token just
    /// before the refresh started.
    pub fn resolved(&self, now: Now) -> bool {
        self.loaded
            && !self.init_busy
            && self.refresh.is_none()
            && self.session.as_ref().is_none_or(|s| {
                !s.is_expired(now.wall) && (!s.needs_refresh(now.wall) || self.timers.is_set(Timer::Retry))
            })
    }

    /// The earliest deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ------------------------------------------------------------------------------------
    // Start-up
    // ------------------------------------------------------------------------------------

    /// The page URL to take a session from at start (`detectSessionInUrl`).
    pub fn set_page_url(&mut self, url: Option<String>) {
        self.cfg.page_url = url;
    }

    /// Reads the stored session (and takes one from the page URL, if enabled).
    pub fn start(&mut self, now: Now, out: &mut Outbox) {
        if !self.cfg.persist {
            self.loaded = true;
            self.detect_url(now, out);
            self.flush_initial(out);
            return;
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::Initial);
        out.push(Output::Storage { id, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    fn on_initial(&mut self, value: Option<String>, now: Now, out: &mut Outbox) {
        self.loaded = true;
        match value.as_deref().map(Session::from_stored) {
            Some(Some(s)) => {
                self.set_session(s, now);
            }
            Some(None) => {
                // Not a session (corrupt or foreign): remove it, as auth-js does.
                let id = out.request_id();
                self.store.insert(id, StoreOp::Write);
                out.push(Output::Storage { id, op: StorageOp::Remove(self.cfg.storage_key.clone()) });
                out.log(Level::Warn, String::from("removed a stored value that is not a session"));
            }
            None => {}
        }
        self.detect_url(now, out);
        if !self.init_busy {
            if let Some(s) = &self.session {
                if s.needs_refresh(now.wall) {
                    self.init_busy = true;
                    self.start_refresh(now, out);
                }
            }
        }
        self.flush_initial(out);
    }

    /// Takes a session from the page URL: an implicit-flow fragment or a PKCE `?code=`.
    fn detect_url(&mut self, now: Now, out: &mut Outbox) {
        let Some(url) = self.cfg.page_url.take() else { return };
        let (base, frag) = url.split_once('#').unwrap_or((&url, ""));
        let query = base.split_once('?').map_or("", |(_, q)| q);
        let param = authwire_wire::url::query_value;
        let clean_base = base.split_once('?').map_or(base, |(b, _)| b);
        if let Some(err) = param(frag, "error_description").or_else(|| param(query, "error_description")) {
            out.log(Level::Warn, concat(&["the page URL carries an auth error: ", &err]));
            return;
        }
        if let (Some(at), Some(rt)) = (param(frag, "access_token"), param(frag, "refresh_token")) {
            let expires_in = param(frag, "expires_in").and_then(|v| v.parse().ok()).unwrap_or(3600);
            let recovery = param(frag, "type").as_deref() == Some("recovery");
            out.push(Output::ReplaceUrl(String::from(clean_base)));
            self.init_busy = true;
            let req = self.gotrue().request("GET", "/user", Some(&at), None);
            self.send(
                req,
                HttpOp::User {
                    ticket: None,
                    own: false,
                    purpose: UserPurpose::FromUrl { at, rt, expires_in, recovery },
                },
                now,
                out,
            );
            return;
        }
        if self.cfg.pkce {
            if let Some(code) = param(query, "code") {
                // Keep the other query parameters; drop `code` and `sb_flow_id`.
                let rest: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.starts_with("code=") && !p.starts_with("sb_flow_id=") && !p.is_empty())
                    .collect();
                let mut clean = String::from(clean_base);
                if !rest.is_empty() {
                    clean.push('?');
                    clean.push_str(&rest.join("&"));
                }
                out.push(Output::ReplaceUrl(clean));
                self.init_busy = true;
                let id = out.request_id();
                self.store.insert(id, StoreOp::VerifierRead { ticket: None, code });
                out.push(Output::Storage { id, op: StorageOp::Get(self.verifier_key()) });
            }
        }
    }

    fn verifier_key(&self) -> String {
        let mut k = self.cfg.storage_key.clone();
        k.push_str("-code-verifier");
        k
    }

    /// `INITIAL_SESSION` for listeners that have not had it, once the start-up settled.
    fn flush_initial(&mut self, out: &mut Outbox) {
        // While the lock is held it waits for the release, like every auth callback (G8).
        if !self.loaded || self.init_busy || self.holds_lock() {
            return;
        }
        let session = self.session.as_ref().map(Session::to_js);
        for (id, sent) in &mut self.listeners {
            if !*sent {
                *sent = true;
                out.event(AppEvent::AuthChange {
                    listener: Some(*id),
                    event: AuthEvent::InitialSession,
                    session: session.clone(),
                });
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Events
    // ------------------------------------------------------------------------------------

    /// `onAuthStateChange(cb)`: `INITIAL_SESSION` comes first, then transitions.
    pub fn add_listener(&mut self, _now: Now, out: &mut Outbox) -> ListenerId {
        self.next_listener += 1;
        let id = ListenerId(self.next_listener);
        self.listeners.push((id, false));
        self.flush_initial(out);
        id
    }

    /// Unsubscribes a listener.
    pub fn remove_listener(&mut self, id: ListenerId) {
        self.listeners.retain(|(l, _)| *l != id);
    }

    fn announce(&mut self, event: AuthEvent, out: &mut Outbox) {
        let session = self.session.as_ref().map(Session::to_js);
        // G8: while this tab holds the lock, announcements wait for its release.
        if self.holds_lock() {
            self.deferred.push((event, session));
            return;
        }
        self.emit(event, session, out);
    }

    /// This tab holds the cross-tab lock (for a refresh flight or a session write).
    fn holds_lock(&self) -> bool {
        self.refresh.as_ref().is_some_and(|r| r.lock.is_some()) || self.write.as_ref().is_some_and(|w| w.held)
    }

    /// Announcements deferred while the lock was held, once it is not.
    fn flush_deferred(&mut self, out: &mut Outbox) {
        if self.holds_lock() {
            return;
        }
        for (event, session) in core::mem::take(&mut self.deferred) {
            self.emit(event, session, out);
        }
        self.flush_initial(out);
    }

    fn emit(&self, event: AuthEvent, session: Option<String>, out: &mut Outbox) {
        for (id, sent) in &self.listeners {
            if *sent {
                out.event(AppEvent::AuthChange { listener: Some(*id), event, session: session.clone() });
            }
        }
    }

    fn tab_post(&self, event: AuthEvent, out: &mut Outbox) {
        if !self.cfg.persist {
            return;
        }
        let mut w = ObjectWriter::new();
        w.str("event", event.as_str());
        match &self.session {
            // The stored shape, with `clock_skew`: `expires_at` is on the server's clock, and a
            // tab that read it as its own would keep an expired token alive by the skew (G4).
            Some(s) => w.raw("session", &s.to_stored()),
            None => w.raw("session", "null"),
        };
        out.push(Output::TabPost(w.finish()));
    }

    // ------------------------------------------------------------------------------------
    // Session changes
    // ------------------------------------------------------------------------------------

    /// Installs `s`, records how the token changed, and schedules its refresh.
    fn set_session(&mut self, s: Session, now: Now) {
        let change = match &self.session {
            None => TokenChange::Rotated,
            Some(old) if old.user_id == s.user_id => TokenChange::Rotated,
            Some(_) => TokenChange::UserSwitched,
        };
        let token_changed = self.session.as_ref().is_none_or(|old| old.access_token != s.access_token);
        self.session = Some(s);
        self.session_gen += 1;
        if token_changed {
            self.token_gen += 1;
            self.changes.push(change);
        }
        self.retry_attempt = 0;
        self.timers.stop(Timer::Retry);
        self.schedule_refresh(now);
    }

    fn schedule_refresh(&mut self, now: Now) {
        self.timers.stop(Timer::Refresh);
        if !self.auto_refresh {
            return;
        }
        if let Some(s) = &self.session {
            let at_ms = s.refresh_at() * 1000;
            let delay = at_ms.saturating_sub(now.wall.as_millis());
            self.timers.set(Timer::Refresh, now.mono.add(delay));
        }
    }

    /// Drops the session: storage, other tabs, listeners, channels.
    fn end_session(&mut self, reason: SignOutReason, post: bool, write: bool, out: &mut Outbox) {
        let had = self.session.is_some();
        // Ending the start-up refresh settles start-up: no session.
        let was_init = self.init_busy && self.refresh.is_some();
        if write {
            self.take_over_refresh_lock(out);
        }
        let presenting =
            self.refresh.as_ref().is_some_and(|r| r.lock.is_some() && matches!(r.step, RefreshStep::Request(_)));
        if presenting {
            // Signed out elsewhere while this tab's refresh request is out: the flight keeps
            // the lock until its answer (which the commit guard then discards), or the next
            // holder could present the same token while this presentation is outstanding.
            for (ticket, _) in core::mem::take(&mut self.refresh_waiters) {
                out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            }
        } else {
            self.abort_refresh(out, AuthError::SessionMissing);
        }
        self.session = None;
        self.session_gen += 1;
        self.timers.stop(Timer::Refresh);
        self.timers.stop(Timer::Retry);
        self.sign_out_reason = Some(reason);
        if write && self.cfg.persist {
            self.write_session(Intent::Replace, None, out);
            let id = out.request_id();
            self.store.insert(id, StoreOp::Write);
            out.push(Output::Storage { id, op: StorageOp::Remove(self.verifier_key()) });
        }
        if had {
            self.token_gen += 1;
            self.changes.push(TokenChange::SignedOut);
            if post {
                self.tab_post(AuthEvent::SignedOut, out);
            }
            self.announce(AuthEvent::SignedOut, out);
        }
        if was_init {
            self.init_busy = false;
            self.flush_initial(out);
        }
    }

    /// Persists the current session, then announces (`persist first, then notify`).
    fn save(&mut self, intent: Intent, saved: Saved, out: &mut Outbox) {
        if self.session.is_none() {
            return;
        }
        if !self.cfg.persist {
            self.after_saved(saved, &Ok(()), out);
            return;
        }
        self.write_session(intent, Some(saved), out);
    }

    /// Writes the session key under the lock (see [`SessionWrite`]); a write already
    /// waiting or in flight takes this one along.
    fn write_session(&mut self, intent: Intent, after: Option<Saved>, out: &mut Outbox) {
        let w = match &mut self.write {
            Some(w) => w,
            None => {
                let lock = self.lock_request(out);
                self.write.insert(SessionWrite {
                    lock,
                    held: false,
                    writing: None,
                    again: false,
                    intent,
                    after: Vec::new(),
                })
            }
        };
        if intent == Intent::Replace {
            w.intent = Intent::Replace;
        }
        w.after.extend(after);
        if w.writing.is_some() {
            w.again = true;
        } else if w.held {
            self.put_session(out);
        }
    }

    /// A session replaced while this tab's refresh flight holds the lock: the write that
    /// follows takes the lock over (releasing it in between would let another tab's
    /// write in), and a write waiting behind it stops waiting.
    fn take_over_refresh_lock(&mut self, out: &mut Outbox) {
        if !self.cfg.persist {
            return;
        }
        let Some(lock) = self.refresh.as_mut().and_then(|r| r.lock.take()) else { return };
        match &mut self.write {
            Some(w) => {
                if !w.held {
                    let id = out.request_id();
                    out.push(Output::Lock { id, op: LockOp::Release { of: w.lock } });
                }
                w.lock = lock;
                w.held = true;
            }
            None => {
                self.write = Some(SessionWrite {
                    lock,
                    held: true,
                    writing: None,
                    again: false,
                    intent: Intent::Replace,
                    after: Vec::new(),
                })
            }
        }
    }

    /// Sends the session key's new value (the session now, or its removal).
    fn put_session(&mut self, out: &mut Outbox) {
        let id = out.request_id();
        let key = self.cfg.storage_key.clone();
        let op = match &self.session {
            Some(s) => StorageOp::Set(key, s.to_stored()),
            None => StorageOp::Remove(key),
        };
        out.push(Output::Storage { id, op });
        self.store.insert(id, StoreOp::SessionWritten);
        if let Some(w) = &mut self.write {
            w.writing = Some(id);
            w.again = false;
        }
    }

    /// The session write's storage result: write again if the session changed meanwhile;
    /// else release the lock, then post and announce what waited for it.
    fn on_session_written(&mut self, id: RequestId, result: Result<(), String>, out: &mut Outbox) {
        let Some(w) = self.write.as_mut().filter(|w| w.writing == Some(id)) else { return };
        w.writing = None;
        match &result {
            Err(e) => {
                self.storage_error = Some(e.clone());
                out.log(Level::Error, concat(&["could not persist the session: ", e]));
            }
            Ok(()) => self.storage_error = None,
        }
        if self.write.as_ref().is_some_and(|w| w.again) {
            self.put_session(out);
            return;
        }
        let Some(w) = self.write.take() else { return };
        if w.held {
            let id = out.request_id();
            out.push(Output::Lock { id, op: LockOp::Release { of: w.lock } });
        }
        self.flush_deferred(out);
        for saved in w.after {
            self.after_saved(saved, &result, out);
        }
    }

    /// What a saved session owes once it landed: the other tabs, the listeners, the caller.
    fn after_saved(&mut self, saved: Saved, result: &Result<(), String>, out: &mut Outbox) {
        let Saved { announce, mut ticket, post } = saved;
        if let Err(e) = result {
            // The session works in memory; the caller learns it will not survive a reload.
            if let Some((t, _)) = ticket.take() {
                out.event(AppEvent::Done { ticket: t, result: Err(AuthError::Storage { message: e.clone() }) });
            }
        }
        if let Some(ev) = announce {
            if post {
                self.tab_post(ev, out);
            }
            self.announce(ev, out);
        }
        if let Some((t, data)) = ticket {
            out.event(AppEvent::Done { ticket: t, result: Ok(data) });
        }
    }

    /// Asks for the cross-tab lock `lock:<storage key>`.
    fn lock_request(&mut self, out: &mut Outbox) -> RequestId {
        let id = out.request_id();
        let mut name = String::from("lock:");
        name.push_str(&self.cfg.storage_key);
        out.push(Output::Lock { id, op: LockOp::Acquire { name, timeout_ms: self.cfg.lock_timeout_ms } });
        id
    }

    // ------------------------------------------------------------------------------------
    // Refresh
    // ------------------------------------------------------------------------------------

    /// G4: starts a refresh when the token is inside its margin (and none is in flight or
    /// backing off).
    pub fn ensure_fresh(&mut self, now: Now, out: &mut Outbox) {
        if !self.loaded || self.refresh.is_some() || self.destroyed {
            return;
        }
        let Some(s) = &self.session else { return };
        if !s.needs_refresh(now.wall) {
            return;
        }
        // Backing off after a transient failure: wait, unless the token already expired.
        if self.timers.is_set(Timer::Retry) && !s.is_expired(now.wall) {
            return;
        }
        self.timers.stop(Timer::Retry);
        self.start_refresh(now, out);
    }

    /// G6: the server said the token expired; refresh now whatever our clock thinks.
    pub fn force_refresh(&mut self, now: Now, out: &mut Outbox) {
        if self.refresh.is_none() && self.session.is_some() {
            self.timers.stop(Timer::Retry);
            self.start_refresh(now, out);
        }
    }

    fn start_refresh(&mut self, now: Now, out: &mut Outbox) {
        let Some(s) = &self.session else { return };
        let token = s.refresh_token.clone();
        let gen = self.session_gen;
        if self.cfg.persist {
            let id = self.lock_request(out);
            self.refresh = Some(Refresh {
                gen,
                step: RefreshStep::Lock(id),
                lock: None,
                token,
                fresh: None,
                rewaits: 0,
                holder_seen: None,
            });
        } else {
            let step = RefreshStep::Unshared;
            self.refresh = Some(Refresh { gen, step, lock: None, token, fresh: None, rewaits: 0, holder_seen: None });
            self.send_refresh(now, out);
        }
    }

    fn send_refresh(&mut self, now: Now, out: &mut Outbox) {
        let Some(r) = &self.refresh else { return };
        let gen = r.gen;
        let req = self.gotrue().request(
            "POST",
            "/token?grant_type=refresh_token",
            None,
            Some(requests::refresh_body(&r.token)),
        );
        let id = self.send(req, HttpOp::Refresh { gen }, now, out);
        if let Some(r) = &mut self.refresh {
            r.step = RefreshStep::Request(id);
        }
    }

    fn release_lock(&mut self, out: &mut Outbox) {
        if let Some(lock) = self.refresh.as_mut().and_then(|r| r.lock.take()) {
            let id = out.request_id();
            out.push(Output::Lock { id, op: LockOp::Release { of: lock } });
        }
        self.flush_deferred(out);
    }

    /// Ends the flight: releases the lock first (no callback may run while it is held), then
    /// answers the waiters.
    fn finish_refresh(&mut self, result: Result<(), AuthError>, now: Now, out: &mut Outbox) {
        self.release_lock(out);
        self.refresh = None;
        let was_init = self.init_busy;
        self.init_busy = false;
        let waiters = core::mem::take(&mut self.refresh_waiters);
        for (ticket, w) in waiters {
            let result = match (&result, &self.session) {
                (Ok(()), Some(s)) | (Err(_), Some(s)) if w == Waiter::Session && !s.is_expired(now.wall) => {
                    Ok(data_session(Some(&s.to_js())))
                }
                (Ok(()), Some(s)) => Ok(requests::user_session_data(&s.user, Some(&s.to_js()))),
                (Ok(()), None) => Err(AuthError::SessionMissing),
                (Err(e), _) => Err(e.clone()),
            };
            out.event(AppEvent::Done { ticket, result });
        }
        if was_init {
            self.flush_initial(out);
        }
    }

    /// A flight was overtaken (sign-out, sign-in): release and fail its waiters.
    fn abort_refresh(&mut self, out: &mut Outbox, error: AuthError) {
        if self.refresh.is_none() {
            return;
        }
        self.release_lock(out);
        self.refresh = None;
        for (ticket, _) in core::mem::take(&mut self.refresh_waiters) {
            out.event(AppEvent::Done { ticket, result: Err(error.clone()) });
        }
    }

    fn on_lock(&mut self, id: RequestId, granted: bool, now: Now, out: &mut Outbox) -> bool {
        let Some(r) = &mut self.refresh else {
            if granted {
                // A grant for a flight that ended: give it back at once.
                let rid = out.request_id();
                out.push(Output::Lock { id: rid, op: LockOp::Release { of: id } });
            }
            return granted;
        };
        if r.step != RefreshStep::Lock(id) {
            if granted {
                let rid = out.request_id();
                out.push(Output::Lock { id: rid, op: LockOp::Release { of: id } });
            }
            return false;
        }
        let gen = r.gen;
        if granted {
            r.lock = Some(id);
            // The lock changed hands: a record that tabs whose wait times out compare.
            let mut w = ObjectWriter::new();
            w.i64("at", now.wall.as_millis() as i64);
            w.i64("by", (self.rng.next_u64() >> 12) as i64);
            let wid = out.request_id();
            self.store.insert(wid, StoreOp::Write);
            out.push(Output::Storage { id: wid, op: StorageOp::Set(self.holder_key(), w.finish()) });
        } else {
            let rid = out.request_id();
            r.step = RefreshStep::LockHolder(rid);
            self.store.insert(rid, StoreOp::LockHolder { gen });
            out.push(Output::Storage { id: rid, op: StorageOp::Get(self.holder_key()) });
            return true;
        }
        self.read_before(out);
        true
    }

    /// The lock wait timed out. If the lock changed hands since the last look (a chain of
    /// live holders, each within its request timeout), wait again, so no holder's
    /// presentation of the token is doubled (G8); the first look counts any holder. A holder
    /// that kept the lock through a whole wait is stuck (and without Web Locks there is no
    /// holder): go on without the lock, under the commit guard. No clock is compared, so a
    /// wall-clock jump cannot make a live holder look stuck.
    fn on_lock_holder(&mut self, gen: u64, value: Option<String>, out: &mut Outbox) {
        let Some(r) = self.refresh.as_mut().filter(|r| r.gen == gen) else { return };
        let moved = value.is_some() && value != r.holder_seen;
        if moved && r.rewaits < MAX_REWAITS {
            r.rewaits += 1;
            r.holder_seen = value;
            let id = self.lock_request(out);
            if let Some(r) = &mut self.refresh {
                r.step = RefreshStep::Lock(id);
            }
            return;
        }
        out.log(Level::Warn, String::from("refresh lock unavailable; refreshing under the commit guard"));
        self.read_before(out);
    }

    /// Step 2 begins: read the stored session.
    fn read_before(&mut self, out: &mut Outbox) {
        let Some(r) = &mut self.refresh else { return };
        let gen = r.gen;
        let rid = out.request_id();
        r.step = RefreshStep::ReadBefore(rid);
        self.store.insert(rid, StoreOp::RefreshBefore { gen });
        out.push(Output::Storage { id: rid, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    /// The record of when the refresh lock last changed hands.
    fn holder_key(&self) -> String {
        let mut k = self.cfg.storage_key.clone();
        k.push_str("-lock-holder");
        k
    }

    /// Step 2: the stored session before refreshing.
    fn on_read_before(&mut self, gen: u64, value: Option<String>, now: Now, out: &mut Outbox) {
        if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
            return;
        }
        let stored = value.as_deref().and_then(Session::from_stored);
        let ours = self.session.as_ref().map(|s| s.refresh_token.clone());
        match stored {
            None if value.is_none() && ours.is_some() => {
                // Another tab signed out while we waited.
                self.finish_refresh(Err(AuthError::SessionMissing), now, out);
                self.end_session(SignOutReason::OtherTab, false, false, out);
            }
            Some(s) if Some(&s.refresh_token) != ours.as_ref() => {
                // Another tab refreshed: adopt without a request.
                let fresh_enough = !s.needs_refresh(now.wall);
                let same_user = self.session.as_ref().is_some_and(|o| o.user_id == s.user_id);
                self.set_session(s, now);
                if let Some(r) = &mut self.refresh {
                    r.gen = self.session_gen;
                }
                self.announce(if same_user { AuthEvent::TokenRefreshed } else { AuthEvent::SignedIn }, out);
                if fresh_enough {
                    self.last_refresh_error = None;
                    self.finish_refresh(Ok(()), now, out);
                } else {
                    // The newest token is due too: refresh *it*, still under the lock.
                    if let (Some(r), Some(s)) = (&mut self.refresh, &self.session) {
                        r.token = s.refresh_token.clone();
                    }
                    self.send_refresh(now, out);
                }
            }
            _ => self.send_refresh(now, out),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_refresh_response(&mut self, gen: u64, status: u16, body: String, sent: UnixTime, now: Now, out: &mut Outbox) {
        if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
            return;
        }
        if (200..300).contains(&status) {
            let Some(fresh) = Session::from_response(&body, sent) else {
                self.refresh_failed(AuthError::InvalidResponse, now, out);
                return;
            };
            if !self.cfg.persist {
                self.commit_refresh(fresh, now, out);
                return;
            }
            let rid = out.request_id();
            self.store.insert(rid, StoreOp::RefreshAfter { gen, fresh });
            if let Some(r) = &mut self.refresh {
                r.step = RefreshStep::ReadAfter(rid);
            }
            out.push(Output::Storage { id: rid, op: StorageOp::Get(self.cfg.storage_key.clone()) });
            return;
        }
        let error = classify(status, &body);
        if error.ends_session() && self.cfg.persist {
            // Before giving up: maybe another tab used this token and stored its successor.
            let rid = out.request_id();
            self.store.insert(rid, StoreOp::RefreshFailedReread { gen, error });
            out.push(Output::Storage { id: rid, op: StorageOp::Get(self.cfg.storage_key.clone()) });
            return;
        }
        self.refresh_failed(error, now, out);
    }

    /// Step 4: the commit guard.
    fn on_read_after(&mut self, gen: u64, fresh: Session, value: Option<String>, now: Now, out: &mut Outbox) {
        let Some(r) = &self.refresh else { return };
        if r.gen != gen {
            return;
        }
        let presented = r.token.clone();
        let stored = value.as_deref().and_then(Session::from_stored);
        match stored {
            Some(s) if s.refresh_token == presented => self.commit_refresh(fresh, now, out),
            Some(s) => {
                // Someone else committed first: theirs wins; ours is discarded (the server's
                // parent-of-active rule covers the token we rotated).
                out.log(
                    Level::Info,
                    String::from("refresh discarded by the commit guard: another tab committed first"),
                );
                let same_user = self.session.as_ref().is_some_and(|o| o.user_id == s.user_id);
                self.set_session(s, now);
                self.announce(if same_user { AuthEvent::TokenRefreshed } else { AuthEvent::SignedIn }, out);
                self.finish_refresh(Ok(()), now, out);
            }
            None => {
                // Signed out meanwhile: the new tokens must not resurrect the session.
                out.log(Level::Info, String::from("refresh discarded by the commit guard: signed out meanwhile"));
                self.finish_refresh(Err(AuthError::SessionMissing), now, out);
                self.end_session(SignOutReason::OtherTab, false, false, out);
            }
        }
    }

    /// Step 5: write, post, release, announce.
    fn commit_refresh(&mut self, fresh: Session, now: Now, out: &mut Outbox) {
        self.set_session(fresh, now);
        self.last_refresh_error = None;
        if let Some(r) = &mut self.refresh {
            r.gen = self.session_gen;
        }
        if self.cfg.persist {
            let Some(s) = &self.session else { return };
            let id = out.request_id();
            out.push(Output::Storage { id, op: StorageOp::Set(self.cfg.storage_key.clone(), s.to_stored()) });
            self.store.insert(id, StoreOp::Write);
            if let Some(r) = &mut self.refresh {
                r.step = RefreshStep::Commit(id);
            }
            return;
        }
        self.finish_refresh(Ok(()), now, out);
        self.announce(AuthEvent::TokenRefreshed, out);
    }

    fn on_committed(&mut self, result: Result<(), String>, now: Now, out: &mut Outbox) {
        if let Err(e) = result {
            self.storage_error = Some(e.clone());
            out.log(Level::Error, concat(&["could not persist the refreshed session: ", &e]));
        }
        self.tab_post(AuthEvent::TokenRefreshed, out);
        self.finish_refresh(Ok(()), now, out);
        self.announce(AuthEvent::TokenRefreshed, out);
    }

    fn refresh_failed(&mut self, error: AuthError, now: Now, out: &mut Outbox) {
        if self.session.is_none() {
            // A flight that outlived a sign-out elsewhere: nothing left to retry or end.
            self.finish_refresh(Err(error), now, out);
            return;
        }
        self.last_refresh_error = Some(error.clone());
        if error.is_retryable() {
            let policy = if matches!(error, AuthError::Api { status: 429, .. }) { &RETRY_429 } else { &RETRY };
            let delay = policy.delay(self.retry_attempt, &mut self.rng);
            self.retry_attempt = self.retry_attempt.saturating_add(1);
            self.timers.set(Timer::Retry, now.mono.add(delay));
            out.log(Level::Warn, concat(&["refresh failed, retrying: ", error.code()]));
            // A transient failure keeps a still-valid session.
            self.finish_refresh(Err(error), now, out);
            return;
        }
        // The session is over. End it before start-up settles, so a first listener gets
        // INITIAL_SESSION without it (as auth-js) rather than the dead session then SIGNED_OUT.
        let code = String::from(error.code());
        let was_init = self.init_busy;
        self.init_busy = false; // so `finish_refresh` does not flush INITIAL_SESSION yet
                                // The removal that follows keeps the lock: no other tab may read the dead token.
        self.take_over_refresh_lock(out);
        self.finish_refresh(Err(error), now, out);
        self.end_session(SignOutReason::RefreshFailed(code), true, true, out);
        if was_init {
            self.flush_initial(out);
        }
    }

    // ------------------------------------------------------------------------------------
    // Inputs
    // ------------------------------------------------------------------------------------

    fn send(&mut self, req: HttpRequest, op: HttpOp, now: Now, out: &mut Outbox) -> RequestId {
        let id = out.request_id();
        self.http.insert(id, op);
        self.sent_at.insert(id, now.wall);
        self.timers.set(Timer::Request(id), now.mono.add(self.cfg.request_timeout_ms));
        out.push(Output::Http { id, request: req });
        id
    }

    /// An HTTP result (`Err` for a failure without response). `false` if not ours.
    pub fn handle_http(
        &mut self,
        id: RequestId,
        result: Result<(u16, String), String>,
        now: Now,
        out: &mut Outbox,
    ) -> bool {
        let Some(op) = self.http.remove(&id) else { return false };
        let sent = self.sent_at.remove(&id).unwrap_or(now.wall);
        self.timers.stop(Timer::Request(id));
        let (status, body) = match result {
            Ok(r) => r,
            Err(message) => (0, {
                let mut w = ObjectWriter::new();
                w.str("message", &message);
                w.finish()
            }),
        };
        let ok = (200..300).contains(&status);
        match op {
            HttpOp::Refresh { gen } => self.on_refresh_response(gen, status, body, sent, now, out),
            HttpOp::SignIn { ticket, kind, verifier } => {
                if verifier && self.cfg.persist {
                    // The verifier is single-use, whatever the outcome.
                    let rid = out.request_id();
                    self.store.insert(rid, StoreOp::Write);
                    out.push(Output::Storage { id: rid, op: StorageOp::Remove(self.verifier_key()) });
                }
                if ok {
                    self.on_signed_in(&body, ticket, kind, sent, now, out);
                } else {
                    match ticket {
                        Some(t) => out.event(AppEvent::Done { ticket: t, result: Err(classify(status, &body)) }),
                        None => {
                            // A code from the page URL that did not exchange: start-up is over.
                            out.log(
                                Level::Warn,
                                concat(&["the auth code in the page URL failed: ", classify(status, &body).code()]),
                            );
                            self.init_busy = false;
                            self.flush_initial(out);
                        }
                    }
                }
            }
            HttpOp::NoSession { ticket } => {
                let result = if ok {
                    // signUp without autoconfirm returns the bare user; OTP returns `{}`.
                    let user = if body.trim_start().starts_with('{') && body.contains("\"id\"") {
                        body.as_str()
                    } else {
                        "null"
                    };
                    Ok(requests::user_session_data(user, None))
                } else {
                    Err(classify(status, &body))
                };
                out.event(AppEvent::Done { ticket, result });
            }
            HttpOp::User { ticket, own, purpose } => self.on_user(ticket, own, purpose, status, body, now, out),
            HttpOp::UpdateUser { ticket } => {
                if ok {
                    if let Some(s) = &mut self.session {
                        s.user = body.clone();
                        let data = requests::user_data(&body);
                        self.save(
                            Intent::Amend,
                            Saved { announce: Some(AuthEvent::UserUpdated), ticket: Some((ticket, data)), post: true },
                            out,
                        );
                    } else {
                        out.event(AppEvent::Done { ticket, result: Ok(requests::user_data(&body)) });
                    }
                } else {
                    out.event(AppEvent::Done { ticket, result: Err(classify(status, &body)) });
                }
            }
            HttpOp::Logout { ticket } => {
                // 401/403/404 mean the session is gone already: that is a successful sign-out.
                let result = if ok || matches!(status, 401 | 403 | 404) {
                    Ok(String::from("{}"))
                } else {
                    Err(classify(status, &body))
                };
                out.event(AppEvent::Done { ticket, result });
            }
            HttpOp::Jwks => {
                let waiters = core::mem::take(&mut self.jwks_waiters);
                if ok {
                    self.jwks = Some((body, now.mono));
                    for (t, token) in waiters {
                        self.claims_with_jwks(t, &token, now, out);
                    }
                } else {
                    for (t, _) in waiters {
                        out.event(AppEvent::Done { ticket: t, result: Err(classify(status, &body)) });
                    }
                }
            }
        }
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn on_signed_in(
        &mut self,
        body: &str,
        ticket: Option<Ticket>,
        kind: SignInKind,
        sent: UnixTime,
        now: Now,
        out: &mut Outbox,
    ) {
        let Some(s) = Session::from_response(body, sent) else {
            // signUp without autoconfirm: a user and no session.
            if let Some(t) = ticket {
                let user = if body.contains("\"id\"") { body } else { "null" };
                out.event(AppEvent::Done { ticket: t, result: Ok(requests::user_session_data(user, None)) });
            }
            return;
        };
        // A new session replaces whatever was in flight for the old one.
        self.take_over_refresh_lock(out);
        self.abort_refresh(out, AuthError::Superseded);
        self.sign_out_reason = None;
        self.set_session(s, now);
        let event = match kind {
            SignInKind::SignIn => AuthEvent::SignedIn,
            SignInKind::Recovery => AuthEvent::PasswordRecovery,
            SignInKind::Refreshed => AuthEvent::TokenRefreshed,
        };
        let data = self.session.as_ref().map(|s| requests::user_session_data(&s.user, Some(&s.to_js())));
        let was_init = self.init_busy;
        self.init_busy = false;
        if was_init {
            // A session from the page URL: INITIAL_SESSION carries it, then SIGNED_IN (or
            // PASSWORD_RECOVERY) follows once it is persisted, as auth-js emits it after init.
            self.flush_initial(out);
        }
        self.save(Intent::Replace, Saved { announce: Some(event), ticket: ticket.zip(data), post: true }, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn on_user(
        &mut self,
        ticket: Option<Ticket>,
        own: bool,
        purpose: UserPurpose,
        status: u16,
        body: String,
        now: Now,
        out: &mut Outbox,
    ) {
        let ok = (200..300).contains(&status);
        match purpose {
            UserPurpose::Command | UserPurpose::Claims(_) if !ok => {
                let error = classify(status, &body);
                // The server no longer knows this session or user: it is over (auth-js does the
                // same for session_not_found).
                if own
                    && matches!(
                        error.code(),
                        "session_not_found" | "session_missing" | "user_not_found" | "user_banned"
                    )
                {
                    let code = String::from(if error.code() == "session_missing" {
                        "session_not_found"
                    } else {
                        error.code()
                    });
                    self.end_session(SignOutReason::SessionRevoked(code), true, true, out);
                }
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: Err(error) });
                }
            }
            UserPurpose::Command => {
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: Ok(requests::user_data(&body)) });
                }
            }
            UserPurpose::Claims(token) => {
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: claims_data(&token) });
                }
            }
            UserPurpose::SetSession(at, rt) | UserPurpose::FromUrl { at, rt, .. } if !ok => {
                let _ = (at, rt);
                self.init_busy = false;
                self.flush_initial(out);
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: Err(classify(status, &body)) });
                }
            }
            UserPurpose::SetSession(at, rt) => {
                let exp = jwt::decode(&at).ok().and_then(|c| c.exp).unwrap_or(0).max(0) as u64;
                let expires_in = exp.saturating_sub(now.wall.as_secs());
                let resp = token_response(&at, &rt, expires_in, &body);
                self.on_signed_in(&resp, ticket, SignInKind::SignIn, now.wall, now, out);
            }
            UserPurpose::FromUrl { at, rt, expires_in, recovery } => {
                let resp = token_response(&at, &rt, expires_in, &body);
                let kind = if recovery { SignInKind::Recovery } else { SignInKind::SignIn };
                // INITIAL_SESSION carries the URL session (start-up ends in `on_signed_in`).
                self.on_signed_in(&resp, None, kind, now.wall, now, out);
            }
        }
    }

    /// A storage result. `false` if not ours.
    pub fn handle_storage(
        &mut self,
        id: RequestId,
        result: Result<Option<String>, String>,
        now: Now,
        out: &mut Outbox,
    ) -> bool {
        let Some(op) = self.store.remove(&id) else { return false };
        match op {
            StoreOp::Initial => {
                let value = match result {
                    Ok(v) => v,
                    Err(e) => {
                        self.storage_error = Some(e.clone());
                        out.log(Level::Error, concat(&["could not read the stored session: ", &e]));
                        None
                    }
                };
                self.on_initial(value, now, out);
            }
            StoreOp::RefreshBefore { gen } => {
                // An unreadable storage cannot show another tab's work: refresh our own token.
                // An absent key is not unreadable: another tab signed out (G8: its token must
                // not be presented again).
                let value = match result {
                    Ok(v) => v,
                    Err(_) => self.session.as_ref().map(Session::to_stored),
                };
                self.on_read_before(gen, value, now, out);
            }
            StoreOp::RefreshAfter { gen, fresh } => {
                let value = result.unwrap_or_else(|_| self.session.as_ref().map(Session::to_stored));
                self.on_read_after(gen, fresh, value, now, out);
            }
            StoreOp::RefreshFailedReread { gen, error } => {
                if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
                    return true;
                }
                let presented = self.refresh.as_ref().map(|r| r.token.clone()).unwrap_or_default();
                match result.ok().flatten().as_deref().and_then(Session::from_stored) {
                    Some(s) if s.refresh_token != presented => {
                        // Another tab rotated it: adopt instead of signing out.
                        let same_user = self.session.as_ref().is_some_and(|o| o.user_id == s.user_id);
                        self.set_session(s, now);
                        self.announce(if same_user { AuthEvent::TokenRefreshed } else { AuthEvent::SignedIn }, out);
                        self.finish_refresh(Ok(()), now, out);
                    }
                    _ => self.refresh_failed(error, now, out),
                }
            }
            StoreOp::SessionWritten => self.on_session_written(id, result.map(|_| ()), out),
            StoreOp::LockHolder { gen } => self.on_lock_holder(gen, result.ok().flatten(), out),
            StoreOp::Adopt { hint } => {
                // An unreadable storage shows nothing new: keep what this tab has.
                if let Ok(value) = result {
                    self.on_reread(hint, value, now, out);
                }
            }
            StoreOp::Write => {
                if let Some(Refresh { step: RefreshStep::Commit(cid), .. }) = &self.refresh {
                    if *cid == id {
                        self.on_committed(result.map(|_| ()), now, out);
                        return true;
                    }
                }
                if let Err(e) = result {
                    self.storage_error = Some(e.clone());
                    out.log(Level::Error, concat(&["storage write failed: ", &e]));
                }
            }
            StoreOp::VerifierWritten { ticket, verifier, creds, flow } => {
                if let Err(e) = result {
                    out.event(AppEvent::Done { ticket, result: Err(AuthError::Storage { message: e }) });
                    return true;
                }
                let did = out.request_id();
                self.digests.insert(did, DigestOp::Pkce { ticket, creds, flow });
                out.push(Output::Digest { id: did, data: verifier });
            }
            StoreOp::VerifierRead { ticket, code } => match result.ok().flatten() {
                Some(v) if !v.is_empty() => {
                    let recovery = v.ends_with("/recovery");
                    let verifier = v.trim_end_matches("/recovery");
                    let req = self.gotrue().request(
                        "POST",
                        "/token?grant_type=pkce",
                        None,
                        Some(requests::pkce_body(&code, verifier)),
                    );
                    let kind = if recovery { SignInKind::Recovery } else { SignInKind::SignIn };
                    self.send(req, HttpOp::SignIn { ticket, kind, verifier: true }, now, out);
                }
                _ => match ticket {
                    None => {
                        self.init_busy = false;
                        out.log(
                            Level::Warn,
                            String::from("the page URL has an auth code but no PKCE verifier is stored"),
                        );
                        self.flush_initial(out);
                    }
                    Some(ticket) => {
                        out.event(AppEvent::Done { ticket, result: Err(AuthError::PkceVerifierMissing) });
                    }
                },
            },
        }
        true
    }

    /// A lock result. `false` if not ours.
    pub fn handle_lock(&mut self, id: RequestId, granted: bool, now: Now, out: &mut Outbox) -> bool {
        if let Some(w) = self.write.as_mut().filter(|w| w.lock == id && !w.held) {
            if granted {
                w.held = true;
            } else {
                out.log(Level::Warn, String::from("session lock unavailable; writing the session without it"));
            }
            self.put_session(out);
            return true;
        }
        self.on_lock(id, granted, now, out)
    }

    /// A digest result. `false` if not ours.
    pub fn handle_digest(&mut self, id: RequestId, b64url: Option<String>, now: Now, out: &mut Outbox) -> bool {
        let Some(DigestOp::Pkce { ticket, creds, flow }) = self.digests.remove(&id) else { return false };
        // Without WebCrypto the challenge is the verifier itself (`plain`), as auth-js does.
        let (challenge, method) = match b64url {
            Some(c) => (c, "s256"),
            None => (String::new(), "plain"),
        };
        let creds_v = requests::parse_creds(&creds);
        let challenge = if method == "plain" {
            String::from(creds_v.get("__verifier").and_then(Value::as_str).unwrap_or(""))
        } else {
            challenge
        };
        let pkce = Some((challenge.as_str(), method));
        match flow {
            PkceFlow::OAuth => {
                let url = requests::authorize_url(&self.cfg.base_url, &creds_v, pkce);
                let mut w = ObjectWriter::new();
                w.str("provider", cred(&creds_v, "provider").unwrap_or("")).str("url", &url);
                out.event(AppEvent::Done { ticket, result: Ok(w.finish()) });
            }
            PkceFlow::SignUp => self.signup_request(ticket, &creds_v, pkce, now, out),
            PkceFlow::Otp => self.otp_request(ticket, &creds_v, pkce, now, out),
        }
        true
    }

    /// A signature check result. `false` if not ours.
    pub fn handle_verified(&mut self, id: RequestId, ok: bool, out: &mut Outbox) -> bool {
        let Some((ticket, token)) = self.verifies.remove(&id) else { return false };
        let result =
            if ok { claims_data(&token) } else { Err(AuthError::InvalidJwt { message: "Invalid JWT signature" }) };
        out.event(AppEvent::Done { ticket, result });
        true
    }

    /// A message from another tab (`{event, session}`, as auth-js posts).
    ///
    /// Messages and `storage` events can arrive after this tab's own later write, so they
    /// are hints: the stored session, written under the lock, is read again and adopted
    /// (with the message's event when it is about that session).
    pub fn handle_tab_message(&mut self, data: &str, out: &mut Outbox) {
        let Ok(fields) = json::fields(data) else { return };
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let Some(event) = get("event").and_then(json::str_of).and_then(|e| AuthEvent::parse(&e)) else { return };
        let token = get("session").and_then(|s| json::field(s, "access_token").ok().flatten()).and_then(json::str_of);
        self.reread(Some((event, token)), out);
    }

    /// Another tab wrote the session key (the `storage` event): a hint, like a message.
    pub fn handle_storage_changed(&mut self, out: &mut Outbox) {
        self.reread(None, out);
    }

    fn reread(&mut self, hint: Option<(AuthEvent, Option<String>)>, out: &mut Outbox) {
        if !self.loaded || !self.cfg.persist {
            return;
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::Adopt { hint });
        out.push(Output::Storage { id, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    /// The stored session read again after another tab's message or write.
    fn on_reread(
        &mut self,
        hint: Option<(AuthEvent, Option<String>)>,
        value: Option<String>,
        now: Now,
        out: &mut Outbox,
    ) {
        let session = value.as_deref().and_then(Session::from_stored);
        let event = match (hint, &session) {
            (Some((event, Some(token))), Some(s)) if s.access_token == token => event,
            (_, None) => AuthEvent::SignedOut,
            (_, Some(b)) if self.session.as_ref().is_some_and(|a| a.user_id == b.user_id) => AuthEvent::TokenRefreshed,
            _ => AuthEvent::SignedIn,
        };
        self.adopt(event, session, now, out);
    }

    /// Takes another tab's result without a request of our own.
    fn adopt(&mut self, event: AuthEvent, session: Option<Session>, now: Now, out: &mut Outbox) {
        if !self.loaded {
            return;
        }
        if self.write.as_ref().is_some_and(|w| w.intent == Intent::Replace) {
            // This tab replaced the session and its write has not landed: what others wrote
            // came before it under the lock, and the write supersedes it (then they adopt ours).
            return;
        }
        match (event, session) {
            (AuthEvent::SignedOut, _) if self.session.is_some() => {
                self.end_session(SignOutReason::OtherTab, false, false, out);
            }
            (AuthEvent::SignedOut, _) => {}
            (ev, Some(s)) => {
                if self.session.as_ref().is_some_and(|o| o.access_token == s.access_token) {
                    return; // Already have it (our own write echoing back, or a duplicate).
                }
                // A refresh of ours for an older token is now moot; its commit guard would
                // discard it anyway, so end it early. Not once its request is out: the lock
                // must stay held until the answer, or the next holder may present the same
                // token (G8) — the adopted session can be older than the one in flight (a
                // late storage event).
                let moot = self.refresh.as_ref().is_some_and(|r| {
                    !matches!(r.step, RefreshStep::Request(_) | RefreshStep::ReadAfter(_) | RefreshStep::Commit(_))
                });
                let was_init = self.init_busy && moot;
                if moot {
                    self.abort_refresh(out, AuthError::Superseded);
                }
                let same_user = self.session.as_ref().is_some_and(|o| o.user_id == s.user_id);
                self.set_session(s, now);
                self.last_refresh_error = None;
                let ev = match ev {
                    AuthEvent::TokenRefreshed | AuthEvent::SignedIn if same_user => AuthEvent::TokenRefreshed,
                    AuthEvent::TokenRefreshed => AuthEvent::SignedIn,
                    other => other,
                };
                self.announce(ev, out);
                if was_init {
                    // The start-up refresh was overtaken: start-up settled with this session.
                    self.init_busy = false;
                    self.flush_initial(out);
                }
            }
            _ => {}
        }
    }

    /// Due timers.
    pub fn handle_timeout(&mut self, now: Now, out: &mut Outbox) {
        for t in self.timers.take_expired(now.mono) {
            match t {
                Timer::Refresh | Timer::Retry => {
                    if self.refresh.is_some() {
                        // The flight in progress reschedules when it settles (a new session,
                        // a retry, or the end). Re-arming here would put the timer at `now`
                        // while the token is due: a busy loop until the flight ends.
                    } else if self.session.as_ref().is_some_and(|s| s.needs_refresh(now.wall)) {
                        self.start_refresh(now, out);
                    } else {
                        self.schedule_refresh(now);
                    }
                }
                Timer::Request(id) => {
                    // No answer in time: a network failure; a late answer will be dropped.
                    if self.http.contains_key(&id) {
                        self.handle_http(id, Err(String::from("the auth server did not answer in time")), now, out);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Commands
    // ------------------------------------------------------------------------------------

    fn alive(&self, ticket: Ticket, out: &mut Outbox) -> bool {
        if self.destroyed {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::Destroyed) });
        }
        !self.destroyed
    }

    /// `signUp`.
    pub fn sign_up(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let c = requests::parse_creds(creds);
        if self.cfg.pkce && cred(&c, "email").is_some() {
            self.pkce_then(ticket, creds, PkceFlow::SignUp, out);
            return;
        }
        self.signup_request(ticket, &c, None, now, out);
    }

    /// `POST /signup` (a session, or the bare user without autoconfirm).
    fn signup_request(&mut self, ticket: Ticket, c: &Value, pkce: Option<(&str, &str)>, now: Now, out: &mut Outbox) {
        let mut path = String::from("/signup");
        path.push_str(&requests::redirect_query(c, "emailRedirectTo"));
        self.post(&path, requests::signup_body(c, pkce), signed_in(ticket), now, out);
    }

    /// `POST /otp` (no session: the code is mailed).
    fn otp_request(&mut self, ticket: Ticket, c: &Value, pkce: Option<(&str, &str)>, now: Now, out: &mut Outbox) {
        let mut path = String::from("/otp");
        path.push_str(&requests::redirect_query(c, "emailRedirectTo"));
        self.post(&path, requests::otp_body(c, pkce), HttpOp::NoSession { ticket }, now, out);
    }

    /// A refresh-token grant outside the refresh protocol (`refreshSession` with a given token,
    /// `setSession` with an expired access token): answered as TOKEN_REFRESHED.
    fn grant_refresh(&mut self, ticket: Ticket, rt: &str, now: Now, out: &mut Outbox) {
        let op = HttpOp::SignIn { ticket: Some(ticket), kind: SignInKind::Refreshed, verifier: false };
        self.post("/token?grant_type=refresh_token", requests::refresh_body(rt), op, now, out);
    }

    /// A key-level `POST` whose answer is handled as `op`.
    fn post(&mut self, path: &str, body: String, op: HttpOp, now: Now, out: &mut Outbox) {
        let req = self.gotrue().request("POST", path, None, Some(body));
        self.send(req, op, now, out);
    }

    /// `signInWithPassword`.
    pub fn sign_in_with_password(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if self.alive(ticket, out) {
            let body = requests::password_body(&requests::parse_creds(creds));
            self.post("/token?grant_type=password", body, signed_in(ticket), now, out);
        }
    }

    /// `signInAnonymously`: a sign-up without credentials (only `options` is kept).
    pub fn sign_in_anonymously(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let options = requests::parse_creds(creds).get("options").cloned();
        let c = Value::Obj(options.map(|o| alloc::vec![(String::from("options"), o)]).unwrap_or_default());
        self.signup_request(ticket, &c, None, now, out);
    }

    /// `signInWithOtp`.
    pub fn sign_in_with_otp(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let c = requests::parse_creds(creds);
        if self.cfg.pkce && cred(&c, "email").is_some() {
            self.pkce_then(ticket, creds, PkceFlow::Otp, out);
            return;
        }
        self.otp_request(ticket, &c, None, now, out);
    }

    /// `verifyOtp`.
    pub fn verify_otp(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let c = requests::parse_creds(creds);
        let kind = if cred(&c, "type") == Some("recovery") { SignInKind::Recovery } else { SignInKind::SignIn };
        let mut path = String::from("/verify");
        path.push_str(&requests::redirect_query(&c, "redirectTo"));
        self.post(
            &path,
            requests::verify_body(&c),
            HttpOp::SignIn { ticket: Some(ticket), kind, verifier: false },
            now,
            out,
        );
    }

    /// `signInWithIdToken`.
    pub fn sign_in_with_id_token(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        if self.alive(ticket, out) {
            let body = requests::id_token_body(&requests::parse_creds(creds));
            self.post("/token?grant_type=id_token", body, signed_in(ticket), now, out);
        }
    }

    /// `signInWithOAuth`: `{ provider, url }` (the shell navigates unless told not to). With
    /// PKCE a verifier is stored first.
    pub fn sign_in_with_oauth(&mut self, ticket: Ticket, creds: &str, _now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        if self.cfg.pkce {
            self.pkce_then(ticket, creds, PkceFlow::OAuth, out);
            return;
        }
        let c = requests::parse_creds(creds);
        let url = requests::authorize_url(&self.cfg.base_url, &c, None);
        let mut w = ObjectWriter::new();
        w.str("provider", cred(&c, "provider").unwrap_or("")).str("url", &url);
        out.event(AppEvent::Done { ticket, result: Ok(w.finish()) });
    }

    /// Generates a PKCE verifier (112 hex characters from 56 random bytes, as auth-js), stores
    /// it, then continues with its S256 challenge.
    fn pkce_then(&mut self, ticket: Ticket, creds: &str, flow: PkceFlow, out: &mut Outbox) {
        let mut bytes = [0u8; 56];
        self.rng.fill(&mut bytes);
        let mut verifier = String::with_capacity(112);
        for b in bytes {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            verifier.push(HEX[usize::from(b >> 4)] as char);
            verifier.push(HEX[usize::from(b & 15)] as char);
        }
        // Carry the verifier along for the `plain` fallback.
        let mut c = requests::parse_creds(creds);
        if let Value::Obj(m) = &mut c {
            m.push((String::from("__verifier"), Value::Str(verifier.clone())));
        }
        let creds = c.to_json();
        let id = out.request_id();
        self.store.insert(id, StoreOp::VerifierWritten { ticket, verifier: verifier.clone(), creds, flow });
        out.push(Output::Storage { id, op: StorageOp::Set(self.verifier_key(), verifier) });
    }

    /// `exchangeCodeForSession(code)`.
    pub fn exchange_code(&mut self, ticket: Ticket, code: &str, _now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::VerifierRead { ticket: Some(ticket), code: String::from(code) });
        out.push(Output::Storage { id, op: StorageOp::Get(self.verifier_key()) });
    }

    /// `signOut({ scope })`. `global` and `local` end the session here at once (guarantee
    /// G5); the server call's result resolves the ticket.
    pub fn sign_out(&mut self, ticket: Ticket, scope: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let scope = match scope {
            "local" | "others" => scope,
            _ => "global",
        };
        let Some(at) = self.session.as_ref().map(|s| s.access_token.clone()) else {
            out.event(AppEvent::Done { ticket, result: Ok(String::from("{}")) });
            return;
        };
        let mut path = String::from("/logout?scope=");
        path.push_str(scope);
        let req = self.gotrue().request("POST", &path, Some(&at), None);
        self.send(req, HttpOp::Logout { ticket }, now, out);
        if scope != "others" {
            self.end_session(SignOutReason::User, true, true, out);
        }
    }

    /// `getSession()`: waits for a refresh when the token is expired or one is in flight.
    pub fn get_session(&mut self, ticket: Ticket, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        self.ensure_fresh(now, out);
        let expired = self.session.as_ref().is_none_or(|s| s.is_expired(now.wall));
        // Wait for start-up, or for a refresh when the current token is no longer usable.
        if !self.loaded || self.init_busy || (self.refresh.is_some() && expired) {
            self.refresh_waiters.push((ticket, Waiter::Session));
            return;
        }
        let s = self.session.as_ref().map(Session::to_js);
        out.event(AppEvent::Done { ticket, result: Ok(data_session(s.as_deref())) });
    }

    /// `refreshSession({ refresh_token? })`: always refreshes.
    pub fn refresh_session(&mut self, ticket: Ticket, refresh_token: Option<&str>, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        if let Some(rt) = refresh_token {
            if self.session.as_ref().is_none_or(|s| s.refresh_token != rt) {
                self.grant_refresh(ticket, rt, now, out);
                return;
            }
        }
        if self.session.is_none() {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        }
        self.refresh_waiters.push((ticket, Waiter::UserSession));
        if self.refresh.is_none() {
            self.timers.stop(Timer::Retry);
            self.start_refresh(now, out);
        }
    }

    /// `setSession({ access_token, refresh_token })`.
    pub fn set_session_cmd(&mut self, ticket: Ticket, at: &str, rt: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let Ok(claims) = jwt::decode(at) else {
            out.event(AppEvent::Done {
                ticket,
                result: Err(AuthError::InvalidJwt { message: "Invalid JWT structure" }),
            });
            return;
        };
        let expired = claims.exp.is_none_or(|e| e <= now.wall.as_secs() as i64);
        if expired {
            self.grant_refresh(ticket, rt, now, out);
        } else {
            let req = self.gotrue().request("GET", "/user", Some(at), None);
            let purpose = UserPurpose::SetSession(String::from(at), String::from(rt));
            self.send(req, HttpOp::User { ticket: Some(ticket), own: false, purpose }, now, out);
        }
    }

    /// `getUser(jwt?)`.
    pub fn get_user(&mut self, ticket: Ticket, jwt: Option<&str>, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let own = jwt.is_none();
        let Some(token) = jwt.map(String::from).or_else(|| self.session.as_ref().map(|s| s.access_token.clone()))
        else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        };
        let req = self.gotrue().request("GET", "/user", Some(&token), None);
        self.send(req, HttpOp::User { ticket: Some(ticket), own, purpose: UserPurpose::Command }, now, out);
    }

    /// `updateUser(attributes)`.
    pub fn update_user(&mut self, ticket: Ticket, attrs: &str, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let Some(at) = self.session.as_ref().map(|s| s.access_token.clone()) else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        };
        let body = requests::parse_creds(attrs).to_json();
        let req = self.gotrue().request("PUT", "/user", Some(&at), Some(body));
        self.send(req, HttpOp::UpdateUser { ticket }, now, out);
    }

    /// `getClaims(jwt?)`: decodes, checks `exp`, and verifies the signature (ES256/RS256 via
    /// the JWKS and WebCrypto; HS256 or no `kid` via `GET /user`).
    pub fn get_claims(&mut self, ticket: Ticket, jwt_arg: Option<&str>, now: Now, out: &mut Outbox) {
        if !self.alive(ticket, out) {
            return;
        }
        let Some(token) = jwt_arg.map(String::from).or_else(|| self.session.as_ref().map(|s| s.access_token.clone()))
        else {
            out.event(AppEvent::Done { ticket, result: Ok(String::from("null")) });
            return;
        };
        let Ok(claims) = jwt::decode(&token) else {
            out.event(AppEvent::Done {
                ticket,
                result: Err(AuthError::InvalidJwt { message: "Invalid JWT structure" }),
            });
            return;
        };
        if claims.exp.is_none_or(|e| e <= now.wall.as_secs() as i64) {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::InvalidJwt { message: "JWT has expired" }) });
            return;
        }
        let asymmetric = matches!(claims.alg.as_deref(), Some("ES256" | "RS256"));
        if !asymmetric || claims.kid.is_none() {
            let req = self.gotrue().request("GET", "/user", Some(&token), None);
            self.send(
                req,
                HttpOp::User { ticket: Some(ticket), own: jwt_arg.is_none(), purpose: UserPurpose::Claims(token) },
                now,
                out,
            );
            return;
        }
        let fresh = self.jwks.as_ref().is_some_and(|(_, at)| now.mono.since(*at) < JWKS_TTL_MS);
        if fresh {
            self.claims_with_jwks(ticket, &token, now, out);
            return;
        }
        self.jwks_waiters.push((ticket, token));
        if !self.http.values().any(|op| *op == HttpOp::Jwks) {
            let req = self.gotrue().request("GET", "/.well-known/jwks.json", None, None);
            self.send(req, HttpOp::Jwks, now, out);
        }
    }

    fn claims_with_jwks(&mut self, ticket: Ticket, token: &str, now: Now, out: &mut Outbox) {
        let Ok(c) = jwt::decode(token) else { return };
        let jwk = self.jwks.as_ref().and_then(|(keys, _)| {
            let v = json::parse(keys).ok()?;
            let list = v.get("keys")?.as_array()?;
            list.iter().find(|k| k.get("kid").and_then(Value::as_str) == c.kid.as_deref()).map(Value::to_json)
        });
        let Some(jwk) = jwk else {
            // An unknown kid: refetch once (keys rotate), then give up.
            let stale = self.jwks.take().is_some();
            if stale {
                self.jwks_waiters.push((ticket, String::from(token)));
                let req = self.gotrue().request("GET", "/.well-known/jwks.json", None, None);
                self.send(req, HttpOp::Jwks, now, out);
            } else {
                out.event(AppEvent::Done {
                    ticket,
                    result: Err(AuthError::InvalidJwt { message: "No matching signing key" }),
                });
            }
            return;
        };
        let (signed, signature) = token.rsplit_once('.').unwrap_or((token, ""));
        let id = out.request_id();
        self.verifies.insert(id, (ticket, String::from(token)));
        out.push(Output::Verify {
            id,
            alg: c.alg.unwrap_or_default(),
            jwk,
            signed: String::from(signed),
            signature: String::from(signature),
        });
    }

    /// `startAutoRefresh()`.
    pub fn start_auto_refresh(&mut self, now: Now) {
        self.auto_refresh = true;
        self.schedule_refresh(now);
    }

    /// `stopAutoRefresh()` (G4 still refreshes on demand before socket use).
    pub fn stop_auto_refresh(&mut self) {
        self.auto_refresh = false;
        self.timers.stop(Timer::Refresh);
    }

    /// Forget everything; later commands fail with `destroyed`.
    pub fn destroy(&mut self, out: &mut Outbox) {
        self.abort_refresh(out, AuthError::Destroyed);
        if let Some(w) = self.write.take() {
            // Release the lock, or stop waiting for it.
            let id = out.request_id();
            out.push(Output::Lock { id, op: LockOp::Release { of: w.lock } });
        }
        self.destroyed = true;
        self.timers = TimerTable::default();
        self.listeners.clear();
    }
}

/// The operation for a grant whose answer signs the user in.
fn signed_in(ticket: Ticket) -> HttpOp {
    HttpOp::SignIn { ticket: Some(ticket), kind: SignInKind::SignIn, verifier: false }
}

/// A token response assembled from a token pair and a user (sessions from the URL and from
/// `setSession`).
fn token_response(at: &str, rt: &str, expires_in: u64, user: &str) -> String {
    let exp = jwt::decode(at).ok().and_then(|c| c.exp);
    let mut w = ObjectWriter::new();
    w.str("access_token", at).str("token_type", "bearer").u64("expires_in", expires_in);
    if let Some(e) = exp {
        w.i64("expires_at", e);
    }
    w.str("refresh_token", rt).raw("user", if user.trim_start().starts_with('{') { user } else { "null" });
    w.finish()
}

/// `{ claims, header, signature }` for `getClaims()`.
fn claims_data(token: &str) -> Result<String, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::InvalidJwt { message: "Invalid JWT structure" });
    };
    let c = jwt::decode(token).map_err(|_| AuthError::InvalidJwt { message: "Invalid JWT structure" })?;
    let header = jwt::b64url_decode(h).and_then(|b| String::from_utf8(b).ok()).unwrap_or_else(|| String::from("{}"));
    let mut w = ObjectWriter::new();
    w.raw("claims", &c.raw).raw("header", &header).str("signature", sig);
    Ok(w.finish())
}
