/**
 * Collection: a loaded object (cilium/ebpf's Collection, libbpf's loaded bpf_object):
 * programs and maps by name, typed map views, live global variables, pinning, close.
 */
import { BpfError } from '../errors.js';
import type { ObjectSpec } from '../elf/spec.js';
import { isPerCpu } from '../maps/layout.js';
import { bytes, type Codec } from './codecs.js';
import { mapLookupElem } from './commands.js';
import { BpfMap, PerCpuMap } from './map.js';
import type { Runtime } from './runtime.js';
import type { BpfProgram } from './object-program.js';
import { decodeGlobal, encodeGlobal, findGlobal, type GlobalValue } from './object-data.js';
import { pinMap, rawUpdate, syncPins, type PinStore } from './pin.js';
import { progArrayIds } from './tailcall.js';

/** Collection holds the live programs and maps of one loaded object. */
export class Collection {
  /** maps by name: raw-byte views (per-CPU maps: one value per CPU) */
  readonly maps: Record<string, BpfMap | PerCpuMap>;
  private closed = false;

  constructor(readonly rt: Runtime, readonly spec: ObjectSpec, readonly programs: Record<string, BpfProgram>, readonly fds: Map<string, number>) {
    this.maps = {};
    for (const [name, fd] of fds) {
      const m = rt.map(fd);
      const k = bytes(m.keySize), v = bytes(m.valueSize);
      this.maps[name] = isPerCpu(m.mapType) ? new PerCpuMap(rt, fd, k, v) : new BpfMap(rt, fd, k, v);
    }
  }

  /** program returns the program `name` (function name) or throws ENOENT. */
  program(name: string): BpfProgram {
    const p = this.programs[name] ?? Object.values(this.programs).find((x) => x.sectionName === name);
    if (!p) throw new BpfError('ENOENT', `no loaded program "${name}" (loaded: ${Object.keys(this.programs).join(', ') || 'none'})`);
    return p;
  }

  /** fd returns the fd of map `name` or throws ENOENT. */
  fd(name: string): number {
    const fd = this.fds.get(name);
    if (fd === undefined) throw new BpfError('ENOENT', `no map "${name}" (maps: ${[...this.fds.keys()].join(', ') || 'none'})`);
    return fd;
  }

  /** map returns a typed view of map `name` (non per-CPU). */
  map<K, V>(name: string, key: Codec<K>, value: Codec<V>): BpfMap<K, V> {
    return new BpfMap(this.rt, this.fd(name), key, value);
  }

  /** getGlobal reads a global integer variable from its live map (skel->bss->x). */
  getGlobal(name: string): bigint {
    const v = findGlobal(this.spec, name);
    const value = mapLookupElem(this.rt, this.fd(v.map), new Uint8Array(4));
    return decodeGlobal(v, value.subarray(v.offset, v.offset + v.size), this.spec.littleEndian);
  }

  /** setGlobal writes a global variable in its live map (.rodata is frozen after load: EPERM). */
  setGlobal(name: string, value: GlobalValue): void {
    const v = findGlobal(this.spec, name);
    const fd = this.fd(v.map);
    const m = this.rt.map(fd);
    if (m.frozen) throw new BpfError('EPERM', `global "${name}" is in ${v.map}, which is read-only after load; set it in the spec before loading`, { symbol: name });
    const cur = mapLookupElem(this.rt, fd, new Uint8Array(4));
    cur.set(encodeGlobal(v, value, this.spec.littleEndian), v.offset);
    rawUpdate(this.rt, fd, new Uint8Array(4), cur);
  }

  /** pinMap pins map `name` at `path` in `store`. */
  pinMap(name: string, store: PinStore, path: string): void {
    pinMap(this.rt, store, this.fd(name), path);
  }

  /**
   * close writes pinned maps back and unloads the programs from the runtime (their fds and ids
   * are freed, as closing a libbpf object drops the kernel's programs), except those a prog
   * array still holds, which stay reachable by tail calls. The maps stay (the address space
   * does not reclaim memory). The collection should not be used afterwards.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    syncPins(this.rt);
    const held = progArrayIds(this.rt);
    for (const p of Object.values(this.programs)) {
      const info = this.rt.progs.fd(p.fd);
      if (info && !held.has(info.id)) this.rt.progs.remove(p.fd);
    }
  }
}
