/**
 * Switch programs with maps: an ELF object loaded by the loader (maps created, relocated and
 * verified) into a Runtime the switch then lives in (`new Switch({ runtime, ... })`), so the
 * program's maps, bpf_redirect_map on devmaps and per-CPU maps work in the dataplane, and the
 * control plane reads and writes the same maps (Collection.maps).
 */
import { BpfError } from '../core/errors.js';
import { parseObject } from '../core/elf/index.js';
import { loadObject } from '../core/runtime/object.js';
import type { Collection } from '../core/runtime/object-collection.js';
import { Runtime } from '../core/runtime/runtime.js';
import * as cmd from '../core/runtime/commands.js';
import { resolveMapReferences } from '../core/runtime/resolve.js';
import { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH } from '../core/maps/ext.js';
import { isBpfError } from '../core/errors.js';
import { kindOfSection, type ObjectSelect, type SwitchProgram } from './program.js';
import type { MapDump } from './control.js';

/** SwitchObject is a loaded object: the program to attach, its runtime and its maps. */
export interface SwitchObject {
  prog: SwitchProgram;
  runtime: Runtime;
  coll: Collection;
}

/** switchObject loads the program `sel` picks out of `bytes` with its maps into a new runtime. */
export function switchObject(bytes: Uint8Array, sel: ObjectSelect = {}, opts: { cpus?: number; runtime?: Runtime } = {}): SwitchObject {
  const spec = parseObject(bytes);
  const cands = spec.programs.filter((p) => (sel.name === undefined || p.name === sel.name) &&
    (sel.section === undefined || p.sectionName === sel.section));
  if (cands.length === 0) throw new BpfError('ENOENT', `no program matches the selection; the object has: ${spec.programs.map((p) => p.name).join(', ')}`);
  if (cands.length > 1) throw new BpfError('EINVAL', `the object has ${cands.length} programs; choose one by name or section`);
  const p = cands[0];
  const runtime = opts.runtime ?? new Runtime({ cpus: opts.cpus ?? 1 });
  const coll = loadObject(runtime, spec, { programs: [p.name] });
  // the switch runs the program itself: map references become header/value addresses
  const insns = resolveMapReferences(coll.program(p.name).insns, runtime);
  return { prog: { kind: sel.kind ?? kindOfSection(p.sectionName), name: p.name, insns }, runtime, coll };
}

/** dumpMaps lists every map of a collection with its entries as hex (for the control socket). */
export function dumpMaps(coll: Collection): MapDump[] {
  const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return [...coll.fds].map(([name, fd]) => {
    const m = coll.rt.map(fd);
    const entries: Array<[string, string]> = [];
    for (let k: Uint8Array | null = null; ;) {
      try {
        k = cmd.mapGetNextKey(coll.rt, fd, k);
      } catch (e) {
        if (isBpfError(e) && e.code === 'ENOENT') break;
        throw e;
      }
      try {
        entries.push([hex(k), hex(cmd.mapLookupElem(coll.rt, fd, k))]);
      } catch (e) {
        if (!isBpfError(e) || e.code !== 'ENOENT') throw e;
      }
    }
    return { name, type: m.mapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, entries };
  });
}

/**
 * fillDevmaps puts every port of the switch (key and value = ifindex) into each empty devmap
 * of the collection, what a control plane does before a bridge can flood or redirect.
 */
export function fillDevmaps(coll: Collection, ifindexes: number[]): void {
  for (const [name, fd] of coll.fds) {
    const m = coll.rt.map(fd);
    if (m.mapType !== BPF_MAP_TYPE_DEVMAP && m.mapType !== BPF_MAP_TYPE_DEVMAP_HASH) continue;
    if (dumpMaps(coll).find((d) => d.name === name)!.entries.length) continue;
    const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    for (const i of ifindexes) {
      if (m.mapType === BPF_MAP_TYPE_DEVMAP && i >= m.maxEntries) continue;
      cmd.mapUpdateElem(coll.rt, fd, u32(i), m.valueSize === 8 ? Uint8Array.from([...u32(i), 0, 0, 0, 0]) : u32(i), 0);
    }
  }
}
