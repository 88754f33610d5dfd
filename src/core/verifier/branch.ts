/**
 * Conditional jumps on scalars: whether a comparison's outcome is already decided
 * (is_branch_taken) and what each outcome teaches about both operands (reg_set_min_max),
 * at 64 bits (JMP) or on the low 32 bits (JMP32).
 */
import * as o from '../isa/opcodes.js';
import { U64, tAnd, tClearSubreg, tConflict, tConst, tIntersect, tIsConst, tOr, tSubreg, type Tnum } from './tnum.js';
import { syncOwned, valid, type Scalar } from './scalar.js';

/** JSET_FALSE is a pseudo operation: the "not taken" side of BPF_JSET, (a & b) == 0. */
export const JSET_FALSE = 0x100;

const NEGATE: Record<number, number> = {
  [o.BPF_JEQ]: o.BPF_JNE, [o.BPF_JNE]: o.BPF_JEQ, [o.BPF_JGT]: o.BPF_JLE, [o.BPF_JLE]: o.BPF_JGT,
  [o.BPF_JGE]: o.BPF_JLT, [o.BPF_JLT]: o.BPF_JGE, [o.BPF_JSGT]: o.BPF_JSLE, [o.BPF_JSLE]: o.BPF_JSGT,
  [o.BPF_JSGE]: o.BPF_JSLT, [o.BPF_JSLT]: o.BPF_JSGE, [o.BPF_JSET]: JSET_FALSE, [JSET_FALSE]: o.BPF_JSET,
};
/** SWAP gives the operation with operands exchanged: a < b  <=>  b > a. */
const SWAP: Record<number, number> = {
  [o.BPF_JEQ]: o.BPF_JEQ, [o.BPF_JNE]: o.BPF_JNE, [o.BPF_JGT]: o.BPF_JLT, [o.BPF_JLT]: o.BPF_JGT,
  [o.BPF_JGE]: o.BPF_JLE, [o.BPF_JLE]: o.BPF_JGE, [o.BPF_JSGT]: o.BPF_JSLT, [o.BPF_JSLT]: o.BPF_JSGT,
  [o.BPF_JSGE]: o.BPF_JSLE, [o.BPF_JSLE]: o.BPF_JSGE, [o.BPF_JSET]: o.BPF_JSET, [JSET_FALSE]: JSET_FALSE,
};

/** negateOp is the condition of the other branch. */
export const negateOp = (op: number): number => NEGATE[op];
/** swapOp is the condition with its operands exchanged. */
export const swapOp = (op: number): number => SWAP[op];

interface V { t: Tnum; umin: bigint; umax: bigint; smin: bigint; smax: bigint }

const view = (s: Scalar, is32: boolean): V => (is32
  ? { t: tSubreg(s.t), umin: s.u32min, umax: s.u32max, smin: s.s32min, smax: s.s32max }
  : { t: s.t, umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax });

/** branchTaken tells whether `a op b` is always true (true), always false (false), or unknown (null). */
export function branchTaken(a: Scalar, b: Scalar, op: number, is32: boolean): boolean | null {
  const x = view(a, is32), y = view(b, is32);
  switch (op) {
    case o.BPF_JEQ:
    case o.BPF_JNE: {
      let eq: boolean | null = null;
      if (tIsConst(x.t) && tIsConst(y.t)) eq = x.t.v === y.t.v;
      else if (x.umin > y.umax || x.umax < y.umin || x.smin > y.smax || x.smax < y.smin || tConflict(x.t, y.t)) eq = false;
      if (eq === null) return null;
      return op === o.BPF_JEQ ? eq : !eq;
    }
    case o.BPF_JSET:
    case JSET_FALSE: {
      let set: boolean | null = null;
      if (x.t.v & y.t.v) set = true;
      else if (((x.t.v | x.t.m) & (y.t.v | y.t.m)) === 0n) set = false;
      if (set === null) return null;
      return op === o.BPF_JSET ? set : !set;
    }
    case o.BPF_JGT: return x.umin > y.umax ? true : x.umax <= y.umin ? false : null;
    case o.BPF_JGE: return x.umin >= y.umax ? true : x.umax < y.umin ? false : null;
    case o.BPF_JSGT: return x.smin > y.smax ? true : x.smax <= y.smin ? false : null;
    case o.BPF_JSGE: return x.smin >= y.smax ? true : x.smax < y.smin ? false : null;
    default: return branchTaken(b, a, swapOp(op), is32);
  }
}

const mx = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const mn = (a: bigint, b: bigint): bigint => (a < b ? a : b);

function refineViews(x: V, y: V, op: number): void {
  switch (op) {
    case o.BPF_JEQ: {
      const t = tIntersect(x.t, y.t);
      const r = { t, umin: mx(x.umin, y.umin), umax: mn(x.umax, y.umax), smin: mx(x.smin, y.smin), smax: mn(x.smax, y.smax) };
      if (tConflict(x.t, y.t)) r.umin = r.umax + 1n; // mark infeasible
      Object.assign(x, r);
      Object.assign(y, r);
      return;
    }
    case o.BPF_JNE:
      if (tIsConst(y.t)) excludeValue(x, y.t.v);
      else if (tIsConst(x.t)) excludeValue(y, x.t.v);
      return;
    case o.BPF_JSET:
      if (tIsConst(y.t)) {
        const c = y.t.v;
        if (((x.t.v | x.t.m) & c) === 0n) x.umin = x.umax + 1n;
        else if ((c & (c - 1n)) === 0n) x.t = tOr(x.t, tConst(c));
      }
      return;
    case JSET_FALSE:
      if (tIsConst(y.t)) {
        const c = y.t.v;
        if (x.t.v & c) x.umin = x.umax + 1n;
        else x.t = tAnd(x.t, { v: ~c & U64, m: 0n });
      }
      return;
    case o.BPF_JGT:
      x.umin = mx(x.umin, y.umin + 1n);
      y.umax = mn(y.umax, x.umax - 1n);
      return;
    case o.BPF_JGE:
      x.umin = mx(x.umin, y.umin);
      y.umax = mn(y.umax, x.umax);
      return;
    case o.BPF_JSGT:
      x.smin = mx(x.smin, y.smin + 1n);
      y.smax = mn(y.smax, x.smax - 1n);
      return;
    case o.BPF_JSGE:
      x.smin = mx(x.smin, y.smin);
      y.smax = mn(y.smax, x.smax);
      return;
    default:
      refineViews(y, x, swapOp(op));
  }
}

function excludeValue(x: V, c: bigint): void {
  if (x.umin === c && x.umax === c) {
    x.umin = x.umax + 1n; // a != c is impossible
    return;
  }
  if (x.umin === c) x.umin++;
  if (x.umax === c) x.umax--;
}

function excludeSigned(x: V, c: bigint, is32: boolean): void {
  const sc = BigInt.asIntN(is32 ? 32 : 64, c);
  if (x.smin === sc && x.smax !== sc) x.smin++;
  else if (x.smax === sc && x.smin !== sc) x.smax--;
}

function write(s: Scalar, v: V, is32: boolean): Scalar | null {
  if (v.umin > v.umax || v.smin > v.smax) return null;
  const r: Scalar = is32
    ? { ...s, t: tIntersect(s.t, tOr(tClearSubreg(s.t), v.t)), u32min: v.umin, u32max: v.umax, s32min: v.smin, s32max: v.smax }
    : { ...s, t: v.t, umin: v.umin, umax: v.umax, smin: v.smin, smax: v.smax };
  if (!valid(r)) return null;
  const out = syncOwned(r); // r was built here
  return valid(out) ? out : null;
}

/**
 * refine returns what `a op b` being true teaches about a and b, or null when it cannot be
 * true (the branch is dead).
 */
export function refine(a: Scalar, b: Scalar, op: number, is32: boolean): [Scalar, Scalar] | null {
  const x = view(a, is32), y = view(b, is32);
  refineViews(x, y, op);
  if (op === o.BPF_JNE) {
    if (tIsConst(y.t)) excludeSigned(x, y.t.v, is32);
    else if (tIsConst(x.t)) excludeSigned(y, x.t.v, is32);
  }
  const ra = write(a, x, is32);
  const rb = write(b, y, is32);
  return ra && rb ? [ra, rb] : null;
}

