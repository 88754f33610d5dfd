/**
 * The scalar domain is sound: for random abstract values (known bits, then narrowed by a
 * random comparison) and concrete members of them, every ALU result, byte swap, sign
 * extension and comparison outcome computed on concrete values lies within what the
 * abstract operation predicts, at 64 and at 32 bits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as o from '../../src/core/isa/opcodes.js';
import { JSET_FALSE, branchTaken, refine } from '../../src/core/verifier/branch.js';
import { contains, fromTnum, known, type Scalar } from '../../src/core/verifier/scalar.js';
import { scalarAlu, scalarEnd, scalarMovsx, scalarNeg } from '../../src/core/verifier/scalar-alu.js';
import { tnum } from '../../src/core/verifier/tnum.js';

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const EDGES = [0n, 1n, 2n, 7n, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 63n) - 1n, 1n << 63n, M64, M64 - 1n];
const val = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: M64 }), fc.bigInt({ min: 0n, max: 300n }));
const mask = fc.oneof(fc.constant(0n), fc.constant(M64), fc.constant(0xffn), fc.constant(0xffffffffn), fc.bigInt({ min: 0n, max: M64 }), fc.constant(0xf0n));
const CMP = [o.BPF_JEQ, o.BPF_JNE, o.BPF_JGT, o.BPF_JGE, o.BPF_JLT, o.BPF_JLE, o.BPF_JSGT, o.BPF_JSGE, o.BPF_JSLT, o.BPF_JSLE, o.BPF_JSET, JSET_FALSE];

function cmp(op: number, a: bigint, b: bigint, is32: boolean): boolean {
  const w = is32 ? 32 : 64;
  const ua = BigInt.asUintN(w, a), ub = BigInt.asUintN(w, b), sa = BigInt.asIntN(w, a), sb = BigInt.asIntN(w, b);
  switch (op) {
    case o.BPF_JEQ: return ua === ub;
    case o.BPF_JNE: return ua !== ub;
    case o.BPF_JGT: return ua > ub;
    case o.BPF_JGE: return ua >= ub;
    case o.BPF_JLT: return ua < ub;
    case o.BPF_JLE: return ua <= ub;
    case o.BPF_JSGT: return sa > sb;
    case o.BPF_JSGE: return sa >= sb;
    case o.BPF_JSLT: return sa < sb;
    case o.BPF_JSLE: return sa <= sb;
    case o.BPF_JSET: return (ua & ub) !== 0n;
    default: return (ua & ub) === 0n;
  }
}

/** member: an abstract value with a concrete member, built from known bits and one comparison. */
const member = fc.record({ v: val, m: mask, pick: val, c: val, op: fc.constantFrom(...CMP), is32: fc.boolean() }).map((g) => {
  const t = tnum(g.v, g.m);
  const x = t.v | (g.pick & t.m);
  let s: Scalar = fromTnum(t);
  if (cmp(g.op, x, g.c, g.is32)) {
    const r = refine(s, known(g.c), g.op, g.is32);
    assert.ok(r, 'a satisfiable comparison is feasible');
    s = r[0];
  }
  return { s, x };
});

function alu(op: number, a: bigint, b: bigint, is64: boolean): bigint {
  const w = is64 ? 64 : 32;
  const ua = BigInt.asUintN(w, a), ub = BigInt.asUintN(w, b);
  const sh = Number(ub & BigInt(w - 1));
  let r: bigint;
  switch (op) {
    case o.BPF_ADD: r = ua + ub; break;
    case o.BPF_SUB: r = ua - ub; break;
    case o.BPF_MUL: r = ua * ub; break;
    case o.BPF_DIV: r = ub === 0n ? 0n : ua / ub; break;
    case o.BPF_MOD: r = ub === 0n ? ua : ua % ub; break;
    case o.BPF_OR: r = ua | ub; break;
    case o.BPF_AND: r = ua & ub; break;
    case o.BPF_XOR: r = ua ^ ub; break;
    case o.BPF_LSH: r = ua << BigInt(sh); break;
    case o.BPF_RSH: r = ua >> BigInt(sh); break;
    default: r = BigInt.asIntN(w, ua) >> BigInt(sh); break;
  }
  return BigInt.asUintN(w, r);
}

const OPS = [o.BPF_ADD, o.BPF_SUB, o.BPF_MUL, o.BPF_DIV, o.BPF_MOD, o.BPF_OR, o.BPF_AND, o.BPF_XOR, o.BPF_LSH, o.BPF_RSH, o.BPF_ARSH];

test('scalar ALU results contain the concrete results', () => {
  fc.assert(fc.property(member, member, fc.constantFrom(...OPS), fc.boolean(), (a, b, op, is64) => {
    const r = scalarAlu(op, a.s, b.s, is64);
    const c = alu(op, a.x, b.x, is64);
    assert.ok(contains(r, c), `op ${op} is64 ${is64}: ${a.x} ${b.x} -> ${c}`);
  }), { numRuns: 20000 });
});

test('neg, byte swaps and sign extensions contain the concrete results', () => {
  fc.assert(fc.property(member, fc.boolean(), fc.constantFrom(16, 32, 64), fc.constantFrom(8, 16, 32), (a, is64, bits, sx) => {
    const w = is64 ? 64 : 32;
    assert.ok(contains(scalarNeg(a.s, is64), BigInt.asUintN(w, -a.x)));
    assert.ok(contains(scalarEnd(a.s, bits, false), BigInt.asUintN(bits, a.x)));
    let swapped = 0n;
    for (let i = 0; i < bits / 8; i++) swapped = (swapped << 8n) | ((a.x >> BigInt(8 * i)) & 0xffn);
    assert.ok(contains(scalarEnd(a.s, bits, true), swapped));
    const ext = BigInt.asIntN(sx, a.x);
    assert.ok(contains(scalarMovsx(a.s, sx, true), u64(ext)));
    if (sx < 32) assert.ok(contains(scalarMovsx(a.s, sx, false), BigInt.asUintN(32, ext)));
  }), { numRuns: 10000 });
});

test('decided branches agree with the concrete comparison; refinements keep the members', () => {
  fc.assert(fc.property(member, member, fc.constantFrom(...CMP), fc.boolean(), (a, b, op, is32) => {
    const truth = cmp(op, a.x, b.x, is32);
    const taken = branchTaken(a.s, b.s, op, is32);
    if (taken !== null) assert.equal(taken, truth);
    if (truth) {
      const r = refine(a.s, b.s, op, is32);
      assert.ok(r, 'a true comparison is feasible');
      assert.ok(contains(r[0], a.x) && contains(r[1], b.x), 'refinement keeps the values');
    }
  }), { numRuns: 20000 });
});
