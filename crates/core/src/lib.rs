//! The authwire core: the Supabase auth session and the Realtime socket as one sans-IO state
//! machine.
//!
//! # The drive contract
//!
//! The core never reads a clock, never does IO and never draws randomness on its own: time
//! comes in as a [`time::Now`] argument, randomness from the seed given at construction, and
//! every side effect goes out as an [`io::Output`]. The shell (the browser code in the root
//! crate, or a test harness) runs one loop:
//!
//! 1. feed one input (`handle_*`) or one application command;
//! 2. drain `poll_output()` until it returns `None`, executing each output (open a socket,
//!    send a frame, start a fetch, write storage, deliver an event, …); results of side work
//!    come back later as inputs tagged with the same id;
//! 3. ask `poll_timeout()` for the earliest deadline and arm one host timer for it; when it
//!    fires, feed `Input::Timeout` (an early call is harmless).
//!
//! Every mutation must be followed by step 2 before the next one, so outputs keep their order.
//! Time passed in must not go backwards.
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod auth;
pub mod backoff;
pub mod client;
pub mod config;
pub mod error;
pub mod io;
pub mod map;
pub mod realtime;
pub mod rng;
pub mod time;
pub mod timer;
pub mod token;

pub use client::Client;
pub use config::{ClientConfig, ConfigError};
pub use time::{Instant, Now, UnixTime};
