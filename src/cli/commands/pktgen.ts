/**
 * `tsbpf pktgen`: like netmap's pkt-gen against a switch on in-memory ports. Generates frames
 * (sizes, MAC/IP/port ranges, flows) into port 0 at full speed, runs the switch, counts what
 * leaves the other ports, and prints Mpps and Gbps once a second, then a summary.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { Switch } from '../../switch/dataplane/switch.js';
import { makeTemplates, type Range } from '../../switch/dataplane/pktgen.js';
import { loadSwitchProgram } from '../../switch/load.js';
import { TemplateSource, countingSink } from '../../switch/dataplane/mem-port.js';
import { loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: tsbpf pktgen [--ports N] [--size L|MIN-MAX] [--flows N] [--src-mac M] [--dst-mac M] [--src-macs N]
                    [--dst-macs N] [--src-ip A] [--dst-ip A] [--src-ips N] [--dst-ips N] [--src-port P|A-B]
                    [--dst-port P|A-B] [--duration SEC] [--prog FILE [--section S] [--kind xdp|vale]]
                    [--engine jit|interp] [--dataplane wasm|js] [--unchecked] [--json]
Frames (Ethernet/IPv4/UDP, L bytes without FCS, default 60) enter port 0; frames leaving any
port are counted and recycled. Without --prog the VALE-BPF no-logic forwarder runs (0 -> 1).
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
  unchecked: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
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
  const prog = loadSwitchProgram(a);
  const sw = new Switch({ ports: count(a.ports, 'ports') ?? 2, engine: await loadEngine(a.engine), checked: !a.unchecked,
    dataplane: a.dataplane as 'wasm' | 'js' | undefined, frames: 4096, ringSize: 1024 });
  sw.attach(prog);
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
 * frees) everything that leaves, a batch at a time; a progress line per second. Gbps counts
 * frame bytes + FCS.
 */
function generate(sw: Switch, templates: Uint8Array[], seconds: number, print: (line: string) => void): Totals {
  const src = new TemplateSource(sw.space, templates);
  const acc = { frames: 0, bytes: 0 };
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  let lastT = t0, lastRecv = 0, lastSent = 0, lastBytes = 0;
  for (let now = t0; now < end; now = performance.now()) {
    for (let i = 0; i < 16; i++) {
      sent += src.fill(sw.views, sw.pool, sw.ports[0].rx);
      sw.step();
      for (const port of sw.ports) countingSink(sw.views, sw.pool, port.tx, acc);
    }
    if (now - lastT >= 1000) {
      const dt = (now - lastT) / 1000;
      const wire = acc.bytes + 4 * acc.frames; // + FCS
      print(`[${((now - t0) / 1000).toFixed(1).padStart(6)} s] sent ${fmtRate(sent - lastSent, dt)}  received ${fmtRate(acc.frames - lastRecv, dt)}` +
        `  ${(((wire - lastBytes) * 8) / dt / 1e9).toFixed(3)} Gbps\n`);
      lastT = now;
      lastRecv = acc.frames;
      lastSent = sent;
      lastBytes = wire;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const wire = acc.bytes + 4 * acc.frames;
  return { sent, received: acc.frames, bytes: wire, seconds: secs, mpps: acc.frames / secs / 1e6, gbps: (wire * 8) / secs / 1e9 };
}

function fmtRate(n: number, dt: number): string {
  return `${(n / dt / 1e6).toFixed(3)} Mpps`;
}
