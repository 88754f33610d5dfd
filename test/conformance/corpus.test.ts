/**
 * The per-instruction conformance corpus (test/corpus) on every engine of engines.ts: one
 * subtest per file per engine. Every case runs in checked mode; cases that must not fault, and
 * cases whose error is structural (found at load time), also run in trusted mode.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { toHex } from '../../src/core/isa/instruction.js';
import { loadCorpus, type CorpusCase } from './corpus.js';
import { ENGINES } from './engines.js';
import { caseProgram, loadAssembler, runCase, type Outcome } from './run-case.js';
import type { Engine } from '../../src/core/vm/engine.js';

/** Errors validate() raises at load time: every mode must report them. */
const STRUCTURAL = new Set(['E_BAD_OPCODE', 'E_BAD_JUMP', 'E_TRUNCATED', 'E_BAD_REGISTER', 'E_BAD_LDDW', 'EINVAL']);

const cases = loadCorpus();
const assemble = await loadAssembler();

const hex64 = (v: bigint | undefined): string => (v === undefined ? 'none' : '0x' + v.toString(16));

function describeOutcome(o: Outcome): string {
  if (o.error) return `error ${o.error.code}: ${o.error.message}`;
  return `r0 = ${hex64(o.r0)}`;
}

function check(c: CorpusCase, o: Outcome, mode: string): void {
  const where = `${c.name} (${mode})`;
  if (c.error) {
    assert.ok(o.error, `${where}: expected ${c.error.code}, got ${describeOutcome(o)}`);
    assert.equal(o.error.code, c.error.code, `${where}: wrong error: ${o.error.message}`);
    if (c.error.insn !== undefined) {
      assert.equal(o.error.context.insn, c.error.insn, `${where}: wrong insn in ${o.error.message}`);
    }
    return;
  }
  assert.ok(!o.error, `${where}: unexpected ${describeOutcome(o)}`);
  assert.equal(hex64(o.r0), hex64(c.result), `${where}: r0`);
  if (c.memOut) assert.equal(toHex(o.dataOut ?? new Uint8Array(), ' '), toHex(c.memOut, ' '), `${where}: memory after the run`);
}

function runBoth(engine: Engine, c: CorpusCase): void {
  const prog = caseProgram(c, assemble);
  check(c, runCase(engine, c, prog, true), 'checked');
  if (!c.error || STRUCTURAL.has(c.error.code)) check(c, runCase(engine, c, prog, false), 'trusted');
}

test('the corpus is large and every case parses', () => {
  assert.ok(cases.length >= 250, `only ${cases.length} cases`);
  const groups = new Set(cases.map((c) => c.group));
  for (const g of ['base32', 'base64', 'atomic32', 'atomic64', 'divmul32', 'divmul64', 'packet', 'calls', 'faults']) {
    assert.ok(groups.has(g), `no cases in group ${g}`);
  }
});

for (const entry of ENGINES) {
  describe(`corpus on ${entry.name}`, () => {
    for (const c of cases) {
      test(c.name, (t) => {
        if (!entry.engine) return t.skip(entry.missing);
        if (!c.raw && typeof assemble === 'string') return t.skip(assemble);
        runBoth(entry.engine, c);
      });
    }
  });
}
