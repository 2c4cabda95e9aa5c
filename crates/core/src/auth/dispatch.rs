//! The one entry of the application's commands ([`AuthCommand`], [`Auth::command`]) and when
//! each runs. No command waits on something that can be missed:
//!
//! - Until start-up settled (the storage read, and the refresh or URL session it began), every
//!   command is *parked*, as auth-js's methods await `initializePromise`. Start-up always
//!   settles: the storage read and each request it starts are answered or time out.
//! - A command that needs the access token while a refresh of an *expired* token is in flight
//!   waits for that flight (`Waiter::Run`, as auth-js's `_useSession` waits for
//!   `_callRefreshToken`). However the flight ends — done, failed, superseded by a sign-in,
//!   ended by a sign-out — the command is parked.
//! - Parked commands run at the end of the input or command in which nothing holds them
//!   back any more: start-up settled and this tab holds no cross-tab lock. Both can only
//!   change inside [`Auth::start`], a command, or an input that answers something the
//!   machine sent (HTTP, storage, lock, digest, timeout), and each of those ends with
//!   [`Auth::resume_parked`], so no transition is missed. (Not from `ensure_fresh`: `Client`
//!   calls that just before a Realtime push too, and a sign-out resumed there would reach
//!   Realtime only after the push.) A parked command runs once, with the state it finds.
//! - `destroy()` answers everything still waiting with `destroyed`
//!   ([`Auth::fail_everything`]).

use alloc::string::String;
use alloc::vec::Vec;

use super::persist::Saved;
use super::pkce::DigestOp;
use super::refresh::Waiter;
use super::{Auth, HttpOp, StoreOp};
use crate::error::AuthError;
use crate::io::{AppEvent, Outbox, Ticket};
use crate::time::Now;

/// An application command of `client.auth`, with the app's arguments as JSON text where the
/// app passes an object (the shell serialises it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthCommand {
    /// `signUp(credentials)`.
    SignUp(String),
    /// `signInWithPassword(credentials)`.
    SignInWithPassword(String),
    /// `signInAnonymously(credentials?)`.
    SignInAnonymously(String),
    /// `signInWithOtp(credentials)`.
    SignInWithOtp(String),
    /// `verifyOtp(params)`.
    VerifyOtp(String),
    /// `signInWithIdToken(credentials)`.
    SignInWithIdToken(String),
    /// `signInWithOAuth(credentials)`.
    SignInWithOAuth(String),
    /// `exchangeCodeForSession(code)`.
    ExchangeCode(String),
    /// `signOut({ scope })`: the scope.
    SignOut(String),
    /// `getSession()`.
    GetSession,
    /// `getUser(jwt?)`.
    GetUser(Option<String>),
    /// `getClaims(jwt?)`.
    GetClaims(Option<String>),
    /// `refreshSession({ refresh_token? })`.
    RefreshSession(Option<String>),
    /// `setSession({ access_token, refresh_token })`.
    SetSession {
        /// `access_token`.
        access_token: String,
        /// `refresh_token`.
        refresh_token: String,
    },
    /// `updateUser(attributes)`.
    UpdateUser(String),
    /// `resetPasswordForEmail(email, options?)`: `{ "email": …, "options": … }`.
    ResetPasswordForEmail(String),
    /// `resend(credentials)`.
    Resend(String),
    /// `reauthenticate()`.
    Reauthenticate,
    /// `getUserIdentities()`.
    GetUserIdentities,
    /// `mfa.listFactors()`.
    MfaListFactors,
    /// `mfa.unenroll({ factorId })`: the factor id.
    MfaUnenroll(String),
    /// `mfa.getAuthenticatorAssuranceLevel(jwt?)`.
    MfaAssuranceLevel(Option<String>),
    /// `initialize()`: answered once start-up settled, with the error of a session that could
    /// not be taken from the page URL.
    Initialize,
}

impl AuthCommand {
    /// The command uses the session's access token, so it waits for a refresh of an expired
    /// one (commands given a `jwt` do not). Not `signOut`: it ends the session here at once
    /// (G5), and GoTrue's refusal of an expired token means the session is gone there too.
    fn uses_token(&self) -> bool {
        matches!(
            self,
            AuthCommand::GetUser(None)
                | AuthCommand::GetClaims(None)
                | AuthCommand::UpdateUser(_)
                | AuthCommand::Reauthenticate
                | AuthCommand::GetUserIdentities
                | AuthCommand::MfaListFactors
                | AuthCommand::MfaUnenroll(_)
                | AuthCommand::MfaAssuranceLevel(None)
        )
    }
}

impl Auth {
    /// Runs `cmd` for `ticket` now, or once what it waits for is over (module docs). Every
    /// command's result comes back as `AppEvent::Done` for its ticket.
    pub fn command(&mut self, ticket: Ticket, cmd: AuthCommand, now: Now, out: &mut Outbox) {
        if self.destroyed {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::Destroyed) });
            return;
        }
        if !self.started_up() {
            self.parked.push((ticket, cmd));
            return;
        }
        if cmd.uses_token() {
            self.ensure_fresh(now, out);
            let expired = self.session.as_ref().is_some_and(|s| s.is_expired(now.wall));
            if self.refresh.is_some() && expired {
                self.refresh_waiters.push((ticket, Waiter::Run(cmd)));
                return;
            }
        }
        self.run(ticket, cmd, now, out);
        // A sign-out may have ended a flight whose waiting commands are parked now.
        self.resume_parked(now, out);
    }

    /// Start-up settled: storage was read and nothing it began is in flight.
    pub(super) fn started_up(&self) -> bool {
        self.loaded && !self.init_busy
    }

    /// Runs the parked commands if nothing holds them back any more (module docs). Called at
    /// the end of every input handler, [`Auth::start`] and [`Auth::command`].
    pub fn resume_parked(&mut self, now: Now, out: &mut Outbox) {
        if self.parked.is_empty() || self.destroyed || !self.started_up() || self.holds_lock() {
            return;
        }
        for (ticket, cmd) in core::mem::take(&mut self.parked) {
            self.run(ticket, cmd, now, out);
        }
    }

    fn run(&mut self, t: Ticket, cmd: AuthCommand, now: Now, out: &mut Outbox) {
        match cmd {
            AuthCommand::SignUp(c) => self.run_sign_up(t, &c, now, out),
            AuthCommand::SignInWithPassword(c) => self.run_sign_in_with_password(t, &c, now, out),
            AuthCommand::SignInAnonymously(c) => self.run_sign_in_anonymously(t, &c, now, out),
            AuthCommand::SignInWithOtp(c) => self.run_sign_in_with_otp(t, &c, now, out),
            AuthCommand::VerifyOtp(c) => self.run_verify_otp(t, &c, now, out),
            AuthCommand::SignInWithIdToken(c) => self.run_sign_in_with_id_token(t, &c, now, out),
            AuthCommand::SignInWithOAuth(c) => self.run_sign_in_with_oauth(t, &c, out),
            AuthCommand::ExchangeCode(code) => self.run_exchange_code(t, &code, out),
            AuthCommand::SignOut(scope) => self.run_sign_out(t, &scope, now, out),
            AuthCommand::GetSession => self.run_get_session(t, now, out),
            AuthCommand::GetUser(jwt) => self.run_get_user(t, jwt.as_deref(), now, out),
            AuthCommand::GetClaims(jwt) => self.run_get_claims(t, jwt.as_deref(), now, out),
            AuthCommand::RefreshSession(rt) => self.run_refresh_session(t, rt.as_deref(), now, out),
            AuthCommand::SetSession { access_token, refresh_token } => {
                self.run_set_session(t, &access_token, &refresh_token, now, out)
            }
            AuthCommand::UpdateUser(attrs) => self.run_update_user(t, &attrs, now, out),
            AuthCommand::ResetPasswordForEmail(args) => self.run_reset_password(t, &args, now, out),
            AuthCommand::Resend(c) => self.run_resend(t, &c, now, out),
            AuthCommand::Reauthenticate => self.run_reauthenticate(t, now, out),
            AuthCommand::GetUserIdentities => self.run_user_purpose(t, super::UserPurpose::Identities, now, out),
            AuthCommand::MfaListFactors => self.run_user_purpose(t, super::UserPurpose::Factors, now, out),
            AuthCommand::MfaUnenroll(id) => self.run_mfa_unenroll(t, &id, now, out),
            AuthCommand::MfaAssuranceLevel(jwt) => self.run_assurance_level(t, jwt.as_deref(), now, out),
            AuthCommand::Initialize => {
                let result = match &self.init_error {
                    Some(e) => Err(e.clone()),
                    None => Ok(String::from("null")),
                };
                out.event(AppEvent::Done { ticket: t, result });
            }
        }
    }

    /// `destroy()`: every command still waiting, and every request, storage operation, digest
    /// or signature check a command waits for, fails with `destroyed`.
    pub(super) fn fail_everything(&mut self, out: &mut Outbox) {
        let mut tickets: Vec<Ticket> = self.parked.drain(..).map(|(t, _)| t).collect();
        tickets.extend(self.refresh_waiters.drain(..).map(|(t, _)| t));
        tickets.extend(self.jwks_waiters.drain(..).map(|(t, _)| t));
        tickets.extend(self.verifies.values().map(|(t, _)| *t));
        tickets.extend(self.digests.values().map(|DigestOp::Pkce { ticket, .. }| *ticket));
        for op in self.http.values() {
            match op {
                HttpOp::SignIn { ticket: Some(t), .. }
                | HttpOp::User { ticket: Some(t), .. }
                | HttpOp::NoSession { ticket: t, .. }
                | HttpOp::Body { ticket: t }
                | HttpOp::UpdateUser { ticket: t }
                | HttpOp::Logout { ticket: t } => tickets.push(*t),
                _ => {}
            }
        }
        for op in self.store.values() {
            match op {
                StoreOp::VerifierWritten { ticket, .. } | StoreOp::VerifierRead { ticket: Some(ticket), .. } => {
                    tickets.push(*ticket)
                }
                _ => {}
            }
        }
        if let Some(w) = &self.write {
            tickets.extend(w.after.iter().filter_map(|Saved { ticket, .. }| ticket.as_ref().map(|(t, _)| *t)));
        }
        self.verifies = Default::default();
        self.digests = Default::default();
        self.http = Default::default();
        self.sent_at = Default::default();
        self.store = Default::default();
        for ticket in tickets {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::Destroyed) });
        }
    }
}

/// The session commands by their `Client` names: each goes through [`Auth::command`].
impl Auth {
    /// `signUp`.
    pub fn sign_up(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignUp(String::from(creds)), now, out);
    }
    /// `signInWithPassword`.
    pub fn sign_in_with_password(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignInWithPassword(String::from(creds)), now, out);
    }
    /// `signInAnonymously`.
    pub fn sign_in_anonymously(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignInAnonymously(String::from(creds)), now, out);
    }
    /// `signInWithOtp`.
    pub fn sign_in_with_otp(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignInWithOtp(String::from(creds)), now, out);
    }
    /// `verifyOtp`.
    pub fn verify_otp(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::VerifyOtp(String::from(creds)), now, out);
    }
    /// `signInWithIdToken`.
    pub fn sign_in_with_id_token(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignInWithIdToken(String::from(creds)), now, out);
    }
    /// `signInWithOAuth`: `{ provider, url }`.
    pub fn sign_in_with_oauth(&mut self, t: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignInWithOAuth(String::from(creds)), now, out);
    }
    /// `exchangeCodeForSession(code)`.
    pub fn exchange_code(&mut self, t: Ticket, code: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::ExchangeCode(String::from(code)), now, out);
    }
    /// `signOut({ scope })`.
    pub fn sign_out(&mut self, t: Ticket, scope: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::SignOut(String::from(scope)), now, out);
    }
    /// `getSession()`.
    pub fn get_session(&mut self, t: Ticket, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::GetSession, now, out);
    }
    /// `getUser(jwt?)`.
    pub fn get_user(&mut self, t: Ticket, jwt: Option<&str>, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::GetUser(jwt.map(String::from)), now, out);
    }
    /// `getClaims(jwt?)`.
    pub fn get_claims(&mut self, t: Ticket, jwt: Option<&str>, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::GetClaims(jwt.map(String::from)), now, out);
    }
    /// `refreshSession({ refresh_token? })`.
    pub fn refresh_session(&mut self, t: Ticket, rt: Option<&str>, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::RefreshSession(rt.map(String::from)), now, out);
    }
    /// `setSession({ access_token, refresh_token })`.
    pub fn set_session_cmd(&mut self, t: Ticket, at: &str, rt: &str, now: Now, out: &mut Outbox) {
        let cmd = AuthCommand::SetSession { access_token: String::from(at), refresh_token: String::from(rt) };
        self.command(t, cmd, now, out);
    }
    /// `updateUser(attributes)`.
    pub fn update_user(&mut self, t: Ticket, attrs: &str, now: Now, out: &mut Outbox) {
        self.command(t, AuthCommand::UpdateUser(String::from(attrs)), now, out);
    }
}
