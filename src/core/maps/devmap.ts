/**
 * Device maps (BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH): entries are `struct
 * bpf_devmap_val { u32 ifindex; u32 prog id }` (value_size 4: ifindex only; 8: with the id of
 * a program to run on egress), what bpf_redirect_map sends frames to.
 *
 * Layout: every element has an 8-byte slot {ifindex, prog id} in the value storage (the
 * region programs may read: lookups return the slot, as the kernel returns &dev->val; the
 * map is BPF_F_RDONLY_PROG as in Linux). DEVMAP is an array whose empty slots have ifindex 0.
 * DEVMAP_HASH adds, like the kernel's dev_index_head, roundup_pow_of_two(max_entries) buckets
 * indexed by `key & (buckets - 1)` with the newest element at the head of its chain, so
 * get_next_key visits elements in the kernel's order.
 */
import type { AddressSpace } from '../vm/memory.js';
import type { MapStorage } from './create.js';
import {
  BPF_EXIST, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, H_AUX, H_BUCKETS, H_COUNT,
  H_FLAGS, H_FREE, H_KEYS, H_MAX_ENTRIES, H_NBUCKETS, H_NEXT, H_VALUES,
} from './layout.js';
import { arrayGetNextKey } from './ops-array.js';
import { type ExtMapAttr, type ExtMapOps, allocHeader, bucketsFor, notAllowed, u32At } from './ext.js';

const BPF_F_NUMA_NODE = 1 << 2;
/** DEV_CREATE_FLAG_MASK is the kernel's set of creation flags devmaps accept. */
const DEV_CREATE_FLAG_MASK = BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY;
const DEVMAP_HASH = 25;

/** DevVal is one entry: target ifindex and the id of its egress program (0: none). */
export interface DevVal {
  ifindex: number;
  prog: number;
}

function checkDev(a: ExtMapAttr): number {
  const f = a.mapFlags ?? 0;
  if (a.maxEntries === 0 || a.keySize !== 4 || (a.valueSize !== 4 && a.valueSize !== 8)) return -EINVAL;
  if ((f & ~DEV_CREATE_FLAG_MASK) !== 0 || ((f & BPF_F_RDONLY) !== 0 && (f & BPF_F_WRONLY) !== 0)) return -EINVAL;
  if (a.mapType === DEVMAP_HASH && a.maxEntries > 2 ** 31) return -EINVAL;
  return 0;
}

/** devFlags: lookups return a pointer into the map, so Linux makes it read-only for programs. */
function devFlags(a: ExtMapAttr): ExtMapAttr {
  return { ...a, mapFlags: (a.mapFlags ?? 0) | BPF_F_RDONLY_PROG };
}

/**
 * H_DEV_GEN: a u32 counting the map's changes (every successful update and delete), so a
 * user of devEntries (the switch's flood table) can tell cheaply whether it is still current.
 */
export const H_DEV_GEN = H_AUX;

/** devGeneration is the map's change count (see H_DEV_GEN). */
export function devGeneration(space: AddressSpace, hdr: number): number {
  return u32At(space, hdr + H_DEV_GEN);
}

function changed(space: AddressSpace, hdr: number): void {
  space.dv.setUint32(hdr + H_DEV_GEN, (u32At(space, hdr + H_DEV_GEN) + 1) >>> 0, true);
}

function slotOf(space: AddressSpace, hdr: number, i: number): number {
  return u32At(space, hdr + H_VALUES) + i * 8;
}

// ---- DEVMAP ----------------------------------------------------------------------------

/** devmapLookup returns the slot of index `i`, or 0 when out of range or empty. */
export function devmapLookup(space: AddressSpace, hdr: number, i: number): number {
  if (i >= u32At(space, hdr + H_MAX_ENTRIES)) return 0;
  const s = slotOf(space, hdr, i);
  return u32At(space, s) === 0 ? 0 : s;
}

/**
 * devmapUpdate is __dev_map_update_elem: `val` null (ifindex 0) empties the slot; `validate`
 * runs where the kernel resolves the device and program (0 or -errno).
 */
export function devmapUpdate(space: AddressSpace, hdr: number, i: number, val: DevVal | null, flags: number,
  validate: () => number): number {
  if (flags > BPF_EXIST) return -EINVAL;
  if (i >= u32At(space, hdr + H_MAX_ENTRIES)) return -E2BIG;
  if (flags === BPF_NOEXIST) return -EEXIST;
  const err = validate();
  if (err) return err;
  const s = slotOf(space, hdr, i);
  space.dv.setUint32(s, val ? val.ifindex : 0, true);
  space.dv.setUint32(s + 4, val ? val.prog : 0, true);
  changed(space, hdr);
  return 0;
}

/** devmapDelete is dev_map_delete_elem: out of range EINVAL, an empty slot is fine. */
export function devmapDelete(space: AddressSpace, hdr: number, i: number): number {
  if (i >= u32At(space, hdr + H_MAX_ENTRIES)) return -EINVAL;
  space.dv.setBigUint64(slotOf(space, hdr, i), 0n, true);
  changed(space, hdr);
  return 0;
}

/** devmapOps: DEVMAP. */
export const devmapOps: ExtMapOps = {
  check: checkDev,
  alloc: (space, a, id) => allocHeader(space, devFlags(a), id, a.maxEntries * 8, 0, 8),
  lookup: (space, hdr, key) => devmapLookup(space, hdr, u32At(space, key)),
  update: () => notAllowed('bpf_map_update_elem', 'devmap'),
  delete: () => notAllowed('bpf_map_delete_elem', 'devmap'),
  getNextKey: arrayGetNextKey,
  valueRegion: true,
};

// ---- DEVMAP_HASH ---------------------------------------------------------------------

function allocHash(space: AddressSpace, a: ExtMapAttr, id: number): MapStorage | number {
  const n = a.maxEntries, nb = bucketsFor(n);
  const s = allocHeader(space, devFlags(a), id, n * 8, n * 8 + nb * 4, 8);
  if (typeof s === 'number') return s;
  const dv = space.dv;
  const keys = s.values + n * 8, next = keys + n * 4, buckets = next + n * 4;
  dv.setUint32(s.hdr + H_KEYS, keys, true);
  dv.setUint32(s.hdr + H_NEXT, next, true);
  dv.setUint32(s.hdr + H_BUCKETS, buckets, true);
  dv.setUint32(s.hdr + H_NBUCKETS, nb, true);
  for (let i = 0; i < n; i++) dv.setUint32(next + i * 4, i + 2 <= n ? i + 2 : 0, true);
  dv.setUint32(s.hdr + H_FREE, 1, true);
  return s;
}

function bucketAddr(space: AddressSpace, hdr: number, key: number): number {
  return u32At(space, hdr + H_BUCKETS) + (key & (u32At(space, hdr + H_NBUCKETS) - 1)) * 4;
}

function linkAddr(space: AddressSpace, hdr: number, e: number): number {
  return u32At(space, hdr + H_NEXT) + (e - 1) * 4;
}

function keyOf(space: AddressSpace, hdr: number, e: number): number {
  return u32At(space, u32At(space, hdr + H_KEYS) + (e - 1) * 4);
}

/** devhashFind returns the element (index + 1) of `key`, or 0. */
export function devhashFind(space: AddressSpace, hdr: number, key: number): number {
  let e = u32At(space, bucketAddr(space, hdr, key));
  while (e !== 0 && keyOf(space, hdr, e) !== key) e = u32At(space, linkAddr(space, hdr, e));
  return e;
}

/** devhashLookup returns the slot of `key`, or 0. */
export function devhashLookup(space: AddressSpace, hdr: number, key: number): number {
  const e = devhashFind(space, hdr, key);
  return e === 0 ? 0 : slotOf(space, hdr, e - 1);
}

/** unlink removes element e from its bucket chain. */
function unlink(space: AddressSpace, hdr: number, key: number, e: number): void {
  const dv = space.dv;
  let at = bucketAddr(space, hdr, key);
  while (u32At(space, at) !== e) at = linkAddr(space, hdr, u32At(space, at));
  dv.setUint32(at, u32At(space, linkAddr(space, hdr, e)), true);
}

/**
 * devhashUpdate is __dev_map_hash_update_elem: ifindex 0 or bad flags EINVAL; NOEXIST on an
 * existing key EEXIST (BPF_EXIST on a missing key inserts, as in Linux); `validate` as for
 * devmapUpdate; full E2BIG. The new or replaced element goes to the head of its chain.
 */
export function devhashUpdate(space: AddressSpace, hdr: number, key: number, val: DevVal, flags: number,
  validate: () => number): number {
  if (flags > BPF_EXIST || val.ifindex === 0) return -EINVAL;
  const dv = space.dv;
  const old = devhashFind(space, hdr, key);
  if (old !== 0 && (flags & BPF_NOEXIST) !== 0) return -EEXIST;
  const err = validate();
  if (err) return err;
  let e = old;
  if (old !== 0) unlink(space, hdr, key, old);
  else {
    e = u32At(space, hdr + H_FREE);
    if (e === 0) return -E2BIG;
    dv.setUint32(hdr + H_FREE, u32At(space, linkAddr(space, hdr, e)), true);
    dv.setUint32(hdr + H_COUNT, u32At(space, hdr + H_COUNT) + 1, true);
    dv.setUint32(u32At(space, hdr + H_KEYS) + (e - 1) * 4, key, true);
  }
  const s = slotOf(space, hdr, e - 1);
  dv.setUint32(s, val.ifindex, true);
  dv.setUint32(s + 4, val.prog, true);
  const b = bucketAddr(space, hdr, key);
  dv.setUint32(linkAddr(space, hdr, e), u32At(space, b), true);
  dv.setUint32(b, e, true);
  changed(space, hdr);
  return 0;
}

/** devhashDelete removes `key` (ENOENT when absent). */
export function devhashDelete(space: AddressSpace, hdr: number, key: number): number {
  const e = devhashFind(space, hdr, key);
  if (e === 0) return -ENOENT;
  const dv = space.dv;
  unlink(space, hdr, key, e);
  dv.setBigUint64(slotOf(space, hdr, e - 1), 0n, true);
  dv.setUint32(linkAddr(space, hdr, e), u32At(space, hdr + H_FREE), true);
  dv.setUint32(hdr + H_FREE, e, true);
  dv.setUint32(hdr + H_COUNT, u32At(space, hdr + H_COUNT) - 1, true);
  changed(space, hdr);
  return 0;
}

/**
 * devhashGetNextKey is dev_map_hash_get_next_key: the next element of the key's chain, else
 * the first element of a later bucket; a missing (or no) key starts from bucket 0.
 */
export function devhashGetNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const nb = u32At(space, hdr + H_NBUCKETS);
  let b = 0;
  if (keyAddr !== 0) {
    const key = u32At(space, keyAddr);
    const e = devhashFind(space, hdr, key);
    if (e !== 0) {
      const nx = u32At(space, linkAddr(space, hdr, e));
      if (nx !== 0) {
        space.dv.setUint32(out, keyOf(space, hdr, nx), true);
        return 0;
      }
      b = (key & (nb - 1)) + 1;
    }
  }
  const buckets = u32At(space, hdr + H_BUCKETS);
  for (; b < nb; b++) {
    const e = u32At(space, buckets + b * 4);
    if (e !== 0) {
      space.dv.setUint32(out, keyOf(space, hdr, e), true);
      return 0;
    }
  }
  return -ENOENT;
}

/** devmapHashOps: DEVMAP_HASH. */
export const devmapHashOps: ExtMapOps = {
  check: checkDev,
  alloc: allocHash,
  lookup: (space, hdr, key) => devhashLookup(space, hdr, u32At(space, key)),
  update: () => notAllowed('bpf_map_update_elem', 'devmap-hash'),
  delete: () => notAllowed('bpf_map_delete_elem', 'devmap-hash'),
  getNextKey: devhashGetNextKey,
  valueRegion: true,
};

/** devTargets lists the ifindexes of a device map's entries (in iteration order), for broadcasts. */
export function devTargets(space: AddressSpace, hdr: number): number[] {
  return devEntries(space, hdr).map((e) => e.ifindex);
}

/** devEntries lists a device map's entries {ifindex, egress program id} in iteration order. */
export function devEntries(space: AddressSpace, hdr: number): DevVal[] {
  const out: DevVal[] = [];
  const entry = (s: number) => out.push({ ifindex: u32At(space, s), prog: u32At(space, s + 4) });
  const n = u32At(space, hdr + H_MAX_ENTRIES);
  if (u32At(space, hdr + 4) === DEVMAP_HASH) {
    const nb = u32At(space, hdr + H_NBUCKETS), buckets = u32At(space, hdr + H_BUCKETS);
    for (let b = 0; b < nb; b++) {
      for (let e = u32At(space, buckets + b * 4); e !== 0; e = u32At(space, linkAddr(space, hdr, e))) entry(slotOf(space, hdr, e - 1));
    }
    return out;
  }
  for (let i = 0; i < n; i++) if (u32At(space, slotOf(space, hdr, i)) !== 0) entry(slotOf(space, hdr, i));
  return out;
}

/** devFlagsOf returns the map flags as stored (with BPF_F_RDONLY_PROG). */
export function devFlagsOf(space: AddressSpace, hdr: number): number {
  return u32At(space, hdr + H_FLAGS);
}
