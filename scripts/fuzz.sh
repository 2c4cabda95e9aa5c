#!/usr/bin/env bash
# `npm run fuzz [-- RUNS] [TARGET…]`: every cargo-fuzz target (or those named) for RUNS
# executions (default 1,000,000), starting from the committed seeds. `devserver_frames` starts
# its own PostgreSQL (under $TMPDIR/authwire-fuzz-<pid>) and stops it when it exits. Needs the nightly toolchain (rustup has it on the build
# image) and cargo-fuzz 0.13.2 (installed here from crates.io if missing). `npm test` runs the
# short form: the proptest no-panic and round-trip properties of crates/wire.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
RUNS="${1:-1000000}"
shift || true
TARGETS="$*"
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: the nightly toolchain is required" >&2; exit 1; }
cargo fuzz --version 2>/dev/null | grep -q '0.13.2' || cargo install cargo-fuzz --version 0.13.2 --quiet
cargo +nightly fuzz build -O -a
status=0
for t in ${TARGETS:-$(cargo +nightly fuzz list)}; do
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  echo "fuzz: $t, $RUNS runs"
  if ! cargo +nightly fuzz run -O -a "$t" "corpus/$t" -- -runs="$RUNS" -max_len=4096 2>&1 | grep -E '^Done|ERROR|panicked|SUMMARY'; then
    status=1
  fi
  [ -z "$(ls -A "artifacts/$t" 2>/dev/null)" ] || { echo "fuzz: $t found a crash: fuzz/artifacts/$t" >&2; status=1; }
  rm -rf "${TMPDIR:-/tmp}"/authwire-fuzz-*   # devserver_frames' data dirs (its PostgreSQL is stopped at exit)
done
exit $status
