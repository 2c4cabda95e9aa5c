#!/usr/bin/env bash
# Installs what this machine lacks, from the package registries only (apt, crates.io, npm).
# Idempotent and quiet when everything is present; fails loudly naming the missing piece.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "setup: FAILED to install $1" >&2
  echo "setup: the build machines reach apt, crates.io and npm only; see shared/toolchain.md" >&2
  exit 1
}
say() { echo "setup: $*" >&2; }
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# System packages: the browser and its driver for browser tests, PostgreSQL + wal2json for
# the devserver, brotli for size reports. (Never Debian's binaryen: its wasm-opt breaks
# wasm-bindgen output; the npm binaryen is used instead.)
apt_missing=()
for p in chromium chromium-driver brotli postgresql postgresql-15-wal2json; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || apt_missing+=("$p")
done
if ((${#apt_missing[@]})); then
  say "installing apt packages: ${apt_missing[*]}"
  $SUDO apt-get update -qq >/dev/null || fail "the apt package index (apt-get update)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null \
    || fail "apt packages ${apt_missing[*]}"
fi
for bin in chromium chromedriver brotli; do
  command -v "$bin" >/dev/null || fail "$bin (expected on PATH after apt install)"
done
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || fail "PostgreSQL server binaries (initdb)"
ls /usr/lib/postgresql/*/lib/wal2json.so >/dev/null 2>&1 || fail "wal2json (postgresql-15-wal2json)"

command -v cargo >/dev/null || fail "the Rust toolchain (cargo)"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || fail "rustup target wasm32-unknown-unknown"
fi

WASM_PACK_VERSION=0.15.1
if ! wasm-pack --version 2>/dev/null | grep -q " $WASM_PACK_VERSION"; then
  say "installing wasm-pack $WASM_PACK_VERSION from crates.io (takes a few minutes)"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --quiet || fail "wasm-pack $WASM_PACK_VERSION"
fi

# wasm-bindgen-cli must equal the wasm-bindgen pinned in Cargo.lock, or wasm-pack quietly
# builds its own copy. `--locked` fails for this crate on the registry mirror; build unlocked.
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
[ -n "$WB_VERSION" ] || fail "wasm-bindgen version (not found in Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION"; then
  say "installing wasm-bindgen-cli $WB_VERSION from crates.io (takes a few minutes)"
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --quiet || fail "wasm-bindgen-cli $WB_VERSION"
fi

# npm dependencies (binaryen's wasm-opt, TypeScript, esbuild, playwright-core, supabase-js).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 || fail "npm dependencies (npm ci)"
fi
[ -x node_modules/.bin/wasm-opt ] || fail "binaryen's wasm-opt (npm binaryen)"
exit 0
