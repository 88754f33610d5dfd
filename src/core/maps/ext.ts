/**
 * Map types beyond the core array/hash family (devmap, devmap-hash, bloom filter,
 * array-of-maps, hash-of-maps): each type brings its creation check, its layout and its
 * memory-level operations as an ExtMapOps record. The core operations (ops.ts, create.ts)
 * consult `extOps(type)` for types they do not know, so adding a type touches no core switch.
 */
import { BpfError } from '../errors.js';
import type { AddressSpace } from '../vm/memory.js';
import type { MapAttr, MapStorage } from './create.js';
import {
  ENOMEM, H_ESTRIDE, H_FLAGS, H_ID, H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NCPUS, H_STRIDE, H_TYPE, H_VALUES, H_VALUE_SIZE,
  HEADER_SIZE, round8,
} from './layout.js';
import { devmapOps, devmapHashOps } from './devmap.js';
import { bloomOps } from './bloom.js';
import { arrayOfMapsOps, hashOfMapsOps } from './map-in-map.js';

/** Map types implemented as extensions (enum bpf_map_type). */
export const BPF_MAP_TYPE_ARRAY_OF_MAPS = 12;
export const BPF_MAP_TYPE_HASH_OF_MAPS = 13;
export const BPF_MAP_TYPE_DEVMAP = 14;
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;
export const BPF_MAP_TYPE_BLOOM_FILTER = 30;

/** ExtMapAttr are creation attributes some extension types need besides MapAttr. */
export interface ExtMapAttr extends MapAttr {
  /** map_extra (bloom filter: number of hash functions in the low 4 bits) */
  mapExtra?: bigint | number;
  /** the inner map's header address (map-in-map; the command layer resolves inner_map_fd) */
  innerHdr?: number;
  /** the runtime block (map table) address, for maps whose values name other maps */
  tableBlock?: number;
}

/**
 * ExtMapOps are one type's memory-level operations. Keys and values are addresses; results
 * are 0 / -errno, lookups return an address (0 = none). The program-side operations throw
 * E_HELPER where the kernel's verifier would refuse the helper for this map type.
 */
export interface ExtMapOps {
  check(a: ExtMapAttr): number;
  alloc(space: AddressSpace, a: ExtMapAttr, id: number, ncpus: number): MapStorage | number;
  /** bpf_map_lookup_elem from a program */
  lookup(space: AddressSpace, hdr: number, key: number, cpu: number): number;
  update(space: AddressSpace, hdr: number, key: number, val: number, flags: number, cpu: number): number;
  delete(space: AddressSpace, hdr: number, key: number): number;
  getNextKey(space: AddressSpace, hdr: number, key: number, out: number): number;
  /** whether programs may access the value storage (a region in checked mode) */
  valueRegion: boolean;
}

/** extOps returns the operations of an extension map type, or undefined. */
export function extOps(type: number): ExtMapOps | undefined {
  switch (type) {
    case BPF_MAP_TYPE_DEVMAP: return devmapOps;
    case BPF_MAP_TYPE_DEVMAP_HASH: return devmapHashOps;
    case BPF_MAP_TYPE_BLOOM_FILTER: return bloomOps;
    case BPF_MAP_TYPE_ARRAY_OF_MAPS: return arrayOfMapsOps;
    case BPF_MAP_TYPE_HASH_OF_MAPS: return hashOfMapsOps;
    default: return undefined;
  }
}

/** isExtType tells whether `type` is an extension map type. */
export function isExtType(type: number): boolean {
  return extOps(type) !== undefined;
}

/** extOf returns the extension operations of the map at `hdr`, or undefined for core types. */
export function extOf(space: AddressSpace, hdr: number): ExtMapOps | undefined {
  const t = space.dv.getUint32(hdr + H_TYPE, true);
  return t < 32 && ((EXT_TYPE_MASK >>> t) & 1) !== 0 ? extOps(t) : undefined;
}

/** EXT_TYPE_MASK has bit t set for every extension type t (all below 32), for generated code. */
export const EXT_TYPE_MASK = (1 << BPF_MAP_TYPE_ARRAY_OF_MAPS) | (1 << BPF_MAP_TYPE_HASH_OF_MAPS) | (1 << BPF_MAP_TYPE_DEVMAP)
  | (1 << BPF_MAP_TYPE_DEVMAP_HASH) | (1 << BPF_MAP_TYPE_BLOOM_FILTER);

/** notAllowed is the fault for a helper the kernel's verifier refuses on a map type. */
export function notAllowed(helper: string, what: string): never {
  throw new BpfError('E_HELPER', `${helper} is not allowed on a ${what} map`);
}

/** MAX_MAP_BYTES bounds one map's storage (the address space is at most 4 GiB). */
const MAX_MAP_BYTES = 2 ** 31;

/** HeaderShape is what differs between map layouts when allocHeader fills the common fields. */
export interface HeaderShape {
  /** bytes per CPU slot (default round8(value_size)) */
  stride?: number;
  /** value slots per element (default 1; the CPU count for per-CPU maps) */
  slots?: number;
  /** max_entries as stored (default the attribute's; per-CPU LRU maps round it) */
  maxEntries?: number;
}

/**
 * allocHeader allocates a header followed by `valuesSize` bytes of values and `extra` bytes,
 * fills the common header fields (id, type, sizes, flags, strides, slots, values) and returns
 * the storage, or -ENOMEM when it would exceed MAX_MAP_BYTES or the memory. Every map layout
 * (create.ts and the extension types) starts here.
 */
export function allocHeader(space: AddressSpace, a: MapAttr, id: number, valuesSize: number, extra: number,
  shape: HeaderShape | number = {}): MapStorage | number {
  const sh = typeof shape === 'number' ? { stride: shape } : shape;
  const stride = sh.stride ?? round8(a.valueSize), slots = sh.slots ?? 1;
  const total = HEADER_SIZE + valuesSize + extra;
  if (total > MAX_MAP_BYTES) return -ENOMEM;
  let hdr: number;
  try {
    hdr = space.alloc(total, 64);
  } catch {
    return -ENOMEM;
  }
  const dv = space.dv;
  const put = (off: number, v: number): void => dv.setUint32(hdr + off, v, true);
  put(H_ID, id); put(H_TYPE, a.mapType); put(H_KEY_SIZE, a.keySize); put(H_VALUE_SIZE, a.valueSize);
  put(H_MAX_ENTRIES, sh.maxEntries ?? a.maxEntries); put(H_FLAGS, a.mapFlags ?? 0); put(H_STRIDE, stride);
  put(H_NCPUS, slots); put(H_VALUES, hdr + HEADER_SIZE); put(H_ESTRIDE, stride * slots); put(H_KSTRIDE, round8(a.keySize));
  return { hdr, values: hdr + HEADER_SIZE, valuesSize };
}

/** u32At reads the little-endian u32 at `a`. */
export function u32At(space: AddressSpace, a: number): number {
  return space.dv.getUint32(a, true);
}

/** bucketsFor is roundup_pow_of_two(n) (n >= 1). */
export function bucketsFor(n: number): number {
  let b = 1;
  while (b < n) b *= 2;
  return b;
}
