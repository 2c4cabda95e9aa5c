//! authwire's deterministic simulation (quinn's `Pair` and str0m's `progress`, for a whole
//! browser): model GoTrue and Realtime servers, a model browser (tabs, storage, Web Locks,
//! BroadcastChannel, clocks that jump), a virtual network on one virtual clock, random
//! schedules, and the checkers that count violations of the guarantees G1–G8 and losses
//! (`lost`: database broadcasts delivered twice, or lost without a gap event).
//!
//! It drives `authwire-core` through its public drive contract only, and is a crate of its own
//! so that none of it is compiled into the SDK. Used by the behaviour tests in `tests/` and by
//! `examples/simulate.rs` (`npm run simulate`: a million schedules).

extern crate alloc;

pub mod browser;
pub mod checks;
pub mod client_endpoint;
pub mod digest;
pub mod gotrue;
pub mod lost;
pub mod rt_endpoint;
pub mod rt_server;
pub mod schedule;
pub mod services;
pub mod world;
