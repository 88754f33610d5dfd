/**
 * ALU and ALU64 instructions. 64-bit operations work on the i64 register locals directly;
 * 32-bit ones wrap, operate in i32 and zero-extend. Wasm traps on division by zero and on
 * INT_MIN / -1, so division is guarded to give the eBPF results instead.
 */
import type { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { I32, I64, Op } from './wasm/ops.js';
import { type Gen, bswap16, bswap32, bswap64, dst32, src32, src64 } from './gen-ctx.js';

const BIN64: Record<number, number> = {
  [o.BPF_ADD]: Op.i64_add, [o.BPF_SUB]: Op.i64_sub, [o.BPF_MUL]: Op.i64_mul, [o.BPF_OR]: Op.i64_or,
  [o.BPF_AND]: Op.i64_and, [o.BPF_XOR]: Op.i64_xor, [o.BPF_LSH]: Op.i64_shl, [o.BPF_RSH]: Op.i64_shr_u,
  [o.BPF_ARSH]: Op.i64_shr_s,
};
const BIN32: Record<number, number> = {
  [o.BPF_ADD]: Op.i32_add, [o.BPF_SUB]: Op.i32_sub, [o.BPF_MUL]: Op.i32_mul, [o.BPF_OR]: Op.i32_or,
  [o.BPF_AND]: Op.i32_and, [o.BPF_XOR]: Op.i32_xor, [o.BPF_LSH]: Op.i32_shl, [o.BPF_RSH]: Op.i32_shr_u,
  [o.BPF_ARSH]: Op.i32_shr_s,
};

/** emitAlu emits one ALU or ALU64 instruction. */
export function emitAlu(g: Gen, i: Insn): void {
  const is64 = o.BPF_CLASS(i.code) === o.BPF_ALU64;
  const op = o.BPF_OP(i.code);
  const d = g.L.reg[i.dst];
  const c = g.c;
  switch (op) {
    case o.BPF_MOV: return emitMov(g, i, is64);
    case o.BPF_NEG:
      if (is64) c.i64(0).get(d).op(Op.i64_sub);
      else c.i32(0).get(d).op(Op.i32_wrap_i64, Op.i32_sub, Op.i64_extend_i32_u);
      c.set(d);
      return;
    case o.BPF_END: return emitEnd(g, i, is64);
    case o.BPF_DIV:
    case o.BPF_MOD:
      if (is64) emitDiv64(g, i, op === o.BPF_MOD, i.off === 1);
      else emitDiv32(g, i, op === o.BPF_MOD, i.off === 1);
      c.set(d);
      return;
    default:
      if (is64) {
        c.get(d);
        src64(g, i);
        c.op(BIN64[op]);
      } else {
        dst32(g, i);
        src32(g, i);
        c.op(BIN32[op], Op.i64_extend_i32_u);
      }
      c.set(d);
  }
}

function emitMov(g: Gen, i: Insn, is64: boolean): void {
  const c = g.c;
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  if (is64) {
    if (!x) c.i64(i.imm);
    else {
      c.get(g.L.reg[i.src]);
      if (i.off === 8) c.op(Op.i64_extend8_s);
      else if (i.off === 16) c.op(Op.i64_extend16_s);
      else if (i.off === 32) c.op(Op.i64_extend32_s);
    }
  } else if (!x) {
    c.i64(i.imm >>> 0);
  } else {
    c.get(g.L.reg[i.src]).op(Op.i32_wrap_i64);
    if (i.off === 8) c.op(Op.i32_extend8_s);
    else if (i.off === 16) c.op(Op.i32_extend16_s);
    c.op(Op.i64_extend_i32_u);
  }
  c.set(g.L.reg[i.dst]);
}

function emitEnd(g: Gen, i: Insn, is64: boolean): void {
  const c = g.c;
  const d = g.L.reg[i.dst];
  const swap = is64 || o.BPF_SRC(i.code) === o.BPF_TO_BE;
  if (!swap) {
    if (i.imm === 64) return;
    c.get(d).i64(i.imm === 16 ? 0xffff : 0xffffffffn).op(Op.i64_and).set(d);
    return;
  }
  c.get(d);
  if (i.imm === 64) bswap64(g);
  else {
    c.op(Op.i32_wrap_i64);
    if (i.imm === 16) bswap16(g);
    else bswap32(g);
    c.op(Op.i64_extend_i32_u);
  }
  c.set(d);
}

/** emitDiv64 pushes the 64-bit quotient/remainder with the eBPF edge cases. */
function emitDiv64(g: Gen, i: Insn, mod: boolean, signed: boolean): void {
  const c = g.c;
  const d = g.L.reg[i.dst];
  const opc = mod ? (signed ? Op.i64_rem_s : Op.i64_rem_u) : (signed ? Op.i64_div_s : Op.i64_div_u);
  if (o.BPF_SRC(i.code) === o.BPF_K) {
    if (i.imm === 0) mod ? c.get(d) : c.i64(0);
    else if (signed && i.imm === -1) mod ? c.i64(0) : c.i64(0).get(d).op(Op.i64_sub);
    else c.get(d).i64(i.imm).op(opc);
    return;
  }
  const s = g.L.reg[i.src];
  c.get(s).op(Op.i64_eqz).if(I64);
  if (mod) c.get(d);
  else c.i64(0);
  c.else();
  if (signed) {
    c.get(s).i64(-1).op(Op.i64_eq).if(I64);
    if (mod) c.i64(0);
    else c.i64(0).get(d).op(Op.i64_sub);
    c.else().get(d).get(s).op(opc).end();
  } else {
    c.get(d).get(s).op(opc);
  }
  c.end();
}

/** emitDiv32 pushes the zero-extended 32-bit quotient/remainder with the eBPF edge cases. */
function emitDiv32(g: Gen, i: Insn, mod: boolean, signed: boolean): void {
  const c = g.c;
  const opc = mod ? (signed ? Op.i32_rem_s : Op.i32_rem_u) : (signed ? Op.i32_div_s : Op.i32_div_u);
  if (o.BPF_SRC(i.code) === o.BPF_K) {
    if (i.imm === 0) mod ? dst32(g, i) : c.i32(0);
    else if (signed && i.imm === -1) mod ? c.i32(0) : (c.i32(0), dst32(g, i), c.op(Op.i32_sub));
    else (dst32(g, i), c.i32(i.imm).op(opc));
    c.op(Op.i64_extend_i32_u);
    return;
  }
  const s = g.L.i;
  src32(g, i);
  c.tee(s).op(Op.i32_eqz).if(I32);
  if (mod) dst32(g, i);
  else c.i32(0);
  c.else();
  if (signed) {
    c.get(s).i32(-1).op(Op.i32_eq).if(I32);
    if (mod) c.i32(0);
    else (c.i32(0), dst32(g, i), c.op(Op.i32_sub));
    c.else();
    dst32(g, i);
    c.get(s).op(opc).end();
  } else {
    dst32(g, i);
    c.get(s).op(opc);
  }
  c.end().op(Op.i64_extend_i32_u);
}
