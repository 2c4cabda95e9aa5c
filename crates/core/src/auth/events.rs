//! Events: the listeners of `onAuthStateChange`, `INITIAL_SESSION` (once start-up settled,
//! each listener's first event), the announcement of every later transition, and the post
//! that tells the other tabs about it. While this tab holds the cross-tab lock, announcements
//! and `INITIAL_SESSION` wait for its release, so no user callback runs under the lock (G8).

use alloc::string::String;

use authwire_wire::json::ObjectWriter;

use super::session::Session;
use super::Auth;
use crate::io::{AppEvent, AuthEvent, ListenerId, Outbox, Output};
use crate::time::Now;

impl Auth {
    /// `INITIAL_SESSION` for listeners that have not had it, once the start-up settled.
    pub(super) fn flush_initial(&mut self, out: &mut Outbox) {
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

    pub(super) fn announce(&mut self, event: AuthEvent, out: &mut Outbox) {
        let session = self.session.as_ref().map(Session::to_js);
        // G8: while this tab holds the lock, announcements wait for its release.
        if self.holds_lock() {
            self.deferred.push((event, session));
            return;
        }
        self.emit(event, session, out);
    }

    /// This tab holds the cross-tab lock (for a refresh flight or a session write).
    pub(super) fn holds_lock(&self) -> bool {
        self.refresh.as_ref().is_some_and(|r| r.lock.is_some()) || self.write.as_ref().is_some_and(|w| w.held)
    }

    /// Announcements deferred while the lock was held, once it is not.
    pub(super) fn flush_deferred(&mut self, out: &mut Outbox) {
        if self.holds_lock() {
            return;
        }
        for (event, session) in core::mem::take(&mut self.deferred) {
            self.emit(event, session, out);
        }
        self.flush_initial(out);
    }

    /// Delivers to the listeners that had `INITIAL_SESSION` (the others get it first, later).
    fn emit(&self, event: AuthEvent, session: Option<String>, out: &mut Outbox) {
        for (id, sent) in &self.listeners {
            if *sent {
                out.event(AppEvent::AuthChange { listener: Some(*id), event, session: session.clone() });
            }
        }
    }

    pub(super) fn tab_post(&self, event: AuthEvent, out: &mut Outbox) {
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
}
