//! A wasm module exporting `alloc(len)` and `run(ptr, len)` for one JSON strategy (a feature).
#![no_std]
extern crate alloc;

use alloc::vec::Vec;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOC: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// A buffer of `len` bytes for the host to write a frame into (never freed: one per run).
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len);
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p
}

/// Runs the job on the UTF-8 frame at `ptr..ptr + len`; returns the checksum.
///
/// # Safety
/// `ptr..ptr + len` must be a buffer from [`alloc`].
#[no_mangle]
pub unsafe extern "C" fn run(ptr: *const u8, len: usize) -> usize {
    let Ok(frame) = core::str::from_utf8(core::slice::from_raw_parts(ptr, len)) else { return 0 };
    #[cfg(feature = "ours")]
    return json_tasks::ours::run(frame);
    #[cfg(feature = "serde-value")]
    return json_tasks::serde_value::run(frame);
    #[cfg(feature = "serde-typed")]
    return json_tasks::serde_typed::run(frame);
    #[cfg(feature = "miniserde")]
    return json_tasks::miniserde::run(frame);
    #[allow(unreachable_code)]
    frame.len()
}
