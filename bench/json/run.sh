#!/usr/bin/env bash
# The JSON strategy, measured (see Cargo.toml): wasm size of the same job per strategy, native
# decode speed, and decode speed in wasm under node next to JSON.parse.
# Needs the wasm32 target and `npm ci` at the repo root (binaryen 132's wasm-opt).
set -euo pipefail
cd "$(dirname "$0")"
WASM_OPT=../../node_modules/.bin/wasm-opt
OUT=target/measure
mkdir -p "$OUT"
echo "| option | wasm raw bytes | gzip -9 bytes |"
echo "|---|---|---|"
for o in none ours serde-value serde-typed miniserde; do
  cargo build -q --profile wasm --target wasm32-unknown-unknown -p json-wasm --features "$o"
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types --enable-multivalue \
    target/wasm32-unknown-unknown/wasm/json_wasm.wasm -o "$OUT/$o.wasm"
  echo "| $o | $(stat -c%s "$OUT/$o.wasm") | $(gzip -9c "$OUT/$o.wasm" | wc -c) |"
done
echo
echo "Native, opt-level 3:"
cargo run -q --release -p json-bench -- "$OUT"
echo
echo "Native, opt-level z (the wasm's settings):"
cargo run -q --profile native-z -p json-bench
echo
echo "node $(node --version), wasm modules above:"
node node.mjs "$OUT" "$OUT"
