/** ALU edge cases of RFC 9669 (both widths, both sources) on the reference interpreter. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alu32, alu32x, alu64, alu64x, exit, insn, lddw, o, r0, u64 } from './util.js';

const MIN64 = 0x8000000000000000n;
const ALL64 = 0xffffffffffffffffn;

/** x64: r0 = a; r1 = b; r0 = r0 <op> r1 (ALU64, register source). */
function x64(op: number, a: bigint, b: bigint, off = 0): bigint {
  return r0([...lddw(0, a), ...lddw(1, b), alu64x(op, 0, 1, off), exit()]);
}
/** k64: r0 = a; r0 = r0 <op> imm (ALU64, immediate source). */
function k64(op: number, a: bigint, imm: number, off = 0): bigint {
  return r0([...lddw(0, a), insn(o.BPF_ALU64 | op | o.BPF_K, 0, 0, off, imm), exit()]);
}
function x32(op: number, a: bigint, b: bigint, off = 0): bigint {
  return r0([...lddw(0, a), ...lddw(1, b), alu32x(op, 0, 1, off), exit()]);
}
function k32(op: number, a: bigint, imm: number, off = 0): bigint {
  return r0([...lddw(0, a), insn(o.BPF_ALU | op | o.BPF_K, 0, 0, off, imm), exit()]);
}

test('add/sub carry and borrow across the 32-bit halves', () => {
  assert.equal(x64(o.BPF_ADD, 0xffffffffn, 1n), 0x100000000n);
  assert.equal(x64(o.BPF_ADD, ALL64, 2n), 1n);
  assert.equal(x64(o.BPF_SUB, 0x100000000n, 1n), 0xffffffffn);
  assert.equal(x64(o.BPF_SUB, 0n, 1n), ALL64);
  assert.equal(k64(o.BPF_ADD, 5n, -6), ALL64); // imm sign-extended
  assert.equal(k64(o.BPF_SUB, 0x100000000n, -1), 0x100000001n);
});

test('ALU32 results are zero-extended', () => {
  assert.equal(x32(o.BPF_ADD, 0x12345678ffffffffn, 1n), 0n);
  assert.equal(k32(o.BPF_ADD, 0xffffffff00000001n, 1), 2n);
  assert.equal(k32(o.BPF_MOV, ALL64, -1), 0xffffffffn);
  assert.equal(x32(o.BPF_MOV, 0xaaaaaaaa55555555n, 0xbbbbbbbb77777777n), 0x77777777n);
  assert.equal(k32(o.BPF_OR, 0xffffffff00000000n, 1), 1n);
  assert.equal(k32(o.BPF_NEG, 1n, 0), 0xffffffffn);
});

test('multiply is modulo 2^64 / 2^32', () => {
  assert.equal(x64(o.BPF_MUL, 0xffffffffn, 0xffffffffn), 0xfffffffe00000001n);
  assert.equal(x64(o.BPF_MUL, 0x123456789abcdef0n, 0x0fedcba987654321n), u64(0x123456789abcdef0n * 0x0fedcba987654321n));
  assert.equal(k64(o.BPF_MUL, 3n, -1), u64(-3n));
  assert.equal(k32(o.BPF_MUL, 0x10000n, 0x10000), 0n);
  assert.equal(x32(o.BPF_MUL, 0xffffffffn, 0xffffffffn), 1n);
});

test('division by zero gives 0, modulo by zero keeps dst (ALU32: low half, zero-extended)', () => {
  assert.equal(x64(o.BPF_DIV, 1234n, 0n), 0n);
  assert.equal(x64(o.BPF_DIV, 1234n, 0n, 1), 0n);
  assert.equal(k64(o.BPF_DIV, 1234n, 0), 0n);
  assert.equal(x64(o.BPF_MOD, 0x123456789n, 0n), 0x123456789n);
  assert.equal(x64(o.BPF_MOD, ALL64, 0n, 1), ALL64);
  assert.equal(x32(o.BPF_DIV, 1234n, 0n), 0n);
  assert.equal(x32(o.BPF_MOD, 0x123456789n, 0n), 0x23456789n);
  assert.equal(k32(o.BPF_MOD, 0xdeadbeef00000007n, 0, 1), 7n);
  // divisor only zero in its low 32 bits: ALU32 sees zero, ALU64 does not
  assert.equal(x32(o.BPF_DIV, 10n, 0x100000000n), 0n);
  assert.equal(x64(o.BPF_DIV, 0x200000000n, 0x100000000n), 2n);
});

test('unsigned division uses the sign-extended immediate as an unsigned 64-bit divisor', () => {
  assert.equal(k64(o.BPF_DIV, ALL64, -1), 1n);
  assert.equal(k64(o.BPF_DIV, 100n, -1), 0n);
  assert.equal(k64(o.BPF_MOD, 100n, -1), 100n);
  assert.equal(k32(o.BPF_DIV, 0xffffffffn, -1), 1n); // imm as 32-bit unsigned
  assert.equal(x64(o.BPF_DIV, 0xfffffffffffffff0n, 0x10n), 0x0fffffffffffffffn);
  assert.equal(x64(o.BPF_MOD, 0xfffffffffffffff0n, 0x7n), 0xfffffffffffffff0n % 7n);
});

test('signed division: INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0, truncation toward zero', () => {
  assert.equal(x64(o.BPF_DIV, MIN64, ALL64, 1), MIN64);
  assert.equal(x64(o.BPF_MOD, MIN64, ALL64, 1), 0n);
  assert.equal(k64(o.BPF_DIV, MIN64, -1, 1), MIN64);
  assert.equal(x32(o.BPF_DIV, 0x80000000n, 0xffffffffn, 1), 0x80000000n);
  assert.equal(x32(o.BPF_MOD, 0x80000000n, 0xffffffffn, 1), 0n);
  assert.equal(k64(o.BPF_DIV, u64(-7n), 2, 1), u64(-3n));
  assert.equal(k64(o.BPF_MOD, u64(-7n), 2, 1), u64(-1n)); // sign of the dividend
  assert.equal(k64(o.BPF_MOD, 7n, -2, 1), 1n);
  assert.equal(k32(o.BPF_DIV, 0xfffffff9n, 2, 1), 0xfffffffdn);
  assert.equal(k32(o.BPF_MOD, 0xfffffff9n, 2, 1), 0xffffffffn);
  assert.equal(x64(o.BPF_DIV, u64(-0x123456789abn), 0x1000n, 1), u64(-0x12345678n)); // BigInt slow path
  assert.equal(x64(o.BPF_MOD, u64(-0x123456789abn), 0x1000n, 1), u64(-0x9abn));
});

test('shift counts are masked to 63 / 31; arsh is arithmetic', () => {
  assert.equal(k64(o.BPF_LSH, 1n, 65), 2n);
  assert.equal(x64(o.BPF_LSH, 1n, 63n), MIN64);
  assert.equal(x64(o.BPF_LSH, 0x80000001n, 1n), 0x100000002n);
  assert.equal(x64(o.BPF_RSH, MIN64, 64n + 63n), 1n);
  assert.equal(k64(o.BPF_RSH, 0x100000000n, 1), 0x80000000n);
  assert.equal(k64(o.BPF_ARSH, MIN64, 63), ALL64);
  assert.equal(k64(o.BPF_ARSH, MIN64, 4), 0xf800000000000000n);
  assert.equal(k64(o.BPF_ARSH, 0xfffffff000000000n, 36), ALL64);
  assert.equal(k32(o.BPF_LSH, 1n, 33), 2n);
  assert.equal(x32(o.BPF_RSH, 0xffffffffn, 32n + 31n), 1n);
  assert.equal(k32(o.BPF_ARSH, 0x80000000n, 31), 0xffffffffn);
  assert.equal(k32(o.BPF_ARSH, 0xffffffff80000000n, 1), 0xc0000000n);
  assert.equal(k64(o.BPF_LSH, 0x1234n, 0), 0x1234n);
});

test('neg, bitwise ops with sign-extended immediates', () => {
  assert.equal(k64(o.BPF_NEG, 1n, 0), ALL64);
  assert.equal(k64(o.BPF_NEG, 0n, 0), 0n);
  assert.equal(k64(o.BPF_NEG, 0x100000000n, 0), 0xffffffff00000000n);
  assert.equal(k64(o.BPF_NEG, MIN64, 0), MIN64);
  assert.equal(k64(o.BPF_AND, ALL64, -2), ALL64 - 1n);
  assert.equal(k64(o.BPF_OR, 0n, -0x80000000), 0xffffffff80000000n);
  assert.equal(k64(o.BPF_XOR, ALL64, 0x7fffffff), 0xffffffff80000000n);
  assert.equal(k64(o.BPF_MOV, 0n, -1), ALL64);
});

test('movsx sign-extends 8/16/32 bits (ALU64) and 8/16 bits into 32 (ALU32)', () => {
  assert.equal(x64(o.BPF_MOV, 0n, 0x1280n, 8), 0xffffffffffffff80n);
  assert.equal(x64(o.BPF_MOV, 0n, 0x127fn, 8), 0x7fn);
  assert.equal(x64(o.BPF_MOV, 0n, 0x18000n, 16), 0xffffffffffff8000n);
  assert.equal(x64(o.BPF_MOV, 0n, 0x180000000n, 32), 0xffffffff80000000n);
  assert.equal(x32(o.BPF_MOV, ALL64, 0x80n, 8), 0xffffff80n);
  assert.equal(x32(o.BPF_MOV, ALL64, 0x8000n, 16), 0xffff8000n);
  assert.equal(x32(o.BPF_MOV, ALL64, 0x7000n, 16), 0x7000n);
});

test('byte swaps: le truncates, be and bswap swap and zero-extend', () => {
  const v = 0x0123456789abcdefn;
  const end = (code: number, imm: number) => r0([...lddw(0, v), insn(code, 0, 0, 0, imm), exit()]);
  const LE = o.BPF_ALU | o.BPF_END | o.BPF_TO_LE;
  const BE = o.BPF_ALU | o.BPF_END | o.BPF_TO_BE;
  const BSWAP = o.BPF_ALU64 | o.BPF_END;
  assert.equal(end(LE, 16), 0xcdefn);
  assert.equal(end(LE, 32), 0x89abcdefn);
  assert.equal(end(LE, 64), v);
  assert.equal(end(BE, 16), 0xefcdn);
  assert.equal(end(BE, 32), 0xefcdab89n);
  assert.equal(end(BE, 64), 0xefcdab8967452301n);
  assert.equal(end(BSWAP, 16), 0xefcdn);
  assert.equal(end(BSWAP, 32), 0xefcdab89n);
  assert.equal(end(BSWAP, 64), 0xefcdab8967452301n);
});

test('lddw loads both halves whatever its src; r1..r5 default to 0, r0 starts at 0', () => {
  assert.equal(r0([...lddw(0, 0xfedcba9876543210n), exit()]), 0xfedcba9876543210n);
  assert.equal(r0([...lddw(0, 0x1122334455667788n, 1), exit()]), 0x1122334455667788n);
  assert.equal(r0([exit()]), 0n);
  assert.equal(r0([movx(0, 3), exit()], { args: [1n, 2n] }), 0n);
  assert.equal(r0([movx(0, 2), exit()], { args: [1n, u64(-2n)] }), u64(-2n));
});

function movx(d: number, s: number) {
  return alu64x(o.BPF_MOV, d, s);
}

test('ALU64 immediates of mov/and are sign-extended before use', () => {
  assert.equal(r0([alu64(o.BPF_MOV, 0, -0x80000000), exit()]), 0xffffffff80000000n);
  assert.equal(r0([alu32(o.BPF_MOV, 0, -0x80000000), exit()]), 0x80000000n);
});
