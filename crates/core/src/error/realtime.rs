//! Realtime errors: why a channel is not subscribed, why a push failed, why a channel call
//! was refused.

use super::find;
use alloc::borrow::Cow;
use alloc::string::String;

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
    /// The token's user or session is gone (`user_not_found`, `session_not_found`,
    /// `user_banned`): a strict server's reason at the join or channel close, or the auth
    /// server's answer about the token of a refused handshake.
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
        &["user_not_found", "session_not_found", "user_banned", "unknown"];

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

    /// The auth server's codes for a token whose user or session is gone.
    pub const SESSION_GONE: &'static [&'static str] = &["user_not_found", "session_not_found", "user_banned"];

    /// Types the auth server's answer about a token the socket's handshake carried
    /// (`GET /user`): a user or session gone keeps GoTrue's code; `bad_jwt` is `token_expired`
    /// when it says the token expired, else `invalid_jwt` (the code a join refusal of the same
    /// token has); any other code is passed through.
    pub fn from_auth_answer(code: &str, message: String) -> ChannelError {
        match code {
            "bad_jwt" if find(&message, "expired") => ChannelError::TokenExpired { reason: message },
            "bad_jwt" => ChannelError::InvalidJwt { reason: message },
            _ => ChannelError::Refused { code: String::from(code), reason: message },
        }
    }

    /// Types a `phx_join` error reason (`"<Code>: <message>"`, protocol reference §9.2).
    pub fn from_join_reason(reason: String) -> ChannelError {
        let code = reason.split(':').next().unwrap_or("");
        if let Some(code) = session_refusal_code(&reason) {
            ChannelError::Refused { code: String::from(code), reason }
        } else if find(&reason, "Token has expired") {
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
        if let Some(code) = session_refusal_code(&reason) {
            ChannelError::Refused { code: String::from(code), reason }
        } else if reason.starts_with("Token has expired") {
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

/// GoTrue's code for a server text that says the token's user or session is gone: a server
/// that checks sessions strictly (design.md, "Strict sessions") uses GoTrue's own messages, at
/// the join (prefixed `Unauthorized: `) and in the `system` error before a `phx_close`.
fn session_refusal_code(text: &str) -> Option<&'static str> {
    if find(text, "User from sub claim in JWT does not exist") {
        Some("user_not_found")
    } else if find(text, "Session from session_id claim in JWT does not exist") {
        Some("session_not_found")
    } else if find(text, "User is banned") {
        Some("user_banned")
    } else {
        None
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
    /// The channel's send queue was full (`RealtimeConfig::push_buffer_limit` pushes waiting
    /// to be sent): this push was refused and nothing queued was dropped.
    QueueFull,
    /// The user signed out or another signed in before this push was sent: the old user's
    /// pushes are discarded, never sent with the next user's token (G5).
    SignedOut,
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
        &["push_rejected", "channel_closed", "queue_full", "signed_out", "http_error", "destroyed"];

    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            PushError::Rejected { .. } => "push_rejected",
            PushError::ChannelClosed => "channel_closed",
            PushError::QueueFull => "queue_full",
            PushError::SignedOut => "signed_out",
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
    /// A payload larger than `RealtimeConfig::max_payload_bytes` (the server would drop it).
    PayloadTooLarge,
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
        "payload_too_large",
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
            ChannelOpError::PayloadTooLarge => "payload_too_large",
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
            ChannelOpError::PayloadTooLarge => {
                "the payload is larger than realtime.maxPayloadBytes (the server's payload limit); nothing was sent"
            }
            ChannelOpError::HttpFailed { message, .. } => message,
            // What an aborted fetch rejects with.
            ChannelOpError::HttpTimeout => "This operation was aborted",
        }
    }
}
