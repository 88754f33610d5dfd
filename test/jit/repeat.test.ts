/**
 * JitProgram.repeat (the in-Wasm repeat loop): N iterations in one call behave exactly like N
 * consecutive runs in the interpreter: same r0 and steps of the last run, same memory
 * afterwards (writes persist across iterations), the stack shadow cleared at each start, the
 * budget reset per iteration, LD_ABS misses in subframes ending only their own iteration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { isBpfError } from '../../src/core/errors.js';
import { createVmContext, dataBuffer } from '../../src/core/vm/context.js';
import { AddressSpace, PERM_RW } from '../../src/core/vm/memory.js';
import type { RunOptions, VmContext } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { loadJit } from '../../src/core/jit/index.js';

interface Outcome {
  r0?: bigint;
  steps?: number;
  code?: string;
  insn?: number;
  data: number[];
}

function setup(data: Uint8Array): { ctx: VmContext; opts: RunOptions; addr: number } {
  const ctx = createVmContext({ space: new AddressSpace({ initialBytes: 1 << 20, maximumBytes: 1 << 22 }) });
  const addr = dataBuffer(ctx, data.length);
  ctx.space.write(addr, data);
  const region = { start: addr, end: addr + data.length, perm: PERM_RW, name: 'data' };
  return { ctx, addr, opts: { args: [BigInt(addr), BigInt(data.length)], regions: [region], packet: { start: addr, len: data.length } } };
}

function outcome(ctx: VmContext, addr: number, len: number, f: () => { r0: bigint; steps: number }): Outcome {
  try {
    const r = f();
    return { r0: r.r0, steps: r.steps, data: [...ctx.space.read(addr, len)] };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return { code: e.code, insn: e.context.insn, data: [...ctx.space.read(addr, len)] };
  }
}

/** compare runs `text` n times in the interpreter (n runs) and once through JitProgram.repeat(n). */
function compare(text: string, n: number, data: Uint8Array, checked: boolean, budget?: number): Outcome {
  const prog = assemble(text);
  const a = setup(data);
  const ia = interpreter.load(prog, a.ctx, { checked });
  const want = outcome(a.ctx, a.addr, data.length, () => {
    let r = { r0: 0n, steps: 0 };
    for (let k = 0; k < n; k++) r = ia.run({ ...a.opts, budget });
    return r;
  });
  const b = setup(data);
  const jb = loadJit(prog, b.ctx, { checked, countBudget: true });
  const got = outcome(b.ctx, b.addr, data.length, () => jb.repeat(n, { ...b.opts, budget }));
  assert.deepEqual(got, want);
  return got;
}

const COUNTER = `
  r2 = *(u64 *)(r1 + 0)
  r2 += 3
  *(u64 *)(r1 + 0) = r2
  r0 = r2
  exit`;

test('repeat: every iteration starts from the same registers; memory writes persist', () => {
  for (const checked of [true, false]) {
    const r = compare(COUNTER, 7, new Uint8Array(8), checked);
    assert.equal(r.r0, 21n);
    assert.equal(r.data[0], 21);
    assert.equal(compare(COUNTER, 1, new Uint8Array(8), checked).r0, 3n);
  }
});

test('repeat: the stack shadow is cleared at each iteration (checked mode)', () => {
  // the first iteration initialises r10-8 and flags the packet; the second reads it uninitialised
  const text = `
    r2 = *(u8 *)(r1 + 0)
    if r2 != 0 goto read
    *(u64 *)(r10 - 8) = 5
    *(u8 *)(r1 + 0) = 1
  read:
    r0 = *(u64 *)(r10 - 8)
    exit`;
  assert.equal(compare(text, 1, new Uint8Array(4), true).r0, 5n);
  const r = compare(text, 3, new Uint8Array(4), true);
  assert.equal(r.code, 'E_UNINIT_STACK');
  assert.equal(r.insn, 4);
});

test('repeat: an LD_ABS miss in a subframe ends only its iteration', () => {
  // odd iterations read past the packet from a subprogram (r0 = 0), even ones return 9
  const text = `
    r2 = *(u8 *)(r1 + 0)
    r2 += 1
    *(u8 *)(r1 + 0) = r2
    r6 = r2
    r6 &= 1
    call f
    r0 = 9
    exit
  f:
    if r6 == 0 goto ok
    r0 = *(u8 *)skb[100]
  ok:
    exit`;
  for (const checked of [true, false]) {
    assert.equal(compare(text, 5, new Uint8Array(4), checked).r0, 0n);
    const r = compare(text, 6, new Uint8Array(4), checked);
    assert.equal(r.r0, 9n);
    assert.equal(r.data[0], 6);
  }
});

test('repeat: the budget is per iteration; steps are the last iteration\'s', () => {
  const loop = `
    r0 = *(u8 *)(r1 + 0)
    r2 = r0
    r2 += 1
    *(u8 *)(r1 + 0) = r2
  again:
    r0 -= 1
    if r0 s> 0 goto again
    exit`;
  const data = new Uint8Array([3, 0, 0, 0]);
  const r = compare(loop, 4, data, true, 100);
  assert.equal(r.steps, 4 + 2 * 6 + 1);
  // iteration k loops k-1 times: the 29th needs 4 + 56 + 1 > 60 instructions
  assert.equal(compare(loop, 40, new Uint8Array(4), true, 60).code, 'E_BUDGET');
});

test('repeat: a fault in a later iteration is the interpreter\'s fault, memory as it left it', () => {
  const text = `
    r2 = *(u8 *)(r1 + 0)
    r2 += 1
    *(u8 *)(r1 + 0) = r2
    r1 += r2
    r0 = *(u8 *)(r1 + 2)
    exit`;
  for (const checked of [true, false]) {
    const r = compare(text, 6, new Uint8Array(4), checked);
    if (checked) assert.equal(r.code, 'E_MEM');
  }
});
