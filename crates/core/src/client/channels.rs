//! The Realtime commands of the client: channels and their listeners, subscribe /
//! unsubscribe / remove, broadcasts (socket or HTTP), `httpSend`, presence, the socket's
//! `connect` / `disconnect`, and `setAuth`. Each builds the token view of the moment it
//! runs (G1) and hands it to [`Realtime`]; the guarantees themselves are kept in `mod.rs`
//! (`sync`) and in the realtime half.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::frame::UserData;
use authwire_wire::realtime::PgChange;

use super::tokens::view;
use super::Client;
use crate::error::{ChannelOpError, PushError};
use crate::io::{concat, AppEvent, ChannelId, Level, Outbox, PushOutcome, Ticket};
use crate::realtime::bindings::Registered;
use crate::realtime::{ChannelOptions, HttpChannel, HttpTarget, Realtime, TokenView};
use crate::time::{Millis, Now};

impl Client {
    pub(super) fn check_alive(&self) -> Result<(), ChannelOpError> {
        if self.destroyed {
            Err(ChannelOpError::Destroyed)
        } else {
            Ok(())
        }
    }

    /// A ticket that is answered `destroyed` at once, for a command given after `destroy()`.
    fn destroyed_ticket(&mut self) -> Option<Ticket> {
        if !self.destroyed {
            return None;
        }
        let ticket = self.ticket();
        self.out.event(AppEvent::PushDone { ticket, outcome: PushOutcome::Error(PushError::Destroyed) });
        Some(ticket)
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
        if let Some(t) = self.destroyed_ticket() {
            return t;
        }
        let t = self.ticket();
        self.realtime.unsubscribe(ch, Some(t), now, &mut self.out);
        self.sync(now);
        t
    }

    /// `client.removeChannel(ch)`.
    pub fn remove_channel(&mut self, ch: ChannelId, now: Now) -> Ticket {
        if let Some(t) = self.destroyed_ticket() {
            return t;
        }
        let t = self.ticket();
        self.realtime.remove_channel(ch, Some(t), now, &mut self.out);
        self.sync(now);
        t
    }

    /// `client.removeAllChannels()`: every registered channel is removed (one ticket each, in
    /// `channel_ids()` order), then the socket disconnects, as realtime-js does.
    pub fn remove_all_channels(&mut self, now: Now) -> Vec<Ticket> {
        if let Some(t) = self.destroyed_ticket() {
            return alloc::vec![t];
        }
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
    /// the ticket resolves with [`crate::io::AppEvent::HttpSendDone`].
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
        f: impl FnOnce(
            &mut Realtime,
            Ticket,
            Now,
            &TokenView<'_>,
            &HttpTarget<'_>,
            &mut Outbox,
        ) -> Result<(), ChannelOpError>,
    ) -> Result<Ticket, ChannelOpError> {
        self.check_alive()?;
        let t = self.ticket();
        self.auth.ensure_fresh(now, &mut self.out);
        let base = self.cfg.url.http("/realtime/v1");
        let v = view(&self.cfg, &self.auth, self.third_party.as_ref(), &self.manual, now);
        let http = HttpTarget { base_url: &base, apikey: &self.cfg.key };
        f(&mut self.realtime, t, now, &v, &http, &mut self.out)?;
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

    /// `client.realtime.disconnect()`: the ticket resolves `ok` once the browser reported the
    /// close (the channels have seen it then), `timed out` if it never did.
    pub fn disconnect(&mut self, now: Now) -> Ticket {
        if let Some(t) = self.destroyed_ticket() {
            return t;
        }
        let t = self.ticket();
        self.realtime.disconnect_then(Some(t), now, &mut self.out);
        t
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
                Some(t) => self.on_third_party_token(Some(t), now),
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
}
