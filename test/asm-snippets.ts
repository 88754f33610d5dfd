/**
 * Assembly fragments several test programs share, so each program text says only what is its own.
 */

/** lookupKey0 is `r0 = bpf_map_lookup_elem(map fd, &(u32)0)`, the key at r10 - 4 (r1, r2 clobbered). */
export function lookupKey0(fd: number): string {
  return `r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${fd}
    call 1`;
}

/**
 * LOCKED_COUNT runs, under the bpf_spin_lock at r7 + 8 of a map value at r7, a plain
 * a += 1 (u64 at r7 + 0) and b += a (u64 at r7 + 16): exact only with mutual exclusion.
 */
export const LOCKED_COUNT = `r1 = r7
    r1 += 8
    call 93
    r1 = *(u64 *)(r7 + 0)
    r1 += 1
    *(u64 *)(r7 + 0) = r1
    r2 = *(u64 *)(r7 + 16)
    r2 += r1
    *(u64 *)(r7 + 16) = r2
    r1 = r7
    r1 += 8
    call 94`;
