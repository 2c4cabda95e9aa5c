// Decode speed in V8: each strategy's wasm module (built by run.sh) on the three frames, next to
// JSON.parse doing the same reads. Usage: node node.mjs WASM_DIR FRAME_DIR
import { readFileSync } from 'node:fs';

const [wasmDir, frameDir] = process.argv.slice(2);
const frames = ['heartbeat_reply', 'postgres_changes_2k', 'presence_state_50k'];
const options = ['ours', 'serde-value', 'serde-typed', 'miniserde'];

function bench(fn) {
  let iters = 1;
  for (;;) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    if (Number(process.hrtime.bigint() - t) > 150e6) break;
    iters *= 2;
  }
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t) / iters);
  }
  return rounds.sort((a, b) => a - b)[3];
}

// JSON.parse, then the same reads (the record and metas are already JS objects).
function jsJob(text) {
  const [, , , event, p] = JSON.parse(text);
  if (event === 'phx_reply') return p.status.length;
  if (event === 'postgres_changes') return p.ids.length + p.data.type.length + (p.data.record ? 1 : 0);
  let n = 0;
  for (const k in p) { n += k.length; for (const m of p[k].metas) n += m.phx_ref.length; }
  return n;
}

const enc = new TextEncoder();
console.log('| frame | strategy | ns/op | MB/s |');
console.log('|---|---|---|---|');
for (const name of frames) {
  const text = readFileSync(`${frameDir}/${name}.json`, 'utf8');
  const bytes = enc.encode(text);
  for (const o of options) {
    const { instance } = await WebAssembly.instantiate(readFileSync(`${wasmDir}/${o}.wasm`), {});
    const { alloc, run, memory } = instance.exports;
    const ptr = alloc(bytes.length);
    new Uint8Array(memory.buffer, ptr, bytes.length).set(bytes);
    if (run(ptr, bytes.length) === 0) throw new Error(`${o} refused ${name}`);
    const ns = bench(() => run(ptr, bytes.length));
    console.log(`| ${name} | wasm ${o} | ${ns.toFixed(0)} | ${(bytes.length / ns * 1e3).toFixed(0)} |`);
  }
  // The wasm modules read UTF-8 already in their memory; JSON.parse reads the JS string.
  const ns = bench(() => jsJob(text));
  console.log(`| ${name} | JSON.parse | ${ns.toFixed(0)} | ${(bytes.length / ns * 1e3).toFixed(0)} |`);
}
