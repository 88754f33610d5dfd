/**
 * `tsbpf pktgen`: like netmap's pkt-gen against a switch on in-memory ports. Generates frames
 * (sizes, MAC/IP/port ranges, flows) into port 0 at full speed, runs the switch, counts what
 * leaves the other ports, and prints Mpps and Gbps once a second, then a summary.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { Switch } from '../../switch/dataplane/switch.js';
import { makeTemplates, type Range } from '../../switch/dataplane/pktgen.js';
import { loadSwitchProgram, loadWorkerProgram } from '../../switch/load.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { fillDevmaps } from '../../switch/objects.js';
import { WasmFrameSource } from '../../switch/dataplane/gen-wasm.js';
import { MultiSwitch } from '../../switch/workers/multi.js';
import type { SwitchProgram } from '../../switch/program.js';
import { loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: tsbpf pktgen [--ports N] [--size L|MIN-MAX] [--flows N] [--src-mac M] [--dst-mac M] [--src-macs N]
                    [--dst-macs N] [--src-ip A] [--dst-ip A] [--src-ips N] [--dst-ips N] [--src-port P|A-B]
                    [--dst-port P|A-B] [--duration SEC] [--prog FILE [--section S] [--kind xdp|vale]]
                    [--engine jit|interp] [--dataplane wasm|js] [--unchecked] [--workers N] [--json]
Frames (Ethernet/IPv4/UDP, L bytes without FCS, default 60) enter port 0; frames leaving any
port are counted and recycled. Without --prog the VALE-BPF no-logic forwarder runs (0 -> 1).
With --workers N, N worker threads share the memory; flows are spread over them by RSS hash.
`;

function range(text: string | undefined, name: string): number | Range | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new BpfError('EINVAL', `--${name} expects N or A-B, not "${text}"`);
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

function count(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new BpfError('EINVAL', `--${name} expects a positive integer, not "${text}"`);
  return n;
}

const OPTIONS = {
  ports: { type: 'string' }, size: { type: 'string' }, flows: { type: 'string' }, 'src-mac': { type: 'string' },
  'dst-mac': { type: 'string' }, 'src-macs': { type: 'string' }, 'dst-macs': { type: 'string' }, 'src-ip': { type: 'string' },
  'dst-ip': { type: 'string' }, 'src-ips': { type: 'string' }, 'dst-ips': { type: 'string' }, 'src-port': { type: 'string' },
  'dst-port': { type: 'string' }, duration: { type: 'string' }, prog: { type: 'string' }, section: { type: 'string' },
  name: { type: 'string' }, kind: { type: 'string' }, engine: { type: 'string' }, dataplane: { type: 'string' },
  unchecked: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, workers: { type: 'string' },
} as const;

/** pktgenCommand implements `tsbpf pktgen`. */
export async function pktgenCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: a } = parseArgs({ args: argv, options: OPTIONS });
  if (a.help) {
    io.stdout(USAGE);
    return 0;
  }
  const templates = makeTemplates({
    size: range(a.size, 'size'), flows: count(a.flows, 'flows'), srcMac: a['src-mac'], dstMac: a['dst-mac'],
    srcMacs: count(a['src-macs'], 'src-macs'), dstMacs: count(a['dst-macs'], 'dst-macs'), srcIp: a['src-ip'], dstIp: a['dst-ip'],
    srcIps: count(a['src-ips'], 'src-ips'), dstIps: count(a['dst-ips'], 'dst-ips'),
    srcPort: range(a['src-port'], 'src-port'), dstPort: range(a['dst-port'], 'dst-port'),
  });
  const duration = a.duration === undefined ? 3 : Number(a.duration);
  if (!(duration > 0 && duration <= 3600)) throw new BpfError('EINVAL', `--duration must be in (0, 3600] seconds`);
  if (a.workers !== undefined) {
    // an object with maps is loaded by MultiSwitch into a runtime the workers share
    return pktgenWorkers(loadWorkerProgram(a), templates, count(a.workers, 'workers')!, duration, a, io);
  }
  const runtime = new Runtime();
  const prog = loadSwitchProgram(a, runtime);
  const sw = new Switch({ runtime, ports: count(a.ports, 'ports') ?? 2, engine: await loadEngine(a.engine), checked: !a.unchecked,
    dataplane: a.dataplane as 'wasm' | 'js' | undefined, frames: 4096, ringSize: 1024 });
  sw.attach(prog);
  if (prog.coll) fillDevmaps(prog.coll, sw.ports.map((p) => p.ifindex));
  const maxLen = Math.max(...templates.map((t) => t.length));
  if (maxLen > sw.pool.maxLen) throw new BpfError('EINVAL', `frames of ${maxLen} bytes exceed the ${sw.pool.maxLen}-byte buffers`);
  io.stdout(`pktgen: ${sw.ports.length} ports, program ${prog.name} (${prog.kind}), ${sw.wasm ? 'wasm' : 'js'} dataplane, ` +
    `${templates.length} flow(s), ${describeSizes(templates)} frames, ${duration} s\n`);
  const total = generate(sw, templates, duration, (line) => !a.json && io.stdout(line));
  if (a.json) io.stdout(JSON.stringify({ program: prog.name, ...total, ports: sw.stats() }, null, 2) + '\n');
  else io.stdout(`total: sent ${total.sent}, received ${total.received} in ${total.seconds.toFixed(2)} s: ` +
    `${total.mpps.toFixed(3)} Mpps, ${total.gbps.toFixed(3)} Gbps\n`);
  return 0;
}

function describeSizes(t: Uint8Array[]): string {
  const lens = t.map((f) => f.length);
  const lo = Math.min(...lens), hi = Math.max(...lens);
  return lo === hi ? `${lo}-byte` : `${lo}-${hi}-byte`;
}

/** Totals summarise a run. */
interface Totals { sent: number; received: number; bytes: number; seconds: number; mpps: number; gbps: number }

/**
 * generate keeps port 0's RX ring full of template copies, steps the switch and counts (and
 * frees) everything that leaves, a batch at a time, generation and counting in WebAssembly;
 * a progress line per second. Gbps counts frame bytes + FCS.
 */
function generate(sw: Switch, templates: Uint8Array[], seconds: number, print: (line: string) => void): Totals {
  const src = new WasmFrameSource(sw.space, sw.pool, templates);
  const rx = sw.ports[0].rx;
  let sent = 0;
  const meter = new Meter(print);
  const end = meter.t0 + seconds * 1000;
  for (let now = meter.t0; now < end; now = performance.now()) {
    for (let i = 0; i < 16; i++) {
      sent += src.fill(rx);
      sw.step();
      for (const port of sw.ports) src.sink(port.tx);
    }
    const c = src.count();
    meter.tick(now, sent, c.frames, c.bytes);
  }
  const c = src.count();
  return meter.totals(sent, c.frames, c.bytes);
}

/** Meter prints a progress line a second, like netmap's pkt-gen, and computes totals. */
class Meter {
  readonly t0 = performance.now();
  private lastT = this.t0;
  private lastRecv = 0;
  private lastSent = 0;
  private lastWire = 0;

  constructor(private readonly print: (line: string) => void) {}

  /** tick prints the rates since the previous line once a second has passed. */
  tick(now: number, sent: number, received: number, bytes: number): void {
    if (now - this.lastT < 1000) return;
    const dt = (now - this.lastT) / 1000;
    const wire = bytes + 4 * received; // + FCS
    const pkts = received - this.lastRecv;
    this.print(`[${((now - this.t0) / 1000).toFixed(1).padStart(6)} s] ${(pkts / dt / 1e6).toFixed(3)} Mpps ` +
      `(${(pkts / 1e6).toFixed(3)} Mpkts ${(((wire - this.lastWire) * 8) / dt / 1e9).toFixed(3)} Gbps in ${Math.round(dt * 1e6)} usec) ` +
      `sent ${((sent - this.lastSent) / dt / 1e6).toFixed(3)} Mpps\n`);
    this.lastT = now;
    this.lastRecv = received;
    this.lastSent = sent;
    this.lastWire = wire;
  }

  totals(sent: number, received: number, bytes: number): Totals {
    const secs = (performance.now() - this.t0) / 1000;
    const wire = bytes + 4 * received;
    return { sent, received, bytes: wire, seconds: secs, mpps: received / secs / 1e6, gbps: (wire * 8) / secs / 1e9 };
  }
}

/** pktgenWorkers runs the generator and the switch on N worker threads (flows spread by RSS hash). */
async function pktgenWorkers(p: { prog?: SwitchProgram; object?: Uint8Array }, templates: Uint8Array[], workers: number, seconds: number,
  a: { ports?: string; unchecked?: boolean; dataplane?: string; json?: boolean; section?: string; name?: string }, io: CliIo): Promise<number> {
  if (a.dataplane !== undefined && a.dataplane !== 'wasm' && a.dataplane !== 'js') throw new BpfError('EINVAL', '--dataplane must be wasm or js');
  const ms = await MultiSwitch.start({ workers, ports: count(a.ports, 'ports') ?? 2, prog: p.prog, mode: 'gen', templates,
    checked: !a.unchecked, dataplane: a.dataplane as 'wasm' | 'js' | undefined,
    object: p.object && { bytes: p.object, select: { section: a.section, name: a.name } } });
  const prog = { name: ms.programName, kind: p.prog?.kind ?? 'xdp' };
  io.stdout(`pktgen: ${workers} workers, program ${prog.name} (${prog.kind}), flows per worker ${ms.flows.join('/')}, ${seconds} s\n`);
  const meter = new Meter((line) => !a.json && io.stdout(line));
  const bytesPer = templates.reduce((s, t) => s + t.length, 0) / templates.length;
  const end = meter.t0 + seconds * 1000;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, end - performance.now()))));
    const t = ms.totals();
    meter.tick(performance.now(), t.sent, t.received, t.received * bytesPer);
  }
  await ms.stop();
  const t = ms.totals();
  const total = meter.totals(t.sent, t.received, t.received * bytesPer);
  if (a.json) io.stdout(JSON.stringify({ program: prog.name, workers, ...total, perWorker: ms.processed(), ports: ms.stats() }, null, 2) + '\n');
  else io.stdout(`total: sent ${total.sent}, received ${total.received} in ${total.seconds.toFixed(2)} s: ` +
    `${total.mpps.toFixed(3)} Mpps, ${total.gbps.toFixed(3)} Gbps (per worker ${ms.processed().join('/')} frames)\n`);
  return 0;
}
