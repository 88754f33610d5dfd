/**
 * LPM trie maps (BPF_MAP_TYPE_LPM_TRIE) with the kernel's semantics (kernel/bpf/lpm_trie.c):
 * keys are { u32 prefixlen; u8 data[] } (data in network order, IPv4 4 bytes, IPv6 16),
 * lookups return the value of the longest stored prefix matching the first
 * min(prefixlen, stored prefixlen) bits, updates and deletes address a prefix exactly (bits past
 * prefixlen ignored for matching; stored as last written), get_next_key walks the trie in
 * post-order (more specific prefixes before the prefixes containing them; 0-bit branch first).
 *
 * Storage: element slots (value, key, in-use word, free-list link) in memory; the prefix
 * index lives in a per-thread JavaScript cache (prefix length -> masked prefix -> slot) that is
 * rebuilt when the map's generation word (bumped by every change) differs, so several workers
 * sharing the memory stay consistent. Header: H_KEYS, H_HASHES (in-use words), H_NEXT, H_FREE,
 * H_COUNT, aux: generation.
 */
import type { AddressSpace } from '../vm/memory.js';
import {
  BPF_EXIST, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOSPC, H_AUX, H_COUNT, H_ESTRIDE, H_FREE, H_HASHES, H_KEYS,
  H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NEXT, H_VALUES, H_VALUE_SIZE,
} from './layout.js';
import { lockMap, unlockMap } from './lock.js';

const H_GEN = H_AUX;

interface Index {
  gen: number;
  /** prefix lengths present, longest first */
  lens: number[];
  byLen: Map<number, Map<string, number>>;
}

const caches = new WeakMap<AddressSpace, Map<number, Index>>();

/** masked is the first `len` bits of the `n` data bytes at `at`, as a string key. */
function masked(u8: Uint8Array, at: number, n: number, len: number): string {
  let s = '';
  const full = len >> 3;
  for (let i = 0; i < full; i++) s += String.fromCharCode(u8[at + i]);
  if (len & 7) s += String.fromCharCode(u8[at + full] & (0xff << (8 - (len & 7))) & 0xff);
  return s;
}

function field(dv: DataView, hdr: number, off: number): number {
  return dv.getUint32(hdr + off, true);
}

function keyAt(dv: DataView, hdr: number, i: number): number {
  return field(dv, hdr, H_KEYS) + i * field(dv, hdr, H_KSTRIDE);
}

function used(dv: DataView, hdr: number, i: number): boolean {
  return dv.getUint32(field(dv, hdr, H_HASHES) + i * 4, true) !== 0;
}

function indexOf(space: AddressSpace, hdr: number): Index {
  let per = caches.get(space);
  if (!per) caches.set(space, (per = new Map()));
  const dv = space.dv, u8 = space.u8;
  const gen = field(dv, hdr, H_GEN);
  let ix = per.get(hdr);
  if (ix && ix.gen === gen) return ix;
  ix = { gen, lens: [], byLen: new Map() };
  const n = field(dv, hdr, H_MAX_ENTRIES), ds = field(dv, hdr, H_KEY_SIZE) - 4;
  for (let i = 0; i < n; i++) {
    if (!used(dv, hdr, i)) continue;
    const k = keyAt(dv, hdr, i), len = dv.getUint32(k, true);
    let m = ix.byLen.get(len);
    if (!m) ix.byLen.set(len, (m = new Map()));
    m.set(masked(u8, k + 4, ds, len), i);
  }
  ix.lens = [...ix.byLen.keys()].sort((a, b) => b - a);
  per.set(hdr, ix);
  return ix;
}

function bump(dv: DataView, hdr: number): void {
  dv.setUint32(hdr + H_GEN, (field(dv, hdr, H_GEN) + 1) >>> 0, true);
}

/**
 * track applies this thread's own change to its index (slot `i` of the key at `k` added or
 * removed) when the index was current, so a run of updates does not rebuild it each time;
 * changes by other threads still show as a generation the index does not have.
 */
function track(space: AddressSpace, hdr: number, i: number, k: number, add: boolean): void {
  const ix = caches.get(space)?.get(hdr);
  const dv = space.dv, gen = field(dv, hdr, H_GEN);
  if (!ix || ix.gen !== gen) return;
  const len = dv.getUint32(k, true);
  let m = ix.byLen.get(len);
  if (add) {
    if (!m) {
      ix.byLen.set(len, (m = new Map()));
      ix.lens = [...ix.byLen.keys()].sort((a, b) => b - a);
    }
    m.set(masked(space.u8, k + 4, field(dv, hdr, H_KEY_SIZE) - 4, len), i);
  } else if (m) {
    m.delete(masked(space.u8, k + 4, field(dv, hdr, H_KEY_SIZE) - 4, len));
    if (m.size === 0) {
      ix.byLen.delete(len);
      ix.lens = ix.lens.filter((l) => l !== len);
    }
  }
  ix.gen = (gen + 1) >>> 0;
}

/** lpmInit threads the free list of a new LPM trie. */
export function lpmInit(space: AddressSpace, hdr: number): void {
  const dv = space.dv, n = field(dv, hdr, H_MAX_ENTRIES), next = field(dv, hdr, H_NEXT);
  for (let i = 0; i < n; i++) dv.setUint32(next + i * 4, i + 2 <= n ? i + 2 : 0, true);
  dv.setUint32(hdr + H_FREE, n > 0 ? 1 : 0, true);
}

/** lpmLookupSlot returns the slot of the longest prefix matching the key at `keyAddr`, or -1. */
export function lpmLookupSlot(space: AddressSpace, hdr: number, keyAddr: number): number {
  const ix = indexOf(space, hdr);
  const dv = space.dv, ds = field(dv, hdr, H_KEY_SIZE) - 4;
  const klen = dv.getUint32(keyAddr, true);
  if (klen > ds * 8) return -1; // Linux (6.x): a lookup key longer than the trie's prefixes finds nothing
  for (const len of ix.lens) {
    if (len > klen) continue;
    const i = ix.byLen.get(len)!.get(masked(space.u8, keyAddr + 4, ds, len));
    if (i !== undefined) return i;
  }
  return -1;
}

/** lpmValue is the value address of slot `i`. */
export function lpmValue(dv: DataView, hdr: number, i: number): number {
  return field(dv, hdr, H_VALUES) + i * field(dv, hdr, H_ESTRIDE);
}

/** lpmLookup returns the value address of the longest matching prefix, or 0. */
export function lpmLookup(space: AddressSpace, hdr: number, keyAddr: number): number {
  const i = lpmLookupSlot(space, hdr, keyAddr);
  return i < 0 ? 0 : lpmValue(space.dv, hdr, i);
}

function exact(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv, len = dv.getUint32(keyAddr, true);
  const m = indexOf(space, hdr).byLen.get(len);
  const i = m?.get(masked(space.u8, keyAddr + 4, field(dv, hdr, H_KEY_SIZE) - 4, len));
  return i ?? -1;
}

/** lpmUpdate stores a value under a prefix: 0, -EINVAL, -EEXIST, -ENOENT, -ENOSPC (full). */
export function lpmUpdate(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, flags: number): number {
  if (flags >>> 0 > BPF_EXIST) return -EINVAL;
  const dv = space.dv, ks = field(dv, hdr, H_KEY_SIZE);
  if (dv.getUint32(keyAddr, true) > (ks - 4) * 8) return -EINVAL;
  lockMap(space, hdr);
  try {
    let i = exact(space, hdr, keyAddr);
    if (i >= 0 && flags === BPF_NOEXIST) return -EEXIST;
    if (i < 0 && flags === BPF_EXIST) return -ENOENT;
    if (i < 0) {
      const e = field(dv, hdr, H_FREE);
      if (e === 0 || field(dv, hdr, H_COUNT) >= field(dv, hdr, H_MAX_ENTRIES)) return -ENOSPC;
      i = e - 1;
      dv.setUint32(hdr + H_FREE, dv.getUint32(field(dv, hdr, H_NEXT) + i * 4, true), true);
      dv.setUint32(field(dv, hdr, H_HASHES) + i * 4, 1, true);
      dv.setUint32(hdr + H_COUNT, field(dv, hdr, H_COUNT) + 1, true);
    }
    space.u8.copyWithin(keyAt(dv, hdr, i), keyAddr, keyAddr + ks);
    const v = lpmValue(dv, hdr, i);
    space.u8.copyWithin(v, valAddr, valAddr + field(dv, hdr, H_VALUE_SIZE));
    track(space, hdr, i, keyAt(dv, hdr, i), true);
    bump(dv, hdr);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** lpmDelete removes an exact prefix: 0, -EINVAL (prefixlen too long), -ENOENT. */
export function lpmDelete(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv;
  if (dv.getUint32(keyAddr, true) > (field(dv, hdr, H_KEY_SIZE) - 4) * 8) return -EINVAL;
  lockMap(space, hdr);
  try {
    const i = exact(space, hdr, keyAddr);
    if (i < 0) return -ENOENT;
    track(space, hdr, i, keyAt(dv, hdr, i), false);
    dv.setUint32(field(dv, hdr, H_HASHES) + i * 4, 0, true);
    dv.setUint32(field(dv, hdr, H_NEXT) + i * 4, field(dv, hdr, H_FREE), true);
    dv.setUint32(hdr + H_FREE, i + 1, true);
    dv.setUint32(hdr + H_COUNT, field(dv, hdr, H_COUNT) - 1, true);
    bump(dv, hdr);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** postOrder compares two stored keys in the trie's post-order (-1: a first). */
function postOrder(u8: Uint8Array, dv: DataView, a: number, b: number): number {
  const la = dv.getUint32(a, true), lb = dv.getUint32(b, true);
  const lim = Math.min(la, lb);
  for (let bit = 0; bit < lim; bit++) {
    const x = (u8[a + 4 + (bit >> 3)] >> (7 - (bit & 7))) & 1, y = (u8[b + 4 + (bit >> 3)] >> (7 - (bit & 7))) & 1;
    if (x !== y) return x - y;
  }
  return lb - la; // the longer (more specific) prefix comes first
}

/** lpmGetNextKey writes the key after `keyAddr` in post-order (the first when 0, too long or absent). */
export function lpmGetNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const dv = space.dv, u8 = space.u8, ks = field(dv, hdr, H_KEY_SIZE);
  const slots: number[] = [];
  for (let i = 0, n = field(dv, hdr, H_MAX_ENTRIES); i < n; i++) if (used(dv, hdr, i)) slots.push(keyAt(dv, hdr, i));
  slots.sort((a, b) => postOrder(u8, dv, a, b));
  let at = 0;
  if (keyAddr !== 0 && dv.getUint32(keyAddr, true) <= (ks - 4) * 8) {
    const i = exact(space, hdr, keyAddr);
    if (i >= 0) at = slots.indexOf(keyAt(dv, hdr, i)) + 1;
  }
  if (at >= slots.length) return -ENOENT;
  u8.copyWithin(out, slots[at], slots[at] + ks);
  return 0;
}
