/**
 * Maps of maps (BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS): values are inner maps.
 * The slots hold the inner map's id (what user space reads back, as in Linux); a program's
 * lookup returns the inner map's header address (a map pointer the map helpers accept), found
 * through the map table, or NULL.
 *
 * Layout: an array (u32 id per 8-byte slot, 0 = empty) or a hash map with 4-byte values; the
 * inner map template (kernel: inner_map_meta) is kept in the header's aux words: +80 type,
 * +84 key_size, +88 value_size, +92 max_entries, +96 flags, +100 runtime block address.
 */
import type { AddressSpace } from '../vm/memory.js';
import { allocMap, checkMapAttr } from './create.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PROG_ARRAY, EINVAL, H_AUX, H_FLAGS, H_KEY_SIZE, H_MAX_ENTRIES,
  H_TYPE, H_VALUE_SIZE, RB_TABLE, RB_TABLE_LEN,
} from './layout.js';
import { arrayElem, arrayGetNextKey } from './ops-array.js';
import { hashElem, hashGetNextKey } from './ops-hash.js';
import { type ExtMapAttr, type ExtMapOps, notAllowed, u32At } from './ext.js';

/** Aux word offsets of the inner map template. */
export const MIM_TYPE = H_AUX, MIM_KEY = H_AUX + 4, MIM_VALUE = H_AUX + 8, MIM_MAX = H_AUX + 12, MIM_FLAGS = H_AUX + 16,
  MIM_BLOCK = H_AUX + 20;
/** BPF_F_INNER_MAP: inner maps may differ in max_entries. */
export const BPF_F_INNER_MAP = 1 << 12;

function check(a: ExtMapAttr): number {
  if (a.valueSize !== 4 || a.innerHdr === undefined) return -EINVAL;
  // kernel: fd_array_map_alloc_check (the prog array's rules) / fd_htab_map_alloc_check (the hash map's)
  return checkMapAttr({ ...a, mapType: a.mapType === 12 ? BPF_MAP_TYPE_PROG_ARRAY : BPF_MAP_TYPE_HASH });
}

function allocAttr(a: ExtMapAttr): ExtMapAttr {
  return { ...a, mapType: a.mapType === 12 ? BPF_MAP_TYPE_ARRAY : BPF_MAP_TYPE_HASH };
}

function alloc(space: AddressSpace, a: ExtMapAttr, id: number, ncpus: number) {
  const s = allocMap(space, allocAttr(a), id, ncpus);
  if (typeof s === 'number') return s;
  const dv = space.dv, inner = a.innerHdr!;
  dv.setUint32(s.hdr + H_TYPE, a.mapType, true);
  for (const [to, from] of [[MIM_TYPE, H_TYPE], [MIM_KEY, H_KEY_SIZE], [MIM_VALUE, H_VALUE_SIZE], [MIM_MAX, H_MAX_ENTRIES], [MIM_FLAGS, H_FLAGS]]) {
    dv.setUint32(s.hdr + to, u32At(space, inner + from), true);
  }
  dv.setUint32(s.hdr + MIM_BLOCK, a.tableBlock ?? 0, true);
  return s;
}

/** innerHeader turns a slot's map id into the inner map's header address (0: empty or gone). */
export function innerHeader(space: AddressSpace, hdr: number, slot: number): number {
  if (slot === 0) return 0;
  const id = u32At(space, slot), block = u32At(space, hdr + MIM_BLOCK);
  if (id === 0 || block === 0 || id >= u32At(space, block + RB_TABLE_LEN)) return 0;
  return u32At(space, u32At(space, block + RB_TABLE) + id * 4);
}

/** InnerTemplate is the inner map template of a map of maps (kernel: inner_map_meta). */
export interface InnerTemplate {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
}

/** innerTemplate reads the inner map template of the map of maps at `hdr`. */
export function innerTemplate(space: AddressSpace, hdr: number): InnerTemplate {
  return {
    mapType: u32At(space, hdr + MIM_TYPE), keySize: u32At(space, hdr + MIM_KEY), valueSize: u32At(space, hdr + MIM_VALUE),
    maxEntries: u32At(space, hdr + MIM_MAX), mapFlags: u32At(space, hdr + MIM_FLAGS),
  };
}

/** innerCompatible is bpf_map_meta_equal: type, sizes, flags and (without BPF_F_INNER_MAP) max_entries. */
export function innerCompatible(space: AddressSpace, outer: number, inner: number): boolean {
  const same = (a: number, b: number): boolean => u32At(space, outer + a) === u32At(space, inner + b);
  const flags = u32At(space, outer + MIM_FLAGS);
  return same(MIM_TYPE, H_TYPE) && same(MIM_KEY, H_KEY_SIZE) && same(MIM_VALUE, H_VALUE_SIZE) && same(MIM_FLAGS, H_FLAGS)
    && ((flags & BPF_F_INNER_MAP) !== 0 || same(MIM_MAX, H_MAX_ENTRIES));
}

/** arrayOfMapsOps: ARRAY_OF_MAPS (program lookups return the inner map). */
export const arrayOfMapsOps: ExtMapOps = {
  check,
  alloc,
  lookup: (space, hdr, key) => innerHeader(space, hdr, arrayElem(space, hdr, key)),
  update: () => notAllowed('bpf_map_update_elem', 'array-of-maps'),
  delete: () => notAllowed('bpf_map_delete_elem', 'array-of-maps'),
  getNextKey: arrayGetNextKey,
  valueRegion: false,
};

/** hashOfMapsOps: HASH_OF_MAPS. */
export const hashOfMapsOps: ExtMapOps = {
  check,
  alloc,
  lookup: (space, hdr, key) => innerHeader(space, hdr, hashElem(space, hdr, key)),
  update: () => notAllowed('bpf_map_update_elem', 'hash-of-maps'),
  delete: () => notAllowed('bpf_map_delete_elem', 'hash-of-maps'),
  getNextKey: hashGetNextKey,
  valueRegion: false,
};
