/**
 * Loading an ObjectSpec's program into the Linux kernel for differential tests: the maps it
 * uses are created in the kernel (global data with its initial value), the same relocated
 * instructions (CO-RE applied against tsbpf's context types, which mirror the kernel's) are
 * loaded with the kernel map fds, run with BPF_PROG_TEST_RUN, and the maps read back.
 */
import type { ObjectSpec, ProgramSpec } from '../../src/core/elf/spec.js';
import { PROG_TYPES } from '../../src/core/elf/sec-defs.js';
import { encode } from '../../src/core/isa/instruction.js';
import { applyCoreRelos, contextBtf, relocateMaps } from '../../src/core/runtime/index.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';

/** KernelMaps are the kernel's copies of an object's maps, by name. */
export type KernelMaps = Map<string, { fd: number; keySize: number; valueSize: number; type: number }>;

/** kernelLoad creates the maps `prog` uses and loads it (and the programs its prog arrays name); returns its fd and the maps. */
export function kernelLoad(spec: ObjectSpec, prog: ProgramSpec): { fd: number; maps: KernelMaps; close(): void } {
  const maps: KernelMaps = new Map();
  const progs = new Map<string, number>();
  const fds: number[] = [];
  const slots: Array<() => void> = [];
  const mapFd = (name: string): number => {
    const have = maps.get(name);
    if (have) return have.fd;
    const m = spec.maps.find((x) => x.name === name)!;
    const fd = k.mapCreate({ mapType: m.typeId, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags, name: name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15) });
    fds.push(fd);
    if (m.initialValue) k.mapUpdate(fd, new Uint8Array(4), m.initialValue);
    maps.set(name, { fd, keySize: m.keySize, valueSize: m.valueSize, type: m.typeId });
    for (const slot of m.contents) {
      const target = spec.programs.find((x) => x.name === slot.name);
      if (target) slots.push(() => k.mapUpdate(fd, u32(slot.key), u32(progFd(target))));
    }
    return fd;
  };
  const progFd = (p: ProgramSpec): number => {
    const have = progs.get(p.name);
    if (have !== undefined) return have;
    const insns = applyCoreRelos(p, spec.btf, [contextBtf()]);
    relocateMaps(p, insns, new Map([...new Set(p.relocations.map((r) => r.map))].map((n) => [n, mapFd(n)])));
    const { fd } = k.progLoad({ progType: PROG_TYPES.indexOf(p.type), insns: encode(insns, true), license: spec.license || 'GPL', name: p.name.slice(0, 15) });
    fds.push(fd);
    progs.set(p.name, fd);
    return fd;
  };
  try {
    const fd = progFd(prog);
    while (slots.length) slots.shift()!();
    return { fd, maps, close: () => fds.forEach((f) => k.closeFd(f)) };
  } catch (e) {
    fds.forEach((f) => k.closeFd(f));
    throw e;
  }
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** kernelMapEntries reads every key/value pair of a kernel map, sorted by key bytes. */
export function kernelMapEntries(m: { fd: number; keySize: number; valueSize: number }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let key = k.mapGetNextKey(m.fd, null, m.keySize); key; key = k.mapGetNextKey(m.fd, key, m.keySize)) {
    out.push([hex(key), hex(k.mapLookup(m.fd, key, m.valueSize)!)]);
  }
  return out.sort();
}

/** hex is lowercase hex of bytes. */
export function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
