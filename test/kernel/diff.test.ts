/**
 * Differential testing against the Linux kernel: generated XDP programs run through
 * BPF_PROG_TEST_RUN and through the reference interpreter must give the same retval (low 32
 * bits) and the same packet (which holds r0..r8 and the stack at exit). Also checks that the
 * harness observes what it claims to, and that a deliberately wrong engine is caught and its
 * counterexample shrunk. Skips with the reason when kernel BPF is unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Engine } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { kernelAvailable } from '../../src/node/kernel/index.js';
import { checkSeed, diffSpec, formatDiff } from '../gen/diff.js';
import { emitProgram } from '../gen/emit.js';
import { engineExecutor, kernelExecutor } from '../gen/exec.js';
import { newFuzzState, runFuzz } from '../gen/fuzz-loop.js';
import { PKT_CHECKED, STACK_SLOTS, progSpecArb, type ProgSpec } from '../gen/spec.js';
import { fuzzTarget } from '../gen/targets.js';

const avail = kernelAvailable();
const skip = avail.ok ? false : `kernel BPF unavailable: ${avail.reason}`;
if (skip) console.log(`# ${skip}`);

const u64le = (d: Uint8Array, at: number): bigint => new DataView(d.buffer, d.byteOffset).getBigUint64(at, true);

test('harness: with an empty body the kernel reports the initial registers and stack in the packet', { skip }, () => {
  const spec: ProgSpec = {
    init: [0n, 1n, 1n << 63n, 0xffffffffn, 5n, 6n, 7n, (1n << 64n) - 1n, 0x0123456789abcdefn],
    stack: Array.from({ length: STACK_SLOTS }, (_, i) => BigInt(i) * 0x1111111111111111n),
    body: [], subs: [],
    packet: new Uint8Array(PKT_CHECKED + 8).map((_, i) => i),
  };
  const prog = emitProgram(spec);
  const k = kernelExecutor().run(prog, spec.packet);
  assert.equal(k.rejected, undefined);
  assert.equal(k.r0, 0n);
  spec.init.forEach((v, r) => assert.equal(u64le(k.dataOut, 8 * r), v, `r${r}`));
  spec.stack.forEach((v, s) => assert.equal(u64le(k.dataOut, 72 + 8 * s), v, `slot ${s}`));
  assert.deepEqual(k.dataOut.subarray(136), spec.packet.subarray(136), 'bytes past the dump are untouched');
  const i = engineExecutor(interpreter).run(prog, spec.packet);
  assert.deepEqual(i.dataOut, k.dataOut);
});

test('kernel vs interpreter: 1000 generated programs agree', { skip }, () => {
  const target = fuzzTarget('kernel-interp')!;
  const reports: string[] = [];
  const state = runFuzz(target, newFuzzState(target.name, 1), 1000, {
    onReport: (r) => reports.push(formatDiff(r.shrunk ?? r.first, `seed ${r.seed}: `)),
  });
  if (reports.length) console.log(reports.slice(0, 3).join('\n\n'));
  assert.equal(state.counts.rejected, 0, `verifier rejected seeds ${state.rejectedSeeds.join(', ')}`);
  assert.equal(state.counts.mismatch, 0, `mismatching seeds ${state.mismatchSeeds.join(', ')}`);
  assert.equal(state.counts.match, 1000);
});

test('generated programs really run their epilogue in the kernel', { skip }, () => {
  const k = kernelExecutor();
  const arb = progSpecArb();
  let changed = 0;
  for (let seed = 1; seed <= 50; seed++) {
    const r = checkSeed(seed, arb, (s) => {
      const prog = emitProgram(s);
      const out = k.run(prog, s.packet, s.skb ? 'skb' : 'xdp');
      assert.equal(out.rejected, undefined);
      if (out.dataOut.subarray(0, 136).some((b, i) => b !== s.packet[i])) changed++;
      return diffSpec(s, k, k);
    }, false);
    assert.equal(r.first.status, 'match', 'the kernel is deterministic on these programs');
  }
  // an out-of-range LD_ABS/LD_IND ends a SCHED_CLS program early (a few percent of programs)
  assert.ok(changed >= 45, `only ${changed}/50 programs wrote their results`);
});

/** signedAsUnsigned wraps the interpreter but turns SDIV/SMOD into DIV/MOD: a planted bug. */
const signedAsUnsigned: Engine = {
  name: 'buggy-interp',
  load: (prog, ctx, opts) => interpreter.load(
    prog.map((i) => ((i.code & 0x07) === 0x04 || (i.code & 0x07) === 0x07) && [0x30, 0x90].includes(i.code & 0xf0) && i.off === 1
      ? { ...i, off: 0 } : i), ctx, opts),
};

test('a planted engine bug is found and shrunk to a few body instructions', { skip }, () => {
  const k = kernelExecutor();
  const bad = engineExecutor(signedAsUnsigned);
  const arb = progSpecArb();
  let found = null;
  for (let seed = 1; seed <= 500 && !found; seed++) {
    const r = checkSeed(seed, arb, (s) => diffSpec(s, k, bad));
    if (r.first.status === 'mismatch') found = r;
  }
  assert.ok(found, 'no mismatch in 500 programs');
  const shrunk = found.shrunk!;
  assert.equal(shrunk.status, 'mismatch');
  const empty = emitProgram({ init: new Array(9).fill(0n), stack: new Array(STACK_SLOTS).fill(0n), body: [], subs: [], packet: new Uint8Array(0) });
  assert.ok(shrunk.prog.length <= empty.length + 4, `shrunk program still has ${shrunk.prog.length - empty.length} body slots:\n${formatDiff(shrunk)}`);
  assert.ok(shrunk.prog.some((i) => [0x3c, 0x34, 0x9c, 0x94, 0x3f, 0x37, 0x9f, 0x97].includes(i.code) && i.off === 1),
    'the minimal program contains a signed division');
});
