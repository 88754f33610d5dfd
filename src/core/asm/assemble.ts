/**
 * The assembler: text in either syntax (llvm-objdump/kernel or ubpf mnemonics), mixed
 * freely line by line, to instruction slots. Pasted llvm-objdump listings work: slot
 * numbers, byte columns, symbol headers and `<sym+off>` notes are understood (when a
 * byte column is present it is authoritative, after the text is checked against it).
 */
import { Insn, Program, decode } from '../isa/instruction.js';
import { checkInsn } from '../isa/validate.js';
import { Cursor } from './cursor.js';
import { startsKernelSyntax, parseKernel } from './kernel-syntax.js';
import { asmError, prepareLine, tokenize } from './lexer.js';
import { Fixup, Stmt } from './stmt.js';
import { parseUbpf } from './ubpf-syntax.js';

/** AsmResult is a program with the labels it defined and the source line of each slot. */
export interface AsmResult {
  prog: Program;
  /** label name -> slot index */
  labels: Map<string, number>;
  /** 1-based source line of each slot */
  lines: number[];
}

/** AsmOptions tunes the assembler. */
export interface AsmOptions {
  /**
   * Byte order of pasted llvm-objdump byte columns (default little-endian; a pasted
   * `file format elf64-bpfeb` header line switches to big-endian by itself).
   */
  littleEndian?: boolean;
}

interface Pending { fixup: Fixup; pc: number; line: number }

/** assemble turns assembly text into a program; errors are BpfError('E_ASM') with line and column. */
export function assemble(text: string, opts: AsmOptions = {}): Program {
  return assembleDetailed(text, opts).prog;
}

/** assembleDetailed is `assemble` that also returns labels and the slot -> line map. */
export function assembleDetailed(text: string, opts: AsmOptions = {}): AsmResult {
  let little = opts.littleEndian ?? true;
  const prog: Program = [];
  const labels = new Map<string, number>();
  const lines: number[] = [];
  const pending: Pending[] = [];
  text.split(/\r?\n/).forEach((src, idx) => {
    const line = idx + 1;
    if (/file format elf64-bpf(eb|el)\b/.test(src)) little = src.includes('bpfel');
    const prep = prepareLine(src);
    for (const l of prep.labels) {
      if (labels.has(l.name)) throw asmError(`duplicate label '${l.name}'`, line, l.col);
      labels.set(l.name, prog.length);
    }
    if (!prep.text) return;
    const stmt = statement(prep.text, prep.col, line, prep.bytes, little);
    if (stmt.fixup) pending.push({ fixup: stmt.fixup, pc: prog.length, line });
    for (const i of stmt.insns) {
      prog.push(i);
      lines.push(line);
    }
  });
  for (const p of pending) resolve(prog, labels, p);
  return { prog, labels, lines };
}

function statement(text: string, col: number, line: number, bytes: number[] | undefined, little: boolean): Stmt {
  if (text === '<unknown>') {
    if (!bytes) throw asmError("'<unknown>' needs the instruction bytes column", line, col);
    return { insns: decode(Uint8Array.from(bytes), little) };
  }
  if (/^\.byte\b/i.test(text)) return rawBytes(text.slice(5), col + 5, line);
  const c = new Cursor(tokenize(text, col, line), line, col + text.length);
  const stmt = startsKernelSyntax(c) ? parseKernel(c) : parseUbpf(c);
  stmt.insns.forEach((i, k) => k === 0 && check(i, stmt, col, line));
  return bytes ? fromBytes(stmt, bytes, col, line, little) : stmt;
}

function check(i: Insn, stmt: Stmt, col: number, line: number): void {
  const problem = checkInsn(i);
  if (problem) throw asmError(problem, line, problem.includes('r10') ? stmt.dstCol ?? col : col);
}

/** fromBytes prefers an objdump byte column over the text, which may have lost details. */
function fromBytes(stmt: Stmt, bytes: number[], col: number, line: number, little: boolean): Stmt {
  if (bytes.length !== stmt.insns.length * 8 || bytes[0] !== stmt.insns[0].code) {
    throw asmError('instruction text does not match its bytes column', line, col);
  }
  return { insns: decode(Uint8Array.from(bytes), little) };
}

function rawBytes(list: string, col: number, line: number): Stmt {
  const items = list.split(',');
  const bytes = items.map((s, k) => {
    const v = /^\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(s) ? Number(s) : NaN;
    const at = col + items.slice(0, k).join(',').length + (k ? 1 : 0) + (s.length - s.trimStart().length);
    if (!(v >= 0 && v <= 255)) throw asmError(`invalid byte '${s.trim()}'`, line, at);
    return v;
  });
  if (bytes.length % 8 !== 0) throw asmError(`.byte needs a multiple of 8 bytes, got ${bytes.length}`, line, col);
  return { insns: decode(Uint8Array.from(bytes)) };
}

function resolve(prog: Program, labels: Map<string, number>, p: Pending): void {
  const target = labels.get(p.fixup.label);
  if (target === undefined) throw asmError(`undefined label '${p.fixup.label}'`, p.line, p.fixup.col);
  const delta = target - (p.pc + 1);
  const i = prog[p.pc];
  if (p.fixup.field === 'off') {
    if (delta < -32768 || delta > 32767) throw asmError(`jump to '${p.fixup.label}' out of range (offset ${delta})`, p.line, p.fixup.col);
    i.off = delta;
  } else {
    i.imm = delta;
  }
}
