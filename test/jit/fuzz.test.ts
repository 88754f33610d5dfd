/**
 * Property test: random wild programs (randprog.ts) give identical outcomes in the JIT and
 * the interpreter, in checked and trusted mode. The long run is `npm run fuzz`, which calls
 * diffInterpJit from test/jit/diff.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSeed, diffInterpJit, modesOf } from './diff.js';
import { randomProgram } from './randprog.js';
import { validate } from '../../src/core/isa/validate.js';
import { buildCfg, funcGraph } from '../../src/core/jit/cfg.js';
import { entryPoints } from '../../src/core/jit/compile.js';

test('random programs: JIT == interpreter (300 seeds; checked, trusted, shared or split regions)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
      for (const mode of modesOf(seed)) {
        const m = checkSeed(seed, mode);
        assert.equal(m, null, JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
      }
    }),
    { numRuns: 300 },
  );
});

test('the random programs exercise irreducible graphs, calls and faults', () => {
  let irreducible = 0;
  for (let seed = 0; seed < 200; seed++) {
    const p = randomProgram(seed);
    const halves = validate(p);
    const entries = entryPoints(p, halves);
    const cfg = buildCfg(p, halves, entries);
    if (entries.some((e) => !funcGraph(cfg, cfg.blockOf[e]).reducible)) irreducible++;
  }
  assert.ok(irreducible >= 10, `only ${irreducible} of 200 programs have an irreducible function`);
  assert.deepEqual(diffInterpJit(10_000, 20), []);
});
