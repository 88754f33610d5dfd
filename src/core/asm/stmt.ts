/**
 * Stmt is what parsing one source statement yields: its slots, plus a pending label
 * reference for jumps and local calls written with a label.
 */
import { Insn, insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { Cursor, Reg, Target } from './cursor.js';

/** Fixup is a label reference to patch once every label is known. */
export interface Fixup { label: string; col: number; field: 'off' | 'imm' }

/** Stmt is one assembled statement. */
export interface Stmt { insns: Insn[]; fixup?: Fixup; dstCol?: number }

/** single wraps one slot as a statement. */
export function single(i: Insn, dst?: Reg): Stmt {
  return { insns: [i], dstCol: dst?.col };
}

/** jumpStmt builds a jump whose `field` holds the target offset. */
export function jumpStmt(code: number, dst: number, src: number, imm: number, t: Target, field: 'off' | 'imm', dstReg?: Reg): Stmt {
  const value = 'value' in t ? t.value : 0;
  const i = field === 'off' ? insn(code, dst, src, value, imm) : insn(code, dst, src, 0, value);
  const fixup = 'label' in t ? { label: t.label, col: t.col, field } : undefined;
  return { insns: [i], fixup, dstCol: dstReg?.col };
}

/** parseCall parses the operands of `call`, shared by both syntaxes. */
export function parseCall(c: Cursor): Stmt {
  const call = o.BPF_JMP | o.BPF_CALL;
  if (c.isReg()) return callx(c);
  if (c.isId('local')) {
    c.next();
    return jumpStmt(call, 0, o.BPF_PSEUDO_CALL, 0, c.target(32), 'imm');
  }
  if (c.isId('helper') && !c.isOp('+', 1) && !c.isOp('-', 1) && c.peek(1)) {
    c.next();
    return c.isReg() ? callx(c) : single(insn(call, 0, 0, 0, c.imm32('helper id')));
  }
  if ((c.isId('kfunc') || c.isId('runtime')) && c.peek(1)) {
    c.next();
    return single(insn(call, 0, o.BPF_PSEUDO_KFUNC_CALL, 0, c.imm32('kfunc id')));
  }
  if (c.isNumber()) return single(insn(call, 0, 0, 0, c.imm32('helper id')));
  return jumpStmt(call, 0, o.BPF_PSEUDO_CALL, 0, c.target(32), 'imm');
}

/** callx parses the register operand of `callx`. */
export function callx(c: Cursor): Stmt {
  const r = c.reg();
  return single(insn(o.BPF_JMP | o.BPF_CALL | o.BPF_X, r.num), r);
}
