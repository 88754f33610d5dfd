/**
 * Loader benchmark (`npm run bench:loader`): open + load of a clang-compiled object in tsbpf
 * (parse, relocate, create maps, verify, JIT to WebAssembly) against libbpf's
 * bpf_object__open_mem + bpf_object__load (which includes the kernel's verifier and JIT) for the
 * same object, in one run. tsbpf is measured with and without its verifier (`verify: false`).
 * The JIT caches compiled modules by program bytes, so loading the same object into a fresh
 * runtime again skips WebAssembly compilation. The main rows make every load miss that cache
 * (see Cold), as the kernel JITs every load; the "cache hit" row shows the repeat-load case.
 * V8 compiles Wasm functions lazily (on first call) by default; the main rows turn that off
 * (--no-wasm-lazy-compilation) so load includes compiling all the code, as the kernel's JIT does
 * at load, and one row shows V8's default, where the first run pays for compilation instead.
 *
 *   node dist/bench/loader.js [--runs N] [--passes P] [--json]
 *
 * Each pass times N open+load cycles of every object in each configuration (after a warm-up)
 * and runs the libbpf harness (bench/loader/libbpf_open_load.c, compiled with `cc ... -lbpf`)
 * for N cycles; passes interleave the two sides so machine noise hits both, and the figures are
 * medians. The libbpf column is skipped, with the reason, when the harness cannot be built or
 * bpf() is not allowed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { openObject, loadObject } from '../src/core/runtime/index.js';
import { Runtime } from '../src/core/runtime/runtime.js';
import { median } from './measure.js';
import type { Collection } from '../src/core/runtime/object-collection.js';
import { encode } from '../src/core/isa/instruction.js';
import { mapCreate } from '../src/core/runtime/commands.js';
import { BPF_MAP_TYPE_ARRAY } from '../src/core/maps/layout.js';

/** BenchObject is one object measured. */
interface BenchObject { name: string; path: string }

const OBJECTS: BenchObject[] = [
  { name: 'big_parser', path: 'bench/loader/big_parser.o' },
  { name: 'learning_bridge', path: 'examples/switch/learning_bridge.o' },
];

/** Row is one object's medians in milliseconds (undefined when not measured). */
interface Row {
  name: string;
  /** cold loads whose code had been loaded before (JIT cache hits); 0 when the cold rows are cold */
  coldRepeats: number;
  insns: number;
  open: number;
  /** open + load, verifier on, JIT compiling */
  load: number;
  /** open + load, verify: false, JIT compiling */
  loadNoVerify: number;
  /** open + load, verify: false, JIT compiling, V8 compiling Wasm functions lazily */
  loadLazy: number;
  /** open + load, verify: false, compiled module from the JIT's cache */
  loadCached: number;
  libbpfOpen?: number;
  libbpfLoad?: number;
  libbpfSkip?: string;
}

interface Args { runs: number; passes: number; json: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 15, passes: 3, json: false };
  for (let i = 0; i < argv.length; i++) {
    const n = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${argv[i - 1]} needs a positive integer`);
      return v;
    };
    if (argv[i] === '--runs') a.runs = n();
    else if (argv[i] === '--passes') a.passes = n();
    else if (argv[i] === '--json') a.json = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

/**
 * Cold makes loads miss the JIT's cache without other cost: each cold load goes to a new
 * runtime (as the cached row's do) in which a different set of small spacer maps was created
 * first, so the object's maps sit at new addresses and its relocated code, the cache key, is
 * new. `seen` holds a hash of every cold load's code; `repeats` counts loads that were not new.
 */
interface Cold { n: number; seen: Set<string>; repeats: number }

const cold = (): Cold => ({ n: 0, seen: new Set(), repeats: 0 });

// codeHash hashes a collection's relocated code (two 32-bit FNV-1a variants).
function codeHash(coll: Collection): string {
  let a = 0x811c9dc5, b = 0x01000193;
  for (const p of Object.values(coll.programs)) {
    for (const x of encode(p.loaded.insns)) {
      a = Math.imul(a ^ x, 0x01000193);
      b = Math.imul(b ^ x, 0x811c9dc5) ^ (b >>> 15);
    }
  }
  return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
}

// runtimeFor shifts the addresses of the next maps: each tiny array map moves them by 192
// bytes, a 4 KiB one by about 4 KiB, giving 336 distinct layouts with little garbage.
function runtimeFor(c: Cold): Runtime {
  const rt = new Runtime();
  const n = c.n++;
  const spacer = (valueSize: number) => mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize, maxEntries: 1 });
  for (let i = 0; i < n % 21; i++) spacer(8);
  spacer(4096 * (1 + (Math.floor(n / 21) % 16)));
  return rt;
}

/**
 * tsbpfCycle opens and loads `bytes` into a new runtime and closes it; returns [open ms,
 * open+load ms]. With `c`, the load misses the JIT cache (see Cold).
 */
function tsbpfCycle(bytes: Uint8Array, verify: boolean, c?: Cold): [number, number] {
  const rt = c ? runtimeFor(c) : new Runtime();
  const t0 = performance.now();
  const o = openObject(bytes);
  const t1 = performance.now();
  const coll = loadObject(rt, o.spec, { btfBytes: o.btfBytes, ...(verify ? {} : { verify: false }) });
  const t2 = performance.now();
  if (c) {
    const key = codeHash(coll);
    if (c.seen.has(key)) c.repeats++;
    c.seen.add(key);
  }
  coll.close();
  return [t1 - t0, t2 - t0];
}

/** lazyWasm switches V8's lazy Wasm compilation (applies to modules compiled afterwards). */
function lazyWasm(on: boolean): void {
  v8.setFlagsFromString(on ? '--wasm-lazy-compilation' : '--no-wasm-lazy-compilation');
}


/** Harness is the compiled libbpf program, or why there is none. */
type Harness = { path: string } | { skip: string };

function buildHarness(dir: string): Harness {
  const out = join(dir, 'libbpf_open_load');
  const r = spawnSync('cc', ['-O2', '-o', out, join('bench', 'loader', 'libbpf_open_load.c'), '-lbpf'], { encoding: 'utf8' });
  if (r.error) return { skip: `cannot run cc: ${r.error.message}` };
  if (r.status !== 0) return { skip: `cc ... -lbpf failed (is libbpf-dev installed?): ${r.stderr.trim().split('\n')[0]}` };
  return { path: out };
}

/** libbpfRun returns [open ms, open+load ms] medians of `runs` cycles, or a reason. */
function libbpfRun(h: Harness, path: string, runs: number): [number, number] | string {
  if ('skip' in h) return h.skip;
  const r = spawnSync(h.path, [path, String(runs)], { encoding: 'utf8' });
  if (r.error) return `harness failed: ${r.error.message}`;
  if (r.status !== 0) return `bpf_object__load failed (bpf() not allowed?): ${r.stderr.trim()}`;
  const m = /open_load_ns (\d+) open_ns (\d+)/.exec(r.stdout);
  if (!m) return `unexpected harness output: ${r.stdout.trim()}`;
  return [Number(m[2]) / 1e6, Number(m[1]) / 1e6];
}

function measure(args: Args): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-loader-'));
  try {
    const harness = buildHarness(dir);
    const objs = OBJECTS.map((o) => ({ ...o, bytes: new Uint8Array(readFileSync(o.path)) }));
    const s = objs.map(() => ({ open: [] as number[], load: [] as number[], noVerify: [] as number[], lazy: [] as number[], cached: [] as number[], lOpen: [] as number[], lLoad: [] as number[], skip: '' }));
    // warm-up: V8 tiers up the parser, verifier and JIT code paths
    for (const o of objs) for (let i = 0; i < 3; i++) { tsbpfCycle(o.bytes, true); tsbpfCycle(o.bytes, false); }
    const colds = objs.map(() => cold());
    for (let p = 0; p < args.passes; p++) {
      objs.forEach((o, k) => {
        const kp = colds[k];
        for (let i = 0; i < args.runs; i++) {
          const [open, both] = tsbpfCycle(o.bytes, true, kp);
          s[k].open.push(open);
          s[k].load.push(both);
          s[k].noVerify.push(tsbpfCycle(o.bytes, false, kp)[1]);
          lazyWasm(true);
          s[k].lazy.push(tsbpfCycle(o.bytes, false, kp)[1]);
          lazyWasm(false);
          s[k].cached.push(tsbpfCycle(o.bytes, false)[1]);
        }
        const l = libbpfRun(harness, o.path, args.runs);
        if (typeof l === 'string') s[k].skip = l;
        else [s[k].lOpen, s[k].lLoad] = [[...s[k].lOpen, l[0]], [...s[k].lLoad, l[1]]];
      });
    }
    return objs.map((o, k) => ({
      name: o.name,
      coldRepeats: colds[k].repeats,
      insns: openObject(o.bytes).spec.programs.reduce((n, p) => n + p.insns.length, 0),
      open: median(s[k].open),
      load: median(s[k].load),
      loadNoVerify: median(s[k].noVerify),
      loadLazy: median(s[k].lazy),
      loadCached: median(s[k].cached),
      ...(s[k].skip ? { libbpfSkip: s[k].skip } : { libbpfOpen: median(s[k].lOpen), libbpfLoad: median(s[k].lLoad) }),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number | undefined): string => (x === undefined ? '-' : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));

function format(rows: Row[], args: Args): string {
  const head = ['object', 'insns', 'tsbpf open', 'tsbpf open+load', 'tsbpf open+load (verify: false)', 'tsbpf (verify: false, lazy Wasm)',
    'tsbpf new runtime (verify: false, JIT cache hit)', 'libbpf open', 'libbpf open+load', 'tsbpf/libbpf', 'tsbpf/libbpf (verify: false)'];
  const lines = rows.map((r) => [r.name, String(r.insns), ms(r.open), ms(r.load), ms(r.loadNoVerify), ms(r.loadLazy), ms(r.loadCached), ms(r.libbpfOpen), ms(r.libbpfLoad),
    r.libbpfLoad ? `${(r.load / r.libbpfLoad).toFixed(2)}x` : '-', r.libbpfLoad ? `${(r.loadNoVerify / r.libbpfLoad).toFixed(2)}x` : '-']);
  const warn = rows.filter((r) => r.coldRepeats).map((r) => `warning: ${r.coldRepeats} cold loads of ${r.name} repeated earlier code (JIT cache hits)\n`).join('');
  const skips = warn + rows.filter((r) => r.libbpfSkip).map((r) => `libbpf skipped for ${r.name}: ${r.libbpfSkip}\n`).join('');
  return `Loader: open + load, median ms of ${args.passes} passes x ${args.runs} runs (libbpf: median of per-pass medians)\n\n` +
    `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${lines.map((l) => `| ${l.join(' | ')} |`).join('\n')}\n${skips}`;
}

const args = parseArgs(process.argv.slice(2));
lazyWasm(false);
const rows = measure(args);
process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : format(rows, args));
