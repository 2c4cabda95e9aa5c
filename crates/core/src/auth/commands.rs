//! The session commands (`signUp`, `signInWith*`, `verifyOtp`, `signOut`, `getSession`,
//! `refreshSession`, `setSession`, `getUser`, `updateUser`, auto-refresh on and off,
//! `destroy`) and the replies to their GoTrue requests. They are run by `dispatch.rs` (which
//! decides when); each answers its ticket with `AppEvent::Done`. The PKCE steps are in
//! `pkce.rs`, `getClaims` in `claims.rs`, the account and MFA commands in `account.rs`; the
//! session a sign-in returns is installed by `persist.rs`.

use alloc::string::String;

use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::jwt;

use super::account::{aal_data, factors_data, identities_data};
use super::claims::claims_data;
use super::persist::{Intent, Saved};
use super::pkce::PkceFlow;
use super::refresh::Waiter;
use super::requests::{self, cred};
use super::session::Session;
use super::{classify, data_session, Auth, Grant, HttpOp, SignInKind, SignOutReason, Timer, UserPurpose};
use crate::error::AuthError;
use crate::io::{concat, AppEvent, AuthEvent, Level, LockOp, Outbox, Output, Ticket};
use crate::time::{Now, UnixTime};
use crate::timer::TimerTable;

/// auth-js's `AuthInvalidCredentialsError` unless the credentials name an email or a phone
/// number.
pub(super) fn require_address(c: &Value, message: &'static str) -> Result<(), AuthError> {
    if c.get("email").is_some() || c.get("phone").is_some() {
        Ok(())
    } else {
        Err(AuthError::InvalidCredentials { message })
    }
}

/// A request of an address command, given the parsed credentials and, under PKCE, the
/// `(challenge, method)` pair.
pub(super) type AddressRequest = fn(&mut Auth, Ticket, &Value, Option<(&str, &str)>, Now, &mut Outbox);

impl Auth {
    /// `signUp`.
    pub(super) fn run_sign_up(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let missing = "You must provide either an email or phone number and a password";
        self.address_command(ticket, creds, missing, PkceFlow::SignUp, Self::signup_request, now, out);
    }

    /// The common start of the commands addressed to an email or a phone (`signUp`,
    /// `signInWithOtp`, `resend`): refuse a missing address with auth-js's text; for an
    /// email under PKCE store a verifier first (the request follows when it is written).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn address_command(
        &mut self,
        ticket: Ticket,
        creds: &str,
        missing: &'static str,
        flow: PkceFlow,
        request: AddressRequest,
        now: Now,
        out: &mut Outbox,
    ) {
        let c = requests::parse_creds(creds);
        if let Err(e) = require_address(&c, missing) {
            out.event(AppEvent::Done { ticket, result: Err(e) });
            return;
        }
        if self.cfg.pkce && cred(&c, "email").is_some() {
            self.pkce_then(ticket, creds, flow, out);
            return;
        }
        request(self, ticket, &c, None, now, out);
    }

    /// `POST /signup` (a session, or the bare user without autoconfirm).
    pub(super) fn signup_request(
        &mut self,
        ticket: Ticket,
        c: &Value,
        pkce: Option<(&str, &str)>,
        now: Now,
        out: &mut Outbox,
    ) {
        let mut path = String::from("/signup");
        path.push_str(&requests::redirect_query(c, "emailRedirectTo"));
        self.post(&path, requests::signup_body(c, pkce), signed_in(ticket), now, out);
    }

    /// `POST /otp` (no session: the code is mailed).
    pub(super) fn otp_request(
        &mut self,
        ticket: Ticket,
        c: &Value,
        pkce: Option<(&str, &str)>,
        now: Now,
        out: &mut Outbox,
    ) {
        let mut path = String::from("/otp");
        path.push_str(&requests::redirect_query(c, "emailRedirectTo"));
        self.post(&path, requests::otp_body(c, pkce), HttpOp::NoSession { ticket, message_id: true }, now, out);
    }

    /// A refresh-token grant outside the refresh protocol (`refreshSession` with a given token,
    /// `setSession` with an expired access token): answered as TOKEN_REFRESHED.
    fn grant_refresh(&mut self, ticket: Ticket, rt: &str, now: Now, out: &mut Outbox) {
        let op = HttpOp::SignIn { ticket: Some(ticket), kind: SignInKind::Refreshed, grant: Grant::Plain };
        self.post("/token?grant_type=refresh_token", requests::refresh_body(rt), op, now, out);
    }

    /// A key-level `POST` whose answer is handled as `op`.
    pub(super) fn post(&mut self, path: &str, body: String, op: HttpOp, now: Now, out: &mut Outbox) {
        let req = self.gotrue().request("POST", path, None, Some(body));
        self.send(req, op, now, out);
    }

    /// `signInWithPassword`.
    pub(super) fn run_sign_in_with_password(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let c = requests::parse_creds(creds);
        if let Err(e) = require_address(&c, "You must provide either an email or phone number and a password") {
            out.event(AppEvent::Done { ticket, result: Err(e) });
            return;
        }
        let op = HttpOp::SignIn { ticket: Some(ticket), kind: SignInKind::SignIn, grant: Grant::Password };
        self.post("/token?grant_type=password", requests::password_body(&c), op, now, out);
    }

    /// `signInAnonymously`: a sign-up without credentials (only `options` is kept).
    pub(super) fn run_sign_in_anonymously(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let options = requests::parse_creds(creds).get("options").cloned();
        let c = Value::Obj(options.map(|o| alloc::vec![(String::from("options"), o)]).unwrap_or_default());
        self.signup_request(ticket, &c, None, now, out);
    }

    /// `signInWithOtp`.
    pub(super) fn run_sign_in_with_otp(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let missing = "You must provide either an email or phone number.";
        self.address_command(ticket, creds, missing, PkceFlow::Otp, Self::otp_request, now, out);
    }

    /// `verifyOtp`.
    pub(super) fn run_verify_otp(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let c = requests::parse_creds(creds);
        let kind = if cred(&c, "type") == Some("recovery") { SignInKind::Recovery } else { SignInKind::SignIn };
        let mut path = String::from("/verify");
        path.push_str(&requests::redirect_query(&c, "redirectTo"));
        self.post(
            &path,
            requests::verify_body(&c),
            HttpOp::SignIn { ticket: Some(ticket), kind, grant: Grant::Plain },
            now,
            out,
        );
    }

    /// `signInWithIdToken`.
    pub(super) fn run_sign_in_with_id_token(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let body = requests::id_token_body(&requests::parse_creds(creds));
        self.post("/token?grant_type=id_token", body, signed_in(ticket), now, out);
    }

    /// `signInWithOAuth`: `{ provider, url }` (the shell navigates unless told not to). With
    /// PKCE a verifier is stored first.
    pub(super) fn run_sign_in_with_oauth(&mut self, ticket: Ticket, creds: &str, out: &mut Outbox) {
        if self.cfg.pkce {
            self.pkce_then(ticket, creds, PkceFlow::OAuth, out);
            return;
        }
        self.oauth_done(ticket, &requests::parse_creds(creds), None, out);
    }

    /// Answers `signInWithOAuth` with `{ provider, url }`, the authorize URL (with its PKCE
    /// challenge, if any).
    pub(super) fn oauth_done(&self, ticket: Ticket, c: &Value, pkce: Option<(&str, &str)>, out: &mut Outbox) {
        let url = requests::authorize_url(&self.cfg.base_url, c, pkce);
        let mut w = ObjectWriter::new();
        w.str("provider", cred(c, "provider").unwrap_or("")).str("url", &url);
        out.event(AppEvent::Done { ticket, result: Ok(w.finish()) });
    }

    /// `signOut({ scope })`. `global` and `local` end the session here at once (guarantee
    /// G5); the server call's result resolves the ticket.
    pub(super) fn run_sign_out(&mut self, ticket: Ticket, scope: &str, now: Now, out: &mut Outbox) {
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

    /// `getSession()` (after start-up, `dispatch.rs`): waits for a refresh in flight when the
    /// current token is no longer usable.
    pub(super) fn run_get_session(&mut self, ticket: Ticket, now: Now, out: &mut Outbox) {
        self.ensure_fresh(now, out);
        let expired = self.session.as_ref().is_none_or(|s| s.is_expired(now.wall));
        if self.refresh.is_some() && expired {
            self.refresh_waiters.push((ticket, Waiter::Session));
            return;
        }
        let s = self.session.as_ref().map(Session::to_js);
        out.event(AppEvent::Done { ticket, result: Ok(data_session(s.as_deref())) });
    }

    /// `refreshSession({ refresh_token? })`: always refreshes.
    pub(super) fn run_refresh_session(
        &mut self,
        ticket: Ticket,
        refresh_token: Option<&str>,
        now: Now,
        out: &mut Outbox,
    ) {
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
    pub(super) fn run_set_session(&mut self, ticket: Ticket, at: &str, rt: &str, now: Now, out: &mut Outbox) {
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
    pub(super) fn run_get_user(&mut self, ticket: Ticket, jwt: Option<&str>, now: Now, out: &mut Outbox) {
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
    pub(super) fn run_update_user(&mut self, ticket: Ticket, attrs: &str, now: Now, out: &mut Outbox) {
        let Some(at) = self.session.as_ref().map(|s| s.access_token.clone()) else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        };
        let body = requests::parse_creds(attrs).to_json();
        let req = self.gotrue().request("PUT", "/user", Some(&at), Some(body));
        self.send(req, HttpOp::UpdateUser { ticket }, now, out);
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
        self.fail_everything(out);
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

/// The replies to the commands' GoTrue requests (routed here by `inputs.rs`).
impl Auth {
    /// The answer to a grant that signs in: the session, or the error to the caller (or, for a
    /// code from the page URL, the end of start-up).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_sign_in_answer(
        &mut self,
        ticket: Option<Ticket>,
        kind: SignInKind,
        grant: Grant,
        status: u16,
        body: &str,
        sent: UnixTime,
        now: Now,
        out: &mut Outbox,
    ) {
        if grant == Grant::Pkce && self.cfg.persist {
            // The verifier is single-use, whatever the outcome.
            self.remove_verifier(out);
        }
        if (200..300).contains(&status) {
            self.on_signed_in(body, ticket, kind, grant, sent, now, out);
        } else {
            match ticket {
                Some(t) => out.event(AppEvent::Done { ticket: t, result: Err(classify(status, body)) }),
                None => {
                    // A code from the page URL that did not exchange: start-up is over.
                    let error = classify(status, body);
                    out.log(Level::Warn, concat(&["the auth code in the page URL failed: ", error.code()]));
                    self.init_error = Some(error);
                    self.init_busy = false;
                    self.flush_initial(out);
                }
            }
        }
    }

    /// The answer to a request that signs nobody in (an OTP, `resend`, `reauthenticate`):
    /// `{ user: null, session: null }`, plus `messageId` when asked for and GoTrue sent one
    /// (an SMS), as auth-js answers.
    pub(super) fn on_no_session(
        &mut self,
        ticket: Ticket,
        message_id: bool,
        status: u16,
        body: &str,
        out: &mut Outbox,
    ) {
        let result = if (200..300).contains(&status) {
            let mut w = ObjectWriter::new();
            w.raw("user", "null").raw("session", "null");
            let id = json::field(body, "message_id").ok().flatten().and_then(json::str_of);
            if let Some(id) = id.filter(|_| message_id) {
                w.str("messageId", &id);
            }
            Ok(w.finish())
        } else {
            Err(classify(status, body))
        };
        out.event(AppEvent::Done { ticket, result });
    }

    /// The answer to a request whose body is the result (`resetPasswordForEmail`,
    /// `mfa.unenroll`).
    pub(super) fn on_body(&mut self, ticket: Ticket, status: u16, body: &str, out: &mut Outbox) {
        let result = if !(200..300).contains(&status) {
            Err(classify(status, body))
        } else if json::parse(body).is_ok_and(|v| v.as_object().is_some()) {
            Ok(String::from(body))
        } else {
            Ok(String::from("{}"))
        };
        out.event(AppEvent::Done { ticket, result });
    }

    /// The answer to `updateUser`: the session takes the new user, persisted before the
    /// caller hears.
    pub(super) fn on_user_updated(&mut self, ticket: Ticket, status: u16, body: String, out: &mut Outbox) {
        if (200..300).contains(&status) {
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

    /// The answer to `signOut` (the session here ended already, unless the scope is `others`).
    pub(super) fn on_logout(&mut self, ticket: Ticket, status: u16, body: &str, out: &mut Outbox) {
        // 401/403/404 mean the session is gone already: that is a successful sign-out.
        let result = if (200..300).contains(&status) || matches!(status, 401 | 403 | 404) {
            Ok(String::from("{}"))
        } else {
            Err(classify(status, body))
        };
        if let (Ok(data), Some(w)) = (&result, self.write.as_mut()) {
            // The session key's removal is still being written: resolve after it lands, so a
            // page reloaded right after `await signOut()` finds no session.
            w.after.push(Saved { announce: None, ticket: Some((ticket, data.clone())), post: false });
            return;
        }
        out.event(AppEvent::Done { ticket, result });
    }

    /// A `GET /user` answer, by what it was for.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_user(
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
            UserPurpose::Command
            | UserPurpose::Claims(_)
            | UserPurpose::Identities
            | UserPurpose::Factors
            | UserPurpose::Aal(_)
                if !ok =>
            {
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
            UserPurpose::Identities | UserPurpose::Factors | UserPurpose::Aal(_) => {
                let data = match &purpose {
                    UserPurpose::Identities => identities_data(&body),
                    UserPurpose::Factors => factors_data(&body),
                    UserPurpose::Aal(token) => aal_data(token, &body),
                    _ => String::new(),
                };
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: Ok(data) });
                }
            }
            UserPurpose::SetSession(..) | UserPurpose::FromUrl { .. } if !ok => {
                let error = classify(status, &body);
                if matches!(purpose, UserPurpose::FromUrl { .. }) {
                    // `initialize()` reports it, as auth-js.
                    self.init_error = Some(error.clone());
                }
                self.init_busy = false;
                self.flush_initial(out);
                if let Some(t) = ticket {
                    out.event(AppEvent::Done { ticket: t, result: Err(error) });
                }
            }
            UserPurpose::SetSession(at, rt) => {
                let exp = jwt::decode(&at).ok().and_then(|c| c.exp).unwrap_or(0).max(0) as u64;
                let expires_in = exp.saturating_sub(now.wall.as_secs());
                let resp = token_response(&at, &rt, expires_in, &body);
                self.on_signed_in(&resp, ticket, SignInKind::SignIn, Grant::Plain, now.wall, now, out);
            }
            UserPurpose::FromUrl { at, rt, expires_in, recovery } => {
                let resp = token_response(&at, &rt, expires_in, &body);
                let kind = if recovery { SignInKind::Recovery } else { SignInKind::SignIn };
                // INITIAL_SESSION carries the URL session (start-up ends in `on_signed_in`).
                self.on_signed_in(&resp, None, kind, Grant::Plain, now.wall, now, out);
            }
        }
    }
}

/// The operation for a grant whose answer signs the user in.
fn signed_in(ticket: Ticket) -> HttpOp {
    HttpOp::SignIn { ticket: Some(ticket), kind: SignInKind::SignIn, grant: Grant::Plain }
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
