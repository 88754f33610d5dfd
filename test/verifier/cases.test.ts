/**
 * The accept/reject table (cases.ts) through the verifier: accepted programs verify, and
 * rejected ones fail with the expected rejection code, the instruction index and its
 * disassembly in the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/index.js';
import { verify, VerifierError } from '../../src/core/verifier/index.js';
import { CASES, MAPS } from './cases.js';

test(`verifier case table has at least 150 cases`, () => {
  assert.ok(CASES.length >= 150, `${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
});

for (const c of CASES) {
  test(`verifier: ${c.name} -> ${c.expect}`, () => {
    const prog = assemble(c.asm);
    const opts = { progType: c.progType ?? 'xdp', maps: (fd: number) => MAPS.get(fd), dataSize: c.dataSize } as const;
    if (c.expect === 'ok') {
      try {
        const r = verify(prog, opts);
        assert.ok(r.stats.insnsProcessed > 0);
      } catch (e) {
        assert.fail(`rejected: ${e instanceof VerifierError ? `${e.reason}: ${e.message}` : String(e)}`);
      }
      return;
    }
    assert.throws(() => verify(prog, opts), (e: unknown) => {
      assert.ok(e instanceof VerifierError, String(e));
      assert.equal(e.code, 'E_VERIFIER');
      assert.equal(e.reason, c.expect, e.message);
      if (e.context.insn !== undefined) assert.match(e.message, /at `.+` \(insn #\d+\)$/);
      return true;
    });
  });
}
