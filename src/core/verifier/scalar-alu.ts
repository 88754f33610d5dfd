/**
 * ALU operations on scalars. Each operation is computed on a "view" of one width (the full
 * 64 bits, or the low 32 bits) with the kernel's rules (scalar_min_max_*); a 64-bit
 * operation also computes the low 32-bit view when those bits depend only on the operands'
 * low bits, and an ALU32 result is the 32-bit view zero-extended.
 */
import * as o from '../isa/opcodes.js';
import { U32, U64, tAdd, tAnd, tArsh, tCast, tClearSubreg, tIntersect, tIsConst, tLsh, tMul, tOr, tRsh, tSub, tSubreg, tXor, type Tnum } from './tnum.js';
import { S32_MAX, S32_MIN, S64_MAX, S64_MIN, UNKNOWN, known, syncOwned, truncate, zext32, type Scalar } from './scalar.js';

/** View is a scalar seen at one width: known bits (within the width) and bounds. */
interface View { t: Tnum; umin: bigint; umax: bigint; smin: bigint; smax: bigint }

type W = 32 | 64;
const umaxOf = (w: W): bigint => (w === 64 ? U64 : U32);
const sminOf = (w: W): bigint => (w === 64 ? S64_MIN : S32_MIN);
const smaxOf = (w: W): bigint => (w === 64 ? S64_MAX : S32_MAX);
const signed = (w: W, x: bigint): bigint => BigInt.asIntN(w, x);
const trunc = (w: W, t: Tnum): Tnum => (w === 64 ? t : tCast(t, 4));
const bmin = (...xs: bigint[]): bigint => xs.reduce((a, b) => (a < b ? a : b));
const bmax = (...xs: bigint[]): bigint => xs.reduce((a, b) => (a > b ? a : b));

const view64 = (s: Scalar): View => ({ t: s.t, umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax });
const view32 = (s: Scalar): View => ({ t: tSubreg(s.t), umin: s.u32min, umax: s.u32max, smin: s.s32min, smax: s.s32max });
/** unsignedBits fills bounds from known bits; signed from unsigned when the range does not cross the sign bit. */
function bitsView(w: W, t: Tnum, umin: bigint, umax: bigint): View {
  const sameSign = signed(w, umin) <= signed(w, umax);
  return { t, umin, umax, smin: sameSign ? signed(w, umin) : sminOf(w), smax: sameSign ? signed(w, umax) : smaxOf(w) };
}

function addView(w: W, a: View, b: View): View {
  const t = trunc(w, tAdd(a.t, b.t));
  let umin = a.umin + b.umin, umax = a.umax + b.umax;
  if (umax > umaxOf(w)) [umin, umax] = [0n, umaxOf(w)];
  let smin = a.smin + b.smin, smax = a.smax + b.smax;
  if (smin < sminOf(w) || smax > smaxOf(w)) [smin, smax] = [sminOf(w), smaxOf(w)];
  return { t, umin, umax, smin, smax };
}

function subView(w: W, a: View, b: View): View {
  const t = trunc(w, tSub(a.t, b.t));
  let umin = a.umin - b.umax, umax = a.umax - b.umin;
  if (a.umin < b.umax) [umin, umax] = [0n, umaxOf(w)];
  let smin = a.smin - b.smax, smax = a.smax - b.smin;
  if (smin < sminOf(w) || smax > smaxOf(w)) [smin, smax] = [sminOf(w), smaxOf(w)];
  return { t, umin, umax, smin, smax };
}

function mulView(w: W, a: View, b: View): View {
  const t = trunc(w, tMul(a.t, b.t));
  let umin = a.umin * b.umin, umax = a.umax * b.umax;
  if (umax > umaxOf(w)) [umin, umax] = [0n, umaxOf(w)];
  const c = [a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax];
  let smin = bmin(...c), smax = bmax(...c);
  if (smin < sminOf(w) || smax > smaxOf(w)) [smin, smax] = [sminOf(w), smaxOf(w)];
  return { t, umin, umax, smin, smax };
}

function shiftView(w: W, op: number, a: View, s: number, s32: { min: bigint; max: bigint } | null): View {
  const sh = BigInt(s);
  if (op === o.BPF_LSH) {
    const t = trunc(w, tLsh(a.t, s));
    const overflow = a.umax > 1n << BigInt(w - 1 - s);
    let smin = sminOf(w), smax = smaxOf(w);
    if (w === 64 && s === 32 && s32) {
      if (s32.max >= 0n) smax = s32.max << 32n;
      if (s32.min >= 0n) smin = s32.min << 32n;
    }
    return { t, umin: overflow ? 0n : a.umin << sh, umax: overflow ? umaxOf(w) : a.umax << sh, smin, smax };
  }
  if (op === o.BPF_RSH) {
    return { t: tRsh(a.t, s), umin: a.umin >> sh, umax: a.umax >> sh, smin: sminOf(w), smax: smaxOf(w) };
  }
  return { t: tArsh(a.t, s, w), umin: 0n, umax: umaxOf(w), smin: a.smin >> sh, smax: a.smax >> sh };
}

/** opView computes one ALU operation at width w; null when the result is unknown at that width. */
function opView(w: W, op: number, a: View, b: View, _signedDiv: boolean, s32: { min: bigint; max: bigint } | null): View | null {
  switch (op) {
    case o.BPF_ADD: return addView(w, a, b);
    case o.BPF_SUB: return subView(w, a, b);
    case o.BPF_MUL: return mulView(w, a, b);
    case o.BPF_AND: {
      const t = tAnd(a.t, b.t);
      return bitsView(w, t, t.v, bmin(a.umax, b.umax, t.v | t.m));
    }
    case o.BPF_OR: {
      const t = tOr(a.t, b.t);
      return bitsView(w, t, bmax(a.umin, b.umin, t.v), t.v | t.m);
    }
    case o.BPF_XOR: {
      const t = tXor(a.t, b.t);
      return bitsView(w, t, t.v, t.v | t.m);
    }
    case o.BPF_LSH:
    case o.BPF_RSH:
    case o.BPF_ARSH:
      // only a known shift below the width gives bounds (is_safe_to_compute_dst_reg_range)
      if (!tIsConst(b.t) || b.t.v >= BigInt(w)) return null;
      return shiftView(w, op, a, Number(b.t.v), s32);
    default:
      // DIV, MOD: unknown, like the kernel (so that what we accept, it accepts)
      return null;
  }
}

/** LOW_BITS_OPS are the operations whose low 32 result bits depend only on the operands' low 32 bits. */
const LOW_BITS_OPS = new Set([o.BPF_ADD, o.BPF_SUB, o.BPF_MUL, o.BPF_AND, o.BPF_OR, o.BPF_XOR]);

function fromViews(v64: View, v32: View | null): Scalar {
  let t = v64.t;
  if (v32) t = tIntersect(t, tOr(tClearSubreg(t), v32.t));
  return syncOwned({
    t, umin: v64.umin, umax: v64.umax, smin: v64.smin, smax: v64.smax,
    u32min: v32?.umin ?? 0n, u32max: v32?.umax ?? U32, s32min: v32?.smin ?? S32_MIN, s32max: v32?.smax ?? S32_MAX,
  });
}

function fromView32(v: View): Scalar {
  return syncOwned({ t: v.t, umin: v.umin, umax: v.umax, smin: v.umin, smax: v.umax, u32min: v.umin, u32max: v.umax, s32min: v.smin, s32max: v.smax });
}

/**
 * scalarAlu computes `a op b` for BPF_ADD..BPF_ARSH (not MOV/NEG/END) at 64 or 32 bits.
 * `signedDiv` selects SDIV/SMOD (off = 1).
 */
export function scalarAlu(op: number, a: Scalar, b: Scalar, is64: boolean, signedDiv = false): Scalar {
  // the kernel marks these results unknown in all 64 bits, even for ALU32 and constant
  // operands; being more precise would accept programs it rejects (fuzz seed 7017)
  if (!computable(op, b, is64)) return UNKNOWN;
  if (tIsConst(a.t) && tIsConst(b.t)) return known(concrete(op, a.t.v, b.t.v, is64 ? 64 : 32, signedDiv));
  if (!is64) {
    const r = opView(32, op, view32(a), view32(b), signedDiv, null);
    return r ? fromView32(r) : zext32(UNKNOWN);
  }
  const r64 = opView(64, op, view64(a), view64(b), signedDiv, { min: a.s32min, max: a.s32max });
  if (!r64) return UNKNOWN;
  let r32: View | null = null;
  if (LOW_BITS_OPS.has(op)) r32 = opView(32, op, view32(a), view32(b), false, null);
  else if (op === o.BPF_LSH && tIsConst(b.t) && b.t.v < 32n) r32 = opView(32, op, view32(a), view32(b), false, null);
  return fromViews(r64, r32);
}

/**
 * computable is the kernel's is_safe_to_compute_dst_reg_range: ranges are computed for
 * add/sub/mul/and/or/xor, and for shifts by a constant (at the operation's width) whose
 * 64-bit value is below the width; never for div/mod.
 */
function computable(op: number, b: Scalar, is64: boolean): boolean {
  if (LOW_BITS_OPS.has(op)) return true;
  if (op !== o.BPF_LSH && op !== o.BPF_RSH && op !== o.BPF_ARSH) return false;
  return tIsConst(is64 ? b.t : tSubreg(b.t)) && b.umax < (is64 ? 64n : 32n);
}

/** concrete computes an ALU operation on known values with the runtime's semantics (fast path for constants). */
function concrete(op: number, a: bigint, b: bigint, w: W, sdiv: boolean): bigint {
  const ua = BigInt.asUintN(w, a), ub = BigInt.asUintN(w, b);
  const sa = BigInt.asIntN(w, a), sb = BigInt.asIntN(w, b);
  const sh = BigInt(Number(ub & BigInt(w - 1)));
  let r: bigint;
  switch (op) {
    case o.BPF_ADD: r = ua + ub; break;
    case o.BPF_SUB: r = ua - ub; break;
    case o.BPF_MUL: r = ua * ub; break;
    case o.BPF_DIV: r = ub === 0n ? 0n : sdiv ? sa / sb : ua / ub; break;
    case o.BPF_MOD: r = ub === 0n ? ua : sdiv ? sa % sb : ua % ub; break;
    case o.BPF_OR: r = ua | ub; break;
    case o.BPF_AND: r = ua & ub; break;
    case o.BPF_XOR: r = ua ^ ub; break;
    case o.BPF_LSH: r = ua << sh; break;
    case o.BPF_RSH: r = ua >> sh; break;
    default: r = sa >> sh; break;
  }
  return BigInt.asUintN(w, r);
}

/** scalarNeg computes -a at 64 or 32 bits. */
export function scalarNeg(a: Scalar, is64: boolean): Scalar {
  return scalarAlu(o.BPF_SUB, known(0n), a, is64);
}

/** scalarEnd computes a byte-swap/truncation (BPF_END) of width `bits`; `swap` when bytes are reversed. */
export function scalarEnd(a: Scalar, bits: number, swap: boolean): Scalar {
  if (!swap) return truncate(a, bits / 8);
  if (tIsConst(a.t)) return known(bswap(a.t.v, bits));
  return bits === 64 ? UNKNOWN : truncate(UNKNOWN, bits / 8);
}

function bswap(x: bigint, bits: number): bigint {
  let r = 0n;
  for (let i = 0; i < bits / 8; i++) r = (r << 8n) | ((x >> BigInt(i * 8)) & 0xffn);
  return r;
}

/** scalarMovsx sign-extends the low `bits` of `a` into 64 bits (or into 32, zero-extended, for ALU32). */
export function scalarMovsx(a: Scalar, bits: number, is64: boolean): Scalar {
  const mask = (1n << BigInt(bits)) - 1n;
  const low = truncate(a, bits / 8);
  let r: Scalar;
  if (tIsConst(low.t)) r = known(BigInt.asIntN(bits, low.t.v));
  else if (low.umax < 1n << BigInt(bits - 1)) r = low; // sign bit known clear: unchanged
  else {
    const lim = 1n << BigInt(bits - 1);
    r = syncOwned({ ...UNKNOWN, smin: -lim, smax: lim - 1n });
  }
  void mask;
  return is64 ? r : zext32(r);
}
