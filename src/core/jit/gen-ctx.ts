/**
 * The state shared by the per-instruction emitters of one Wasm function, and the small
 * sequences they all use (faults, operands, byte swaps).
 */
import type { Insn, Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import type { Code } from './wasm/encoder.js';
import { Op } from './wasm/ops.js';
import type { FnLocals, GenOptions, ModuleIndices } from './layout.js';
import type { FastCache } from './gen-fast.js';

/** Gen is everything an instruction emitter needs. */
export interface Gen {
  readonly c: Code;
  readonly L: FnLocals;
  readonly m: ModuleIndices;
  readonly o: GenOptions;
  readonly prog: Program;
  /** checked mode: the locals holding the fast-path regions (gen-fast.ts) */
  readonly fast?: FastCache;
}

/**
 * fault emits a call to the fault import followed by `unreachable` (the import throws; the
 * trap only keeps the validator and the optimiser informed). `addr` is an i64 local or null.
 */
export function fault(g: Gen, code: number, insn: number, addr: number | null = null, size = 0): void {
  g.c.i32(code).i32(insn);
  if (addr === null) g.c.i64(0);
  else g.c.get(addr);
  g.c.i32(size).call(g.m.fault).op(Op.unreachable);
}

/** src64 pushes the 64-bit source operand: the src register, or imm sign-extended. */
export function src64(g: Gen, i: Insn): void {
  if (o.BPF_SRC(i.code) === o.BPF_X) g.c.get(g.L.reg[i.src]);
  else g.c.i64(i.imm);
}

/** src32 pushes the 32-bit source operand: low half of the src register, or imm. */
export function src32(g: Gen, i: Insn): void {
  if (o.BPF_SRC(i.code) === o.BPF_X) g.c.get(g.L.reg[i.src]).op(Op.i32_wrap_i64);
  else g.c.i32(i.imm);
}

/** dst32 pushes the low half of the dst register. */
export function dst32(g: Gen, i: Insn): void {
  g.c.get(g.L.reg[i.dst]).op(Op.i32_wrap_i64);
}

/** bswap32 replaces the i32 on the stack by its byte swap (uses the i32 scratch local). */
export function bswap32(g: Gen): void {
  const { c } = g;
  const x = g.L.i;
  c.tee(x).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and);
  c.get(x).i32(8).op(Op.i32_rotr).i32(0xff00ff00 | 0).op(Op.i32_and);
  c.op(Op.i32_or);
}

/** bswap16 replaces the i32 on the stack by the byte swap of its low 16 bits (zero-extended). */
export function bswap16(g: Gen): void {
  const { c } = g;
  const x = g.L.i;
  c.tee(x).i32(0xff).op(Op.i32_and).i32(8).op(Op.i32_shl);
  c.get(x).i32(8).op(Op.i32_shr_u).i32(0xff).op(Op.i32_and);
  c.op(Op.i32_or);
}

/** bswap64 replaces the i64 on the stack by its byte swap (uses scratch local t). */
export function bswap64(g: Gen): void {
  const { c } = g;
  c.set(g.L.t);
  c.get(g.L.t).op(Op.i32_wrap_i64);
  bswap32(g);
  c.op(Op.i64_extend_i32_u).i64(32).op(Op.i64_shl);
  c.get(g.L.t).i64(32).op(Op.i64_shr_u, Op.i32_wrap_i64);
  bswap32(g);
  c.op(Op.i64_extend_i32_u, Op.i64_or);
}

