/**
 * Tables shared by the disassembler and both assembler syntaxes: operator spellings of
 * the llvm-objdump (kernel, "pseudo-C") syntax and mnemonic names of the ubpf syntax,
 * keyed by the kernel's opcode fields.
 */
import * as o from '../isa/opcodes.js';

/** ALU_OPERATORS maps a BPF_OP of an ALU instruction to its compound-assignment operator. */
export const ALU_OPERATORS: ReadonlyMap<number, string> = new Map([
  [o.BPF_ADD, '+='], [o.BPF_SUB, '-='], [o.BPF_MUL, '*='], [o.BPF_DIV, '/='],
  [o.BPF_OR, '|='], [o.BPF_AND, '&='], [o.BPF_LSH, '<<='], [o.BPF_RSH, '>>='],
  [o.BPF_MOD, '%='], [o.BPF_XOR, '^='], [o.BPF_ARSH, 's>>='],
]);

/** SIGNED_ALU_OPERATORS are the spellings of DIV/MOD with off=1 (SDIV/SMOD). */
export const SIGNED_ALU_OPERATORS: ReadonlyMap<number, string> = new Map([
  [o.BPF_DIV, 's/='], [o.BPF_MOD, 's%='],
]);

/** JMP_OPERATORS maps a BPF_OP of a conditional jump to its comparison operator. */
export const JMP_OPERATORS: ReadonlyMap<number, string> = new Map([
  [o.BPF_JEQ, '=='], [o.BPF_JGT, '>'], [o.BPF_JGE, '>='], [o.BPF_JSET, '&'],
  [o.BPF_JNE, '!='], [o.BPF_JSGT, 's>'], [o.BPF_JSGE, 's>='], [o.BPF_JLT, '<'],
  [o.BPF_JLE, '<='], [o.BPF_JSLT, 's<'], [o.BPF_JSLE, 's<='],
]);

/** ALU_MNEMONICS maps ubpf ALU mnemonics (without the `32` suffix) to [op, off]. */
export const ALU_MNEMONICS: ReadonlyMap<string, [number, number]> = new Map([
  ['add', [o.BPF_ADD, 0]], ['sub', [o.BPF_SUB, 0]], ['mul', [o.BPF_MUL, 0]],
  ['div', [o.BPF_DIV, 0]], ['sdiv', [o.BPF_DIV, 1]], ['or', [o.BPF_OR, 0]],
  ['and', [o.BPF_AND, 0]], ['lsh', [o.BPF_LSH, 0]], ['rsh', [o.BPF_RSH, 0]],
  ['mod', [o.BPF_MOD, 0]], ['smod', [o.BPF_MOD, 1]], ['xor', [o.BPF_XOR, 0]],
  ['mov', [o.BPF_MOV, 0]], ['arsh', [o.BPF_ARSH, 0]],
]);

/** JMP_MNEMONICS maps ubpf conditional jump mnemonics (without `32`) to BPF_OP. */
export const JMP_MNEMONICS: ReadonlyMap<string, number> = new Map([
  ['jeq', o.BPF_JEQ], ['jgt', o.BPF_JGT], ['jge', o.BPF_JGE], ['jset', o.BPF_JSET],
  ['jne', o.BPF_JNE], ['jsgt', o.BPF_JSGT], ['jsge', o.BPF_JSGE], ['jlt', o.BPF_JLT],
  ['jle', o.BPF_JLE], ['jslt', o.BPF_JSLT], ['jsle', o.BPF_JSLE],
]);

/** ATOMIC_NAMES maps the BPF_OP of an atomic to its name in `atomic_fetch_<name>` and ubpf `lock <name>`. */
export const ATOMIC_NAMES: ReadonlyMap<number, string> = new Map([
  [o.BPF_ADD, 'add'], [o.BPF_OR, 'or'], [o.BPF_AND, 'and'], [o.BPF_XOR, 'xor'],
]);

/** SIZE_SUFFIX maps BPF_SIZE to the ubpf mnemonic suffix (ldxw, stxdw ...). */
export const SIZE_SUFFIX: ReadonlyMap<number, string> = new Map([
  [o.BPF_W, 'w'], [o.BPF_H, 'h'], [o.BPF_B, 'b'], [o.BPF_DW, 'dw'],
]);

/** SIZE_BITS maps BPF_SIZE to its width in bits (u8 ... u64). */
export const SIZE_BITS: ReadonlyMap<number, number> = new Map([
  [o.BPF_B, 8], [o.BPF_H, 16], [o.BPF_W, 32], [o.BPF_DW, 64],
]);

/** sizeFromBits is the inverse of SIZE_BITS (undefined for other widths). */
export function sizeFromBits(bits: number): number | undefined {
  for (const [size, b] of SIZE_BITS) if (b === bits) return size;
  return undefined;
}

/** sizeFromSuffix is the inverse of SIZE_SUFFIX. */
export function sizeFromSuffix(s: string): number | undefined {
  for (const [size, suffix] of SIZE_SUFFIX) if (suffix === s) return size;
  return undefined;
}
