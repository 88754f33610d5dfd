/**
 * Jumps conditions, calls, exit and budget accounting. Control flow itself (which branch
 * goes where) is the stackifier's job; these emit the pieces inside a block.
 */
import type { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { STACK_SIZE } from '../vm/memory.js';
import { Op } from './wasm/ops.js';
import { type Gen, dst32, fault, src32, src64 } from './gen-ctx.js';
import { CB_FRAME, F_CALL_DEPTH, F_KFUNC } from './layout.js';
import { CALLBACK_HELPERS } from '../helpers/registry.js';

const CMP64: Record<number, number> = {
  [o.BPF_JEQ]: Op.i64_eq, [o.BPF_JNE]: Op.i64_ne, [o.BPF_JGT]: Op.i64_gt_u, [o.BPF_JGE]: Op.i64_ge_u,
  [o.BPF_JLT]: Op.i64_lt_u, [o.BPF_JLE]: Op.i64_le_u, [o.BPF_JSGT]: Op.i64_gt_s, [o.BPF_JSGE]: Op.i64_ge_s,
  [o.BPF_JSLT]: Op.i64_lt_s, [o.BPF_JSLE]: Op.i64_le_s,
};
const CMP32: Record<number, number> = {
  [o.BPF_JEQ]: Op.i32_eq, [o.BPF_JNE]: Op.i32_ne, [o.BPF_JGT]: Op.i32_gt_u, [o.BPF_JGE]: Op.i32_ge_u,
  [o.BPF_JLT]: Op.i32_lt_u, [o.BPF_JLE]: Op.i32_le_u, [o.BPF_JSGT]: Op.i32_gt_s, [o.BPF_JSGE]: Op.i32_ge_s,
  [o.BPF_JSLT]: Op.i32_lt_s, [o.BPF_JSLE]: Op.i32_le_s,
};

/** emitCond pushes the i32 condition (non-zero = taken) of a conditional jump. */
export function emitCond(g: Gen, i: Insn): void {
  const c = g.c;
  const op = o.BPF_OP(i.code);
  if (o.BPF_CLASS(i.code) === o.BPF_JMP32) {
    dst32(g, i);
    src32(g, i);
    c.op(op === o.BPF_JSET ? Op.i32_and : CMP32[op]);
    return;
  }
  c.get(g.L.reg[i.dst]);
  src64(g, i);
  if (op === o.BPF_JSET) c.op(Op.i64_and).i64(0).op(Op.i64_ne);
  else c.op(CMP64[op]);
}

/** emitExit returns r0..r5 to the caller (or to `run` from frame 0). */
export function emitExit(g: Gen): void {
  syncBudget(g);
  for (let r = 0; r <= 5; r++) g.c.get(g.L.reg[r]);
  g.c.op(Op.return);
}

/** emitCall emits a helper call, a bpf-to-bpf call, callx or a kfunc call (always a fault). */
export function emitCall(g: Gen, i: Insn, pc: number): void {
  const c = g.c;
  const R = g.L.reg;
  if (o.BPF_SRC(i.code) === o.BPF_X) {
    c.get(R[i.dst]);
    for (let r = 1; r <= 5; r++) c.get(R[r]);
    c.i32(pc).call(g.m.callx).set(R[0]);
    return;
  }
  if (i.src === o.BPF_PSEUDO_KFUNC_CALL) {
    c.i64(i.imm).set(g.L.a);
    fault(g, F_KFUNC, pc, g.L.a);
    return;
  }
  if (i.src === o.BPF_PSEUDO_CALL) return emitLocalCall(g, pc + 1 + i.imm, pc);
  // helpers that run callbacks see this frame's r10 and the budget left (the callback charges it)
  const cb = CALLBACK_HELPERS.includes(i.imm);
  if (cb) {
    c.get(g.L.cb).get(R[10]).op(Op.i32_wrap_i64).mem(Op.i32_store, 2, CB_FRAME);
    syncBudget(g);
  }
  for (let r = 1; r <= 5; r++) c.get(R[r]);
  c.i32(pc).call(g.m.helpers.get(i.imm)!).set(R[0]);
  if (cb && g.o.budget) c.gget(g.m.gBudget).set(g.L.bud);
}

/**
 * emitLocalCall calls the function of entry slot `target` in a new frame: r10 moves down a
 * frame (frame 8 would start at the stack base: E_CALL_DEPTH), checked mode clears the new
 * frame's shadow bytes. The callee gets r0..r9 as they are and r0..r5 come back as it left
 * them; r6..r9 are the caller's own locals, so they are restored for free.
 */
function emitLocalCall(g: Gen, target: number, pc: number): void {
  const c = g.c;
  const R = g.L.reg;
  const t = g.L.t;
  c.get(R[10]).i64(o.STACK_FRAME_SIZE).op(Op.i64_sub).tee(t).get(g.L.sb).op(Op.i64_le_u).if();
  fault(g, F_CALL_DEPTH, pc);
  c.end();
  if (g.o.checked) {
    c.get(t).op(Op.i32_wrap_i64).i32(STACK_SIZE - o.STACK_FRAME_SIZE).op(Op.i32_add);
    c.i32(0).i32(o.STACK_FRAME_SIZE).memoryFill();
  }
  for (let r = 0; r <= 9; r++) c.get(R[r]);
  syncBudget(g);
  c.get(t).call(g.m.funcs.get(target)!);
  for (let r = 5; r >= 0; r--) c.set(R[r]);
  if (g.o.budget) c.gget(g.m.gBudget).set(g.L.bud);
}

/** syncBudget stores the function's budget local into the global (before calls and returns). */
export function syncBudget(g: Gen): void {
  if (g.o.budget) g.c.get(g.L.bud).gset(g.m.gBudget);
}

/**
 * emitCharge charges the `n` instructions of the budget unit starting at slot `start`. When
 * fewer are left, the budgetTail import runs the unit in the interpreter with the budget left
 * and registers as they are (it always ends in a fault, see gen-func.ts).
 */
export function emitCharge(g: Gen, n: number, start: number): void {
  const c = g.c;
  const b = g.L.bud;
  // bud -= n; a negative result (bud < 2^62, no wrap) means the unit is not covered
  c.get(b).i64(n).op(Op.i64_sub).tee(b).i64(0).op(Op.i64_lt_s).if();
  c.i32(start).get(b).i64(n).op(Op.i64_add);
  for (let r = 0; r <= 10; r++) c.get(g.L.reg[r]);
  c.call(g.m.budgetTail).op(Op.unreachable);
  c.end();
}
