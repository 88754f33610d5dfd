/**
 * The switch benchmark's map programs: loading an example with its maps into a tsbpf runtime
 * (tables filled so that the steady state forwards every frame) and the same object into the
 * kernel (maps created there, filled the same way with ifindex 1 = lo, the test_run device),
 * for BPF_PROG_TEST_RUN's rate on the same frame.
 */
import { parseObject } from '../src/core/elf/index.js';
import { encode } from '../src/core/isa/instruction.js';
import { relocateMaps } from '../src/core/runtime/object-prepare.js';
import * as k from '../src/node/kernel/bpf-syscall.js';
import { Switch, type SwitchOptions } from '../src/switch/dataplane/switch.js';
import { fillDevmaps, switchObject } from '../src/switch/objects.js';
import type { BpfMap } from '../src/core/runtime/map.js';

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

/** mapSwitch builds a 2-port switch running example `bytes` with its tables filled. */
export function mapSwitch(name: string, bytes: Uint8Array, opts: Omit<SwitchOptions, 'ports'>): Switch {
  const o = switchObject(bytes);
  const sw = new Switch({ ...opts, ports: 2, runtime: o.runtime });
  sw.attach(o.prog);
  fillDevmaps(o.coll, sw.ports.map((p) => p.ifindex));
  fillTables(name, (m, key, val) => (o.coll.maps[m] as BpfMap).set(key, val), 2);
  return sw;
}

/** fillTables fills the control-plane tables of the L4 LB (every slot -> backend 1 on `ifindex`). */
function fillTables(name: string, set: (map: string, key: Uint8Array, val: Uint8Array) => void, ifindex: number): void {
  if (name !== 'l4_lb') return;
  set('backends', u32(1), Uint8Array.from([...u32(ifindex), 2, 0, 0, 0, 0, 2, 0, 0]));
  for (let i = 0; i < 256; i++) set('lut', u32(i), u32(1));
}

/** kernelMapRate returns the kernel's ns per run of example `bytes` on `frame`, maps created and filled in the kernel. */
export function kernelMapRate(name: string, bytes: Uint8Array, frame: Uint8Array, repeat: number): number {
  const spec = parseObject(bytes);
  const prog = spec.programs[0];
  const fds = new Map<string, number>();
  try {
    for (const m of spec.maps) {
      fds.set(m.name, k.mapCreate({ mapType: m.typeId, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags,
        name: m.name.slice(0, 15) }));
    }
    const insns = prog.insns.map((i) => ({ ...i }));
    relocateMaps(prog, insns, fds);
    if (fds.has('tx_ports')) for (const i of [1, 2]) k.mapUpdate(fds.get('tx_ports')!, u32(i), u32(1));
    if (fds.has('mac_table')) k.mapUpdate(fds.get('mac_table')!, frame.slice(0, 6), u32(2)); // destination known: unicast
    fillTables(name, (m, key, val) => k.mapUpdate(fds.get(m)!, key, val), 1);
    const { fd } = k.progLoad({ progType: 6, insns: encode(insns, true), license: 'GPL', name: prog.name.slice(0, 15) });
    fds.set('', fd);
    k.progTestRun(fd, { dataIn: frame, repeat: 10_000 });
    return k.progTestRun(fd, { dataIn: frame, repeat }).duration;
  } finally {
    for (const fd of fds.values()) k.closeFd(fd);
  }
}
