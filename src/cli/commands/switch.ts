/**
 * `tsbpf switch`: run a switch over ports named on the command line with a program (a
 * clang-compiled XDP or VALE-BPF object, or assembly), until every input is consumed, then
 * print per-port statistics. Ports: `in=FILE` (pcap/pcapng frames received on the port),
 * `out=FILE` (frames the port transmits, written as classic pcap), both, or `null`.
 */
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { Switch } from '../../switch/dataplane/switch.js';
import { loadSwitchProgram } from '../../switch/load.js';
import { PcapSink, pcapFrames } from '../../switch/ports/pcap.js';
import { formatStats } from '../../switch/stats-format.js';
import { loadEngine } from '../engines.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: tsbpf switch --port SPEC [--port SPEC ...] [--prog FILE [--section S] [--name N] [--kind xdp|vale]]
                    [--engine jit|interp] [--dataplane wasm|js] [--unchecked] [--batch N] [--json]
Port SPEC: in=FILE,out=FILE | in=FILE | out=FILE | null   (port i gets ifindex i+1)
  in:  a pcap or pcapng file whose frames are received on the port
  out: a classic pcap file (tcpdump -r reads it) of the frames the port transmits
Without --prog the VALE-BPF no-logic forwarder (port i -> port i^1) runs.
`;

interface PortArg { input?: string; output?: string }

function parsePort(spec: string): PortArg {
  if (spec === 'null') return {};
  const p: PortArg = {};
  for (const part of spec.split(',')) {
    const [k, ...v] = part.split('=');
    const val = v.join('=');
    if (k === 'in' && val) p.input = val;
    else if (k === 'out' && val) p.output = val;
    else throw new BpfError('EINVAL', `bad port spec "${spec}" (expected in=FILE, out=FILE or null)`);
  }
  return p;
}

/** switchCommand implements `tsbpf switch`. */
export async function switchCommand(argv: string[], io: CliIo): Promise<number> {
  const { values: a } = parseArgs({
    args: argv, options: {
      port: { type: 'string', multiple: true }, prog: { type: 'string' }, section: { type: 'string' }, name: { type: 'string' },
      kind: { type: 'string' }, engine: { type: 'string' }, dataplane: { type: 'string' }, unchecked: { type: 'boolean' },
      batch: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (a.help || !a.port?.length) {
    io.stdout(USAGE);
    return a.help ? 0 : 1;
  }
  if (a.dataplane !== undefined && a.dataplane !== 'wasm' && a.dataplane !== 'js') throw new BpfError('EINVAL', '--dataplane must be wasm or js');
  const ports = a.port.map(parsePort);
  const prog = loadSwitchProgram(a);
  const engine = await loadEngine(a.engine);
  const sw = new Switch({ ports: ports.length, engine, checked: !a.unchecked, batch: a.batch ? Number(a.batch) : undefined,
    dataplane: a.dataplane as 'wasm' | 'js' | undefined });
  sw.attach(prog);
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
