//! Unit tests of the error mapping.

use super::*;
use alloc::string::{String, ToString};

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
        ChannelOpError::PayloadTooLarge,
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
            | ChannelOpError::PayloadTooLarge
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
        PushError::QueueFull,
        PushError::SignedOut,
        PushError::Http { status: 0 },
        PushError::Destroyed,
    ];
    // Exhaustive on purpose: a new variant does not compile until it is added to `all`.
    for e in &all {
        match e {
            PushError::Rejected { .. }
            | PushError::ChannelClosed
            | PushError::QueueFull
            | PushError::SignedOut
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
            | AuthError::SessionNotFound
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
    // `SessionNotFound` keeps GoTrue's code, so it is not in `all`: it must be a GoTrue code.
    assert!(AuthError::GOTRUE_CODES.contains(&AuthError::SessionNotFound.code()));
    for code in AuthError::GOTRUE_CODES {
        assert!(!AuthError::CODES.contains(code), "{code} is listed twice");
    }
}
