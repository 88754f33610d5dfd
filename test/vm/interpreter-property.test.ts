/**
 * Property test: every ALU operation of the interpreter (both widths, both sources, signed
 * variants, movsx, byte swaps) against a tiny BigInt model written straight from RFC 9669.
 * The model exists only here, so it cannot share a bug with the int32-pair implementation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { exit, insn, lddw, o } from './util.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { interpreter } from '../../src/core/vm/interpreter.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u = (v: bigint, bits: number) => BigInt.asUintN(bits, v);
const s = (v: bigint, bits: number) => BigInt.asIntN(bits, v);

/** model computes dst op src at `bits` width (src already the operand: sign-extended imm or register). */
function model(op: number, off: number, bits: 32 | 64, dst: bigint, src: bigint): bigint {
  const a = u(dst, bits), b = u(src, bits);
  const sh = Number(b & BigInt(bits - 1));
  let r: bigint;
  switch (op) {
    case o.BPF_ADD: r = a + b; break;
    case o.BPF_SUB: r = a - b; break;
    case o.BPF_MUL: r = a * b; break;
    case o.BPF_DIV:
      if (b === 0n) r = 0n;
      else r = off === 1 ? s(a, bits) / s(b, bits) : a / b; // BigInt division truncates toward zero
      break;
    case o.BPF_MOD:
      if (b === 0n) r = a;
      else r = off === 1 ? s(a, bits) % s(b, bits) : a % b;
      break;
    case o.BPF_OR: r = a | b; break;
    case o.BPF_AND: r = a & b; break;
    case o.BPF_XOR: r = a ^ b; break;
    case o.BPF_LSH: r = a << BigInt(sh); break;
    case o.BPF_RSH: r = a >> BigInt(sh); break;
    case o.BPF_ARSH: r = s(a, bits) >> BigInt(sh); break;
    case o.BPF_NEG: r = -a; break;
    case o.BPF_MOV: r = off === 0 ? b : s(u(src, off), off); break;
    default: throw new Error(`no model for op ${op}`);
  }
  return u(r, bits); // ALU32 results are zero-extended
}

const OPS = [o.BPF_ADD, o.BPF_SUB, o.BPF_MUL, o.BPF_DIV, o.BPF_MOD, o.BPF_OR, o.BPF_AND, o.BPF_XOR,
  o.BPF_LSH, o.BPF_RSH, o.BPF_ARSH, o.BPF_NEG, o.BPF_MOV];

/** Values biased toward edges: 0, ±1, INT_MIN of both widths, halves boundaries, plus random. */
const edge = fc.constantFrom(0n, 1n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn,
  0x100000000n, 0xffffffff80000000n, 0xffffffff00000000n, 2n, 63n, 64n, 31n, 32n);
const value = fc.oneof(edge, fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: 0xffffffffn }));
const imm32 = fc.oneof(fc.constantFrom(0, 1, -1, -0x80000000, 0x7fffffff, 31, 32, 63, 64), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));

const ctx = createVmContext();
const cache = new Map<string, ReturnType<typeof interpreter.load>>();

/** exec runs `r0 = r2; alu r0, (r1 | imm); exit` with r1 = src, r2 = dst (programs cached by shape). */
function exec(code: number, off: number, imm: number, dst: bigint, src: bigint): bigint {
  const key = `${code}/${off}/${imm}`;
  let p = cache.get(key);
  if (!p) {
    p = interpreter.load([insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, 0, 2), insn(code, 0, 1, off, imm), exit()], ctx);
    cache.set(key, p);
  }
  return p.run({ args: [src, dst] }).r0;
}

function aluCase(op: number, bits: 32 | 64, useReg: boolean, off: number, imm: number, dst: bigint, src: bigint): void {
  const code = (bits === 64 ? o.BPF_ALU64 : o.BPF_ALU) | op | (useReg ? o.BPF_X : o.BPF_K);
  const operand = useReg ? src : bits === 64 ? u(BigInt(imm), 64) : u(BigInt(imm), 32);
  const expected = model(op, off, bits, dst, op === o.BPF_NEG ? 0n : operand);
  const got = exec(code, off, useReg ? 0 : imm, dst, src);
  assert.equal(got, expected, `op 0x${code.toString(16)} off ${off} dst 0x${dst.toString(16)} src 0x${operand.toString(16)}`);
}

test('ALU64/ALU32 results match the BigInt model for all operations and operands', () => {
  fc.assert(fc.property(
    fc.constantFrom(...OPS), fc.constantFrom(32 as const, 64 as const), fc.boolean(), imm32, value, value,
    (op, bits, useReg, imm, dst, src) => {
      if (op === o.BPF_NEG) useReg = false; // NEG has only the K form
      aluCase(op, bits, useReg, 0, imm, dst, src);
      if (op === o.BPF_DIV || op === o.BPF_MOD) aluCase(op, bits, useReg, 1, imm, dst, src);
    }), { numRuns: 3000 });
});

test('movsx matches the model for every width', () => {
  fc.assert(fc.property(value, value, (dst, src) => {
    for (const off of [8, 16, 32]) aluCase(o.BPF_MOV, 64, true, off, 0, dst, src);
    for (const off of [8, 16]) aluCase(o.BPF_MOV, 32, true, off, 0, dst, src);
  }), { numRuns: 500 });
});

test('byte swaps match the model', () => {
  const swap = (v: bigint, bits: number) => {
    let r = 0n;
    for (let i = 0; i < bits / 8; i++) r = (r << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
    return r;
  };
  fc.assert(fc.property(value, fc.constantFrom(16, 32, 64), (v, bits) => {
    const run = (code: number) => interpreter.load([...lddw(0, v), insn(code, 0, 0, 0, bits), exit()], ctx).run().r0;
    assert.equal(run(o.BPF_ALU | o.BPF_END | o.BPF_TO_LE), u(v, bits));
    assert.equal(run(o.BPF_ALU | o.BPF_END | o.BPF_TO_BE), swap(v, bits));
    assert.equal(run(o.BPF_ALU64 | o.BPF_END), swap(v, bits));
  }), { numRuns: 300 });
});

test('the model itself agrees with hand-computed RFC cases', () => {
  assert.equal(model(o.BPF_DIV, 1, 64, 1n << 63n, M64), 1n << 63n);
  assert.equal(model(o.BPF_MOD, 1, 32, 0x80000000n, 0xffffffffn), 0n);
  assert.equal(model(o.BPF_MOD, 0, 32, 0x123456789n, 0n), 0x23456789n);
  assert.equal(s64(model(o.BPF_MOD, 1, 64, u(-7n, 64), 2n)), -1n);
});
