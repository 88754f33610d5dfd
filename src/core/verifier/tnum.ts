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
  const mm = u64(m);
  return { v: u64(v) & ~mm & U64, m: mm };
}

/** tConst is the tnum of one known value. */
export const tConst = (x: bigint): Tnum => ({ v: u64(x), m: 0n });
/** T_UNKNOWN is the tnum of every 64-bit value. */
export const T_UNKNOWN: Tnum = { v: 0n, m: U64 };

/** tIsConst tells whether all bits are known. */
export const tIsConst = (a: Tnum): boolean => a.m === 0n;

function fls(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
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

/** tMul is the tnum of a * b (mod 2^64), computed bit by bit as the kernel does. */
export function tMul(a: Tnum, b: Tnum): Tnum {
  const accV = u64(a.v * b.v);
  let accM: Tnum = tConst(0n);
  let x = a;
  let y = b;
  while (x.v !== 0n || x.m !== 0n) {
    if (x.v & 1n) accM = tAdd(accM, tnum(0n, y.m));
    else if (x.m & 1n) accM = tAdd(accM, tnum(0n, y.v | y.m));
    x = tRsh(x, 1);
    y = tLsh(y, 1);
  }
  return tAdd(tConst(accV), accM);
}

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
