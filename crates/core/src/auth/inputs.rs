//! The inputs: what comes back for the outputs [`Auth`] sent (HTTP answers and their
//! timeouts, storage results, lock grants, digests, signature checks), each looked up in the
//! table of what it was for and handed to the module that waits for it. Also where a GoTrue
//! request goes out, so that every request has its table entry and its timeout. Tab messages
//! and `storage` events come in through `tabs.rs`.

use alloc::string::String;

use authwire_wire::json::ObjectWriter;

use super::refresh::{Refresh, RefreshStep};
use super::{Auth, DigestOp, HttpOp, StoreOp, Timer};
use crate::io::{concat, HttpRequest, Level, Outbox, Output, RequestId};
use crate::time::Now;

impl Auth {
    /// Sends a GoTrue request and remembers what its answer is for, when it left (a token in
    /// the answer was minted after that, G4) and when to stop waiting for it.
    pub(super) fn send(&mut self, req: HttpRequest, op: HttpOp, now: Now, out: &mut Outbox) -> RequestId {
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
        match op {
            HttpOp::Refresh { gen } => self.on_refresh_response(gen, status, body, sent, now, out),
            HttpOp::SignIn { ticket, kind, grant } => {
                self.on_sign_in_answer(ticket, kind, grant, status, &body, sent, now, out)
            }
            HttpOp::NoSession { ticket, message_id } => self.on_no_session(ticket, message_id, status, &body, out),
            HttpOp::Body { ticket } => self.on_body(ticket, status, &body, out),
            HttpOp::User { ticket, own, purpose } => self.on_user(ticket, own, purpose, status, body, now, out),
            HttpOp::UpdateUser { ticket } => self.on_user_updated(ticket, status, body, out),
            HttpOp::Logout { ticket } => self.on_logout(ticket, status, &body, out),
            HttpOp::Jwks => self.on_jwks(status, body, now, out),
        }
        self.resume_parked(now, out);
        true
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
            StoreOp::Initial => self.on_initial(result, now, out),
            StoreOp::RefreshBefore { gen } => self.on_read_before(gen, result, now, out),
            StoreOp::RefreshAfter { gen, fresh } => self.on_read_after(gen, fresh, result, now, out),
            StoreOp::RefreshFailedReread { gen, error } => self.on_refresh_failed_reread(gen, error, result, now, out),
            StoreOp::SessionWritten => self.on_session_written(id, result.map(|_| ()), out),
            StoreOp::LockHolder { gen } => self.on_lock_holder(gen, result.ok().flatten(), out),
            StoreOp::Adopt { hint } => self.on_reread(hint, result, now, out),
            StoreOp::Write => self.on_written(id, result.map(|_| ()), now, out),
            StoreOp::VerifierWritten { ticket, verifier, creds, flow } => {
                self.on_verifier_written(ticket, verifier, creds, flow, result.map(|_| ()), out)
            }
            StoreOp::VerifierRead { ticket, code } => {
                self.on_verifier_read(ticket, code, result.ok().flatten(), now, out)
            }
        }
        self.resume_parked(now, out);
        true
    }

    /// A plain write landed: the refresh commit (step 5 of G8) when it is the flight's write,
    /// else only a failure to record.
    fn on_written(&mut self, id: RequestId, result: Result<(), String>, now: Now, out: &mut Outbox) {
        if let Some(Refresh { step: RefreshStep::Commit(cid), .. }) = &self.refresh {
            if *cid == id {
                self.on_committed(result, now, out);
                return;
            }
        }
        if let Err(e) = result {
            self.storage_error = Some(e.clone());
            out.log(Level::Error, concat(&["storage write failed: ", &e]));
        }
    }

    /// A lock result. `false` if not ours.
    pub fn handle_lock(&mut self, id: RequestId, granted: bool, now: Now, out: &mut Outbox) -> bool {
        let ours = if self.write.as_ref().is_some_and(|w| w.lock == id && !w.held) {
            self.on_write_lock(granted, out);
            true
        } else {
            self.on_lock(id, granted, now, out)
        };
        self.resume_parked(now, out);
        ours
    }

    /// A digest result. `false` if not ours.
    pub fn handle_digest(&mut self, id: RequestId, b64url: Option<String>, now: Now, out: &mut Outbox) -> bool {
        let Some(DigestOp::Pkce { ticket, creds, flow }) = self.digests.remove(&id) else { return false };
        self.on_digest(ticket, &creds, flow, b64url, now, out);
        self.resume_parked(now, out);
        true
    }

    /// A signature check result. `false` if not ours.
    pub fn handle_verified(&mut self, id: RequestId, ok: bool, out: &mut Outbox) -> bool {
        let Some((ticket, token)) = self.verifies.remove(&id) else { return false };
        self.on_verified(ticket, &token, ok, out);
        true
    }

    /// Due timers.
    pub fn handle_timeout(&mut self, now: Now, out: &mut Outbox) {
        for t in self.timers.take_expired(now.mono) {
            match t {
                Timer::Refresh | Timer::Retry => self.on_refresh_timer(now, out),
                Timer::Request(id) => {
                    // No answer in time: a network failure; the fetch is aborted (a late
                    // answer would be dropped anyway).
                    if self.http.contains_key(&id) {
                        out.push(Output::CancelHttp { id });
                        self.handle_http(id, Err(String::from("the auth server did not answer in time")), now, out);
                    }
                }
            }
        }
        self.resume_parked(now, out);
    }
}
