/**
 * JIT memory: loads/stores of every size with sign extension, region checks in checked mode
 * (wild pointers fault with the interpreter's insn and address), the stack's initialisation
 * shadow, trusted mode staying inside the Wasm memory, atomics on private and shared memory,
 * and the legacy packet loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVmContext } from '../../src/core/vm/context.js';
import { PERM_R, PERM_RW } from '../../src/core/vm/memory.js';
import { jit } from '../../src/core/jit/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { assemble } from '../../src/core/asm/assemble.js';
import { isBpfError } from '../../src/core/errors.js';
import { both, r0Of, u64 } from './util.js';

const DATA = new Uint8Array([0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 9, 10, 11, 12, 13, 14, 15, 16]);

test('loads zero- or sign-extend; stores write the low bytes', () => {
  assert.equal(r0Of('r0 = *(u8 *)(r1 + 0)\nexit', { data: DATA }), 0x81n);
  assert.equal(r0Of('r0 = *(s8 *)(r1 + 0)\nexit', { data: DATA }), u64(-127n));
  assert.equal(r0Of('r0 = *(u16 *)(r1 + 1)\nexit', { data: DATA }), 0x8382n);
  assert.equal(r0Of('r0 = *(s16 *)(r1 + 1)\nexit', { data: DATA }), u64(0x8382n - 0x10000n));
  assert.equal(r0Of('r0 = *(s32 *)(r1 + 3)\nexit', { data: DATA }), u64(0x87868584n - 0x100000000n));
  assert.equal(r0Of('r0 = *(u64 *)(r1 + 8)\nexit', { data: DATA }), 0x100f0e0d0c0b0a09n);
  const r = both('r2 = -2\n*(u32 *)(r1 + 0) = r2\n*(u16 *)(r1 + 4) = 0x1234\n*(u64 *)(r1 + 8) = -3\nr0 = 0\nexit', { data: DATA });
  assert.deepEqual([...r.data!], [0xfe, 0xff, 0xff, 0xff, 0x34, 0x12, 0x87, 0x88, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
});

test('checked mode: accesses outside the regions fault with insn and address', () => {
  const len = DATA.length;
  const past = both(`r0 = *(u32 *)(r1 + ${len - 2})\nexit`, { data: DATA });
  assert.equal(past.code, 'E_MEM');
  assert.equal(past.insn, 0);
  const before = both('r0 = 1\n*(u8 *)(r1 - 1) = r0\nexit', { data: DATA });
  assert.equal(before.code, 'E_MEM');
  assert.equal(before.insn, 1);
  assert.equal(both('r1 = 0\nr0 = *(u8 *)(r1 + 0)\nexit').address, 0);
  // the guard area, high bits set, and pointers that only wrap below 2^32
  assert.equal(both('r1 = 0x8000\nr0 = *(u64 *)(r1 + 16)\nexit').code, 'E_MEM');
  assert.equal(both('r1 = 0x100000000 ll\nr0 = *(u8 *)(r1 + 0)\nexit', { data: DATA }).code, 'E_MEM');
  assert.equal(both('r1 = -1\nr0 = *(u8 *)(r1 + 1)\nexit').address, 0);
  assert.equal(both('r2 = -1\nr1 += r2\nr0 = *(u8 *)(r1 + 1)\nexit', { data: DATA }).r0, 0x81n);
  assert.equal(both('r1 = 0x7fffffffffffffff ll\nr0 = *(u8 *)(r1 + 0)\nexit').address, 2 ** 63);
});

test('checked mode: a faulting store has no effect', () => {
  const r = both('*(u64 *)(r1 + 0) = 7\n*(u64 *)(r1 + 12) = 7\nexit', { data: DATA });
  assert.equal(r.code, 'E_MEM');
  assert.equal(r.insn, 1);
});

test('checked mode: region permissions, exact region bounds, several regions', () => {
  const p = assemble('r0 = *(u32 *)(r1 + 0)\n*(u32 *)(r2 + 0) = r0\nr0 = *(u8 *)(r2 + 3)\nexit');
  for (const engine of [interpreter, jit] as Engine[]) {
    const ctx = createVmContext();
    const a = ctx.space.alloc(8), b = ctx.space.alloc(8);
    ctx.space.write(a, new Uint8Array([1, 2, 3, 4]));
    const l = engine.load(p, ctx);
    const run = (permB: number) => l.run({
      args: [BigInt(a), BigInt(b)],
      regions: [{ start: a, end: a + 4, perm: PERM_R, name: 'a' }, { start: b, end: b + 4, perm: permB, name: 'b' }],
    });
    assert.equal(run(PERM_RW).r0, 4n, engine.name);
    assert.throws(() => run(PERM_R), (e) => isBpfError(e) && e.code === 'E_MEM' && e.context.insn === 1 && e.context.address === b);
  }
});

test('stack: reads need initialised bytes; the fault names the first uninitialised byte', () => {
  assert.equal(r0Of('*(u32 *)(r10 - 8) = 5\nr0 = *(u32 *)(r10 - 8)\nexit'), 5n);
  const r = both('*(u32 *)(r10 - 8) = 5\nr0 = *(u64 *)(r10 - 8)\nexit');
  assert.equal(r.code, 'E_UNINIT_STACK');
  assert.equal(r.insn, 1);
  const top = both('r0 = r10\nexit').r0!;
  assert.equal(BigInt(r.address!), top - 4n);
  // only the stack itself is the stack region: just above r10 is not
  assert.equal(both('r0 = *(u8 *)(r10 + 0)\nexit').code, 'E_MEM');
  // the shadow is reset for every run: a value written by a previous run is not readable
  for (const engine of [interpreter, jit] as Engine[]) {
    const l = engine.load(assemble('if r1 == 0 goto +1\n*(u8 *)(r10 - 1) = 1\nr0 = *(u8 *)(r10 - 1)\nexit'), createVmContext());
    assert.equal(l.run({ args: [1n] }).r0, 1n);
    assert.throws(() => l.run({ args: [0n] }), (e) => isBpfError(e) && e.code === 'E_UNINIT_STACK');
  }
});

test('trusted mode: no checks, but wild pointers cannot leave the Wasm memory', () => {
  // writes outside any region are allowed (and visible to a later read)
  assert.equal(r0Of('r2 = 0x8000\nr2 += r1\n*(u64 *)(r2 + 0) = 99\nr0 = *(u64 *)(r2 + 0)\nexit', { checked: false }), 99n);
  // uninitialised stack is readable
  assert.equal(both('r0 = *(u64 *)(r10 - 8)\nexit', { checked: false }).code, undefined);
  // beyond the memory: E_MEM, never a host crash
  for (const ptr of ['0xfffffff0', '0x7ffffff0', '-16']) {
    assert.equal(both(`r1 = ${ptr} ll\nr0 = *(u64 *)(r1 + 0)\nexit`, { checked: false }).code, 'E_MEM', ptr);
    assert.equal(both(`r1 = ${ptr} ll\n*(u64 *)(r1 + 8) = 1\nexit`, { checked: false }).code, 'E_MEM', ptr);
  }
  // a pointer with high bits uses its low 32 bits, like the interpreter
  assert.equal(r0Of('r2 = 0x500000000 ll\nr2 += r1\nr0 = *(u8 *)(r2 + 0)\nexit', { checked: false, data: DATA }), 0x81n);
});

const ATOMIC_CASES = [
  'lock *(u64 *)(r10 - 8) += r1',
  'lock *(u64 *)(r10 - 8) |= r1',
  'lock *(u64 *)(r10 - 8) &= r1',
  'lock *(u64 *)(r10 - 8) ^= r1',
  'lock *(u32 *)(r10 - 8) += w1',
  'lock *(u32 *)(r10 - 8) ^= w1',
  'r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)',
  'r1 = atomic_fetch_or((u64 *)(r10 - 8), r1)',
  'r1 = atomic_fetch_and((u64 *)(r10 - 8), r1)',
  'r1 = atomic_fetch_xor((u64 *)(r10 - 8), r1)',
  'w1 = atomic_fetch_add((u32 *)(r10 - 8), w1)',
  'w1 = atomic_fetch_and((u32 *)(r10 - 8), w1)',
  'r1 = xchg_64(r10 - 8, r1)',
  'w1 = xchg32_32(r10 - 8, w1)',
  'r0 = cmpxchg_64(r10 - 8, r0, r1)',
  'w0 = cmpxchg32_32(r10 - 8, w0, w1)',
];

test('atomics compute the interpreter\'s memory and registers (private and shared memory, aligned or not)', () => {
  for (const shared of [false, true]) {
    for (const off of [0, 1, 4]) {
      for (const op of ATOMIC_CASES) {
        for (const r0 of ['0x1111111122222222', '0x2222222233333333', '0x33333333']) {
          const at = op.replace(/r10 - 8/, `r10 - ${16 - off}`);
          const text = `r2 = 0x2222222233333333 ll\n*(u64 *)(r10 - 16) = r2\n*(u64 *)(r10 - 8) = r2\n` +
            `r1 = 0xf0f0f0f0f0f0f0f0 ll\nr0 = ${r0} ll\n${at}\nr3 = *(u64 *)(r10 - 16)\nr4 = *(u64 *)(r10 - 8)\n` +
            `r0 ^= r1\nr0 ^= r3\nr0 += r4\nexit`;
          both(text, { shared });
        }
      }
    }
  }
  // hand-checked: fetch_add returns the old value
  assert.equal(r0Of('*(u64 *)(r10 - 8) = 5\nr1 = 3\nr1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\nr0 = *(u64 *)(r10 - 8)\nr0 <<= 8\nr0 |= r1\nexit', { shared: true }), 0x805n);
});

test('atomics in checked mode need an initialised stack and a readable+writable region', () => {
  assert.equal(both('r1 = 1\nlock *(u64 *)(r10 - 8) += r1\nexit').code, 'E_UNINIT_STACK');
  assert.equal(both('r2 = 1\nlock *(u32 *)(r1 + 14) += r2\nexit', { data: DATA }).code, 'E_MEM');
});

test('LD_ABS / LD_IND load big-endian from the packet or end the run with 0', () => {
  assert.equal(r0Of('r0 = *(u8 *)skb[1]\nexit', { data: DATA }), 0x82n);
  assert.equal(r0Of('r0 = *(u16 *)skb[1]\nexit', { data: DATA }), 0x8283n);
  assert.equal(r0Of('r0 = *(u32 *)skb[12]\nexit', { data: DATA }), 0x0d0e0f10n);
  assert.equal(r0Of('r2 = 4\nr0 = *(u32 *)skb[r2 + 8]\nexit', { data: DATA }), 0x0d0e0f10n);
  // out of range, negative, or from a subframe: the whole run returns 0
  assert.equal(r0Of('r0 = 7\nr0 = *(u32 *)skb[13]\nr0 = 5\nexit', { data: DATA }), 0n);
  assert.equal(r0Of('r0 = 7\nr2 = -20\nr0 = *(u8 *)skb[r2 + 4]\nr0 = 5\nexit', { data: DATA }), 0n);
  assert.equal(r0Of('r0 = 7\ncall f\nr0 = 5\nexit\nf:\nr0 = *(u8 *)skb[100]\nr0 = 9\nexit', { data: DATA }), 0n);
  // the offset register counts only its low 32 bits
  assert.equal(r0Of('r2 = 0x100000002 ll\nr0 = *(u8 *)skb[r2 + 0]\nexit', { data: DATA }), 0x83n);
});

test('the JIT keeps its control block out of the allocator: addresses match the interpreter\'s', () => {
  const a = createVmContext(), b = createVmContext();
  jit.load(assemble('r0 = 0\nexit'), a).run();
  interpreter.load(assemble('r0 = 0\nexit'), b).run();
  assert.equal(a.space.alloc(64), b.space.alloc(64));
});

test('many regions, and CPU indices beyond the guard-area slots', () => {
  for (const cpu of [0, 3, 40]) {
    const ctx = createVmContext({ cpu });
    const base = ctx.space.alloc(4096);
    const regions = Array.from({ length: 200 }, (_, k) => ({ start: base + 16 * k, end: base + 16 * k + 8, perm: PERM_RW, name: `r${k}` }));
    const l = jit.load(assemble('*(u64 *)(r1 + 0) = r2\nr0 = *(u64 *)(r1 + 0)\nexit'), ctx);
    assert.equal(l.run({ args: [BigInt(base + 16 * 199), 77n], regions }).r0, 77n);
    assert.throws(() => l.run({ args: [BigInt(base + 16 * 199 + 8), 77n], regions }), (e) => isBpfError(e) && e.code === 'E_MEM');
    // a later run with fewer regions must not see the old ones
    assert.throws(() => l.run({ args: [BigInt(base + 16 * 199), 77n], regions: regions.slice(0, 10) }), (e) => isBpfError(e) && e.code === 'E_MEM');
  }
});

test('odd region bounds (fractions, NaN, reversed) admit exactly what the interpreter admits', () => {
  const p = assemble('r0 = *(u8 *)(r1 + 0)\nexit');
  const outcome = (engine: Engine, start: number, end: number, at: number): string => {
    const ctx = createVmContext();
    const base = ctx.space.alloc(64);
    try {
      return String(engine.load(p, ctx).run({ args: [BigInt(base + at)], regions: [{ start: base + start, end: base + end, perm: PERM_R, name: 'x' }] }).r0);
    } catch (e) {
      return isBpfError(e) ? e.code : 'crash';
    }
  };
  for (const [start, end] of [[0.5, 4.5], [-0.5, 2], [2, 1], [NaN, 8], [0, NaN], [1, 1.9]]) {
    for (const at of [0, 1, 2, 3, 4]) {
      assert.equal(outcome(jit, start, end, at), outcome(interpreter, start, end, at), `[${start}, ${end}) at ${at}`);
    }
  }
});

test('a region overlapping the stack does not bypass the stack\'s initialisation rules', () => {
  const p = assemble('r2 = r10\nr0 = *(u64 *)(r2 - 8)\nexit');
  const pw = assemble('r2 = r10\n*(u64 *)(r2 - 8) = 5\nr0 = *(u64 *)(r10 - 8)\nexit');
  for (const engine of [interpreter, jit] as Engine[]) {
    const ctx = createVmContext();
    const top = ctx.stack.top(0);
    const regions = [{ start: top - 64, end: top + 64, perm: PERM_RW, name: 'odd' }];
    assert.throws(() => engine.load(p, ctx).run({ regions }), (e) => isBpfError(e) && e.code === 'E_UNINIT_STACK', engine.name);
    // and a store through it marks the shadow, as on the stack
    assert.equal(engine.load(pw, ctx).run({ regions }).r0, 5n, engine.name);
    // an access straddling the stack's top hits the region through the table; the JIT must not
    // then cache that region as its fast path (a later stack read would skip the shadow check)
    const straddle = assemble('r2 = r10\nr0 = *(u64 *)(r2 - 4)\nr0 = *(u64 *)(r2 - 32)\nexit');
    assert.throws(() => engine.load(straddle, ctx).run({ regions }), (e) => isBpfError(e) && e.code === 'E_UNINIT_STACK' && e.context.insn === 2, engine.name);
  }
});
