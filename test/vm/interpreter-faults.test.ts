/** Load-time and run-time errors of the interpreter: codes, instruction indices, addresses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertFault, exit, insn, ja, jmp, lddw, ldx, mov, movx, o, r0, run, st, stx, withData } from './util.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { PERM_R, PERM_W } from '../../src/core/vm/memory.js';

const load = (prog: Parameters<typeof run>[0]) => () => interpreter.load(prog, createVmContext());

test('bad programs are rejected at load with the instruction index', () => {
  assertFault(load([mov(0, 0), insn(0xff), exit()]), 'E_BAD_OPCODE', { insn: 1 });
  assertFault(load([mov(0, 0), lddw(1, 5n)[0]]), 'E_TRUNCATED', { insn: 1 });
  assertFault(load([ja(5), exit()]), 'E_BAD_JUMP', { insn: 0 });
  assertFault(load([mov(0, 0), ja(-3), exit()]), 'E_BAD_JUMP', { insn: 1 });
  assertFault(load([ja(1), ...lddw(1, 5n), exit()]), 'E_BAD_JUMP', { insn: 0 }); // into the middle of lddw
  assertFault(load([mov(10, 1), exit()]), 'E_BAD_REGISTER', { insn: 0 });
  assertFault(load([insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, 11), exit()]), 'E_BAD_REGISTER', { insn: 0 });
  assertFault(load([]), 'EINVAL');
});

test('an infinite loop exhausts the budget (E_BUDGET at the next instruction)', () => {
  assertFault(() => run([mov(0, 0), ja(-1)], { budget: 1000 }), 'E_BUDGET', { insn: 1 });
  // exactly `budget` instructions may execute
  assert.equal(run([mov(0, 1), mov(0, 2), exit()], { budget: 3 }).steps, 3);
  assertFault(() => run([mov(0, 1), mov(0, 2), exit()], { budget: 2 }), 'E_BUDGET', { insn: 2 });
});

test('falling off the end is E_NO_EXIT at the last instruction', () => {
  assertFault(() => run([mov(0, 1), mov(0, 2)]), 'E_NO_EXIT', { insn: 1 });
  assertFault(() => run([mov(0, 1), ...lddw(0, 2n)]), 'E_NO_EXIT', { insn: 1 });
  assertFault(() => run([mov(0, 1), jmp(o.BPF_JEQ, 0, 0, -2)]), 'E_NO_EXIT', { insn: 1 });
  // even when the budget runs out at the same moment
  assertFault(() => run([mov(0, 1), mov(0, 2)], { budget: 2 }), 'E_NO_EXIT', { insn: 1 });
});

test('reading uninitialised stack is E_UNINIT_STACK with the first bad byte; trusted mode does not check', () => {
  const ctx = createVmContext();
  const top = ctx.stack.top(0);
  assertFault(() => run([ldx(o.BPF_DW, 0, 10, -8), exit()], { ctx }), 'E_UNINIT_STACK', { insn: 0, address: top - 8 });
  // partially initialised: bytes -8..-5 written, -4..-1 not
  assertFault(() => run([st(o.BPF_W, 10, -8, 1), ldx(o.BPF_DW, 0, 10, -8), exit()], { ctx }), 'E_UNINIT_STACK',
    { insn: 1, address: top - 4 });
  assertFault(() => run([st(o.BPF_B, 10, -2, 1), ldx(o.BPF_H, 0, 10, -2), exit()], { ctx }), 'E_UNINIT_STACK',
    { insn: 1, address: top - 1 });
  // each run starts with an uninitialised frame again
  assert.equal(r0([st(o.BPF_DW, 10, -8, 3), ldx(o.BPF_DW, 0, 10, -8), exit()], { ctx }), 3n);
  assertFault(() => run([ldx(o.BPF_W, 0, 10, -8), exit()], { ctx }), 'E_UNINIT_STACK', { insn: 0 });
  assert.equal(typeof r0([ldx(o.BPF_DW, 0, 10, -8), exit()], { ctx, checked: false }), 'bigint');
  // atomics on the stack need initialised bytes too
  assertFault(() => run([mov(1, 1), insn(o.BPF_STX | o.BPF_ATOMIC | o.BPF_DW, 10, 1, -8, o.BPF_ADD), exit()], { ctx }),
    'E_UNINIT_STACK', { insn: 1 });
});

test('accesses outside every region are E_MEM with the address (read, write, straddling, below the stack)', () => {
  const { ctx, addr, region } = withData(16);
  const regions = [region];
  const p = (i: ReturnType<typeof ldx>) => [...lddw(1, BigInt(addr)), i, exit()];
  assertFault(() => run(p(ldx(o.BPF_W, 0, 1, 16)), { ctx, regions }), 'E_MEM', { insn: 2, address: addr + 16 });
  assertFault(() => run(p(ldx(o.BPF_DW, 0, 1, 12)), { ctx, regions }), 'E_MEM', { insn: 2, address: addr + 12 });
  assertFault(() => run(p(ldx(o.BPF_B, 0, 1, -1)), { ctx, regions }), 'E_MEM', { insn: 2, address: addr - 1 });
  assertFault(() => run(p(stx(o.BPF_H, 1, 1, 15)), { ctx, regions }), 'E_MEM', { insn: 2, address: addr + 15 });
  assertFault(() => run(p(st(o.BPF_W, 1, 0, 0)), { ctx }), 'E_MEM', { insn: 2, address: addr }); // no regions given
  assertFault(() => run([ldx(o.BPF_B, 0, 0, 0), exit()], { ctx }), 'E_MEM', { insn: 0, address: 0 }); // null pointer
  const top = ctx.stack.top(0);
  assertFault(() => run([st(o.BPF_DW, 10, 0, 1), exit()], { ctx }), 'E_MEM', { insn: 0, address: top });
  assertFault(() => run([st(o.BPF_B, 10, -4097, 1), exit()], { ctx }), 'E_MEM', { insn: 0, address: top - 4097 });
  assert.equal(r0(p(ldx(o.BPF_DW, 0, 1, 8)), { ctx, regions }), 0n); // the last 8 bytes are fine
});

test('region permissions are enforced', () => {
  const ro = withData(new Uint8Array([1, 2, 3, 4]), PERM_R);
  assert.equal(r0([...lddw(1, BigInt(ro.addr)), ldx(o.BPF_B, 0, 1, 3), exit()], { ctx: ro.ctx, regions: [ro.region] }), 4n);
  assertFault(() => run([...lddw(1, BigInt(ro.addr)), st(o.BPF_B, 1, 0, 9), exit()], { ctx: ro.ctx, regions: [ro.region] }),
    'E_MEM', { insn: 2, address: ro.addr });
  const wo = withData(4, PERM_W);
  assertFault(() => run([...lddw(1, BigInt(wo.addr)), ldx(o.BPF_B, 0, 1, 0), exit()], { ctx: wo.ctx, regions: [wo.region] }),
    'E_MEM', { insn: 2 });
  // atomics need both R and W
  assertFault(() => run([...lddw(1, BigInt(ro.addr)), mov(2, 1), insn(o.BPF_STX | o.BPF_ATOMIC | o.BPF_W, 1, 2, 0, o.BPF_ADD), exit()],
    { ctx: ro.ctx, regions: [ro.region] }), 'E_MEM', { insn: 3 });
});

test('a pointer with high bits set is in no region (64-bit address)', () => {
  const { ctx, addr, region } = withData(16);
  const big = (1n << 32n) + BigInt(addr);
  assertFault(() => run([...lddw(1, big), ldx(o.BPF_B, 0, 1, 0), exit()], { ctx, regions: [region] }), 'E_MEM',
    { insn: 2, address: Number(big) });
  assertFault(() => run([...lddw(1, big), st(o.BPF_B, 1, 0, 0), exit()], { ctx, regions: [region] }), 'E_MEM', { insn: 2 });
  // r10 + 2^32 is not the stack either
  assertFault(() => run([movx(1, 10), ...lddw(2, 1n << 32n), insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_X, 1, 2),
    st(o.BPF_B, 1, -1, 0), exit()], { ctx }), 'E_MEM', { insn: 4 });
});

test('trusted mode skips region checks but an access past the memory is still E_MEM', () => {
  const { ctx, addr } = withData(new Uint8Array([5, 6, 7, 8]));
  assert.equal(r0([...lddw(1, BigInt(addr)), ldx(o.BPF_B, 0, 1, 2), exit()], { ctx, checked: false }), 7n);
  assertFault(() => run([...lddw(1, 0xfffffff0n), ldx(o.BPF_DW, 0, 1, 0), exit()], { ctx, checked: false }), 'E_MEM', { insn: 2 });
});
