//! Refreshing the session: when (the refresh timer; before every use of the token, G4; at
//! once when the server said it expired, G6), how failures retry, and the cross-tab protocol
//! that presents each refresh token at most once, browser-wide (G8).
//!
//! # The refresh protocol (guarantee G8)
//!
//! GoTrue rotates the refresh token on every use, and a token used again outside its reuse
//! window revokes the session. All tabs of a browser share one stored session, so they take
//! turns, and none may present a token another tab already presented. A flight (`Refresh`)
//! goes through these steps:
//!
//! 1. **Lock, with a timeout and a holder record.** Ask for the Web Lock `lock:<storage key>`
//!    (`lock_request`) with a timeout (`lock_timeout_ms`) longer than a request may take
//!    (`request_timeout_ms`), so a live holder always finishes, or gives up, before a waiter
//!    stops waiting. On the grant (`on_lock`), record that the lock changed hands
//!    (`<storage key>-lock-holder`: `{at, by}`, `by` from the runtime's CSPRNG; without one
//!    no record is written), so that a tab
//!    whose wait timed out can tell a chain of live holders from a stuck one.
//!
//!    *Re-wait rule* (`on_lock_holder`): a wait that timed out reads the holder record. If it
//!    changed since the last look (the first look counts any record), the lock is passing
//!    between live holders, each within its request timeout: wait again (at most
//!    `MAX_REWAITS` times), so no holder's presentation is doubled. A holder that kept the
//!    lock through a whole wait is stuck (and without Web Locks there is no record): go on
//!    without the lock, skipping step 1 only, never 2 or 4. No clock is compared, so a
//!    wall-clock jump cannot make a live holder look stuck.
//! 2. **Re-read storage** (`read_before`, `on_read_before`). Another tab may have refreshed
//!    while this one waited: adopt its session and send nothing, or, if that session is due
//!    too, refresh *it*, still under the lock. An absent key means another tab signed out: its
//!    token must not be presented again, so the session ends here. Unreadable storage shows no
//!    other tab's work: go on with this tab's token.
//! 3. **Newest token, request** (`send_refresh`, `on_refresh_response`). Present the newest
//!    refresh token known (`Refresh::token`, which step 2 updates). A failure that says the
//!    token is dead (`AuthError::ends_session`) first reads storage again
//!    (`on_refresh_failed_reread`): another tab may have used this token and stored its
//!    successor, which is then adopted instead of signing out.
//! 4. **Commit guard** (`on_read_after`). Read storage once more: if it no longer holds the
//!    token this flight presented (another tab got in without the lock, or a sign-out), the
//!    response is discarded and what is stored is taken (or the session ends), so new tokens
//!    never overwrite a newer session or bring a signed-out one back.
//! 5. **Write, post, release, announce** (`commit_refresh`, `on_committed`, `finish_refresh`).
//!    Write the new session while still holding the lock, post it to the other tabs (a hint:
//!    they read storage again, `tabs.rs`), release the lock, answer the commands that waited,
//!    and only then tell the application. No user callback runs while the lock is held
//!    (`events.rs` holds announcements back until the release), so a slow callback cannot
//!    keep every tab waiting.
//!
//! Around the flight:
//! - Every other write of the session key (sign-in, sign-out, updated user) also takes the
//!   lock (`SessionWrite`, `persist.rs`), so none lands between another tab's steps 4 and 5.
//!   A session replaced while this tab's flight holds the lock takes the lock over for its
//!   write (`take_over_refresh_lock`) instead of releasing it in between.
//! - While the request of step 3 is out, the flight keeps the lock until the answer, even if
//!   another tab's sign-out ends the session here or another tab's session is adopted: the
//!   next holder could otherwise present the same token while this presentation is
//!   outstanding. The commit guard then discards the answer.
//! - Tab messages and `storage` events may arrive after this tab's own later write: they only
//!   make this tab read storage again (`tabs.rs`).
//! - Without persistence no other tab shares the token: the flight goes straight to the
//!   request (`RefreshStep::Unshared`) and commits in memory.
//!
//! Transient failures (network, 5xx, 409, 429) keep a still-valid session and retry with full
//! jitter (`RETRY`, `RETRY_429`); any other failure ends the session
//! ([`SignOutReason::RefreshFailed`]).

use alloc::string::String;

use authwire_wire::json::ObjectWriter;

use super::requests;
use super::session::Session;
use super::{classify, data_session, Auth, AuthCommand, HttpOp, SignOutReason, StoreOp, Timer};
use crate::backoff::Backoff;
use crate::error::AuthError;
use crate::io::{concat, AppEvent, AuthEvent, Level, LockOp, Outbox, Output, RequestId, StorageOp};
use crate::time::{Now, UnixTime};

/// Where a flight is in the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RefreshStep {
    /// Not persisting, so no other tab shares the token: straight to the request.
    Unshared,
    Lock(RequestId),
    /// The lock wait timed out: reading when its holder took it.
    LockHolder(RequestId),
    ReadBefore(RequestId),
    /// Storage still holds the flight's own token: asking, without waiting, for its `spent:`
    /// lock — held means another tab rotated it and this tab's storage view lags.
    Probe(RequestId),
    Request(RequestId),
    ReadAfter(RequestId),
    /// Writing the new session; then mark the old token spent, post, release, announce.
    Commit(RequestId),
    /// Taking the presented token's `spent:` lock before the refresh lock goes.
    Spend(RequestId),
}

/// The refresh in flight (at most one per tab).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refresh {
    /// The session generation it refreshes; answers for an older one are stale.
    pub(super) gen: u64,
    pub(super) step: RefreshStep,
    /// The cross-tab lock, while this flight holds it.
    pub(super) lock: Option<RequestId>,
    /// The refresh token this flight refreshes (the newest known).
    pub(super) token: String,
    /// Lock waits begun again because the lock changed hands meanwhile.
    pub(super) rewaits: u8,
    /// The lock holder's record at the last timed-out wait.
    pub(super) holder_seen: Option<String>,
    /// Storage re-reads after a probe found the flight's token spent.
    pub(super) probes: u8,
}

/// At most this many lock waits again behind holders that took the lock meanwhile, before
/// going on without it (bounds the wait behind a chain of holders).
const MAX_REWAITS: u8 = 8;

/// What a command waiting for the flight is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Waiter {
    /// `getSession()`: `{ session }`.
    Session,
    /// `refreshSession()` / `setSession()`: `{ user, session }` or the error.
    UserSession,
    /// A command that uses the token: parked when the flight ends, however it ends
    /// (`dispatch.rs`).
    Run(AuthCommand),
}

/// The refresh retry policy after transient failures (network, 5xx, 409): full jitter from
/// 0.5 s growing to 30 s.
const RETRY: Backoff = Backoff::FullJitter { base: 500, cap: 30_000, growth_pct: 200 };

/// After a 429 GoTrue gives no `Retry-After`; back off harder.
const RETRY_429: Backoff = Backoff::FullJitter { base: 5_000, cap: 60_000, growth_pct: 200 };

impl Auth {
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

    /// The auth server said, about `token`, that its user or session is gone
    /// (`user_not_found`, `session_not_found`, `user_banned` on `GET /user`): if it is this
    /// session's token, the session is over, as a `getUser()` with that answer ends it.
    /// A session a refresh ended as unknown (see [`Auth::take_dead_token`]) gets this reason
    /// instead of `refresh_failed`.
    pub fn revoked(&mut self, token: &str, code: &str, out: &mut Outbox) {
        let reason = SignOutReason::SessionRevoked(String::from(code));
        if self.session.as_ref().is_some_and(|s| s.access_token == token) {
            self.end_session(reason, true, true, out);
        } else if self.session.is_none()
            && matches!(&self.sign_out_reason, Some(SignOutReason::RefreshFailed(c)) if c == "refresh_token_not_found")
        {
            self.sign_out_reason = Some(reason);
        }
    }

    /// G6: the server said the token expired; refresh now whatever our clock thinks.
    pub fn force_refresh(&mut self, now: Now, out: &mut Outbox) {
        if self.refresh.is_none() && self.session.is_some() {
            self.timers.stop(Timer::Retry);
            self.start_refresh(now, out);
        }
    }

    /// Arms the refresh timer for the session's refresh time (with auto-refresh on).
    pub(super) fn schedule_refresh(&mut self, now: Now) {
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

    /// The refresh timer (or the retry's) fired.
    pub(super) fn on_refresh_timer(&mut self, now: Now, out: &mut Outbox) {
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

    /// Begins a flight for the current session: step 1, or straight to the request when not
    /// persisting.
    pub(super) fn start_refresh(&mut self, now: Now, out: &mut Outbox) {
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
                rewaits: 0,
                holder_seen: None,
                probes: 0,
            });
        } else {
            let step = RefreshStep::Unshared;
            self.refresh = Some(Refresh { gen, step, lock: None, token, rewaits: 0, holder_seen: None, probes: 0 });
            self.send_refresh(now, out);
        }
    }

    /// Asks for the cross-tab lock `lock:<storage key>`.
    pub(super) fn lock_request(&mut self, out: &mut Outbox) -> RequestId {
        let id = out.request_id();
        let mut name = String::from("lock:");
        name.push_str(&self.cfg.storage_key);
        out.push(Output::Lock { id, op: LockOp::Acquire { name, timeout_ms: self.cfg.lock_timeout_ms } });
        id
    }

    /// Step 1: a lock result for this flight (`false` if not its lock). Granted: record the
    /// new holder and go on to step 2; timed out: read the holder record.
    pub(super) fn on_lock(&mut self, id: RequestId, granted: bool, now: Now, out: &mut Outbox) -> bool {
        let Some(r) = &mut self.refresh else {
            if granted {
                // A grant for a flight that ended: give it back at once.
                let rid = out.request_id();
                out.push(Output::Lock { id: rid, op: LockOp::Release { of: id } });
            }
            return granted;
        };
        match r.step {
            RefreshStep::Probe(p) if p == id => {
                self.on_probe(id, granted, now, out);
                return true;
            }
            RefreshStep::Spend(p) if p == id => {
                self.on_spent(id, granted, now, out);
                return true;
            }
            _ => {}
        }
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
            // The lock changed hands: a record that tabs whose wait times out compare. Its
            // `by` only has to differ between holders, but it comes from the runtime's CSPRNG
            // as every other id an attacker could want to predict; without one (no browser
            // with Web Locks lacks it) the record is not written and waiters that time out
            // go on under the commit guard, as with a stuck holder.
            match self.entropy.take::<8>() {
                Some(by) => {
                    let mut w = ObjectWriter::new();
                    w.i64("at", now.wall.as_millis() as i64);
                    w.i64("by", (u64::from_le_bytes(by) >> 12) as i64);
                    let wid = out.request_id();
                    self.store.insert(wid, StoreOp::Write);
                    out.push(Output::Storage { id: wid, op: StorageOp::Set(self.holder_key(), w.finish()) });
                }
                None => out.log(Level::Warn, String::from("no crypto.getRandomValues: lock-holder record not written")),
            }
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
    pub(super) fn on_lock_holder(&mut self, gen: u64, value: Option<String>, out: &mut Outbox) {
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

    /// The record of when the refresh lock last changed hands.
    fn holder_key(&self) -> String {
        let mut k = self.cfg.storage_key.clone();
        k.push_str("-lock-holder");
        k
    }

    /// Step 2 begins: read the stored session.
    pub(super) fn read_before(&mut self, out: &mut Outbox) {
        let Some(r) = &mut self.refresh else { return };
        let gen = r.gen;
        let rid = out.request_id();
        r.step = RefreshStep::ReadBefore(rid);
        self.store.insert(rid, StoreOp::RefreshBefore { gen });
        out.push(Output::Storage { id: rid, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    /// Step 2: the stored session before refreshing.
    pub(super) fn on_read_before(
        &mut self,
        gen: u64,
        result: Result<Option<String>, String>,
        now: Now,
        out: &mut Outbox,
    ) {
        // An unreadable storage cannot show another tab's work: refresh our own token.
        // An absent key is not unreadable: another tab signed out (G8: its token must
        // not be presented again).
        let value = match result {
            Ok(v) => v,
            Err(_) => self.session.as_ref().map(Session::to_stored),
        };
        if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
            return;
        }
        let stored = value.as_deref().and_then(|v| Session::from_stored(v, now.wall));
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
                self.take_stored(s, now, out);
                if let Some(r) = &mut self.refresh {
                    r.gen = self.session_gen;
                }
                if fresh_enough {
                    self.last_refresh_error = None;
                    self.finish_refresh(Ok(()), now, out);
                } else {
                    // The newest token is due too: refresh *it*, still under the lock.
                    if let (Some(r), Some(s)) = (&mut self.refresh, &self.session) {
                        r.token = s.refresh_token.clone();
                    }
                    self.probe_spent(out);
                }
            }
            _ => self.probe_spent(out),
        }
    }

    /// Step 3: presents the flight's token.
    pub(super) fn send_refresh(&mut self, now: Now, out: &mut Outbox) {
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

    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_refresh_response(
        &mut self,
        gen: u64,
        status: u16,
        body: String,
        sent: UnixTime,
        now: Now,
        out: &mut Outbox,
    ) {
        if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
            return;
        }
        if (200..300).contains(&status) {
            let Some(mut fresh) = Session::from_response(&body, sent) else {
                self.refresh_failed(AuthError::InvalidResponse, now, out);
                return;
            };
            fresh.received(sent, now.wall);
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

    /// Step 3, a failure that would end the session: the stored session, read again first.
    pub(super) fn on_refresh_failed_reread(
        &mut self,
        gen: u64,
        error: AuthError,
        result: Result<Option<String>, String>,
        now: Now,
        out: &mut Outbox,
    ) {
        if self.refresh.as_ref().is_none_or(|r| r.gen != gen) {
            return;
        }
        let presented = self.refresh.as_ref().map(|r| r.token.clone()).unwrap_or_default();
        match result.ok().flatten().as_deref().and_then(|v| Session::from_stored(v, now.wall)) {
            Some(s) if s.refresh_token != presented => {
                // Another tab rotated it: adopt instead of signing out.
                self.take_stored(s, now, out);
                self.finish_refresh(Ok(()), now, out);
            }
            _ => self.refresh_failed(error, now, out),
        }
    }

    /// The flight failed: a transient failure keeps the session and retries later; any other
    /// ends it (its removal still under the flight's lock).
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
        // Cleared so that `finish_refresh` does not flush INITIAL_SESSION yet.
        self.init_busy = false;
        // The removal that follows keeps the lock: no other tab may read the dead token.
        self.take_over_refresh_lock(out);
        self.finish_refresh(Err(error), now, out);
        // "Not found" does not say why the session is gone; its access token, while valid,
        // lets the auth server say it (the client asks with `GET /user`).
        self.dead_token = self
            .session
            .as_ref()
            .filter(|s| code == "refresh_token_not_found" && s.local_expiry() > now.wall.as_secs())
            .map(|s| s.access_token.clone());
        self.end_session(SignOutReason::RefreshFailed(code), true, true, out);
        if was_init {
            self.flush_initial(out);
        }
    }

    /// Step 4: the commit guard.
    pub(super) fn on_read_after(
        &mut self,
        gen: u64,
        fresh: Session,
        result: Result<Option<String>, String>,
        now: Now,
        out: &mut Outbox,
    ) {
        let value = result.unwrap_or_else(|_| self.session.as_ref().map(Session::to_stored));
        let Some(r) = &self.refresh else { return };
        if r.gen != gen {
            return;
        }
        let presented = r.token.clone();
        let stored = value.as_deref().and_then(|v| Session::from_stored(v, now.wall));
        match stored {
            Some(s) if s.refresh_token == presented => self.commit_refresh(fresh, now, out),
            Some(s) => {
                // Someone else committed first: theirs wins; ours is discarded (the server's
                // parent-of-active rule covers the token we rotated).
                out.log(
                    Level::Info,
                    String::from("refresh discarded by the commit guard: another tab committed first"),
                );
                self.take_stored(s, now, out);
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

    /// Takes the session another tab stored instead of this flight's result: TOKEN_REFRESHED
    /// for the same user, SIGNED_IN for another.
    fn take_stored(&mut self, s: Session, now: Now, out: &mut Outbox) {
        let same_user = self.session.as_ref().is_some_and(|o| o.user_id == s.user_id);
        self.set_session(s, now);
        self.announce(if same_user { AuthEvent::TokenRefreshed } else { AuthEvent::SignedIn }, out);
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

    /// Step 5, the write landed: post, release, announce.
    pub(super) fn on_committed(&mut self, result: Result<(), String>, now: Now, out: &mut Outbox) {
        if let Err(e) = result {
            self.storage_error = Some(e.clone());
            out.log(Level::Error, concat(&["could not persist the refreshed session: ", &e]));
        }
        let Some(r) = &self.refresh else { return };
        if r.lock.is_none() {
            // Without the refresh lock there is no order to keep: done.
            self.on_spent_done(now, out);
            return;
        }
        // Mark the presented token spent while the refresh lock is still held: the next
        // holder's probe then finds it, however stale its storage is.
        let id = self.ask_spent_lock(out);
        if let Some(r) = &mut self.refresh {
            r.step = RefreshStep::Spend(id);
        }
    }

    pub(super) fn on_spent_done(&mut self, now: Now, out: &mut Outbox) {
        self.tab_post(AuthEvent::TokenRefreshed, out);
        self.finish_refresh(Ok(()), now, out);
        self.announce(AuthEvent::TokenRefreshed, out);
    }

    /// Releases the flight's lock (if it holds it), then lets held-back announcements out.
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
            if let Waiter::Run(cmd) = w {
                self.parked.push((ticket, cmd));
                continue;
            }
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

    /// A flight was overtaken (sign-out, sign-in): release and fail its waiters (a command
    /// that waited to use the token is parked, to run with what replaced the flight).
    pub(super) fn abort_refresh(&mut self, out: &mut Outbox, error: AuthError) {
        if self.refresh.is_none() {
            return;
        }
        self.release_lock(out);
        self.refresh = None;
        self.fail_refresh_waiters(&error, out);
    }

    /// Answers the flight's waiters with `error`; commands that wait to use the token are
    /// parked instead.
    pub(super) fn fail_refresh_waiters(&mut self, error: &AuthError, out: &mut Outbox) {
        for (ticket, w) in core::mem::take(&mut self.refresh_waiters) {
            match w {
                Waiter::Run(cmd) => self.parked.push((ticket, cmd)),
                _ => out.event(AppEvent::Done { ticket, result: Err(error.clone()) }),
            }
        }
    }
}
