/**
 * JIT control flow: structured loops, irreducible graphs (dispatch fallback), gotol, falling
 * off the end, budget exhaustion with the interpreter's exact instruction index, and
 * bpf-to-bpf calls up to and past the 8-frame limit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { validate } from '../../src/core/isa/validate.js';
import { buildCfg, funcGraph } from '../../src/core/jit/cfg.js';
import { entryPoints } from '../../src/core/jit/compile.js';
import { both, r0Of } from './util.js';
import { createVmContext } from '../../src/core/vm/context.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { PERM_RW } from '../../src/core/vm/memory.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { isBpfError } from '../../src/core/errors.js';

const IRREDUCIBLE = `
  r0 = 0
  if r2 > 5 goto b
a:
  r0 += 1
  if r0 > 30 goto out
b:
  r0 += 2
  if r0 < 20 goto a
out:
  exit`;

function reducible(text: string): boolean[] {
  const p = assemble(text);
  const halves = validate(p);
  const entries = entryPoints(p, halves);
  const cfg = buildCfg(p, halves, entries);
  return entries.map((e) => funcGraph(cfg, cfg.blockOf[e]).reducible);
}

test('a loop with two entries is irreducible and still compiles exactly', () => {
  assert.deepEqual(reducible(IRREDUCIBLE), [false]);
  // enter at a (length 4): 1,3,4,6,...; enter at b (length 8): 2,3,5,...
  assert.equal(r0Of(IRREDUCIBLE, { data: new Uint8Array(4) }), 21n);
  assert.equal(r0Of(IRREDUCIBLE, { data: new Uint8Array(8) }), 20n);
});

test('nested loops and forward merges are reducible', () => {
  const text = `
    r0 = 0
    r3 = 0
  outer:
    r4 = 0
  inner:
    r0 += r4
    if r0 & 1 goto odd
    r0 += 3
    goto next
  odd:
    r0 ^= 5
  next:
    r4 += 1
    if r4 < 7 goto inner
    r3 += 1
    if r3 < 5 goto outer
    exit`;
  assert.deepEqual(reducible(text), [true]);
  let r0 = 0n;
  for (let r3 = 0; r3 < 5; r3++) {
    for (let r4 = 0n; r4 < 7n; r4++) {
      r0 += r4;
      r0 = r0 & 1n ? r0 ^ 5n : r0 + 3n;
    }
  }
  assert.equal(r0Of(text), r0);
});

test('gotol and jumps to the same target from both arms', () => {
  assert.equal(r0Of('r0 = 1\ngotol +1\nr0 = 2\nif r0 == 1 goto +0\nexit'), 1n);
  assert.equal(r0Of('r0 = 1\nif r0 == 1 goto l\nl:\nr0 += 1\nexit'), 2n);
});

test('every conditional jump compares like the interpreter', () => {
  const ops = ['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'];
  const vals = ['0', '1', '-1', '0x7fffffff', '-0x80000000'];
  for (const op of ops) {
    for (const a of vals) {
      for (const b of vals) {
        for (const w of ['r', 'w']) {
          const text = `r1 = ${a}\nr2 = ${b}\nr0 = 0\nif ${w}1 ${op} ${w}2 goto +1\nr0 = 1\nif ${w}1 ${op} ${b} goto +1\nr0 += 2\nexit`;
          both(text);
        }
      }
    }
  }
});

test('falling off the end is E_NO_EXIT at the last instruction', () => {
  assert.deepEqual(both('r0 = 1\nr0 += 1'), { code: 'E_NO_EXIT', insn: 1, address: undefined });
  // a trailing lddw is reported at its first slot
  assert.deepEqual(both('r0 = 2\nif r0 == 2 goto +1\nexit\nr1 = 5 ll'), { code: 'E_NO_EXIT', insn: 3, address: undefined });
  assert.equal(both('r0 = 1\nif r0 == 2 goto +1\nexit\nr1 = 5 ll').r0, 1n);
});

test('an endless loop ends with E_BUDGET at the interpreter\'s instruction', () => {
  const text = 'r0 = 0\nl:\nr0 += 1\nr1 = 7 ll\nif r0 != 0 goto l\nexit';
  for (const budget of [0, 1, 2, 3, 4, 5, 1000, 1001, 1002]) {
    const r = both(text, { budget });
    assert.equal(r.code, 'E_BUDGET');
  }
  assert.equal(both('l:\ngoto l', { budget: 10_000 }).code, 'E_BUDGET');
});

test('the budget is exact: steps equal the interpreter\'s and budget = steps suffices', () => {
  const text = 'r0 = 0\nl:\n*(u64 *)(r10 - 8) = r0\nr0 += 1\nif r0 < 50 goto l\nexit';
  const ok = both(text);
  assert.equal(ok.steps, 1 + 50 * 3 + 1);
  assert.equal(both(text, { budget: ok.steps }).r0, 50n);
  const r = both(text, { budget: ok.steps! - 1 });
  assert.equal(r.code, 'E_BUDGET');
  assert.equal(r.insn, 4);
});

test('bpf-to-bpf calls: arguments, r0..r5 back, r6..r9 preserved, own frames', () => {
  const text = `
    r6 = 100
    r1 = 5
    *(u64 *)(r10 - 8) = r6
    call f
    r0 += r6
    r7 = *(u64 *)(r10 - 8)
    r0 += r7
    r0 += r1
    exit
  f:
    r6 = 1
    *(u64 *)(r10 - 8) = r6
    r0 = r1
    r0 *= 3
    r1 = 1000
    exit`;
  assert.equal(r0Of(text), 15n + 100n + 100n + 1000n);
});

test('a callee sees the caller\'s registers and reads its own uninitialised frame as a fault', () => {
  assert.equal(r0Of('r7 = 9\ncall f\nexit\nf:\nr0 = r7\nexit'), 9n);
  assert.equal(both('*(u64 *)(r10 - 8) = r1\ncall f\nexit\nf:\nr0 = *(u64 *)(r10 - 8)\nexit').code, 'E_UNINIT_STACK');
});

test('recursion: 8 frames are fine, the 9th is E_CALL_DEPTH', () => {
  const rec = (n: number): string => `r1 = ${n}\nr0 = 0\ncall f\nexit\nf:\nr0 += 1\nif r1 == 0 goto done\nr1 -= 1\ncall f\ndone:\nexit`;
  assert.equal(r0Of(rec(6)), 7n);
  const r = both(rec(7));
  assert.equal(r.code, 'E_CALL_DEPTH');
  assert.equal(r.insn, 7);
  assert.equal(both(rec(100)).code, 'E_CALL_DEPTH');
});

test('falling from one subprogram into the next runs it, as the interpreter does', () => {
  assert.equal(r0Of('r0 = 1\ncall f\nexit\nf:\nr0 += 10\ng:\nr0 += 100\nexit\ncall g'), 111n);
});

test('large programs compile (10,000 conditional blocks in one function)', () => {
  const lines = ['r0 = 0'];
  for (let k = 0; k < 10_000; k++) lines.push(`if r2 == ${k} goto +1`, `r0 += ${k}`);
  lines.push('exit');
  const text = lines.join('\n');
  assert.equal(r0Of(text, { data: new Uint8Array(5) }), BigInt((9999 * 10000) / 2 - 5));
});

test('budget running out inside a block: faults and LD_ABS misses before that point win', () => {
  const data = new Uint8Array(8);
  // the LD_ABS miss ends the run (r0 = 0) within the budget, though the block is longer
  for (const budget of [1, 2, 3, 10]) {
    const r = both('r0 = *(u8 *)skb[100]\nr0 = 5\nr1 = 1\nr2 = 2\nexit', { data, budget });
    assert.deepEqual([r.r0, r.steps], [0n, 1], `budget ${budget}`);
  }
  // a memory fault inside the block is reported when the budget reaches it, E_BUDGET otherwise
  const text = 'r0 = 1\nr1 = 0\nr0 = *(u8 *)(r1 + 0)\nr0 = 2\nexit';
  assert.deepEqual(both(text, { data, budget: 2 }).code, 'E_BUDGET');
  assert.deepEqual(both(text, { data, budget: 3 }).code, 'E_MEM');
  // stores before the budget point happen, later ones do not
  const p = assemble('*(u8 *)(r1 + 0) = 1\n*(u8 *)(r1 + 1) = 2\n*(u8 *)(r1 + 2) = 3\nexit');
  for (const engine of [interpreter, jit] as Engine[]) {
    const ctx = createVmContext();
    const buf = ctx.space.alloc(8);
    assert.throws(() => engine.load(p, ctx).run({ args: [BigInt(buf)], regions: [{ start: buf, end: buf + 8, perm: PERM_RW, name: 'b' }], budget: 2 }),
      (e) => isBpfError(e) && e.code === 'E_BUDGET' && e.context.insn === 2);
    assert.deepEqual([...ctx.space.read(buf, 4)], [1, 2, 0, 0], engine.name);
  }
});
