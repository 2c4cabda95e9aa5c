//! Where the socket's token comes from, besides the session: third-party auth (the
//! `accessToken()` callback, which then owns the token) and a token the app handed to
//! `realtime.setAuth(token)` while there is no session (the workaround thousands of
//! supabase-js apps carry; with a session authwire applies the session's token itself). And
//! [`view`], which turns the auth state and these into the [`TokenView`] Realtime acts on, at
//! the moment of every call (G1, G2, G7).

use alloc::string::String;

use authwire_wire::jwt;

use crate::auth::Auth;
use crate::config::{ApikeyMode, ClientConfig};
use crate::time::{Instant, Millis, Now};
use crate::token::{TokenChange, TokenView};

/// A token from outside the session, with what its claims say.
#[derive(Debug, Default)]
pub(super) struct External {
    pub(super) token: Option<String>,
    pub(super) sub: Option<String>,
    pub(super) role: Option<String>,
    pub(super) exp: Option<i64>,
    /// Counts the replacements.
    pub(super) generation: u64,
}

impl External {
    /// Takes `token`; returns how the token changed (`None`: it did not).
    pub(super) fn replace(&mut self, token: Option<String>) -> Option<TokenChange> {
        if self.token == token {
            return None;
        }
        let claims = token.as_deref().and_then(|t| jwt::decode(t).ok());
        let sub = claims.as_ref().and_then(|c| c.sub.clone());
        let change = match (&self.token, &token) {
            (Some(_), None) => TokenChange::SignedOut,
            (Some(_), Some(_)) if self.sub != sub => TokenChange::UserSwitched,
            _ => TokenChange::Rotated,
        };
        self.exp = claims.as_ref().and_then(|c| c.exp);
        self.role = claims.as_ref().and_then(|c| c.role.clone());
        self.token = token;
        self.sub = sub;
        self.generation += 1;
        Some(change)
    }

    /// Forgets the token without a generation change (the session's token replaced it).
    pub(super) fn clear(&mut self) {
        self.token = None;
        self.sub = None;
        self.role = None;
        self.exp = None;
    }

    /// The token's `exp` is at or before `now` plus `margin_s`.
    pub(super) fn expires_within(&self, now: Now, margin_s: i64) -> bool {
        self.exp.is_some_and(|e| e <= now.wall.as_secs() as i64 + margin_s)
    }
}

/// Delays before asking `accessToken()` again after answers that cannot be used (a token that
/// is expired, expires within the refresh margin, or was refused); the last one repeats. An
/// app whose callback keeps returning an expired token is asked 6 times a minute at first,
/// then once a minute, instead of in a loop that starves the page.
pub(super) const ACCESS_TOKEN_RETRY_MS: &[Millis] = &[1_000, 2_000, 5_000, 10_000, 30_000, 60_000];

/// Third-party auth (`accessToken` option): the app's callback is the token source.
#[derive(Debug, Default)]
pub(super) struct ThirdParty {
    pub(super) tok: External,
    pub(super) fetched: bool,
    pub(super) fetching: bool,
    /// A server said the token expired or refused it: ask for a new one (when due).
    pub(super) wanted: bool,
    /// Consecutive answers that could not be used.
    pub(super) unusable: u32,
    /// Not asked again before this after an unusable answer.
    pub(super) retry_at: Option<Instant>,
}

impl ThirdParty {
    /// The callback should be asked now: its token expires within the margin or a server
    /// wants a new one, and no retry delay is running.
    pub(super) fn ask_due(&self, now: Now) -> bool {
        self.fetched
            && !self.fetching
            && (self.wanted || self.tok.expires_within(now, 30))
            && self.retry_at.is_none_or(|t| now.mono >= t)
    }

    /// When [`ThirdParty::ask_due`] becomes true by the clock alone.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.retry_at.filter(|_| self.fetched && !self.fetching)
    }

    /// Takes the callback's answer; returns the token change and whether the answer is
    /// unusable (the token is expired or expires within the margin, or is the one a server
    /// refused), in which case the next ask waits.
    pub(super) fn answer(&mut self, token: Option<String>, now: Now) -> (Option<TokenChange>, bool) {
        self.fetching = false;
        self.fetched = true;
        let change = self.tok.replace(token);
        let refused_again = self.wanted && change.is_none();
        let unusable = self.tok.expires_within(now, 30) || refused_again;
        // The same token back: a server still wants another, asked for after the delay (so a
        // retry time never passes without an ask, which would leave a deadline in the past).
        self.wanted = refused_again;
        if unusable {
            let delay = ACCESS_TOKEN_RETRY_MS[(self.unusable as usize).min(ACCESS_TOKEN_RETRY_MS.len() - 1)];
            self.unusable += 1;
            self.retry_at = Some(now.mono.add(delay));
        } else {
            self.unusable = 0;
            self.retry_at = None;
        }
        (change, unusable)
    }
}

/// The auth state as Realtime must see it now. Without a session, a token given to
/// `setAuth(token)` stands in for the project key; like a session's, an expired one is not
/// used (G4): channels wait for a new one.
pub(super) fn view<'a>(
    cfg: &'a ClientConfig,
    auth: &'a Auth,
    tp: Option<&'a ThirdParty>,
    manual: &'a External,
    now: Now,
) -> TokenView<'a> {
    let anon_key = if cfg.key_is_jwt { Some(cfg.key.as_str()) } else { None };
    // The session's generation and the manual token's each change with their token, so
    // their sum changes whenever the token used does.
    let generation = auth.token_generation() + manual.generation;
    let (ready, token, generation, role) = match tp {
        Some(t) => {
            let ready = t.fetched && !t.fetching && !t.tok.expires_within(now, 0);
            let role = if t.tok.token.is_some() { t.tok.role.as_deref() } else { Some("anon") };
            (ready, t.tok.token.as_deref().or(anon_key), t.tok.generation, role)
        }
        None => match (auth.session(), manual.token.as_deref()) {
            (Some(s), _) => (auth.resolved(now), Some(s.access_token.as_str()), generation, s.role.as_deref()),
            (None, Some(m)) => {
                (auth.resolved(now) && !manual.expires_within(now, 0), Some(m), generation, manual.role.as_deref())
            }
            (None, None) => (auth.resolved(now), anon_key, generation, Some("anon")),
        },
    };
    let socket_key = match cfg.apikey_mode {
        ApikeyMode::Project => Some(cfg.key.as_str()),
        // G7: the user's token, and only once it is settled; else the project key if it is a
        // JWT; an opaque key would be refused, so no connect at all.
        ApikeyMode::Session if !ready => None,
        ApikeyMode::Session => token.or(anon_key),
    };
    // The servers' clock minus ours, as the session's token told it (0 without one).
    let skew_ms = auth.session().map_or(0, |s| s.least_skew_ms);
    TokenView { ready, token, generation, role, socket_key, skew_ms }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        let claims = alloc::format!(r#"{{"sub":"u","role":"authenticated","exp":{exp}}}"#);
        alloc::format!("e30.{}.sig", jwt::b64url_encode(claims.as_bytes()))
    }

    #[test]
    fn a_retry_deadline_never_passes_without_an_ask_being_due() {
        const T0: u64 = 1_800_000_000_000;
        let at = |ms: u64| Now::new(ms, T0 + ms);
        // A token the server called expired although ours says it is fine, returned again and
        // again: asked with backoff, and whenever the deadline has passed an ask is due.
        let fine = jwt(T0 / 1000 + 3_600);
        let mut tp = ThirdParty { fetching: true, ..ThirdParty::default() };
        tp.answer(Some(fine.clone()), at(0));
        let mut now = 0;
        let mut asks = alloc::vec::Vec::new();
        for _ in 0..8 {
            tp.wanted = true; // the server refused it (Signal::TokenExpired)
            assert!(tp.ask_due(at(now)));
            asks.push(now);
            tp.fetching = true;
            tp.answer(Some(fine.clone()), at(now));
            let t = tp.deadline().expect("a retry is scheduled").as_millis();
            assert!(!tp.ask_due(at(t - 1)), "not before the delay");
            assert!(tp.ask_due(at(t)), "due when the deadline passes");
            now = t;
        }
        assert_eq!(asks, [0, 1_000, 3_000, 8_000, 18_000, 48_000, 108_000, 168_000]);
        // A new token ends it: no deadline, nothing due.
        tp.fetching = true;
        tp.answer(Some(jwt(T0 / 1000 + 7_200)), at(now));
        assert_eq!((tp.deadline(), tp.ask_due(at(now + 100_000))), (None, false));
    }
}
