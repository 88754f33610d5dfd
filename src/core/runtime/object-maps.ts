/**
 * Creating live maps from MapSpecs (the first half of loading an object): map type support
 * looked up in the map layer at load time, global data maps filled with their initial value
 * (and `.rodata` frozen, as libbpf does), maps pinned by name reused when compatible, and the
 * BTF of each map recorded for pretty-printing.
 */
import { BpfError, isBpfError } from '../errors.js';
import type { MapSpec } from '../elf/spec.js';
import type { Btf } from '../btf/types.js';
import { checkMapAttr, type MapAttr } from '../maps/create.js';
import { BPF_F_NO_PREALLOC } from '../maps/layout.js';
import { mapCreate, mapFreeze, type MapCreateAttr } from './commands.js';
import type { Runtime } from './runtime.js';
import { openPinnedMap, rawUpdate, setMapMeta, type PinStore } from './pin.js';

/** MapPinning says where maps declared with LIBBPF_PIN_BY_NAME live. */
export interface MapPinning {
  store: PinStore;
  /** directory of by-name pins (libbpf's pin_root_path, /sys/fs/bpf by default there) */
  root: string;
}

// Attribute shapes covering what each map type family accepts; a type is supported when the
// map layer accepts one of them (so new types become loadable as soon as they exist).
const PROBES: Array<Omit<MapAttr, 'mapType'>> = [
  { keySize: 4, valueSize: 8, maxEntries: 64 },
  { keySize: 8, valueSize: 8, maxEntries: 64, mapFlags: BPF_F_NO_PREALLOC },
  { keySize: 0, valueSize: 8, maxEntries: 64 },
  { keySize: 0, valueSize: 0, maxEntries: 4096 },
  { keySize: 4, valueSize: 4, maxEntries: 64 },
  // maps of maps: an inner map template (a header address at the map layer)
  { keySize: 4, valueSize: 4, maxEntries: 64, innerHdr: 64 } as Omit<MapAttr, 'mapType'>,
];

/** mapTypeSupported tells whether this runtime's map layer can create maps of numeric `type`. */
export function mapTypeSupported(type: number): boolean {
  return PROBES.some((p) => {
    try {
      return checkMapAttr({ ...p, mapType: type }) === 0;
    } catch {
      return false;
    }
  });
}

/** mapAttrOf turns a spec into BPF_MAP_CREATE attributes. */
export function mapAttrOf(spec: MapSpec): MapCreateAttr {
  return { mapType: spec.typeId, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: spec.maxEntries, mapFlags: spec.flags, name: spec.name };
}

function fail(spec: MapSpec, message: string, code: 'ENOTSUPP' | 'EINVAL' | 'E_PIN' = 'EINVAL', cause?: unknown): never {
  throw new BpfError(code, `load maps: map "${spec.name}": ${message}`, { section: spec.section, symbol: spec.name }, { cause });
}

/**
 * createMap creates one map (and the inner template of a map of maps) and fills its initial
 * value. `btf` is the raw BTF kept with the map (pinning, `map dump`); `parsed`, the same types
 * already parsed (the object's spec.btf), spares mapCreate parsing them again.
 */
export function createMap(rt: Runtime, spec: MapSpec, btf: Uint8Array | null, parsed: Btf | null = null): number {
  if (!mapTypeSupported(spec.typeId)) fail(spec, `unsupported type ${spec.type}`, 'ENOTSUPP');
  const attr: MapCreateAttr & { innerMapFd?: number } = mapAttrOf(spec);
  if (spec.innerMap) attr.innerMapFd = createMap(rt, spec.innerMap, btf, parsed);
  // the value's BTF locates a struct bpf_spin_lock in it
  if (btf && spec.btfValueTypeId) Object.assign(attr, { btf: parsed ?? btf, btfValueTypeId: spec.btfValueTypeId });
  let fd: number;
  try {
    fd = mapCreate(rt, attr);
  } catch (e) {
    if (isBpfError(e)) fail(spec, `${e.detail} (type ${spec.type}, key ${spec.keySize}, value ${spec.valueSize}, max_entries ${spec.maxEntries}, flags 0x${spec.flags.toString(16)})`, 'EINVAL', e);
    throw e;
  }
  setMapMeta(rt, fd, { btf, btfKeyTypeId: spec.btfKeyTypeId, btfValueTypeId: spec.btfValueTypeId });
  if (spec.initialValue) {
    rawUpdate(rt, fd, new Uint8Array(4), spec.initialValue);
    // libbpf freezes read-only global data so user space cannot change "constants" after load
    if (spec.name.startsWith('.rodata')) mapFreeze(rt, fd);
  }
  return fd;
}

/** reusePinned opens a by-name pinned map and checks it matches the spec, as libbpf's map_is_reuse_compat. */
export function reusePinned(rt: Runtime, spec: MapSpec, pins: MapPinning): number | undefined {
  const path = pinPathOf(spec, pins);
  if (pins.store.read(path) === null) return undefined;
  let fd: number;
  try {
    fd = openPinnedMap(rt, pins.store, path);
  } catch (e) {
    fail(spec, `couldn't reuse pinned map at ${path}: ${(e as Error).message}`, 'E_PIN', e);
  }
  const m = rt.map(fd);
  const same = m.mapType === spec.typeId && m.keySize === spec.keySize && m.valueSize === spec.valueSize
    && m.maxEntries === spec.maxEntries && m.mapFlags === spec.flags;
  if (!same) fail(spec, `couldn't reuse pinned map at ${path}: parameter mismatch`, 'E_PIN');
  return fd;
}

/** pinPathOf is where a by-name pinned map lives. */
export function pinPathOf(spec: MapSpec, pins: MapPinning): string {
  return `${pins.root.replace(/\/+$/, '')}/${spec.name}`;
}
