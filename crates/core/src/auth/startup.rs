//! Start-up: reading the stored session once ([`Auth::start`]), removing a stored value that
//! is not a session, refreshing a stored session that is due, and taking a session from the
//! page URL (`detectSessionInUrl`: an implicit-flow fragment, or a PKCE `?code=` exchanged by
//! `pkce.rs`). Start-up has settled once storage was read and nothing it began is still in
//! flight; then listeners get `INITIAL_SESSION` (`events.rs`).

use alloc::string::String;
use alloc::vec::Vec;

use super::session::Session;
use super::{Auth, HttpOp, StoreOp, UserPurpose};
use crate::error::AuthError;
use crate::io::{concat, Level, Outbox, Output, StorageOp};
use crate::time::Now;

impl Auth {
    /// The page URL to take a session from at start (`detectSessionInUrl`).
    pub fn set_page_url(&mut self, url: Option<String>) {
        self.cfg.page_url = url;
    }

    /// Reads the stored session (and takes one from the page URL, if enabled).
    pub fn start(&mut self, now: Now, out: &mut Outbox) {
        if !self.cfg.persist {
            self.loaded = true;
            self.detect_url(now, out);
            self.flush_initial(out);
            self.resume_parked(now, out);
            return;
        }
        let id = out.request_id();
        self.store.insert(id, StoreOp::Initial);
        out.push(Output::Storage { id, op: StorageOp::Get(self.cfg.storage_key.clone()) });
    }

    /// The stored session at start (an unreadable storage counts as none).
    pub(super) fn on_initial(&mut self, result: Result<Option<String>, String>, now: Now, out: &mut Outbox) {
        let value = match result {
            Ok(v) => v,
            Err(e) => {
                self.storage_error = Some(e.clone());
                out.log(Level::Error, concat(&["could not read the stored session: ", &e]));
                None
            }
        };
        self.loaded = true;
        match value.as_deref().map(|v| Session::from_stored(v, now.wall)) {
            Some(Some(s)) => {
                self.set_session(s, now);
            }
            Some(None) => {
                // Not a session (corrupt or foreign): remove it, as auth-js does.
                let id = out.request_id();
                self.store.insert(id, StoreOp::Write);
                out.push(Output::Storage { id, op: StorageOp::Remove(self.cfg.storage_key.clone()) });
                out.log(Level::Warn, String::from("removed a stored value that is not a session"));
            }
            None => {}
        }
        self.detect_url(now, out);
        if !self.init_busy {
            if let Some(s) = &self.session {
                if s.needs_refresh(now.wall) {
                    self.init_busy = true;
                    self.start_refresh(now, out);
                }
            }
        }
        self.flush_initial(out);
    }

    /// Takes a session from the page URL: an implicit-flow fragment or a PKCE `?code=`.
    fn detect_url(&mut self, now: Now, out: &mut Outbox) {
        let Some(url) = self.cfg.page_url.take() else { return };
        let (base, frag) = url.split_once('#').unwrap_or((&url, ""));
        let query = base.split_once('?').map_or("", |(_, q)| q);
        let param = authwire_wire::url::query_value;
        let clean_base = base.split_once('?').map_or(base, |(b, _)| b);
        let either = |k: &str| param(frag, k).or_else(|| param(query, k));
        let (error, code, description) = (either("error"), either("error_code"), either("error_description"));
        if error.is_some() || code.is_some() || description.is_some() {
            // As auth-js: `initialize()` reports it, and a stored session is kept.
            let message =
                description.unwrap_or_else(|| String::from("Error in URL with unspecified error_description"));
            out.log(Level::Warn, concat(&["the page URL carries an auth error: ", &message]));
            self.init_error = Some(AuthError::ImplicitGrantRedirect {
                message,
                error: error.unwrap_or_else(|| String::from("unspecified_error")),
                code: code.unwrap_or_else(|| String::from("unspecified_code")),
            });
            return;
        }
        if let (Some(at), Some(rt)) = (param(frag, "access_token"), param(frag, "refresh_token")) {
            let expires_in = param(frag, "expires_in").and_then(|v| v.parse().ok()).unwrap_or(3600);
            let recovery = param(frag, "type").as_deref() == Some("recovery");
            out.push(Output::ReplaceUrl(String::from(clean_base)));
            self.init_busy = true;
            let req = self.gotrue().request("GET", "/user", Some(&at), None);
            self.send(
                req,
                HttpOp::User {
                    ticket: None,
                    own: false,
                    purpose: UserPurpose::FromUrl { at, rt, expires_in, recovery },
                },
                now,
                out,
            );
            return;
        }
        if self.cfg.pkce {
            if let Some(code) = param(query, "code") {
                // Keep the other query parameters; drop `code` and `sb_flow_id`.
                let rest: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.starts_with("code=") && !p.starts_with("sb_flow_id=") && !p.is_empty())
                    .collect();
                let mut clean = String::from(clean_base);
                if !rest.is_empty() {
                    clean.push('?');
                    clean.push_str(&rest.join("&"));
                }
                out.push(Output::ReplaceUrl(clean));
                self.init_busy = true;
                let id = out.request_id();
                self.store.insert(id, StoreOp::VerifierRead { ticket: None, code });
                out.push(Output::Storage { id, op: StorageOp::Get(self.verifier_key()) });
            }
        }
    }
}
