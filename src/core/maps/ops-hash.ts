/**
 * Hash and per-CPU hash operations over the layout of layout.ts: preallocated elements
 * (index e - 1 for a link value e; 0 ends a chain), buckets of singly linked chains with new
 * elements at the head (as the kernel's hlist), a free list threaded through the links.
 * Element storage is split into parallel arrays (links, hashes, keys, values) so the value
 * storage is one contiguous block programs may be allowed to access without reaching keys.
 */
import type { AddressSpace } from '../vm/memory.js';
import { copyAroundLock, spinLockOff } from './spin-lock.js';
import { hashKey } from './hash-fn.js';
import {
  BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, H_BUCKETS, H_COUNT, H_ESTRIDE, H_FREE, H_HASHES,
  H_KEYS, H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NBUCKETS, H_NEXT, H_NCPUS, H_STRIDE, H_VALUES, H_VALUE_SIZE,
} from './layout.js';
import { lockMap, unlockMap } from './lock.js';

/** COPY_ALL_CPUS as the `cpu` of hashUpdate copies a whole user-space per-CPU value (estride bytes). */
export const COPY_ALL_CPUS = -1;

function keysEqual(u8: Uint8Array, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (u8[a + i] !== u8[b + i]) return false;
  return true;
}

/** hashFind returns the link value (index + 1) of the element holding `key`, or 0. */
export function hashFind(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv, u8 = space.u8;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true);
  const h = hashKey(dv, u8, keyAddr, ks);
  return findIn(space, hdr, keyAddr, h);
}

/** findIn is hashFind with the key's hash `h` already computed. */
export function findIn(space: AddressSpace, hdr: number, keyAddr: number, h: number): number {
  const dv = space.dv, u8 = space.u8;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true), kstride = dv.getUint32(hdr + H_KSTRIDE, true);
  const keys = dv.getUint32(hdr + H_KEYS, true), hashes = dv.getUint32(hdr + H_HASHES, true);
  const next = dv.getUint32(hdr + H_NEXT, true);
  const nb = dv.getUint32(hdr + H_NBUCKETS, true);
  let e = dv.getUint32(dv.getUint32(hdr + H_BUCKETS, true) + (h & (nb - 1)) * 4, true);
  // a lock-free walk racing with writers (workers) may be led astray: bounded, the reader retries
  let steps = dv.getUint32(hdr + H_MAX_ENTRIES, true);
  while (e !== 0 && steps-- > 0) {
    const i = e - 1;
    if (dv.getUint32(hashes + i * 4, true) === h >>> 0 && keysEqual(u8, keys + i * kstride, keyAddr, ks)) return e;
    e = dv.getUint32(next + i * 4, true);
  }
  return 0;
}

/** hashElem returns the address of element `key`'s value storage (all CPUs), or 0. */
export function hashElem(space: AddressSpace, hdr: number, keyAddr: number): number {
  const e = hashFind(space, hdr, keyAddr);
  if (e === 0) return 0;
  const dv = space.dv;
  return dv.getUint32(hdr + H_VALUES, true) + (e - 1) * dv.getUint32(hdr + H_ESTRIDE, true);
}

/**
 * hashUpdate stores the value at `valAddr` under `key` (kernel flag rules) and returns 0 or
 * -errno. `cpu` >= 0 writes that CPU's slot (value_size bytes; a new per-CPU element gets the
 * other slots zeroed); COPY_ALL_CPUS copies estride bytes (user space, per-CPU maps).
 */
export function hashUpdate(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, flags: number, cpu: number): number {
  const f = (flags & ~BPF_F_LOCK) >>> 0;
  if (f > BPF_EXIST) return -EINVAL;
  const dv = space.dv;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true);
  const h = hashKey(dv, space.u8, keyAddr, ks);
  lockMap(space, hdr);
  try {
    const e = findIn(space, hdr, keyAddr, h);
    if (e !== 0 && f === BPF_NOEXIST) return -EEXIST;
    if (e === 0 && f === BPF_EXIST) return -ENOENT;
    if (e !== 0) {
      copyValue(space, hdr, e, valAddr, cpu, false, (flags & BPF_F_LOCK) !== 0);
      return 0;
    }
    return insert(space, hdr, keyAddr, valAddr, h, cpu);
  } finally {
    unlockMap(space, hdr);
  }
}

function insert(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, h: number, cpu: number): number {
  const dv = space.dv;
  const e = dv.getUint32(hdr + H_FREE, true);
  if (e === 0) return -E2BIG;
  const i = e - 1;
  const next = dv.getUint32(hdr + H_NEXT, true);
  dv.setUint32(hdr + H_FREE, dv.getUint32(next + i * 4, true), true);
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true), kstride = dv.getUint32(hdr + H_KSTRIDE, true);
  const u8 = space.u8;
  u8.copyWithin(dv.getUint32(hdr + H_KEYS, true) + i * kstride, keyAddr, keyAddr + ks);
  dv.setUint32(dv.getUint32(hdr + H_HASHES, true) + i * 4, h, true);
  copyValue(space, hdr, e, valAddr, cpu, true);
  // link at the head of its bucket only once the element is complete (lock-free readers)
  const bucket = dv.getUint32(hdr + H_BUCKETS, true) + (h & (dv.getUint32(hdr + H_NBUCKETS, true) - 1)) * 4;
  dv.setUint32(next + i * 4, dv.getUint32(bucket, true), true);
  dv.setUint32(bucket, e, true);
  dv.setUint32(hdr + H_COUNT, dv.getUint32(hdr + H_COUNT, true) + 1, true);
  return 0;
}

/**
 * copyValue writes a value into element `e` (link value): one CPU's slot, or all
 * (COPY_ALL_CPUS); `fresh` zeroes the other slots. A value's bpf_spin_lock word is never
 * written (a fresh element's is zeroed); `locked` (BPF_F_LOCK) copies while holding it.
 */
export function copyValue(space: AddressSpace, hdr: number, e: number, valAddr: number, cpu: number, fresh: boolean,
  locked = false): void {
  const dv = space.dv, u8 = space.u8;
  const estride = dv.getUint32(hdr + H_ESTRIDE, true);
  const base = dv.getUint32(hdr + H_VALUES, true) + (e - 1) * estride;
  const lo = spinLockOff(space, hdr);
  if (lo >= 0) {
    // maps with a spin lock are never per-CPU: one slot
    if (fresh) dv.setUint32(base + lo, 0, true);
    copyAroundLock(space, base, valAddr, dv.getUint32(hdr + H_VALUE_SIZE, true), lo, locked ? base + lo : -1);
    return;
  }
  if (cpu === COPY_ALL_CPUS) {
    u8.copyWithin(base, valAddr, valAddr + estride);
    return;
  }
  const vs = dv.getUint32(hdr + H_VALUE_SIZE, true), stride = dv.getUint32(hdr + H_STRIDE, true);
  if (fresh && dv.getUint32(hdr + H_NCPUS, true) > 1) u8.fill(0, base, base + estride);
  u8.copyWithin(base + cpu * stride, valAddr, valAddr + vs);
}

/** hashDelete removes `key`; returns 0 or -ENOENT. */
export function hashDelete(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv, u8 = space.u8;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true);
  const h = hashKey(dv, u8, keyAddr, ks);
  lockMap(space, hdr);
  try {
    const kstride = dv.getUint32(hdr + H_KSTRIDE, true), keys = dv.getUint32(hdr + H_KEYS, true);
    const hashes = dv.getUint32(hdr + H_HASHES, true), next = dv.getUint32(hdr + H_NEXT, true);
    let link = dv.getUint32(hdr + H_BUCKETS, true) + (h & (dv.getUint32(hdr + H_NBUCKETS, true) - 1)) * 4;
    let e = dv.getUint32(link, true);
    while (e !== 0) {
      const i = e - 1;
      if (dv.getUint32(hashes + i * 4, true) === h && keysEqual(u8, keys + i * kstride, keyAddr, ks)) {
        dv.setUint32(link, dv.getUint32(next + i * 4, true), true);
        dv.setUint32(next + i * 4, dv.getUint32(hdr + H_FREE, true), true);
        dv.setUint32(hdr + H_FREE, e, true);
        dv.setUint32(hdr + H_COUNT, dv.getUint32(hdr + H_COUNT, true) - 1, true);
        return 0;
      }
      link = next + i * 4;
      e = dv.getUint32(link, true);
    }
    return -ENOENT;
  } finally {
    unlockMap(space, hdr);
  }
}

/**
 * hashGetNextKey writes the key after `key` to `out` following the kernel's rule: the next
 * element of its chain, else the first element of a later bucket; a missing (or NULL) key
 * restarts from the first bucket. -ENOENT after the last element.
 */
export function hashGetNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const dv = space.dv, u8 = space.u8;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true), kstride = dv.getUint32(hdr + H_KSTRIDE, true);
  const keys = dv.getUint32(hdr + H_KEYS, true), next = dv.getUint32(hdr + H_NEXT, true);
  const buckets = dv.getUint32(hdr + H_BUCKETS, true), nb = dv.getUint32(hdr + H_NBUCKETS, true);
  let b = 0;
  if (keyAddr !== 0) {
    const h = hashKey(dv, u8, keyAddr, ks);
    const e = findIn(space, hdr, keyAddr, h);
    if (e !== 0) {
      const n = dv.getUint32(next + (e - 1) * 4, true);
      if (n !== 0) {
        u8.copyWithin(out, keys + (n - 1) * kstride, keys + (n - 1) * kstride + ks);
        return 0;
      }
      b = (h & (nb - 1)) + 1;
    }
  }
  for (; b < nb; b++) {
    const n = dv.getUint32(buckets + b * 4, true);
    if (n !== 0) {
      u8.copyWithin(out, keys + (n - 1) * kstride, keys + (n - 1) * kstride + ks);
      return 0;
    }
  }
  return -ENOENT;
}
