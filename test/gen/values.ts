/**
 * Value arbitraries biased towards the edges where engines disagree: 0, ±1, INT_MIN/INT_MAX of
 * both widths, 2^32-1, 2^63, sign boundaries of bytes and halfwords, plus uniform values.
 */
import fc from 'fast-check';

const I32_EDGES = [0, 1, -1, 2, -2, 7, 8, 16, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
  0x7fffffff, -0x80000000, -0x7fffffff, 0x10000, -0x100];

const U64_EDGES = [0n, 1n, 2n, 0x7fn, 0x80n, 0xffn, 0x7fffn, 0x8000n, 0xffffn, 0x7fffffffn, 0x80000000n,
  0xffffffffn, 0x100000000n, 0x1_ffffffffn, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + 1n,
  (1n << 64n) - 1n, (1n << 64n) - 2n, 0xffffffff_00000000n, 0xffffffff_80000000n, 0x00000000_80000001n,
  0x8000000000000000n | 0xffffffffn, 0x0123456789abcdefn, 0xfedcba9876543210n];

/** imm32 is a signed 32-bit immediate, mostly edge values. */
export const imm32: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...I32_EDGES) },
  { weight: 2, arbitrary: fc.integer({ min: -16, max: 16 }) },
  { weight: 2, arbitrary: fc.integer({ min: -0x80000000, max: 0x7fffffff }) },
);

/** u64 is an unsigned 64-bit value, mostly edge values. */
export const u64: fc.Arbitrary<bigint> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...U64_EDGES) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 64n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -64n, max: -1n }).map((v) => BigInt.asUintN(64, v)) },
  { weight: 3, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffn }) },
);

/** reg is a register number the generator may use as a scalar (0..9; emission remaps reserved ones). */
export const reg: fc.Arbitrary<number> = fc.integer({ min: 0, max: 9 });
