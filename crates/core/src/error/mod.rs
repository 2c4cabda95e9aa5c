//! Errors, one enum per operation. Each has a stable `code()` string that crosses the JS
//! boundary unchanged, and keeps the server's own text where there is one. Where realtime-js
//! hands the application an `Error` for the same situation, `message()` is its text.
//!
//! [`realtime`] holds the channel, push and channel-call errors; [`auth`] the auth errors.

mod auth;
mod realtime;
#[cfg(test)]
mod tests;

pub use auth::AuthError;
pub use realtime::{ChannelError, ChannelOpError, PushError};

/// Substring test over bytes (`str::contains` costs a 2 KB searcher in the wasm).
pub(crate) fn find(hay: &str, needle: &str) -> bool {
    hay.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}
