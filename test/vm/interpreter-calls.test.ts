/** bpf-to-bpf calls, helpers and callx on the reference interpreter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  alu64, alu64x, assertFault, call, callLocal, callx, exit, jmp, lddw, ldx, mov, movx, o, r0, run, stx,
} from './util.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { BpfError } from '../../src/core/errors.js';
import { STACK_FRAME_SIZE } from '../../src/core/isa/opcodes.js';

test('callee-saved r6..r9 survive a call; r0..r5 are as the callee left them', () => {
  const prog = [
    mov(6, 6), mov(7, 7), mov(8, 8), mov(9, 9), mov(1, 100),
    callLocal(11), // 5 -> callee at 17
    // r0 + r1*1000 + r6 + r7*10 + r8*100 + r9*1000 checks every register after the call
    movx(2, 1), alu64(o.BPF_MUL, 2, 1000), alu64x(o.BPF_ADD, 0, 2),
    alu64x(o.BPF_ADD, 0, 6),
    alu64(o.BPF_MUL, 7, 10), alu64x(o.BPF_ADD, 0, 7),
    alu64(o.BPF_MUL, 8, 100), alu64x(o.BPF_ADD, 0, 8),
    alu64(o.BPF_MUL, 9, 1000), alu64x(o.BPF_ADD, 0, 9),
    exit(),
    // 17: the callee clobbers r6..r9 and r1 and returns 5
    mov(6, 0), mov(7, 0), mov(8, 0), mov(9, 0), mov(1, 3), mov(0, 5), exit(),
  ];
  assert.equal(r0(prog), 5n + 3000n + 6n + 70n + 800n + 9000n);
});

test('each frame has its own r10 (512 bytes below the caller) and a fresh stack', () => {
  const ctx = createVmContext();
  const prog = [
    movx(6, 10), callLocal(3), alu64x(o.BPF_SUB, 6, 0), movx(0, 6), exit(),
    // callee: return its r10
    movx(0, 10), exit(),
  ];
  assert.equal(r0(prog, { ctx }), BigInt(STACK_FRAME_SIZE));
  // r10 is restored after the call
  assert.equal(r0([movx(6, 10), callLocal(3), alu64x(o.BPF_SUB, 6, 10), movx(0, 6), exit(), mov(0, 0), exit()], { ctx }), 0n);
});

test('a callee cannot read the caller\'s uninitialised frame bytes but can read its own writes', () => {
  const prog = [
    mov(1, 7), stx(o.BPF_DW, 10, 1, -8), callLocal(1), exit(),
    // callee: store and load at its own r10-8
    mov(2, 9), stx(o.BPF_DW, 10, 2, -8), ldx(o.BPF_DW, 0, 10, -8), exit(),
  ];
  assert.equal(r0(prog), 9n);
  // callee reads its own r10-8 without writing it: uninitialised even though the caller wrote its r10-8
  const bad = [mov(1, 7), stx(o.BPF_DW, 10, 1, -8), callLocal(1), exit(), ldx(o.BPF_DW, 0, 10, -8), exit()];
  assertFault(() => run(bad), 'E_UNINIT_STACK', { insn: 4 });
  // ... but the caller's frame, reached through a pointer, is initialised
  const viaPtr = [mov(1, 7), stx(o.BPF_DW, 10, 1, -8), movx(1, 10), callLocal(1), exit(), ldx(o.BPF_DW, 0, 1, -8), exit()];
  assert.equal(r0(viaPtr), 7n);
});

test('the 8th nested frame is the last: unbounded recursion is E_CALL_DEPTH at the call', () => {
  // f(n): if n == 0 return 0; return f(n-1) + 1
  const rec = (n: number) => [
    mov(1, n), callLocal(1), exit(),
    jmp(o.BPF_JNE, 1, 0, 2), mov(0, 0), exit(),
    movx(6, 1), alu64(o.BPF_SUB, 1, 1), callLocal(-6), alu64(o.BPF_ADD, 0, 1), exit(),
  ];
  assert.equal(r0(rec(6)), 6n); // frames 0..7 used
  assertFault(() => run(rec(7)), 'E_CALL_DEPTH', { insn: 8 });
});

test('helpers get r1..r5, return r0, and leave r1..r5 unchanged', () => {
  const helpers = new HelperRegistry();
  const seen: bigint[][] = [];
  helpers.register(7, (a, b, c, d, e) => {
    seen.push([a, b, c, d, e]);
    return a * 2n + b + c + d + e + 0xffffffff00000000n;
  });
  const ctx = createVmContext({ helpers });
  const prog = [
    mov(1, 10), mov(2, -1), mov(3, 3), mov(4, 4), mov(5, 5), call(7),
    alu64x(o.BPF_ADD, 0, 1), alu64x(o.BPF_ADD, 0, 3), alu64x(o.BPF_ADD, 0, 4), alu64x(o.BPF_ADD, 0, 5), exit(),
  ];
  const expectedR0 = BigInt.asUintN(64, 20n + 0xffffffffffffffffn + 12n + 0xffffffff00000000n);
  assert.equal(r0(prog, { ctx }), BigInt.asUintN(64, expectedR0 + 10n + 12n));
  assert.deepEqual(seen, [[10n, 0xffffffffffffffffn, 3n, 4n, 5n]]);
});

test('unknown helper is E_HELPER when executed (not at load); helper errors carry the insn', () => {
  const helpers = new HelperRegistry();
  helpers.register(1, () => { throw new Error('boom'); });
  helpers.register(2, () => { throw new BpfError('E2BIG', 'too big'); });
  const ctx = createVmContext({ helpers });
  assert.equal(r0([mov(0, 1), jmp(o.BPF_JEQ, 0, 1, 1), call(99), exit()], { ctx }), 1n);
  assertFault(() => run([mov(0, 0), call(99), exit()], { ctx }), 'E_HELPER', { insn: 1 });
  assertFault(() => run([mov(0, 0), call(1), exit()], { ctx }), 'E_HELPER', { insn: 1 });
  assertFault(() => run([mov(0, 0), mov(0, 0), call(2), exit()], { ctx }), 'E2BIG', { insn: 2 });
});

test('callx calls the helper whose id the dst register holds', () => {
  const helpers = new HelperRegistry();
  helpers.register(5, (a) => a + 1n);
  const ctx = createVmContext({ helpers });
  // the conformance suite's callx.data: r1 = -1, r2 = 5, callx r2, r0 = 2
  assert.equal(r0([mov(1, -1), mov(2, 5), callx(2), mov(0, 2), exit()], { ctx }), 2n);
  assert.equal(r0([mov(1, 41), mov(3, 5), callx(3), exit()], { ctx }), 42n);
  assertFault(() => run([mov(3, 6), callx(3), exit()], { ctx }), 'E_HELPER', { insn: 1 });
  assertFault(() => run([...lddw(3, 0x100000005n), callx(3), exit()], { ctx }), 'E_ABI', { insn: 2 });
});

test('helper env.check enforces regions and marks stack writes initialised', () => {
  const helpers = new HelperRegistry();
  // helper 3 fills [r1, r1 + r2) with 0xab after checking it may write there
  helpers.register(3, (p, len, _c, _d, _e, env) => {
    env.check(Number(p), Number(len), true);
    env.space.u8.fill(0xab, Number(p), Number(p) + Number(len));
    return 0n;
  });
  const ctx = createVmContext({ helpers });
  const prog = [movx(1, 10), alu64(o.BPF_ADD, 1, -8), mov(2, 8), call(3), ldx(o.BPF_DW, 0, 10, -8), exit()];
  assert.equal(r0(prog, { ctx }), 0xababababababababn);
  assertFault(() => run([mov(1, 0x1000), mov(2, 8), call(3), exit()], { ctx }), 'E_MEM', { insn: 2, address: 0x1000 });
});
