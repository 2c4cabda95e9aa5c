//! Runs random schedules against the whole client and counts violations of G1–G8.
//!
//! ```text
//! cargo run --release -p authwire-sim --example simulate -- --schedules N --seed S [--threads T]
//! cargo run --release -p authwire-sim --example simulate -- --replay SEED
//! cargo run --release -p authwire-sim --example simulate -- --minimize SEED
//! ```
//!
//! `--minimize` shrinks the seed's schedule while it still violates the guarantee of its first
//! violation, and prints what is left (Rust syntax, for a regression test).
//!
//! Schedule `i` uses seed `S + i` (wrapping). The last line of stdout is exactly
//! `schedules=N violations=V`, V summed over G1–G8 (plus stalls: a core that keeps a timer due
//! at `now`, so the virtual clock cannot advance); before it come the counts per guarantee
//! and, when V > 0, the first violating schedule (its seed and steps) for `--replay`.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use authwire_sim::schedule::{minimize, random_schedule, run, run_with, RunOptions, SimConfig};

const NAMES: [&str; 8] = [
    "G1 built at send time",
    "G2 no join while unresolved",
    "G3 token reaches every channel",
    "G4 never an expired token",
    "G5 sign-out ends the user's channels",
    "G6 expiry closes are healed",
    "G7 connect params per connect",
    "G8 one refresh per refresh token",
];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn replay(seed: u64) -> ExitCode {
    let steps = random_schedule(seed);
    println!("seed {seed}\nconfig {:?}", SimConfig::from_seed(seed));
    for (i, s) in steps.iter().enumerate() {
        println!("step {i:>2}: {s:?}");
    }
    let (report, messages, trace) = run_with(seed, &steps, RunOptions { trace: true, keep: 50, record_frames: false });
    for line in &trace {
        println!("{line}");
    }
    for m in &messages {
        println!("violation: {m}");
    }
    for (g, n) in report.violations_by_g.iter().enumerate() {
        println!("{}: {n}", NAMES[g]);
    }
    println!("stalls: {}", report.stalls);
    println!(
        "(of G8: {} with a flight that went on without the lock, {} commits racing another tab's write)",
        report.g8_lock_timeout, report.g8_commit_race
    );
    println!("nothing lost: {} delivered twice, {} lost without a gap event", report.duplicates, report.unreported);
    println!("schedules=1 violations={}", report.total());
    if report.total() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn first_g(r: &authwire_sim::schedule::Report) -> Option<usize> {
    if r.stalls > 0 && r.first_violation.as_deref().is_some_and(|f| f.contains("stall")) {
        return Some(0);
    }
    r.first_violation.as_deref().and_then(|f| f.strip_prefix('G')).and_then(|f| f.get(..1)).and_then(|g| g.parse().ok())
}

fn shrink(seed: u64) -> ExitCode {
    let steps = random_schedule(seed);
    let r = run(seed, &steps);
    let Some(g) = first_g(&r) else {
        println!("seed {seed}: no violation");
        return ExitCode::SUCCESS;
    };
    let fails = |s: &[authwire_sim::schedule::Step]| first_g(&run(seed, s)) == Some(g);
    let small = minimize(&steps, fails);
    let r = run(seed, &small);
    println!(
        "seed {seed}: {} of {} steps still give: {}",
        small.len(),
        steps.len(),
        r.first_violation.unwrap_or_default()
    );
    println!("config {:?}", SimConfig::from_seed(seed));
    println!("let steps = [");
    for s in &small {
        println!("    Step::{s:?},");
    }
    println!("];");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(s) = arg(&args, "--minimize") {
        let Some(seed) = parse_u64(&s) else {
            eprintln!("--minimize takes a u64 seed");
            return ExitCode::FAILURE;
        };
        return shrink(seed);
    }
    if let Some(s) = arg(&args, "--replay") {
        let Some(seed) = parse_u64(&s) else {
            eprintln!("--replay takes a u64 seed");
            return ExitCode::FAILURE;
        };
        return replay(seed);
    }
    let n = arg(&args, "--schedules").and_then(|s| parse_u64(&s)).unwrap_or(10_000);
    let base = arg(&args, "--seed").and_then(|s| parse_u64(&s)).unwrap_or(0);
    let threads = arg(&args, "--threads").and_then(|s| parse_u64(&s)).unwrap_or(2).max(1);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let next = Arc::clone(&next);
            std::thread::spawn(move || {
                let mut by_g = [0u64; 13];
                let mut first: Option<(u64, u64, String)> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let seed = base.wrapping_add(i);
                    let r = run(seed, &random_schedule(seed));
                    for (g, v) in r.violations_by_g.iter().enumerate() {
                        by_g[g] += u64::from(*v);
                    }
                    by_g[8] += u64::from(r.stalls);
                    by_g[9] += u64::from(r.g8_lock_timeout);
                    by_g[10] += u64::from(r.g8_commit_race);
                    by_g[11] += u64::from(r.duplicates);
                    by_g[12] += u64::from(r.unreported);
                    if r.total() > 0 && first.as_ref().is_none_or(|f| i < f.0) {
                        first = Some((i, seed, r.first_violation.unwrap_or_default()));
                    }
                }
                (by_g, first)
            })
        })
        .collect();
    let mut by_g = [0u64; 13];
    let mut first: Option<(u64, u64, String)> = None;
    for w in workers {
        let (g, f) = w.join().expect("worker panicked");
        for (a, b) in by_g.iter_mut().zip(g) {
            *a += b;
        }
        if let Some(f) = f {
            if first.as_ref().is_none_or(|x| f.0 < x.0) {
                first = Some(f);
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let total: u64 = by_g[..9].iter().sum::<u64>() + by_g[11] + by_g[12];
    println!(
        "seeds {base}..{} on {threads} threads in {secs:.1} s ({:.0} schedules/s)",
        base.wrapping_add(n),
        n as f64 / secs
    );
    for (g, v) in by_g.iter().take(8).enumerate() {
        println!("{}: {v}", NAMES[g]);
    }
    println!("stalls: {}", by_g[8]);
    println!(
        "(of G8: {} with a flight that went on without the lock after its wait timed out, {} commits racing another tab's write)",
        by_g[9], by_g[10]
    );
    println!("nothing lost: {} delivered twice, {} lost without a gap event", by_g[11], by_g[12]);
    if let Some((_, seed, what)) = &first {
        println!("first violating schedule: seed {seed} (replay with --replay {seed})");
        println!("  {what}");
        for (i, s) in random_schedule(*seed).iter().enumerate() {
            println!("  step {i:>2}: {s:?}");
        }
    }
    println!("schedules={n} violations={total}");
    if total == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
