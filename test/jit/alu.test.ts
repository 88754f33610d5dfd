/**
 * JIT ALU semantics: every operation in both widths and source forms, with the edge cases
 * Wasm does not share with eBPF (division by zero, INT_MIN / -1, shift masking), checked
 * against hand-computed values and against the interpreter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { r0Of, u64 } from './util.js';

const MIN64 = -(2n ** 63n);

test('64-bit arithmetic and logic wrap modulo 2^64', () => {
  assert.equal(r0Of('r0 = -1\nr0 += 2\nexit'), 1n);
  assert.equal(r0Of('r0 = 0\nr0 -= 1\nexit'), u64(-1n));
  assert.equal(r0Of('r0 = 0x7fffffff\nr1 = 0x7fffffff\nr0 *= r1\nexit'), 0x7fffffffn * 0x7fffffffn);
  assert.equal(r0Of('r0 = 0x123456789abcdef0 ll\nr0 *= r0\nexit'), u64(0x123456789abcdef0n * 0x123456789abcdef0n));
  assert.equal(r0Of('r0 = 0xf0\nr0 |= 0x0f\nr0 &= 0x3c\nr0 ^= -1\nexit'), u64(~0x3cn));
  assert.equal(r0Of('r0 = 5\nr0 = -r0\nexit'), u64(-5n));
});

test('32-bit operations zero-extend their result', () => {
  assert.equal(r0Of('r0 = -1\nw0 += 1\nexit'), 0n);
  assert.equal(r0Of('r0 = -1\nw0 = w0\nexit'), 0xffffffffn);
  assert.equal(r0Of('r0 = 0x100000005 ll\nw0 *= 3\nexit'), 15n);
  assert.equal(r0Of('w0 = 5\nw0 = -w0\nexit'), 0xfffffffbn);
  assert.equal(r0Of('w0 = -1\nexit'), 0xffffffffn);
  assert.equal(r0Of('r0 = -1\nexit'), u64(-1n));
});

test('shifts mask the count to 63 / 31 and arsh is arithmetic', () => {
  assert.equal(r0Of('r0 = 1\nr1 = 65\nr0 <<= r1\nexit'), 2n);
  assert.equal(r0Of('w0 = 1\nw1 = 33\nw0 <<= w1\nexit'), 2n);
  assert.equal(r0Of('r0 = -16\nr0 s>>= 2\nexit'), u64(-4n));
  assert.equal(r0Of('r0 = -16\nr0 >>= 60\nexit'), 15n);
  assert.equal(r0Of('w0 = -16\nw0 s>>= 2\nexit'), 0xfffffffcn);
  assert.equal(r0Of('r0 = -16\nw0 >>= 28\nexit'), 15n);
});

test('division by zero gives 0 and modulo by zero keeps dst', () => {
  assert.equal(r0Of('r0 = 7\nr1 = 0\nr0 /= r1\nexit'), 0n);
  assert.equal(r0Of('r0 = 7\nr0 /= 0\nexit'), 0n);
  assert.equal(r0Of('r0 = 7\nr1 = 0\nr0 %= r1\nexit'), 7n);
  assert.equal(r0Of('r0 = -7\nr0 %= 0\nexit'), u64(-7n));
  assert.equal(r0Of('r0 = -7\nr1 = 0\nr0 s/= r1\nexit'), 0n);
  assert.equal(r0Of('r0 = -7\nr1 = 0\nr0 s%= r1\nexit'), u64(-7n));
  // 32-bit: the low half is kept, the upper half zeroed
  assert.equal(r0Of('r0 = -7\nw1 = 0\nw0 %= w1\nexit'), 0xfffffff9n);
  assert.equal(r0Of('r0 = -7\nw0 s%= 0\nexit'), 0xfffffff9n);
  assert.equal(r0Of('r0 = -7\nw0 /= 0\nexit'), 0n);
});

test('INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 in both widths', () => {
  const min = 'r0 = 0x8000000000000000 ll\n';
  assert.equal(r0Of(min + 'r1 = -1\nr0 s/= r1\nexit'), u64(MIN64));
  assert.equal(r0Of(min + 'r0 s/= -1\nexit'), u64(MIN64));
  assert.equal(r0Of(min + 'r1 = -1\nr0 s%= r1\nexit'), 0n);
  assert.equal(r0Of(min + 'r0 s%= -1\nexit'), 0n);
  assert.equal(r0Of('w0 = 0x80000000\nw1 = -1\nw0 s/= w1\nexit'), 0x80000000n);
  assert.equal(r0Of('w0 = 0x80000000\nw0 s/= -1\nexit'), 0x80000000n);
  assert.equal(r0Of('w0 = 0x80000000\nw1 = -1\nw0 s%= w1\nexit'), 0n);
});

test('signed and unsigned division round like C', () => {
  assert.equal(r0Of('r0 = -7\nr0 s/= 2\nexit'), u64(-3n));
  assert.equal(r0Of('r0 = -7\nr0 s%= 2\nexit'), u64(-1n));
  assert.equal(r0Of('r0 = 7\nr0 s%= -2\nexit'), 1n);
  assert.equal(r0Of('r0 = -7\nr0 /= 2\nexit'), u64(-7n) / 2n);
  assert.equal(r0Of('w0 = -7\nw0 s/= 2\nexit'), 0xfffffffdn);
  assert.equal(r0Of('w0 = -7\nw0 /= 2\nexit'), 0xfffffff9n / 2n);
  // imm is sign-extended to 64 bits, then unsigned
  assert.equal(r0Of('r0 = 10\nr0 /= -1\nexit'), 0n);
  assert.equal(r0Of('r0 = -1\nr0 /= -1\nexit'), 1n);
});

test('movsx sign-extends 8/16/32 bits', () => {
  assert.equal(r0Of('r1 = 0x80\nr0 = (s8)r1\nexit'), u64(-128n));
  assert.equal(r0Of('r1 = 0x18000\nr0 = (s16)r1\nexit'), u64(-32768n));
  assert.equal(r0Of('r1 = 0x180000000 ll\nr0 = (s32)r1\nexit'), u64(-(2n ** 31n)));
  assert.equal(r0Of('r1 = 0xff\nw0 = (s8)w1\nexit'), 0xffffffffn);
  assert.equal(r0Of('r1 = 0x7fff\nw0 = (s16)w1\nexit'), 0x7fffn);
});

test('byte swaps: le truncates, be and bswap swap, all zero-extend', () => {
  const v = 'r0 = 0x0102030405060708 ll\n';
  assert.equal(r0Of(v + 'r0 = le16 r0\nexit'), 0x0708n);
  assert.equal(r0Of(v + 'r0 = le32 r0\nexit'), 0x05060708n);
  assert.equal(r0Of(v + 'r0 = le64 r0\nexit'), 0x0102030405060708n);
  assert.equal(r0Of(v + 'r0 = be16 r0\nexit'), 0x0807n);
  assert.equal(r0Of(v + 'r0 = be32 r0\nexit'), 0x08070605n);
  assert.equal(r0Of(v + 'r0 = be64 r0\nexit'), 0x0807060504030201n);
  assert.equal(r0Of(v + 'r0 = bswap16 r0\nexit'), 0x0807n);
  assert.equal(r0Of(v + 'r0 = bswap32 r0\nexit'), 0x08070605n);
  assert.equal(r0Of(v + 'r0 = bswap64 r0\nexit'), 0x0807060504030201n);
  assert.equal(r0Of('r0 = 0xf1f2f3f4f5f6f7f8 ll\nr0 = bswap64 r0\nexit'), 0xf8f7f6f5f4f3f2f1n);
});

test('lddw loads the full 64-bit immediate whatever its src', () => {
  assert.equal(r0Of('r0 = 0xfedcba9876543210 ll\nexit'), 0xfedcba9876543210n);
});

test('arguments arrive in r1..r5 and r10 is the frame pointer', () => {
  const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  // runRaw passes r1 = data address, r2 = length
  assert.equal(r0Of('r0 = r2\nexit', { data }), 11n);
  assert.equal(r0Of('r0 = r10\nr0 -= r1\nr0 = 0\nexit', { data }), 0n);
});
