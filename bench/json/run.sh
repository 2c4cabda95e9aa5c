#!/usr/bin/env bash
# Measures the JSON strategy: wasm size of the same frame-handling job with authwire-wire's JSON
# and with serde_json, then native decode speed.
set -euo pipefail
cd "$(dirname "$0")"
WASM_OPT=../../node_modules/.bin/wasm-opt
for c in wasm-ours wasm-serde; do
  cargo build -q --profile wasm --target wasm32-unknown-unknown -p "$c"
  f=target/wasm32-unknown-unknown/wasm/${c//-/_}.wasm
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int "$f" -o "/tmp/$c.wasm"
  echo "$c: $(stat -c%s "/tmp/$c.wasm") bytes raw, $(gzip -9c "/tmp/$c.wasm" | wc -c) gzip -9"
done
cargo run -q --release -p json-bench
