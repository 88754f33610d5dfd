/**
 * Structural checks every engine runs before executing a program: known opcodes with
 * valid reserved fields, register numbers, no writes to r10, complete `lddw` pairs, and
 * jumps that land on an instruction (never past the end or into the middle of `lddw`).
 * This is not the verifier: it says nothing about memory safety or termination.
 */
import { BpfError } from '../errors.js';
import { Insn, Program, isLddw } from './instruction.js';
import * as o from './opcodes.js';

const ALU_OPS = new Set([
  o.BPF_ADD, o.BPF_SUB, o.BPF_MUL, o.BPF_DIV, o.BPF_OR, o.BPF_AND, o.BPF_LSH, o.BPF_RSH,
  o.BPF_NEG, o.BPF_MOD, o.BPF_XOR, o.BPF_MOV, o.BPF_ARSH, o.BPF_END,
]);
const COND_JUMPS = new Set([
  o.BPF_JEQ, o.BPF_JGT, o.BPF_JGE, o.BPF_JSET, o.BPF_JNE, o.BPF_JSGT, o.BPF_JSGE,
  o.BPF_JLT, o.BPF_JLE, o.BPF_JSLT, o.BPF_JSLE,
]);
/** ATOMIC_OPS lists the valid imm values of BPF_STX | BPF_ATOMIC. */
export const ATOMIC_OPS = new Set([
  o.BPF_ADD, o.BPF_OR, o.BPF_AND, o.BPF_XOR,
  o.BPF_ADD | o.BPF_FETCH, o.BPF_OR | o.BPF_FETCH, o.BPF_AND | o.BPF_FETCH, o.BPF_XOR | o.BPF_FETCH,
  o.BPF_XCHG, o.BPF_CMPXCHG,
]);

/** InsnProblem describes why a single slot is invalid, or null when it is valid. */
export function checkInsn(i: Insn): string | null {
  const cls = o.BPF_CLASS(i.code);
  if (i.dst > 10) return `invalid dst register r${i.dst}`;
  if (i.src > 10) return `invalid src register r${i.src}`;
  switch (cls) {
    case o.BPF_ALU:
    case o.BPF_ALU64:
      return checkAlu(i, cls === o.BPF_ALU64);
    case o.BPF_JMP:
    case o.BPF_JMP32:
      return checkJmp(i, cls === o.BPF_JMP32);
    case o.BPF_LD:
      return checkLd(i);
    case o.BPF_LDX: {
      const mode = o.BPF_MODE(i.code);
      if (mode === o.BPF_MEM) return writesR10(i.dst);
      if (mode === o.BPF_MEMSX && o.BPF_SIZE(i.code) !== o.BPF_DW) return writesR10(i.dst);
      return badOpcode(i);
    }
    case o.BPF_ST:
      return o.BPF_MODE(i.code) === o.BPF_MEM ? null : badOpcode(i);
    default: {
      // BPF_STX
      const mode = o.BPF_MODE(i.code);
      if (mode === o.BPF_MEM) return null;
      if (mode !== o.BPF_ATOMIC) return badOpcode(i);
      const size = o.BPF_SIZE(i.code);
      if (size !== o.BPF_W && size !== o.BPF_DW) return `invalid atomic size in opcode 0x${hex2(i.code)}`;
      if (!ATOMIC_OPS.has(i.imm)) return `invalid atomic operation 0x${(i.imm >>> 0).toString(16)}`;
      if (i.imm & o.BPF_FETCH && i.imm !== o.BPF_CMPXCHG && i.src === 10) return 'atomic fetch cannot write r10';
      return null;
    }
  }
}

function checkAlu(i: Insn, is64: boolean): string | null {
  const aop = o.BPF_OP(i.code);
  if (!ALU_OPS.has(aop)) return badOpcode(i);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  switch (aop) {
    case o.BPF_NEG:
      if (x) return badOpcode(i);
      break;
    case o.BPF_END:
      if (is64 && x) return badOpcode(i);
      if (i.imm !== 16 && i.imm !== 32 && i.imm !== 64) return `invalid byte swap width ${i.imm}`;
      break;
    case o.BPF_DIV:
    case o.BPF_MOD:
      if (i.off !== 0 && i.off !== 1) return `invalid offset ${i.off} for division`;
      break;
    case o.BPF_MOV:
      if (i.off !== 0) {
        if (!x) return `invalid offset ${i.off} for mov`;
        const ok = is64 ? [8, 16, 32] : [8, 16];
        if (!ok.includes(i.off)) return `invalid sign-extension width ${i.off} for movsx`;
      }
      break;
    default:
      break;
  }
  return writesR10(i.dst);
}

function checkJmp(i: Insn, is32: boolean): string | null {
  const jop = o.BPF_OP(i.code);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  if (jop === o.BPF_JA) return x ? badOpcode(i) : null;
  if (jop === o.BPF_CALL) {
    if (is32) return badOpcode(i);
    if (x) return null; // callx: target register in dst
    if (i.src > 2) return `invalid call source ${i.src}`;
    return null;
  }
  if (jop === o.BPF_EXIT) return is32 || x ? badOpcode(i) : null;
  return COND_JUMPS.has(jop) ? null : badOpcode(i);
}

function checkLd(i: Insn): string | null {
  const mode = o.BPF_MODE(i.code);
  const size = o.BPF_SIZE(i.code);
  if (mode === o.BPF_IMM && size === o.BPF_DW) {
    if (i.src > o.BPF_PSEUDO_MAP_IDX_VALUE) return `invalid lddw source ${i.src}`;
    return writesR10(i.dst);
  }
  if ((mode === o.BPF_ABS || mode === o.BPF_IND) && size !== o.BPF_DW) return null;
  return badOpcode(i);
}

function writesR10(dst: number): string | null {
  return dst === 10 ? 'cannot write to r10 (frame pointer is read-only)' : null;
}

function badOpcode(i: Insn): string {
  return `unknown opcode 0x${hex2(i.code)}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** jumpTarget returns the slot a jump at `pc` lands on, or null when the slot is not a jump. */
export function jumpTarget(i: Insn, pc: number): number | null {
  const cls = o.BPF_CLASS(i.code);
  if (cls !== o.BPF_JMP && cls !== o.BPF_JMP32) return null;
  const jop = o.BPF_OP(i.code);
  if (jop === o.BPF_EXIT) return null;
  if (jop === o.BPF_CALL) {
    return o.BPF_SRC(i.code) === o.BPF_K && i.src === o.BPF_PSEUDO_CALL ? pc + 1 + i.imm : null;
  }
  if (jop === o.BPF_JA && cls === o.BPF_JMP32) return pc + 1 + i.imm; // gotol
  return pc + 1 + i.off;
}

/**
 * validate checks a program's structure and throws the first problem as a BpfError with
 * the instruction index. It returns the set of slots that are second halves of `lddw`.
 */
export function validate(prog: Program): Set<number> {
  if (prog.length === 0) throw new BpfError('EINVAL', 'program is empty');
  const halves = new Set<number>();
  for (let pc = 0; pc < prog.length; pc++) {
    const i = prog[pc];
    const problem = checkInsn(i);
    if (problem) {
      const code = problem.startsWith('invalid dst') || problem.startsWith('invalid src') || problem.includes('r10')
        ? 'E_BAD_REGISTER' : 'E_BAD_OPCODE';
      throw new BpfError(code, problem, { insn: pc });
    }
    if (isLddw(i)) {
      const next = prog[pc + 1];
      if (!next) throw new BpfError('E_TRUNCATED', 'lddw is missing its second half', { insn: pc });
      if (next.code !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        throw new BpfError('E_BAD_LDDW', 'invalid second half of lddw', { insn: pc + 1 });
      }
      halves.add(pc + 1);
      pc++;
    }
  }
  for (let pc = 0; pc < prog.length; pc++) {
    if (halves.has(pc)) continue;
    const t = jumpTarget(prog[pc], pc);
    if (t === null) continue;
    if (t < 0 || t >= prog.length) throw new BpfError('E_BAD_JUMP', `jump out of range to ${t}`, { insn: pc });
    if (halves.has(t)) throw new BpfError('E_BAD_JUMP', `jump into the middle of lddw at ${t - 1}`, { insn: pc });
  }
  return halves;
}
