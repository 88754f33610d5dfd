/** Jumps (JMP/JMP32/gotol), loads/stores, atomics and legacy packet loads on the interpreter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  atomic, exit, insn, ja, jmp, jmp32, jmp32x, jmpx, lddw, ldsx, ldx, mov, o, r0, st, stx, u64, withData,
} from './util.js';
import { AddressSpace } from '../../src/core/vm/memory.js';
import { createVmContext } from '../../src/core/vm/context.js';

/** taken runs `r1 = a; r2 = b; <jump to +1>; r0 = 0; exit; r0 = 1; exit` and tells whether it jumped. */
function taken(j: ReturnType<typeof jmp>, a: bigint, b: bigint): boolean {
  const res = r0([...lddw(1, a), ...lddw(2, b), j, mov(0, 0), exit(), mov(0, 1), exit()]);
  return res === 1n;
}

test('JMP compares 64 bits; JMP32 only the low 32', () => {
  const hi = 0x100000005n;
  assert.equal(taken(jmp(o.BPF_JEQ, 1, 5, 2), hi, 0n), false);
  assert.equal(taken(jmp32(o.BPF_JEQ, 1, 5, 2), hi, 0n), true);
  assert.equal(taken(jmpx(o.BPF_JGT, 1, 2, 2), hi, 6n), true);
  assert.equal(taken(jmp32x(o.BPF_JGT, 1, 2, 2), hi, 6n), false);
  assert.equal(taken(jmp(o.BPF_JEQ, 1, -1, 2), 0xffffffffffffffffn, 0n), true); // imm sign-extended
  assert.equal(taken(jmp(o.BPF_JEQ, 1, -1, 2), 0xffffffffn, 0n), false);
  assert.equal(taken(jmp32(o.BPF_JEQ, 1, -1, 2), 0xffffffffn, 0n), true);
});

test('signed and unsigned conditions differ on negative values', () => {
  const neg = u64(-1n);
  assert.equal(taken(jmpx(o.BPF_JGT, 1, 2, 2), neg, 1n), true);
  assert.equal(taken(jmpx(o.BPF_JSGT, 1, 2, 2), neg, 1n), false);
  assert.equal(taken(jmpx(o.BPF_JSLT, 1, 2, 2), neg, 1n), true);
  assert.equal(taken(jmp(o.BPF_JSLE, 1, -1, 2), neg, 0n), true);
  assert.equal(taken(jmp(o.BPF_JLT, 1, -1, 2), 5n, 0n), true); // 5 < 2^64-1
  assert.equal(taken(jmp(o.BPF_JSGE, 1, -2, 2), neg, 0n), true);
  assert.equal(taken(jmp32(o.BPF_JSLT, 1, 0, 2), 0x80000000n, 0n), true);
  assert.equal(taken(jmp32(o.BPF_JLT, 1, 0, 2), 0x80000000n, 0n), false);
  assert.equal(taken(jmpx(o.BPF_JSGT, 1, 2, 2), 0x100000000n, 0xffffffffn), true);
  assert.equal(taken(jmpx(o.BPF_JGE, 1, 2, 2), 7n, 7n), true);
  assert.equal(taken(jmpx(o.BPF_JLE, 1, 2, 2), 8n, 7n), false);
  assert.equal(taken(jmpx(o.BPF_JNE, 1, 2, 2), 0x100000000n, 0n), true);
  assert.equal(taken(jmp32x(o.BPF_JNE, 1, 2, 2), 0x100000000n, 0n), false);
});

test('JSET tests any common bit, in the high half too for JMP', () => {
  assert.equal(taken(jmpx(o.BPF_JSET, 1, 2, 2), 0x100000000n, 0x300000000n), true);
  assert.equal(taken(jmp32x(o.BPF_JSET, 1, 2, 2), 0x100000000n, 0x300000000n), false);
  assert.equal(taken(jmp(o.BPF_JSET, 1, -0x80000000, 2), 0x8000000000000000n, 0n), true);
});

test('ja and gotol (JMP32|JA uses imm) jump relative to the next instruction', () => {
  assert.equal(r0([mov(0, 1), ja(1), mov(0, 2), exit()]), 1n);
  const gotol = insn(o.BPF_JMP32 | o.BPF_JA, 0, 0, 0, 1);
  assert.equal(r0([mov(0, 1), gotol, mov(0, 2), exit()]), 1n);
  // backwards: count down r1 from 3
  assert.equal(r0([mov(1, 3), mov(0, 0), insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_K, 0, 0, 0, 10),
    insn(o.BPF_ALU64 | o.BPF_SUB | o.BPF_K, 1, 0, 0, 1), jmp(o.BPF_JNE, 1, 0, -3), exit()]), 30n);
});

test('loads zero-extend, ldsx sign-extends, unaligned access is allowed', () => {
  const bytes = new Uint8Array([0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89]);
  const { ctx, addr, region } = withData(bytes);
  const load = (i: ReturnType<typeof ldx>) => r0([...lddw(1, BigInt(addr)), i, exit()], { ctx, regions: [region] });
  assert.equal(load(ldx(o.BPF_B, 0, 1, 0)), 0x81n);
  assert.equal(load(ldx(o.BPF_H, 0, 1, 1)), 0x8382n);
  assert.equal(load(ldx(o.BPF_W, 0, 1, 1)), 0x85848382n);
  assert.equal(load(ldx(o.BPF_DW, 0, 1, 1)), 0x8988878685848382n);
  assert.equal(load(ldsx(o.BPF_B, 0, 1, 0)), 0xffffffffffffff81n);
  assert.equal(load(ldsx(o.BPF_H, 0, 1, 1)), 0xffffffffffff8382n);
  assert.equal(load(ldsx(o.BPF_W, 0, 1, 3)), 0xffffffff87868584n);
});

test('stores write the low bits little-endian; ST DW sign-extends its immediate', () => {
  const { ctx, addr, region } = withData(16);
  const prog = [
    ...lddw(1, BigInt(addr)), ...lddw(2, 0x1122334455667788n),
    stx(o.BPF_DW, 1, 2, 0), stx(o.BPF_W, 1, 2, 8), stx(o.BPF_H, 1, 2, 12), stx(o.BPF_B, 1, 2, 14),
    st(o.BPF_B, 1, 15, 0x1ff), exit(),
  ];
  r0(prog, { ctx, regions: [region] });
  assert.deepEqual([...ctx.space.read(addr, 16)],
    [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x88, 0x77, 0x66, 0x55, 0x88, 0x77, 0x88, 0xff]);
  r0([...lddw(1, BigInt(addr)), st(o.BPF_DW, 1, 0, -2), st(o.BPF_H, 1, 8, -2), exit()], { ctx, regions: [region] });
  assert.deepEqual([...ctx.space.read(addr, 10)], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff]);
});

test('stack: store then load through r10 in both modes', () => {
  const prog = [...lddw(1, 0xdeadbeefcafef00dn), stx(o.BPF_DW, 10, 1, -8), ldx(o.BPF_W, 0, 10, -4), exit()];
  assert.equal(r0(prog), 0xdeadbeefn);
  assert.equal(r0(prog, { checked: false }), 0xdeadbeefn);
});

/** atomicRun: mem = init (DW at the start of a data block), r0 = r0init, r1 = &mem, r2 = val; one atomic op; returns [r0, r2, mem]. */
function atomicRun(size: number, aop: number, init: bigint, val: bigint, r0init = 0n): [bigint, bigint, bigint] {
  const { ctx, addr, region } = withData(8);
  ctx.space.dv.setBigUint64(addr, init, true);
  const prog = [
    ...lddw(0, r0init), ...lddw(1, BigInt(addr)), ...lddw(2, val), atomic(size, 1, 2, 0, aop),
    // spill r0 and r2 so both can be observed: r0 is returned, r2 read back from the stack
    stx(o.BPF_DW, 10, 0, -8), stx(o.BPF_DW, 10, 2, -16), ldx(o.BPF_DW, 0, 10, -8), exit(),
  ];
  const res = r0(prog, { ctx, regions: [region] });
  const r2 = ctx.space.dv.getBigUint64(ctx.stack.top(0) - 16, true);
  return [res, r2, ctx.space.dv.getBigUint64(addr, true)];
}

test('atomics without FETCH only update memory', () => {
  const W = o.BPF_W, DW = o.BPF_DW;
  assert.deepEqual(atomicRun(DW, o.BPF_ADD, 0xffffffffn, 1n), [0n, 1n, 0x100000000n]);
  assert.deepEqual(atomicRun(W, o.BPF_ADD, 0x11111111ffffffffn, 2n), [0n, 2n, 0x1111111100000001n]);
  assert.deepEqual(atomicRun(DW, o.BPF_OR, 0xf0n, 0x0fn), [0n, 0x0fn, 0xffn]);
  assert.deepEqual(atomicRun(DW, o.BPF_AND, 0xf0f0n, 0xff00n), [0n, 0xff00n, 0xf000n]);
  assert.deepEqual(atomicRun(W, o.BPF_XOR, 0xaaaaaaaa0000ffffn, 0xffffffffn), [0n, 0xffffffffn, 0xaaaaaaaaffff0000n]);
});

test('atomics with FETCH return the old value in src (W: zero-extended)', () => {
  const F = o.BPF_FETCH;
  assert.deepEqual(atomicRun(o.BPF_DW, o.BPF_ADD | F, 40n, 2n), [0n, 40n, 42n]);
  assert.deepEqual(atomicRun(o.BPF_W, o.BPF_ADD | F, 0x00000001ffffffffn, 0xffffffff00000001n), [0n, 0xffffffffn, 0x0000000100000000n]);
  assert.deepEqual(atomicRun(o.BPF_DW, o.BPF_OR | F, 1n, 2n), [0n, 1n, 3n]);
  assert.deepEqual(atomicRun(o.BPF_W, o.BPF_AND | F, 0xff00ff00n, 0x0ff00ff0n), [0n, 0xff00ff00n, 0x0f000f00n]);
  assert.deepEqual(atomicRun(o.BPF_DW, o.BPF_XOR | F, 0xffn, 0xffn), [0n, 0xffn, 0n]);
  assert.deepEqual(atomicRun(o.BPF_DW, o.BPF_XCHG, 0x1234567890n, 7n), [0n, 0x1234567890n, 7n]);
  assert.deepEqual(atomicRun(o.BPF_W, o.BPF_XCHG, 0x5555555580000000n, 0xffffffff00000007n), [0n, 0x80000000n, 0x5555555500000007n]);
});

test('cmpxchg compares r0 (W: low 32 bits) and always loads the old value into r0', () => {
  const DW = o.BPF_DW, W = o.BPF_W;
  assert.deepEqual(atomicRun(DW, o.BPF_CMPXCHG, 10n, 99n, 10n), [10n, 99n, 99n]);
  assert.deepEqual(atomicRun(DW, o.BPF_CMPXCHG, 10n, 99n, 0x10000000an), [10n, 99n, 10n]);
  assert.deepEqual(atomicRun(W, o.BPF_CMPXCHG, 0xabcd00000010n, 99n, 0xffff00000010n), [0x10n, 99n, 0xabcd00000063n]);
  assert.deepEqual(atomicRun(W, o.BPF_CMPXCHG, 0xabcd80000010n, 99n, 0x10n), [0x80000010n, 99n, 0xabcd80000010n]);
});

test('atomics on a shared address space use real atomics with the same results', () => {
  const space = new AddressSpace({ shared: true, initialBytes: 1 << 20, maximumBytes: 1 << 21 });
  const ctx = createVmContext({ space });
  const addr = space.alloc(16, 8);
  space.dv.setBigUint64(addr, 40n, true);
  space.dv.setUint32(addr + 8, 0xffffffff, true);
  const region = { start: addr, end: addr + 16, perm: 3, name: 'd' };
  const res = r0([
    ...lddw(1, BigInt(addr)), mov(2, 2), atomic(o.BPF_DW, 1, 2, 0, o.BPF_ADD | o.BPF_FETCH),
    mov(3, 1), atomic(o.BPF_W, 1, 3, 8, o.BPF_ADD), mov(0, 40), mov(4, 5), atomic(o.BPF_DW, 1, 4, 0, o.BPF_CMPXCHG),
    exit(),
  ], { ctx, regions: [region] });
  assert.equal(res, 42n);
  assert.equal(space.dv.getBigUint64(addr, true), 42n); // 40 != r0 after the add (42), so no exchange
  assert.equal(space.dv.getUint32(addr + 8, true), 0);
});

test('LD_ABS / LD_IND load big-endian from the packet; out of range ends the run with 0', () => {
  const bytes = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a]);
  const { ctx, addr, region } = withData(bytes);
  const packet = { start: addr, len: bytes.length };
  const ld = (mode: number, size: number, imm: number, src = 0) => insn(o.BPF_LD | mode | size, 0, src, 0, imm);
  const run = (...p: ReturnType<typeof ld>[]) => r0([mov(0, 77), mov(6, 1), ...p, exit()], { ctx, regions: [region], packet });
  assert.equal(run(ld(o.BPF_ABS, o.BPF_W, 1)), 0x3456789an);
  assert.equal(run(ld(o.BPF_ABS, o.BPF_H, 0)), 0x1234n);
  assert.equal(run(ld(o.BPF_ABS, o.BPF_B, 4)), 0x9an);
  assert.equal(run(ld(o.BPF_IND, o.BPF_H, 2, 6)), 0x789an);
  assert.equal(run(ld(o.BPF_ABS, o.BPF_W, 2), mov(0, 5)), 0n); // does not fit: run ends, r0 = 0
  assert.equal(run(ld(o.BPF_IND, o.BPF_B, -2, 6), mov(0, 5)), 0n); // negative offset
  assert.equal(r0([mov(0, 77), insn(o.BPF_LD | o.BPF_ABS | o.BPF_B, 0, 0, 0, 0), mov(0, 5), exit()]), 0n); // no packet
});
