//! The client: auth and Realtime in one state machine. This file is where the guarantees are
//! enforced, so a reader finds them in one place:
//!
//! * G1 — join payloads are built by [`Realtime`] when the frame is sent, from the
//!   [`TokenView`] this client computes at that moment ([`token_view`]).
//! * G2 — the view is not `ready` while auth is unresolved; Realtime sends no join,
//!   `access_token` or channel push until it is.
//! * G7 — the socket's connect key comes from the same view, computed per connect.
//!
//! (G3–G6 and G8 join as the auth half lands; see `ARCHITECTURE.md`.)

use alloc::string::String;

use authwire_wire::frame::UserData;
use authwire_wire::realtime::PgChange;

use crate::config::{ApikeyMode, ClientConfig};
use crate::error::ChannelOpError;
use crate::io::{ChannelId, Input, Outbox, Output, RequestId, Ticket};
use crate::realtime::{ChannelInfo, ChannelOptions, ConnectionState, HttpTarget, Realtime, TokenView};
use crate::time::{Instant, Millis, Now};

/// The auth and Realtime core of one SDK instance.
#[derive(Debug)]
pub struct Client {
    cfg: ClientConfig,
    realtime: Realtime,
    out: Outbox,
    next_ticket: u64,
    /// Generation of the token joins carry (changes with every token change).
    token_gen: u64,
    destroyed: bool,
}

/// The auth state as Realtime must see it now. Without a session the project key is the
/// token when it is a JWT (joins then say `anon` explicitly); an opaque key is never put in a
/// join (the server would ignore it anyway, §1.5).
fn token_view<'a>(cfg: &'a ClientConfig, token_gen: u64) -> TokenView<'a> {
    let anon_token = if cfg.key_is_jwt { Some(cfg.key.as_str()) } else { None };
    let socket_key = match cfg.apikey_mode {
        ApikeyMode::Project => Some(cfg.key.as_str()),
        // G7: with no session the socket uses the project key only if it is a JWT.
        ApikeyMode::Session => anon_token,
    };
    TokenView { ready: true, token: anon_token, generation: token_gen, role: Some("anon"), socket_key }
}

impl Client {
    /// A client with no session and no socket yet. `seed` feeds jitter and PKCE verifiers.
    pub fn new(cfg: ClientConfig, seed: u64) -> Client {
        let realtime = Realtime::new(cfg.realtime.clone(), seed);
        Client { cfg, realtime, out: Outbox::default(), next_ticket: 0, token_gen: 1, destroyed: false }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }

    /// A fresh ticket for a command whose completion is reported later.
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
        self.realtime.poll_timeout()
    }

    /// Feeds one input.
    pub fn handle(&mut self, input: Input, now: Now) {
        if self.destroyed {
            return;
        }
        let view = token_view(&self.cfg, self.token_gen);
        let rt = &mut self.realtime;
        let out = &mut self.out;
        match input {
            Input::SocketOpened { conn } => rt.handle_opened(conn, now, &view, out),
            Input::SocketMessage { conn, msg } => rt.handle_message(conn, &msg, now, &view, out),
            Input::SocketClosed { conn, code, reason } => rt.handle_closed(conn, code, reason, now, out),
            Input::HttpResponse { id, status, .. } => {
                rt.handle_http(id, Some(status), out);
            }
            Input::HttpFailed { id, .. } => {
                rt.handle_http(id, None, out);
            }
            Input::Visibility { visible: true } | Input::Wake => rt.health_check(now, &view, out),
            Input::Online { online } => rt.set_online(online, now, &view, out),
            Input::Timeout => rt.handle_timeout(now, &view, out),
            _ => {}
        }
        // Signals are consumed by the auth half (G6); without a session there is nothing to
        // refresh.
        self.realtime.take_signals();
    }

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

    /// `channel.on('postgres_changes', …)`; returns the local binding index.
    pub fn add_postgres_binding(&mut self, ch: ChannelId, spec: PgChange) -> Result<u32, ChannelOpError> {
        self.check_alive()?;
        self.realtime.add_postgres_binding(ch, spec)
    }

    /// `channel.on('presence', …)` turns presence on for the join.
    pub fn enable_presence(&mut self, ch: ChannelId) -> Result<(), ChannelOpError> {
        self.check_alive()?;
        self.realtime.enable_presence(ch)
    }

    /// `channel.subscribe(cb, timeout)`.
    pub fn subscribe(&mut self, ch: ChannelId, timeout_ms: Option<Millis>, now: Now) -> Result<(), ChannelOpError> {
        self.check_alive()?;
        let view = token_view(&self.cfg, self.token_gen);
        self.realtime.subscribe(ch, timeout_ms, now, &view, &mut self.out)
    }

    /// `channel.unsubscribe()`; the ticket resolves with the outcome.
    pub fn unsubscribe(&mut self, ch: ChannelId, now: Now) -> Ticket {
        let t = self.ticket();
        self.realtime.unsubscribe(ch, Some(t), now, &mut self.out);
        t
    }

    /// `client.removeChannel(ch)`.
    pub fn remove_channel(&mut self, ch: ChannelId, now: Now) -> Ticket {
        let t = self.ticket();
        self.realtime.remove_channel(ch, Some(t), now, &mut self.out);
        t
    }

    /// `channel.send({type:'broadcast', event, payload})`.
    pub fn send_broadcast(
        &mut self,
        ch: ChannelId,
        event: &str,
        data: UserData,
        now: Now,
    ) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        let view = token_view(&self.cfg, self.token_gen);
        let base = self.cfg.url.http("/realtime/v1");
        let http = HttpTarget { base_url: &base, apikey: &self.cfg.key, bearer_fallback: None };
        self.realtime.send_broadcast(ch, event, data, t, now, &view, &http, &mut self.out)?;
        Ok(t)
    }

    /// `channel.track(state)`.
    pub fn track(&mut self, ch: ChannelId, payload_json: &str, now: Now) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        let view = token_view(&self.cfg, self.token_gen);
        self.realtime.track(ch, payload_json, t, now, &view, &mut self.out)?;
        Ok(t)
    }

    /// `channel.untrack()`.
    pub fn untrack(&mut self, ch: ChannelId, now: Now) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        let view = token_view(&self.cfg, self.token_gen);
        self.realtime.untrack(ch, t, now, &view, &mut self.out)?;
        Ok(t)
    }

    /// `client.realtime.connect()`.
    pub fn connect(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        let view = token_view(&self.cfg, self.token_gen);
        self.realtime.connect(now, &view, &mut self.out);
    }

    /// `client.realtime.disconnect()`.
    pub fn disconnect(&mut self, now: Now) {
        self.realtime.disconnect(now, &mut self.out);
    }

    /// `client.realtime.connectionState()`.
    pub fn connection_state(&self) -> ConnectionState {
        self.realtime.connection_state()
    }

    /// Channel ids, in creation order.
    pub fn channel_ids(&self) -> alloc::vec::Vec<ChannelId> {
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

    /// `client.destroy()`: leaves every channel, closes the socket; later commands fail with
    /// `destroyed`.
    pub fn destroy(&mut self, now: Now) {
        if self.destroyed {
            return;
        }
        self.realtime.destroy(now, &mut self.out);
        self.destroyed = true;
    }

    /// Whether `destroy()` was called.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed
    }

    /// Allocates a request id (for shell-side requests that share the id space).
    pub fn request_id(&mut self) -> RequestId {
        self.out.request_id()
    }
}
