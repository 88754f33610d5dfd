/**
 * Each syntax form against the kernel encoding of RFC 9669 (code, dst, src, off, imm
 * written out by hand), in both syntaxes, and the disassembler's text for it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, assembleDetailed, disassemble } from '../../src/core/asm/index.js';
import { Program } from '../../src/core/isa/instruction.js';

type Fields = [code: number, dst: number, src: number, off: number, imm: number];

/** [kernel syntax (as printed), ubpf syntax, fields]; '' = no ubpf spelling. */
const FORMS: [string, string, Fields][] = [
  ['r0 = 1', 'mov %r0, 1', [0xb7, 0, 0, 0, 1]],
  ['w0 = -1', 'mov32 %r0, -1', [0xb4, 0, 0, 0, -1]],
  ['w1 += w2', 'add32 r1, r2', [0x0c, 1, 2, 0, 0]],
  ['r1 -= 7', 'sub r1, 7', [0x17, 1, 0, 0, 7]],
  ['r1 *= r9', 'mul r1, r9', [0x2f, 1, 9, 0, 0]],
  ['r1 /= 3', 'div r1, 3', [0x37, 1, 0, 0, 3]],
  ['w1 s/= w2', 'sdiv32 r1, r2', [0x3c, 1, 2, 1, 0]],
  ['r1 s/= r2', 'sdiv r1, r2', [0x3f, 1, 2, 1, 0]],
  ['r1 %= 10', 'mod r1, 10', [0x97, 1, 0, 0, 10]],
  ['r1 s%= 3', 'smod r1, 3', [0x97, 1, 0, 1, 3]],
  ['w3 |= 305419896', 'or32 r3, 0x12345678', [0x44, 3, 0, 0, 0x12345678]],
  ['r3 &= r4', 'and r3, r4', [0x5f, 3, 4, 0, 0]],
  ['r1 <<= 3', 'lsh r1, 3', [0x67, 1, 0, 0, 3]],
  ['w1 >>= w2', 'rsh32 r1, r2', [0x7c, 1, 2, 0, 0]],
  ['r1 s>>= 3', 'arsh r1, 3', [0xc7, 1, 0, 0, 3]],
  ['r1 ^= -2147483648', 'xor r1, 0x80000000', [0xa7, 1, 0, 0, -0x80000000]],
  ['r1 = -r1', 'neg r1', [0x87, 1, 0, 0, 0]],
  ['w1 = -w1', 'neg32 r1', [0x84, 1, 0, 0, 0]],
  ['r1 = r2', 'mov r1, r2', [0xbf, 1, 2, 0, 0]],
  ['r1 = (s8)r2', 'movsx864 r1, r2', [0xbf, 1, 2, 8, 0]],
  ['r1 = (s16)r2', 'movsx1664 r1, r2', [0xbf, 1, 2, 16, 0]],
  ['r1 = (s32)r2', 'movsx3264 r1, r2', [0xbf, 1, 2, 32, 0]],
  ['w1 = (s8)w2', 'movsx832 r1, r2', [0xbc, 1, 2, 8, 0]],
  ['w1 = (s16)w2', 'movsx1632 r1, r2', [0xbc, 1, 2, 16, 0]],
  ['r1 = be16 r1', 'be16 r1', [0xdc, 1, 0, 0, 16]],
  ['r1 = le32 r1', 'le32 r1', [0xd4, 1, 0, 0, 32]],
  ['r1 = bswap64 r1', 'bswap64 r1', [0xd7, 1, 0, 0, 64]],
  ['r1 = *(u8 *)(r2 + 3)', 'ldxb r1, [r2+3]', [0x71, 1, 2, 3, 0]],
  ['r1 = *(u16 *)(r2 - 2)', 'ldxh r1, [r2-2]', [0x69, 1, 2, -2, 0]],
  ['r0 = *(u32 *)(r1 + 4)', 'ldxw %r0, [%r1+4]', [0x61, 0, 1, 4, 0]],
  ['r0 = *(u64 *)(r1 + 8)', 'ldxdw r0, [r1+8]', [0x79, 0, 1, 8, 0]],
  ['r0 = *(s8 *)(r1 + 0)', 'ldxsb r0, [r1]', [0x91, 0, 1, 0, 0]],
  ['r0 = *(s16 *)(r1 + 2)', 'ldxsh r0, [r1+2]', [0x89, 0, 1, 2, 0]],
  ['r0 = *(s32 *)(r1 + 4)', 'ldxsw r0, [r1+4]', [0x81, 0, 1, 4, 0]],
  ['*(u8 *)(r1 + 4) = 7', 'stb [r1+4], 7', [0x72, 1, 0, 4, 7]],
  ['*(u16 *)(r1 + 4) = -1', 'sth [r1+4], -1', [0x6a, 1, 0, 4, -1]],
  ['*(u32 *)(r10 - 8) = 1', 'stw [r10-8], 1', [0x62, 10, 0, -8, 1]],
  ['*(u64 *)(r10 - 16) = 2', 'stdw [r10-16], 2', [0x7a, 10, 0, -16, 2]],
  ['*(u32 *)(r10 - 8) = r1', 'stxw [r10-8], r1', [0x63, 10, 1, -8, 0]],
  ['*(u64 *)(r10 - 8) = r1', 'stxdw [r10-8], r1', [0x7b, 10, 1, -8, 0]],
  ['*(u8 *)(r1 + 0) = r2', 'stxb [r1], r2', [0x73, 1, 2, 0, 0]],
  ['*(u16 *)(r1 + 32767) = r2', 'stxh [r1+32767], r2', [0x6b, 1, 2, 32767, 0]],
  ['lock *(u64 *)(r1 + 0) += r2', 'lock add [r1], r2', [0xdb, 1, 2, 0, 0x00]],
  ['lock *(u32 *)(r1 + 4) += r2', 'lock add32 [r1+4], r2', [0xc3, 1, 2, 4, 0x00]],
  ['lock *(u64 *)(r1 + 0) |= r2', 'lock or [r1], r2', [0xdb, 1, 2, 0, 0x40]],
  ['lock *(u32 *)(r1 + 0) &= w2', 'lock and32 [r1], r2', [0xc3, 1, 2, 0, 0x50]],
  ['lock *(u64 *)(r1 + 0) ^= r2', 'lock xor [r1], r2', [0xdb, 1, 2, 0, 0xa0]],
  ['r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)', 'lock fetch add [r1], r2', [0xdb, 1, 2, 0, 0x01]],
  ['w2 = atomic_fetch_or((u32 *)(r1 + 8), w2)', 'lock fetch or32 [r1+8], r2', [0xc3, 1, 2, 8, 0x41]],
  ['r2 = atomic_fetch_and((u64 *)(r1 - 8), r2)', 'lock fetch and [r1-8], r2', [0xdb, 1, 2, -8, 0x51]],
  ['r2 = atomic_fetch_xor((u64 *)(r1 + 0), r2)', 'lock fetch xor [r1], r2', [0xdb, 1, 2, 0, 0xa1]],
  ['r2 = xchg_64(r1 + 0, r2)', 'lock xchg [r1], r2', [0xdb, 1, 2, 0, 0xe1]],
  ['w2 = xchg32_32(r1 + 0, w2)', 'lock xchg32 [r1], r2', [0xc3, 1, 2, 0, 0xe1]],
  ['r0 = cmpxchg_64(r1 + 0, r0, r2)', 'lock cmpxchg [r1], r2', [0xdb, 1, 2, 0, 0xf1]],
  ['w0 = cmpxchg32_32(r1 + 0, w0, w2)', 'lock cmpxchg32 [r1], r2', [0xc3, 1, 2, 0, 0xf1]],
  ['r0 = *(u8 *)skb[12]', 'ldabsb 12', [0x30, 0, 0, 0, 12]],
  ['r0 = *(u16 *)skb[12]', 'ldabsh 12', [0x28, 0, 0, 0, 12]],
  ['r0 = *(u32 *)skb[-1]', 'ldabsw -1', [0x20, 0, 0, 0, -1]],
  ['r0 = *(u16 *)skb[r1 + 4]', 'ldindh r1, 4', [0x48, 0, 1, 0, 4]],
  ['r0 = *(u8 *)skb[r1]', 'ldindb r1, 0', [0x50, 0, 1, 0, 0]],
  ['r0 = *(u32 *)skb[r7 - 2]', 'ldindw r7, -2', [0x40, 0, 7, 0, -2]],
  ['if r1 == 5 goto +3', 'jeq r1, 5, +3', [0x15, 1, 0, 3, 5]],
  ['if w1 == 5 goto -2', 'jeq32 r1, 5, -2', [0x16, 1, 0, -2, 5]],
  ['if r1 > r2 goto +1', 'jgt r1, r2, +1', [0x2d, 1, 2, 1, 0]],
  ['if r1 >= 1 goto +1', 'jge r1, 1, +1', [0x35, 1, 0, 1, 1]],
  ['if r1 < r2 goto +1', 'jlt r1, r2, +1', [0xad, 1, 2, 1, 0]],
  ['if w1 <= 1 goto +1', 'jle32 r1, 1, +1', [0xb6, 1, 0, 1, 1]],
  ['if r1 & 8 goto +1', 'jset r1, 8, +1', [0x45, 1, 0, 1, 8]],
  ['if w1 & w2 goto +1', 'jset32 r1, r2, +1', [0x4e, 1, 2, 1, 0]],
  ['if r1 != r2 goto +1', 'jne r1, r2, +1', [0x5d, 1, 2, 1, 0]],
  ['if r1 s> -1 goto +3', 'jsgt r1, -1, +3', [0x65, 1, 0, 3, -1]],
  ['if w1 s>= w2 goto +1', 'jsge32 r1, r2, +1', [0x7e, 1, 2, 1, 0]],
  ['if r1 s< 0 goto +1', 'jslt r1, 0, +1', [0xc5, 1, 0, 1, 0]],
  ['if r1 s<= r2 goto -32768', 'jsle r1, r2, -32768', [0xdd, 1, 2, -32768, 0]],
  ['goto +3', 'ja +3', [0x05, 0, 0, 3, 0]],
  ['gotol +70000', 'ja32 +70000', [0x06, 0, 0, 0, 70000]],
  ['call 1', 'call 1', [0x85, 0, 0, 0, 1]],
  ['call pc-5', 'call local -5', [0x85, 0, 1, 0, -5]],
  ['call kfunc 12', 'call runtime 12', [0x85, 0, 2, 0, 12]],
  ['callx r2', 'callx %r2', [0x8d, 2, 0, 0, 0]],
  ['exit', 'exit', [0x95, 0, 0, 0, 0]],
];

function fields(p: Program): Fields[] {
  return p.map((i) => [i.code, i.dst, i.src, i.off, i.imm]);
}

test('each kernel-syntax form assembles to its encoding and prints back identically', () => {
  for (const [kernel, , want] of FORMS) {
    const p = assemble(kernel);
    assert.deepEqual(fields(p), [want], kernel);
    assert.deepEqual(disassemble(p), [kernel]);
  }
});

test('each ubpf-syntax form assembles to the same encoding', () => {
  for (const [kernel, ubpf, want] of FORMS) assert.deepEqual(fields(assemble(ubpf)), [want], `${ubpf} (${kernel})`);
});

test('ubpf aliases: call helper/%reg, swap16, xaddw/xadddw, add64', () => {
  assert.deepEqual(fields(assemble('call helper 5')), [[0x85, 0, 0, 0, 5]]);
  assert.deepEqual(fields(assemble('call %r3')), [[0x8d, 3, 0, 0, 0]]);
  assert.deepEqual(fields(assemble('swap16 r1')), [[0xd7, 1, 0, 0, 16]]);
  assert.deepEqual(fields(assemble('xaddw [r1+4], r2')), [[0xc3, 1, 2, 4, 0]]);
  assert.deepEqual(fields(assemble('xadddw [r1], r2')), [[0xdb, 1, 2, 0, 0]]);
  assert.deepEqual(fields(assemble('add64 r1, 1')), [[0x07, 1, 0, 0, 1]]);
});

test('lddw: 64-bit values, negative values, pseudo sources', () => {
  const p = assemble('r1 = 0x123456789 ll\nlddw r2, -1\nld_pseudo r3, 2, 0x800000007\nr4 = 18446744073709551615 ll');
  assert.deepEqual(fields(p), [
    [0x18, 1, 0, 0, 0x23456789], [0, 0, 0, 0, 1],
    [0x18, 2, 0, 0, -1], [0, 0, 0, 0, -1],
    [0x18, 3, 2, 0, 7], [0, 0, 0, 0, 8],
    [0x18, 4, 0, 0, -1], [0, 0, 0, 0, -1],
  ]);
  assert.deepEqual(disassemble(p), ['r1 = 4886718345 ll', 'r2 = -1 ll', 'ld_pseudo r3, 2, 34359738375', 'r4 = -1 ll']);
  assert.deepEqual(disassemble(p, { hex: true, llvmCompat: true }), ['r1 = 0x123456789 ll', 'r2 = -0x1 ll', 'ld_pseudo r3, 0x2, 0x7', 'r4 = -0x1 ll']);
});

test('labels, comments and mixed syntaxes in one program', () => {
  const src = [
    '# count down from 3',
    'start:  mov r0, 3      ; ubpf',
    'loop:',
    '  r0 -= 1              // kernel',
    '  if r0 s> 0 goto loop',
    '  jne r0, 0, start',
    '  call fn',
    '  ja end',
    'fn: exit',
    'end: exit',
  ].join('\n');
  const r = assembleDetailed(src);
  assert.deepEqual(fields(r.prog), [
    [0xb7, 0, 0, 0, 3], [0x17, 0, 0, 0, 1], [0x65, 0, 0, -2, 0], [0x55, 0, 0, -4, 0],
    [0x85, 0, 1, 0, 1], [0x05, 0, 0, 1, 0], [0x95, 0, 0, 0, 0], [0x95, 0, 0, 0, 0],
  ]);
  assert.deepEqual([...r.labels], [['start', 0], ['loop', 1], ['fn', 6], ['end', 7]]);
  assert.deepEqual(r.lines, [2, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(disassemble(r.prog, { labels: true }), [
    'L0:', 'r0 = 3', 'L1:', 'r0 -= 1', 'if r0 s> 0 goto L1', 'if r0 != 0 goto L0', 'call L6', 'goto L7', 'L6:', 'exit', 'L7:', 'exit',
  ]);
});

test('pasted llvm-objdump listing with headers, byte columns and target notes', () => {
  const listing = [
    '',
    'prog.o:\tfile format elf64-bpf',
    '',
    'Disassembly of section xdp:',
    '',
    '0000000000000000 <prog>:',
    '       0:\tb7 00 00 00 01 00 00 00\tr0 = 1',
    '       1:\t15 01 01 00 05 00 00 00\tif r1 == 5 goto +1 <prog+0x18>',
    '       2:\t85 10 00 00 ff ff ff ff\tcall -1',
    '\t\t0000000000000010:  R_BPF_64_32\tsub',
    '       3:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00\tr1 = 0 ll',
    '       5:\t06 00 00 00 02 00 00 00\t<unknown>',
    '       6:\tr0 = 2',
    '       7:\t95 00 00 00 00 00 00 00\texit',
  ].join('\n');
  const r = assembleDetailed(listing);
  assert.deepEqual(fields(r.prog), [
    [0xb7, 0, 0, 0, 1], [0x15, 1, 0, 1, 5], [0x85, 0, 1, 0, -1], // local call: src from the bytes
    [0x18, 1, 0, 0, 0], [0, 0, 0, 0, 0], [0x06, 0, 0, 0, 2], [0xb7, 0, 0, 0, 2], [0x95, 0, 0, 0, 0],
  ]);
  assert.equal(r.labels.get('prog'), 0);
});

test('raw .byte lines and fallback for non-canonical slots', () => {
  const p = assemble('.byte 0x07, 0x21, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00');
  assert.deepEqual(fields(p), [[0x07, 1, 2, 0, 5]]);
  assert.deepEqual(disassemble(p), ['.byte 0x07, 0x21, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00']);
  assert.deepEqual(disassemble(assemble('.byte 0xff,0,0,0,0,0,0,0')), ['.byte 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00']);
});

test('disassembly options: hex, alu32, bytes, llvmCompat', () => {
  const p = assemble('r1 = *(u32 *)(r2 - 8)\n*(u16 *)(r1 + 4) = r3\nlock *(u32 *)(r1 + 0) += r2\nif w1 == -5 goto -1\ncall pc+2\nr0 = *(u8 *)skb[r1 + 4]');
  assert.deepEqual(disassemble(p, { hex: true }), [
    'r1 = *(u32 *)(r2 - 0x8)', '*(u16 *)(r1 + 0x4) = r3', 'lock *(u32 *)(r1 + 0x0) += r2',
    'if w1 == -0x5 goto -0x1', 'call pc+0x2', 'r0 = *(u8 *)skb[r1 + 0x4]',
  ]);
  assert.deepEqual(disassemble(p, { alu32: true }).slice(0, 3), [
    'w1 = *(u32 *)(r2 - 8)', '*(u16 *)(r1 + 4) = w3', 'lock *(u32 *)(r1 + 0) += w2',
  ]);
  assert.deepEqual(disassemble(p, { llvmCompat: true }).slice(4), ['call 2', 'r0 = *(u8 *)skb[r1]']);
  assert.equal(disassemble(p, { bytes: true })[0], '       0:\t61 21 f8 ff 00 00 00 00\tr1 = *(u32 *)(r2 - 8)');
});

test('docs/asm.md examples assemble and round-trip', async () => {
  const { readFileSync } = await import('node:fs');
  const md = readFileSync('docs/asm.md', 'utf8');
  const blocks = [...md.matchAll(/```bpf-asm\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 0);
  for (const b of blocks) {
    const p = assemble(b);
    assert.deepEqual(assemble(disassemble(p).join('\n')), p);
  }
  const ts = /```ts\n([\s\S]*?)```/.exec(md)![1];
  const src = /assemble\(`([\s\S]*?)`\)/.exec(ts)![1];
  const printed = [...ts.matchAll(/^\/\/ (r.*|if.*|exit)$/gm)].map((m) => m[1]);
  assert.deepEqual(disassemble(assemble(src)), printed);
});
