//! `getClaims()`: decode the JWT, check `exp`, verify the signature (ES256/RS256 against the
//! project's JWKS by the host's WebCrypto, `Output::Verify`; HS256, or a token without `kid`,
//! by asking GoTrue, `GET /user`), and answer `{ claims, header, signature }`. The JWKS is
//! cached for `JWKS_TTL_MS` and fetched again once for an unknown `kid` (keys rotate).

use alloc::string::String;

use authwire_wire::json::{self, ObjectWriter, Value};
use authwire_wire::jwt;

use super::{classify, Auth, HttpOp, UserPurpose};
use crate::error::AuthError;
use crate::io::{AppEvent, Outbox, Output, Ticket};
use crate::time::{Millis, Now, UnixTime};

/// JWKS cache lifetime (GoTrue sends `max-age=600`).
const JWKS_TTL_MS: Millis = 600_000;

impl Auth {
    /// `getClaims(jwt?)`: decodes, checks `exp`, and verifies the signature (ES256/RS256 via
    /// the JWKS and WebCrypto; HS256 or no `kid` via `GET /user`).
    pub(super) fn run_get_claims(&mut self, ticket: Ticket, jwt_arg: Option<&str>, now: Now, out: &mut Outbox) {
        let Some(token) = jwt_arg.map(String::from).or_else(|| self.session.as_ref().map(|s| s.access_token.clone()))
        else {
            out.event(AppEvent::Done { ticket, result: Ok(String::from("null")) });
            return;
        };
        let Ok(claims) = jwt::decode(&token) else {
            out.event(AppEvent::Done {
                ticket,
                result: Err(AuthError::InvalidJwt { message: "Invalid JWT structure" }),
            });
            return;
        };
        if claims.exp.is_none_or(|e| e <= now.wall.as_secs() as i64) {
            out.event(AppEvent::Done { ticket, result: Err(AuthError::InvalidJwt { message: "JWT has expired" }) });
            return;
        }
        let asymmetric = matches!(claims.alg.as_deref(), Some("ES256" | "RS256"));
        if !asymmetric || claims.kid.is_none() {
            let req = self.gotrue().request("GET", "/user", Some(&token), None);
            self.send(
                req,
                HttpOp::User { ticket: Some(ticket), own: jwt_arg.is_none(), purpose: UserPurpose::Claims(token) },
                now,
                out,
            );
            return;
        }
        let fresh = self.jwks.as_ref().is_some_and(|(_, at, _)| now.mono.since(*at) < JWKS_TTL_MS);
        if fresh {
            self.claims_with_jwks(ticket, &token, now, out);
            return;
        }
        self.jwks_waiters.push((ticket, token));
        if !self.http.values().any(|op| *op == HttpOp::Jwks) {
            let req = self.gotrue().request("GET", "/.well-known/jwks.json", None, None);
            self.send(req, HttpOp::Jwks, now, out);
        }
    }

    /// Checks `token` against the cached JWKS: the host verifies the signature with the key
    /// of its `kid`; an unknown `kid` fetches the keys once more.
    fn claims_with_jwks(&mut self, ticket: Ticket, token: &str, now: Now, out: &mut Outbox) {
        let Ok(c) = jwt::decode(token) else { return };
        let jwk = self.jwks.as_ref().and_then(|(keys, _, _)| {
            let v = json::parse(keys).ok()?;
            let list = v.get("keys")?.as_array()?;
            list.iter().find(|k| k.get("kid").and_then(Value::as_str) == c.kid.as_deref()).map(Value::to_json)
        });
        let Some(jwk) = jwk else {
            // An unknown kid: refetch once (keys rotate), then give up.
            let stale = self.jwks.take().is_some();
            if stale {
                self.jwks_waiters.push((ticket, String::from(token)));
                let req = self.gotrue().request("GET", "/.well-known/jwks.json", None, None);
                self.send(req, HttpOp::Jwks, now, out);
            } else {
                out.event(AppEvent::Done {
                    ticket,
                    result: Err(AuthError::InvalidJwt { message: "No matching signing key" }),
                });
            }
            return;
        };
        let (signed, signature) = token.rsplit_once('.').unwrap_or((token, ""));
        let id = out.request_id();
        self.verifies.insert(id, (ticket, String::from(token)));
        out.push(Output::Verify {
            id,
            alg: c.alg.unwrap_or_default(),
            jwk,
            signed: String::from(signed),
            signature: String::from(signature),
        });
    }

    /// The JWKS: the checks that waited for it go on, or fail with its error.
    pub(super) fn on_jwks(&mut self, status: u16, body: String, now: Now, out: &mut Outbox) {
        let waiters = core::mem::take(&mut self.jwks_waiters);
        if (200..300).contains(&status) {
            self.jwks = Some((body, now.mono, now.wall));
            for (t, token) in waiters {
                self.claims_with_jwks(t, &token, now, out);
            }
        } else {
            for (t, _) in waiters {
                out.event(AppEvent::Done { ticket: t, result: Err(classify(status, &body)) });
            }
        }
    }

    /// The cached JWKS (`auth.jwks`) and when it was fetched (`auth.jwks_cached_at`).
    pub fn jwks(&self) -> Option<(&str, UnixTime)> {
        self.jwks.as_ref().map(|(keys, _, at)| (keys.as_str(), *at))
    }

    /// The host's signature check of `token`.
    pub(super) fn on_verified(&self, ticket: Ticket, token: &str, ok: bool, out: &mut Outbox) {
        let result =
            if ok { claims_data(token) } else { Err(AuthError::InvalidJwt { message: "Invalid JWT signature" }) };
        out.event(AppEvent::Done { ticket, result });
    }
}

/// `{ claims, header, signature }` for `getClaims()`.
pub(super) fn claims_data(token: &str) -> Result<String, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(_), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::InvalidJwt { message: "Invalid JWT structure" });
    };
    let c = jwt::decode(token).map_err(|_| AuthError::InvalidJwt { message: "Invalid JWT structure" })?;
    let header = jwt::b64url_decode(h).and_then(|b| String::from_utf8(b).ok()).unwrap_or_else(|| String::from("{}"));
    let mut w = ObjectWriter::new();
    w.raw("claims", &c.raw).raw("header", &header).str("signature", sig);
    Ok(w.finish())
}
