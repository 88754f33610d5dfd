/**
 * The key hash of hash maps (MurmurHash3 x86_32 structure over little-endian 32-bit words).
 * The Wasm map runtime computes exactly the same function, so elements inserted by either
 * implementation land in the same bucket.
 */

/** HASH_SEED is the fixed seed (maps need not resist adversarial keys here; see docs/maps.md). */
export const HASH_SEED = 0x9747b28c;

/** hashKey hashes the `len` bytes at `addr`. */
export function hashKey(dv: DataView, u8: Uint8Array, addr: number, len: number): number {
  let h = HASH_SEED ^ len;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    h ^= mixK(dv.getUint32(addr + i, true));
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < len) {
    let k = 0;
    for (let j = len - 1; j >= i; j--) k = (k << 8) | u8[addr + j];
    h ^= mixK(k);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}
