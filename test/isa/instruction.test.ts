import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decode, encode, insn, lddw, lddwValue, validate, checkInsn, fromHex, toHex,
  BPF_ALU64, BPF_MOV, BPF_K, BPF_X, BPF_JMP, BPF_JA, BPF_EXIT, BPF_JEQ, BPF_JMP32, BPF_STX, BPF_ATOMIC, BPF_DW, BPF_W,
  BPF_ADD, BPF_FETCH, BPF_CMPXCHG, BPF_B, BPF_H, BPF_LDX, BPF_MEMSX, BPF_ALU, BPF_END, BPF_TO_BE,
} from '../../src/core/isa/index.js';
import { isBpfError } from '../../src/core/errors.js';

const insnArb = fc.record({
  code: fc.integer({ min: 0, max: 255 }),
  dst: fc.integer({ min: 0, max: 15 }),
  src: fc.integer({ min: 0, max: 15 }),
  off: fc.integer({ min: -32768, max: 32767 }),
  imm: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
});

test('encode/decode round trip in both byte orders', () => {
  fc.assert(fc.property(fc.array(insnArb, { maxLength: 20 }), fc.boolean(), (prog, le) => {
    assert.deepEqual(decode(encode(prog, le), le), prog.map((i) => ({ ...i })));
  }));
});

test('little-endian layout matches the kernel: dst in the low nibble, imm little-endian', () => {
  const bytes = encode([insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 2, -2, 0x12345678)]);
  assert.equal(toHex(bytes), 'b721feff78563412');
  const be = encode([insn(BPF_ALU64 | BPF_MOV | BPF_K, 1, 2, -2, 0x12345678)], false);
  assert.equal(toHex(be), 'b712fffe12345678');
});

test('lddw splits a 64-bit immediate over two slots', () => {
  const p = lddw(3, 0x1122334455667788n);
  assert.equal(lddwValue(p, 0), 0x1122334455667788n);
  assert.equal(toHex(encode(p)), '18030000887766550000000044332211');
  assert.equal(lddwValue(lddw(0, -1n), 0), 0xffffffffffffffffn);
});

test('decode rejects a length that is not a multiple of 8', () => {
  assert.throws(() => decode(new Uint8Array(12)), (e) => isBpfError(e) && e.code === 'E_TRUNCATED');
});

test('fromHex accepts spaces, commas and 0x prefixes and rejects junk', () => {
  assert.deepEqual([...fromHex('0x01, 02 ff')], [1, 2, 255]);
  assert.throws(() => fromHex('abc'), (e) => isBpfError(e) && e.code === 'EINVAL');
  assert.throws(() => fromHex('zz'), (e) => isBpfError(e) && e.code === 'EINVAL');
});

const exit = insn(BPF_JMP | BPF_EXIT);
function code(prog: ReturnType<typeof insn>[]): string {
  try {
    validate(prog);
    return 'ok';
  } catch (e) {
    assert.ok(isBpfError(e));
    return `${e.code}@${e.context.insn}`;
  }
}

test('validate: unknown opcodes, registers, r10 writes', () => {
  assert.equal(code([insn(0xff), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_ALU64 | BPF_MOV | BPF_K, 10, 0, 0, 1), exit]), 'E_BAD_REGISTER@0');
  assert.equal(code([insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 11), exit]), 'E_BAD_REGISTER@0');
  assert.equal(code([insn(BPF_JMP | BPF_EXIT | BPF_X)]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_JMP32 | BPF_EXIT)]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_STX | BPF_ATOMIC | BPF_B, 1, 2, 0, BPF_ADD), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, 0x42), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_LDX | BPF_MEMSX | BPF_DW, 0, 1), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_ALU | BPF_END | BPF_TO_BE, 0, 0, 0, 24), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_ALU64 | BPF_END | BPF_X, 0, 0, 0, 16), exit]), 'E_BAD_OPCODE@0');
  assert.equal(code([insn(BPF_ALU | BPF_MOV | BPF_X, 0, 1, 32), exit]), 'E_BAD_OPCODE@0');
});

test('validate: valid v4 forms are accepted', () => {
  const ok = [
    insn(BPF_ALU64 | BPF_MOV | BPF_X, 0, 1, 32), insn(BPF_ALU | BPF_MOV | BPF_X, 0, 1, 16),
    insn(BPF_LDX | BPF_MEMSX | BPF_H, 0, 1, 2), insn(BPF_LDX | BPF_MEMSX | BPF_B, 0, 1, 2),
    insn(BPF_STX | BPF_ATOMIC | BPF_DW, 1, 2, 0, BPF_ADD | BPF_FETCH), insn(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 0, BPF_CMPXCHG),
    insn(BPF_ALU64 | BPF_END, 1, 0, 0, 64), insn(BPF_JMP32 | BPF_JA, 0, 0, 0, 0),
  ];
  for (const i of ok) assert.equal(checkInsn(i), null, JSON.stringify(i));
  assert.equal(code([...ok, exit]), 'ok');
});

test('validate: lddw pairs and jump targets', () => {
  assert.equal(code([lddw(0, 1n)[0]]), 'E_TRUNCATED@0');
  assert.equal(code([lddw(0, 1n)[0], insn(BPF_ALU64 | BPF_MOV, 0), exit]), 'E_BAD_LDDW@1');
  assert.equal(code([insn(BPF_JMP | BPF_JA, 0, 0, 5), exit]), 'E_BAD_JUMP@0');
  assert.equal(code([insn(BPF_JMP | BPF_JA, 0, 0, -2), exit]), 'E_BAD_JUMP@0');
  assert.equal(code([insn(BPF_JMP | BPF_JEQ, 1, 0, 1, 0), ...lddw(0, 5n), exit]), 'E_BAD_JUMP@0');
  assert.equal(code([insn(BPF_JMP | BPF_JEQ, 1, 0, 2, 0), ...lddw(0, 5n), exit]), 'ok');
  assert.equal(code([insn(BPF_JMP32 | BPF_JA, 0, 0, 0, 3), exit]), 'E_BAD_JUMP@0');
  assert.equal(code([]), 'EINVAL@undefined');
});
