/** The step debugger: stepping, breakpoints, inspection, and identical results to a normal run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alu64, alu64x, call, callLocal, exit, ja, jmp, jmpx, lddw, ldx, mov, movx, o, st, stx,
} from './util.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { Debugger } from '../../src/core/vm/debugger.js';
import { PERM_RW } from '../../src/core/vm/memory.js';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { isBpfError } from '../../src/core/errors.js';

test('step executes one instruction at a time; registers, pc and depth are visible', () => {
  const prog = [mov(1, 5), callLocal(2), alu64x(o.BPF_ADD, 0, 1), exit(), mov(0, 7), exit()];
  const dbg = new Debugger(prog).start();
  assert.equal(dbg.status, 'paused');
  assert.equal(dbg.pc, 0);
  assert.equal(dbg.step(), 'paused');
  assert.equal(dbg.reg(1), 5n);
  assert.equal(dbg.pc, 1);
  const r10 = dbg.reg(10);
  dbg.step(); // the call
  assert.equal(dbg.pc, 4);
  assert.equal(dbg.depth, 1);
  assert.equal(dbg.reg(10), r10 - 512n);
  dbg.step();
  assert.equal(dbg.reg(0), 7n);
  dbg.step(); // exit from the callee
  assert.equal(dbg.depth, 0);
  assert.equal(dbg.pc, 2);
  assert.equal(dbg.reg(10), r10);
  dbg.step();
  assert.equal(dbg.step(), 'exited');
  assert.equal(dbg.result, 12n);
  assert.equal(dbg.steps, 6);
  assert.equal(dbg.step(), 'exited'); // stepping a finished run does nothing
  assert.equal(dbg.registers().length, 11);
});

test('continue stops before breakpoints, each time they are reached', () => {
  // r0 = 0; r1 = 3; loop: r0 += r1; r1 -= 1; if r1 != 0 goto loop; exit
  const prog = [mov(0, 0), mov(1, 3), alu64x(o.BPF_ADD, 0, 1), alu64(o.BPF_SUB, 1, 1), jmp(o.BPF_JNE, 1, 0, -3), exit()];
  const dbg = new Debugger(prog).start();
  dbg.breakpoints.add(3);
  const seen: bigint[] = [];
  while (dbg.continue() === 'paused') {
    assert.equal(dbg.pc, 3);
    seen.push(dbg.reg(0));
  }
  assert.deepEqual(seen, [3n, 5n, 6n]);
  assert.equal(dbg.status, 'exited');
  assert.equal(dbg.result, 6n);
});

test('faults end the run with status faulted and the BpfError; state stays inspectable', () => {
  const dbg = new Debugger([mov(3, 9), ldx(o.BPF_DW, 0, 10, -8), exit()]).start();
  assert.equal(dbg.continue(), 'faulted');
  assert.equal(dbg.fault?.code, 'E_UNINIT_STACK');
  assert.equal(dbg.fault?.context.insn, 1);
  assert.equal(dbg.pc, 1);
  assert.equal(dbg.reg(3), 9n);
  assert.equal(dbg.result, undefined);
});

test('readStack and readMemory show what the program wrote', () => {
  const dbg = new Debugger([...lddw(1, 0x0807060504030201n), stx(o.BPF_DW, 10, 1, -8), exit()]).start();
  dbg.step();
  dbg.step();
  assert.deepEqual([...dbg.readStack(-8, 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...dbg.readMemory(Number(dbg.reg(10)) - 4, 4)], [5, 6, 7, 8]);
  assert.throws(() => dbg.readMemory(-1, 4), (e) => isBpfError(e) && e.code === 'E_MEM');
});

/** Programs for the equivalence check: name, program, data, budget. */
function corpus(): [string, Program, number, number?][] {
  const fnv: Program = [
    ...lddw(0, 0xcbf29ce484222325n), ...lddw(3, 0x100000001b3n), movx(4, 1), alu64x(o.BPF_ADD, 4, 2),
    ldx(o.BPF_B, 5, 1, 0), alu64x(o.BPF_XOR, 0, 5), alu64x(o.BPF_MUL, 0, 3), alu64(o.BPF_ADD, 1, 1),
    jmpx(o.BPF_JNE, 1, 4, -5), exit(),
  ];
  const recurse: Program = [
    mov(1, 6), callLocal(1), exit(),
    jmp(o.BPF_JNE, 1, 0, 2), mov(0, 1), exit(),
    movx(6, 1), stx(o.BPF_DW, 10, 6, -8), alu64(o.BPF_SUB, 1, 1), callLocal(-7),
    ldx(o.BPF_DW, 6, 10, -8), alu64x(o.BPF_MUL, 0, 6), exit(),
  ];
  const writer: Program = [movx(6, 1), mov(7, 0), st(o.BPF_B, 6, 0, 0x5a), stx(o.BPF_W, 6, 1, 4), call(8),
    stx(o.BPF_DW, 6, 0, 8), mov(0, 1), exit()];
  return [
    ['fnv1a', fnv, 64],
    ['factorial via recursion', recurse, 16],
    ['stores and a helper', writer, 16],
    ['out of region', [movx(6, 1), ldx(o.BPF_W, 0, 6, 14), exit()], 16],
    ['infinite loop', [mov(0, 0), ja(-1)], 8, 500],
    ['deep recursion', [callLocal(-1), exit()], 8],
    ['no exit', [mov(0, 1)], 8],
  ];
}

type Outcome = { r0?: bigint; steps?: number; code?: string; insn?: number; data: number[] };

function viaEngine(prog: Program, len: number, budget?: number): Outcome {
  const { ctx, opts } = setup(len, budget);
  try {
    const res = interpreter.load(prog, ctx).run(opts);
    return { r0: res.r0, steps: res.steps, data: [...ctx.space.read(Number(opts.args[0]), len)] };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return { code: e.code, insn: e.context.insn, data: [...ctx.space.read(Number(opts.args[0]), len)] };
  }
}

function viaDebugger(prog: Program, len: number, budget: number | undefined, mode: 'step' | 'continue'): Outcome {
  const { ctx, opts } = setup(len, budget);
  const dbg = new Debugger(prog, ctx).start(opts);
  dbg.breakpoints.add(2); // continue mode still passes through breakpoints
  for (;;) {
    const status = mode === 'step' ? dbg.step() : dbg.continue();
    if (status !== 'paused') break;
  }
  const data = [...ctx.space.read(Number(opts.args[0]), len)];
  if (dbg.status === 'faulted') return { code: dbg.fault!.code, insn: dbg.fault!.context.insn, data };
  return { r0: dbg.result, steps: dbg.steps, data };
}

function setup(len: number, budget?: number) {
  const helpers = new HelperRegistry().register(8, (r1) => r1 * 3n + 1n);
  const ctx = createVmContext({ helpers });
  const addr = ctx.space.alloc(len, 8);
  ctx.space.write(addr, new Uint8Array(len).map((_, i) => i * 13 + 1));
  const opts = {
    args: [BigInt(addr), BigInt(len)],
    regions: [{ start: addr, end: addr + len, perm: PERM_RW, name: 'data' }],
    budget,
  };
  return { ctx, opts };
}

test('running to completion under the debugger gives the engine\'s results (r0, steps, memory, faults)', () => {
  for (const [name, prog, len, budget] of corpus()) {
    const expected = viaEngine(prog, len, budget);
    assert.deepEqual(viaDebugger(prog, len, budget, 'step'), expected, `${name} (step)`);
    assert.deepEqual(viaDebugger(prog, len, budget, 'continue'), expected, `${name} (continue)`);
  }
  // and the corpus exercises both outcomes
  const outcomes = corpus().map(([, p, l, b]) => viaEngine(p, l, b).code ?? 'ok');
  assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'E_MEM', 'E_BUDGET', 'E_CALL_DEPTH', 'E_NO_EXIT']);
  assert.equal(viaEngine(corpus()[1][1], 16).r0, 720n);
});
