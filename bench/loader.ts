/**
 * Loader benchmark (`npm run bench:loader`): open + load of a clang-compiled object in tsbpf
 * (parse, relocate, create maps, verify, JIT to WebAssembly) against libbpf's
 * bpf_object__open_mem + bpf_object__load (which includes the kernel's verifier and JIT) for the
 * same object, in one run. tsbpf is measured with its verifier (and the verifier's share of
 * each load, timed around the verifier hook), and without it (`verify: false`: programs then
 * run checked, so their code is larger).
 *
 * Loads go into a runtime that exists before them, as libbpf's go into the running kernel: one
 * runtime per pass and object (its creation, a 16 MiB WebAssembly.Memory, is reported apart).
 * The JIT caches compiled modules by program bytes; a load into a runtime that already holds
 * the object's earlier loads puts its maps at new addresses, so its relocated code is new and
 * compiles, as the kernel JITs every load (the bench hashes the code and warns about
 * repeats). The "cache hit" column loads into a new runtime each time instead, where the
 * maps land where they did before and the compiled module is reused.
 * V8 compiles Wasm functions lazily (on first call) by default; the main columns turn that off
 * (--no-wasm-lazy-compilation) so load includes compiling all the code, as the kernel's JIT does
 * at load, and one column shows V8's default, where the first run pays for compilation instead.
 *
 *   node dist/bench/loader.js [--runs N] [--passes P] [--json] [--best]
 *
 * --best reports each column's fastest cycle (the least disturbed one on a shared machine,
 * as bench/measure.ts's --best), for both sides, instead of medians.
 *
 * Each pass times N open+load cycles of every object in each configuration (after a warm-up
 * pass) and runs the libbpf harness (bench/loader/libbpf_open_load.c, compiled with
 * `cc ... -lbpf`) for N cycles; passes interleave the two sides so machine noise hits both,
 * and the figures are medians. The libbpf column is skipped, with the reason, when the harness
 * cannot be built or bpf() is not allowed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import { openObject, loadObject } from '../src/core/runtime/index.js';
import { Runtime } from '../src/core/runtime/runtime.js';
import { median } from './measure.js';
import type { Collection } from '../src/core/runtime/object-collection.js';
import { encode } from '../src/core/isa/instruction.js';
import { verifierHook, type VerifyHook } from '../src/core/runtime/object-prepare.js';
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
  /** the verifier's share of `load` */
  verifier: number;
  /** open + load minus the verifier's time, per cycle (the loader's and the JIT's part of `load`) */
  loadLessVerifier: number;
  /** open + load, verify: false (programs run checked: larger code), JIT compiling */
  loadNoVerify: number;
  /** open + load, verify: false, JIT compiling, V8 compiling Wasm functions lazily */
  loadLazy: number;
  /** open + load, verify: false, compiled module from the JIT's cache */
  loadCached: number;
  /** new Runtime() (the address space; not part of any load figure) */
  newRuntime: number;
  libbpfOpen?: number;
  libbpfLoad?: number;
  libbpfSkip?: string;
}

interface Args { runs: number; passes: number; json: boolean; best: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 15, passes: 3, json: false, best: false };
  for (let i = 0; i < argv.length; i++) {
    const n = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`${argv[i - 1]} needs a positive integer`);
      return v;
    };
    if (argv[i] === '--runs') a.runs = n();
    else if (argv[i] === '--passes') a.passes = n();
    else if (argv[i] === '--json') a.json = true;
    else if (argv[i] === '--best') a.best = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return a;
}

/**
 * Cold tracks that cold loads miss the JIT's cache: a cold load goes into a runtime shared by
 * the pass's cold loads of one object (as libbpf's loads all go into the one kernel), whose
 * earlier loads' maps still exist, so its maps sit at new addresses and its relocated code,
 * the cache key, is new. `seen` holds a hash of every cold load's code; `repeats` counts
 * loads that were not new.
 */
interface Cold { seen: Set<string>; repeats: number }

const cold = (): Cold => ({ seen: new Set(), repeats: 0 });

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

/** Cycle is one open+load: open ms, open+load ms, and the verifier's share of the load. */
interface Cycle { open: number; load: number; verifier: number }

/** timedVerifier is the default verifier hook, timed (its ms added to `acc.ms`). */
function timedVerifier(acc: { ms: number }): VerifyHook {
  const hook = verifierHook();
  return (insns, prog, rt) => {
    const t = performance.now();
    try {
      return hook(insns, prog, rt);
    } finally {
      acc.ms += performance.now() - t;
    }
  };
}

/**
 * tsbpfCycle opens and loads `bytes` into `rt` and closes the collection. With `c`, the load
 * must miss the JIT cache (see Cold).
 */
function tsbpfCycle(rt: Runtime, bytes: Uint8Array, verify: boolean, c?: Cold): Cycle {
  const acc = { ms: 0 };
  const t0 = performance.now();
  const o = openObject(bytes);
  const t1 = performance.now();
  const coll = loadObject(rt, o.spec, { btfBytes: o.btfBytes, verify: verify ? timedVerifier(acc) : false });
  const t2 = performance.now();
  if (c) {
    const key = codeHash(coll);
    if (c.seen.has(key)) c.repeats++;
    c.seen.add(key);
  }
  coll.close();
  return { open: t1 - t0, load: t2 - t0, verifier: acc.ms };
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

/** libbpfRun returns [open ms, open+load ms] of `runs` cycles (medians, or the fastest with `best`), or a reason. */
function libbpfRun(h: Harness, path: string, runs: number, best: boolean): [number, number] | string {
  if ('skip' in h) return h.skip;
  const r = spawnSync(h.path, [path, String(runs)], { encoding: 'utf8' });
  if (r.error) return `harness failed: ${r.error.message}`;
  if (r.status !== 0) return `bpf_object__load failed (bpf() not allowed?): ${r.stderr.trim()}`;
  const m = /open_load_ns (\d+) open_ns (\d+).* min_open_load_ns (\d+) min_open_ns (\d+)/.exec(r.stdout);
  if (!m) return `unexpected harness output: ${r.stdout.trim()}`;
  return best ? [Number(m[4]) / 1e6, Number(m[3]) / 1e6] : [Number(m[2]) / 1e6, Number(m[1]) / 1e6];
}

/** Samples collects one object's per-cycle figures. */
class Samples {
  open: number[] = [];
  load: number[] = [];
  verifier: number[] = [];
  lessVerifier: number[] = [];
  noVerify: number[] = [];
  lazy: number[] = [];
  cached: number[] = [];
  newRuntime: number[] = [];
  lOpen: number[] = [];
  lLoad: number[] = [];
  skip = '';
}

/**
 * pass runs one pass of `runs` cycles of each configuration for one object. Its cold loads
 * share one runtime (creating it is timed on its own), in which a spacer map of `4 KiB * n`
 * is created first, so that pass `n`'s loads land at addresses no other pass uses.
 */
function pass(bytes: Uint8Array, runs: number, s: Samples, c: Cold, n: number): void {
  const t = performance.now();
  const rt = new Runtime();
  s.newRuntime.push(performance.now() - t);
  mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4096 * (n + 1), maxEntries: 1 });
  for (let i = 0; i < runs; i++) {
    const v = tsbpfCycle(rt, bytes, true, c);
    s.open.push(v.open);
    s.load.push(v.load);
    s.verifier.push(v.verifier);
    s.lessVerifier.push(v.load - v.verifier);
    s.noVerify.push(tsbpfCycle(rt, bytes, false, c).load);
    lazyWasm(true);
    s.lazy.push(tsbpfCycle(rt, bytes, false, c).load);
    lazyWasm(false);
    // a new runtime has the maps where the first load into one put them: the code is in the
    // cache (1 MiB to start with, growing on demand, so that a new memory per load puts less
    // external-memory pressure on the GC than the default 16 MiB)
    s.cached.push(tsbpfCycle(new Runtime({ initialBytes: 1 << 20 }), bytes, false).load);
  }
}

function measure(args: Args): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-loader-'));
  try {
    const harness = buildHarness(dir);
    const objs = OBJECTS.map((o) => ({ ...o, bytes: new Uint8Array(readFileSync(o.path)) }));
    const s = objs.map(() => new Samples());
    // warm-up: V8 tiers up the parser, verifier and JIT code paths (cold loads: codegen runs)
    for (const o of objs) pass(o.bytes, 5, new Samples(), cold(), 0);
    const colds = objs.map(() => cold());
    for (let p = 0; p < args.passes; p++) {
      objs.forEach((o, k) => {
        pass(o.bytes, args.runs, s[k], colds[k], p + 1);
        const l = libbpfRun(harness, o.path, args.runs, args.best);
        if (typeof l === 'string') s[k].skip = l;
        else {
          s[k].lOpen.push(l[0]);
          s[k].lLoad.push(l[1]);
        }
      });
    }
    const stat = args.best ? (xs: number[]) => Math.min(...xs) : median;
    return objs.map((o, k) => ({
      name: o.name,
      coldRepeats: colds[k].repeats,
      insns: openObject(o.bytes).spec.programs.reduce((n, p) => n + p.insns.length, 0),
      open: stat(s[k].open),
      load: stat(s[k].load),
      verifier: stat(s[k].verifier),
      loadLessVerifier: stat(s[k].lessVerifier),
      loadNoVerify: stat(s[k].noVerify),
      loadLazy: stat(s[k].lazy),
      loadCached: stat(s[k].cached),
      newRuntime: stat(s[k].newRuntime),
      ...(s[k].skip ? { libbpfSkip: s[k].skip } : { libbpfOpen: stat(s[k].lOpen), libbpfLoad: stat(s[k].lLoad) }),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number | undefined): string => (x === undefined ? '-' : x < 1 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(0));

const ratio = (x: number, y: number | undefined): string => (y ? `${(x / y).toFixed(2)}x` : '-');

function format(rows: Row[], args: Args): string {
  const head = ['object', 'insns', 'tsbpf open', 'tsbpf open+load', 'of which verifier', 'tsbpf open+load less verifier',
    'tsbpf open+load (verify: false)', 'tsbpf (verify: false, lazy Wasm)', 'tsbpf repeat load (JIT cache hit, verify: false)',
    'libbpf open', 'libbpf open+load', 'tsbpf/libbpf', 'tsbpf less verifier/libbpf', 'tsbpf/libbpf (verify: false)'];
  const lines = rows.map((r) => [r.name, String(r.insns), ms(r.open), ms(r.load), ms(r.verifier), ms(r.loadLessVerifier), ms(r.loadNoVerify),
    ms(r.loadLazy), ms(r.loadCached), ms(r.libbpfOpen), ms(r.libbpfLoad),
    ratio(r.load, r.libbpfLoad), ratio(r.loadLessVerifier, r.libbpfLoad), ratio(r.loadNoVerify, r.libbpfLoad)]);
  const warn = rows.filter((r) => r.coldRepeats).map((r) => `warning: ${r.coldRepeats} cold loads of ${r.name} repeated earlier code (JIT cache hits)\n`).join('');
  const skips = warn + rows.filter((r) => r.libbpfSkip).map((r) => `libbpf skipped for ${r.name}: ${r.libbpfSkip}\n`).join('');
  const rts = `new Runtime() (not in any column): ${rows.map((r) => ms(r.newRuntime)).join(' / ')} ms\n`;
  const what = args.best ? 'fastest cycle (ms)' : 'median ms';
  return `Loader: open + load, ${what} of ${args.passes} passes x ${args.runs} runs (libbpf: ${args.best ? 'fastest' : 'median'} of per-pass ${args.best ? 'fastest' : 'medians'})\n\n` +
    `| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${lines.map((l) => `| ${l.join(' | ')} |`).join('\n')}\n${rts}${skips}`;
}

const args = parseArgs(process.argv.slice(2));
lazyWasm(false);
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const before = load();
const rows = measure(args);
const machine = `load average ${before} (start), ${load()} (end)`;
process.stdout.write(args.json ? `${JSON.stringify({ machine, rows }, null, 2)}\n` : `${format(rows, args)}${machine}\n`);
