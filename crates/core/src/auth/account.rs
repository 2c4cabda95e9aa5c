//! The account commands — `resetPasswordForEmail` (`POST /recover`), `resend`
//! (`POST /resend`), `reauthenticate` (`GET /reauthenticate`), `getUserIdentities` — and the
//! MFA commands a server without enrolled factors can serve: `mfa.listFactors` and
//! `mfa.getAuthenticatorAssuranceLevel` (computed from the user and the token, as auth-js
//! does) and `mfa.unenroll` (`DELETE /factors/{id}`). Requests, bodies and result shapes are
//! auth-js 2.119's; the answers come back through `commands.rs`.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::jwt;
use authwire_wire::url::encode_component;

use super::pkce::PkceFlow;
use super::requests;
use super::{Auth, HttpOp, UserPurpose};
use crate::error::AuthError;
use crate::io::{AppEvent, Outbox, Ticket};
use crate::time::Now;

impl Auth {
    /// `resetPasswordForEmail(email, { redirectTo?, captchaToken? })`, given as
    /// `{ email, options }`; with PKCE a verifier marked `/recovery` is stored first.
    pub(super) fn run_reset_password(&mut self, ticket: Ticket, args: &str, now: Now, out: &mut Outbox) {
        if self.cfg.pkce {
            self.pkce_then(ticket, args, PkceFlow::Recover, out);
            return;
        }
        self.recover_request(ticket, &requests::parse_creds(args), None, now, out);
    }

    /// `POST /recover`: GoTrue mails a recovery link and code (`{}` even for an unknown
    /// address).
    pub(super) fn recover_request(
        &mut self,
        ticket: Ticket,
        c: &Value,
        pkce: Option<(&str, &str)>,
        now: Now,
        out: &mut Outbox,
    ) {
        let mut path = String::from("/recover");
        path.push_str(&requests::redirect_query(c, "redirectTo"));
        self.post(&path, requests::recover_body(c, pkce), HttpOp::Body { ticket }, now, out);
    }

    /// `resend({ type, email | phone, options? })`; an email resend under PKCE stores a
    /// verifier first.
    pub(super) fn run_resend(&mut self, ticket: Ticket, creds: &str, now: Now, out: &mut Outbox) {
        let missing = "You must provide either an email or phone number and a type";
        self.address_command(ticket, creds, missing, PkceFlow::Resend, Self::resend_request, now, out);
    }

    /// `POST /resend`: `{ user: null, session: null }`, with `messageId` for an SMS.
    pub(super) fn resend_request(
        &mut self,
        ticket: Ticket,
        c: &Value,
        pkce: Option<(&str, &str)>,
        now: Now,
        out: &mut Outbox,
    ) {
        let email = c.get("email").is_some();
        let mut path = String::from("/resend");
        if email {
            path.push_str(&requests::redirect_query(c, "emailRedirectTo"));
        }
        let body = requests::resend_body(c, pkce);
        self.post(&path, body, HttpOp::NoSession { ticket, message_id: !email }, now, out);
    }

    /// `reauthenticate()`: `GET /reauthenticate` with the session's token; GoTrue mails a
    /// nonce for `updateUser({ password, nonce })`.
    pub(super) fn run_reauthenticate(&mut self, ticket: Ticket, now: Now, out: &mut Outbox) {
        let Some(at) = self.session.as_ref().map(|s| s.access_token.clone()) else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        };
        let req = self.gotrue().request("GET", "/reauthenticate", Some(&at), None);
        // auth-js drops GoTrue's `message_id` here.
        self.send(req, HttpOp::NoSession { ticket, message_id: false }, now, out);
    }

    /// A command answered from the session's user (`GET /user`, as auth-js calls `getUser()`):
    /// `getUserIdentities`, `mfa.listFactors`.
    pub(super) fn run_user_purpose(&mut self, ticket: Ticket, purpose: UserPurpose, now: Now, out: &mut Outbox) {
        let Some(at) = self.session.as_ref().map(|s| s.access_token.clone()) else {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::SessionMissing) });
            return;
        };
        let req = self.gotrue().request("GET", "/user", Some(&at), None);
        self.send(req, HttpOp::User { ticket: Some(ticket), own: true, purpose }, now, out);
    }

    /// `mfa.unenroll({ factorId })`: `DELETE /factors/{id}` with the session's token (auth-js
    /// sends it with the project key when there is no session, and so does this).
    pub(super) fn run_mfa_unenroll(&mut self, ticket: Ticket, factor_id: &str, now: Now, out: &mut Outbox) {
        let at = self.session.as_ref().map(|s| s.access_token.clone());
        let mut path = String::from("/factors/");
        encode_component(&mut path, factor_id);
        let req = self.gotrue().request("DELETE", &path, at.as_deref(), None);
        self.send(req, HttpOp::Body { ticket }, now, out);
    }

    /// `mfa.getAuthenticatorAssuranceLevel(jwt?)`: from the session (no request), or for
    /// `jwt` from its claims and its user (`GET /user`).
    pub(super) fn run_assurance_level(&mut self, ticket: Ticket, jwt: Option<&str>, now: Now, out: &mut Outbox) {
        if let Some(token) = jwt {
            if jwt::decode(token).is_err() {
                let result = Err(AuthError::InvalidJwt { message: "Invalid JWT structure" });
                out.event(AppEvent::Done { ticket, result });
                return;
            }
            let req = self.gotrue().request("GET", "/user", Some(token), None);
            let purpose = UserPurpose::Aal(String::from(token));
            self.send(req, HttpOp::User { ticket: Some(ticket), own: false, purpose }, now, out);
            return;
        }
        let data = match &self.session {
            None => String::from(r#"{"currentLevel":null,"nextLevel":null,"currentAuthenticationMethods":[]}"#),
            Some(s) => aal_data(&s.access_token, &s.user),
        };
        out.event(AppEvent::Done { ticket, result: Ok(data) });
    }
}

/// The user's `factors` (GoTrue omits the member when there are none).
fn factors(user: &str) -> Vec<Value> {
    let user = json::parse(user).ok();
    let list = user.as_ref().and_then(|u| u.get("factors")).and_then(Value::as_array);
    list.map(<[Value]>::to_vec).unwrap_or_default()
}

fn verified(factor: &Value) -> bool {
    factor.get("status").and_then(Value::as_str) == Some("verified")
}

/// `{ identities }` of a user object (`[]` when it has none).
pub(super) fn identities_data(user: &str) -> String {
    let user = json::parse(user).ok();
    let identities = user.as_ref().and_then(|u| u.get("identities")).filter(|v| v.as_array().is_some());
    let mut w = ObjectWriter::new();
    w.value("identities", identities.unwrap_or(&Value::Arr(Vec::new())));
    w.finish()
}

/// `mfa.listFactors()`: every factor in `all`, the verified ones also under their type.
pub(super) fn factors_data(user: &str) -> String {
    const TYPES: [&str; 4] = ["phone", "totp", "webauthn", "recovery_code"];
    let all = factors(user);
    let mut w = ObjectWriter::new();
    w.value("all", &Value::Arr(all.clone()));
    for t in TYPES {
        let of_type: Vec<Value> = all
            .iter()
            .filter(|f| verified(f) && f.get("factor_type").and_then(Value::as_str) == Some(t))
            .cloned()
            .collect();
        w.value(t, &Value::Arr(of_type));
    }
    w.finish()
}

/// `{ currentLevel, nextLevel, currentAuthenticationMethods }`: the token's `aal` and `amr`;
/// the next level is `aal2` once the user has a verified factor.
pub(super) fn aal_data(token: &str, user: &str) -> String {
    let claims = jwt::decode(token).ok().and_then(|c| json::parse(&c.raw).ok());
    let aal = claims.as_ref().and_then(|c| c.get("aal")).and_then(Value::as_str).filter(|a| !a.is_empty());
    let amr = claims.as_ref().and_then(|c| c.get("amr")).filter(|v| v.as_array().is_some());
    let next = if factors(user).iter().any(verified) { Some("aal2") } else { aal };
    let mut w = ObjectWriter::new();
    match aal {
        Some(a) => w.str("currentLevel", a),
        None => w.raw("currentLevel", "null"),
    };
    match next {
        Some(n) => w.str("nextLevel", n),
        None => w.raw("nextLevel", "null"),
    };
    w.value("currentAuthenticationMethods", amr.unwrap_or(&Value::Arr(Vec::new())));
    w.finish()
}
