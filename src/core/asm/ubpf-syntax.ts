/**
 * The ubpf / bpf_conformance mnemonic syntax: `mov32 %r0, 1`, `ldxw r0, [r1+4]`,
 * `jsgt32 %r1, -1, +3`, `lock fetch add [r1+8], r2`, `call local fn` ... Registers
 * may be written with or without `%`; a `32` suffix selects the 32-bit class.
 */
import { insn, lddw } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { Cursor, Reg } from './cursor.js';
import { Stmt, callx, jumpStmt, parseCall, single } from './stmt.js';
import { ALU_MNEMONICS, ATOMIC_NAMES, JMP_MNEMONICS, sizeFromSuffix } from './syntax.js';

/** Handler parses a statement's operands, or returns undefined (consuming nothing) when the rule does not apply. */
type Handler = (c: Cursor, m: RegExpExecArray) => Stmt | undefined;

const MOVSX: Record<string, [number, number]> = {
  '864': [o.BPF_ALU64, 8], '1664': [o.BPF_ALU64, 16], '3264': [o.BPF_ALU64, 32],
  '832': [o.BPF_ALU, 8], '1632': [o.BPF_ALU, 16],
};

/** RULES maps mnemonic patterns to handlers; the first match wins. */
const RULES: [RegExp, Handler][] = [
  [/^(neg)(32|64)?$/, (c, m) => { const d = c.reg(); return single(insn(aluClass(m[2]) | o.BPF_NEG, d.num), d); }],
  [/^movsx(864|1664|3264|832|1632)$/, movsx],
  [/^([a-z]+?)(32|64)?$/, aluOrJump],
  [/^(le|be|bswap|swap)(16|32|64)$/, byteSwap],
  [/^ldx(s?)(b|h|w|dw)$/, loadX],
  [/^st(x?)(b|h|w|dw)$/, storeOp],
  [/^lddw$/, (c) => { const d = c.reg(); c.expectOp(','); return { insns: lddw(d.num, c.bigint(-(2n ** 63n), 2n ** 64n - 1n, 'immediate')), dstCol: d.col }; }],
  [/^ld(abs|ind)(b|h|w)$/, packetLoad],
  [/^ja(32)?$/, (c, m) => m[1] ? jumpStmt(o.BPF_JMP32 | o.BPF_JA, 0, 0, 0, c.target(32), 'imm') : jumpStmt(o.BPF_JA | o.BPF_JMP, 0, 0, 0, c.target(16), 'off')],
  [/^call$/, (c) => parseCall(c)],
  [/^callx$/, (c) => callx(c)],
  [/^exit$/, () => single(insn(o.BPF_JMP | o.BPF_EXIT))],
  [/^lock$/, lock],
  [/^xadd(w|dw)$/, (c, m) => atomicOp(c, sizeFromSuffix(m[1])!, o.BPF_ADD)],
];

/** parseUbpf parses one mnemonic-syntax statement. */
export function parseUbpf(c: Cursor): Stmt {
  const t = c.next('instruction');
  const name = t.text.toLowerCase();
  for (const [re, handler] of RULES) {
    const m = re.exec(name);
    if (!m) continue;
    const s = handler(c, m);
    if (s) {
      c.expectEnd();
      return s;
    }
  }
  throw c.error(`unknown instruction '${t.text}'`, t.col);
}

function aluClass(suffix: string | undefined): number {
  return suffix === '32' ? o.BPF_ALU : o.BPF_ALU64;
}

function aluOrJump(c: Cursor, m: RegExpExecArray): Stmt | undefined {
  const alu = ALU_MNEMONICS.get(m[1]);
  if (alu) {
    const d = c.reg();
    c.expectOp(',');
    const [op, off] = alu;
    if (c.isReg()) return single(insn(aluClass(m[2]) | op | o.BPF_X, d.num, c.reg().num, off), d);
    return single(insn(aluClass(m[2]) | op | o.BPF_K, d.num, 0, off, c.imm32()), d);
  }
  const jop = JMP_MNEMONICS.get(m[1]);
  if (jop === undefined || m[2] === '64') return undefined; // not ours: try the next rule
  const d = c.reg();
  c.expectOp(',');
  const src = c.isReg() ? c.reg() : undefined;
  const imm = src ? 0 : c.imm32();
  c.expectOp(',');
  const code = (m[2] ? o.BPF_JMP32 : o.BPF_JMP) | jop | (src ? o.BPF_X : o.BPF_K);
  return jumpStmt(code, d.num, src?.num ?? 0, imm, c.target(16), 'off', d);
}

function movsx(c: Cursor, m: RegExpExecArray): Stmt {
  const [cls, bits] = MOVSX[m[1]];
  const d = c.reg();
  c.expectOp(',');
  return single(insn(cls | o.BPF_MOV | o.BPF_X, d.num, c.reg().num, bits), d);
}

function byteSwap(c: Cursor, m: RegExpExecArray): Stmt {
  const d = c.reg();
  const code = m[1] === 'le' ? o.BPF_ALU | o.BPF_END | o.BPF_TO_LE
    : m[1] === 'be' ? o.BPF_ALU | o.BPF_END | o.BPF_TO_BE : o.BPF_ALU64 | o.BPF_END;
  return single(insn(code, d.num, 0, 0, Number(m[2])), d);
}

/** bracketMemory parses `[reg]`, `[reg+off]`, `[reg-off]`. */
function bracketMemory(c: Cursor): { reg: Reg; off: number } {
  c.expectOp('[');
  const m = c.memory();
  c.expectOp(']');
  return m;
}

function loadX(c: Cursor, m: RegExpExecArray): Stmt {
  if (m[1] && m[2] === 'dw') throw c.error('there is no sign-extending 64-bit load (ldxsdw)', 1);
  const d = c.reg();
  c.expectOp(',');
  const mem = bracketMemory(c);
  const mode = m[1] ? o.BPF_MEMSX : o.BPF_MEM;
  return single(insn(o.BPF_LDX | mode | sizeFromSuffix(m[2])!, d.num, mem.reg.num, mem.off), d);
}

function storeOp(c: Cursor, m: RegExpExecArray): Stmt {
  const mem = bracketMemory(c);
  c.expectOp(',');
  const size = sizeFromSuffix(m[2])!;
  if (m[1]) return single(insn(o.BPF_STX | o.BPF_MEM | size, mem.reg.num, c.reg().num, mem.off));
  return single(insn(o.BPF_ST | o.BPF_MEM | size, mem.reg.num, 0, mem.off, c.imm32()));
}

function packetLoad(c: Cursor, m: RegExpExecArray): Stmt {
  const size = sizeFromSuffix(m[2])!;
  if (m[1] === 'abs') return single(insn(o.BPF_LD | o.BPF_ABS | size, 0, 0, 0, c.imm32('packet offset')));
  const s = c.reg();
  c.expectOp(',');
  return single(insn(o.BPF_LD | o.BPF_IND | size, 0, s.num, 0, c.imm32('packet offset')));
}

/** lock parses `lock [fetch] add|or|and|xor[32] [mem], reg`, `lock xchg[32] ...`, `lock cmpxchg[32] ...`. */
function lock(c: Cursor): Stmt {
  const fetch = c.isId('fetch') ? (c.next(), o.BPF_FETCH) : 0;
  const t = c.next('atomic operation');
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32|64)?$/i.exec(t.text);
  if (!m) throw c.error(`unknown atomic operation '${t.text}'`, t.col);
  const size = m[2] === '32' ? o.BPF_W : o.BPF_DW;
  const name = m[1].toLowerCase();
  if (name === 'xchg') return atomicOp(c, size, o.BPF_XCHG);
  if (name === 'cmpxchg') return atomicOp(c, size, o.BPF_CMPXCHG);
  const op = [...ATOMIC_NAMES].find(([, n]) => n === name)![0];
  return atomicOp(c, size, op | fetch);
}

function atomicOp(c: Cursor, size: number, imm: number): Stmt {
  const mem = bracketMemory(c);
  c.expectOp(',');
  const s = c.reg();
  return single(insn(o.BPF_STX | o.BPF_ATOMIC | size, mem.reg.num, s.num, mem.off, imm));
}
