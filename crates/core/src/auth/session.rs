//! The session: what GoTrue issued, how it is stored (auth-js's shape, so an app that signed
//! in with supabase-js stays signed in), and the expiry arithmetic.
//!
//! Clocks: the server decides expiry by the JWT's `exp` on *its* clock; the SDK schedules by
//! *its* clock. The local expiry is `sent + expires_in`, `sent` being when the request left
//! (the token was minted after that, so an answer that arrives late — a slow network, a
//! device that slept with it in flight — never makes the token look younger than it is, G4;
//! a skewed client clock neither refreshes early nor late), and the skew `exp − local
//! expiry` is remembered —
//! in memory and, as `clock_skew`, in the stored object — so that after a reload the stored
//! `expires_at` (server clock, as auth-js stores it) is converted back with the same skew.

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::gotrue::parse_token_response;
use authwire_wire::json::{self, int_of, str_of, ObjectWriter};
use authwire_wire::jwt;

use crate::time::UnixTime;

/// Largest refresh margin: refresh 2 minutes before expiry (auth-js refreshes with < 120 s
/// left, auth-session.md §4.1).
pub const MAX_MARGIN_S: u64 = 120;

/// A session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The JWT.
    pub access_token: String,
    /// The single-use refresh token.
    pub refresh_token: String,
    /// Lifetime in seconds at issue.
    pub expires_in: u64,
    /// Expiry, Unix seconds, server clock (as stored by auth-js).
    pub expires_at: u64,
    /// Server clock minus client clock, seconds (see the module docs).
    pub skew: i64,
    /// The least the servers' clock minus ours can be, ms (replay `since` must not be late):
    /// from this tab's own token response, `skew` less the response's time (the token was
    /// minted between request and answer, a device sleep included); for a session read from
    /// storage (another tab's, whose response time is unknown here), the token's `iat` less
    /// our clock when we read it (it was minted before). A second less for rounding.
    pub least_skew_ms: i64,
    /// The user object JSON (`null` when absent).
    pub user: String,
    /// `sub`.
    pub user_id: Option<String>,
    /// `session_id`.
    pub session_id: Option<String>,
    /// `role`.
    pub role: Option<String>,
    /// `is_anonymous`.
    pub is_anonymous: bool,
    /// The other members of the stored object, raw (`token_type`, `provider_token`, …).
    pub extra: Vec<(String, String)>,
}

fn claims_of(at: &str) -> (Option<i64>, Option<String>, Option<String>, Option<String>, bool) {
    match jwt::decode(at) {
        Ok(c) => (c.exp, c.sub, c.session_id, c.role, c.is_anonymous),
        Err(_) => (None, None, None, None, false),
    }
}

const KNOWN: &[&str] = &["access_token", "refresh_token", "expires_in", "expires_at", "user", "clock_skew"];

impl Session {
    /// A session from a token response to a request sent at `now` (client clock; the
    /// receipt time overstates the token's life by the time the answer took).
    pub fn from_response(body: &str, now: UnixTime) -> Option<Session> {
        let t = parse_token_response(body).ok()?;
        let (exp, sub, sid, role, anon) = claims_of(&t.access_token);
        let expires_in = t.expires_in.max(0) as u64;
        let local_expiry = now.as_secs() + expires_in;
        // What the server will judge by: the JWT `exp`, else its `expires_at`.
        let server_expiry = exp.or(t.expires_at).unwrap_or(local_expiry as i64);
        let skew = server_expiry - local_expiry as i64;
        let extra = t
            .members
            .iter()
            .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), String::from(*v)))
            .collect();
        Some(Session {
            user: t.user.map_or_else(|| String::from("null"), String::from),
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            expires_in,
            expires_at: t.expires_at.unwrap_or(server_expiry).max(0) as u64,
            skew,
            least_skew_ms: skew.saturating_mul(1000).saturating_sub(1000),
            user_id: sub,
            session_id: sid,
            role,
            is_anonymous: anon,
            extra,
        })
    }

    /// A session from its stored JSON. `None` unless it is an object with `access_token`,
    /// This tab's own response to a request sent at `sent` arrived at `now`: see
    /// [`Session::least_skew_ms`].
    pub fn received(&mut self, sent: UnixTime, now: UnixTime) {
        let took = now.as_millis().saturating_sub(sent.as_millis()) as i64;
        self.least_skew_ms = self.skew.saturating_mul(1000).saturating_sub(took).saturating_sub(1000);
    }

    /// `refresh_token` and `expires_at` (auth-js's `_isValidSession`).
    pub fn from_stored(text: &str, now: UnixTime) -> Option<Session> {
        let members = json::fields(text).ok()?;
        let get = |k: &str| members.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let access_token = get("access_token").and_then(str_of)?;
        let refresh_token = get("refresh_token").and_then(str_of)?;
        let expires_at = get("expires_at").and_then(int_of)?.max(0) as u64;
        let (_, sub, sid, role, anon) = claims_of(&access_token);
        Some(Session {
            expires_in: get("expires_in").and_then(int_of).unwrap_or(3600).max(0) as u64,
            expires_at,
            skew: get("clock_skew").and_then(int_of).unwrap_or(0),
            least_skew_ms: match jwt::decode(&access_token).ok().and_then(|c| c.iat) {
                Some(iat) => iat.saturating_mul(1000).saturating_sub(now.as_millis() as i64).saturating_sub(1000),
                // No `iat`: as if minted a lifetime before expiry.
                None => (expires_at as i64)
                    .saturating_sub(get("expires_in").and_then(int_of).unwrap_or(3600))
                    .saturating_mul(1000)
                    .saturating_sub(now.as_millis() as i64)
                    .saturating_sub(1000),
            },
            user: get("user").map_or_else(|| String::from("null"), String::from),
            access_token,
            refresh_token,
            user_id: sub,
            session_id: sid,
            role,
            is_anonymous: anon,
            extra: members
                .iter()
                .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), String::from(*v)))
                .collect(),
        })
    }

    fn write(&self, w: &mut ObjectWriter) {
        w.str("access_token", &self.access_token);
        for (k, v) in &self.extra {
            w.raw(k, v);
        }
        w.u64("expires_in", self.expires_in)
            .u64("expires_at", self.expires_at)
            .str("refresh_token", &self.refresh_token)
            .raw("user", &self.user);
    }

    /// The stored JSON (auth-js's shape plus `clock_skew`).
    pub fn to_stored(&self) -> String {
        let mut w = ObjectWriter::new();
        self.write(&mut w);
        w.i64("clock_skew", self.skew);
        w.finish()
    }

    /// The session as the application sees it (supabase-js's `Session`).
    pub fn to_js(&self) -> String {
        let mut w = ObjectWriter::new();
        self.write(&mut w);
        w.finish()
    }

    /// Expiry on the client clock, Unix seconds.
    pub fn local_expiry(&self) -> u64 {
        (self.expires_at as i64 - self.skew).max(0) as u64
    }

    /// Seconds before expiry at which to refresh: min(120 s, a quarter of the lifetime), so a
    /// 4–20 s test token refreshes at three quarters of its life instead of in a loop.
    pub fn margin(&self) -> u64 {
        (self.expires_in / 4).clamp(1, MAX_MARGIN_S)
    }

    /// When to refresh, client clock, Unix seconds.
    pub fn refresh_at(&self) -> u64 {
        self.local_expiry().saturating_sub(self.margin())
    }

    /// Inside the refresh margin at `now`.
    pub fn needs_refresh(&self, now: UnixTime) -> bool {
        now.as_secs() >= self.refresh_at()
    }

    /// Expired at `now` (the server would refuse it). One second early: the server's `exp` is
    /// its whole-second `iat` plus the lifetime, so the token may die up to a second before
    /// `sent + expires_in`, and the skew is kept in whole seconds (G4).
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now.as_millis() + 1000 >= self.local_expiry() * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn at(exp: i64) -> String {
        let mut t = jwt::b64url_encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        t.push('.');
        let claims = alloc::format!(r#"{{"sub":"u1","role":"authenticated","exp":{exp},"session_id":"s1"}}"#);
        t.push_str(&jwt::b64url_encode(claims.as_bytes()));
        t.push_str(".c2ln");
        t
    }

    #[test]
    fn expiry_follows_expires_in_and_remembers_the_skew() {
        // The client clock is 30 s behind the server's.
        let now = UnixTime::from_secs(1_000_000);
        let server_now = 1_000_030;
        let body = alloc::format!(
            r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600,"expires_at":{},"refresh_token":"rt","user":{{"id":"u1"}}}}"#,
            at(server_now + 3600),
            server_now + 3600
        );
        let s = Session::from_response(&body, now).unwrap();
        assert_eq!(s.skew, 30);
        assert_eq!(s.local_expiry(), 1_003_600);
        assert_eq!(s.margin(), 120);
        assert!(!s.needs_refresh(UnixTime::from_secs(1_003_479)));
        assert!(s.needs_refresh(UnixTime::from_secs(1_003_480)));
        assert_eq!(s.user_id.as_deref(), Some("u1"));
        // Stored and read back (a reload): same local expiry.
        let back = Session::from_stored(&s.to_stored(), now).unwrap();
        assert_eq!(back, s);
        assert!(s.to_js().contains(r#""token_type":"bearer""#));
        assert!(!s.to_js().contains("clock_skew"));
    }

    #[test]
    fn the_least_skew_is_a_lower_bound_from_a_slow_response_and_from_storage() {
        // The client clock is 30 s behind; the answer took 13 s (the device slept meanwhile),
        // so the token was minted up to 13 s after the request: skew is between 17 and 30 s.
        let sent = UnixTime::from_secs(1_000_000);
        let minted = 1_000_030 + 13;
        let mut t = jwt::b64url_encode(br#"{"alg":"ES256","typ":"JWT"}"#);
        t.push('.');
        let claims = alloc::format!(r#"{{"sub":"u1","exp":{},"iat":{minted},"session_id":"s1"}}"#, minted + 3600);
        t.push_str(&jwt::b64url_encode(claims.as_bytes()));
        t.push_str(".c2ln");
        let body = alloc::format!(
            r#"{{"access_token":"{t}","expires_in":3600,"expires_at":{},"refresh_token":"rt","user":{{"id":"u1"}}}}"#,
            minted + 3600
        );
        let mut s = Session::from_response(&body, sent).unwrap();
        assert_eq!(s.skew, 43, "the most it can be");
        s.received(sent, UnixTime::from_secs(1_000_013));
        assert_eq!(s.least_skew_ms, 29_000);
        // Another tab reads it from storage 2 s (its clock) after it was minted: the token
        // is older than that read, whatever the other tab's response took.
        let other = Session::from_stored(&s.to_stored(), UnixTime::from_secs(1_000_015)).unwrap();
        assert_eq!(other.least_skew_ms, 27_000);
    }

    #[test]
    fn short_tokens_refresh_at_three_quarters() {
        let now = UnixTime::from_secs(100);
        let body =
            alloc::format!(r#"{{"access_token":"{}","expires_in":8,"refresh_token":"rt","user":null}}"#, at(108));
        let s = Session::from_response(&body, now).unwrap();
        assert_eq!(s.margin(), 2);
        assert_eq!(s.refresh_at(), 106);
    }

    #[test]
    fn stored_sessions_written_by_supabase_js_are_read() {
        let text = alloc::format!(
            r#"{{"access_token":"{}","token_type":"bearer","expires_in":3600,"expires_at":5000,"refresh_token":"r","user":{{"id":"u1","email":"a@b.c"}},"provider_token":null}}"#,
            at(5000)
        );
        let s = Session::from_stored(&text, UnixTime::from_millis(0)).unwrap();
        assert_eq!(s.skew, 0);
        assert_eq!(s.local_expiry(), 5000);
        assert_eq!(s.extra.len(), 2);
        assert!(Session::from_stored(r#"{"access_token":"x"}"#, UnixTime::from_millis(0)).is_none());
        assert!(Session::from_stored("not json", UnixTime::from_millis(0)).is_none());
        assert_eq!(
            Session::from_stored(&text, UnixTime::from_millis(0)).unwrap().user,
            r#"{"id":"u1","email":"a@b.c"}"#.to_string()
        );
    }
}
