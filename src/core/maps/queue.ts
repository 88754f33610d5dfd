/**
 * Queue and stack maps (BPF_MAP_TYPE_QUEUE / BPF_MAP_TYPE_STACK) with the kernel's rules
 * (kernel/bpf/queue_stack_maps.c): max_entries + 1 value slots in a circle, head (next push)
 * and tail (oldest) indices; push with BPF_EXIST on a full map overwrites the oldest element,
 * without it fails with E2BIG; pop/peek of an empty map is ENOENT. Header aux: head, tail,
 * number of slots.
 */
import type { AddressSpace } from '../vm/memory.js';
import { BPF_EXIST, BPF_MAP_TYPE_STACK, E2BIG, EINVAL, ENOENT, H_AUX, H_STRIDE, H_TYPE, H_VALUES, H_VALUE_SIZE } from './layout.js';
import { lockMap, unlockMap } from './lock.js';

const H_QS_HEAD = H_AUX, H_QS_TAIL = H_AUX + 4, H_QS_SIZE = H_AUX + 8;

/** qsInit records the slot count of a new queue or stack of `maxEntries`. */
export function qsInit(space: AddressSpace, hdr: number, maxEntries: number): void {
  space.dv.setUint32(hdr + H_QS_SIZE, maxEntries + 1, true);
}

function slot(dv: DataView, hdr: number, i: number): number {
  return dv.getUint32(hdr + H_VALUES, true) + i * dv.getUint32(hdr + H_STRIDE, true);
}

/** qsPush is map_push_elem: 0, -EINVAL (flags), -E2BIG (full without BPF_EXIST). */
export function qsPush(space: AddressSpace, hdr: number, valAddr: number, flags: number): number {
  if ((flags & ~BPF_EXIST) !== 0) return -EINVAL;
  const dv = space.dv;
  lockMap(space, hdr);
  try {
    const size = dv.getUint32(hdr + H_QS_SIZE, true);
    const head = dv.getUint32(hdr + H_QS_HEAD, true);
    let tail = dv.getUint32(hdr + H_QS_TAIL, true);
    if ((head + 1) % size === tail) {
      if (!(flags & BPF_EXIST)) return -E2BIG;
      tail = (tail + 1) % size; // overwrite the oldest element
      dv.setUint32(hdr + H_QS_TAIL, tail, true);
    }
    const at = slot(dv, hdr, head);
    space.u8.copyWithin(at, valAddr, valAddr + dv.getUint32(hdr + H_VALUE_SIZE, true));
    dv.setUint32(hdr + H_QS_HEAD, (head + 1) % size, true);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}

/** qsPop copies the next element (queue: oldest; stack: newest) to `out`, removing it when `del`. */
export function qsPop(space: AddressSpace, hdr: number, out: number, del: boolean): number {
  const dv = space.dv;
  lockMap(space, hdr);
  try {
    const size = dv.getUint32(hdr + H_QS_SIZE, true);
    const head = dv.getUint32(hdr + H_QS_HEAD, true), tail = dv.getUint32(hdr + H_QS_TAIL, true);
    if (head === tail) return -ENOENT;
    const stack = dv.getUint32(hdr + H_TYPE, true) === BPF_MAP_TYPE_STACK;
    const i = stack ? (head === 0 ? size - 1 : head - 1) : tail;
    const at = slot(dv, hdr, i);
    space.u8.copyWithin(out, at, at + dv.getUint32(hdr + H_VALUE_SIZE, true));
    if (del) dv.setUint32(hdr + (stack ? H_QS_HEAD : H_QS_TAIL), stack ? i : (tail + 1) % size, true);
    return 0;
  } finally {
    unlockMap(space, hdr);
  }
}
