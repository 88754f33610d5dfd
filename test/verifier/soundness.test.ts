/**
 * Soundness: programs the verifier accepts run in the checked interpreter without a memory
 * fault, an uninitialised-stack read or any other fault. Inputs are generated programs
 * (test/gen) and the same programs after one random mutation (which often makes them
 * unsafe: the verifier must then reject them, or they must still run cleanly), each run on
 * its own packet and on a short one. Size: VERIFIER_SOUND_N (default 200).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { disassemble } from '../../src/core/asm/format.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { verify, VerifierError, type ProgType } from '../../src/core/verifier/index.js';
import { emitProgram } from '../gen/emit.js';
import { engineExecutor } from '../gen/exec.js';
import { progSpecArb } from '../gen/spec.js';
import { mutate, rng } from './mutate.js';

const N = Number(process.env.VERIFIER_SOUND_N ?? 200);

function accepted(prog: Program, progType: ProgType): boolean {
  try {
    verify(prog, { progType });
    return true;
  } catch (e) {
    if (e instanceof VerifierError) return false;
    throw e;
  }
}

test(`soundness: ${N} generated + ${N} mutated programs, accepted ones never fault in checked mode`, (t) => {
  const exec = engineExecutor(interpreter, { checked: true, budget: 2_000_000 });
  const specs = fc.sample(progSpecArb({ maxItems: 25 }), { numRuns: N, seed: 777 });
  const r = rng(4242);
  let runs = 0, rejected = 0;
  const faults: string[] = [];
  for (const s of specs) {
    const kind = s.skb ? 'skb' : 'xdp';
    const pt: ProgType = s.skb ? 'sched_cls' : 'xdp';
    for (const prog of [emitProgram(s), mutate(emitProgram(s), r)]) {
      if (!accepted(prog, pt)) {
        rejected++;
        continue;
      }
      for (const packet of [s.packet, s.packet.slice(0, 20)]) {
        runs++;
        const out = exec.run(prog, packet, kind);
        if (out.error) faults.push(`${out.error.code}: ${out.error.message}\n${disassemble(prog).map((l, i) => `${i}: ${l}`).join('\n')}`);
      }
    }
  }
  t.diagnostic(`${runs} runs of accepted programs, ${rejected} programs rejected, ${faults.length} faults`);
  assert.ok(runs >= N, 'most programs are accepted');
  assert.deepEqual(faults.slice(0, 2), []);
});
