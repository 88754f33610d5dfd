/**
 * A small sample of each JIT fuzz target in CI (the long runs are `npm run fuzz -- --target
 * interp-jit | interp-jit-structured | kernel-jit`), the resumable loop they run in, and
 * the shrinker that minimises wild-program mismatches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import * as o from '../../src/core/isa/opcodes.js';
import { validate } from '../../src/core/isa/validate.js';
import { newFuzzState, runFuzz } from '../gen/fuzz-loop.js';
import { fuzzTarget } from '../gen/targets.js';
import { deleteSlots, shrinkProgram } from './shrink.js';
import { checkWildSeed } from './fuzz-target.js';

const SAMPLE = 300;

for (const name of ['interp-jit', 'interp-jit-structured', 'kernel-jit']) {
  test(`fuzz target ${name}: ${SAMPLE} programs, no mismatch`, (t) => {
    const target = fuzzTarget(name);
    assert.ok(target, `${name} is registered`);
    const avail = target.available();
    if (!avail.ok) return t.skip(avail.reason);
    // a seed range of its own, away from the one `npm run fuzz` walks through from 1
    const state = newFuzzState(name, 0x40000000);
    const reports: string[] = [];
    runFuzz(target, state, SAMPLE, { shrink: true, onReport: (r) => reports.push(`${r.seed}: ${(r.shrunk ?? r.first).detail}`) });
    assert.deepEqual(reports, []);
    assert.equal(state.counts.match, SAMPLE);
    assert.equal(state.nextSeed, 0x40000000 + SAMPLE);
  });
}

test('the wild target is deterministic per seed', () => {
  const a = checkWildSeed(1234, false), b = checkWildSeed(1234, false);
  assert.deepEqual(a.first.prog, b.first.prog);
  assert.equal(a.first.status, 'match');
});

test('deleteSlots keeps jumps and calls pointing at the same instructions', () => {
  const p = assemble('r0 = 0\nif r1 > 2 goto l\nr0 = 1\nr0 += 2\nl:\ncall f\nexit\nf:\nr0 += 5\nexit');
  const q = deleteSlots(p, 2, 1);
  validate(q);
  assert.equal(q.length, p.length - 1);
  assert.equal(q[1].off, 1); // still lands on `call f`
  assert.equal(q[3].imm, 1); // still calls f
});

test('shrinkProgram minimises while the failure persists', () => {
  const p = assemble('r0 = 1\nr2 = 7\nr3 = r2\nr3 *= 5\n*(u64 *)(r10 - 8) = r3\nr4 = *(u64 *)(r10 - 8)\nlock *(u64 *)(r10 - 8) += r4\nr0 = 0x1122334455 ll\nexit');
  const atomics = (q: typeof p): boolean => q.some((i) => i.code === (o.BPF_STX | o.BPF_ATOMIC | o.BPF_DW));
  const small = shrinkProgram(p, atomics);
  assert.equal(small.length, 1);
  assert.ok(atomics(small));
  assert.equal(small[0].off, 0);
});
