//! Diagnostics: explaining a refused socket (a browser cannot read the handshake's answer,
//! so the auth server is asked about the token with `GET /user`, design.md "Diagnostics"),
//! and `diagnose()`, the auth and socket state as JSON with every token redacted.

use alloc::string::String;

use authwire_wire::json::ObjectWriter;

use super::Client;
use crate::auth::SignOutReason;
use crate::config::ApikeyMode;
use crate::error::ChannelError;
use crate::io::{AppEvent, Output};
use crate::time::Now;

/// Why the socket was refused, as the auth server explained it (see `diagnose`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// GoTrue's code (`user_not_found`, `session_not_found`, `user_banned`, `bad_jwt`).
    pub code: String,
    /// GoTrue's message.
    pub message: String,
}

impl Client {
    /// A socket that closed before opening was probably refused at the handshake, which a
    /// browser cannot read. Ask the auth server about the token instead (design.md,
    /// "Diagnostics").
    pub(super) fn diagnose_refusal(&mut self) {
        if self.diagnosis.is_some() {
            return;
        }
        let Some(s) = self.auth.session() else { return };
        let req = crate::auth::requests::Gotrue {
            base: &self.cfg.url.http("/auth/v1"),
            key: &self.cfg.key,
            headers: &self.cfg.headers,
        }
        .request("GET", "/user", Some(&s.access_token), None);
        let id = self.out.request_id();
        self.diagnosis = Some(id);
        self.out.push(Output::Http { id, request: req });
    }

    pub(super) fn on_diagnosis(&mut self, status: u16, body: &str) {
        if (200..300).contains(&status) {
            return;
        }
        let e = authwire_wire::gotrue::parse_error(body);
        let code = e.code.unwrap_or_else(|| String::from("unknown"));
        let refusal = Refusal { code: code.clone(), message: e.message.clone() };
        self.out
            .log(crate::io::Level::Warn, crate::io::concat(&["the socket was refused; the auth server says ", &code]));
        for id in self.realtime.channel_ids() {
            if self.realtime.channel_info(id).is_some_and(|i| i.state != crate::realtime::channel::ChannelState::Closed)
            {
                self.out.event(AppEvent::ChannelStatus {
                    channel: id,
                    status: crate::io::SubscribeStatus::ChannelError,
                    error: Some(ChannelError::Refused { code: code.clone(), reason: e.message.clone() }),
                });
            }
        }
        self.refusal = Some(refusal);
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
                w.str("code", &r.code).str("message", &r.message);
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
