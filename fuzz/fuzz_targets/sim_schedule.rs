//! Arbitrary schedules through the whole simulation (several tabs of one browser running the
//! real client core, the model GoTrue and Realtime servers, one virtual clock): no panic, no
//! stall, and no violation of G1–G8 by the checkers of `authwire_sim::checks`. The random
//! schedules of `cargo test -p authwire-sim` explore the same space by seed; here libFuzzer
//! steers the step lists by coverage.
#![no_main]
use authwire_sim::schedule::{run, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u64, Vec<Step>)| {
    let (seed, steps) = input;
    // Long virtual waits only make a run slow, not different.
    if steps.len() > 48 || steps.iter().any(|s| matches!(s, Step::Wait { ms } if *ms > 120_000)) {
        return;
    }
    let r = run(seed, &steps);
    assert_eq!(r.stalls, 0, "stalled: {:?}", r.first_violation);
    assert_eq!(r.total(), 0, "{:?} {:?}", r.violations_by_g, r.first_violation);
});
