/**
 * LRU hash and LRU per-CPU hash operations: the hash table of ops-hash.ts with elements
 * taken from and returned to the LRU lists of lru.ts, in the kernel's order
 * (htab_lru_map_update_elem / __htab_lru_percpu_map_update_elem / htab_lru_map_delete_elem):
 * an update first takes a free element (which may evict the least recently used ones, even
 * the key being updated), then applies the flag checks, and gives the element back on failure.
 */
import type { AddressSpace } from '../vm/memory.js';
import { hashKey } from './hash-fn.js';
import {
  BPF_EXIST, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOMEM, H_BUCKETS, H_COUNT,
  H_HASHES, H_KEYS, H_KEY_SIZE, H_KSTRIDE, H_NBUCKETS, H_NEXT, H_TYPE,
} from './layout.js';
import { lockMap, unlockMap } from './lock.js';
import { H_LRU, Lru, unlinkFromHash } from './lru.js';
import { copyValue, findIn } from './ops-hash.js';

/** lruOf is the LRU list view of the map at `hdr`. */
export function lruOf(space: AddressSpace, hdr: number): Lru {
  return new Lru(space, space.dv.getUint32(hdr + H_LRU, true));
}

/** lruMark sets the ref bit of the element whose value storage is element `e` (link value). */
export function lruMark(space: AddressSpace, hdr: number, e: number): void {
  const meta = space.dv.getUint32(space.dv.getUint32(hdr + H_LRU, true), true);
  space.u8[meta + (e - 1) * 4 + 1] = 1;
}

function link(space: AddressSpace, hdr: number, e: number, keyAddr: number, h: number): void {
  const dv = space.dv, i = e - 1;
  const ks = dv.getUint32(hdr + H_KEY_SIZE, true), kstride = dv.getUint32(hdr + H_KSTRIDE, true);
  space.u8.copyWithin(dv.getUint32(hdr + H_KEYS, true) + i * kstride, keyAddr, keyAddr + ks);
  dv.setUint32(dv.getUint32(hdr + H_HASHES, true) + i * 4, h, true);
  const bucket = dv.getUint32(hdr + H_BUCKETS, true) + (h & (dv.getUint32(hdr + H_NBUCKETS, true) - 1)) * 4;
  dv.setUint32(dv.getUint32(hdr + H_NEXT, true) + i * 4, dv.getUint32(bucket, true), true);
  dv.setUint32(bucket, e, true);
  dv.setUint32(hdr + H_COUNT, dv.getUint32(hdr + H_COUNT, true) + 1, true);
}

/**
 * lruPopFree takes a free element for CPU `cpu` (Lru.popFree: may rotate, shrink and evict
 * through the hash table, or steal); -1 when none. The caller holds the map's lock.
 */
export function lruPopFree(space: AddressSpace, hdr: number, cpu: number): number {
  return lruOf(space, hdr).popFree(cpu, (i) => unlinkFromHash(space, hdr, i));
}

/**
 * lruUpdate stores the value at `valAddr` under `key`. `slot` is the CPU slot to write (or
 * COPY_ALL_CPUS), `cpu` the CPU running the operation (whose LRU lists are used).
 */
export function lruUpdate(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, flags: number,
  slot: number, cpu: number): number {
  if (flags >>> 0 > BPF_EXIST) return -EINVAL;
  const dv = space.dv;
  const percpu = dv.getUint32(hdr + H_TYPE, true) === BPF_MAP_TYPE_LRU_PERCPU_HASH;
  const h = hashKey(dv, space.u8, keyAddr, dv.getUint32(hdr + H_KEY_SIZE, true));
  lockMap(space, hdr);
  try {
    const lru = lruOf(space, hdr);
    let x = -1;
    if (!percpu || flags !== BPF_EXIST) {
      x = lruPopFree(space, hdr, cpu);
      if (x < 0) return -ENOMEM;
      if (!percpu) copyValue(space, hdr, x + 1, valAddr, slot, false);
    }
    const e = findIn(space, hdr, keyAddr, h);
    const err = e !== 0 && flags === BPF_NOEXIST ? -EEXIST : e === 0 && flags === BPF_EXIST ? -ENOENT : 0;
    if (err) {
      if (x >= 0) lru.pushFree(x);
      return err;
    }
    if (percpu) {
      if (e !== 0) {
        lru.setRef(e - 1, 1);
        copyValue(space, hdr, e, valAddr, slot, false);
        if (x >= 0) lru.pushFree(x);
        return 0;
      }
      copyValue(space, hdr, x + 1, valAddr, slot, true);
      link(space, hdr, x + 1, keyAddr, h);
      return 0;
    }
    link(space, hdr, x + 1, keyAddr, h);
    if (e !== 0) {
      lru.setRef(x, 1);
      unlinkFromHash(space, hdr, e - 1);
      lru.pushFree(e - 1);
    }
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** lruDelete removes `key` and frees its element: 0 or -ENOENT. */
export function lruDelete(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv;
  const h = hashKey(dv, space.u8, keyAddr, dv.getUint32(hdr + H_KEY_SIZE, true));
  lockMap(space, hdr);
  try {
    const e = findIn(space, hdr, keyAddr, h);
    if (e === 0) return -ENOENT;
    unlinkFromHash(space, hdr, e - 1);
    lruOf(space, hdr).pushFree(e - 1);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}
