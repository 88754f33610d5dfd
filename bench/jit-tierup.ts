/**
 * JIT tier-up: how quickly a freshly loaded program reaches V8's optimising tier. V8 compiles
 * Wasm lazily with Liftoff (baseline) on the first call and re-compiles hot functions with
 * TurboFan in the background once they used up a "tiering budget" (roughly bytes of code
 * executed, --wasm-tiering-budget, default 1.8M). This prints ns/run for consecutive batches
 * from a cold start, and when the time first gets within 15% of the final (warm) speed.
 * Run: node dist/bench/jit-tierup.js   (compare: node --wasm-tiering-budget=100000 ...,
 * node --no-wasm-tier-up ... for Liftoff only, node --no-liftoff ... for TurboFan only)
 */
import { createVmContext, dataBuffer } from '../src/core/vm/context.js';
import { xdpRunOptions } from '../src/core/vm/xdp.js';
import { jit } from '../src/core/jit/index.js';
import { loadBenchPrograms } from './programs.js';

const BATCH = 50;
const BATCHES = 400;

// loaded once: the programs' reference models are BigInt loops that Node 20's TurboFan
// crashes on when they get hot (RepresentationChangerError on an UnsignedBigInt64 phi)
const PROGRAMS = loadBenchPrograms();

function curve(name: string, checked: boolean): void {
  const p = PROGRAMS.find((x) => x.name === name)!;
  const ctx = createVmContext();
  const addr = dataBuffer(ctx, p.data.length);
  ctx.space.write(addr, p.data);
  const opts = xdpRunOptions(ctx, { data: addr, len: p.data.length });
  const t0 = performance.now();
  const loaded = jit.load(p.prog, ctx, { checked });
  const loadMs = performance.now() - t0;
  const times: number[] = [];
  const at: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const t = performance.now();
    for (let i = 0; i < BATCH; i++) loaded.run(opts);
    times.push(((performance.now() - t) * 1e6) / BATCH);
    at.push(performance.now() - t0);
  }
  // wait for background TurboFan jobs, then measure the warm speed
  const end = performance.now() + 300;
  while (performance.now() < end) loaded.run(opts);
  const t = performance.now();
  for (let i = 0; i < 2000; i++) loaded.run(opts);
  const warm = ((performance.now() - t) * 1e6) / 2000;
  const k = times.findIndex((x) => x <= warm * 1.15);
  const when = k < 0 ? 'not within the first batches' : `after ${(k + 1) * BATCH} runs, ${at[k].toFixed(1)} ms from load`;
  console.log(`${name} (${checked ? 'checked' : 'trusted'}): load ${loadMs.toFixed(2)} ms; first batch ${times[0].toFixed(0)} ns/run, ` +
    `warm ${warm.toFixed(0)} ns/run; within 15% of warm ${when}`);
  console.log(`  every 20th batch (ns/run): ${times.filter((_, k) => k % 20 === 0).map((x) => x.toFixed(0)).join(' ')} ...`);
}

for (const name of ['sum_loop', 'parse_udp', 'xor_1500']) {
  for (const checked of [true, false]) curve(name, checked);
}
