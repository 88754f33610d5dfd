/**
 * Which fields each instruction form actually uses. RFC 9669 requires the unused fields
 * to be zero; the text syntaxes cannot express other values, so the disassembler prints
 * a slot that sets them as raw bytes instead (and the round trip stays byte-exact).
 */
import { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';

/** Fields is the set of fields an instruction form reads. */
interface Fields { dst: boolean; src: boolean; off: boolean; imm: boolean }

const ALL: Fields = { dst: true, src: true, off: true, imm: true };

/** usedFields returns the fields a (structurally valid) instruction reads. */
export function usedFields(i: Insn): Fields {
  const cls = o.BPF_CLASS(i.code);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  switch (cls) {
    case o.BPF_ALU:
    case o.BPF_ALU64:
      return aluFields(i, x);
    case o.BPF_JMP:
    case o.BPF_JMP32:
      return jmpFields(i, cls === o.BPF_JMP32, x);
    case o.BPF_LD: {
      const mode = o.BPF_MODE(i.code);
      if (mode === o.BPF_ABS) return f(false, false, false, true);
      if (mode === o.BPF_IND) return f(false, true, false, true);
      return f(true, true, false, true); // lddw
    }
    case o.BPF_LDX:
      return f(true, true, true, false);
    case o.BPF_ST:
      return f(true, false, true, true);
    default:
      return o.BPF_MODE(i.code) === o.BPF_ATOMIC ? ALL : f(true, true, true, false);
  }
}

function aluFields(i: Insn, x: boolean): Fields {
  const op = o.BPF_OP(i.code);
  if (op === o.BPF_NEG) return f(true, false, false, false);
  if (op === o.BPF_END) return f(true, false, false, true);
  const off = op === o.BPF_DIV || op === o.BPF_MOD || (op === o.BPF_MOV && x);
  return f(true, x, off, !x);
}

function jmpFields(i: Insn, is32: boolean, x: boolean): Fields {
  const op = o.BPF_OP(i.code);
  if (op === o.BPF_EXIT) return f(false, false, false, false);
  if (op === o.BPF_CALL) return x ? f(true, false, false, false) : f(false, true, false, true);
  if (op === o.BPF_JA) return is32 ? f(false, false, false, true) : f(false, false, true, false);
  return f(true, x, true, !x);
}

function f(dst: boolean, src: boolean, off: boolean, imm: boolean): Fields {
  return { dst, src, off, imm };
}

/** isCanonical tells whether every field the instruction does not read is zero. */
export function isCanonical(i: Insn): boolean {
  const u = usedFields(i);
  return (u.dst || i.dst === 0) && (u.src || i.src === 0) && (u.off || i.off === 0) && (u.imm || i.imm === 0);
}
