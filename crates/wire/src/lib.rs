//! Wire formats shared by the authwire SDK core and the `authwire-dev` server.
//!
//! * [`json`] — a small JSON reader/writer that keeps floats and `core::fmt` out of the wasm;
//! * [`frame`] — Phoenix frames: V1 objects, V2 arrays, V2 binary kinds 0–4;
//! * [`gotrue`] — GoTrue token responses and error bodies;
//! * [`jwt`] — JWT claims without verification, base64url;
//! * [`realtime`] — typed Realtime payloads: join config, replies, `system`, presence, changes;
//! * [`url`] — percent codecs for URL components.
//!
//! No IO, no clock. Every decoder returns `Result` and never panics on any input; the
//! decoders are fuzzed (`fuzz/`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod frame;
pub mod gotrue;
pub mod json;
pub mod jwt;
pub mod realtime;
pub mod url;
