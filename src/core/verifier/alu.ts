/**
 * ALU instructions on abstract registers (check_alu_op, adjust_reg_min_max_vals): scalar
 * arithmetic through scalar-alu, and the pointer arithmetic rules — only 64-bit add/sub of
 * a bounded scalar to a pointer that may not be NULL; pointer minus pointer and other uses
 * of pointers as numbers give unknown scalars (the kernel's rules for privileged programs).
 */
import type { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { reject } from './codes.js';
import { BPF_MAX_VAR_OFF } from './mem.js';
import { RegType, UNKNOWN_REG, isPacket, isPointer, ptrReg, scalarReg, typeName, type Reg } from './reg.js';
import { UNKNOWN, S64_MIN, isConst, zext32, type Scalar } from './scalar.js';
import { scalarAlu, scalarEnd, scalarMovsx, scalarNeg } from './scalar-alu.js';
import type { VState } from './state.js';
import type { Verifier } from './verifier.js';

const OP_NAMES: Record<number, string> = {
  [o.BPF_ADD]: '+=', [o.BPF_SUB]: '-=', [o.BPF_MUL]: '*=', [o.BPF_DIV]: '/=', [o.BPF_OR]: '|=', [o.BPF_AND]: '&=',
  [o.BPF_LSH]: '<<=', [o.BPF_RSH]: '>>=', [o.BPF_NEG]: 'neg', [o.BPF_MOD]: '%=', [o.BPF_XOR]: '^=', [o.BPF_MOV]: '=',
  [o.BPF_ARSH]: 's>>=', [o.BPF_END]: 'endian',
};

/** RAW_LEN_ID marks r2 of raw programs (the data length): data + len is the end of the data. */
export const RAW_LEN_ID = 1;

const unknownFor = (is64: boolean): Reg => (is64 ? UNKNOWN_REG : scalarReg(zext32(UNKNOWN)));

/** alu executes one ALU/ALU64 instruction on the current frame. */
export function alu(v: Verifier, st: VState, i: Insn): void {
  const is64 = o.BPF_CLASS(i.code) === o.BPF_ALU64;
  const op = o.BPF_OP(i.code);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  if (op === o.BPF_END || op === o.BPF_NEG) {
    const d = v.readReg(st, i.dst);
    let r: Reg;
    if (d.type !== RegType.SCALAR) r = UNKNOWN_REG;
    else if (op === o.BPF_NEG) r = scalarReg(scalarNeg(d.s, is64));
    else r = scalarReg(scalarEnd(d.s, i.imm, is64 || o.BPF_SRC(i.code) === o.BPF_TO_BE));
    v.setReg(st, i.dst, r);
    return;
  }
  if (op === o.BPF_MOV) return mov(v, st, i, is64, x);
  if (!x && (op === o.BPF_DIV || op === o.BPF_MOD) && i.imm === 0) reject('DIV_BY_ZERO', 'div by zero');
  if (!x && (op === o.BPF_LSH || op === o.BPF_RSH || op === o.BPF_ARSH) && (i.imm < 0 || i.imm >= (is64 ? 64 : 32))) {
    reject('INVALID_SHIFT', `invalid shift ${i.imm}`);
  }
  const src = x ? v.readReg(st, i.src) : v.immReg(st.pc, i.imm, is64);
  const dst = v.readReg(st, i.dst);
  if (isPointer(dst) || isPointer(src)) {
    v.prec.note(st.pc, (1 << i.dst) | (x ? 1 << i.src : 0)); // the scalar operand's range matters
    v.setReg(st, i.dst, pointerAlu(v, i, is64, op, dst, src));
    return;
  }
  v.setReg(st, i.dst, scalarReg(scalarAlu(op, dst.s, src.s, is64, i.off === 1)));
}

function mov(v: Verifier, st: VState, i: Insn, is64: boolean, x: boolean): void {
  if (!x) {
    v.setReg(st, i.dst, v.immReg(st.pc, i.imm, is64));
    return;
  }
  let src = v.readReg(st, i.src);
  if (src.type !== RegType.SCALAR) {
    // a pointer copied whole stays a pointer; a part of it is just a number (privileged rules)
    v.setReg(st, i.dst, is64 && i.off === 0 ? src : unknownFor(is64));
    return;
  }
  if (i.off !== 0) {
    v.setReg(st, i.dst, scalarReg(scalarMovsx(src.s, i.off, is64)));
    return;
  }
  if (!is64) {
    v.setReg(st, i.dst, scalarReg(zext32(src.s)));
    return;
  }
  if (src.id === 0 && !isConst(src.s)) {
    // link the copies so that a later comparison of one bounds the other
    src = scalarReg(src.s, v.newId());
    v.setReg(st, i.src, src);
  }
  v.setReg(st, i.dst, src);
}

function pointerAlu(v: Verifier, i: Insn, is64: boolean, op: number, dst: Reg, src: Reg): Reg {
  const d = i.dst;
  if (isPointer(dst) && isPointer(src)) {
    if (op === o.BPF_SUB) return unknownFor(is64);
    return reject('PTR_ARITH', `R${d} pointer ${OP_NAMES[op]} pointer prohibited`);
  }
  const ptr = isPointer(dst) ? dst : src;
  const off = isPointer(dst) ? src : dst;
  if (!is64) {
    if (op === o.BPF_SUB) return unknownFor(false);
    return reject('PTR_ARITH', `R${d} 32-bit pointer arithmetic prohibited`);
  }
  if (ptr.nullable) reject('PTR_ARITH_NULL', `R${d} pointer arithmetic on ${typeName(ptr)} prohibited, null-check it first`);
  if (op === o.BPF_AND || op === o.BPF_OR || op === o.BPF_XOR) reject('PTR_ARITH', `R${d} bitwise operator ${OP_NAMES[op]} on pointer prohibited`);
  if (op !== o.BPF_ADD && op !== o.BPF_SUB) reject('PTR_ARITH', `R${d} pointer arithmetic with ${OP_NAMES[op]} operator prohibited`);
  if (op === o.BPF_SUB && ptr === src) reject('PTR_ARITH', `R${d} tried to subtract pointer from scalar`);
  switch (ptr.type) {
    case RegType.CONST_PTR_TO_MAP:
      if (op === o.BPF_ADD && isConst(off.s) && off.s.t.v === 0n) return ptr;
      return reject('PTR_ARITH', `R${d} pointer arithmetic on ${typeName(ptr)} prohibited`);
    case RegType.PTR_TO_PACKET_END:
    case RegType.PTR_TO_FUNC:
      return reject('PTR_ARITH', `R${d} pointer arithmetic on ${typeName(ptr)} prohibited`);
    default:
      break;
  }
  if (op === o.BPF_ADD && off.id === RAW_LEN_ID && ptr.type === RegType.PTR_TO_PACKET && ptr.off === 0 && isConst(ptr.s) && ptr.s.t.v === 0n) {
    return ptrReg(RegType.PTR_TO_PACKET_END);
  }
  saneOffset(off.s, ptr, d);
  let r: Reg;
  if (isConst(off.s)) {
    const c = Number(BigInt.asIntN(64, off.s.t.v));
    r = { ...ptr, off: op === o.BPF_ADD ? ptr.off + c : ptr.off - c };
  } else {
    const s = scalarAlu(op, ptr.s, off.s, true);
    r = isPacket(ptr) ? { ...ptr, s, id: v.newId(), range: 0 } : { ...ptr, s };
  }
  if (Math.abs(r.off) >= BPF_MAX_VAR_OFF) reject('PTR_OUT_OF_RANGE', `${typeName(ptr)} pointer offset ${r.off} is not allowed`);
  if (r.s.smin <= -BigInt(BPF_MAX_VAR_OFF) || r.s.smin >= BigInt(BPF_MAX_VAR_OFF)) {
    reject('PTR_OUT_OF_RANGE', `value ${r.s.smin} makes ${typeName(ptr)} pointer be out of bounds`);
  }
  return r;
}

/** saneOffset is the kernel's check_reg_sane_offset on the scalar added to a pointer. */
function saneOffset(s: Scalar, ptr: Reg, d: number): void {
  const name = typeName(ptr);
  const max = BigInt(BPF_MAX_VAR_OFF);
  if (isConst(s)) {
    const val = BigInt.asIntN(64, s.t.v);
    if (val >= max || val <= -max) reject('PTR_OUT_OF_RANGE', `math between ${name} pointer and ${val} is not allowed`);
    return;
  }
  if (s.smin === S64_MIN) reject('PTR_OUT_OF_RANGE', `math between ${name} pointer and register with unbounded min value is not allowed`);
  if (s.smin >= max || s.smin <= -max) reject('PTR_OUT_OF_RANGE', `value ${s.smin} makes ${name} pointer be out of bounds`);
  void d;
}
