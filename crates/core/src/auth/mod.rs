//! The auth half of the core: the GoTrue session, its persistence, refresh scheduling and the
//! cross-tab refresh protocol, the auth flows and the event queue. Sans-IO like the rest:
//! HTTP, storage, locks, tab messages and digests are outputs tagged with request ids, and
//! their results come back as inputs. Replies to requests the machine no longer waits for are
//! dropped.
//!
//! # Module map
//!
//! One machine, [`Auth`], with one `impl Auth` block per concern:
//!
//! - `mod.rs` (this file): [`Auth`] and its state, [`AuthConfig`], [`SignOutReason`], what
//!   each request in flight is for (`HttpOp`, `StoreOp`, `Timer`), the read-only accessors,
//!   [`Auth::resolved`] (G2) and [`Auth::poll_timeout`].
//! - `inputs.rs`: sending a GoTrue request (with its timeout), and the `handle_*` inputs, each
//!   result routed to the module that waits for it.
//! - `startup.rs`: [`Auth::start`]: the initial storage read and a session from the page URL.
//! - `events.rs`: listeners, `INITIAL_SESSION`, announcements (held back while this tab holds
//!   the lock), posts to the other tabs.
//! - `persist.rs`: session changes (a session installed, ended) and every write of the
//!   session key, under the cross-tab lock (`SessionWrite`).
//! - `refresh.rs`: **G8**, the cross-tab refresh protocol, stated step by step and implemented
//!   there; also refresh scheduling and retries (G4, G6).
//! - `tabs.rs`: tab messages and `storage` events, taken as hints to read storage again.
//! - `dispatch.rs`: [`AuthCommand`], the one entry of every application command: a command
//!   given before start-up settled waits for it (as auth-js awaits `initializePromise`), one
//!   that needs the token while it is being refreshed waits for the refresh; every waiting
//!   command is answered (or fails with `destroyed`), none is left behind.
//! - `commands.rs`: the session commands and the replies to them.
//! - `account.rs`: the account commands (password reset, resend, reauthenticate,
//!   identities) and the MFA ones the devserver can serve (factors, unenroll, assurance level).
//! - `pkce.rs`: the PKCE verifier: generated, stored, hashed, exchanged for a session.
//! - `claims.rs`: `getClaims()`: the JWKS cache and signature checks.
//! - [`requests`]: GoTrue requests as auth-js sends them; [`session`]: the session, its stored
//!   shape and its expiry arithmetic.

pub mod requests;
pub mod session;

mod account;
mod claims;
mod commands;
mod dispatch;
mod events;
mod inputs;
mod persist;
mod pkce;
mod refresh;
mod spent;
mod startup;
mod tabs;
#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::vec::Vec;

use authwire_wire::gotrue::parse_error;
use authwire_wire::json::ObjectWriter;

use self::persist::SessionWrite;
use self::pkce::{DigestOp, PkceFlow};
use self::refresh::{Refresh, Waiter};
use self::requests::Gotrue;
use self::session::Session;
use crate::error::AuthError;
use crate::io::{AuthEvent, ListenerId, RequestId, Ticket};
use crate::map::VecMap;
use crate::rng::{Entropy, Rng};
use crate::time::{Instant, Millis, Now, UnixTime};
use crate::timer::TimerTable;
use crate::token::TokenChange;

pub use self::dispatch::AuthCommand;

/// Auth settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `https://ref.supabase.co/auth/v1`.
    pub base_url: String,
    /// The API key.
    pub key: String,
    /// Storage key of the session (`sb-<ref>-auth-token`); also names the lock and the tab
    /// channel.
    pub storage_key: String,
    /// Persist the session and coordinate with other tabs.
    pub persist: bool,
    /// Refresh before expiry on a timer.
    pub auto_refresh: bool,
    /// `flowType: 'pkce'`.
    pub pkce: bool,
    /// Extra headers for every request.
    pub headers: Vec<(String, String)>,
    /// How long to wait for the cross-tab refresh lock. Longer than `request_timeout_ms`, so
    /// a live holder always finishes (or gives up) before another tab stops waiting.
    pub lock_timeout_ms: Millis,
    /// A GoTrue request without an answer after this long is treated as a network failure
    /// (a late answer is dropped).
    pub request_timeout_ms: Millis,
    /// The page URL at start, to take a session from (`detectSessionInUrl`).
    pub page_url: Option<String>,
}

/// Why the last sign-out happened (`signOutReason()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignOutReason {
    /// The application called `signOut()`.
    User,
    /// A refresh failed for good; GoTrue's code.
    RefreshFailed(String),
    /// The server no longer knows the session or user (`session_not_found`, `user_not_found`,
    /// `user_banned` on `/user`).
    SessionRevoked(String),
    /// Another tab signed out.
    OtherTab,
}

impl SignOutReason {
    /// The string given to JS.
    pub fn as_str(&self) -> &str {
        match self {
            SignOutReason::User => "user",
            SignOutReason::RefreshFailed(_) => "refresh_failed",
            SignOutReason::SessionRevoked(_) => "session_revoked",
            SignOutReason::OtherTab => "other_tab",
        }
    }
    /// GoTrue's code behind it, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            SignOutReason::RefreshFailed(c) | SignOutReason::SessionRevoked(c) => Some(c),
            _ => None,
        }
    }
}

/// The machine's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timer {
    Refresh,
    Retry,
    Request(RequestId),
}

/// Which event a session from a grant announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignInKind {
    /// SIGNED_IN.
    SignIn,
    /// PASSWORD_RECOVERY instead of SIGNED_IN.
    Recovery,
    /// `setSession` with an expired token: TOKEN_REFRESHED.
    Refreshed,
}

/// Which grant a session answer comes from: it decides the result's extra members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// `{ user, session }`.
    Plain,
    /// The password grant: also `weak_password` when GoTrue flags the password.
    Password,
    /// A PKCE code exchange: also `redirectType`; the verifier is removed, whatever the answer.
    Pkce,
}

/// What a `GET /user` is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum UserPurpose {
    /// `getUser()`.
    Command,
    /// `setSession()` with a valid token: the user completes the session.
    SetSession(String, String),
    /// A session found in the page URL (implicit flow).
    FromUrl { at: String, rt: String, expires_in: u64, recovery: bool },
    /// `getClaims()` for an HS256 token: a successful `/user` means the claims stand.
    Claims(String),
    /// `getUserIdentities()`: `{ identities }`.
    Identities,
    /// `mfa.listFactors()`: the user's factors by type.
    Factors,
    /// `mfa.getAuthenticatorAssuranceLevel(jwt)`: the levels of that token and its user.
    Aal(String),
}

/// What an HTTP request in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HttpOp {
    /// A response that carries a session.
    SignIn {
        ticket: Option<Ticket>,
        kind: SignInKind,
        grant: Grant,
    },
    /// A request that signs nobody in (an OTP, `resend`, `reauthenticate`): `{ user: null,
    /// session: null }`, with `messageId` from GoTrue's `message_id` when `message_id`.
    NoSession {
        ticket: Ticket,
        message_id: bool,
    },
    /// A request whose answer is the result's `data` as GoTrue sent it
    /// (`resetPasswordForEmail`: `{}`, `mfa.unenroll`: `{ id }`).
    Body {
        ticket: Ticket,
    },
    Refresh {
        gen: u64,
    },
    User {
        ticket: Option<Ticket>,
        own: bool,
        purpose: UserPurpose,
    },
    UpdateUser {
        ticket: Ticket,
    },
    Logout {
        ticket: Ticket,
    },
    Jwks,
}

/// What a storage request in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum StoreOp {
    Initial,
    RefreshBefore {
        gen: u64,
    },
    /// The lock holder's record, read after the lock wait timed out.
    LockHolder {
        gen: u64,
    },
    RefreshAfter {
        gen: u64,
        fresh: Session,
    },
    RefreshFailedReread {
        gen: u64,
        error: AuthError,
    },
    /// The session key written (or removed) by [`SessionWrite`].
    SessionWritten,
    /// The stored session read again after a tab message (its event and access token) or a
    /// `storage` event.
    Adopt {
        hint: Option<(AuthEvent, Option<String>)>,
    },
    Write,
    /// The PKCE verifier was written; continue with the digest.
    VerifierWritten {
        ticket: Ticket,
        verifier: String,
        creds: String,
        flow: PkceFlow,
    },
    /// The PKCE verifier for `code`; `ticket` is `None` for a code found in the page URL.
    VerifierRead {
        ticket: Option<Ticket>,
        code: String,
    },
}

/// The auth machine.
#[derive(Debug)]
pub struct Auth {
    cfg: AuthConfig,
    loaded: bool,
    /// The initial load is still refreshing or taking a session from the URL.
    init_busy: bool,
    session: Option<Session>,
    /// Increments on every session change; stale flights compare it.
    session_gen: u64,
    /// Increments whenever the access token changes.
    token_gen: u64,
    timers: TimerTable<Timer>,
    http: VecMap<RequestId, HttpOp>,
    /// When each request in `http` was sent (wall clock): a token in its answer was minted
    /// after that, so its expiry counts from there (G4), however late the answer arrives.
    sent_at: VecMap<RequestId, UnixTime>,
    store: VecMap<RequestId, StoreOp>,
    digests: VecMap<RequestId, DigestOp>,
    verifies: VecMap<RequestId, (Ticket, String)>,
    refresh: Option<Refresh>,
    /// The `spent:` lock this tab holds for the refresh token it last rotated away from, so
    /// a tab that still reads that token from a lagging storage does not present it (G8).
    spent: Option<RequestId>,
    write: Option<SessionWrite>,
    /// Announcements made while this tab holds the lock, with their session JSON: they go
    /// out when it is released (no user callback runs while the lock is held, G8).
    deferred: Vec<(AuthEvent, Option<String>)>,
    /// Commands waiting for the current refresh: (ticket, what to answer).
    refresh_waiters: Vec<(Ticket, Waiter)>,
    /// Commands that wait for start-up to settle, or whose refresh ended: they run at the end
    /// of the step in which nothing holds them back any more (`dispatch.rs`).
    parked: Vec<(Ticket, AuthCommand)>,
    /// Why taking a session from the page URL failed at start (`initialize()` reports it).
    init_error: Option<AuthError>,
    retry_attempt: u32,
    listeners: Vec<(ListenerId, bool)>,
    next_listener: u32,
    changes: Vec<TokenChange>,
    sign_out_reason: Option<SignOutReason>,
    /// The access token of a session a refresh ended because the server no longer knows it
    /// (`refresh_token_not_found`): the auth server can say why (a deleted or banned user, a
    /// session signed out elsewhere) while the token is still valid.
    dead_token: Option<String>,
    auto_refresh: bool,
    /// Jitter of refresh retries only.
    rng: Rng,
    /// The runtime's random bytes: PKCE verifiers and lock-holder ids are made of these.
    pub(crate) entropy: Entropy,
    storage_error: Option<String>,
    last_refresh_error: Option<AuthError>,
    /// The JWKS, when it was fetched (monotonic, for its lifetime; wall, for `jwks_cached_at`).
    jwks: Option<(String, Instant, UnixTime)>,
    jwks_waiters: Vec<(Ticket, String)>,
    destroyed: bool,
}

fn data_session(session: Option<&str>) -> String {
    let mut w = ObjectWriter::new();
    w.raw("session", session.unwrap_or("null"));
    w.finish()
}

/// Types an error answer as auth-js's `handleError` does.
fn classify(status: u16, body: &str) -> AuthError {
    let e = parse_error(body);
    if status == 0 || (500..=504).contains(&status) || (520..=530).contains(&status) {
        let message = if e.message.is_empty() { String::from("the auth server did not answer") } else { e.message };
        return AuthError::RetryableFetch { status, message };
    }
    if authwire_wire::json::fields(body).is_err() {
        // Not JSON (an HTML page from a proxy): auth-js's AuthUnknownError.
        return AuthError::Unknown { status, message: e.message };
    }
    // Older servers flag weak passwords by the body alone, without a code.
    let weak = e.code.as_deref().map_or(!e.weak_password_reasons.is_empty(), |c| c == "weak_password");
    if weak {
        return AuthError::WeakPassword { status, message: e.message, reasons: e.weak_password_reasons };
    }
    let code = e.code.unwrap_or_else(|| String::from("unknown"));
    if code == "session_not_found" {
        return AuthError::SessionNotFound;
    }
    AuthError::Api { status, code, message: e.message }
}

impl Auth {
    /// A machine that has not read storage yet.
    pub fn new(cfg: AuthConfig, seed: u64) -> Auth {
        Auth {
            auto_refresh: cfg.auto_refresh,
            cfg,
            loaded: false,
            init_busy: false,
            session: None,
            session_gen: 0,
            token_gen: 1,
            timers: TimerTable::default(),
            http: VecMap::new(),
            sent_at: VecMap::new(),
            store: VecMap::new(),
            digests: VecMap::new(),
            verifies: VecMap::new(),
            refresh: None,
            spent: None,
            write: None,
            deferred: Vec::new(),
            refresh_waiters: Vec::new(),
            parked: Vec::new(),
            init_error: None,
            retry_attempt: 0,
            listeners: Vec::new(),
            next_listener: 0,
            changes: Vec::new(),
            sign_out_reason: None,
            dead_token: None,
            rng: Rng::new(seed ^ 0x5EED_A07B),
            entropy: Entropy::default(),
            storage_error: None,
            last_refresh_error: None,
            jwks: None,
            jwks_waiters: Vec::new(),
            destroyed: false,
        }
    }

    fn gotrue(&self) -> Gotrue<'_> {
        Gotrue { base: &self.cfg.base_url, key: &self.cfg.key, headers: &self.cfg.headers }
    }

    /// The current session.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Changes whenever the access token changes.
    pub fn token_generation(&self) -> u64 {
        self.token_gen
    }

    /// Token changes since the last call.
    pub fn take_changes(&mut self) -> Vec<TokenChange> {
        core::mem::take(&mut self.changes)
    }

    /// Why the last sign-out happened.
    pub fn sign_out_reason(&self) -> Option<&SignOutReason> {
        self.sign_out_reason.as_ref()
    }

    /// The still-valid access token of a session a refresh just ended as unknown to the
    /// server, to ask the auth server why (once).
    pub fn take_dead_token(&mut self) -> Option<String> {
        self.dead_token.take()
    }

    /// The last storage failure, if the session could not be persisted.
    pub fn storage_error(&self) -> Option<&str> {
        self.storage_error.as_deref()
    }

    /// The last refresh failure (kept while the session is still usable).
    pub fn last_refresh_error(&self) -> Option<&AuthError> {
        self.last_refresh_error.as_ref()
    }

    /// `true` while a refresh is in flight.
    pub fn refreshing(&self) -> bool {
        self.refresh.is_some()
    }

    /// G2: the token is settled — storage was read, no refresh is in flight, and the token
    /// (if any) is not expired. While `false`, nothing may join or push.
    ///
    /// G4: a token inside its refresh margin is not settled either — [`Auth::ensure_fresh`]
    /// will refresh it before it is used — unless a retry is backing off (then it is used
    /// until it expires). Without this, a refresh timer that fires late (a throttled
    /// background tab, a wall-clock jump) let a socket event join with the due token just
    /// before the refresh started.
    pub fn resolved(&self, now: Now) -> bool {
        self.loaded
            && !self.init_busy
            && self.refresh.is_none()
            && self.session.as_ref().is_none_or(|s| {
                !s.is_expired(now.wall) && (!s.needs_refresh(now.wall) || self.timers.is_set(Timer::Retry))
            })
    }

    /// The earliest deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }
}
