/**
 * Pre-decoding for the interpreter: a validated program becomes a flat Int32Array with four
 * words per slot, so the hot loop never touches an object or re-parses a field:
 *   word 0: internal opcode (12 bits) | 2*dst << 12 | 2*src << 20
 *   word 1: imm
 *   word 2: off
 *   word 3: aux: absolute jump/call target, or the high 32 bits of an lddw immediate
 * The internal opcode is the opcode byte, with variants the byte alone does not tell apart
 * moved above 0xff (signed division, movsx widths, call kinds) so each gets its own case.
 * A sentinel slot with opcode 0 follows the program: reaching it means E_NO_EXIT. (The second
 * halves of lddw also hold 0, but execution can never reach them.)
 */
import type { Insn, Program } from '../isa/instruction.js';
import { jumpTarget } from '../isa/validate.js';
import * as o from '../isa/opcodes.js';
import type { HelperFn, HelperRegistry } from '../helpers/registry.js';

/** Internal opcodes for variants (see the file comment). */
export const IOP_SIGNED = 0x100; // | DIV/MOD opcode: sdiv/smod
export const IOP_MOVSX8 = 0x100; // | MOV X opcode
export const IOP_MOVSX16 = 0x200;
export const IOP_MOVSX32 = 0x300;
export const IOP_CALL_LOCAL = 0x185; // call with src = BPF_PSEUDO_CALL
export const IOP_CALL_KFUNC = 0x285; // call with src = BPF_PSEUDO_KFUNC_CALL

/** DecodedProgram is a program prepared for the interpreter loop. */
export interface DecodedProgram {
  /** 4 words per slot plus one sentinel slot */
  readonly code: Int32Array;
  /** helper implementations resolved at load time, by slot */
  readonly helpers: (HelperFn | undefined)[];
  /** number of slots */
  readonly length: number;
  /** index of the last instruction (where a fall-off-the-end is reported) */
  readonly lastInsn: number;
}

/** internalOpcode maps a slot to its internal opcode. */
export function internalOpcode(i: Insn): number {
  const cls = o.BPF_CLASS(i.code);
  const op = o.BPF_OP(i.code);
  if (cls === o.BPF_ALU || cls === o.BPF_ALU64) {
    if ((op === o.BPF_DIV || op === o.BPF_MOD) && i.off === 1) return i.code | IOP_SIGNED;
    if (op === o.BPF_MOV && o.BPF_SRC(i.code) === o.BPF_X) {
      if (i.off === 8) return i.code | IOP_MOVSX8;
      if (i.off === 16) return i.code | IOP_MOVSX16;
      if (i.off === 32) return i.code | IOP_MOVSX32;
    }
  }
  if (i.code === (o.BPF_JMP | o.BPF_CALL | o.BPF_K)) {
    if (i.src === o.BPF_PSEUDO_CALL) return IOP_CALL_LOCAL;
    if (i.src === o.BPF_PSEUDO_KFUNC_CALL) return IOP_CALL_KFUNC;
  }
  return i.code;
}

/** predecode builds the flat form of a validated program; `halves` are lddw second halves. */
export function predecode(prog: Program, halves: Set<number>, helpers: HelperRegistry): DecodedProgram {
  const n = prog.length;
  const code = new Int32Array((n + 1) * 4);
  const fns: (HelperFn | undefined)[] = new Array(n).fill(undefined);
  for (let pc = 0; pc < n; pc++) {
    if (halves.has(pc)) continue;
    const i = prog[pc];
    const iop = internalOpcode(i);
    const b = pc * 4;
    code[b] = iop | (i.dst * 2) << 12 | (i.src * 2) << 20;
    code[b + 1] = i.imm;
    code[b + 2] = i.off;
    if (i.code === (o.BPF_LD | o.BPF_IMM | o.BPF_DW)) code[b + 3] = prog[pc + 1].imm;
    else code[b + 3] = jumpTarget(i, pc) ?? 0;
    if (iop === (o.BPF_JMP | o.BPF_CALL)) fns[pc] = helpers.get(i.imm)?.fn;
  }
  const lastInsn = halves.has(n - 1) ? n - 2 : n - 1;
  return { code, helpers: fns, length: n, lastInsn };
}
