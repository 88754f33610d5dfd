/**
 * The classic checker, with the kernel's rules (bpf_check_classic): 1..4096 instructions,
 * only known opcodes, forward jumps that stay inside the program, scratch slots 0..15,
 * no division or modulo by a constant zero, no constant shift of 32 or more, scratch
 * memory written before it is read on every path, and a RET as the last instruction.
 */
import { BpfError } from '../errors.js';
import * as c from './opcodes.js';
import type { CbpfProgram, SockFilter } from './opcodes.js';

const ALU_OPS = [c.BPF_ADD, c.BPF_SUB, c.BPF_MUL, c.BPF_DIV, c.BPF_MOD, c.BPF_AND, c.BPF_OR, c.BPF_XOR, c.BPF_LSH, c.BPF_RSH];
const JMP_OPS = [c.BPF_JEQ, c.BPF_JGT, c.BPF_JGE, c.BPF_JSET];

/** VALID_CODES is the set of opcodes the kernel accepts in a classic program. */
export const VALID_CODES: ReadonlySet<number> = new Set<number>([
  ...ALU_OPS.flatMap((o) => [c.BPF_ALU | o | c.BPF_K, c.BPF_ALU | o | c.BPF_X]),
  c.BPF_ALU | c.BPF_NEG,
  ...[c.BPF_W, c.BPF_H, c.BPF_B].flatMap((s) => [c.BPF_LD | s | c.BPF_ABS, c.BPF_LD | s | c.BPF_IND]),
  c.BPF_LD | c.BPF_W | c.BPF_LEN, c.BPF_LD | c.BPF_IMM, c.BPF_LD | c.BPF_MEM,
  c.BPF_LDX | c.BPF_W | c.BPF_LEN, c.BPF_LDX | c.BPF_B | c.BPF_MSH, c.BPF_LDX | c.BPF_IMM, c.BPF_LDX | c.BPF_MEM,
  c.BPF_ST, c.BPF_STX, c.BPF_MISC | c.BPF_TAX, c.BPF_MISC | c.BPF_TXA,
  c.BPF_RET | c.BPF_K, c.BPF_RET | c.BPF_A,
  c.BPF_JMP | c.BPF_JA, ...JMP_OPS.flatMap((o) => [c.BPF_JMP | o | c.BPF_K, c.BPF_JMP | o | c.BPF_X]),
]);

/** isCondJump tells whether an instruction is a conditional jump (uses jt/jf). */
export function isCondJump(code: number): boolean {
  return c.BPF_CLASS(code) === c.BPF_JMP && c.BPF_OP(code) !== c.BPF_JA;
}

/** usesScratch returns the scratch slot an instruction reads or writes, and how, or null. */
export function scratchUse(i: SockFilter): { slot: number; write: boolean } | null {
  if (i.code === (c.BPF_LD | c.BPF_MEM) || i.code === (c.BPF_LDX | c.BPF_MEM)) return { slot: i.k, write: false };
  if (i.code === c.BPF_ST || i.code === c.BPF_STX) return { slot: i.k, write: true };
  return null;
}

/** checkCbpf checks a classic program with the kernel's rules; it throws the first problem as a BpfError. */
export function checkCbpf(prog: CbpfProgram): void {
  if (prog.length === 0) throw new BpfError('EINVAL', 'classic program is empty');
  if (prog.length > c.BPF_MAXINSNS) {
    throw new BpfError('E2BIG', `classic program has ${prog.length} instructions (limit ${c.BPF_MAXINSNS})`);
  }
  prog.forEach((i, pc) => checkOne(prog, i, pc));
  const last = prog[prog.length - 1];
  if (c.BPF_CLASS(last.code) !== c.BPF_RET) {
    throw new BpfError('E_NO_EXIT', 'classic program does not end with ret', { insn: prog.length - 1 });
  }
  checkScratchInit(prog);
}

function checkOne(prog: CbpfProgram, i: SockFilter, pc: number): void {
  const fail = (code: 'E_BAD_OPCODE' | 'E_BAD_JUMP' | 'EINVAL', msg: string): never => {
    throw new BpfError(code, msg, { insn: pc });
  };
  if (!VALID_CODES.has(i.code)) fail('E_BAD_OPCODE', `unknown classic opcode 0x${i.code.toString(16)}`);
  const k = i.k >>> 0;
  const cls = c.BPF_CLASS(i.code);
  if (cls === c.BPF_ALU && c.BPF_SRC(i.code) === c.BPF_K) {
    const op = c.BPF_OP(i.code);
    if ((op === c.BPF_DIV || op === c.BPF_MOD) && k === 0) fail('EINVAL', 'division by constant zero');
    if ((op === c.BPF_LSH || op === c.BPF_RSH) && k >= 32) fail('EINVAL', `shift by constant ${k} (must be below 32)`);
  }
  const use = scratchUse(i);
  if (use && k >= c.BPF_MEMWORDS) fail('EINVAL', `scratch slot M[${k}] out of range (0..${c.BPF_MEMWORDS - 1})`);
  if (cls !== c.BPF_JMP) return;
  const remaining = prog.length - pc - 1;
  if (c.BPF_OP(i.code) === c.BPF_JA) {
    if (k >= remaining) fail('E_BAD_JUMP', `ja ${k} jumps past the end of the program`);
    return;
  }
  if (i.jt >= remaining || i.jf >= remaining) {
    fail('E_BAD_JUMP', `conditional jump (jt ${i.jt}, jf ${i.jf}) goes past the end of the program`);
  }
}

/**
 * checkScratchInit rejects reads of scratch slots that some path has not written, as the
 * kernel's check_load_and_stores does. Jumps only go forward, so one pass suffices.
 */
function checkScratchInit(prog: CbpfProgram): void {
  const ALL = (1 << c.BPF_MEMWORDS) - 1;
  const masks = new Array<number>(prog.length).fill(ALL);
  let valid = 0;
  prog.forEach((i, pc) => {
    valid &= masks[pc];
    const use = scratchUse(i);
    if (use) {
      if (use.write) valid |= 1 << use.slot;
      else if (!(valid & (1 << use.slot))) {
        throw new BpfError('EINVAL', `scratch slot M[${use.slot}] may be read before it is written`, { insn: pc });
      }
      return;
    }
    // unlike jumps, ret leaves the set as it is (the kernel does the same, so code after a ret
    // that no jump reaches may not read slots the straight-line path did not write)
    if (c.BPF_CLASS(i.code) === c.BPF_JMP) {
      if (c.BPF_OP(i.code) === c.BPF_JA) masks[pc + 1 + i.k] &= valid;
      else {
        masks[pc + 1 + i.jt] &= valid;
        masks[pc + 1 + i.jf] &= valid;
      }
      valid = ALL;
    }
  });
}
