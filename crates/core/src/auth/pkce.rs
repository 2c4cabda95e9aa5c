//! PKCE (`flowType: 'pkce'`): a verifier made of the runtime's random bytes (`Entropy`; none,
//! no flow: `crypto_unavailable`) and stored under
//! `<storage key>-code-verifier` before the flow starts, its S256 challenge computed by the
//! host (`Output::Digest`; `plain` without WebCrypto), and the exchange of a `?code=` for a
//! session with the stored verifier (`exchangeCodeForSession`, or a code in the page URL at
//! start). The verifier is removed after its exchange, whatever the outcome, and on sign-out.

use alloc::string::String;

use authwire_wire::json::Value;

use super::requests;
use super::{Auth, Grant, HttpOp, SignInKind, StoreOp};
use crate::error::AuthError;
use crate::io::{AppEvent, Level, Outbox, Output, StorageOp, Ticket};
use crate::time::Now;

/// The flow a PKCE challenge continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PkceFlow {
    OAuth,
    SignUp,
    Otp,
    /// `resetPasswordForEmail`: the verifier is stored with auth-js's `/recovery` suffix, so
    /// its exchange announces PASSWORD_RECOVERY.
    Recover,
    /// `resend` of an email confirmation.
    Resend,
}

/// What a digest in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum DigestOp {
    Pkce { ticket: Ticket, creds: String, flow: PkceFlow },
}

impl Auth {
    /// Where the verifier is stored: `<storage key>-code-verifier`, as auth-js stores it.
    pub(super) fn verifier_key(&self) -> String {
        let mut k = self.cfg.storage_key.clone();
        k.push_str("-code-verifier");
        k
    }

    /// Removes the stored verifier.
    pub(super) fn remove_verifier(&mut self, out: &mut Outbox) {
        let id = out.request_id();
        self.store.insert(id, StoreOp::Write);
        out.push(Output::Storage { id, op: StorageOp::Remove(self.verifier_key()) });
    }

    /// Generates a PKCE verifier (112 hex characters from 56 random bytes, as auth-js), stores
    /// it (with `/recovery` for a password reset, as auth-js), then continues with its S256
    /// challenge.
    pub(super) fn pkce_then(&mut self, ticket: Ticket, creds: &str, flow: PkceFlow, out: &mut Outbox) {
        let Some(bytes) = self.entropy.take::<56>() else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::CryptoUnavailable) });
            return;
        };
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
        let mut stored = verifier.clone();
        if flow == PkceFlow::Recover {
            stored.push_str("/recovery");
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::VerifierWritten { ticket, verifier, creds, flow });
        out.push(Output::Storage { id, op: StorageOp::Set(self.verifier_key(), stored) });
    }

    /// `exchangeCodeForSession(code)`.
    pub(super) fn run_exchange_code(&mut self, ticket: Ticket, code: &str, out: &mut Outbox) {
        let id = out.request_id();
        self.store.insert(id, StoreOp::VerifierRead { ticket: Some(ticket), code: String::from(code) });
        out.push(Output::Storage { id, op: StorageOp::Get(self.verifier_key()) });
    }

    /// The verifier is stored: ask for its challenge (a verifier that could not be stored
    /// could never be exchanged, so the command fails).
    pub(super) fn on_verifier_written(
        &mut self,
        ticket: Ticket,
        verifier: String,
        creds: String,
        flow: PkceFlow,
        result: Result<(), String>,
        out: &mut Outbox,
    ) {
        if let Err(e) = result {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::Storage { message: e }) });
            return;
        }
        let did = out.request_id();
        self.digests.insert(did, DigestOp::Pkce { ticket, creds, flow });
        out.push(Output::Digest { id: did, data: verifier });
    }

    /// The challenge (`None` without WebCrypto): continue the flow that asked for it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_digest(
        &mut self,
        ticket: Ticket,
        creds: &str,
        flow: PkceFlow,
        b64url: Option<String>,
        now: Now,
        out: &mut Outbox,
    ) {
        // Without WebCrypto the challenge is the verifier itself (`plain`), as auth-js does.
        let (challenge, method) = match b64url {
            Some(c) => (c, "s256"),
            None => (String::new(), "plain"),
        };
        let creds_v = requests::parse_creds(creds);
        let challenge = if method == "plain" {
            String::from(creds_v.get("__verifier").and_then(Value::as_str).unwrap_or(""))
        } else {
            challenge
        };
        let pkce = Some((challenge.as_str(), method));
        match flow {
            PkceFlow::OAuth => self.oauth_done(ticket, &creds_v, pkce, out),
            PkceFlow::SignUp => self.signup_request(ticket, &creds_v, pkce, now, out),
            PkceFlow::Otp => self.otp_request(ticket, &creds_v, pkce, now, out),
            PkceFlow::Recover => self.recover_request(ticket, &creds_v, pkce, now, out),
            PkceFlow::Resend => self.resend_request(ticket, &creds_v, pkce, now, out),
        }
    }

    /// The stored verifier for `code` (`ticket` is `None` for a code from the page URL):
    /// exchange the code, or fail without one.
    pub(super) fn on_verifier_read(
        &mut self,
        ticket: Option<Ticket>,
        code: String,
        value: Option<String>,
        now: Now,
        out: &mut Outbox,
    ) {
        match value {
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
                self.send(req, HttpOp::SignIn { ticket, kind, grant: Grant::Pkce }, now, out);
            }
            _ => match ticket {
                None => {
                    self.init_busy = false;
                    out.log(Level::Warn, String::from("the page URL has an auth code but no PKCE verifier is stored"));
                    self.init_error = Some(AuthError::PkceVerifierMissing);
                    self.flush_initial(out);
                }
                Some(ticket) => {
                    out.event(AppEvent::Done { ticket, result: Err(AuthError::PkceVerifierMissing) });
                }
            },
        }
    }
}
