/**
 * Array and per-CPU array operations over the layout of layout.ts. A key is a u32 index;
 * element i's value slot for CPU c is at values + i * estride + c * stride.
 */
import type { AddressSpace } from '../vm/memory.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT, H_ESTRIDE, H_MAX_ENTRIES, H_VALUES } from './layout.js';

/** arrayElem returns the address of element `key`'s value storage (all CPUs), or 0 when out of range. */
export function arrayElem(space: AddressSpace, hdr: number, keyAddr: number): number {
  const dv = space.dv;
  const idx = dv.getUint32(keyAddr, true);
  if (idx >= dv.getUint32(hdr + H_MAX_ENTRIES, true)) return 0;
  return dv.getUint32(hdr + H_VALUES, true) + idx * dv.getUint32(hdr + H_ESTRIDE, true);
}

/** arrayCheckUpdate returns 0 when an update of `key` with `flags` may proceed, else -errno (kernel order). */
export function arrayCheckUpdate(space: AddressSpace, hdr: number, keyAddr: number, flags: number): number {
  if ((flags & ~BPF_F_LOCK) >>> 0 > BPF_EXIST) return -EINVAL;
  const dv = space.dv;
  if (dv.getUint32(keyAddr, true) >= dv.getUint32(hdr + H_MAX_ENTRIES, true)) return -E2BIG;
  if (flags & BPF_NOEXIST) return -EEXIST;
  return 0;
}

/** arrayDelete: elements of an array cannot be deleted. */
export function arrayDelete(): number {
  return -EINVAL;
}

/** arrayGetNextKey writes the index after `key` (0 for no key or one out of range) to `out`. */
export function arrayGetNextKey(space: AddressSpace, hdr: number, keyAddr: number, out: number): number {
  const dv = space.dv;
  const max = dv.getUint32(hdr + H_MAX_ENTRIES, true);
  const idx = keyAddr === 0 ? max : dv.getUint32(keyAddr, true);
  if (idx >= max) {
    dv.setUint32(out, 0, true);
    return 0;
  }
  if (idx === max - 1) return -ENOENT;
  dv.setUint32(out, idx + 1, true);
  return 0;
}
