/**
 * RSS-style spreading: a frame's IPv4 5-tuple (addresses, protocol, TCP/UDP ports) hashed to a
 * queue, so every frame of a flow lands on the same worker (in order, with its per-CPU state),
 * as a NIC's receive-side scaling does. Non-IPv4 frames hash their MAC addresses.
 */

/** flowHash is FNV-1a over the frame's 5-tuple (or its MAC addresses when it is not IPv4). */
export function flowHash(f: Uint8Array): number {
  return flowHashAt(f, 0, f.length);
}

/** flowHashAt is flowHash of the `len`-byte frame at `off` in `u8` (a frame in the address space, no copy). */
export function flowHashAt(u8: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  const mix = (i: number) => {
    h = Math.imul(h ^ u8[off + i], 16777619);
  };
  if (len >= 34 && u8[off + 12] === 0x08 && u8[off + 13] === 0x00) {
    for (let i = 26; i < 34; i++) mix(i);
    const proto = u8[off + 23];
    mix(23);
    const l4 = 14 + (u8[off + 14] & 0x0f) * 4;
    if ((proto === 6 || proto === 17) && len >= l4 + 4) for (let i = l4; i < l4 + 4; i++) mix(i);
  } else {
    for (let i = 0; i < Math.min(12, len); i++) mix(i);
  }
  return h >>> 0;
}

/** spreadFlows deals frames to `n` queues by flowHash (queue = hash mod n). */
export function spreadFlows(frames: Uint8Array[], n: number): Uint8Array[][] {
  const out: Uint8Array[][] = Array.from({ length: n }, () => []);
  for (const f of frames) out[flowHash(f) % n].push(f);
  return out;
}
