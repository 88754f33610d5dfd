import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble, disassemble, DisasmOptions } from '../../src/core/asm/index.js';
import { Program, insn } from '../../src/core/isa/instruction.js';
import { checkInsn } from '../../src/core/isa/validate.js';
import { validInsns, opcodesOf } from './valid-insns.js';

const OPTIONS: DisasmOptions[] = [{}, { hex: true }, { alu32: true }, { labels: true }, { bytes: true }, { hex: true, labels: true, bytes: true }];

function roundTrip(prog: Program, opts: DisasmOptions): Program {
  return assemble(disassemble(prog, opts).join('\n'));
}

test('every valid opcode and field combination round-trips byte for byte', () => {
  const groups = validInsns();
  const prog = groups.flat();
  for (const opts of OPTIONS) assert.deepEqual(roundTrip(prog, opts), prog, JSON.stringify(opts));
  const text = disassemble(prog);
  assert.equal(text.filter((l) => l.startsWith('.byte')).length, 0, 'canonical instructions never fall back to raw bytes');
  assert.equal(text.length, groups.length);
});

test('the exhaustive loop covers every opcode byte checkInsn accepts', () => {
  const covered = opcodesOf(validInsns());
  for (let code = 0; code < 256; code++) {
    // any code checkInsn accepts with some register/imm/off choice must be in the grid
    const accepted = [0, 1, 16, 32, 0x41, 0xe1].some((imm) => [0, 1, 8].some((off) =>
      [0, 1, 2].some((src) => checkInsn(insn(code, 1, src, off, imm)) === null)));
    if (accepted) assert.ok(covered.has(code), `opcode 0x${code.toString(16)} not covered`);
  }
  // By hand from RFC 9669: ALU 27, ALU64 26, JMP 26, JMP32 23, LD 7, LDX 7, ST 4, STX 6.
  assert.equal(covered.size, 126);
});

test('property: valid instructions round-trip under every option set', () => {
  const pool = validInsns();
  fc.assert(fc.property(fc.array(fc.constantFrom(...pool), { minLength: 1, maxLength: 40 }), fc.constantFrom(...OPTIONS), (groups, opts) => {
    const prog = groups.flat();
    assert.deepEqual(roundTrip(prog, opts), prog);
  }), { numRuns: 300 });
});

test('property: arbitrary slots, even invalid ones, round-trip (raw .byte fallback)', () => {
  const slot = fc.record({
    code: fc.integer({ min: 0, max: 255 }), dst: fc.integer({ min: 0, max: 15 }), src: fc.integer({ min: 0, max: 15 }),
    off: fc.integer({ min: -32768, max: 32767 }), imm: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  });
  fc.assert(fc.property(fc.array(slot, { minLength: 1, maxLength: 30 }), (slots) => {
    const prog = slots.map((s) => insn(s.code, s.dst, s.src, s.off, s.imm));
    assert.deepEqual(roundTrip(prog, {}), prog);
    assert.deepEqual(roundTrip(prog, { hex: true, labels: true }), prog);
  }), { numRuns: 300 });
});
