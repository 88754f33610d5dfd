/**
 * Atomic read-modify-write instructions (BPF_STX | BPF_ATOMIC, W and DW) for the interpreter.
 * When the address space is shared (workers) and the access is naturally aligned, the real
 * Atomics.* operations are used so concurrent programs see atomic updates; otherwise (private
 * memory, or an unaligned address that Atomics cannot express) a plain read-modify-write is
 * exact, since nothing else can run in between.
 */
import { BPF_ADD, BPF_AND, BPF_CMPXCHG, BPF_FETCH, BPF_OR, BPF_XCHG, BPF_XOR } from '../isa/opcodes.js';
import { PERM_RW } from './memory.js';
import { type ExecState, getReg, setReg, slowAddress } from './interpreter-state.js';

/** atomic executes one atomic instruction at slot `insn` (d, s are 2*register). */
export function atomic(st: ExecState, insn: number, d: number, s: number, off: number, imm: number, is64: boolean): void {
  const R = st.regs;
  const size = is64 ? 8 : 4;
  const a = st.checked
    ? slowAddress(st, R[d], R[d + 1], off, size, PERM_RW, insn) // requires initialised stack bytes
    : (R[d] + off) >>> 0;
  if (is64) atomic64(st, a, s, imm);
  else atomic32(st, a, s, imm);
}

function atomic32(st: ExecState, a: number, s: number, imm: number): void {
  const R = st.regs;
  const v = R[s];
  const space = st.ctx.space;
  let old: number;
  if (space.shared && (a & 3) === 0) {
    const i32 = new Int32Array(space.memory.buffer);
    const i = a >> 2;
    switch (imm & ~BPF_FETCH) {
      case BPF_ADD: old = Atomics.add(i32, i, v); break;
      case BPF_OR: old = Atomics.or(i32, i, v); break;
      case BPF_AND: old = Atomics.and(i32, i, v); break;
      case BPF_XOR: old = Atomics.xor(i32, i, v); break;
      case BPF_XCHG & ~BPF_FETCH: old = Atomics.exchange(i32, i, v); break;
      default: old = Atomics.compareExchange(i32, i, R[0], v); break;
    }
  } else {
    const dv = space.dv;
    old = dv.getInt32(a, true);
    let nv: number;
    switch (imm & ~BPF_FETCH) {
      case BPF_ADD: nv = (old + v) | 0; break;
      case BPF_OR: nv = old | v; break;
      case BPF_AND: nv = old & v; break;
      case BPF_XOR: nv = old ^ v; break;
      case BPF_XCHG & ~BPF_FETCH: nv = v; break;
      default: nv = old === R[0] ? v : old; break;
    }
    dv.setInt32(a, nv, true);
  }
  if (imm === BPF_CMPXCHG) { R[0] = old; R[1] = 0; }
  else if (imm & BPF_FETCH) { R[s] = old; R[s + 1] = 0; }
}

function atomic64(st: ExecState, a: number, s: number, imm: number): void {
  const R = st.regs;
  const space = st.ctx.space;
  if (space.shared && (a & 7) === 0) {
    atomic64Shared(st, a, s, imm);
    return;
  }
  const dv = space.dv;
  const ol = dv.getInt32(a, true), oh = dv.getInt32(a + 4, true);
  const vl = R[s], vh = R[s + 1];
  let nl: number, nh: number;
  switch (imm & ~BPF_FETCH) {
    case BPF_ADD: {
      const l = (ol >>> 0) + (vl >>> 0);
      nl = l | 0;
      nh = (oh + vh + (l > 0xffffffff ? 1 : 0)) | 0;
      break;
    }
    case BPF_OR: nl = ol | vl; nh = oh | vh; break;
    case BPF_AND: nl = ol & vl; nh = oh & vh; break;
    case BPF_XOR: nl = ol ^ vl; nh = oh ^ vh; break;
    case BPF_XCHG & ~BPF_FETCH: nl = vl; nh = vh; break;
    default: {
      const eq = ol === R[0] && oh === R[1];
      nl = eq ? vl : ol; nh = eq ? vh : oh;
      break;
    }
  }
  dv.setInt32(a, nl, true);
  dv.setInt32(a + 4, nh, true);
  if (imm === BPF_CMPXCHG) { R[0] = ol; R[1] = oh; }
  else if (imm & BPF_FETCH) { R[s] = ol; R[s + 1] = oh; }
}

/** atomic64Shared uses BigInt64Array atomics (BigInt is acceptable here: shared DW atomics are rare). */
function atomic64Shared(st: ExecState, a: number, s: number, imm: number): void {
  const R = st.regs;
  const i64 = new BigInt64Array(st.ctx.space.memory.buffer);
  const i = a / 8;
  const v = BigInt.asIntN(64, getReg(R, s >> 1));
  let old: bigint;
  switch (imm & ~BPF_FETCH) {
    case BPF_ADD: old = Atomics.add(i64, i, v); break;
    case BPF_OR: old = Atomics.or(i64, i, v); break;
    case BPF_AND: old = Atomics.and(i64, i, v); break;
    case BPF_XOR: old = Atomics.xor(i64, i, v); break;
    case BPF_XCHG & ~BPF_FETCH: old = Atomics.exchange(i64, i, v); break;
    default: old = Atomics.compareExchange(i64, i, BigInt.asIntN(64, getReg(R, 0)), v); break;
  }
  if (imm === BPF_CMPXCHG) setReg(R, 0, old);
  else if (imm & BPF_FETCH) setReg(R, s >> 1, old);
}
