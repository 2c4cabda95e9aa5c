//! Session changes and their persistence: installing a session (with the token change it
//! means for Realtime, and its refresh timer), a session arriving from a sign-in, ending the
//! session, and every write of the session key. Each write goes through one `SessionWrite`,
//! under the cross-tab lock like a refresh commit (G8, `refresh.rs`), and what waited for it
//! (a post, an announcement, the caller's answer) follows once it landed: persist first, then
//! notify.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::json::{self, Value};

use super::refresh::RefreshStep;
use super::requests;
use super::session::Session;
use super::{Auth, Grant, SignInKind, SignOutReason, StoreOp, Timer};
use crate::error::AuthError;
use crate::io::{concat, AppEvent, AuthEvent, Level, LockOp, Outbox, Output, RequestId, StorageOp, Ticket};
use crate::time::{Now, UnixTime};
use crate::token::TokenChange;

/// What a session write means for other tabs' results that arrive before it lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Intent {
    /// This tab replaced the session (a sign-in, a sign-out): whatever another tab wrote
    /// before this write lands is superseded by it, so it is not adopted.
    Replace,
    /// This tab changed the session it has (an updated user): other tabs' results are
    /// adopted, and the write stores the session as it is when the write goes out.
    Amend,
}

/// What to do once a saved session landed (persist first, then notify).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Saved {
    /// The event for the listeners.
    pub(super) announce: Option<AuthEvent>,
    /// The caller, and its answer.
    pub(super) ticket: Option<(Ticket, String)>,
    /// Post the announcement to the other tabs.
    pub(super) post: bool,
}

/// A write of the session key. Every write of the key happens under the cross-tab lock, as
/// the refresh commit does, so no write (a sign-in, a sign-out) can land between a refresh's
/// commit guard and its commit in another tab (G8). What is written is the session as it is
/// when the write goes out; requests made meanwhile join it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SessionWrite {
    /// The lock request (or the refresh flight's lock this write took over).
    pub(super) lock: RequestId,
    /// The lock is held: granted, or taken over from this tab's refresh flight.
    pub(super) held: bool,
    /// The storage request in flight.
    pub(super) writing: Option<RequestId>,
    /// The session changed while a write was in flight: write once more before releasing.
    pub(super) again: bool,
    /// `Replace` if any write it took along replaced the session.
    pub(super) intent: Intent,
    /// What waits for the write to land, in order.
    pub(super) after: Vec<Saved>,
}

/// What auth-js adds to a sign-in's `{ user, session }`: `weak_password` after the password
/// grant when GoTrue flagged the password (with its `reasons` and `message`), `redirectType`
/// (`'recovery'` or `null`) after a PKCE code exchange.
fn with_grant_extras(mut data: String, grant: Grant, recovery: bool, body: &str) -> String {
    let extra = match grant {
        Grant::Plain => None,
        Grant::Password => json::field(body, "weak_password")
            .ok()
            .flatten()
            .filter(|w| {
                let Ok(v) = json::parse(w) else { return false };
                let reasons = v.get("reasons").and_then(Value::as_array).unwrap_or(&[]);
                !reasons.is_empty()
                    && reasons.iter().all(|r| r.as_str().is_some())
                    && v.get("message").and_then(Value::as_str).is_some_and(|m| !m.is_empty())
            })
            .map(|w| ("weak_password", String::from(w))),
        Grant::Pkce => Some(("redirectType", String::from(if recovery { "\"recovery\"" } else { "null" }))),
    };
    if let Some((key, value)) = extra {
        if data.ends_with('}') {
            data.pop();
            data.push_str(",\"");
            data.push_str(key);
            data.push_str("\":");
            data.push_str(&value);
            data.push('}');
        }
    }
    data
}

impl Auth {
    /// Installs `s`, records how the token changed, and schedules its refresh.
    pub(super) fn set_session(&mut self, s: Session, now: Now) {
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

    /// A token response: installs the session in place of whatever was in flight, persists
    /// it, then announces `kind`'s event and answers the caller (without a session in it, the
    /// bare user of a `signUp` that awaits confirmation) with what auth-js adds for `grant`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_signed_in(
        &mut self,
        body: &str,
        ticket: Option<Ticket>,
        kind: SignInKind,
        grant: Grant,
        sent: UnixTime,
        now: Now,
        out: &mut Outbox,
    ) {
        let Some(mut s) = Session::from_response(body, sent) else {
            // signUp without autoconfirm: a user and no session.
            if let Some(t) = ticket {
                let user = if body.contains("\"id\"") { body } else { "null" };
                // auth-js refuses a password grant or a code exchange without a session.
                let result = match grant {
                    Grant::Plain => Ok(requests::user_session_data(user, None)),
                    Grant::Password | Grant::Pkce => Err(AuthError::InvalidResponse),
                };
                out.event(AppEvent::Done { ticket: t, result });
            }
            return;
        };
        s.received(sent, now.wall);
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
        let recovery = kind == SignInKind::Recovery;
        let data = self.session.as_ref().map(|s| {
            let data = requests::user_session_data(&s.user, Some(&s.to_js()));
            with_grant_extras(data, grant, recovery, body)
        });
        let was_init = self.init_busy;
        self.init_busy = false;
        if was_init {
            // A session from the page URL: INITIAL_SESSION carries it, then SIGNED_IN (or
            // PASSWORD_RECOVERY) follows once it is persisted, as auth-js emits it after init.
            self.flush_initial(out);
        }
        self.save(Intent::Replace, Saved { announce: Some(event), ticket: ticket.zip(data), post: true }, out);
    }

    /// Drops the session: storage, other tabs, listeners, channels.
    pub(super) fn end_session(&mut self, reason: SignOutReason, post: bool, write: bool, out: &mut Outbox) {
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
            self.fail_refresh_waiters(&AuthError::SessionMissing, out);
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
            self.remove_verifier(out);
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
    pub(super) fn save(&mut self, intent: Intent, saved: Saved, out: &mut Outbox) {
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
    pub(super) fn take_over_refresh_lock(&mut self, out: &mut Outbox) {
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

    /// The session write's lock: granted, or the wait timed out (then the write goes ahead
    /// without it).
    pub(super) fn on_write_lock(&mut self, granted: bool, out: &mut Outbox) {
        let Some(w) = &mut self.write else { return };
        if granted {
            w.held = true;
        } else {
            out.log(Level::Warn, String::from("session lock unavailable; writing the session without it"));
        }
        self.put_session(out);
    }

    /// The session write's storage result: write again if the session changed meanwhile;
    /// else release the lock, then post and announce what waited for it.
    pub(super) fn on_session_written(&mut self, id: RequestId, result: Result<(), String>, out: &mut Outbox) {
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
}
