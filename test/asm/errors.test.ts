/** Assembler errors: BpfError E_ASM with the message, line and column of the culprit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/index.js';
import { isBpfError } from '../../src/core/errors.js';

function fails(src: string, message: RegExp, line: number, column: number): void {
  try {
    assemble(src);
  } catch (e) {
    assert.ok(isBpfError(e), `not a BpfError: ${e}`);
    assert.equal(e.code, 'E_ASM');
    assert.match(e.detail, message);
    assert.deepEqual([e.context.line, e.context.column], [line, column], `${src}: ${e.message}`);
    return;
  }
  assert.fail(`assembled without error: ${src}`);
}

test('unknown mnemonics and operators', () => {
  fails('exit\n  frob r1, 2', /unknown instruction 'frob'/, 2, 3);
  fails('r1 @= 2', /unexpected character '@'/, 1, 4);
  fails('r1 ~ 2', /unexpected character '~'/, 1, 4);
  fails('r1 == 2', /unknown operator '=='/, 1, 4);
  fails('if r1 += r2 goto +1', /unknown comparison '\+='/, 1, 7);
  fails('lock frob [r1], r2', /unknown atomic operation 'frob'/, 1, 6);
  fails('r1 = atomic_fetch_nand((u64 *)(r1 + 0), r1)', /unknown atomic operation/, 1, 6);
});

test('bad registers', () => {
  fails('r11 = 1', /invalid register 'r11'/, 1, 1);
  fails('mov %r12, 1', /invalid register '%r12'/, 1, 5);
  fails('add r1, x9', /expected immediate, found 'x9'/, 1, 9);
  fails('w1 += r2', /register width mismatch/, 1, 7);
  fails('r1 = -r2', /same register/, 1, 7);
});

test('writes to r10 are rejected at the destination register', () => {
  fails('r10 = 1', /r10/, 1, 1);
  fails('nop:\n  mov r10, r1', /r10/, 2, 7);
  fails('r10 = *(u64 *)(r1 + 0)', /r10/, 1, 1);
});

test('immediates and offsets out of range', () => {
  fails('r1 = 4294967296', /out of range/, 1, 6);
  fails('r1 += -2147483649', /out of range/, 1, 7);
  fails('r0 = *(u32 *)(r1 + 32768)', /offset 32768 out of range/, 1, 18);
  fails('stw [r1-32769], 1', /out of range/, 1, 8);
  fails('goto +32768', /jump offset .* out of range/, 1, 6);
  fails('ja32 +2147483648', /out of range/, 1, 6);
  fails('r1 = 18446744073709551616 ll', /out of range/, 1, 6);
  fails('r1 = be24 r1', /unexpected 'be24'/, 1, 6);
});

test('labels: undefined, duplicate, out of range', () => {
  fails('goto nowhere\nexit', /undefined label 'nowhere'/, 1, 6);
  fails('a: exit\n  a: exit', /duplicate label 'a'/, 2, 3);
  const far = ['goto far', ...Array(40000).fill('exit'), 'far: exit'].join('\n');
  fails(far, /jump to 'far' out of range/, 1, 6);
  assert.equal(assemble(far.replace('goto far', 'gotol far'))[0].imm, 40000, 'gotol reaches it');
});

test('malformed operands and trailing junk', () => {
  fails('ldxw r0, r1', /expected '\['/, 1, 10);
  fails('r0 = *(u24 *)(r1 + 0)', /unexpected type 'u24'/, 1, 8);
  fails('r0 = *(u32 *)(r1 + 0) extra', /unexpected 'extra'/, 1, 23);
  fails('exit now', /unexpected 'now'/, 1, 6);
  fails('jeq r1, 1', /expected ','/, 1, 10);
  fails('.byte 1, 2, 3', /multiple of 8/, 1, 6);
  fails('.byte 1, 2, 300, 0, 0, 0, 0, 0', /invalid byte '300'/, 1, 13);
  fails('   0:\t<unknown>', /needs the instruction bytes/, 1, 7);
  fails('   0:\tb7 00 00 00 01 00 00 00\tr0 = *(u8 *)(r1 + 0)', /does not match its bytes/, 1, 31);
  fails('r0 = cmpxchg_64(r1 + 0, r1, r2)', /expected r0/, 1, 25);
});

test('invalid instructions the syntax can spell are rejected', () => {
  fails('w1 = (s32)w2', /sign-extension width 32/, 1, 1);
  fails('r0 = *(u64 *)skb[1]', /packet loads/, 1, 14);
  fails('lock *(u16 *)(r1 + 0) += r2', /32 or 64 bits/, 1, 6);
});
