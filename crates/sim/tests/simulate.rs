//! The simulation as a test: random schedules against whole clients (several tabs of one
//! browser, the model GoTrue and the model Realtime server on one virtual clock), with the
//! property checkers of `authwire_sim::checks` counting violations of G1–G8.
//!
//! - `random_schedules`: 10,000 schedules on two threads (the root `Cargo.toml` optimises the
//!   core and wire crates in test builds, debug assertions on). Every guarantee must hold.
//! - `g8_lock_wait_chain` and `g8_commit_race`: the two G8 classes that stayed open longest
//!   (a lock wait timing out behind a chain of live holders; a sign-in written between a
//!   refresh's commit guard and its commit), now closed by the holder record and by writing
//!   every session under the lock.
//! - `pinned_guarantee_schedules`: six minimised schedules, one per guarantee-breaking bug
//!   they were minimised against when the checkers were written (a join built at subscribe
//!   time, G1; no re-read of storage under the lock, G8; no commit guard, G8; private
//!   channels not left on sign-out, G5; an expiry close ending the channel, G6; no
//!   `access_token` push after a join reply, G3). Each must hold on the real core.
//! - `core_bug_schedules`: the random schedules that found the core bugs fixed alongside the
//!   simulation, replayed (their step lists are pinned by a fingerprint).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use authwire_sim::schedule::{random_schedule, run, Report, Scope, Step};

fn check(seed: u64, steps: &[Step]) -> Report {
    let r = run(seed, steps);
    assert_eq!(r.stalls, 0, "seed {seed}: {:?}", r.first_violation);
    r
}

#[test]
fn random_schedules() {
    let n: u64 = 10_000;
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let mut bad: Vec<(u64, String)> = Vec::new();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= n {
                        break;
                    }
                    let r = run(seed, &random_schedule(seed));
                    if r.total() > 0 {
                        bad.push((seed, format!("{:?} {:?}", r.violations_by_g, r.first_violation)));
                    }
                }
                bad
            })
        })
        .collect();
    let mut bad = Vec::new();
    for w in workers {
        bad.extend(w.join().expect("worker"));
    }
    bad.sort();
    assert!(bad.is_empty(), "{} of {n} schedules violate a guarantee; first: {:?}", bad.len(), bad.first());
}

#[test]
fn pinned_guarantee_schedules() {
    use Step::*;
    let cases: [(u64, &[Step]); 6] = [
        // M1 (G1): join built at subscribe time.
        (0, &[SwitchUser { tab: 0 }, Subscribe { tab: 1, chan: 2, private: true }]),
        // M2 (G8): no re-read of storage under the lock.
        (0, &[SwitchUser { tab: 0 }]),
        // M3 (G8): no commit guard.
        (27, &[SwitchUser { tab: 2 }]),
        // M4 (G5): private channels not left on sign-out.
        (
            2,
            &[
                SignIn { tab: 0, user: 0 },
                Wait { ms: 87 },
                Subscribe { tab: 2, chan: 1, private: true },
                SignOut { tab: 2, scope: Scope::Local },
            ],
        ),
        // M5 (G6): a token-expiry close ends the channel.
        (
            21,
            &[
                Subscribe { tab: 1, chan: 1, private: true },
                Wait { ms: 959 },
                SignIn { tab: 0, user: 1 },
                Wait { ms: 336 },
                ServerExpiry { tab: 1, chan: 1 },
            ],
        ),
        // M6 (G3): no access_token push after a join reply.
        (
            229,
            &[Subscribe { tab: 1, chan: 1, private: false }, Broadcast { tab: 1, chan: 1 }, SignIn { tab: 0, user: 0 }],
        ),
    ];
    for (seed, steps) in cases {
        let r = check(seed, steps);
        assert_eq!(r.total(), 0, "seed {seed} {steps:?}: {:?}", r.first_violation);
    }
}

/// FNV-1a of the schedule's `Debug` text: pins what a seed generates.
fn fingerprint(steps: &[Step]) -> u64 {
    let text = format!("{steps:?}");
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn core_bug_schedules() {
    // (seed, the bug its schedule found); FINGERPRINTS pins each schedule.
    let cases: [(u64, &str); 13] = [
        (0, "refresh timer re-armed at `now` while a refresh was in flight: a busy loop (stall)"),
        (7, "another tab's session adopted under the lock was announced before the release (G8)"),
        (8, "V1: phx_close of an older join closed the current one, orphaning a membership (G5)"),
        (22, "token expiry counted from receipt: an answer late after a sleep looked valid (G4)"),
        (30, "storage without a session read as unreadable: refreshed a signed-out token (G8)"),
        (45, "a heartbeat pending without deadline held back the next one: dead socket kept (liveness)"),
        (72, "token expiry counted from receipt: a slow refresh answer (G4)"),
        (233, "leave skipped after a pending rejoin: server membership orphaned (G5)"),
        (575, "user switch while unresolved kept the old user's memberships (G5)"),
        (797, "sign-out during the start-up refresh left start-up unsettled forever (liveness, G2)"),
        (2783, "tab message without clock_skew: an expired token kept by the skew (G4)"),
        (3355, "a token inside its margin counted as ready: join just before the refresh (G2/G4)"),
        (3999, "whole-second exp and skew: token used 37 ms after the server's exp (G4)"),
    ];
    let pinned: [u64; 13] = FINGERPRINTS;
    for ((seed, what), fp) in cases.into_iter().zip(pinned) {
        let steps = random_schedule(seed);
        assert_eq!(
            fingerprint(&steps),
            fp,
            "random_schedule({seed}) changed: the schedule that found \"{what}\" is no longer replayed; \
             re-derive it (git history of this file) and pin the steps explicitly"
        );
        let r = check(seed, &steps);
        assert_eq!(r.total(), 0, "seed {seed} ({what}): {:?}", r.first_violation);
    }
}

const FINGERPRINTS: [u64; 13] = [
    0x4e9e_e895_1489_e716,
    0xefb9_6cb0_f09c_8943,
    0xc3ae_e19c_91eb_7186,
    0x4cb4_bb1b_fd2f_ec9b,
    0x3d7f_045a_6e7d_1be5,
    0x1efd_c0b3_c3ae_0b08,
    0xe126_8d0a_8747_4ee8,
    0xd6a2_fba2_fd49_079e,
    0x3f74_8bfb_f6ea_1466,
    0xe772_7a0c_79cc_7b60,
    0xa8fb_757f_eb67_75fd,
    0x6116_bf80_d555_7c54,
    0xc8f5_5f6b_d054_91f4,
];

/// Three tabs wake together with an expired session; the first lock holder's refresh answer
/// is slow (14 s, so it gives up at 10 s), the second holder's is lost (10 s), and the third
/// tab's 15 s lock wait times out while the second's presentation of the same refresh token
/// is outstanding. It used to present it too; now it sees that the lock changed hands during
/// its wait (the holder record) and waits again.
#[test]
fn g8_lock_wait_chain() {
    use Step::*;
    let steps = [
        RefreshSlow { ms: 14374 },
        SwitchUser { tab: 1 },
        Sleep { secs: 35 },
        Wait { ms: 2677 },
        Wait { ms: 1378 },
        Wait { ms: 1876 },
        RefreshDrop,
        Wait { ms: 4096 },
        Wait { ms: 83 },
    ];
    let r = check(279, &steps);
    assert_eq!(r.total(), 0, "{:?}", r.first_violation);
}

/// Tab 1 refreshes (under the lock) while tab 2 signs in; both answers arrive at the same
/// instant. Sign-ins used to write without the lock, between tab 1's commit-guard read and
/// its commit, which then overwrote the sign-in. Now the sign-in's write waits for the lock
/// and lands last, and tab 1 adopts it.
#[test]
fn g8_commit_race() {
    use Step::*;
    let steps = [
        SignIn { tab: 0, user: 2 },
        Wait { ms: 147 },
        RefreshNow { tab: 1 },
        Wait { ms: 0 },
        SignIn { tab: 2, user: 0 },
    ];
    let r = check(6409, &steps);
    assert_eq!(r.total(), 0, "{:?}", r.first_violation);
}

/// Found while closing the commit race: tab 0's sign-in write lands under the lock after
/// tab 1's sign-out removal, but tab 1's `SIGNED_OUT` message (and `storage` event) reach tab
/// 0 afterwards; adopting them as sent signed tab 0 out over its own newer write, aborted its
/// refresh and let tab 1 present the same token. Messages are hints now: storage is re-read.
#[test]
fn g8_stale_sign_out_message() {
    use Step::*;
    let steps = [
        SignIn { tab: 1, user: 0 },
        SwitchUser { tab: 0 },
        ClockJump { secs: 212 },
        Wait { ms: 42 },
        SignOut { tab: 1, scope: Scope::Local },
    ];
    let r = check(693, &steps);
    assert_eq!(r.total(), 0, "{:?}", r.first_violation);
}

/// Found while closing the lock-wait chain: the same chain of live holders with a wall-clock
/// jump of 102 s as the third tab's wait times out. A holder record judged by its age looked
/// stale after the jump; the record is compared for change instead, with no clock.
#[test]
fn g8_lock_wait_chain_across_a_clock_jump() {
    use Step::*;
    let steps = [RefreshDrop, Wait { ms: 7715 }, RefreshDrop, Wait { ms: 2801 }, ClockJump { secs: 102 }];
    let r = check(18584, &steps);
    assert_eq!(r.total(), 0, "{:?}", r.first_violation);
}
