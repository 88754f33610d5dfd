/**
 * Measuring one program in one engine, or in the kernel: warm up until V8 has tiered up, then
 * time several trials and report their median (or the fastest with --best). JIT programs are timed two
 * ways: per call from JavaScript (`run`), and in the in-Wasm repeat loop (`repeat`), which
 * is what the kernel's figure is (its repeat loop runs inside the kernel).
 */
import { createVmContext, dataBuffer, xdpRunOptions, type RunOptions } from '../src/core/vm/index.js';
import type { BenchProgram } from './programs.js';
import { encode } from '../src/core/isa/index.js';
import { kernelAvailable, kernelTestRun } from '../src/node/kernel/index.js';

/** Row is one program's results (ns/run by engine name). */
export interface Row {
  name: string;
  insns: number;
  steps: number;
  results: Record<string, number | undefined>;
  kernelSkip?: string;
}

/** best is the fastest trial (the least disturbed one on a shared box). */
export function best(xs: number[]): number {
  return Math.min(...xs);
}

/**
 * statistic is what a figure reports: the median of the trials by default (machines are
 * noisy; medians measured side by side are what we quote), or the fastest trial with
 * `--best` (the kernel's test-run timer stops while its task is rescheduled, ours cannot).
 */
let statistic: (xs: number[]) => number = (xs) => median(xs);

/** useStatistic selects the median (default) or the best trial for every figure. */
export function useStatistic(name: 'median' | 'best'): void {
  statistic = name === 'best' ? best : median;
}

/** median of a list of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** measureEngine times `p` in interp / jit-checked / jit-trusted; null when the engine is missing. */
export async function measureEngine(p: BenchProgram, which: 'interp' | 'jit-checked' | 'jit-trusted', trials: number) {
  let engine;
  try {
    engine = which === 'interp'
      ? (await import('../src/core/vm/interpreter.js')).interpreter
      : (await import('../src/core/jit/index.js')).jit;
  } catch {
    return null;
  }
  const ctx = createVmContext();
  const addr = dataBuffer(ctx, p.data.length);
  ctx.space.write(addr, p.data);
  const opts = xdpRunOptions(ctx, { data: addr, len: p.data.length });
  const loaded = engine.load(p.prog, ctx, { checked: which !== 'jit-trusted' });
  const first = loaded.run(opts);
  if ((Number(first.r0 & 0xffffffffn) | 0) !== (p.expect | 0)) {
    throw new Error(`${p.name}: ${which} returned ${first.r0}, expected ${p.expect}`);
  }
  // Warm up for ~300 ms so the measured code is the optimised tier, then calibrate a trial to ~30 ms.
  let n = 1;
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) for (let i = 0; i < n; i++) loaded.run(opts);
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) loaded.run(opts);
    if (performance.now() - t0 > 30) break;
    n *= 2;
  }
  const samples: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) loaded.run(opts);
    samples.push(((performance.now() - t0) * 1e6) / n);
  }
  return { nsPerRun: statistic(samples), steps: first.steps, nsPerRunRepeat: measureRepeat(loaded, opts, trials) };
}

type Repeating = { repeat(n: number, opts: RunOptions): { r0: bigint } };

/**
 * measureRepeat times the in-Wasm repeat loop (JitProgram.repeat: one JS -> Wasm call for n
 * runs, like BPF_PROG_TEST_RUN's repeat), warmed up and calibrated like the per-call figure.
 * Undefined for engines without it (the interpreter).
 */
function measureRepeat(loaded: object, opts: RunOptions, trials: number): number | undefined {
  if (typeof (loaded as Partial<Repeating>).repeat !== 'function') return undefined;
  const l = loaded as Repeating;
  let n = 64;
  const warmEnd = performance.now() + 300;
  while (performance.now() < warmEnd) l.repeat(n, opts);
  for (;;) {
    const t0 = performance.now();
    l.repeat(n, opts);
    if (performance.now() - t0 > 30 || n >= 0x40000000) break;
    n *= 2;
  }
  const samples: number[] = [];
  for (let t = 0; t < trials; t++) {
    const t0 = performance.now();
    l.repeat(n, opts);
    samples.push(((performance.now() - t0) * 1e6) / n);
  }
  return statistic(samples);
}

/** measureKernel times `p` with BPF_PROG_TEST_RUN, or says why it cannot. */
export function measureKernel(p: BenchProgram, trials: number): { nsPerRun?: number; reason?: string } {
  const avail = kernelAvailable();
  if (!avail.ok) return { reason: avail.reason };
  const bytes = encode(p.prog);
  const check = kernelTestRun(bytes, p.data, 1);
  if ((check.retval | 0) !== (p.expect | 0)) throw new Error(`${p.name}: kernel returned ${check.retval}, expected ${p.expect}`);
  const repeat = 200_000;
  kernelTestRun(bytes, p.data, repeat); // warm up
  const samples: number[] = [];
  for (let t = 0; t < trials; t++) samples.push(kernelTestRun(bytes, p.data, repeat).nsPerRun);
  return { nsPerRun: statistic(samples) };
}
