/**
 * Scalar values as the Linux verifier tracks them: known bits (tnum) plus unsigned and
 * signed bounds at 64 and at 32 bits (the low half), kept consistent with each other by
 * `sync` (the kernel's reg_bounds_sync). Scalars are immutable.
 */
import { T_UNKNOWN, U32, U64, tClearSubreg, tIntersect, tIsConst, tOr, tRange, tSubreg, tIn, type Tnum } from './tnum.js';

/** Scalar is a set of 64-bit values: known bits and four pairs of bounds. */
export interface Scalar {
  readonly t: Tnum;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
}

/** S64_MIN..S32_MAX are the signed limits. */
export const S64_MIN = -(1n << 63n), S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n), S32_MAX = (1n << 31n) - 1n;

const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** UNKNOWN is the scalar of every value. */
export const UNKNOWN: Scalar = {
  t: T_UNKNOWN, umin: 0n, umax: U64, smin: S64_MIN, smax: S64_MAX, u32min: 0n, u32max: U32, s32min: S32_MIN, s32max: S32_MAX,
};

/** known is the scalar of one value (any bigint, taken mod 2^64). */
export function known(x: bigint): Scalar {
  // each BigInt operation allocates: convert only what is out of range (small constants are common)
  const v = x >= 0n && x <= U64 ? x : u64(x);
  const lo = v <= U32 ? v : u32(v);
  const sv = v <= S64_MAX ? v : s64(v);
  const slo = lo <= S32_MAX ? lo : s32(lo);
  return { t: { v, m: 0n }, umin: v, umax: v, smin: sv, smax: sv, u32min: lo, u32max: lo, s32min: slo, s32max: slo };
}

/** isConst tells whether the scalar is one known value. */
export const isConst = (s: Scalar): boolean => tIsConst(s.t);
/** isConst32 tells whether the low 32 bits are known. */
export const isConst32 = (s: Scalar): boolean => tIsConst(tSubreg(s.t));

/** fromTnum is the scalar described only by known bits, bounds derived. */
export const fromTnum = (t: Tnum): Scalar => syncOwned({ ...UNKNOWN, t });

/** unsignedRange is the scalar of the unsigned 64-bit range [lo, hi]. */
export const unsignedRange = (lo: bigint, hi: bigint): Scalar => syncOwned({ ...UNKNOWN, t: tRange(lo, hi), umin: lo, umax: hi });

/** zext32 is the scalar of the low 32 bits of `s`, zero-extended (ALU32 results, narrow loads of 4 bytes). */
export function zext32(s: Scalar): Scalar {
  if (s === UNKNOWN) return UNKNOWN_LOW[4] ??= zext32Of(s);
  return zext32Of(s);
}

/** UNKNOWN_LOW caches the unknown scalars of 1, 2 and 4 bytes (loads, ALU32 results): scalars are immutable. */
const UNKNOWN_LOW: (Scalar | undefined)[] = [];

function zext32Of(s: Scalar): Scalar {
  return syncOwned({
    t: tSubreg(s.t), umin: s.u32min, umax: s.u32max, smin: s.u32min, smax: s.u32max,
    u32min: s.u32min, u32max: s.u32max, s32min: s.s32min, s32max: s.s32max,
  });
}

/** truncate is the scalar of the low `bytes` bytes of `s`, zero-extended. */
export function truncate(s: Scalar, bytes: number): Scalar {
  if (bytes >= 8) return s;
  if (bytes === 4) return zext32(s);
  if (s === UNKNOWN) return UNKNOWN_LOW[bytes] ??= truncateOf(s, bytes);
  return truncateOf(s, bytes);
}

function truncateOf(s: Scalar, bytes: number): Scalar {
  const lim = (1n << BigInt(bytes * 8)) - 1n;
  const m = s.t.m & lim;
  const v = s.t.v & lim;
  const fits = s.umax <= lim;
  return syncOwned({ ...UNKNOWN, t: { v, m }, umin: fits ? s.umin : 0n, umax: fits ? s.umax : lim });
}

/** sync tightens bounds and known bits against each other (the kernel's reg_bounds_sync). */
export function sync(s: Scalar): Scalar {
  return syncFast(s) ?? syncOwned({ ...s });
}

/**
 * syncOwned is sync for a scalar object its caller has just built and will not use again: it
 * is tightened in place (one allocation less per ALU result).
 */
export function syncOwned(s: Scalar): Scalar {
  const fast = syncFast(s);
  if (fast) return fast;
  const r = s as Mut;
  updateBounds(r);
  const { t, umin, umax, smin, smax, u32min, u32max, s32min, s32max } = r;
  deduce(r);
  // deduce is a function of the fields: once it changes nothing, a second pass would not either
  if (t !== r.t || umin !== r.umin || umax !== r.umax || smin !== r.smin || smax !== r.smax
    || u32min !== r.u32min || u32max !== r.u32max || s32min !== r.s32min || s32max !== r.s32max) deduce(r);
  boundOffset(r);
  updateBounds(r);
  return r;
}

/** syncFast answers without computation: one possible value, or nothing known at all (a common ALU result). */
function syncFast(s: Scalar): Scalar | null {
  if (s.t.m === 0n) {
    // one possible value: it is the result, unless the bounds exclude it (then stay infeasible)
    const k = known(s.t.v);
    return within(s, k) ? k : { ...s, umin: 1n, umax: 0n };
  }
  if (s.t.m === U64 && s.t.v === 0n && isUnknownBounds(s)) return UNKNOWN;
  return null;
}

function isUnknownBounds(s: Scalar): boolean {
  return s.umin === 0n && s.umax === U64 && s.smin === S64_MIN && s.smax === S64_MAX
    && s.u32min === 0n && s.u32max === U32 && s.s32min === S32_MIN && s.s32max === S32_MAX;
}

type Mut = { -readonly [K in keyof Scalar]: Scalar[K] };

/** SIGN64 and HI32 are masks (hoisted: every BigInt operation allocates). */
const SIGN64 = 1n << 63n, HI32 = ~U32 & U64;

function updateBounds(r: Mut): void {
  const t32 = tSubreg(r.t);
  r.s32min = max(r.s32min, s32(t32.v | (t32.m & 0x80000000n)));
  r.s32max = min(r.s32max, s32(t32.v | (t32.m & 0x7fffffffn)));
  r.u32min = max(r.u32min, t32.v);
  r.u32max = min(r.u32max, t32.v | t32.m);
  r.smin = max(r.smin, s64(r.t.v | (r.t.m & SIGN64)));
  r.smax = min(r.smax, s64(r.t.v | (r.t.m & S64_MAX)));
  r.umin = max(r.umin, r.t.v);
  r.umax = min(r.umax, r.t.v | r.t.m);
}

function deduce32(r: Mut): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = max(r.u32min, u32(r.umin));
    r.u32max = min(r.u32max, u32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) {
      r.s32min = max(r.s32min, s32(r.umin));
      r.s32max = min(r.s32max, s32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    if (u32(r.smin) <= u32(r.smax)) {
      r.u32min = max(r.u32min, u32(r.smin));
      r.u32max = min(r.u32max, u32(r.smax));
    }
    if (s32(r.smin) <= s32(r.smax)) {
      r.s32min = max(r.s32min, s32(r.smin));
      r.s32max = min(r.s32max, s32(r.smax));
    }
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = max(r.s32min, s32(r.u32min));
    r.s32max = min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = max(u32(r.s32min), r.u32min);
    r.u32max = min(u32(r.s32max), r.u32max);
  }
}

function deduce64(r: Mut): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = max(r.smin, s64(r.umin));
    r.smax = min(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = max(u64(r.smin), r.umin);
    r.umax = min(u64(r.smax), r.umax);
  } else if (r.umax < u64(r.smin)) {
    // the signed range wraps: values with the sign bit clear lie in [0, smax]
    r.smin = s64(r.umin);
    r.umax = min(r.umax, u64(r.smax));
  } else if (u64(r.smax) < r.umin) {
    r.smax = s64(r.umax);
    r.umin = max(r.umin, u64(r.smin));
  }
}

function deduceMixed(r: Mut): void {
  const hi = HI32;
  r.umin = max(r.umin, (r.umin & hi) | r.u32min);
  r.umax = min(r.umax, (r.umax & hi) | r.u32max);
  r.smin = max(r.smin, s64((u64(r.smin) & hi) | r.u32min));
  r.smax = min(r.smax, s64((u64(r.smax) & hi) | r.u32max));
  if (r.s32min >= 0n && r.smin >= S32_MIN && r.smax <= S32_MAX) {
    r.smin = r.s32min;
    r.smax = r.s32max;
    r.umin = r.s32min;
    r.umax = r.s32max;
    r.t = tIntersect(r.t, tRange(r.smin, r.smax));
  }
}

function deduce(r: Mut): void {
  deduce32(r);
  deduce64(r);
  deduceMixed(r);
}

function boundOffset(r: Mut): void {
  if (r.umin > r.umax || r.u32min > r.u32max) return; // infeasible: left for valid() to report
  const t64 = tIntersect(r.t, tRange(r.umin, r.umax));
  const t32 = tIntersect(tSubreg(t64), tRange(r.u32min, r.u32max));
  r.t = tOr(tClearSubreg(t64), t32);
}

/** valid tells whether some 64-bit value satisfies all of the scalar's constraints (cheap check). */
export function valid(s: Scalar): boolean {
  if (s.umin > s.umax || s.smin > s.smax || s.u32min > s.u32max || s.s32min > s.s32max) return false;
  if (s.t.v > s.umax || (s.t.v | s.t.m) < s.umin) return false;
  const t32 = tSubreg(s.t);
  return !(t32.v > s.u32max || (t32.v | t32.m) < s.u32min);
}

/** within tells whether every value of `cur` is a value of `old` (range containment, as states_equal needs). */
export function within(old: Scalar, cur: Scalar): boolean {
  return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin && old.smax >= cur.smax
    && old.u32min <= cur.u32min && old.u32max >= cur.u32max && old.s32min <= cur.s32min && old.s32max >= cur.s32max
    && tIn(old.t, cur.t);
}

/** same tells whether two scalars are identical. */
export function same(a: Scalar, b: Scalar): boolean {
  return a === b || (a.t.v === b.t.v && a.t.m === b.t.m && a.umin === b.umin && a.umax === b.umax && a.smin === b.smin
    && a.smax === b.smax && a.u32min === b.u32min && a.u32max === b.u32max && a.s32min === b.s32min && a.s32max === b.s32max);
}

/** isUnknown tells whether the scalar is unconstrained. */
export const isUnknown = (s: Scalar): boolean => same(s, UNKNOWN);

/** formatScalar prints a scalar like the kernel's log: a constant, or scalar(umax=255,var_off=...). */
export function formatScalar(s: Scalar, id = 0): string {
  if (isConst(s) && id === 0) return String(s.smin);
  const parts: string[] = [];
  if (id) parts.push(`id=${id}`);
  if (isConst(s)) return `scalar(${[...parts, `imm=${s.smin}`].join(',')})`;
  const sameSU = s.smin === s.umin && s.smax === s.umax;
  if (sameSU) {
    if (s.umin !== 0n) parts.push(`smin=${s.smin}`);
    if (s.umax !== S64_MAX) parts.push(`smax=umax=${s.umax}`);
  } else {
    if (s.smin !== S64_MIN) parts.push(`smin=${s.smin}`);
    if (s.smax !== S64_MAX) parts.push(`smax=${s.smax}`);
    if (s.umin !== 0n) parts.push(`umin=${s.umin}`);
    if (s.umax !== U64) parts.push(`umax=${s.umax}`);
  }
  if (s.s32min !== S32_MIN && !(s.s32min === s.smin)) parts.push(`smin32=${s.s32min}`);
  if (s.s32max !== S32_MAX && !(s.s32max === s.smax)) parts.push(`smax32=${s.s32max}`);
  if (s.u32min !== 0n && s.u32min !== s.umin) parts.push(`umin32=${s.u32min}`);
  if (s.u32max !== U32 && s.u32max !== s.umax) parts.push(`umax32=${s.u32max}`);
  if (s.t.m !== U64) parts.push(`var_off=(0x${s.t.v.toString(16)}; 0x${s.t.m.toString(16)})`);
  return `scalar(${parts.join(',')})`;
}

/** contains tells whether the concrete value x is in the set (for tests). */
export function contains(s: Scalar, x: bigint): boolean {
  const v = u64(x);
  const lo = u32(v);
  return v >= s.umin && v <= s.umax && s64(v) >= s.smin && s64(v) <= s.smax && lo >= s.u32min && lo <= s.u32max
    && s32(lo) >= s.s32min && s32(lo) <= s.s32max && (v & ~s.t.m & U64) === s.t.v;
}

