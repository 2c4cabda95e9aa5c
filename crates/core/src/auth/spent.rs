//! G8 where storage lags: the `spent:` locks. Chromium keeps a per-process copy of
//! `localStorage`, so a tab granted the refresh lock right after another tab's rotation can
//! still read the rotated token. The rotating tab takes the lock `spent:<key>:<hash>` for the
//! token it presented before it releases the refresh lock (the Lock Manager is one per
//! browser, so the order holds); a holder whose storage shows its own token asks for that lock
//! without waiting and, if it is held, reads storage again instead of presenting the token.

use alloc::string::String;

use super::refresh::RefreshStep;
use super::Auth;
use crate::io::{Level, LockOp, Outbox, Output, RequestId};
use crate::Now;

/// At most this many storage re-reads while another tab's `spent:` lock says the stored
/// token was rotated, before presenting it anyway (its write may have failed for good, and
/// the server's reuse interval is the last line).
const MAX_PROBES: u8 = 32;

/// The lock that marks refresh token `token` as rotated, browser-wide. The name carries a 64-bit FNV-1a hash, never the token.
pub(super) fn spent_lock_name(storage_key: &str, token: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in token.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let mut name = String::from("spent:");
    name.push_str(storage_key);
    name.push(':');
    for i in (0..16).rev() {
        name.push(char::from_digit(((h >> (i * 4)) & 0xf) as u32, 16).unwrap_or('0'));
    }
    name
}

impl Auth {
    /// Asks, without waiting, for the `spent:` lock of the flight's token.
    pub(super) fn ask_spent_lock(&mut self, out: &mut Outbox) -> RequestId {
        let id = out.request_id();
        let token = self.refresh.as_ref().map_or("", |r| r.token.as_str());
        let name = spent_lock_name(&self.cfg.storage_key, token);
        out.push(Output::Lock { id, op: LockOp::Acquire { name, timeout_ms: 0 } });
        id
    }

    /// Step 2b: storage shows the flight's own token. Before presenting it, ask whether
    /// another tab marked it spent (see `spent_lock_name`).
    pub(super) fn probe_spent(&mut self, out: &mut Outbox) {
        let id = self.ask_spent_lock(out);
        if let Some(r) = &mut self.refresh {
            r.step = RefreshStep::Probe(id);
        }
    }

    /// The probe's answer. Free: nobody rotated the token; give the lock back and present it.
    /// Held: another tab rotated it and this tab's storage lags; read storage again (a bounded
    /// number of times) — the other tab's session is on its way.
    pub(super) fn on_probe(&mut self, id: RequestId, free: bool, now: Now, out: &mut Outbox) {
        if free {
            let rid = out.request_id();
            out.push(Output::Lock { id: rid, op: LockOp::Release { of: id } });
            self.send_refresh(now, out);
            return;
        }
        let Some(r) = &mut self.refresh else { return };
        r.probes += 1;
        if r.probes > MAX_PROBES {
            out.log(
                Level::Warn,
                String::from("storage still shows a refresh token another tab rotated; presenting it"),
            );
            self.send_refresh(now, out);
            return;
        }
        self.read_before(out);
    }

    /// The presented token's `spent:` lock: keep it (giving back the one before), then post,
    /// release, announce. Not granted (only this tab presented the token, so unlikely): go on.
    pub(super) fn on_spent(&mut self, id: RequestId, granted: bool, now: Now, out: &mut Outbox) {
        if granted {
            if let Some(old) = self.spent.replace(id) {
                let rid = out.request_id();
                out.push(Output::Lock { id: rid, op: LockOp::Release { of: old } });
            }
        }
        self.on_spent_done(now, out);
    }
}
