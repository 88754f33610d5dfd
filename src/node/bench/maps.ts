/**
 * The map benchmark: lookup, update and delete ns/op for array, hash, per-CPU array/hash,
 * LRU hash and LPM trie maps with 4/8 and 16/64-byte keys/values (LPM: IPv4 and IPv6 keys)
 * and 65,536 entries, tsbpf side by side with the kernel in one run:
 *   place "user":    tsbpf's command API (mapLookupElem ...) vs bpf() syscalls;
 *   place "program": a program looping over map operations, run by our JIT (trusted mode,
 *                    as the kernel's verified programs) vs the same program under
 *                    BPF_PROG_TEST_RUN.
 * Every figure is the median of several passes. Used by `npm run bench:maps` and
 * `tsbpf bench maps [--json]`.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import * as cmd from '../../core/runtime/commands.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { type JitProgram, loadJit } from '../../core/jit/index.js';
import { resolveMapReferences } from '../../core/runtime/resolve.js';
import { encode } from '../../core/isa/instruction.js';
import type { Program } from '../../core/isa/instruction.js';
import {
  BPF_F_NO_PREALLOC, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, isArrayType, isPerCpu, round8,
} from '../../core/maps/layout.js';
import { kernelAvailable } from '../kernel/available.js';
import * as k from '../kernel/bpf-syscall.js';
import { LOOP, type KeyShape, mapLoopProgram } from './maps-programs.js';

/** ENTRIES is the number of keys (and max_entries) of every benchmarked map. */
export const ENTRIES = 65536;

/** MapBenchRow is one measured line: ns per operation, tsbpf and kernel (null: not measured). */
export interface MapBenchRow {
  map: string;
  keySize: number;
  valueSize: number;
  op: 'lookup' | 'update' | 'delete';
  place: 'user' | 'program';
  tsbpf: number;
  kernel: number | null;
}

/** MapBenchResult is a whole run. */
export interface MapBenchResult {
  /** 'available' or why the kernel columns are empty */
  kernel: string;
  entries: number;
  passes: number;
  rows: MapBenchRow[];
}

/** MapBenchOptions narrow a run. */
export interface MapBenchOptions {
  places?: Array<'user' | 'program'>;
  /** map type names to run (default all) */
  maps?: string[];
  /** timing passes per figure (median; default 5) */
  passes?: number;
}

/** MAP_TYPES are the benchmarked map types by name. */
export const MAP_TYPES: Record<string, number> = {
  array: BPF_MAP_TYPE_ARRAY, hash: BPF_MAP_TYPE_HASH, percpu_array: BPF_MAP_TYPE_PERCPU_ARRAY,
  percpu_hash: BPF_MAP_TYPE_PERCPU_HASH, lru_hash: BPF_MAP_TYPE_LRU_HASH, lpm_trie: BPF_MAP_TYPE_LPM_TRIE,
};

interface Case { name: string; type: number; shape: KeyShape; flags: number }

function cases(names: string[]): Case[] {
  const out: Case[] = [];
  for (const name of names) {
    const type = MAP_TYPES[name];
    for (const [ks, vs] of [[4, 8], [16, 64]]) {
      const lpm = type === BPF_MAP_TYPE_LPM_TRIE;
      // arrays: u32 keys; LPM: IPv4 (4 + 4) and IPv6 (4 + 16) keys
      const keySize = isArrayType(type) ? 4 : lpm ? (ks === 4 ? 8 : 20) : ks;
      out.push({ name, type, shape: { keySize, valueSize: vs, lpm }, flags: lpm ? BPF_F_NO_PREALLOC : 0 });
    }
  }
  return out;
}

/** possibleCpus is the kernel's num_possible_cpus() (per-CPU value size from user space). */
export function possibleCpus(): number {
  try {
    const t = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    return Math.max(...t.split(',').map((r) => Number(r.split('-').pop())) ) + 1;
  } catch {
    return cpus().length;
  }
}

function keysFor(s: KeyShape): Uint8Array[] {
  return [...Array(ENTRIES).keys()].map((i) => {
    const b = new Uint8Array(s.keySize);
    const dv = new DataView(b.buffer);
    if (s.lpm) {
      dv.setUint32(0, 8 * (s.keySize - 4), true);
      dv.setUint32(s.keySize - 4, i, false);
    } else dv.setUint32(0, i, true);
    return b;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function nsPer(fn: () => void, ops: number): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / ops;
}

interface UserOps {
  update(key: Uint8Array, v: Uint8Array): void;
  lookup(key: Uint8Array): unknown;
  del(key: Uint8Array): void;
}

/**
 * userPasses: for each of `sides` (tsbpf, kernel), fill, then time lookups, overwrites and
 * deletes of all keys in a scattered order; the sides alternate within each pass so both see
 * the same machine load. Medians over `passes`.
 */
function userPasses(sides: UserOps[], keys: Uint8Array[], value: Uint8Array, canDelete: boolean, passes: number): Array<Record<string, number>> {
  const order = keys.map((_, i) => keys[(i * 40503) % ENTRIES]);
  const t = sides.map(() => ({ lookup: [] as number[], update: [] as number[], delete: [] as number[] }));
  for (let p = 0; p < passes; p++) {
    sides.forEach((ops, j) => {
      for (const key of keys) ops.update(key, value);
      t[j].lookup.push(nsPer(() => { for (const key of order) ops.lookup(key); }, ENTRIES));
      t[j].update.push(nsPer(() => { for (const key of order) ops.update(key, value); }, ENTRIES));
      if (canDelete) t[j].delete.push(nsPer(() => { for (const key of order) ops.del(key); }, ENTRIES));
    });
  }
  return t.map((x) => medians(x, canDelete));
}

function medians(x: Record<'lookup' | 'update' | 'delete', number[]>, canDelete: boolean): Record<string, number> {
  const out: Record<string, number> = { lookup: median(x.lookup), update: median(x.update) };
  if (canDelete) out.delete = median(x.delete);
  return out;
}

type ProgRunner = (prog: Program, runs: number) => number;

/**
 * programPasses times the loop programs (ns per map operation) for each runner, alternating;
 * delete = (delete + update) - update of the same pass.
 */
function programPasses(runners: ProgRunner[], fd: number, s: KeyShape, canDelete: boolean, passes: number): Array<Record<string, number>> {
  const progs = {
    lookup: mapLoopProgram(fd, s, 'lookup'), update: mapLoopProgram(fd, s, 'update'),
    delupd: mapLoopProgram(fd, s, 'delupd'),
  };
  const t = runners.map(() => ({ lookup: [] as number[], update: [] as number[], delete: [] as number[] }));
  const runs = 64;
  for (let p = 0; p < passes; p++) {
    runners.forEach((run, j) => {
      t[j].lookup.push(run(progs.lookup, runs));
      const upd = run(progs.update, runs);
      t[j].update.push(upd);
      if (canDelete) t[j].delete.push(Math.max(0, run(progs.delupd, runs) - upd));
    });
  }
  return t.map((x) => medians(x, canDelete));
}

/**
 * cpuNsPer is nsPer in process CPU time (user + system). BPF_PROG_TEST_RUN's duration leaves
 * out the time its loop spends rescheduled (it runs with preemption off and stops its timer
 * around cond_resched), so on a loaded machine wall time would charge only our side for the
 * other jobs.
 */
function cpuNsPer(fn: () => void, ops: number): number {
  const c0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(c0);
  return ((d.user + d.system) * 1000) / ops;
}

/**
 * A program is warmed up (WARM_RUNS runs, at most WARM_MS) before it is timed, so V8 has
 * optimised it, as the kernel's program is native code from the start (docs/jit.md, tier-up).
 */
const WARM_RUNS = 1024, WARM_MS = 200;

/** MIN_TIMED_NS: our side repeats a program at least this long per figure, so a stray GC or interrupt weighs little. */
const MIN_TIMED_NS = 2e6;

/**
 * oursRunner runs a program inside WebAssembly (JitProgram.repeat, like the kernel's test-run
 * repeat loop) after a warm-up, `runs` times or more when that would take under MIN_TIMED_NS.
 */
function oursRunner(rt: Runtime): ProgRunner {
  const cache = new Map<Program, { p: JitProgram; n: number }>();
  const opts = rt.runOptions();
  return (prog, runs) => {
    let l = cache.get(prog);
    if (!l) {
      const p = loadJit(resolveMapReferences(prog, rt), rt.context(0), { checked: false });
      const t0 = performance.now();
      let k = 0;
      for (; k < WARM_RUNS && performance.now() - t0 < WARM_MS; k += 16) p.repeat(16, opts);
      const perRun = ((performance.now() - t0) * 1e6) / k;
      l = { p, n: Math.min(64 * runs, Math.max(runs, Math.ceil(MIN_TIMED_NS / perRun))) };
      cache.set(prog, l);
    }
    const { p, n } = l;
    return cpuNsPer(() => p.repeat(n, opts), n * LOOP);
  };
}

function kernelRunner(kfd: number, ourFd: number): ProgRunner {
  const data = new Uint8Array(64);
  return (prog, runs) => {
    // the programs name our fd: the kernel's copy names the kernel map
    const insns = prog.map((i) => (i.code === 0x18 && i.src === 1 && i.imm === ourFd ? { ...i, imm: kfd } : i));
    const { fd } = k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: encode(insns, true), name: 'tsbpf_bench' });
    try {
      return k.progTestRun(fd, { dataIn: data, repeat: runs }).duration / LOOP;
    } finally {
      k.closeFd(fd);
    }
  };
}

function measureCase(c: Case, places: Array<'user' | 'program'>, kernelOk: boolean, ncpus: number, passes: number): MapBenchRow[] {
  const { shape: s } = c;
  const attr = { mapType: c.type, keySize: s.keySize, valueSize: s.valueSize, maxEntries: ENTRIES, mapFlags: c.flags };
  const uvs = isPerCpu(c.type) ? round8(s.valueSize) * ncpus : s.valueSize;
  const value = new Uint8Array(uvs).fill(7);
  const keys = keysFor(s);
  const canDelete = !isArrayType(c.type);
  const rows: MapBenchRow[] = [];
  const push = (place: 'user' | 'program', ours: Record<string, number>, kern?: Record<string, number>): void => {
    for (const op of Object.keys(ours) as Array<MapBenchRow['op']>) {
      rows.push({ map: c.name, keySize: s.keySize, valueSize: s.valueSize, op, place, tsbpf: ours[op], kernel: kern?.[op] ?? null });
    }
  };
  const rt = new Runtime({ cpus: ncpus, initialBytes: 64 << 20 });
  const fd = cmd.mapCreate(rt, attr);
  const kfd = kernelOk ? k.mapCreate(attr) : -1;
  try {
    const ourOps: UserOps = {
      update: (key, v) => cmd.mapUpdateElem(rt, fd, key, v),
      lookup: (key) => cmd.mapLookupElem(rt, fd, key),
      del: (key) => cmd.mapDeleteElem(rt, fd, key),
    };
    const kOps: UserOps = {
      update: (key, v) => k.mapUpdate(kfd, key, v),
      lookup: (key) => k.mapLookup(kfd, key, uvs),
      del: (key) => k.mapDelete(kfd, key),
    };
    if (places.includes('user')) {
      const [ours, kern] = userPasses(kernelOk ? [ourOps, kOps] : [ourOps], keys, value, canDelete, passes);
      push('user', ours, kern);
    }
    if (places.includes('program')) {
      for (const key of keys) ourOps.update(key, value);
      if (kernelOk) for (const key of keys) kOps.update(key, value);
      const runners = kernelOk ? [oursRunner(rt), kernelRunner(kfd, fd)] : [oursRunner(rt)];
      const [ours, kern] = programPasses(runners, fd, s, canDelete, passes);
      push('program', ours, kern);
    }
  } finally {
    if (kfd >= 0) k.closeFd(kfd);
  }
  return rows;
}

/** runMapBench measures every row. */
export function runMapBench(o: MapBenchOptions = {}): MapBenchResult {
  const avail = kernelAvailable();
  const places = o.places ?? ['user', 'program'];
  const passes = o.passes ?? 5;
  const ncpus = possibleCpus();
  const rows: MapBenchRow[] = [];
  for (const c of cases(o.maps ?? Object.keys(MAP_TYPES))) rows.push(...measureCase(c, places, avail.ok, ncpus, passes));
  return { kernel: avail.ok ? 'available' : avail.reason, entries: ENTRIES, passes, rows };
}

/** formatMapBench renders a result as a table (speed-up = kernel ns / tsbpf ns = QPS ratio). */
export function formatMapBench(r: MapBenchResult): string {
  const lines = [];
  if (r.kernel !== 'available') lines.push(`kernel: ${r.kernel}`);
  lines.push(`${r.entries} entries, median of ${r.passes} passes; speed-up = tsbpf QPS / kernel QPS`);
  lines.push('map           key/value  op      place    tsbpf ns/op  kernel ns/op  speed-up');
  for (const x of r.rows) {
    const sp = x.kernel ? `${(x.kernel / x.tsbpf).toFixed(2)}x` : '-';
    lines.push(`${x.map.padEnd(13)} ${`${x.keySize}/${x.valueSize}`.padEnd(10)} ${x.op.padEnd(7)} ${x.place.padEnd(8)} `
      + `${x.tsbpf.toFixed(1).padStart(11)}  ${(x.kernel?.toFixed(1) ?? '-').padStart(12)}  ${sp.padStart(8)}`);
  }
  return `${lines.join('\n')}\n`;
}
