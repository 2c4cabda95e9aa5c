//! authwire's browser shell: the only code that touches the browser. It exports the
//! TypeScript API (`client`, `channel`, `realtime`, `auth`: one module per exported object),
//! runs one driver (`driver`) that feeds the sans-IO core ([`authwire_core::Client`]) and
//! executes its outputs through `js/glue.js` (`host`, the bridge both ways).
//!
//! On non-wasm targets this crate is empty: the core and the wire format are tested natively
//! in their own crates.
#![cfg_attr(all(target_arch = "wasm32", feature = "runtime"), no_std)]

extern crate alloc;

#[cfg(all(target_arch = "wasm32", feature = "runtime"))]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic is a bug; with `panic = "abort"` there is nothing to unwind, and a message would
/// drag `core::fmt` into the wasm. The module traps; the JS glue surfaces the trap.
#[cfg(all(target_arch = "wasm32", feature = "runtime"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

#[cfg(target_arch = "wasm32")]
mod auth;
#[cfg(target_arch = "wasm32")]
mod channel;
#[cfg(target_arch = "wasm32")]
mod client;
#[cfg(target_arch = "wasm32")]
mod driver;
#[cfg(target_arch = "wasm32")]
mod host;
#[cfg(target_arch = "wasm32")]
mod realtime;

#[cfg(target_arch = "wasm32")]
pub use auth::{
    is_auth_api_error, is_auth_error, is_auth_implicit_grant_redirect_error, is_auth_pkce_code_verifier_missing_error,
    is_auth_refresh_discarded_error, is_auth_retryable_fetch_error, is_auth_session_missing_error,
    is_auth_weak_password_error, AdminApi, AuthApi, Listeners, MfaApi, NotSupportedApi,
};
#[cfg(target_arch = "wasm32")]
pub use channel::RealtimeChannel;
#[cfg(target_arch = "wasm32")]
pub use client::{create_client, AuthwireClient};
#[cfg(target_arch = "wasm32")]
pub use realtime::RealtimeApi;

/// The hand-written part of `authwire.d.ts`: the shapes wasm-bindgen cannot infer (options,
/// payloads, sessions) and the string-literal unions, which `crates/core/tests/ts_contract.rs`
/// checks against the core's enums.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");
