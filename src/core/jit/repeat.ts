/**
 * The `repeat` export: runs the program N times inside WebAssembly, like the kernel's
 * BPF_PROG_TEST_RUN repeat loop, so that timing a run does not include the JS -> Wasm entry
 * and the per-run setup of `JitProgram.run`. Every iteration starts like a run: r1..r5 from
 * the control block, r0 and r6..r9 zero, frame 0's shadow cleared (checked mode), the budget
 * reset. The memory is not restored between iterations (the kernel does not re-copy an XDP
 * packet either), so a program that writes its input sees its own writes.
 */
import * as o from '../isa/opcodes.js';
import { STACK_SIZE } from '../vm/memory.js';
import { Code, type ModuleBuilder } from './wasm/encoder.js';
import { F64, I32, I64, Op } from './wasm/ops.js';
import { CB_ARGS, CB_R0, type GenOptions, type ModuleIndices } from './layout.js';

/**
 * defineRepeatExport adds repeat(n i32, budget f64): n >= 1 iterations; r0 of the last one is
 * stored in the control block. The exported mutable global `repeatLeft` counts the
 * iterations not finished yet (including one that threw), so the caller can resume after an
 * LD_ABS miss in a subframe (which leaves Wasm by an exception).
 */
export function defineRepeatExport(mb: ModuleBuilder, m: ModuleIndices, opts: GenOptions): void {
  const gLeft = mb.global(I32, 0);
  mb.exportGlobal('repeatLeft', gLeft);
  const fn = mb.declareFunc([I32, F64], []);
  const c = new Code(2);
  const N = 0, BUDGET = 1;
  const budget = c.local(I64), cb = c.local(I32), fp = c.local(I64);
  c.get(BUDGET).op(Op.i64_trunc_f64_s).set(budget);
  c.gget(m.gCb).set(cb);
  c.gget(m.gStackBase).i64(STACK_SIZE).op(Op.i64_add).set(fp);
  c.get(N).gset(gLeft);
  c.loop();
  if (opts.checked) {
    c.gget(m.gStackBase).op(Op.i32_wrap_i64).i32(2 * STACK_SIZE - o.STACK_FRAME_SIZE).op(Op.i32_add);
    c.i32(0).i32(o.STACK_FRAME_SIZE).memoryFill();
  }
  if (opts.budget) c.get(budget).gset(m.gBudget);
  c.get(cb); // address for the r0 store below
  c.i64(0);
  for (let r = 0; r < 5; r++) c.get(cb).mem(Op.i64_load, 3, CB_ARGS + 8 * r);
  c.i64(0).i64(0).i64(0).i64(0);
  c.get(fp);
  c.call(m.funcs.get(0)!).op(Op.drop, Op.drop, Op.drop, Op.drop, Op.drop);
  c.mem(Op.i64_store, 3, CB_R0);
  c.gget(gLeft).i32(1).op(Op.i32_sub).gset(gLeft);
  c.gget(gLeft).i32(0).op(Op.i32_gt_s, Op.br_if).u32(0);
  c.end();
  mb.defineFunc(fn, c);
  mb.exportFunc('repeat', fn);
}
