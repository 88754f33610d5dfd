/**
 * Builders and runners shared by the interpreter tests (programs are built with the isa
 * builders, not the assembler, so these tests depend on nothing but the ISA module).
 */
import assert from 'node:assert/strict';
import { insn, lddw, type Insn, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import { isBpfError, type ErrorCode } from '../../src/core/errors.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import type { RunOptions, RunResult, VmContext } from '../../src/core/vm/engine.js';
import { PERM_RW, type Region } from '../../src/core/vm/memory.js';

export { insn, lddw, o };

/** Short builders, kernel-style names. */
export const alu64 = (op: number, dst: number, imm: number): Insn => insn(o.BPF_ALU64 | op | o.BPF_K, dst, 0, 0, imm);
export const alu64x = (op: number, dst: number, src: number, off = 0): Insn => insn(o.BPF_ALU64 | op | o.BPF_X, dst, src, off);
export const alu32 = (op: number, dst: number, imm: number): Insn => insn(o.BPF_ALU | op | o.BPF_K, dst, 0, 0, imm);
export const alu32x = (op: number, dst: number, src: number, off = 0): Insn => insn(o.BPF_ALU | op | o.BPF_X, dst, src, off);
export const mov = (dst: number, imm: number): Insn => alu64(o.BPF_MOV, dst, imm);
export const movx = (dst: number, src: number): Insn => alu64x(o.BPF_MOV, dst, src);
export const exit = (): Insn => insn(o.BPF_JMP | o.BPF_EXIT);
export const ja = (off: number): Insn => insn(o.BPF_JMP | o.BPF_JA, 0, 0, off);
export const jmp = (op: number, dst: number, imm: number, off: number): Insn => insn(o.BPF_JMP | op | o.BPF_K, dst, 0, off, imm);
export const jmpx = (op: number, dst: number, src: number, off: number): Insn => insn(o.BPF_JMP | op | o.BPF_X, dst, src, off);
export const jmp32 = (op: number, dst: number, imm: number, off: number): Insn => insn(o.BPF_JMP32 | op | o.BPF_K, dst, 0, off, imm);
export const jmp32x = (op: number, dst: number, src: number, off: number): Insn => insn(o.BPF_JMP32 | op | o.BPF_X, dst, src, off);
export const ldx = (size: number, dst: number, src: number, off: number): Insn => insn(o.BPF_LDX | o.BPF_MEM | size, dst, src, off);
export const ldsx = (size: number, dst: number, src: number, off: number): Insn => insn(o.BPF_LDX | o.BPF_MEMSX | size, dst, src, off);
export const stx = (size: number, dst: number, src: number, off: number): Insn => insn(o.BPF_STX | o.BPF_MEM | size, dst, src, off);
export const st = (size: number, dst: number, off: number, imm: number): Insn => insn(o.BPF_ST | o.BPF_MEM | size, dst, 0, off, imm);
export const atomic = (size: number, dst: number, src: number, off: number, aop: number): Insn =>
  insn(o.BPF_STX | o.BPF_ATOMIC | size, dst, src, off, aop);
export const call = (id: number): Insn => insn(o.BPF_JMP | o.BPF_CALL, 0, 0, 0, id);
export const callLocal = (rel: number): Insn => insn(o.BPF_JMP | o.BPF_CALL, 0, o.BPF_PSEUDO_CALL, 0, rel);
export const callx = (reg: number): Insn => insn(o.BPF_JMP | o.BPF_CALL | o.BPF_X, reg);

/** RunSpec configures `run`. */
export interface RunSpec extends RunOptions {
  ctx?: VmContext;
  checked?: boolean;
}

/** run loads and runs `prog` with the interpreter. */
export function run(prog: Program, spec: RunSpec = {}): RunResult {
  const ctx = spec.ctx ?? createVmContext();
  return interpreter.load(prog, ctx, { checked: spec.checked ?? true }).run(spec);
}

/** r0 runs `prog` and returns r0. */
export function r0(prog: Program, spec: RunSpec = {}): bigint {
  return run(prog, spec).r0;
}

/** u64 converts a signed bigint to its unsigned 64-bit pattern. */
export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** withData allocates `bytes` in a fresh context and returns the context, address and region. */
export function withData(bytes: Uint8Array | number, perm = PERM_RW): { ctx: VmContext; addr: number; region: Region } {
  const ctx = createVmContext();
  const data = typeof bytes === 'number' ? new Uint8Array(bytes) : bytes;
  const addr = ctx.space.alloc(Math.max(data.length, 1), 8);
  ctx.space.write(addr, data);
  return { ctx, addr, region: { start: addr, end: addr + data.length, perm, name: 'data' } };
}

/** assertFault checks that `fn` throws a BpfError with `code` and the given context fields. */
export function assertFault(fn: () => unknown, code: ErrorCode, ctx: { insn?: number; address?: number } = {}): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `expected ${code}, but nothing was thrown`);
  assert.ok(isBpfError(thrown), `expected a BpfError ${code}, got ${String(thrown)}`);
  assert.equal(thrown.code, code, thrown.message);
  if (ctx.insn !== undefined) assert.equal(thrown.context.insn, ctx.insn, thrown.message);
  if (ctx.address !== undefined) assert.equal(thrown.context.address, ctx.address, thrown.message);
}
