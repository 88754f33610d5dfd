/**
 * Tracked numbers ("tnums"), the Linux verifier's known-bits domain: a 64-bit value is
 * described by `v` (bits known to be 1) and `m` (bits that are unknown); a bit set in `m`
 * is never set in `v`. All values are unsigned 64-bit BigInts.
 */

/** Tnum is a set of 64-bit values described by known bits. */
export interface Tnum {
  readonly v: bigint;
  readonly m: bigint;
}

/** U64 is 2^64 - 1, the all-ones 64-bit mask. */
export const U64 = (1n << 64n) - 1n;
/** U32 is 2^32 - 1. */
export const U32 = 0xffffffffn;

const u64 = (x: bigint): bigint => x & U64;

/** tnum builds a tnum, normalising so that known and unknown bits never overlap. */
export function tnum(v: bigint, m: bigint): Tnum {
  // masking allocates a BigInt: skip it for values already in range (the common case)
  const mm = m >= 0n && m <= U64 ? m : u64(m);
  const vv = v >= 0n && v <= U64 ? v : u64(v);
  return { v: mm === 0n ? vv : vv & (U64 ^ mm), m: mm };
}

/** tConst is the tnum of one known value. */
export const tConst = (x: bigint): Tnum => ({ v: u64(x), m: 0n });
/** T_UNKNOWN is the tnum of every 64-bit value. */
export const T_UNKNOWN: Tnum = { v: 0n, m: U64 };

/** tIsConst tells whether all bits are known. */
export const tIsConst = (a: Tnum): boolean => a.m === 0n;

/** fls is the position of the highest set bit of a 64-bit value (0 for 0). */
function fls(x: bigint): number {
  if (x <= U32) return 32 - Math.clz32(Number(x));
  return 64 - Math.clz32(Number(x >> 32n));
}

/** tRange is the smallest tnum holding every value of the unsigned range [min, max]. */
export function tRange(min: bigint, max: bigint): Tnum {
  const chi = u64(min ^ max);
  const bits = fls(chi);
  if (bits > 63) return T_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return tnum(min & ~delta, delta);
}

/** tAdd is the tnum of a + b (mod 2^64). */
export function tAdd(a: Tnum, b: Tnum): Tnum {
  const sm = u64(a.m + b.m);
  const sv = u64(a.v + b.v);
  const sigma = u64(sm + sv);
  const chi = sigma ^ sv;
  const mu = chi | a.m | b.m;
  return tnum(sv, mu);
}

/** tSub is the tnum of a - b (mod 2^64). */
export function tSub(a: Tnum, b: Tnum): Tnum {
  const dv = u64(a.v - b.v);
  const alpha = u64(dv + a.m);
  const beta = u64(dv - b.m);
  const chi = alpha ^ beta;
  const mu = chi | a.m | b.m;
  return tnum(dv, mu);
}

/** tAnd is the tnum of a & b. */
export function tAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.v | a.m;
  const beta = b.v | b.m;
  const v = a.v & b.v;
  return tnum(v, alpha & beta & ~v);
}

/** tOr is the tnum of a | b. */
export function tOr(a: Tnum, b: Tnum): Tnum {
  const v = a.v | b.v;
  return tnum(v, (a.m | b.m) & ~v);
}

/** tXor is the tnum of a ^ b. */
export function tXor(a: Tnum, b: Tnum): Tnum {
  const mu = a.m | b.m;
  return tnum((a.v ^ b.v) & ~mu, mu);
}

/** tLsh shifts left by a known amount. */
export const tLsh = (a: Tnum, s: number): Tnum => tnum(a.v << BigInt(s), a.m << BigInt(s));
/** tRsh shifts right (logical) by a known amount. */
export const tRsh = (a: Tnum, s: number): Tnum => tnum(a.v >> BigInt(s), a.m >> BigInt(s));

/** tArsh shifts right arithmetically at width 32 or 64 (the result is zero-extended at 32). */
export function tArsh(a: Tnum, s: number, width: 32 | 64): Tnum {
  const sh = BigInt(s);
  const sv = BigInt.asIntN(width, a.v) >> sh;
  const sm = BigInt.asIntN(width, a.m) >> sh;
  return tnum(BigInt.asUintN(width, sv), BigInt.asUintN(width, sm));
}

/**
 * tMul is the tnum of a * b (mod 2^64), computed bit by bit as the kernel does (tnum_mul).
 * The loop runs on 32-bit halves in plain numbers: the same result without a BigInt
 * allocation per bit.
 */
export function tMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.v * b.v);
  let xvl = lo32(a.v), xvh = hi32(a.v), xml = lo32(a.m), xmh = hi32(a.m);
  let yml = lo32(b.m), ymh = hi32(b.m);
  const yall = b.v | b.m;
  let yal = lo32(yall), yah = hi32(yall);
  // accumulated mask (the value part stays 0): M = (M + Y) | M | Y for each added Y
  let ml = 0, mh = 0;
  while ((xvl | xvh | xml | xmh) !== 0) {
    let yl = 0, yh = 0, add = true;
    if (xvl & 1) {
      yl = yml;
      yh = ymh;
    } else if (xml & 1) {
      yl = yal;
      yh = yah;
    } else add = false;
    if (add) {
      const sl = ml + yl;
      const sh = (mh + yh + (sl > 0xffffffff ? 1 : 0)) >>> 0;
      ml = ((sl >>> 0) | ml | yl) >>> 0;
      mh = (sh | mh | yh) >>> 0;
    }
    xvl = ((xvl >>> 1) | (xvh << 31)) >>> 0;
    xvh >>>= 1;
    xml = ((xml >>> 1) | (xmh << 31)) >>> 0;
    xmh >>>= 1;
    ymh = ((ymh << 1) | (yml >>> 31)) >>> 0;
    yml = (yml << 1) >>> 0;
    yah = ((yah << 1) | (yal >>> 31)) >>> 0;
    yal = (yal << 1) >>> 0;
  }
  return tAdd(tConst(accV), { v: 0n, m: (BigInt(mh) << 32n) | BigInt(ml) });
}

const lo32 = (x: bigint): number => Number(x & U32);
const hi32 = (x: bigint): number => Number(x >> 32n);

/** tIntersect combines two descriptions of the same value. */
export function tIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.v | b.v;
  const mu = a.m & b.m;
  return tnum(v & ~mu, mu);
}

/** tConflict tells whether two descriptions of the same value contradict each other. */
export function tConflict(a: Tnum, b: Tnum): boolean {
  const known = ~a.m & ~b.m & U64;
  return (a.v & known) !== (b.v & known);
}

/** tCast keeps the low `bytes` bytes. */
export function tCast(a: Tnum, bytes: number): Tnum {
  const mask = BYTE_MASKS[bytes];
  return { v: a.v & mask, m: a.m & mask };
}

const BYTE_MASKS = [0n, 0xffn, 0xffffn, 0xffffffn, U32, 0xffffffffffn, 0xffffffffffffn, 0xffffffffffffffn, U64];
const HI32 = U64 ^ U32;

/** tSubreg is the low 32 bits. */
export const tSubreg = (a: Tnum): Tnum => tCast(a, 4);
/** tClearSubreg keeps the high 32 bits, the low ones known zero. */
export const tClearSubreg = (a: Tnum): Tnum => ({ v: a.v & HI32, m: a.m & HI32 });
/** tWithSubreg replaces the low 32 bits of `a` by those of `sub`. */
export const tWithSubreg = (a: Tnum, sub: Tnum): Tnum => tOr(tClearSubreg(a), tSubreg(sub));

/** tIn tells whether every value of `b` is also a value of `a`. */
export function tIn(a: Tnum, b: Tnum): boolean {
  if (b.m & ~a.m) return false;
  return a.v === (b.v & ~a.m);
}

/** tContains tells whether the value x is in the set `a`. */
export const tContains = (a: Tnum, x: bigint): boolean => (u64(x) & ~a.m & U64) === a.v;

/** tStr prints a tnum like the kernel: (0x0; 0xff). */
export const tStr = (a: Tnum): string => `(0x${a.v.toString(16)}; 0x${a.m.toString(16)})`;
