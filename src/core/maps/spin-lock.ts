/**
 * bpf_spin_lock inside map values: where the lock is (the header's H_SPIN word, from the
 * value type's BTF), taking and releasing it, and the BPF_F_LOCK copies of user-space lookups
 * and updates (the value copied under the lock, the lock word itself neither copied nor
 * overwritten), as kernel/bpf/helpers.c and copy_map_value_locked do.
 */
import type { AddressSpace } from '../vm/memory.js';
import { H_SPIN } from './layout.js';

/** spinLockOff returns the offset of the bpf_spin_lock in the values of the map at `hdr`, or -1. */
export function spinLockOff(space: AddressSpace, hdr: number): number {
  return space.dv.getUint32(hdr + H_SPIN, true) - 1;
}
