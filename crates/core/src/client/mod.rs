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
//! [`TokenView`] built from them and the session at every call) and `diagnose.rs` (refused
//! sockets explained, `diagnose()`).

mod diagnose;
#[cfg(test)]
mod tests;
mod tokens;

pub use self::diagnose::{redact, Refusal};
use self::tokens::{view, External, ThirdParty};

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::UserData;
use authwire_wire::realtime::PgChange;

use crate::auth::{Auth, AuthConfig, SignOutReason};
use crate::config::{ApikeyMode, ClientConfig};
use crate::error::{AuthError, ChannelOpError};
use crate::io::{concat, AppEvent, ChannelId, Input, Level, ListenerId, Outbox, Output, RequestId, Ticket};
use crate::realtime::bindings::Registered;
use crate::realtime::{
    ChannelInfo, ChannelOptions, ConnectionState, HttpChannel, HttpTarget, Realtime, Signal, TokenChange, TokenView,
};
use crate::time::{Instant, Millis, Now};

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
    /// `GET /user` asking why the socket was refused.
    diagnosis: Option<RequestId>,
    refusal: Option<Refusal>,
    started: bool,
    destroyed: bool,
}

impl Client {
    /// A client that has not started. `seed` feeds jitter and PKCE verifiers.
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

    /// The earliest deadline; the shell arms one timer for it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.destroyed {
            return None;
        }
        match (self.realtime.poll_timeout(), self.auth.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
                self.refusal = None;
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
                if Some(id) == self.diagnosis {
                    self.diagnosis = None;
                    self.on_diagnosis(status, &body);
                } else if !self.realtime.handle_http(id, Ok((status, &body)), &mut self.out) {
                    self.auth.handle_http(id, Ok((status, body)), now, &mut self.out);
                }
            }
            Input::HttpFailed { id, message } => {
                if Some(id) == self.diagnosis {
                    self.diagnosis = None;
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
            Input::AccessToken { token } => self.on_third_party_token(token),
            Input::AccessTokenFailed { message } => {
                // As realtime-js: keep the cached token; try again on the next occasion.
                if let Some(tp) = &mut self.third_party {
                    tp.fetching = false;
                    tp.fetched = true;
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
                if self.third_party.as_ref().is_some_and(|tp| tp.tok.expires_within(now, 60)) {
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
        }
        self.sync(now);
    }

    fn on_third_party_token(&mut self, token: Option<String>) {
        let Some(tp) = &mut self.third_party else { return };
        tp.fetching = false;
        tp.fetched = true;
        if let Some(change) = tp.tok.replace(token) {
            self.pending_change = Some(change);
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
            // G4 for third-party tokens: ask again before expiry.
            if tp.fetched && !tp.fetching && tp.tok.expires_within(now, 30) {
                self.fetch_third_party();
            }
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
                    if self.third_party.is_some() {
                        if let Some(tp) = &mut self.third_party {
                            tp.fetching = false;
                        }
                        self.fetch_third_party();
                    } else {
                        self.auth.force_refresh(now, &mut self.out);
                    }
                }
                Signal::RefusedBeforeOpen => self.diagnose_refusal(),
            }
        }
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.resume(now, &v, &mut self.out);
        // Their last events are out: ended channels are forgotten (a new one may take the name).
        self.realtime.forget_ended();
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

    // ------------------------------------------------------------------------------------
    // Realtime commands
    // ------------------------------------------------------------------------------------

    fn check_alive(&self) -> Result<(), ChannelOpError> {
        if self.destroyed {
            Err(ChannelOpError::Destroyed)
        } else {
            Ok(())
        }
    }

    /// `client.channel(name, opts)`.
    pub fn channel(&mut self, name: &str, opts: ChannelOptions) -> Result<ChannelId, ChannelOpError> {
        self.check_alive()?;
        self.realtime.channel(name, opts)
    }

    /// `channel.on('postgres_changes', …)`; returns the local binding index. A filter that
    /// fails validation is refused.
    pub fn add_postgres_binding(&mut self, ch: ChannelId, spec: PgChange) -> Result<u32, ChannelOpError> {
        self.check_alive()?;
        self.realtime.add_postgres_binding(ch, spec)
    }

    /// `channel.on('postgres_changes', …)` as realtime-js takes it: registered whatever the
    /// filter (the server reports a bad one; authwire's reason is logged and returned).
    pub fn register_postgres_binding(&mut self, ch: ChannelId, spec: PgChange) -> Result<Registered, ChannelOpError> {
        self.check_alive()?;
        let r = self.realtime.register_postgres_binding(ch, spec)?;
        if let Some(e) = &r.invalid {
            self.out.log(Level::Warn, concat(&["invalid_filter: ", e.message(), " (the server will refuse it)"]));
        }
        Ok(r)
    }

    /// `channel.on('presence', …)` turns presence on for the join.
    pub fn enable_presence(&mut self, ch: ChannelId) -> Result<(), ChannelOpError> {
        self.check_alive()?;
        self.realtime.enable_presence(ch)
    }

    /// `channel.subscribe(cb, timeout)`.
    pub fn subscribe(&mut self, ch: ChannelId, timeout_ms: Option<Millis>, now: Now) -> Result<(), ChannelOpError> {
        self.check_alive()?;
        self.auth.ensure_fresh(now, &mut self.out);
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.subscribe(ch, timeout_ms, now, &v, &mut self.out)?;
        self.sync(now);
        Ok(())
    }

    /// `channel.unsubscribe()`: closes now; the ticket resolves `ok`.
    pub fn unsubscribe(&mut self, ch: ChannelId, now: Now) -> Ticket {
        let t = self.ticket();
        self.realtime.unsubscribe(ch, Some(t), now, &mut self.out);
        self.sync(now);
        t
    }

    /// `client.removeChannel(ch)`.
    pub fn remove_channel(&mut self, ch: ChannelId, now: Now) -> Ticket {
        let t = self.ticket();
        self.realtime.remove_channel(ch, Some(t), now, &mut self.out);
        self.sync(now);
        t
    }

    /// `client.removeAllChannels()`: every registered channel is removed (one ticket each, in
    /// `channel_ids()` order), then the socket disconnects, as realtime-js does.
    pub fn remove_all_channels(&mut self, now: Now) -> Vec<Ticket> {
        let ids = self.realtime.channel_ids();
        let pairs: Vec<(ChannelId, Ticket)> = ids.into_iter().map(|id| (id, self.ticket())).collect();
        self.realtime.remove_all_channels(&pairs, now, &mut self.out);
        self.sync(now);
        pairs.into_iter().map(|(_, t)| t).collect()
    }

    /// `channel.send({type:'broadcast', event, payload})` with the default timeout.
    pub fn send_broadcast(
        &mut self,
        ch: ChannelId,
        event: &str,
        data: UserData,
        now: Now,
    ) -> Result<Ticket, ChannelOpError> {
        self.send_broadcast_within(ch, event, data, None, now)
    }

    /// `channel.send({type:'broadcast', event, payload}, { timeout? })`: over the socket when
    /// the channel is joined, else over HTTP (realtime-js's fallback; the token is refreshed
    /// first if due, G4).
    pub fn send_broadcast_within(
        &mut self,
        ch: ChannelId,
        event: &str,
        data: UserData,
        timeout_ms: Option<Millis>,
        now: Now,
    ) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        self.auth.ensure_fresh(now, &mut self.out);
        let base = self.cfg.url.http("/realtime/v1");
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        let http = HttpTarget { base_url: &base, apikey: &self.cfg.key };
        self.realtime.send_broadcast_within(ch, event, data, t, timeout_ms, now, &v, &http, &mut self.out)?;
        Ok(t)
    }

    /// `send()` over HTTP for `target`, a channel the core no longer knows (it ended): as a
    /// closed channel of realtime-js does.
    pub fn broadcast_over_http(
        &mut self,
        target: HttpChannel<'_>,
        event: &str,
        data: UserData,
        timeout_ms: Option<Millis>,
        now: Now,
    ) -> Result<Ticket, ChannelOpError> {
        self.http_command(now, |rt, t, now, v, http, out| {
            rt.broadcast_over_http(target, event, data, t, timeout_ms, now, v, http, out)
        })
    }

    /// `channel.httpSend(event, payload, { timeout? })`: always the HTTP broadcast endpoint;
    /// the ticket resolves with [`AppEvent::HttpSendDone`].
    pub fn http_send(
        &mut self,
        target: HttpChannel<'_>,
        event: &str,
        payload_json: &str,
        timeout_ms: Option<Millis>,
        now: Now,
    ) -> Result<Ticket, ChannelOpError> {
        self.http_command(now, |rt, t, now, v, http, out| {
            rt.http_send(target, event, payload_json, t, timeout_ms, now, v, http, out)
        })
    }

    /// Runs an HTTP broadcast command with a fresh ticket, the token refreshed first if due
    /// (G4) and the view of now.
    #[allow(clippy::type_complexity)]
    fn http_command(
        &mut self,
        now: Now,
        f: impl FnOnce(&mut Realtime, Ticket, Now, &TokenView<'_>, &HttpTarget<'_>, &mut Outbox),
    ) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        self.auth.ensure_fresh(now, &mut self.out);
        let base = self.cfg.url.http("/realtime/v1");
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        let http = HttpTarget { base_url: &base, apikey: &self.cfg.key };
        f(&mut self.realtime, t, now, &v, &http, &mut self.out);
        Ok(t)
    }

    /// `channel.track(state)`.
    pub fn track(&mut self, ch: ChannelId, payload_json: &str, now: Now) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.track(ch, payload_json, t, now, &v, &mut self.out)?;
        Ok(t)
    }

    /// `channel.untrack()`.
    pub fn untrack(&mut self, ch: ChannelId, now: Now) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.untrack(ch, t, now, &v, &mut self.out)?;
        Ok(t)
    }

    /// `client.realtime.connect()`.
    pub fn connect(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        self.realtime.connect(now, &v, &mut self.out);
    }

    /// `client.realtime.disconnect()`.
    pub fn disconnect(&mut self, now: Now) {
        self.realtime.disconnect(now, &mut self.out);
    }

    /// `client.realtime.setAuth(token?)`. Third-party mode: use `token`, or (`None`) ask
    /// `accessToken()` again. With a session it changes nothing: authwire applies the
    /// session's token itself (said once in the log). Without one, `token` is the socket's
    /// token from now on (joins and `access_token` pushes carry it, G1/G3) until a session
    /// begins or `setAuth()` without a token goes back to the project key.
    pub fn set_auth(&mut self, token: Option<String>, now: Now) {
        if self.destroyed {
            return;
        }
        if self.third_party.is_some() {
            match token {
                Some(t) => self.on_third_party_token(Some(t)),
                None => self.fetch_third_party(),
            }
        } else if self.auth.session().is_some() {
            if !self.set_auth_explained {
                self.set_auth_explained = true;
                let m = "setAuth(): authwire applies the session's access token to the socket itself; this call changes nothing while there is a session";
                self.out.log(Level::Info, String::from(m));
            }
        } else if let Some(change) = self.manual.replace(token) {
            self.pending_change = Some(change);
        }
        self.sync(now);
    }

    /// `client.realtime.connectionState()`.
    pub fn connection_state(&self) -> ConnectionState {
        self.realtime.connection_state()
    }

    /// Channel ids, in creation order.
    pub fn channel_ids(&self) -> Vec<ChannelId> {
        self.realtime.channel_ids()
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
    /// `onAuthStateChange(cb)`: `INITIAL_SESSION` first (once start-up settled).
    pub fn add_auth_listener(&mut self, now: Now) -> ListenerId {
        self.auth.add_listener(now, &mut self.out)
    }
    /// Unsubscribes an auth listener.
    pub fn remove_auth_listener(&mut self, id: ListenerId) {
        self.auth.remove_listener(id);
    }
    /// `startAutoRefresh()`.
    pub fn start_auto_refresh(&mut self, now: Now) {
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
        self.auth.ensure_fresh(now, &mut self.out);
        let v = self.view(now);
        if !v.ready {
            return None;
        }
        Some(v.token.map(String::from))
    }

    /// `client.destroy()`: leaves every channel, closes the socket, ends timers; later
    /// commands fail with `destroyed`.
    pub fn destroy(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        self.realtime.destroy(now, &mut self.out);
        self.auth.destroy(&mut self.out);
        self.destroyed = true;
    }

    /// Whether `destroy()` was called.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed
    }
}
