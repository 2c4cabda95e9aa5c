//! Diagnostics: explaining a refused socket (a browser cannot read the handshake's answer,
//! so the auth server is asked about the token with `GET /user`, design.md "Diagnostics"),
//! and `diagnose()`, the auth and socket state as JSON with every token redacted.

use alloc::string::String;

use authwire_wire::json::ObjectWriter;

use super::Client;
use crate::auth::SignOutReason;
use crate::config::ApikeyMode;
use crate::error::ChannelError;
use crate::io::{concat, AppEvent, Level, Output, RequestId, SubscribeStatus};
use crate::realtime::channel::ChannelState;
use crate::time::Now;

/// The last refusal of the token, for `diagnose()`: what the Realtime server said at a join
/// or a channel close, or, for a handshake a browser cannot read, what the auth server says
/// about the same token (`GET /user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The code the channels were given (`user_not_found`, `session_not_found`,
    /// `user_banned`, `invalid_jwt`, `token_expired`, …).
    pub code: String,
    /// The server's text.
    pub message: String,
    /// GoTrue's own code when the auth server explained it (`bad_jwt` for `invalid_jwt`).
    pub auth_code: Option<String>,
    /// `true` when it explains a refused handshake (cleared when a socket opens).
    pub handshake: bool,
}

/// `GET /user` in flight to explain a refusal of `token`.
#[derive(Debug)]
pub(super) struct Diagnosis {
    pub(super) id: RequestId,
    token: String,
    /// The handshake was refused (the channels know nothing yet); else it confirms a
    /// Realtime refusal the channels already got.
    handshake: bool,
}

impl Client {
    /// A connection attempt closed before it opened, probably refused at the handshake, whose
    /// answer a browser cannot read: ask the auth server about the token the socket carried
    /// (design.md, "Diagnostics"). Only a user's token can be explained; once per token.
    pub(super) fn diagnose_refusal(&mut self, now: Now) {
        let v = self.view(now);
        let Some(token) = v.socket_key.filter(|k| *k != self.cfg.key) else { return };
        let (token, generation) = (String::from(token), v.generation);
        self.ask_auth_server(token, generation, true);
    }

    /// The Realtime server refused the token at a join or closed a channel over it (the
    /// channels were told). A user or session that is gone is the auth server's to say: it is
    /// asked about the same token, and the session ends if it agrees.
    pub(super) fn on_token_refused(&mut self, error: ChannelError, now: Now) {
        self.out.log(Level::Warn, concat(&["the realtime server refused the token: ", error.code()]));
        self.record_refusal(&error, None, false, false);
        if matches!(error, ChannelError::Refused { .. }) {
            let v = self.view(now);
            if let Some(token) = v.token.filter(|t| *t != self.cfg.key) {
                let (token, generation) = (String::from(token), v.generation);
                self.ask_auth_server(token, generation, false);
            }
        }
    }

    pub(super) fn ask_auth_server(&mut self, token: String, generation: u64, handshake: bool) {
        if self.diagnosis.is_some() || self.diagnosed == Some(generation) {
            return;
        }
        self.diagnosed = Some(generation);
        let req = crate::auth::requests::Gotrue {
            base: &self.cfg.url.http("/auth/v1"),
            key: &self.cfg.key,
            headers: &self.cfg.headers,
        }
        .request("GET", "/user", Some(&token), None);
        let id = self.out.request_id();
        self.diagnosis = Some(Diagnosis { id, token, handshake });
        self.out.push(Output::Http { id, request: req });
    }

    /// The auth server's answer about a refused token (`None`: no answer; the next refusal
    /// asks again).
    pub(super) fn on_diagnosis(&mut self, d: Diagnosis, answer: Option<(u16, &str)>, now: Now) {
        let Some((status, body)) = answer else {
            self.diagnosed = None;
            return;
        };
        if (200..300).contains(&status) {
            if d.handshake {
                self.out.log(
                    Level::Info,
                    String::from("the socket closed before it opened, and the auth server accepts the token"),
                );
            }
            return;
        }
        let e = authwire_wire::gotrue::parse_error(body);
        let auth_code = e.code.unwrap_or_else(|| String::from("unknown"));
        let error = ChannelError::from_auth_answer(&auth_code, e.message);
        self.out.log(Level::Warn, concat(&["the auth server says of the refused token: ", &auth_code]));
        if let ChannelError::TokenExpired { .. } = error {
            // G6: expiry is not a refusal to report but a token to replace (the socket's next
            // attempt carries the new one).
            match &mut self.third_party {
                Some(tp) => tp.wanted = true,
                None => self.auth.force_refresh(now, &mut self.out),
            }
        }
        // After a refused handshake the channels know nothing yet (a join refusal they do).
        let tell = d.handshake && !matches!(error, ChannelError::TokenExpired { .. });
        self.record_refusal(&error, Some(auth_code.clone()), d.handshake, tell);
        if ChannelError::SESSION_GONE.contains(&auth_code.as_str()) {
            self.auth.revoked(&d.token, &auth_code, &mut self.out);
        }
    }

    /// Records `error` as the last refusal (`diagnose()`); with `tell`, every channel that is
    /// not closed gets it too (`CHANNEL_ERROR`), for a refusal the channels could not see.
    pub(super) fn record_refusal(
        &mut self,
        error: &ChannelError,
        auth_code: Option<String>,
        handshake: bool,
        tell: bool,
    ) {
        if tell {
            for id in self.realtime.channel_ids() {
                if self.realtime.channel_info(id).is_some_and(|i| i.state != ChannelState::Closed) {
                    self.out.event(AppEvent::ChannelStatus {
                        channel: id,
                        status: SubscribeStatus::ChannelError,
                        error: Some(error.clone()),
                    });
                }
            }
        }
        let (code, message) = (String::from(error.code()), error.message().into_owned());
        self.refusal = Some(Refusal { code, message, auth_code, handshake });
    }

    /// `client.diagnose()`: the auth and socket state as JSON, tokens redacted.
    pub fn diagnose_json(&self, now: Now) -> String {
        let v = self.view(now);
        let mut auth = ObjectWriter::new();
        auth.str("mode", if self.third_party.is_some() { "third_party" } else { "session" });
        auth.bool("ready", v.ready).bool("refreshing", self.auth.refreshing());
        match self.auth.session() {
            Some(s) => {
                let mut w = ObjectWriter::new();
                w.opt_str("userId", s.user_id.as_deref())
                    .opt_str("role", s.role.as_deref())
                    .bool("isAnonymous", s.is_anonymous)
                    .u64("expiresAt", s.expires_at)
                    .i64("expiresInSeconds", s.local_expiry() as i64 - now.wall.as_secs() as i64)
                    .i64("clockSkewSeconds", s.skew)
                    .str("accessToken", &redact(&s.access_token));
                auth.raw("session", &w.finish());
            }
            None => {
                auth.raw("session", "null");
            }
        }
        auth.opt_str("signOutReason", self.auth.sign_out_reason().map(SignOutReason::as_str));
        auth.opt_str("storageError", self.auth.storage_error());
        match self.auth.last_refresh_error() {
            Some(e) => {
                let mut w = ObjectWriter::new();
                w.str("code", e.code()).str("message", e.message());
                auth.raw("lastRefreshError", &w.finish());
            }
            None => {
                auth.raw("lastRefreshError", "null");
            }
        };
        let mut rt = ObjectWriter::new();
        rt.str("connectionState", self.realtime.connection_state().as_str());
        rt.str(
            "apikeyMode",
            match self.cfg.apikey_mode {
                ApikeyMode::Project => "project",
                ApikeyMode::Session => "session",
            },
        );
        rt.bool("projectKeyIsJwt", self.cfg.key_is_jwt);
        let socket = match v.socket_key {
            Some(k) if k == self.cfg.key => String::from("project key"),
            Some(_) => String::from("user access token"),
            None if self.cfg.apikey_mode == ApikeyMode::Session && v.ready => {
                String::from("none: 'session' mode, no session, and the project key is not a JWT")
            }
            None => String::from("none yet: waiting for auth to settle"),
        };
        rt.str("socketKey", &socket);
        rt.opt_str("tokenRole", v.role);
        match self.realtime.last_close() {
            Some((code, reason)) => {
                let mut w = ObjectWriter::new();
                w.u64("code", u64::from(*code)).str("reason", reason);
                rt.raw("lastClose", &w.finish());
            }
            None => {
                rt.raw("lastClose", "null");
            }
        }
        match &self.refusal {
            Some(r) => {
                let mut w = ObjectWriter::new();
                w.str("code", &r.code).str("message", &r.message).opt_str("authCode", r.auth_code.as_deref());
                rt.raw("refusal", &w.finish());
            }
            None => {
                rt.raw("refusal", "null");
            }
        }
        let mut chans = String::from("[");
        for (i, id) in self.realtime.channel_ids().into_iter().enumerate() {
            let Some(info) = self.realtime.channel_info(id) else { continue };
            if i > 0 {
                chans.push(',');
            }
            let mut w = ObjectWriter::new();
            w.str("topic", &info.topic)
                .str("state", info.state.as_str())
                .bool("private", info.private)
                .opt_str("effectiveRole", info.effective_role.as_deref())
                .bool("recovering", info.recovering)
                .u64("bufferedPushes", info.buffered as u64);
            match &info.last_gap {
                Some(g) => {
                    let mut gw = ObjectWriter::new();
                    gw.u64("from", g.from.as_millis()).u64("to", g.to.as_millis()).str("reason", g.reason);
                    w.raw("lastGap", &gw.finish());
                }
                None => {
                    w.raw("lastGap", "null");
                }
            }
            chans.push_str(&w.finish());
        }
        chans.push(']');
        rt.raw("channels", &chans);
        let mut w = ObjectWriter::new();
        w.raw("auth", &auth.finish()).raw("realtime", &rt.finish());
        w.finish()
    }
}

/// A token as diagnostics may show it: the first characters and the length, never the rest.
pub fn redact(token: &str) -> String {
    let mut s = String::from(token.get(..6).unwrap_or(""));
    s.push_str("…(redacted, ");
    authwire_wire::json::write_u64(&mut s, token.len() as u64);
    s.push_str(" chars)");
    s
}
