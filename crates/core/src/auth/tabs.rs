//! Other tabs: their messages (`{event, session}` on the tab channel, as auth-js posts them)
//! and `storage` events for the session key. Either can arrive after this tab's own later
//! write, so neither is taken at its word: each makes this tab read the stored session again
//! (written under the lock, G8) and adopt that, with the message's event when it is about
//! that session.

use alloc::string::String;

use authwire_wire::json;

use super::persist::Intent;
use super::refresh::RefreshStep;
use super::session::Session;
use super::{Auth, SignOutReason, StoreOp};
use crate::error::AuthError;
use crate::io::{AuthEvent, Outbox, Output, StorageOp};
use crate::time::Now;

impl Auth {
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

    /// Reads the stored session again, to adopt what it holds.
    fn reread(&mut self, hint: Option<(AuthEvent, Option<String>)>, out: &mut Outbox) {
        if !self.loaded || !self.cfg.persist {
            return;
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::Adopt { hint });
        out.push(Output::Storage { id, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    /// The stored session read again after another tab's message or write.
    pub(super) fn on_reread(
        &mut self,
        hint: Option<(AuthEvent, Option<String>)>,
        result: Result<Option<String>, String>,
        now: Now,
        out: &mut Outbox,
    ) {
        // An unreadable storage shows nothing new: keep what this tab has.
        let Ok(value) = result else { return };
        let session = value.as_deref().and_then(|v| Session::from_stored(v, now.wall));
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
                    !matches!(
                        r.step,
                        RefreshStep::Request(_)
                            | RefreshStep::ReadAfter(_)
                            | RefreshStep::Commit(_)
                            | RefreshStep::Spend(_)
                    )
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
}
