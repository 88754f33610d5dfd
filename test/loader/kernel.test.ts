// Fixture programs of the types the kernel can test-run (XDP, tc, socket filter) run in tsbpf
// (both engines) and in the kernel with the same maps and inputs: identical return values,
// output data and map contents after every run. Skipped when kernel BPF is unavailable.
import { pinTo } from '../maps/kernel-util.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { loadObject, mapTypeSupported, openObject } from '../../src/core/runtime/index.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { progTestRun } from '../../src/node/kernel/bpf-syscall.js';
import { kernelLoad, kernelMapEntries, hex } from './kernel-object.js';
import { ENGINES, fixtureObjects, ipv4Frame, readObject, tsbpfMapEntries } from './util.js';

const TYPES = new Set(['xdp', 'sched_cls', 'socket_filter']);
function frame(len: number, ethertype: number, dst?: number[]): Uint8Array {
  const f = ipv4Frame(len, len);
  f[12] = ethertype >> 8;
  f[13] = ethertype & 0xff;
  if (dst) f.set(dst, 0);
  return f;
}
const INPUTS = [ipv4Frame(64), ipv4Frame(14, 2), ipv4Frame(64), ipv4Frame(300, 5), frame(20, 0x88cc), frame(60, 0x86dd, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), frame(40, 0x86dd),
  frame(60, 0x0800, [0, 0, 0, 0, 0, 0]), frame(60, 0x0800, [1, 0, 0x5e, 0, 0, 1]), frame(60, 0x0800, [0, 0, 0, 0, 0, 0])];

function outcome<T>(fn: () => T): { v?: T; err?: string } {
  try {
    return { v: fn() };
  } catch (e) {
    if (isBpfError(e)) return { err: e.code };
    throw e;
  }
}

for (const path of fixtureObjects()) {
  test(`${path}: same results as the kernel`, (t) => {
    const avail = kernelAvailable();
    if (!avail.ok) return t.skip(avail.reason);
    const o = openObject(readObject(path));
    // per-CPU maps: the kernel counts on the CPU the test thread runs on, tsbpf on CPU 0
    let compared = 0;
    pinTo([0], () => {
      for (const p of o.spec.programs) {
        const used = new Set(p.relocations.map((r) => r.map));
        if (!TYPES.has(p.type) || o.spec.maps.some((m) => used.has(m.name) && !mapTypeSupported(m.typeId))) continue;
        // src/node/kernel's BPF_MAP_CREATE has no inner_map_fd yet: maps of maps stay tsbpf-only here
        if (o.spec.maps.some((m) => used.has(m.name) && m.innerMap)) {
          t.diagnostic(`${p.name}: uses a map of maps, not compared with the kernel`);
          continue;
        }
        for (const [ename, engine] of ENGINES) {
          const rt = new Runtime();
          const coll = loadObject(rt, o.spec, { programs: [p.name], engine, btfBytes: o.btfBytes });
          const k = kernelLoad(o.spec, p);
          try {
            for (const [i, data] of INPUTS.entries()) {
              const where = `${p.name} (${ename}) input ${i}`;
              const kr = outcome(() => progTestRun(k.fd, { dataIn: data }));
              const mine = outcome(() => coll.programs[p.name].run({ data }));
              // inputs the kernel refuses (an IPv4 frame shorter than its header) are refused alike
              assert.equal(mine.err, kr.err, `${where}: error`);
              if (kr.v && mine.v) {
                assert.equal(Number(mine.v.retval & 0xffffffffn), kr.v.retval, `${where}: retval`);
                assert.equal(hex(mine.v.dataOut), hex(kr.v.dataOut), `${where}: data_out`);
              }
              // prog array values are program ids, which differ between the two systems
              for (const [name, km] of k.maps) if (km.type !== 3) assert.deepEqual(tsbpfMapEntries(rt, coll.fd(name)), kernelMapEntries(km), `${where}: map ${name}`);
            }
          } finally {
            k.close();
          }
          compared++;
        }
      }
    });
    if (compared === 0) t.diagnostic('no kernel-runnable programs in this object');
  });
}
