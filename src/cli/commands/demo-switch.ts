/**
 * `tsbpf demo switch`: the switch demo. Four in-memory ports with four hosts each; the
 * learning bridge (examples/switch/learning_bridge.o, loaded with its maps and verified, so
 * it runs in trusted mode) forwards traffic between them generated in WebAssembly; live Mpps
 * once a second, then the MAC table the program learned and a log2 histogram of frame sizes
 * (from its per-CPU array), and exit.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { jit } from '../../core/jit/index.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { Switch } from '../../switch/dataplane/switch.js';
import { WasmFrameSource } from '../../switch/dataplane/gen-wasm.js';
import { buildUdpFrame, formatMac } from '../../switch/dataplane/frames.js';
import { dumpMaps, fillDevmaps, switchObject } from '../../switch/objects.js';
import type { PerCpuMap } from '../../core/runtime/map.js';
import type { CliIo } from '../io.js';

const PORTS = 4, HOSTS = 4;
const SIZES = [60, 60, 60, 60, 128, 128, 256, 512, 1024, 1514];

/** hostMac is the MAC of host h on port p: 02:00:00:00:0p:0h (p, h from 1). */
function hostMac(p: number, h: number): Uint8Array {
  return Uint8Array.of(2, 0, 0, 0, p + 1, h + 1);
}

/** portTraffic builds the frames port p's hosts send: to every host on the other ports, sizes varying. */
function portTraffic(p: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let k = 0;
  for (let h = 0; h < HOSTS; h++) {
    for (let q = 0; q < PORTS; q++) {
      if (q === p) continue;
      for (let g = 0; g < HOSTS; g++) {
        out.push(buildUdpFrame({ srcMac: hostMac(p, h), dstMac: hostMac(q, g), srcIp: 0x0a000000 | ((p + 1) << 8) | (h + 1),
          dstIp: 0x0a000000 | ((q + 1) << 8) | (g + 1), srcPort: 1024 + k, dstPort: 7, size: SIZES[k++ % SIZES.length] }));
      }
    }
  }
  return out;
}

function findObject(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../../..', '../../..', '../../../../..']) {
    const p = join(here, up, 'examples', 'switch', 'learning_bridge.o');
    try {
      readFileSync(p);
      return p;
    } catch {
      // try the next layout (src/ or dist/src/)
    }
  }
  throw new BpfError('ENOENT', 'examples/switch/learning_bridge.o not found');
}

/** demoSwitch implements `tsbpf demo switch [--duration SEC]`. */
export async function demoSwitch(argv: string[], io: CliIo): Promise<number> {
  const { values: a } = parseArgs({ args: argv, options: { duration: { type: 'string' } } });
  const seconds = a.duration === undefined ? 3 : Number(a.duration);
  if (!(seconds > 0 && seconds <= 600)) throw new BpfError('EINVAL', '--duration must be in (0, 600] seconds');
  const runtime = new Runtime();
  const obj = switchObject(new Uint8Array(readFileSync(findObject())), {}, { runtime });
  const sw = new Switch({ ports: PORTS, engine: jit, runtime, checked: false, frames: 8192 });
  sw.attach(obj.prog);
  fillDevmaps(obj.coll, sw.ports.map((p) => p.ifindex));
  io.stdout(`tsbpf switch demo: ${PORTS} in-memory ports x ${HOSTS} hosts, program ${obj.prog.name} ` +
    `(MAC learning in a hash map, devmap redirect, flooding with BPF_F_BROADCAST), JIT to WebAssembly, ${seconds} s\n`);
  const gens = sw.ports.map((p) => new WasmFrameSource(sw.space, sw.pool, portTraffic(p.index)));
  const t0 = performance.now();
  let last = t0, lastRx = 0;
  const rx = () => sw.stats().reduce((s, p) => s + p.rx_packets, 0);
  for (let now = t0; now - t0 < seconds * 1000; now = performance.now()) {
    for (let i = 0; i < 8; i++) {
      sw.ports.forEach((p, k) => gens[k].fill(p.rx, 256));
      sw.step();
      for (const p of sw.ports) gens[0].sink(p.tx);
    }
    if (now - last >= 1000) {
      const n = rx();
      io.stdout(`[${((now - t0) / 1000).toFixed(1).padStart(5)} s] ${((n - lastRx) / ((now - last) / 1000) / 1e6).toFixed(3)} Mpps forwarded by the bridge\n`);
      last = now;
      lastRx = n;
    }
  }
  const total = rx(), secs = (performance.now() - t0) / 1000;
  const st = sw.stats();
  io.stdout(`total: ${total} frames in ${secs.toFixed(2)} s (${(total / secs / 1e6).toFixed(3)} Mpps); ` +
    `${st.reduce((s, p) => s + p.act_redirect, 0)} redirected, ${st.reduce((s, p) => s + p.act_drop, 0)} dropped by the program\n\n`);
  io.stdout(macTable(obj.coll.maps === undefined ? [] : dumpMaps(obj.coll).find((m) => m.name === 'mac_table')!.entries));
  io.stdout(histogram(obj.coll.maps.size_log2 as PerCpuMap));
  return 0;
}

function macTable(entries: Array<[string, string]>): string {
  const rows = entries.map(([k, v]) => {
    const mac = formatMac(Uint8Array.from(k.match(/../g)!.map((x) => parseInt(x, 16))));
    const ifindex = parseInt(v.match(/../g)!.reverse().join(''), 16);
    return { mac, ifindex };
  }).sort((x, y) => x.mac.localeCompare(y.mac));
  let out = `learned MAC table (mac_table, ${rows.length} entries):\n  MAC                 port (ifindex)\n`;
  for (const r of rows) out += `  ${r.mac}   ${r.ifindex - 1} (${r.ifindex})\n`;
  return `${out}\n`;
}

function histogram(m: PerCpuMap): string {
  const counts: number[] = [];
  for (let b = 0; b < 16; b++) {
    const per = m.get(new Uint8Array(new Uint32Array([b]).buffer)) ?? [];
    counts.push(per.reduce((s, v) => s + Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true)), 0));
  }
  const max = Math.max(1, ...counts);
  let out = 'frame sizes (size_log2, summed over CPUs):\n';
  counts.forEach((c, b) => {
    if (c === 0) return;
    const range = `[${2 ** b}, ${2 ** (b + 1)})`.padEnd(14);
    out += `  ${range}${String(c).padStart(12)} |${'@'.repeat(Math.round((c / max) * 40)).padEnd(40)}|\n`;
  });
  return out;
}
