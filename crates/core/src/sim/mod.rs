//! Deterministic simulation support: a model Realtime server, a virtual network on one
//! virtual clock, and endpoints that drive the core. Used by the behaviour tests and by the
//! `simulate` example; nothing here is compiled into the browser package's code paths.

pub mod browser;
pub mod checks;
pub mod client_endpoint;
pub mod digest;
pub mod gotrue;
pub mod rt_endpoint;
pub mod rt_server;
pub mod schedule;
pub mod services;
pub mod world;
