/**
 * jhash: Bob Jenkins' lookup3 hash as the Linux kernel's <linux/jhash.h> computes it (jhash
 * over bytes, jhash2 over u32 words), so a bloom filter created with BPF_F_ZERO_SEED sets and
 * tests exactly the bits the kernel's would.
 */

const JHASH_INITVAL = 0xdeadbeef;

function rol(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** State of the three lookup3 words. */
interface Abc {
  a: number;
  b: number;
  c: number;
}

function mix(s: Abc): void {
  let { a, b, c } = s;
  a = (a - c) | 0; a ^= rol(c, 4); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol(a, 6); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol(b, 8); b = (b + a) | 0;
  a = (a - c) | 0; a ^= rol(c, 16); c = (c + b) | 0;
  b = (b - a) | 0; b ^= rol(a, 19); a = (a + c) | 0;
  c = (c - b) | 0; c ^= rol(b, 4); b = (b + a) | 0;
  s.a = a; s.b = b; s.c = c;
}

function final(s: Abc): void {
  let { a, b, c } = s;
  c ^= b; c = (c - rol(b, 14)) | 0;
  a ^= c; a = (a - rol(c, 11)) | 0;
  b ^= a; b = (b - rol(a, 25)) | 0;
  c ^= b; c = (c - rol(b, 16)) | 0;
  a ^= c; a = (a - rol(c, 4)) | 0;
  b ^= a; b = (b - rol(a, 14)) | 0;
  c ^= b; c = (c - rol(b, 24)) | 0;
  s.a = a; s.b = b; s.c = c;
}

/** jhash hashes `len` bytes at `u8[at..]` with `initval` (the kernel's jhash()). */
export function jhash(u8: Uint8Array, at: number, len: number, initval: number): number {
  const v = (JHASH_INITVAL + len + initval) | 0;
  const s: Abc = { a: v, b: v, c: v };
  const w = (k: number): number => u8[k] | (u8[k + 1] << 8) | (u8[k + 2] << 16) | (u8[k + 3] << 24);
  let k = at, n = len;
  while (n > 12) {
    s.a = (s.a + w(k)) | 0; s.b = (s.b + w(k + 4)) | 0; s.c = (s.c + w(k + 8)) | 0;
    mix(s);
    n -= 12;
    k += 12;
  }
  if (n === 0) return s.c >>> 0;
  // the tail: byte i of the last 1..12 goes to word i/4 at bit 8*(i%4)
  const add = [0, 0, 0];
  for (let i = 0; i < n; i++) add[i >> 2] = (add[i >> 2] + (u8[k + i] << (8 * (i & 3)))) | 0;
  s.a = (s.a + add[0]) | 0; s.b = (s.b + add[1]) | 0; s.c = (s.c + add[2]) | 0;
  final(s);
  return s.c >>> 0;
}

/** jhash2 hashes `words` little-endian u32 words at `at` with `initval` (the kernel's jhash2()). */
export function jhash2(dv: DataView, at: number, words: number, initval: number): number {
  const v = (JHASH_INITVAL + (words << 2) + initval) | 0;
  const s: Abc = { a: v, b: v, c: v };
  let k = at, n = words;
  while (n > 3) {
    s.a = (s.a + dv.getUint32(k, true)) | 0; s.b = (s.b + dv.getUint32(k + 4, true)) | 0; s.c = (s.c + dv.getUint32(k + 8, true)) | 0;
    mix(s);
    n -= 3;
    k += 12;
  }
  if (n === 0) return s.c >>> 0;
  if (n >= 3) s.c = (s.c + dv.getUint32(k + 8, true)) | 0;
  if (n >= 2) s.b = (s.b + dv.getUint32(k + 4, true)) | 0;
  s.a = (s.a + dv.getUint32(k, true)) | 0;
  final(s);
  return s.c >>> 0;
}
