/**
 * bench:switch: switch throughput on one core, 64-byte frames, in-memory ports. Two ports in
 * loopback (frames leaving port p are received again on port p, moved ring to ring in blocks),
 * so every measured frame is one program run plus one forward. Modes: the JavaScript loop
 * (LoadedProgram.run per frame, JIT checked), the WebAssembly loop (JIT checked and trusted);
 * beside them the kernel's BPF_PROG_TEST_RUN rate on the same XDP object (the VALE-BPF program
 * is compared with its XDP twin). Usage: node dist/bench/switch.js [--json] [--quick]
 * [--prog OBJ [--section S] [--kind xdp|vale]]
 */
import { readFileSync } from 'node:fs';
import { parseObject } from '../src/core/elf/index.js';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { encode } from '../src/core/isa/index.js';
import { jit } from '../src/core/jit/index.js';
import { kernelAvailable, kernelTestRun } from '../src/node/kernel/index.js';
import { Switch, type SwitchOptions } from '../src/switch/dataplane/switch.js';
import { buildUdpFrame } from '../src/switch/dataplane/frames.js';
import { programFromObject, type ProgKind, type SwitchProgram } from '../src/switch/program.js';
import { median } from './measure.js';
import { MultiSwitch } from '../src/switch/workers/multi.js';
import { makeTemplates } from '../src/switch/dataplane/pktgen.js';
import { kernelMapRate, mapSwitch } from './switch-maps.js';

const { values: args } = parseArgs({
  options: { json: { type: 'boolean' }, quick: { type: 'boolean' }, prog: { type: 'string' }, section: { type: 'string' },
    kind: { type: 'string' }, workers: { type: 'string' }, 'workers-only': { type: 'boolean' } },
});
const TRIALS = args.quick ? 3 : 7;
const FRAME = buildUdpFrame({ dstMac: Uint8Array.of(2, 0, 0, 0, 0, 2), srcMac: Uint8Array.of(2, 0, 0, 0, 0, 1),
  srcIp: 0x0a000001, dstIp: 0x0a000002, srcPort: 1234, dstPort: 4321, size: 64 });
/** REVERSE is FRAME's answer (MACs, addresses and ports swapped): what port 1 receives. */
const REVERSE = buildUdpFrame({ dstMac: Uint8Array.of(2, 0, 0, 0, 0, 1), srcMac: Uint8Array.of(2, 0, 0, 0, 0, 2),
  srcIp: 0x0a000002, dstIp: 0x0a000001, srcPort: 4321, dstPort: 1234, size: 64 });

/** Case is one program; `object` is set for programs with maps (loaded with their runtime per measurement). */
interface Case { name: string; prog: SwitchProgram; kernelTwin: SwitchProgram | null; object?: Uint8Array }
interface Mode { name: string; opts: Partial<SwitchOptions> }

const MODES: Mode[] = [
  { name: 'js loop, jit checked', opts: { dataplane: 'js', checked: true } },
  { name: 'wasm loop, jit checked', opts: { dataplane: 'wasm', checked: true } },
  { name: 'wasm loop, jit trusted', opts: { dataplane: 'wasm', checked: false } },
];

function load(file: string, sel: { section?: string; kind?: ProgKind } = {}): SwitchProgram {
  return programFromObject(new Uint8Array(readFileSync(file)), sel);
}

function cases(): Case[] {
  if (args.prog) {
    const object = new Uint8Array(readFileSync(args.prog));
    if (parseObject(object).programs.some((p) => p.relocations.length > 0)) {
      return [{ name: args.prog, prog: { kind: 'xdp', name: args.prog, insns: [] }, kernelTwin: null, object }];
    }
    const prog = load(args.prog, { section: args.section, kind: args.kind as ProgKind | undefined });
    return [{ name: prog.name, prog, kernelTwin: prog.kind === 'xdp' ? prog : null }];
  }
  const ex = (n: string) => load(join('examples', 'switch', `${n}.o`));
  const xdp = ex('xdp_nologic');
  return [
    { name: 'vale_nologic', prog: ex('vale_nologic'), kernelTwin: xdp },
    { name: 'xdp_nologic', prog: xdp, kernelTwin: xdp },
    { name: 'xdp_l2_static', prog: ex('xdp_l2_static'), kernelTwin: ex('xdp_l2_static') },
    ...['learning_bridge', 'flow_counter', 'acl_firewall', 'l4_lb'].map((n) => {
      const object = new Uint8Array(readFileSync(join('examples', 'switch', `${n}.o`)));
      return { name: n, prog: { kind: 'xdp' as const, name: n, insns: [] }, kernelTwin: null, object };
    }),
  ];
}

/**
 * measureSwitch returns the median Mpps of a case in a two-port switch whose ports are
 * cross-connected (frames leaving port p are received on port p ^ 1, so a bridge keeps seeing
 * each host on its own port): port 0 starts with FRAME, port 1 with its REVERSE.
 */
function measureSwitch(c: Case, mode: Mode): { wall: number; cpu: number } {
  const base = { engine: jit, frames: 2048, ringSize: 1024, batch: 256, ...mode.opts };
  let sw: Switch;
  if (c.object) sw = mapSwitch(c.name, c.object, base);
  else {
    sw = new Switch({ ports: 2, ...base });
    sw.attach(c.prog);
  }
  const prog = c.prog;
  for (let k = 0; k < 512; k++) {
    sw.receive(0, FRAME);
    sw.receive(1, REVERSE);
  }
  const spin = (ms: number): { frames: number; ms: number; cpuMs: number } => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let frames = 0, now = t0;
    while (now - t0 < ms) {
      for (let i = 0; i < 64; i++) {
        frames += sw.step();
        sw.ports[0].tx.moveTo(sw.ports[1].rx);
        sw.ports[1].tx.moveTo(sw.ports[0].rx);
      }
      now = performance.now();
    }
    const c = process.cpuUsage(c0);
    return { frames, ms: now - t0, cpuMs: (c.user + c.system) / 1000 };
  };
  spin(args.quick ? 150 : 400);
  const wall: number[] = [], cpu: number[] = [];
  for (let t = 0; t < TRIALS; t++) {
    const r = spin(args.quick ? 100 : 250);
    wall.push(r.frames / r.ms / 1000);
    cpu.push(r.frames / Math.max(r.cpuMs, 1e-3) / 1000);
  }
  const lost = 1024 - sw.pool.count + sw.pool.available();
  if (lost !== 0 && prog.name.includes('nologic')) throw new Error(`${prog.name}: ${lost} frames left the loop`);
  return { wall: median(wall), cpu: median(cpu) };
}

/** measureKernel returns the kernel's Mpps for one XDP object via BPF_PROG_TEST_RUN, or why not. */
function measureKernel(c: Case): { mpps?: number; ns?: number; reason?: string } {
  const prog = c.kernelTwin;
  const avail = kernelAvailable();
  if (!avail.ok) return { reason: avail.reason };
  if (c.object) {
    const ns = median(Array.from({ length: TRIALS }, () => kernelMapRate(c.name, c.object!, FRAME, 1_000_000)));
    return { mpps: 1000 / ns, ns };
  }
  if (!prog) return { reason: 'not an XDP program' };
  const bytes = encode(prog.insns);
  kernelTestRun(bytes, FRAME, 100_000);
  const ns = median(Array.from({ length: TRIALS }, () => kernelTestRun(bytes, FRAME, 1_000_000).nsPerRun));
  return { mpps: 1000 / ns, ns };
}

/** WorkerCase is a program measured on workers: a program without maps, or an object whose maps the workers share. */
interface WorkerCase { name: string; prog?: SwitchProgram; object?: Uint8Array }

/**
 * measureWorkers returns the aggregate Mpps (wall clock) and the Mpps per CPU-second of each
 * worker of `c` (trusted, Wasm loop) on `n` workers over `trials` trials, each worker
 * recirculating its RSS share of 64 flows between two ports.
 */
async function measureWorkers(c: WorkerCase, n: number, trials: number): Promise<{ wall: number[]; eff: number[] }> {
  const ms = await MultiSwitch.start({ workers: n, ports: 2, prog: c.prog, object: c.object && { bytes: c.object }, mode: 'loop',
    checked: false, templates: makeTemplates({ flows: 64, srcPort: [1000, 1063], size: FRAME.length, srcMacs: 64,
      dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:01:00' }) });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await sleep(args.quick ? 200 : 400);
    const wall: number[] = [], eff: number[] = [];
    for (let t = 0; t < trials; t++) {
      const f0 = ms.processed(), c0 = ms.cpuSeconds(), t0 = performance.now();
      await sleep(args.quick ? 300 : 600);
      const f1 = ms.processed(), c1 = ms.cpuSeconds();
      wall.push((f1.reduce((a, b) => a + b, 0) - f0.reduce((a, b) => a + b, 0)) / (performance.now() - t0) / 1000);
      // frames per CPU-second of each worker, averaged: what each worker does with a core of its own
      const per = f1.map((f, w) => (c1[w] > c0[w] ? (f - f0[w]) / (c1[w] - c0[w]) / 1e6 : 0));
      eff.push(per.reduce((a, b) => a + b, 0) / n);
    }
    return { wall, eff };
  } finally {
    await ms.stop();
  }
}

/** WorkerRow is one program on n workers: medians over interleaved rounds. */
interface WorkerRow { program: string; workers: number; mpps: number; perCpuSecond: number }

/**
 * workersSection measures xdp_nologic and the learning bridge (or --prog) on 1..N workers,
 * interleaved (1, 2, .., N workers, then again) so a change of the machine's load hits every
 * count alike; medians over the rounds.
 */
async function workersSection(): Promise<WorkerRow[]> {
  const max = args.workers ? Number(args.workers) : 2;
  const ex = (n: string) => new Uint8Array(readFileSync(join('examples', 'switch', `${n}.o`)));
  const first = args.prog ? cases()[0] : null;
  const list: WorkerCase[] = first ? [{ name: first.name, prog: first.object ? undefined : first.prog, object: first.object }]
    : [{ name: 'xdp_nologic', prog: load(join('examples', 'switch', 'xdp_nologic.o')) }, { name: 'learning_bridge', object: ex('learning_bridge') }];
  const rounds = args.quick ? 2 : 3, per = args.quick ? 1 : 2;
  const acc = new Map<string, { wall: number[]; eff: number[] }>();
  for (let r = 0; r < rounds; r++) {
    for (const c of list) {
      for (let n = 1; n <= max; n++) {
        const m = await measureWorkers(c, n, per);
        const a = acc.get(`${c.name}/${n}`) ?? { wall: [], eff: [] };
        acc.set(`${c.name}/${n}`, { wall: [...a.wall, ...m.wall], eff: [...a.eff, ...m.eff] });
      }
    }
  }
  return list.flatMap((c) => Array.from({ length: max }, (_, i) => {
    const a = acc.get(`${c.name}/${i + 1}`)!;
    return { program: c.name, workers: i + 1, mpps: median(a.wall), perCpuSecond: median(a.eff) };
  }));
}

/**
 * measureKernelLive runs bench/switch-live.ts in a private namespace (lo = ingress, veth
 * v0 = ifindex 2 = "port 1", its peer v1 dropping with xdp_drop.o) for the kernel's
 * live-frames rates; returns ns per frame by program name, or why not.
 */
function measureKernelLive(names: string[]): Record<string, number | string> {
  const ns = `tsbpf-live-${process.pid}`;
  const sh = (...a: string[]) => execFileSync(a[0], a.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (process.getuid?.() !== 0) return Object.fromEntries(names.map((n) => [n, 'not root']));
  try {
    sh('ip', 'netns', 'add', ns);
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    // the peer is created first and gets the lower ifindex: v0 = 2
    sh('ip', '-n', ns, 'link', 'add', 'v1', 'type', 'veth', 'peer', 'name', 'v0');
    for (const d of ['v0', 'v1']) sh('ip', '-n', ns, 'link', 'set', d, 'up');
    sh('ip', '-n', ns, 'link', 'set', 'dev', 'v1', 'xdp', 'obj', join('examples', 'switch', 'xdp_drop.o'), 'sec', 'xdp');
    const v0 = sh('ip', '-n', ns, '-o', 'link', 'show', 'v0').split(':')[0].trim();
    const script = join(dirname(fileURLToPath(import.meta.url)), 'switch-live.js');
    return JSON.parse(sh('ip', 'netns', 'exec', ns, process.execPath, script, v0, ...names).trim()) as Record<string, number | string>;
  } catch (e) {
    const msg = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n')[0];
    return Object.fromEntries(names.map((n) => [n, msg]));
  } finally {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      // nothing was created
    }
  }
}

async function main(): Promise<void> {
  if (args['workers-only']) return printWorkers(await workersSection());
  const all = cases();
  const live = args.prog ? {} : measureKernelLive(all.map((c) => (c.name === 'vale_nologic' ? 'xdp_nologic' : c.name)));
  const rows = all.map((c) => {
    // results: Mpps per CPU-second of this process (what a dedicated core does; the kernel's
    // test_run duration is in-kernel time too); wall: Mpps by the wall clock on this shared box
    const results: Record<string, number> = {}, wall: Record<string, number> = {};
    for (const m of MODES) {
      const r = measureSwitch(c, m);
      results[m.name] = r.cpu;
      wall[m.name] = r.wall;
    }
    const kernel = measureKernel(c);
    const l = live[c.name === 'vale_nologic' ? 'xdp_nologic' : c.name];
    const kernelLive = typeof l === 'number' ? { mpps: 1000 / l, ns: l } : { reason: l ?? 'not measured' };
    return { program: c.name, kind: c.prog.kind, frameBytes: FRAME.length, results, wall, kernel, kernelLive };
  });
  const workers = await workersSection();
  if (args.json) {
    console.log(JSON.stringify({ node: process.version, trials: TRIALS, workers, rows: rows.map((r) => ({
      ...r, nsPerPacket: Object.fromEntries(Object.entries(r.results).map(([k, v]) => [k, 1000 / v])),
    })) }, null, 2));
    return;
  }
  console.log(`tsbpf switch benchmark: node ${process.version}, one core, ${FRAME.length}-byte frames, 2 in-memory ports, ` +
    `${TRIALS} trials, medians (Mpps = million frames per CPU-second of the process; ns = CPU time per frame; ` +
    `the last tsbpf column is the best mode by the wall clock)`);
  console.log('');
  console.log(`| program | ${MODES.map((m) => `${m.name} Mpps (ns)`).join(' | ')} | best, wall clock Mpps | kernel XDP test_run Mpps (ns) | best/kernel | kernel live frames Mpps (ns) |`);
  console.log(`|---|${MODES.map(() => '---:').join('|')}|---:|---:|---:|---:|`);
  for (const r of rows) {
    const cells = MODES.map((m) => `${r.results[m.name].toFixed(2)} (${(1000 / r.results[m.name]).toFixed(1)})`);
    const best = Math.max(...Object.values(r.results));
    const k = r.kernel.mpps !== undefined ? `${r.kernel.mpps.toFixed(2)} (${r.kernel.ns!.toFixed(1)})` : `- (${r.kernel.reason})`;
    const ratio = r.kernel.mpps !== undefined ? (best / r.kernel.mpps).toFixed(2) : '-';
    const kl = r.kernelLive.mpps !== undefined ? `${r.kernelLive.mpps.toFixed(2)} (${r.kernelLive.ns!.toFixed(0)})` : `- (${r.kernelLive.reason})`;
    console.log(`| ${r.program} | ${cells.join(' | ')} | ${Math.max(...Object.values(r.wall)).toFixed(2)} | ${k} | ${ratio} | ${kl} |`);
  }
  console.log('');
  printWorkers(workers);
}

/** printWorkers prints the workers table (JSON with --json). */
function printWorkers(workers: WorkerRow[]): void {
  if (args.json) {
    console.log(JSON.stringify({ node: process.version, workers }, null, 2));
    return;
  }
  console.log('Workers (worker_threads over one shared memory, RSS over 64 flows, wasm loop trusted, 1 and 2 workers ' +
    'interleaved; the machine\'s other load counts):');
  console.log('');
  console.log('| program | workers | Mpps (aggregate, wall clock) | scaling | Mpps per CPU-second per worker | projected scaling with a core each |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const w of workers) {
    const one = workers.find((x) => x.program === w.program && x.workers === 1)!;
    console.log(`| ${w.program} | ${w.workers} | ${w.mpps.toFixed(2)} | ${(w.mpps / one.mpps).toFixed(2)}x | ${w.perCpuSecond.toFixed(2)} | ` +
      `${((w.workers * w.perCpuSecond) / one.perCpuSecond).toFixed(2)}x |`);
  }
}

await main();
