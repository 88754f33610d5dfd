/**
 * Robustness: the verifier never crashes on arbitrary input. Random instruction sequences
 * (valid or not, with maps, helpers, calls and callbacks) either verify or are rejected with
 * a VerifierError; and generated programs mutated several times in a row likewise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { insn, type Insn } from '../../src/core/isa/instruction.js';
import { verify, VerifierError, type ProgType } from '../../src/core/verifier/index.js';
import { emitProgram } from '../gen/emit.js';
import { progSpecArb } from '../gen/spec.js';
import { MAPS } from './cases.js';
import { mutate, rng } from './mutate.js';

const slot: fc.Arbitrary<Insn[]> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ code: fc.nat(255), dst: fc.nat(10), src: fc.nat(10), off: fc.integer({ min: -8, max: 8 }), imm: fc.integer({ min: -600, max: 600 }) }).map((r) => [insn(r.code, r.dst, r.src, r.off, r.imm)]) },
  { weight: 1, arbitrary: fc.record({ dst: fc.nat(9), src: fc.constantFrom(0, 1, 2, 4), imm: fc.integer({ min: 0, max: 9 }) }).map((r) => [insn(0x18, r.dst, r.src, 0, r.imm), insn(0)]) },
  { weight: 1, arbitrary: fc.constantFrom(1, 2, 3, 5, 6, 7, 12, 28, 44, 87, 130, 131, 132, 181, 164).map((h) => [insn(0x85, 0, 0, 0, h)]) },
  { weight: 1, arbitrary: fc.constant<Insn[]>([insn(0x95)]) },
);

function run(prog: Insn[], progType: ProgType): void {
  try {
    verify(prog, { progType, maps: (fd) => MAPS.get(fd), insnLimit: 20_000 });
  } catch (e) {
    if (!(e instanceof VerifierError)) throw e;
    assert.ok(e.reason && e.kernelMessage.length > 0);
  }
}

test('random instruction sequences never crash the verifier', () => {
  fc.assert(fc.property(fc.array(slot, { minLength: 1, maxLength: 30 }), fc.constantFrom<ProgType>('xdp', 'sched_cls', 'socket_filter', 'raw'),
    (parts, pt) => run([...parts.flat(), insn(0xb7), insn(0x95)], pt)), { numRuns: 3000 });
});

test('repeatedly mutated generated programs never crash the verifier', () => {
  const r = rng(31337);
  for (const s of fc.sample(progSpecArb({ maxItems: 15 }), { numRuns: 300, seed: 5 })) {
    let prog = emitProgram(s);
    for (let k = 0; k < 4; k++) {
      prog = mutate(prog, r);
      run(prog, s.skb ? 'sched_cls' : 'xdp');
    }
  }
});
