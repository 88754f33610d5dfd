/**
 * The map operations by type, over memory: what the user-space API and the JavaScript
 * helpers call. Keys and values are addresses in the address space; results are 0 or
 * -errno (Linux values), lookups return addresses (0 = none).
 */
import type { AddressSpace } from '../vm/memory.js';
import { arrayCheckUpdate, arrayDelete, arrayElem, arrayGetNextKey } from './ops-array.js';
import { COPY_ALL_CPUS, hashDelete, hashElem, hashGetNextKey, hashUpdate } from './ops-hash.js';
import { lruDelete, lruMark, lruUpdate } from './ops-lru.js';
import { hashFind } from './ops-hash.js';
import { lockMap, readBegin, readRetry, unlockMap } from './lock.js';
import { lpmDelete, lpmGetNextKey, lpmLookup, lpmUpdate } from './lpm.js';
import { extOf } from './ext.js';
import { USER_OWNER, copyAroundLock, spinLockOff, spinRelease, spinTake } from './spin-lock.js';
import {
  BPF_F_LOCK, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_PROG_ARRAY, isQueueStack, H_VALUES, isLruType, EINVAL, ENOTSUPP, H_ESTRIDE, H_NCPUS, H_STRIDE, H_TYPE, H_VALUE_SIZE, isArrayType, isHashType,
} from './layout.js';

export { COPY_ALL_CPUS } from './ops-hash.js';

/** elemValue returns the address of the value storage (all CPU slots) of `key`, or 0. */
export function elemValue(space: AddressSpace, hdr: number, keyAddr: number): number {
  const t = space.dv.getUint32(hdr + H_TYPE, true);
  if (isArrayType(t)) return arrayElem(space, hdr, keyAddr);
  if (isHashType(t)) return hashElem(space, hdr, keyAddr);
  if (t === BPF_MAP_TYPE_LPM_TRIE) return lpmLookup(space, hdr, keyAddr);
  return 0;
}

/** lookupElem is bpf_map_lookup_elem for a program on `cpu`: the address of its value slot, or 0. */
export function lookupElem(space: AddressSpace, hdr: number, keyAddr: number, cpu: number): number {
  const ext = extOf(space, hdr);
  if (ext) return ext.lookup(space, hdr, keyAddr, cpu);
  const dv = space.dv;
  const t = dv.getUint32(hdr + H_TYPE, true);
  let v: number;
  if (isArrayType(t)) v = arrayElem(space, hdr, keyAddr);
  else {
    // lock-free read validated by the map's sequence word (workers: see lock.ts)
    let seq: number;
    do {
      seq = readBegin(space, hdr);
      v = findValue(space, hdr, keyAddr, t);
    } while (readRetry(space, hdr, seq));
  }
  if (v === 0) return 0;
  return dv.getUint32(hdr + H_NCPUS, true) > 1 ? v + cpu * dv.getUint32(hdr + H_STRIDE, true) : v;
}

function findValue(space: AddressSpace, hdr: number, keyAddr: number, t: number): number {
  if (!isLruType(t)) return elemValue(space, hdr, keyAddr);
  // a program's lookup marks the element referenced (user-space lookups do not, as in Linux)
  const dv = space.dv;
  const e = hashFind(space, hdr, keyAddr);
  if (e === 0) return 0;
  lruMark(space, hdr, e);
  return dv.getUint32(hdr + H_VALUES, true) + (e - 1) * dv.getUint32(hdr + H_ESTRIDE, true);
}

/**
 * lookupCopy copies `len` bytes of the value storage of `key` into `out` at `at` (user-space
 * lookups): true when found. The search and the copy are one validated read, so the copy is
 * never a value a concurrent writer was changing. `locked` (BPF_F_LOCK) copies while holding
 * the value's bpf_spin_lock; the lock word itself always reads as zero.
 */
export function lookupCopy(space: AddressSpace, hdr: number, keyAddr: number, out: Uint8Array, at: number, len: number,
  locked = false): boolean {
  let seq: number, v: number;
  const lo = spinLockOff(space, hdr);
  do {
    seq = readBegin(space, hdr);
    v = elemValue(space, hdr, keyAddr);
    const held = v !== 0 && lo >= 0 && locked && spinTake(space, v + lo, USER_OWNER);
    if (v !== 0) out.set(space.u8.subarray(v, v + len), at);
    if (held) spinRelease(space, v + lo, USER_OWNER);
  } while (readRetry(space, hdr, seq));
  // the lock word reads as zero (Linux: check_and_init_map_value)
  if (v !== 0 && lo >= 0) out.fill(0, at + lo, at + lo + 4);
  return v !== 0;
}

/**
 * updateElem stores the value at `valAddr` under `key`: a program on `cpu` writes that CPU's
 * slot; COPY_ALL_CPUS (user space) writes every slot of a per-CPU map from ncpus * round8(value_size) bytes.
 * `runCpu` is the CPU running the operation (LRU maps take free elements from its lists).
 */
export function updateElem(space: AddressSpace, hdr: number, keyAddr: number, valAddr: number, flags: number, cpu: number,
  runCpu = cpu < 0 ? 0 : cpu): number {
  const ext = extOf(space, hdr);
  if (ext) return ext.update(space, hdr, keyAddr, valAddr, flags, cpu);
  const dv = space.dv;
  const t = dv.getUint32(hdr + H_TYPE, true);
  if (t === BPF_MAP_TYPE_LPM_TRIE) return lpmUpdate(space, hdr, keyAddr, valAddr, flags);
  if (isLruType(t)) {
    return lruUpdate(space, hdr, keyAddr, valAddr, flags, dv.getUint32(hdr + H_NCPUS, true) === 1 ? 0 : cpu, runCpu);
  }
  const ncpus = dv.getUint32(hdr + H_NCPUS, true);
  const slot = ncpus === 1 ? 0 : cpu;
  // BPF_F_LOCK needs a bpf_spin_lock in the value (array: checked after index and NOEXIST, as Linux)
  const lo = spinLockOff(space, hdr), badLock = (flags & BPF_F_LOCK) !== 0 && lo < 0;
  if (isHashType(t)) return badLock ? -EINVAL : hashUpdate(space, hdr, keyAddr, valAddr, flags, slot);
  if (!isArrayType(t) || (badLock && t !== BPF_MAP_TYPE_ARRAY)) return -EINVAL;
  const err = arrayCheckUpdate(space, hdr, keyAddr, flags);
  if (err) return err;
  if (badLock) return -EINVAL;
  const base = arrayElem(space, hdr, keyAddr);
  if (lo >= 0) {
    copyAroundLock(space, base, valAddr, dv.getUint32(hdr + H_VALUE_SIZE, true), lo, (flags & BPF_F_LOCK) !== 0 ? base + lo : -1);
    return 0;
  }
  if (slot === COPY_ALL_CPUS) {
    space.u8.copyWithin(base, valAddr, valAddr + dv.getUint32(hdr + H_ESTRIDE, true));
  } else {
    const dst = base + slot * dv.getUint32(hdr + H_STRIDE, true);
    space.u8.copyWithin(dst, valAddr, valAddr + dv.getUint32(hdr + H_VALUE_SIZE, true));
  }
  return 0;
}

/** deleteElem removes `key`: 0, -ENOENT, or -EINVAL for arrays. */
export function deleteElem(space: AddressSpace, hdr: number, keyAddr: number): number {
  const ext = extOf(space, hdr);
  if (ext) return ext.delete(space, hdr, keyAddr);
  const t = space.dv.getUint32(hdr + H_TYPE, true);
  if (isLruType(t)) return lruDelete(space, hdr, keyAddr);
  if (t === BPF_MAP_TYPE_LPM_TRIE) return lpmDelete(space, hdr, keyAddr);
  if (isHashType(t)) return hashDelete(space, hdr, keyAddr);
  if (isArrayType(t)) return arrayDelete();
  return -EINVAL;
}

/** getNextKey writes the key after `key` (keyAddr 0 = first key) to `out`: 0 or -ENOENT. */
export function getNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const ext = extOf(space, hdr);
  if (ext) return ext.getNextKey(space, hdr, keyAddr, out);
  const t = space.dv.getUint32(hdr + H_TYPE, true);
  if (isHashType(t) || t === BPF_MAP_TYPE_LPM_TRIE) {
    // walks follow links writers change: hold the lock (workers; no-op otherwise)
    lockMap(space, hdr);
    try {
      return isHashType(t) ? hashGetNextKey(space, hdr, keyAddr, out) : lpmGetNextKey(space, hdr, keyAddr, out);
    } finally {
      unlockMap(space, hdr);
    }
  }
  if (isArrayType(t) || t === BPF_MAP_TYPE_PROG_ARRAY) return arrayGetNextKey(space, hdr, keyAddr, out);
  if (isQueueStack(t)) return -EINVAL;
  if (t === BPF_MAP_TYPE_LPM_TRIE) return lpmGetNextKey(space, hdr, keyAddr, out);
  return -ENOTSUPP;
}
