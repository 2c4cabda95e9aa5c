//! The client: auth and Realtime in one state machine. The guarantees of `design.md` are
//! enforced here, so a reader finds them in one place:
//!
//! * **G1 — built at send time.** [`Realtime`] builds every join payload when the frame is
//!   sent, from the [`TokenView`] computed by [`view`] at that moment; no payload is ever
//!   stored.
//! * **G2 — no join while auth is unresolved.** The view is `ready` only when
//!   [`Auth::resolved`] says storage was read, no refresh is in flight and the token is not
//!   expired (third-party mode: the `accessToken()` answer is in). Realtime sends no join,
//!   `access_token` or channel push while it is not.
//! * **G3 — every token change reaches every channel.** [`Client::sync`] hands each token
//!   change to [`Realtime::token_changed`]: joined channels get `access_token` before anything
//!   else; a join in flight is re-pushed the token after its reply (in `Realtime`).
//! * **G4 — never an expired token.** Before every step [`Client::sync`] calls
//!   [`Auth::ensure_fresh`], which starts a refresh when the token is inside its margin; that
//!   makes the view unready until the refresh settles. Wake, `online` and visibility inputs
//!   run the same check (the schedule is from `exp`, not from a throttled interval).
//! * **G5 — sign-out ends the user's channels.** A sign-out becomes
//!   `TokenChange::SignedOut`: private channels leave (`signed_out`), public ones rejoin as
//!   anon; a user switch rejoins every channel; in `'session'` apikey mode the socket
//!   reconnects with the new key.
//! * **G6 — expiry closes are healed.** Realtime reports `Signal::TokenExpired` (a `system`
//!   "Token has expired" then `phx_close`, or such a join error) with status `RECOVERING`;
//!   the client forces a refresh and the channel rejoins with the new token.
//! * **G7 — connect params per connect.** The view's `socket_key` is the project key, or in
//!   `'session'` mode the user's token (or the project key if it is a JWT, else no connect).
//! * **G8 — one refresh per refresh token.** The cross-tab refresh protocol lives in
//!   [`crate::auth`] (lock, re-read, newest token, commit guard, post, release, announce;
//!   every session write under the same lock; other tabs' news re-read from storage).
//!
//! Besides this file: `tokens.rs` (third-party tokens, a `setAuth(token)` token, and the
//! [`TokenView`] built from them and the session at every call), `channels.rs` (the Realtime
//! commands) and `diagnose.rs` (refused sockets explained, `diagnose()`).

mod channels;
mod diagnose;
#[cfg(test)]
mod tests;
mod tokens;

use self::diagnose::Diagnosis;
pub use self::diagnose::{redact, Refusal};
use self::tokens::{view, External, ThirdParty};

use alloc::string::String;
use alloc::vec::Vec;

use crate::auth::{Auth, AuthConfig, SignOutReason};
use crate::config::{ApikeyMode, ClientConfig};
use crate::error::{AuthError, ChannelError, ChannelOpError, PushError};
use crate::io::{concat, AppEvent, ChannelId, Input, Level, ListenerId, Outbox, Output, PushOutcome, Ticket};
use crate::realtime::{ChannelInfo, ConnectionState, Realtime, Signal, TokenChange, TokenView};
use crate::time::{Instant, Now};

/// The auth and Realtime core of one SDK instance.
#[derive(Debug)]
pub struct Client {
    cfg: ClientConfig,
    auth: Auth,
    third_party: Option<ThirdParty>,
    realtime: Realtime,
    out: Outbox,
    next_ticket: u64,
    /// The token given to `setAuth(token)` while there is no session.
    manual: External,
    /// `setAuth(token)` with a session was explained in the log once.
    set_auth_explained: bool,
    /// A third-party or `setAuth` token change not yet handed to Realtime.
    pending_change: Option<TokenChange>,
    /// `GET /user` asking why the token was refused.
    diagnosis: Option<Diagnosis>,
    /// The token generation last explained (the auth server is asked once per token).
    diagnosed: Option<u64>,
    refusal: Option<Refusal>,
    started: bool,
    destroyed: bool,
}

impl Client {
    /// A client that has not started. `seed` feeds jitter only: secrets are made of the
    /// runtime's random bytes, asked for with [`Output::Entropy`].
    pub fn new(cfg: ClientConfig, seed: u64) -> Client {
        let realtime = Realtime::new(cfg.realtime.clone(), seed);
        let auth = Auth::new(
            AuthConfig {
                base_url: cfg.url.http("/auth/v1"),
                key: cfg.key.clone(),
                storage_key: cfg.auth.storage_key.clone(),
                persist: cfg.auth.persist_session,
                auto_refresh: cfg.auth.auto_refresh_token,
                pkce: cfg.auth.pkce,
                headers: cfg.headers.clone(),
                lock_timeout_ms: 15_000,
                request_timeout_ms: 10_000,
                page_url: None,
            },
            seed.rotate_left(17),
        );
        let third_party = if cfg.third_party { Some(ThirdParty::default()) } else { None };
        Client {
            cfg,
            auth,
            third_party,
            realtime,
            out: Outbox::default(),
            next_ticket: 0,
            manual: External::default(),
            set_auth_explained: false,
            pending_change: None,
            diagnosis: None,
            diagnosed: None,
            refusal: None,
            started: false,
            destroyed: false,
        }
    }

    /// Starts: reads the stored session (or asks `accessToken()`), and takes a session from
    /// `page_url` when `detectSessionInUrl` is on.
    pub fn start(&mut self, page_url: Option<String>, now: Now) {
        if self.started {
            return;
        }
        self.started = true;
        if self.third_party.is_some() {
            self.fetch_third_party();
        } else {
            if self.cfg.auth.detect_session_in_url {
                self.auth.set_page_url(page_url);
            }
            self.auth.start(now, &mut self.out);
        }
        self.sync(now);
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// A fresh ticket.
    pub fn ticket(&mut self) -> Ticket {
        self.next_ticket += 1;
        Ticket(self.next_ticket)
    }

    /// The next output, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// `true` when [`Client::poll_output`] has something (a driver that ran side work of its
    /// own after draining asks before it stops).
    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// The earliest deadline; the shell arms one timer for it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.destroyed {
            return None;
        }
        let tp = self.third_party.as_ref().and_then(ThirdParty::deadline);
        [self.realtime.poll_timeout(), self.auth.poll_timeout(), tp].into_iter().flatten().min()
    }

    /// The auth state as Realtime must see it now.
    fn view(&self, now: Now) -> TokenView<'_> {
        view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now)
    }

    fn fetch_third_party(&mut self) {
        if let Some(tp) = &mut self.third_party {
            if !tp.fetching {
                tp.fetching = true;
                self.out.push(Output::FetchAccessToken);
            }
        }
    }

    /// Feeds one input.
    pub fn handle(&mut self, input: Input, now: Now) {
        let input = match input {
            // Data only: nothing runs, so the shell may answer in the middle of a drain.
            Input::Entropy { bytes } => return self.auth.entropy.feed(bytes.as_deref()),
            other => other,
        };
        if self.destroyed {
            return;
        }
        // `view` borrows the auth state; each arm builds it next to the Realtime call that
        // needs it, so auth inputs can take `&mut self.auth`.
        macro_rules! v {
            () => {
                view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now)
            };
        }
        match input {
            Input::SocketOpened { conn } => {
                self.refusal.take_if(|r| r.handshake);
                let v = v!();
                self.realtime.handle_opened(conn, now, &v, &mut self.out);
            }
            Input::SocketMessage { conn, msg } => {
                let v = v!();
                self.realtime.handle_message(conn, &msg, now, &v, &mut self.out);
            }
            Input::SocketClosed { conn, code, reason } => {
                self.realtime.handle_closed(conn, code, reason, now, &mut self.out)
            }
            Input::HttpResponse { id, status, body } => {
                if let Some(d) = self.diagnosis.take_if(|d| d.id == id) {
                    self.on_diagnosis(d, Some((status, &body)), now);
                } else if !self.realtime.handle_http(id, Ok((status, &body)), &mut self.out) {
                    self.auth.handle_http(id, Ok((status, body)), now, &mut self.out);
                }
            }
            Input::HttpFailed { id, message } => {
                if let Some(d) = self.diagnosis.take_if(|d| d.id == id) {
                    self.on_diagnosis(d, None, now);
                } else if !self.realtime.handle_http(id, Err(&message), &mut self.out) {
                    self.auth.handle_http(id, Err(message), now, &mut self.out);
                }
            }
            Input::Storage { id, result } => {
                self.auth.handle_storage(id, result, now, &mut self.out);
            }
            // The new value is not trusted: the auth machine reads storage again.
            Input::StorageChanged { .. } => self.auth.handle_storage_changed(&mut self.out),
            Input::LockGranted { id } => {
                self.auth.handle_lock(id, true, now, &mut self.out);
            }
            Input::LockUnavailable { id } => {
                self.auth.handle_lock(id, false, now, &mut self.out);
            }
            Input::TabMessage { data } => self.auth.handle_tab_message(&data, &mut self.out),
            Input::Digest { id, b64url } => {
                self.auth.handle_digest(id, b64url, now, &mut self.out);
            }
            Input::Verified { id, ok } => {
                self.auth.handle_verified(id, ok, &mut self.out);
            }
            Input::AccessToken { token } => self.on_third_party_token(token, now),
            Input::AccessTokenFailed { message } => {
                // As realtime-js: keep the cached token; try again on the next occasion (an
                // unusable cached token waits for the retry delay).
                if let Some(tp) = &mut self.third_party {
                    let cached = tp.tok.token.clone();
                    tp.answer(cached, now);
                }
                self.out.log(Level::Warn, concat(&["accessToken() failed: ", &message]));
            }
            Input::Visibility { visible: false } => {}
            Input::Online { online: false } => {
                let v = v!();
                self.realtime.set_online(false, now, &v, &mut self.out);
            }
            Input::Visibility { visible: true } | Input::Wake | Input::Online { online: true } => {
                // A wake re-checks expiry against the wall clock before probing the socket.
                self.auth.ensure_fresh(now, &mut self.out);
                if self.third_party.as_ref().is_some_and(|tp| tp.tok.expires_within(now, 60) && tp.ask_due(now)) {
                    self.fetch_third_party();
                }
                let v = v!();
                if let Input::Online { online } = input {
                    self.realtime.set_online(online, now, &v, &mut self.out);
                } else {
                    self.realtime.health_check(now, &v, &mut self.out);
                }
            }
            Input::Timeout => {
                self.auth.handle_timeout(now, &mut self.out);
                let v = v!();
                self.realtime.handle_timeout(now, &v, &mut self.out);
            }
            Input::ReconnectDelay { ms } => self.realtime.reconnect_delay(ms, now),
            Input::Entropy { .. } => {}
        }
        self.sync(now);
    }

    fn on_third_party_token(&mut self, token: Option<String>, now: Now) {
        let Some(tp) = &mut self.third_party else { return };
        let (change, unusable) = tp.answer(token, now);
        if let Some(change) = change {
            self.pending_change = Some(change);
        }
        // An expired token is never used (G4): the channels wait for a new one, and are told
        // why once per streak of unusable answers.
        if unusable && tp.unusable == 1 && tp.tok.expires_within(now, 0) {
            let reason = String::from("accessToken() returned an expired token");
            self.out.log(Level::Warn, concat(&[&reason, "; asking again with backoff"]));
            self.record_refusal(&ChannelError::TokenExpired { reason }, None, false, true);
        }
    }

    /// After every step: G4 refresh, token changes to channels (G3, G5), signals (G6), then
    /// every gated Realtime action re-runs with the new view.
    fn sync(&mut self, now: Now) {
        if self.destroyed || !self.started {
            return;
        }
        if self.third_party.is_none() {
            self.auth.ensure_fresh(now, &mut self.out);
        } else if let Some(tp) = &self.third_party {
            // G4 for third-party tokens: ask again before expiry (after unusable answers, with
            // backoff).
            if tp.ask_due(now) {
                self.fetch_third_party();
            }
        }
        if let Some(token) = self.auth.take_dead_token() {
            let generation = self.view(now).generation;
            self.ask_auth_server(token, generation, false);
        }
        let mut changes = self.auth.take_changes();
        self.session_replaces_manual(&mut changes);
        if let Some(c) = self.pending_change.take() {
            changes.push(c);
        }
        let session_mode = self.cfg.apikey_mode == ApikeyMode::Session;
        for change in changes {
            let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
            self.realtime.token_changed(change, now, &v, &mut self.out);
            if session_mode && change != TokenChange::Rotated {
                // The socket presented the previous user's token: reconnect with the new one.
                self.realtime.reconnect_now(now, &v, &mut self.out);
            }
        }
        for s in self.realtime.take_signals() {
            match s {
                Signal::TokenExpired { generation } => {
                    let current = self.view(now).generation;
                    if generation != current {
                        // A newer token exists already; the channel rejoins with it.
                        continue;
                    }
                    if let Some(tp) = &mut self.third_party {
                        tp.wanted = true;
                        if tp.ask_due(now) {
                            self.fetch_third_party();
                        }
                    } else {
                        self.auth.force_refresh(now, &mut self.out);
                    }
                }
                Signal::RefusedBeforeOpen => self.diagnose_refusal(now),
                Signal::TokenRefused { error } => self.on_token_refused(error, now),
            }
        }
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.resume(now, &v, &mut self.out);
        // Their last events are out: ended channels are forgotten (a new one may take the name).
        self.realtime.forget_ended();
        // Secrets used in this step are replaced before the next one can need them.
        if self.third_party.is_none() {
            if let Some(len) = self.auth.entropy.wanted() {
                self.out.push(Output::Entropy { len });
            }
        }
    }

    /// A session began while a `setAuth(token)` token stood in: the session's token takes
    /// over (the session's change covers it), but a token of another user makes it a user
    /// switch (G5: every channel rejoins).
    fn session_replaces_manual(&mut self, changes: &mut [TokenChange]) {
        let Some(session) = self.auth.session() else { return };
        if self.manual.token.is_none() {
            return;
        }
        let other_user = self.manual.sub.as_deref() != session.user_id.as_deref();
        self.manual.clear();
        if other_user {
            for c in changes.iter_mut().filter(|c| **c == TokenChange::Rotated) {
                *c = TokenChange::UserSwitched;
            }
        }
    }

    /// `client.realtime.connectionState()`.
    pub fn connection_state(&self) -> ConnectionState {
        self.realtime.connection_state()
    }

    /// Channel ids, in creation order.
    pub fn channel_ids(&self) -> Vec<ChannelId> {
        self.realtime.channel_ids()
    }

    /// How many channels were removed so far (a shell's cue to drop its mirror of them).
    pub fn channels_removed(&self) -> u64 {
        self.realtime.channels_removed()
    }

    /// A channel's state.
    pub fn channel_info(&self, ch: ChannelId) -> Option<ChannelInfo> {
        self.realtime.channel_info(ch)
    }

    /// `channel.presenceState()` JSON.
    pub fn presence_state_json(&self, ch: ChannelId) -> Option<String> {
        self.realtime.presence_state_json(ch)
    }

    /// The realtime half (read-only), for diagnostics.
    pub fn realtime(&self) -> &Realtime {
        &self.realtime
    }

    /// The auth half (read-only), for diagnostics.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The auth server's explanation of the last refused socket.
    pub fn refusal(&self) -> Option<&Refusal> {
        self.refusal.as_ref()
    }

    /// Whether the current token view is settled (G2), for diagnostics.
    pub fn auth_ready(&self, now: Now) -> bool {
        self.view(now).ready
    }

    // ------------------------------------------------------------------------------------
    // Auth commands. Each returns a ticket resolved by `AppEvent::Done`.
    // ------------------------------------------------------------------------------------

    fn auth_cmd(&mut self, now: Now, f: impl FnOnce(&mut Auth, Ticket, Now, &mut Outbox)) -> Ticket {
        let t = self.ticket();
        if self.destroyed {
            self.out.event(AppEvent::Done { ticket: t, result: Err(AuthError::Destroyed) });
            return t;
        }
        if self.third_party.is_some() {
            self.out.event(AppEvent::Done {
                ticket: t,
                result: Err(AuthError::NotSupported { what: "auth is managed by the accessToken() callback" }),
            });
            return t;
        }
        f(&mut self.auth, t, now, &mut self.out);
        self.sync(now);
        t
    }

    /// `signUp(credentials)` (JSON of the credentials object).
    pub fn sign_up(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_up(t, creds, n, o))
    }
    /// `signInWithPassword(credentials)`.
    pub fn sign_in_with_password(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_in_with_password(t, creds, n, o))
    }
    /// `signInAnonymously(credentials?)`.
    pub fn sign_in_anonymously(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_in_anonymously(t, creds, n, o))
    }
    /// `signInWithOtp(credentials)`.
    pub fn sign_in_with_otp(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_in_with_otp(t, creds, n, o))
    }
    /// `verifyOtp(params)`.
    pub fn verify_otp(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.verify_otp(t, creds, n, o))
    }
    /// `signInWithIdToken(credentials)`.
    pub fn sign_in_with_id_token(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_in_with_id_token(t, creds, n, o))
    }
    /// `signInWithOAuth(credentials)`: resolves with `{ provider, url }`.
    pub fn sign_in_with_oauth(&mut self, creds: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_in_with_oauth(t, creds, n, o))
    }
    /// `exchangeCodeForSession(code)`.
    pub fn exchange_code(&mut self, code: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.exchange_code(t, code, n, o))
    }
    /// `signOut({ scope })`.
    pub fn sign_out(&mut self, scope: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.sign_out(t, scope, n, o))
    }
    /// `getSession()`.
    pub fn get_session(&mut self, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.get_session(t, n, o))
    }
    /// `getUser(jwt?)`.
    pub fn get_user(&mut self, jwt: Option<&str>, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.get_user(t, jwt, n, o))
    }
    /// `getClaims(jwt?)`.
    pub fn get_claims(&mut self, jwt: Option<&str>, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.get_claims(t, jwt, n, o))
    }
    /// `refreshSession({ refresh_token? })`.
    pub fn refresh_session(&mut self, refresh_token: Option<&str>, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.refresh_session(t, refresh_token, n, o))
    }
    /// `setSession({ access_token, refresh_token })`.
    pub fn set_session(&mut self, access_token: &str, refresh_token: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.set_session_cmd(t, access_token, refresh_token, n, o))
    }
    /// `updateUser(attributes)`.
    pub fn update_user(&mut self, attrs: &str, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.update_user(t, attrs, n, o))
    }
    /// Any auth command ([`crate::auth::AuthCommand`]; the methods above are shorthands).
    pub fn auth_command(&mut self, cmd: crate::auth::AuthCommand, now: Now) -> Ticket {
        self.auth_cmd(now, |a, t, n, o| a.command(t, cmd, n, o))
    }
    /// `onAuthStateChange(cb)`: `INITIAL_SESSION` first (once start-up settled). After
    /// `destroy()` the listener is never called.
    pub fn add_auth_listener(&mut self, now: Now) -> ListenerId {
        if self.destroyed {
            return ListenerId(0);
        }
        self.auth.add_listener(now, &mut self.out)
    }
    /// Unsubscribes an auth listener.
    pub fn remove_auth_listener(&mut self, id: ListenerId) {
        self.auth.remove_listener(id);
    }
    /// `startAutoRefresh()`.
    pub fn start_auto_refresh(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        self.auth.start_auto_refresh(now);
        self.sync(now);
    }
    /// `stopAutoRefresh()`.
    pub fn stop_auto_refresh(&mut self) {
        self.auth.stop_auto_refresh();
    }
    /// `signOutReason()`.
    pub fn sign_out_reason(&self) -> Option<&SignOutReason> {
        self.auth.sign_out_reason()
    }

    /// The access token to put on app HTTP requests (`client.fetch`), refreshing first if it
    /// is due: `None` while it is settling (the shell waits for the next `Done` or
    /// `AuthChange` and asks again), `Some(None)` when there is no session.
    pub fn fetch_token(&mut self, now: Now) -> Option<Option<String>> {
        if self.destroyed {
            return Some(None);
        }
        self.auth.ensure_fresh(now, &mut self.out);
        let v = self.view(now);
        if !v.ready {
            return None;
        }
        Some(v.token.map(String::from))
    }

    /// `client.destroy()`: the one terminal state. Leaves every channel, closes the socket,
    /// ends timers, answers every waiting command with `destroyed`; from then on this flag
    /// alone decides: inputs are ignored and every command is answered `destroyed` (the auth
    /// and Realtime halves are not called again).
    pub fn destroy(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        self.destroyed = true;
        let mark = self.out.len();
        self.realtime.shut_down(now, &mut self.out);
        self.auth.destroy(&mut self.out);
        // The halves settle what waited in their own terms (a push's channel closed, an HTTP
        // broadcast failed): to the app every one of them failed because of destroy().
        for e in self.out.events_since(mark) {
            match e {
                AppEvent::PushDone { outcome: PushOutcome::Error(err), .. } => *err = PushError::Destroyed,
                AppEvent::HttpSendDone { result: Err(err), .. } => *err = ChannelOpError::Destroyed,
                AppEvent::Done { result: Err(err), .. } => *err = AuthError::Destroyed,
                _ => {}
            }
        }
    }

    /// Whether `destroy()` was called.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed
    }
}
