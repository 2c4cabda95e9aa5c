#!/usr/bin/env bash
# Release build of the SDK, the npm package and the demo bundle:
#   pkg-web/  wasm-pack --target web: the size-optimised wasm and its glue
#   pkg/      the npm package `authwire` assembled from pkg-web/ by scripts/package.mjs
#             (inline and URL entries; see README "The npm package"). A bare
#             `wasm-pack build --release` writes wasm-pack's bundler-target package there
#             instead; this script replaces it.
#   dist/     the demo page bundled by esbuild from www/ against pkg-web/
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"   # npm binaryen's wasm-opt, never Debian's
wasm-pack --quiet build --release --target web --out-dir pkg-web
node scripts/package.mjs
rm -rf dist && mkdir -p dist
esbuild www/main.ts --bundle --format=esm --minify --target=es2022 --loader:.wasm=file \
  --asset-names='[name]-[hash]' --outdir=dist --log-level=warning \
  --log-override:duplicate-object-key=silent
cp www/index.html dist/index.html
# The end-to-end test page: the same release package, exposed to Playwright.
rm -rf dist-test && mkdir -p dist-test
esbuild tests/e2e/page/main.ts --bundle --format=esm --minify --target=es2022 --loader:.wasm=file \
  --asset-names='[name]-[hash]' --outdir=dist-test --log-level=warning \
  --log-override:duplicate-object-key=silent
cp tests/e2e/page/index.html dist-test/index.html
