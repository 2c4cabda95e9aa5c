//! Errors, one enum per operation. Each has a stable `code()` string that crosses the JS
//! boundary unchanged, and keeps the server's own text where there is one. Where realtime-js
//! hands the application an `Error` for the same situation, `message()` is its text.

use alloc::borrow::Cow;
use alloc::string::String;

/// Substring test over bytes (`str::contains` costs a 2 KB searcher in the wasm).
fn find(hay: &str, needle: &str) -> bool {
    hay.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Why a channel is not (or no longer) subscribed: the `err` of a `CHANNEL_ERROR` or
/// `RECOVERING` status, and of the `CLOSED` that ends a private channel at sign-out (G5).
/// Like realtime-js, authwire gives `TIMED_OUT` and every other `CLOSED` no error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelError {
    /// The server refused access (`Unauthorized: …`, RLS on `realtime.messages`, or a
    /// revoked permission).
    Unauthorized {
        /// The server's text.
        reason: String,
    },
    /// The server says the token expired (join reply or `system` message).
    TokenExpired {
        /// The server's text.
        reason: String,
    },
    /// The server refused the token (`MalformedJWT`, `InvalidJWTToken`, signature, signer).
    InvalidJwt {
        /// The server's text.
        reason: String,
    },
    /// A server rate limit (`…RateLimitReached`, `Too many …`).
    RateLimited {
        /// The server's text.
        reason: String,
    },
    /// The server closed the channel with a `system` error not covered above.
    ChannelClosed {
        /// The server's text.
        reason: String,
    },
    /// Any other join error or a channel crash (`phx_error`).
    Server {
        /// The server's text (empty for a bare `phx_error`).
        reason: String,
    },
    /// The socket failed before it opened (realtime-js: `channel error: transport failure`).
    ConnectFailed,
    /// The socket closed under the channel.
    SocketClosed {
        /// The close code.
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The socket missed its heartbeat deadline and was closed.
    HeartbeatTimeout,
    /// The join reply's `postgres_changes` did not match the channel's bindings.
    BindingMismatch,
    /// The user signed out: a private channel ends (guarantee G5).
    SignedOut,
    /// The socket cannot connect: `realtime.apikey` is `'session'`, there is no session, and
    /// the project key is not a JWT (guarantee G7).
    ApikeyNotJwt,
    /// The socket was refused before it opened and the auth server explained why
    /// (`user_not_found`, `session_not_found`, `user_banned`, `bad_jwt`).
    Refused {
        /// GoTrue's error code.
        code: String,
        /// GoTrue's message.
        reason: String,
    },
}

impl ChannelError {
    /// Every code of the variants authwire names itself, in declaration order (the TS union
    /// `RealtimeErrorCode` and the README's code table are checked against it).
    pub const CODES: &'static [&'static str] = &[
        "unauthorized",
        "token_expired",
        "invalid_jwt",
        "rate_limited",
        "channel_closed",
        "channel_error",
        "connect_failed",
        "socket_closed",
        "heartbeat_timeout",
        "binding_mismatch",
        "signed_out",
        "apikey_not_jwt",
    ];
    /// The codes a [`ChannelError::Refused`] carries: the auth server's own (passed through,
    /// so others can appear), or `unknown` when its answer had none.
    pub const REFUSED_CODES: &'static [&'static str] =
        &["user_not_found", "session_not_found", "user_banned", "bad_jwt", "unknown"];

    /// A stable code.
    pub fn code(&self) -> &str {
        match self {
            ChannelError::Unauthorized { .. } => "unauthorized",
            ChannelError::TokenExpired { .. } => "token_expired",
            ChannelError::InvalidJwt { .. } => "invalid_jwt",
            ChannelError::RateLimited { .. } => "rate_limited",
            ChannelError::ChannelClosed { .. } => "channel_closed",
            ChannelError::Server { .. } => "channel_error",
            ChannelError::ConnectFailed => "connect_failed",
            ChannelError::SocketClosed { .. } => "socket_closed",
            ChannelError::HeartbeatTimeout => "heartbeat_timeout",
            ChannelError::BindingMismatch => "binding_mismatch",
            ChannelError::SignedOut => "signed_out",
            ChannelError::ApikeyNotJwt => "apikey_not_jwt",
            ChannelError::Refused { code, .. } => code,
        }
    }
    /// The human text: the server's reason when there is one, else realtime-js's text for
    /// the same situation (`socket closed: 1006`, `socket closed: 1001 (bye)`, `channel error:
    /// transport failure`, `heartbeat timeout`).
    pub fn message(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            ChannelError::Unauthorized { reason }
            | ChannelError::TokenExpired { reason }
            | ChannelError::InvalidJwt { reason }
            | ChannelError::RateLimited { reason }
            | ChannelError::ChannelClosed { reason }
            | ChannelError::Refused { reason, .. } => reason,
            ChannelError::Server { reason } if !reason.is_empty() => reason,
            // A `phx_error` payload carries no numeric `code`: realtime-js's wording for that.
            ChannelError::Server { .. } | ChannelError::ConnectFailed => "channel error: transport failure",
            ChannelError::SocketClosed { code, reason } => {
                let mut s = String::from("socket closed: ");
                authwire_wire::json::write_u64(&mut s, u64::from(*code));
                if !reason.is_empty() {
                    s.push_str(" (");
                    s.push_str(reason);
                    s.push(')');
                }
                return Cow::Owned(s);
            }
            ChannelError::HeartbeatTimeout => "heartbeat timeout",
            ChannelError::BindingMismatch => "mismatch between server and client bindings for postgres changes",
            ChannelError::SignedOut => "the user signed out",
            ChannelError::ApikeyNotJwt => {
                "realtime.apikey is 'session' but there is no session and the project key is not a JWT"
            }
        })
    }

    /// Types a `phx_join` error reason (`"<Code>: <message>"`, protocol reference §9.2).
    pub fn from_join_reason(reason: String) -> ChannelError {
        let code = reason.split(':').next().unwrap_or("");
        if find(&reason, "Token has expired") {
            ChannelError::TokenExpired { reason }
        } else if matches!(code, "InvalidJWTToken" | "MalformedJWT" | "JwtSignatureError" | "JwtSignerError") {
            ChannelError::InvalidJwt { reason }
        } else if code == "Unauthorized" {
            ChannelError::Unauthorized { reason }
        } else if code.ends_with("RateLimitReached") {
            ChannelError::RateLimited { reason }
        } else {
            ChannelError::Server { reason }
        }
    }

    /// Types the text of a `system` error that precedes a server `phx_close` (§9.3).
    pub fn from_system_message(reason: String) -> ChannelError {
        if reason.starts_with("Token has expired") {
            ChannelError::TokenExpired { reason }
        } else if reason.starts_with("The token provided is not a valid JWT")
            || reason.starts_with("Fields `role` and `exp`")
            || reason.starts_with("Failed to generate JWT signer")
            || reason == ":signature_error"
        {
            ChannelError::InvalidJwt { reason }
        } else if reason.starts_with("You do not have permission")
            || reason.starts_with("You no longer have permission")
        {
            ChannelError::Unauthorized { reason }
        } else if reason.starts_with("Too many") || find(&reason, "rate limit") {
            ChannelError::RateLimited { reason }
        } else {
            ChannelError::ChannelClosed { reason }
        }
    }
}

/// Why a push resolved with `'error'`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushError {
    /// The server replied with an error.
    Rejected {
        /// The server's text.
        reason: String,
    },
    /// The channel left or was closed before the push completed.
    ChannelClosed,
    /// The per-channel push buffer was full; this (oldest) push was dropped.
    BufferOverflow,
    /// The HTTP broadcast endpoint answered with a non-2xx status.
    Http {
        /// The status (0 for a network failure).
        status: u16,
    },
    /// The client was destroyed before (or when) the push was made.
    Destroyed,
}

impl PushError {
    /// Every code, in declaration order (reported to the `realtime.logger` as `push`).
    pub const CODES: &'static [&'static str] =
        &["push_rejected", "channel_closed", "push_buffer_overflow", "http_error", "destroyed"];

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PushError::Rejected { .. } => "push_rejected",
            PushError::ChannelClosed => "channel_closed",
            PushError::BufferOverflow => "push_buffer_overflow",
            PushError::Http { .. } => "http_error",
            PushError::Destroyed => "destroyed",
        }
    }
}

/// Why a channel call was refused (nothing was sent), or why `httpSend()` failed. Only what
/// realtime-js also refuses is thrown at the call; the rest is reported the way realtime-js
/// reports it (a status, a `system` message, a resolved or rejected promise).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChannelOpError {
    /// The channel was removed.
    UnknownChannel,
    /// `subscribe()` on a channel instance that was subscribed before and has closed.
    AlreadySubscribed,
    /// `postgres_changes` or `presence` listeners must be added before `subscribe()`.
    BindingAfterSubscribe,
    /// A Postgres changes filter that no server version accepts.
    InvalidFilter {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `broadcast.replay` is only allowed on private channels (§6.2).
    ReplayOnPublicChannel,
    /// `realtime:` + name is longer than 255 bytes, which binary frames cannot carry (§2.3).
    TopicTooLong,
    /// A channel name must not be empty (`TopicNameRequired`).
    EmptyTopic,
    /// The client was destroyed.
    Destroyed,
    /// A payload or presence state that cannot be sent as JSON (the shell serialises it).
    PayloadNotJson {
        /// What was expected.
        reason: &'static str,
    },
    /// `channel.on(type, …)` with a type other than `broadcast`, `presence`,
    /// `postgres_changes` or `system` (logged; realtime-js ignores such listeners too).
    UnknownListenerType,
    /// `httpSend()` without a payload.
    PayloadRequired,
    /// `httpSend()`: the broadcast endpoint did not answer 202 (or could not be reached:
    /// status 0).
    HttpFailed {
        /// The HTTP status (0 without a response).
        status: u16,
        /// realtime-js's text: the body's `error` or `message`, else the status text.
        message: String,
    },
    /// `httpSend()`: no answer within the timeout; the request was aborted.
    HttpTimeout,
}

impl ChannelOpError {
    /// Every code, in declaration order.
    pub const CODES: &'static [&'static str] = &[
        "unknown_channel",
        "already_subscribed",
        "binding_after_subscribe",
        "invalid_filter",
        "replay_on_public_channel",
        "topic_too_long",
        "empty_topic",
        "destroyed",
        "payload_not_json",
        "unknown_listener_type",
        "payload_required",
        "http_error",
        "http_timeout",
    ];

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            ChannelOpError::UnknownChannel => "unknown_channel",
            ChannelOpError::AlreadySubscribed => "already_subscribed",
            ChannelOpError::BindingAfterSubscribe => "binding_after_subscribe",
            ChannelOpError::InvalidFilter { .. } => "invalid_filter",
            ChannelOpError::ReplayOnPublicChannel => "replay_on_public_channel",
            ChannelOpError::TopicTooLong => "topic_too_long",
            ChannelOpError::EmptyTopic => "empty_topic",
            ChannelOpError::Destroyed => "destroyed",
            ChannelOpError::PayloadNotJson { .. } => "payload_not_json",
            ChannelOpError::UnknownListenerType => "unknown_listener_type",
            ChannelOpError::PayloadRequired => "payload_required",
            ChannelOpError::HttpFailed { .. } => "http_error",
            ChannelOpError::HttpTimeout => "http_timeout",
        }
    }
    /// The human text; realtime-js's where it throws or rejects for the same call (the shell
    /// adds the topic where realtime-js names it).
    pub fn message(&self) -> &str {
        match self {
            ChannelOpError::UnknownChannel => "the channel was removed",
            ChannelOpError::AlreadySubscribed => {
                "tried to join multiple times. 'join' can only be called a single time per channel instance"
            }
            ChannelOpError::BindingAfterSubscribe => {
                "cannot add postgres_changes or presence listeners after subscribe()"
            }
            ChannelOpError::InvalidFilter { reason } => reason,
            ChannelOpError::ReplayOnPublicChannel => "broadcast replay is only allowed on private channels",
            ChannelOpError::TopicTooLong => "the channel topic is longer than 255 bytes",
            ChannelOpError::EmptyTopic => "a channel name is required",
            ChannelOpError::Destroyed => "the client was destroyed",
            ChannelOpError::PayloadNotJson { reason } => reason,
            ChannelOpError::UnknownListenerType => "unknown listener type",
            ChannelOpError::PayloadRequired => "Payload is required for httpSend()",
            ChannelOpError::HttpFailed { message, .. } => message,
            // What an aborted fetch rejects with.
            ChannelOpError::HttpTimeout => "This operation was aborted",
        }
    }
}

/// auth-js's text for a missing PKCE verifier.
const PKCE_VERIFIER_MISSING: &str = "PKCE code verifier not found in storage. This can happen if the auth flow was \
    initiated in a different browser or device, or if the storage was cleared. For SSR frameworks (Next.js, \
    SvelteKit, etc.), use @supabase/ssr on both the server and client to store the code verifier in cookies.";

/// Why an auth operation failed. Shapes follow auth-js's error classes (`name()`), with
/// GoTrue's codes preserved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// GoTrue answered with an error status.
    Api {
        /// HTTP status.
        status: u16,
        /// GoTrue's code (`invalid_credentials`, `refresh_token_already_used`, …), or
        /// `unknown` when the body had none.
        code: String,
        /// GoTrue's message.
        message: String,
    },
    /// A password GoTrue considers weak (422 `weak_password`).
    WeakPassword {
        /// HTTP status (GoTrue sends 422).
        status: u16,
        /// GoTrue's message.
        message: String,
        /// `length`, `characters`, `pwned` (auth-js's `reasons`).
        reasons: alloc::vec::Vec<String>,
    },
    /// An error answer that is not JSON and not worth retrying (auth-js's `AuthUnknownError`).
    Unknown {
        /// HTTP status (kept for retry decisions; auth-js's class has none).
        status: u16,
        /// The start of the body.
        message: String,
    },
    /// The call lacks what GoTrue needs (an email or a phone number): refused before any
    /// request, as auth-js does (`AuthInvalidCredentialsError`).
    InvalidCredentials {
        /// auth-js's text.
        message: &'static str,
    },
    /// The page URL carried an auth error at start (`error`, `error_code`,
    /// `error_description`), as auth-js reports it from `initialize()`
    /// (`AuthImplicitGrantRedirectError`, with `details`).
    ImplicitGrantRedirect {
        /// `error_description`.
        message: String,
        /// `error`.
        error: String,
        /// `error_code`.
        code: String,
    },
    /// No response (network, CORS, abort: status 0), or a 5xx/52x: worth retrying.
    RetryableFetch {
        /// HTTP status (0 without a response).
        status: u16,
        /// What failed.
        message: String,
    },
    /// The operation needs a session and there is none.
    SessionMissing,
    /// A JWT that cannot be decoded, is expired, or failed verification.
    InvalidJwt {
        /// What is wrong.
        message: &'static str,
    },
    /// `exchangeCodeForSession` found no PKCE code verifier in storage.
    PkceVerifierMissing,
    /// A success response that is not what GoTrue sends.
    InvalidResponse,
    /// The session could not be written to storage (quota, access denied); it is kept in
    /// memory.
    Storage {
        /// What the storage said.
        message: String,
    },
    /// Not supported by authwire (MFA, SSO, identity linking, the admin API, Web3).
    NotSupported {
        /// The feature.
        what: &'static str,
    },
    /// A secret was needed (a PKCE verifier) and the runtime has no `crypto.getRandomValues`.
    CryptoUnavailable,
    /// The client was destroyed.
    Destroyed,
    /// Another operation replaced this one (e.g. a newer sign-in), so its result was dropped.
    Superseded,
}

impl AuthError {
    /// The codes authwire gives itself, in declaration order, plus `unknown` for an
    /// [`AuthError::Api`] whose body had no code.
    pub const CODES: &'static [&'static str] = &[
        "weak_password",
        "credentials_required",
        "implicit_grant_redirect",
        "network_error",
        "server_error",
        "session_missing",
        "invalid_jwt",
        "pkce_code_verifier_not_found",
        "invalid_response",
        "storage_error",
        "not_supported",
        "crypto_unavailable",
        "destroyed",
        "superseded",
        "unknown",
    ];
    /// GoTrue's codes that matter to sessions, passed through in [`AuthError::Api`]. GoTrue
    /// has more; these are the ones the TS union `AuthErrorCode` names.
    pub const GOTRUE_CODES: &'static [&'static str] = &[
        "invalid_credentials",
        "email_not_confirmed",
        "phone_not_confirmed",
        "user_already_exists",
        "refresh_token_not_found",
        "refresh_token_already_used",
        "session_not_found",
        "session_expired",
        "user_not_found",
        "user_banned",
        "bad_jwt",
        "no_authorization",
        "validation_failed",
        "conflict",
        "over_request_rate_limit",
        "flow_state_not_found",
        "flow_state_expired",
        "bad_code_verifier",
        "otp_expired",
        "anonymous_provider_disabled",
        "unexpected_failure",
        "otp_disabled",
        "phone_provider_disabled",
        "email_provider_disabled",
        "email_exists",
        "phone_exists",
        "same_password",
        "reauthentication_not_valid",
        "over_email_send_rate_limit",
        "mfa_factor_not_found",
        "insufficient_aal",
    ];

    /// A stable code: GoTrue's own for API errors, authwire's otherwise.
    pub fn code(&self) -> &str {
        match self {
            AuthError::Api { code, .. } => code,
            AuthError::WeakPassword { .. } => "weak_password",
            AuthError::Unknown { .. } => "unknown",
            AuthError::InvalidCredentials { .. } => "credentials_required",
            AuthError::ImplicitGrantRedirect { .. } => "implicit_grant_redirect",
            AuthError::RetryableFetch { status: 0, .. } => "network_error",
            AuthError::RetryableFetch { .. } => "server_error",
            AuthError::SessionMissing => "session_missing",
            AuthError::InvalidJwt { .. } => "invalid_jwt",
            AuthError::PkceVerifierMissing => "pkce_code_verifier_not_found",
            AuthError::InvalidResponse => "invalid_response",
            AuthError::Storage { .. } => "storage_error",
            AuthError::NotSupported { .. } => "not_supported",
            AuthError::CryptoUnavailable => "crypto_unavailable",
            AuthError::Destroyed => "destroyed",
            AuthError::Superseded => "superseded",
        }
    }
    /// auth-js's class name for this error.
    pub fn name(&self) -> &'static str {
        match self {
            AuthError::Api { .. } => "AuthApiError",
            AuthError::WeakPassword { .. } => "AuthWeakPasswordError",
            AuthError::Unknown { .. } => "AuthUnknownError",
            AuthError::InvalidCredentials { .. } => "AuthInvalidCredentialsError",
            AuthError::ImplicitGrantRedirect { .. } => "AuthImplicitGrantRedirectError",
            AuthError::RetryableFetch { .. } => "AuthRetryableFetchError",
            AuthError::SessionMissing => "AuthSessionMissingError",
            AuthError::InvalidJwt { .. } => "AuthInvalidJwtError",
            AuthError::PkceVerifierMissing => "AuthPKCECodeVerifierMissingError",
            AuthError::InvalidResponse => "AuthInvalidTokenResponseError",
            _ => "AuthError",
        }
    }
    /// The HTTP status, where there is one (the statuses auth-js gives its client-side
    /// errors: 400, or 500 for a bad token response and a URL error).
    pub fn status(&self) -> Option<u16> {
        match self {
            AuthError::Api { status, .. }
            | AuthError::RetryableFetch { status, .. }
            | AuthError::WeakPassword { status, .. } => Some(*status),
            AuthError::SessionMissing
            | AuthError::InvalidJwt { .. }
            | AuthError::PkceVerifierMissing
            | AuthError::InvalidCredentials { .. } => Some(400),
            AuthError::InvalidResponse | AuthError::ImplicitGrantRedirect { .. } => Some(500),
            _ => None,
        }
    }
    /// `AuthWeakPasswordError.reasons` (empty for other errors).
    pub fn reasons(&self) -> &[String] {
        match self {
            AuthError::WeakPassword { reasons, .. } => reasons,
            _ => &[],
        }
    }
    /// `AuthImplicitGrantRedirectError.details`: the URL's `error` and `error_code`.
    pub fn details(&self) -> Option<(&str, &str)> {
        match self {
            AuthError::ImplicitGrantRedirect { error, code, .. } => Some((error, code)),
            _ => None,
        }
    }
    /// The human text.
    pub fn message(&self) -> &str {
        match self {
            AuthError::Api { message, .. }
            | AuthError::WeakPassword { message, .. }
            | AuthError::RetryableFetch { message, .. }
            | AuthError::Storage { message }
            | AuthError::Unknown { message, .. }
            | AuthError::ImplicitGrantRedirect { message, .. } => message,
            AuthError::SessionMissing => "Auth session missing!",
            AuthError::InvalidJwt { message } | AuthError::InvalidCredentials { message } => message,
            AuthError::PkceVerifierMissing => PKCE_VERIFIER_MISSING,
            AuthError::InvalidResponse => "Auth session or user missing",
            AuthError::NotSupported { what } => what,
            AuthError::CryptoUnavailable => "crypto.getRandomValues is not available: no PKCE verifier without a CSPRNG",
            AuthError::Destroyed => "the client was destroyed",
            AuthError::Superseded => "a newer operation replaced this one",
        }
    }
    /// `true` for failures worth retrying with backoff: no response, 5xx, 52x, 429 and 409
    /// (`conflict`: lock contention on the server).
    pub fn is_retryable(&self) -> bool {
        match self {
            AuthError::RetryableFetch { .. } => true,
            AuthError::Api { status, .. } | AuthError::Unknown { status, .. } => matches!(status, 429 | 409),
            _ => false,
        }
    }
    /// The codes after which a refresh token is dead for good (auth-session.md §1.5).
    pub fn ends_session(&self) -> bool {
        matches!(
            self.code(),
            "refresh_token_not_found"
                | "refresh_token_already_used"
                | "session_not_found"
                | "session_expired"
                | "user_banned"
                | "user_not_found"
                | "validation_failed"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn join_reasons_are_typed() {
        let c = |r: &str| ChannelError::from_join_reason(r.to_string()).code().to_string();
        assert_eq!(c("InvalidJWTToken: Token has expired 3 seconds ago"), "token_expired");
        assert_eq!(c("MalformedJWT: The token provided is not a valid JWT"), "invalid_jwt");
        assert_eq!(c("Unauthorized: You do not have permissions to read from this Channel topic: x"), "unauthorized");
        assert_eq!(c("ChannelRateLimitReached: Too many channels"), "rate_limited");
        assert_eq!(c("PrivateOnly: This project only allows private channels"), "channel_error");
        let e = ChannelError::from_join_reason("Unauthorized: nope".to_string());
        assert_eq!(e.message(), "Unauthorized: nope");
    }

    #[test]
    fn socket_and_crash_texts_are_realtime_js_s() {
        let closed = |code, reason: &str| ChannelError::SocketClosed { code, reason: reason.to_string() };
        assert_eq!(closed(1006, "").message(), "socket closed: 1006");
        assert_eq!(closed(1001, "bye").message(), "socket closed: 1001 (bye)");
        assert_eq!(ChannelError::Server { reason: String::new() }.message(), "channel error: transport failure");
        assert_eq!(ChannelError::ConnectFailed.message(), "channel error: transport failure");
        assert_eq!(ChannelError::HeartbeatTimeout.message(), "heartbeat timeout");
        assert_eq!(
            ChannelOpError::AlreadySubscribed.message(),
            "tried to join multiple times. 'join' can only be called a single time per channel instance"
        );
    }

    #[test]
    fn system_messages_are_typed() {
        let c = |r: &str| ChannelError::from_system_message(r.to_string()).code().to_string();
        assert_eq!(c("Token has expired 0 seconds ago"), "token_expired");
        assert_eq!(c("You no longer have permission to read from this Channel topic: a"), "unauthorized");
        assert_eq!(c("Client presence rate limit exceeded"), "rate_limited");
        assert_eq!(c("Server requested disconnect"), "channel_closed");
    }

    /// The set of `code()`s of `all`, which must equal `listed` (both ways, so neither a
    /// variant nor a listed code is left over).
    fn codes_match<'a>(all: impl IntoIterator<Item = &'a str>, listed: &[&str]) {
        let mut got: alloc::vec::Vec<&str> = all.into_iter().collect();
        got.sort_unstable();
        got.dedup();
        let mut want = listed.to_vec();
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn channel_error_codes_list_every_variant() {
        let s = String::new;
        let all = [
            ChannelError::Unauthorized { reason: s() },
            ChannelError::TokenExpired { reason: s() },
            ChannelError::InvalidJwt { reason: s() },
            ChannelError::RateLimited { reason: s() },
            ChannelError::ChannelClosed { reason: s() },
            ChannelError::Server { reason: s() },
            ChannelError::ConnectFailed,
            ChannelError::SocketClosed { code: 1006, reason: s() },
            ChannelError::HeartbeatTimeout,
            ChannelError::BindingMismatch,
            ChannelError::SignedOut,
            ChannelError::ApikeyNotJwt,
        ];
        // Exhaustive on purpose: a new variant does not compile here until it is added to
        // `all` above (and its code to `CODES`). `Refused` passes the auth server's code.
        for e in &all {
            match e {
                ChannelError::Unauthorized { .. }
                | ChannelError::TokenExpired { .. }
                | ChannelError::InvalidJwt { .. }
                | ChannelError::RateLimited { .. }
                | ChannelError::ChannelClosed { .. }
                | ChannelError::Server { .. }
                | ChannelError::ConnectFailed
                | ChannelError::SocketClosed { .. }
                | ChannelError::HeartbeatTimeout
                | ChannelError::BindingMismatch
                | ChannelError::SignedOut
                | ChannelError::ApikeyNotJwt => {}
                ChannelError::Refused { .. } => unreachable!(),
            }
        }
        codes_match(all.iter().map(ChannelError::code), ChannelError::CODES);
        for code in ChannelError::REFUSED_CODES {
            let e = ChannelError::Refused { code: code.to_string(), reason: s() };
            assert_eq!(e.code(), *code);
        }
    }

    #[test]
    fn channel_op_error_codes_list_every_variant() {
        let all = [
            ChannelOpError::UnknownChannel,
            ChannelOpError::AlreadySubscribed,
            ChannelOpError::BindingAfterSubscribe,
            ChannelOpError::InvalidFilter { reason: "" },
            ChannelOpError::ReplayOnPublicChannel,
            ChannelOpError::TopicTooLong,
            ChannelOpError::EmptyTopic,
            ChannelOpError::Destroyed,
            ChannelOpError::PayloadNotJson { reason: "" },
            ChannelOpError::UnknownListenerType,
            ChannelOpError::PayloadRequired,
            ChannelOpError::HttpFailed { status: 0, message: String::new() },
            ChannelOpError::HttpTimeout,
        ];
        // Exhaustive on purpose: a new variant does not compile until it is added to `all`.
        for e in &all {
            match e {
                ChannelOpError::UnknownChannel
                | ChannelOpError::AlreadySubscribed
                | ChannelOpError::BindingAfterSubscribe
                | ChannelOpError::InvalidFilter { .. }
                | ChannelOpError::ReplayOnPublicChannel
                | ChannelOpError::TopicTooLong
                | ChannelOpError::EmptyTopic
                | ChannelOpError::Destroyed
                | ChannelOpError::PayloadNotJson { .. }
                | ChannelOpError::UnknownListenerType
                | ChannelOpError::PayloadRequired
                | ChannelOpError::HttpFailed { .. }
                | ChannelOpError::HttpTimeout => {}
            }
        }
        codes_match(all.iter().map(ChannelOpError::code), ChannelOpError::CODES);
    }

    #[test]
    fn push_error_codes_list_every_variant() {
        let all = [
            PushError::Rejected { reason: String::new() },
            PushError::ChannelClosed,
            PushError::BufferOverflow,
            PushError::Http { status: 0 },
            PushError::Destroyed,
        ];
        // Exhaustive on purpose: a new variant does not compile until it is added to `all`.
        for e in &all {
            match e {
                PushError::Rejected { .. }
                | PushError::ChannelClosed
                | PushError::BufferOverflow
                | PushError::Http { .. }
                | PushError::Destroyed => {}
            }
        }
        codes_match(all.iter().map(PushError::code), PushError::CODES);
    }

    #[test]
    fn auth_error_codes_list_every_variant() {
        let s = String::new;
        let all = [
            AuthError::Api { status: 400, code: "unknown".to_string(), message: s() },
            AuthError::WeakPassword { status: 422, message: s(), reasons: alloc::vec::Vec::new() },
            AuthError::Unknown { status: 404, message: s() },
            AuthError::InvalidCredentials { message: "" },
            AuthError::ImplicitGrantRedirect { message: s(), error: s(), code: s() },
            AuthError::RetryableFetch { status: 0, message: s() },
            AuthError::RetryableFetch { status: 503, message: s() },
            AuthError::SessionMissing,
            AuthError::InvalidJwt { message: "" },
            AuthError::PkceVerifierMissing,
            AuthError::InvalidResponse,
            AuthError::Storage { message: s() },
            AuthError::NotSupported { what: "" },
            AuthError::CryptoUnavailable,
            AuthError::Destroyed,
            AuthError::Superseded,
        ];
        // Exhaustive on purpose: a new variant does not compile until it is added to `all`.
        // `Api` passes GoTrue's code (`unknown` when the body had none).
        for e in &all {
            match e {
                AuthError::Api { .. }
                | AuthError::WeakPassword { .. }
                | AuthError::Unknown { .. }
                | AuthError::InvalidCredentials { .. }
                | AuthError::ImplicitGrantRedirect { .. }
                | AuthError::RetryableFetch { .. }
                | AuthError::SessionMissing
                | AuthError::InvalidJwt { .. }
                | AuthError::PkceVerifierMissing
                | AuthError::InvalidResponse
                | AuthError::Storage { .. }
                | AuthError::NotSupported { .. }
                | AuthError::CryptoUnavailable
                | AuthError::Destroyed
                | AuthError::Superseded => {}
            }
        }
        codes_match(all.iter().map(AuthError::code), AuthError::CODES);
        for code in AuthError::GOTRUE_CODES {
            assert!(!AuthError::CODES.contains(code), "{code} is listed twice");
        }
    }
}
