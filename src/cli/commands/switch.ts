/**
 * `tsbpf switch`: run a switch over ports named on the command line with a program (a
 * clang-compiled XDP or VALE-BPF object, or assembly), then print per-port statistics.
 * pcap ports (`in=FILE`, `out=FILE`, both, or `null`) run until every input is consumed.
 * Live ports (`tap=NAME`, `vxlan=SPEC`, `gen[=FLOWS]`, `mem`) or `--control PATH` run until
 * SIGINT/SIGTERM or `--duration`. `tsbpf switch stats|swap|maps --control PATH` talk to a
 * running switch.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { MultiSwitch } from '../../switch/workers/multi.js';
import { Switch } from '../../switch/dataplane/switch.js';
import { loadSwitchProgram, loadWorkerProgram, type LoadedSwitchProgram } from '../../switch/load.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { dumpMaps, fillDevmaps, switchObject } from '../../switch/objects.js';
import { programFromAsm, programFromObject } from '../../switch/program.js';
import { PcapSink, pcapFrames } from '../../switch/ports/pcap.js';
import { formatStats, formatStatsRows, type StatsRow } from '../../switch/stats-format.js';
import { readFileSync } from 'node:fs';
import { ControlServer, controlRequest, type MapDump } from '../../switch/control.js';
import { formatMaps } from './switch-maps.js';
import { LiveSwitch, type LiveLoop } from '../../switch/live.js';
import { MultiLive } from '../../switch/workers/live-multi.js';
import type { Collection } from '../../core/runtime/object-collection.js';
import { PcapCaptureFile, parseCaptureSpec } from '../../node/pcap/capture.js';
import { makeTemplates } from '../../switch/dataplane/pktgen.js';
import type { TraceEvent } from '../../switch/dataplane/dispatch.js';
import type { ProgKind } from '../../switch/program.js';
import type { PortDriver } from '../../switch/ports/driver.js';
import { MemPort } from '../../switch/ports/mem.js';
import { TapPort } from '../../switch/ports/tap.js';
import { parseVxlanSpec, VxlanPort } from '../../switch/ports/vxlan.js';
import { loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: tsbpf switch --port SPEC [--port SPEC ...] [--prog FILE [--section S] [--name N] [--kind xdp|vale]]
                    [--engine jit|interp] [--dataplane wasm|js] [--unchecked] [--batch N] [--json]
                    [--control PATH] [--duration SEC] [--workers N] [--capture PORT:EXPR:FILE ...]
       tsbpf switch stats --control PATH [--json]
       tsbpf switch swap --control PATH --prog FILE [--section S] [--name N] [--kind xdp|vale]
       tsbpf switch maps --control PATH [--json]
Port SPEC (port i gets ifindex i+1):
  in=FILE,out=FILE | in=FILE | out=FILE | null
       in:  a pcap or pcapng file whose frames are received on the port
       out: a classic pcap file (tcpdump -r reads it) of the frames the port transmits
  tap=NAME                         a TAP device (created if missing; needs CAP_NET_ADMIN)
  vxlan=[LHOST:]LPORT:RHOST:RPORT:VNI   VXLAN (RFC 7348) over UDP, e.g. with a Linux vxlan interface
  gen[=FLOWS]                      in-memory generator of 60-byte UDP frames (and a counting sink)
  mem                              in-memory counting sink
With live ports or --control the switch runs until SIGINT/SIGTERM or --duration seconds.
--workers N spreads the switch over N threads, flows dealt by RSS hash: with gen=FLOWS on port 0 and mem/null
  ports the workers generate and sink themselves; with other ports the main thread does the port I/O.
--capture PORT:EXPR:FILE writes the frames port PORT receives that match the pcap-filter EXPR to FILE.
Without --prog the VALE-BPF no-logic forwarder (port i -> port i^1) runs.
`;

interface PortArg { input?: string; output?: string; tap?: string; vxlan?: string; gen?: number; mem?: boolean }

function isLive(p: PortArg): boolean {
  return p.tap !== undefined || p.vxlan !== undefined || p.gen !== undefined || p.mem === true;
}

function parsePort(spec: string): PortArg {
  if (spec === 'null') return {};
  if (spec === 'mem') return { mem: true };
  if (spec === 'gen' || spec.startsWith('gen=')) {
    const flows = spec === 'gen' ? 1 : Number(spec.slice(4));
    if (!Number.isInteger(flows) || flows < 1) throw new BpfError('EINVAL', `bad port spec "${spec}" (gen=FLOWS)`);
    return { gen: flows };
  }
  if (spec.startsWith('tap=')) return { tap: spec.slice(4) };
  if (spec.startsWith('vxlan=')) return { vxlan: spec.slice(6) };
  const p: PortArg = {};
  for (const part of spec.split(',')) {
    const [k, ...v] = part.split('=');
    const val = v.join('=');
    if (k === 'in' && val) p.input = val;
    else if (k === 'out' && val) p.output = val;
    else throw new BpfError('EINVAL', `bad port spec "${spec}" (expected in=FILE, out=FILE, tap=NAME, vxlan=SPEC, gen, mem or null)`);
  }
  return p;
}

/** switchCommand implements `tsbpf switch`. */
export async function switchCommand(argv: string[], io: CliIo): Promise<number> {
  if (['stats', 'swap', 'maps'].includes(argv[0])) return controlCommand(argv[0], argv.slice(1), io);
  const { values: a } = parseArgs({
    args: argv, options: {
      port: { type: 'string', multiple: true }, prog: { type: 'string' }, section: { type: 'string' }, name: { type: 'string' },
      kind: { type: 'string' }, engine: { type: 'string' }, dataplane: { type: 'string' }, unchecked: { type: 'boolean' },
      batch: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, control: { type: 'string' },
      duration: { type: 'string' }, workers: { type: 'string' }, capture: { type: 'string', multiple: true },
    },
  });
  if (a.help || !a.port?.length) {
    io.stdout(USAGE);
    return a.help ? 0 : 1;
  }
  if (a.dataplane !== undefined && a.dataplane !== 'wasm' && a.dataplane !== 'js') throw new BpfError('EINVAL', '--dataplane must be wasm or js');
  const ports = a.port.map(parsePort);
  if (a.workers !== undefined) return runWorkers(ports, a, io);
  const runtime = new Runtime();
  const prog = loadSwitchProgram(a, runtime);
  const engine = await loadEngine(a.engine);
  const sw = new Switch({ ports: ports.length, engine, checked: !a.unchecked, batch: a.batch ? Number(a.batch) : undefined,
    dataplane: a.dataplane as 'wasm' | 'js' | undefined, runtime });
  sw.attach(prog);
  if (prog.coll) fillDevmaps(prog.coll, sw.ports.map((p) => p.ifindex));
  const captures = openCaptures(sw, a.capture ?? []);
  try {
    return await runSwitch(sw, ports, a, io, prog);
  } finally {
    for (const c of captures) c.close();
  }
}

/** openCaptures attaches one pcap capture file per `--capture PORT:EXPR:FILE`. */
function openCaptures(sw: Switch, specs: string[]): PcapCaptureFile[] {
  const out: PcapCaptureFile[] = [];
  for (const text of specs) {
    const spec = parseCaptureSpec(text);
    if (spec.port >= sw.ports.length) throw new BpfError('EINVAL', `--capture names port ${spec.port}; the switch has ${sw.ports.length}`);
    const cap = new PcapCaptureFile(spec.file, spec.expr);
    sw.captures[spec.port] = cap;
    out.push(cap);
  }
  return out;
}

type SwitchArgs = { control?: string; duration?: string; json?: boolean };

/** runSwitch runs the switch: live ports or a control socket keep it running, pcap inputs are pumped through. */
async function runSwitch(sw: Switch, ports: PortArg[], a: SwitchArgs, io: CliIo, prog: LoadedSwitchProgram): Promise<number> {
  if (a.control || ports.some(isLive)) return runLive(sw, ports, a, io, prog);
  const inputs = ports.map((p) => (p.input ? pcapFrames(p.input) : []));
  const sinks = ports.map((p, i) => (p.output ? new PcapSink(p.output, sw, i) : null));
  pump(sw, inputs, sinks);
  for (const s of sinks) s?.close();
  if (a.json) io.stdout(JSON.stringify({ program: prog.name, kind: prog.kind, ports: sw.stats(), trace: sw.trace }, null, 2) + '\n');
  else io.stdout(`program ${prog.name} (${prog.kind}), ${sw.wasm ? 'wasm' : 'js'} dataplane\n${formatStats(sw)}`);
  return 0;
}

/** pump feeds every input frame through the switch, draining outputs as it goes. */
function pump(sw: Switch, inputs: Uint8Array[][], sinks: Array<PcapSink | null>): void {
  const next = inputs.map(() => 0);
  const drain = () => sinks.forEach((s, i) => (s ? s.drain() : sw.transmit(i, () => {})));
  for (;;) {
    let fed = 0;
    inputs.forEach((frames, p) => {
      const port = sw.ports[p];
      while (next[p] < frames.length && port.rx.free() > 0 && sw.pool.available() > 0) {
        sw.receive(p, frames[next[p]++]);
        fed++;
      }
    });
    const moved = sw.run();
    drain();
    if (fed === 0 && moved === 0 && inputs.every((f, p) => next[p] >= f.length)) break;
  }
}

/** runLive runs the switch with live drivers (and the control socket) until a signal or --duration. */
async function runLive(sw: Switch, ports: PortArg[], a: { control?: string; duration?: string; json?: boolean }, io: CliIo,
  prog: LoadedSwitchProgram): Promise<number> {
  if (ports.some((p) => p.input || p.output)) throw new BpfError('EINVAL', 'pcap ports (in=/out=) cannot be mixed with live ports or --control');
  const duration = a.duration === undefined ? Infinity : Number(a.duration);
  if (!(duration > 0)) throw new BpfError('EINVAL', '--duration must be a positive number of seconds');
  const drivers = await makeDrivers(sw, ports);
  const live = new LiveSwitch(sw, drivers);
  const ctl = a.control ? controlServer(live, a.control, sw.opts.runtime ?? null, prog.coll ?? null, sw.ports.map((p) => p.ifindex)) : null;
  await ctl?.listen();
  live.start();
  io.stderr(`switch running: ${drivers.map((d) => d.label).join(', ')}${ctl ? `; control socket ${a.control}` : ''}\n`);
  await untilStopped(duration);
  await live.stop();
  await ctl?.close();
  if (a.json) io.stdout(JSON.stringify({ program: sw.program?.name, ports: sw.stats(), trace: sw.trace }, null, 2) + '\n');
  else io.stdout(formatStats(sw));
  return 0;
}

/**
 * controlServer serves the control socket for `live`. Objects swapped in load into `runtime`
 * (the switch's; without one, objects with maps are refused), their devmaps filled with the
 * ports; their maps are the ones listed from then on.
 */
function controlServer(live: LiveLoop, path: string, runtime: Runtime | null, coll: Collection | null, ifindexes: number[]): ControlServer {
  return new ControlServer(live, path, {
    load: (req) => {
      if (req.object === undefined) return programFromAsm(req.asm ?? '', req.kind ?? 'xdp', 'asm');
      const bytes = new Uint8Array(Buffer.from(req.object, 'base64'));
      const sel = { section: req.section, name: req.name, kind: req.kind };
      if (!runtime) return programFromObject(bytes, sel);
      const o = switchObject(bytes, sel, { runtime });
      coll = o.coll;
      fillDevmaps(o.coll, ifindexes);
      return o.prog;
    },
    maps: () => (coll ? dumpMaps(coll) : []),
  });
}

/** makeDrivers opens a driver per live port spec (TAP, VXLAN, in-memory generator or sink) on the switch's ports. */
async function makeDrivers(sw: Switch, ports: PortArg[]): Promise<PortDriver[]> {
  const drivers: PortDriver[] = [];
  try {
    for (const [i, p] of ports.entries()) {
      if (p.tap !== undefined) drivers.push(new TapPort(sw, i, p.tap));
      else if (p.vxlan !== undefined) {
        const v = new VxlanPort(sw, i, parseVxlanSpec(p.vxlan));
        await v.bind();
        drivers.push(v);
      } else drivers.push(new MemPort(sw, i, p.gen ? makeTemplates({ flows: p.gen }) : []));
    }
  } catch (e) {
    for (const d of drivers) d.close();
    throw e;
  }
  return drivers;
}

/** untilStopped resolves on SIGINT, SIGTERM or after `seconds` (Infinity: no limit). */
function untilStopped(seconds: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (Number.isFinite(seconds)) setTimeout(done, seconds * 1000).unref();
  });
}

/** controlCommand implements `tsbpf switch stats|swap|maps --control PATH`. */
async function controlCommand(sub: string, argv: string[], io: CliIo): Promise<number> {
  const { values: a } = parseArgs({
    args: argv, options: {
      control: { type: 'string' }, prog: { type: 'string' }, section: { type: 'string' }, name: { type: 'string' },
      kind: { type: 'string' }, json: { type: 'boolean' },
    },
  });
  if (!a.control) throw new BpfError('EINVAL', `tsbpf switch ${sub} needs --control PATH`);
  if (sub === 'swap') {
    if (!a.prog) throw new BpfError('EINVAL', 'tsbpf switch swap needs --prog FILE');
    const bytes = readFileSync(a.prog);
    const isElf = bytes.subarray(0, 4).toString('latin1') === '\x7fELF';
    const kind = a.kind as ProgKind | undefined;
    const res = await controlRequest(a.control, isElf
      ? { cmd: 'swap', object: bytes.toString('base64'), section: a.section, name: a.name, kind }
      : { cmd: 'swap', asm: bytes.toString('utf8'), kind });
    const p = res.program as { name: string; kind: string };
    io.stdout(`swapped in ${p.name} (${p.kind})\n`);
    return 0;
  }
  const res = await controlRequest(a.control, { cmd: sub as 'stats' | 'maps' });
  if (a.json) {
    io.stdout(`${JSON.stringify(res, null, 2)}\n`);
    return 0;
  }
  if (sub === 'stats') {
    const p = res.program as { name: string; kind: string } | null;
    io.stdout(`program ${p ? `${p.name} (${p.kind})` : 'none'}\n${formatStatsRows(res.ports as StatsRow[], res.trace as TraceEvent[])}`);
  } else io.stdout(formatMaps(res.maps as MapDump[]));
  return 0;
}

/**
 * runWorkers runs the switch on N worker threads. A generator on port 0 with sinks elsewhere
 * runs entirely in the workers ('gen' mode); any other ports (TAP, VXLAN, pcap, in-memory) are
 * driven by the main thread, which deals received frames to the workers by RSS hash and sends
 * what they transmit ('io' mode). --control works in both.
 */
async function runWorkers(ports: PortArg[], a: { workers?: string; duration?: string; prog?: string; section?: string; name?: string;
  kind?: string; unchecked?: boolean; dataplane?: string; json?: boolean; control?: string; capture?: string[] }, io: CliIo): Promise<number> {
  const workers = Number(a.workers);
  if (a.capture?.length) throw new BpfError('EINVAL', '--capture is not supported with --workers (the workers own the frames)');
  const genOnly = ports[0]?.gen !== undefined && ports.slice(1).every((p) => p.mem || Object.keys(p).length === 0);
  const pcap = ports.some((p) => p.input || p.output);
  if (pcap && (a.control || ports.some(isLive))) throw new BpfError('EINVAL', 'pcap ports (in=/out=) cannot be mixed with live ports or --control');
  const duration = a.duration === undefined ? (genOnly && !a.control ? 3 : Infinity) : Number(a.duration);
  if (!(duration > 0)) throw new BpfError('EINVAL', '--duration must be a positive number of seconds');
  const { prog, object } = loadWorkerProgram(a);
  const ms = await MultiSwitch.start({ workers, ports: ports.length, prog, mode: genOnly ? 'gen' : 'io', checked: !a.unchecked,
    dataplane: a.dataplane as 'wasm' | 'js' | undefined, object: object && { bytes: object, select: { section: a.section, name: a.name } },
    templates: genOnly ? makeTemplates({ flows: ports[0].gen, srcPort: [1024, 1024 + ports[0].gen! - 1] }) : undefined });
  try {
    if (pcap) await pumpWorkers(ms, ports);
    else await runMultiLive(ms, genOnly ? [] : await makeDrivers(ms.front, ports), a, duration, io);
  } finally {
    await ms.stop();
  }
  const rows = ms.stats().map((s, i) => ({ port: i, name: `port${i}`, ifindex: i + 1, ...s }));
  if (a.json) {
    io.stdout(JSON.stringify({ program: ms.program.name, workers, perWorker: ms.processed(), ports: rows, trace: ms.trace }, null, 2) + '\n');
  } else {
    io.stdout(`program ${ms.program.name} (${ms.program.kind}) on ${workers} workers\nper worker: ${ms.processed().join(' / ')} frames\n` +
      formatStatsRows(rows as unknown as StatsRow[], ms.trace));
  }
  return 0;
}

/** runMultiLive runs a multi-worker switch's live loop (and control socket) until a signal or the duration. */
async function runMultiLive(ms: MultiSwitch, drivers: PortDriver[], a: { control?: string }, duration: number, io: CliIo): Promise<void> {
  const live = new MultiLive(ms, drivers);
  const ctl = a.control ? controlServer(live, a.control, ms.runtime, ms.coll, Array.from({ length: ms.stats().length }, (_, i) => i + 1)) : null;
  await ctl?.listen();
  live.start();
  const where = drivers.length ? drivers.map((d) => d.label).join(', ') : `generator in the workers (flows per worker ${ms.flows.join('/')})`;
  io.stderr(`switch running on ${ms.workers} workers: ${where}, program ${ms.program.name}${ctl ? `; control socket ${a.control}` : ''}\n`);
  try {
    await untilStopped(duration);
  } finally {
    await live.stop();
    await ctl?.close();
  }
}

/** pumpWorkers feeds every pcap input through a multi-worker switch and collects the outputs, until everything settled. */
async function pumpWorkers(ms: MultiSwitch, ports: PortArg[]): Promise<void> {
  const sw = ms.front;
  const inputs = ports.map((p) => (p.input ? pcapFrames(p.input) : []));
  const sinks = ports.map((p, i) => (p.output ? new PcapSink(p.output, sw, i) : null));
  const next = inputs.map(() => 0);
  const drain = () => sinks.forEach((s, i) => (s ? s.drain() : sw.transmit(i, () => {})));
  let mark: number[] | null = null;
  for (;;) {
    inputs.forEach((frames, p) => {
      while (next[p] < frames.length && sw.ports[p].rx.free() > 0 && sw.pool.available() > 0) sw.receive(p, frames[next[p]++]);
    });
    ms.distribute();
    ms.gather();
    drain();
    const fed = inputs.every((f, p) => next[p] >= f.length) && sw.ports.every((p) => p.rx.count() === 0);
    if (fed && mark && ms.settled(mark)) break;
    if (fed && !mark) mark = ms.mark();
    await new Promise((r) => setImmediate(r));
  }
  ms.gather();
  drain();
  for (const s of sinks) s?.close();
}
