/**
 * Verifier output: statistics, the level-1 log (failing path, or the summary line), the
 * level-2 log in the kernel's style, and errors that carry the instruction, its
 * disassembly and the rejection code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/index.js';
import { verify, VerifierError, REJECT_CODES } from '../../src/core/verifier/index.js';

const LOOP = 'r1 = 0\nloop:\n r1 += 1\n if r1 < 10 goto loop\n r0 = 0\n exit';

test('statistics count processed instructions and stack depth', () => {
  const r = verify(assemble(LOOP));
  assert.equal(r.stats.insnsProcessed, 1 + 10 * 2 + 2);
  assert.equal(r.log, '');
  const s = verify(assemble('*(u64 *)(r10 - 40) = 0\n call fn\n exit\nfn:\n *(u32 *)(r10 - 4) = 1\n r0 = 0\n exit'));
  assert.deepEqual(s.stats.stackDepth, [48, 16]);
  assert.ok(s.stats.timeMs >= 0);
});

test('level 2 log prints each instruction with the registers it wrote', () => {
  const r = verify(assemble('r0 = 0\n r2 = *(u32 *)(r1 + 0)\n if r0 == 0 goto +1\n r0 = 1\n exit'), { logLevel: 2 });
  const lines = r.log.split('\n');
  assert.equal(lines[0], '0: (b7) r0 = 0 ; R0_w=0');
  assert.equal(lines[1], '1: (61) r2 = *(u32 *)(r1 + 0) ; R2_w=pkt(r=0)');
  assert.match(r.log, /^processed 4 insns \(limit 1000000\) max_states_per_insn \d+ total_states \d+ peak_states \d+$/m);
});

/** diamond pads a two-way branch so that its join (insn pad + 3) is reached after `pad + 3` instructions. */
const diamond = (pad: number): string => `call 7\n r1 = 0\n${' r2 = 0\n'.repeat(pad - 1)} if r0 == 0 goto +1\n r1 = 0\n r0 = r1\n exit`;

test('level 2 log shows branch switches and pruned paths', () => {
  // the join (insn 8) is the first prune point reached after 2 jumps and 8 instructions: a state is saved there
  const r = verify(assemble(diamond(5)), { logLevel: 2 });
  assert.match(r.log, /^from 6 to 8: /m);
  assert.match(r.log, /^8: safe$/m);
});

test('like the kernel, states are saved only after 2 jumps and 8 instructions', () => {
  // the same diamond with one instruction less: no state is saved at the join, the second path runs to exit
  const r = verify(assemble(diamond(4)), { logLevel: 2 });
  assert.match(r.log, /^from 5 to 7: /m);
  assert.doesNotMatch(r.log, /: safe$/m);
  assert.equal(r.stats.insnsProcessed, 9 + 2);
});

test('level 1 log on failure is the failing path and the message', () => {
  const prog = assemble('call 7\n if r0 == 0 goto bad\n r0 = 0\n exit\nbad:\n r0 = *(u64 *)(r0 + 0)\n exit');
  assert.throws(() => verify(prog, { logLevel: 1 }), (e: unknown) => {
    assert.ok(e instanceof VerifierError);
    assert.equal(e.reason, 'INVALID_MEM_ACCESS');
    assert.equal(e.kernelMessage, "R0 invalid mem access 'scalar'");
    assert.equal(e.context.insn, 4);
    assert.equal(e.message, "R0 invalid mem access 'scalar' at `r0 = *(u64 *)(r0 + 0)` (insn #4)");
    assert.deepEqual(e.log.split('\n'), [
      '0: (85) call 7', '1: (15) if r0 == 0x0 goto +2'.replace('0x0', '0'), '4: (79) r0 = *(u64 *)(r0 + 0)', "R0 invalid mem access 'scalar'",
    ]);
    return true;
  });
});

test('errors without an instruction (whole-program checks) and at level 0 have no log', () => {
  assert.throws(() => verify(assemble('*(u64 *)(r10 - 512) = 0\n call fn\n exit\nfn:\n *(u64 *)(r10 - 8) = 0\n r0 = 0\n exit')),
    (e: unknown) => e instanceof VerifierError && e.reason === 'STACK_TOO_LARGE' && e.context.insn === undefined && e.log === '');
});

test('every rejection code has a description', () => {
  for (const [code, text] of Object.entries(REJECT_CODES)) assert.ok(text.length > 10, code);
});

test('pruning ignores scalars whose value cannot matter, but not those that do', () => {
  // (padded so that the join, insn 9, is reached after 8 instructions: a state is saved there)
  const join = (use: string): string => `call 7\n${' r7 = 0\n'.repeat(4)} if r0 == 0 goto +2\n r6 = 1\n goto +1\n r6 = 2\n r1 = 0\n r1 += 1\n r1 += 2\n ${use}`;
  // r6 only becomes the return value: the second path is pruned at the join (insn 9)
  const free = verify(assemble(join('r0 = r6\n exit')), { logLevel: 2 });
  assert.match(free.log, /^9: safe$/m);
  // r6 is added to a stack pointer: its value matters, both paths are explored to the end
  const used = verify(assemble(join('*(u64 *)(r10 - 16) = 0\n r2 = r10\n r2 += -16\n r2 += r6\n r0 = *(u8 *)(r2 + 0)\n exit')), { logLevel: 2 });
  assert.doesNotMatch(used.log, /^9: safe$/m);
  assert.ok(used.stats.insnsProcessed > free.stats.insnsProcessed);
});
