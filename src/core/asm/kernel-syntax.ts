/**
 * The llvm-objdump / kernel ("pseudo-C") syntax: `r0 = 1`, `w1 += w2`,
 * `if r1 s> -1 goto +3`, `*(u32 *)(r10 - 8) = r1`, `r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)`,
 * `r1 = 0x123456789 ll` ... everything the disassembler prints, plus labels as targets.
 */
import { insn, lddw } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { Cursor, Reg } from './cursor.js';
import { Stmt, callx, jumpStmt, parseCall, single } from './stmt.js';
import { ALU_OPERATORS, ATOMIC_NAMES, JMP_OPERATORS, SIGNED_ALU_OPERATORS, sizeFromBits } from './syntax.js';

const U64 = [-(2n ** 63n), 2n ** 64n - 1n] as const;

/** startsKernelSyntax tells whether a statement is in the kernel syntax. */
export function startsKernelSyntax(c: Cursor): boolean {
  if (c.isOp('*')) return true;
  if (c.isReg()) return true;
  if (c.isId('lock')) return c.isOp('*', 1);
  return ['if', 'goto', 'gotol', 'ld_pseudo'].some((k) => c.isId(k));
}

/** parseKernel parses one kernel-syntax statement. */
export function parseKernel(c: Cursor): Stmt {
  const s = statement(c);
  c.expectEnd();
  return s;
}

function statement(c: Cursor): Stmt {
  if (c.isOp('*')) return store(c);
  const head = c.isReg() ? '' : c.next('instruction').text.toLowerCase();
  switch (head) {
    case '': return assignment(c);
    case 'exit': return single(insn(o.BPF_JMP | o.BPF_EXIT));
    case 'goto': return jumpStmt(o.BPF_JMP | o.BPF_JA, 0, 0, 0, c.target(16), 'off');
    case 'gotol': return jumpStmt(o.BPF_JMP32 | o.BPF_JA, 0, 0, 0, c.target(32), 'imm');
    case 'call': return parseCall(c);
    case 'callx': return callx(c);
    case 'if': return conditional(c);
    case 'lock': return lockOp(c);
    case 'ld_pseudo': return ldPseudo(c);
    default: throw c.error(`unknown instruction '${head}'`, 1);
  }
}

function conditional(c: Cursor): Stmt {
  const d = c.reg();
  const opTok = c.next('comparison');
  const op = keyOf(JMP_OPERATORS, opTok.text);
  if (op === undefined) throw c.error(`unknown comparison '${opTok.text}'`, opTok.col);
  const cls = d.w ? o.BPF_JMP32 : o.BPF_JMP;
  const src = c.isReg() ? sameWidth(c, d, c.reg()) : undefined;
  const imm = src ? 0 : c.imm32();
  c.expectId('goto');
  const code = cls | op | (src ? o.BPF_X : o.BPF_K);
  return jumpStmt(code, d.num, src?.num ?? 0, imm, c.target(16), 'off', d);
}

function assignment(c: Cursor): Stmt {
  const d = c.reg();
  const opTok = c.next('operator');
  if (opTok.kind === 'op' && opTok.text === '=') return assignValue(c, d);
  const signed = keyOf(SIGNED_ALU_OPERATORS, opTok.text);
  const op = signed ?? keyOf(ALU_OPERATORS, opTok.text);
  if (op === undefined) throw c.error(`unknown operator '${opTok.text}'`, opTok.col);
  return aluOp(c, d, op, signed === undefined ? 0 : 1);
}

function aluOp(c: Cursor, d: Reg, op: number, off: number): Stmt {
  const cls = d.w ? o.BPF_ALU : o.BPF_ALU64;
  if (c.isReg()) {
    const s = sameWidth(c, d, c.reg());
    return single(insn(cls | op | o.BPF_X, d.num, s.num, off), d);
  }
  return single(insn(cls | op | o.BPF_K, d.num, 0, off, c.imm32()), d);
}

function assignValue(c: Cursor, d: Reg): Stmt {
  if (c.isOp('-') && c.isReg(1)) return negate(c, d);
  if (c.isOp('(')) return movsx(c, d);
  if (c.isOp('*')) return load(c, d);
  if (c.isReg()) return aluOp(c, d, o.BPF_MOV, 0);
  if (c.isNumber()) return c.isId('ll', c.isOp('-') || c.isOp('+') ? 2 : 1) ? ldImm64(c, d) : aluOp(c, d, o.BPF_MOV, 0);
  const t = c.next('value');
  const name = t.text.toLowerCase();
  const end = /^(le|be|bswap)(16|32|64)$/.exec(name);
  if (end) return byteSwap(c, d, end[1], Number(end[2]));
  if (name.startsWith('atomic_fetch_')) return fetchOp(c, d, name.slice(13), t.col);
  if (name === 'xchg_64' || name === 'xchg32_32') return xchg(c, d, name === 'xchg_64');
  if (name === 'cmpxchg_64' || name === 'cmpxchg32_32') return cmpxchg(c, d, name === 'cmpxchg_64');
  throw c.error(`unexpected '${t.text}'`, t.col);
}

function negate(c: Cursor, d: Reg): Stmt {
  c.expectOp('-');
  const s = c.reg();
  if (s.num !== d.num || s.w !== d.w) throw c.error('neg must name the same register on both sides', s.col);
  return single(insn((d.w ? o.BPF_ALU : o.BPF_ALU64) | o.BPF_NEG, d.num), d);
}

function movsx(c: Cursor, d: Reg): Stmt {
  c.expectOp('(');
  const t = c.next('cast');
  const m = /^s(8|16|32)$/i.exec(t.text);
  if (!m) throw c.error(`expected (s8), (s16) or (s32), found '${t.text}'`, t.col);
  c.expectOp(')');
  const s = sameWidth(c, d, c.reg());
  return single(insn((d.w ? o.BPF_ALU : o.BPF_ALU64) | o.BPF_MOV | o.BPF_X, d.num, s.num, Number(m[1])), d);
}

function ldImm64(c: Cursor, d: Reg): Stmt {
  if (d.w) throw c.error('lddw needs a 64-bit register', d.col);
  const v = c.bigint(U64[0], U64[1], 'immediate');
  c.expectId('ll');
  return { insns: lddw(d.num, v), dstCol: d.col };
}

function ldPseudo(c: Cursor): Stmt {
  const d = c.reg();
  c.expectOp(',');
  const src = c.int(0, 15, 'pseudo source');
  c.expectOp(',');
  return { insns: lddw(d.num, c.bigint(U64[0], U64[1], 'immediate'), src), dstCol: d.col };
}

function byteSwap(c: Cursor, d: Reg, kind: string, bits: number): Stmt {
  const s = c.reg();
  if (s.num !== d.num) throw c.error('byte swap must name the same register on both sides', s.col);
  const code = kind === 'bswap' ? o.BPF_ALU64 | o.BPF_END : o.BPF_ALU | o.BPF_END | (kind === 'be' ? o.BPF_TO_BE : o.BPF_TO_LE);
  return single(insn(code, d.num, 0, 0, bits), d);
}

/** sizeType parses `(u32 *)` (or `(s16 *)` when `signedOk`) and returns [BPF_SIZE, signed]. */
function sizeType(c: Cursor, signedOk: boolean): [number, boolean] {
  c.expectOp('(');
  const t = c.next('type');
  const m = /^([us])(8|16|32|64)$/i.exec(t.text);
  const size = m ? sizeFromBits(Number(m[2])) : undefined;
  const signed = m?.[1].toLowerCase() === 's';
  if (!m || size === undefined || (signed && (!signedOk || m[2] === '64'))) throw c.error(`unexpected type '${t.text}'`, t.col);
  c.expectOp('*');
  c.expectOp(')');
  return [size, signed];
}

function parenMemory(c: Cursor): { reg: Reg; off: number } {
  c.expectOp('(');
  const m = c.memory();
  c.expectOp(')');
  return m;
}

function load(c: Cursor, d: Reg): Stmt {
  c.expectOp('*');
  const [size, signed] = sizeType(c, true);
  if (c.isId('skb')) return packetLoad(c, d, size, signed);
  const m = parenMemory(c);
  return single(insn(o.BPF_LDX | size | (signed ? o.BPF_MEMSX : o.BPF_MEM), d.num, m.reg.num, m.off), d);
}

function packetLoad(c: Cursor, d: Reg, size: number, signed: boolean): Stmt {
  const t = c.next();
  if (d.num !== 0 || signed || size === o.BPF_DW) throw c.error('packet loads are r0 = *(u8|u16|u32 *)skb[...]', t.col);
  c.expectOp('[');
  if (!c.isReg()) {
    const imm = c.imm32('packet offset');
    c.expectOp(']');
    return single(insn(o.BPF_LD | o.BPF_ABS | size, 0, 0, 0, imm));
  }
  const s = c.reg();
  let imm = 0;
  if (c.isOp('+') || c.isOp('-')) imm = c.imm32('packet offset');
  c.expectOp(']');
  return single(insn(o.BPF_LD | o.BPF_IND | size, 0, s.num, 0, imm));
}

function store(c: Cursor): Stmt {
  c.expectOp('*');
  const [size] = sizeType(c, false);
  const m = parenMemory(c);
  c.expectOp('=');
  if (c.isReg()) return single(insn(o.BPF_STX | o.BPF_MEM | size, m.reg.num, c.reg().num, m.off));
  return single(insn(o.BPF_ST | o.BPF_MEM | size, m.reg.num, 0, m.off, c.imm32()));
}

function atomicSize(c: Cursor, size: number, col: number): number {
  if (size !== o.BPF_W && size !== o.BPF_DW) throw c.error('atomic operations are 32 or 64 bits wide', col);
  return o.BPF_STX | o.BPF_ATOMIC | size;
}

function lockOp(c: Cursor): Stmt {
  const col = c.col;
  c.expectOp('*');
  const [size] = sizeType(c, false);
  const m = parenMemory(c);
  const opTok = c.next('operator');
  const op = keyOf(ALU_OPERATORS, opTok.text);
  if (op === undefined || !ATOMIC_NAMES.has(op)) throw c.error(`unknown atomic operator '${opTok.text}'`, opTok.col);
  return single(insn(atomicSize(c, size, col), m.reg.num, c.reg().num, m.off, op));
}

function fetchOp(c: Cursor, d: Reg, name: string, col: number): Stmt {
  const op = keyOf(ATOMIC_NAMES, name);
  if (op === undefined) throw c.error(`unknown atomic operation 'atomic_fetch_${name}'`, col);
  c.expectOp('(');
  const [size] = sizeType(c, false);
  const m = parenMemory(c);
  c.expectOp(',');
  const v = sameRegister(c, d);
  c.expectOp(')');
  return single(insn(atomicSize(c, size, col), m.reg.num, v.num, m.off, op | o.BPF_FETCH), d);
}

function xchg(c: Cursor, d: Reg, is64: boolean): Stmt {
  c.expectOp('(');
  const m = c.memory();
  c.expectOp(',');
  const v = sameRegister(c, d);
  c.expectOp(')');
  return single(insn(o.BPF_STX | o.BPF_ATOMIC | (is64 ? o.BPF_DW : o.BPF_W), m.reg.num, v.num, m.off, o.BPF_XCHG), d);
}

function cmpxchg(c: Cursor, d: Reg, is64: boolean): Stmt {
  if (d.num !== 0) throw c.error('cmpxchg always writes r0', d.col);
  c.expectOp('(');
  const m = c.memory();
  c.expectOp(',');
  sameRegister(c, d);
  c.expectOp(',');
  const v = c.reg();
  c.expectOp(')');
  return single(insn(o.BPF_STX | o.BPF_ATOMIC | (is64 ? o.BPF_DW : o.BPF_W), m.reg.num, v.num, m.off, o.BPF_CMPXCHG));
}

function sameRegister(c: Cursor, d: Reg): Reg {
  const v = c.reg();
  if (v.num !== d.num) throw c.error(`expected r${d.num} (the result register) here`, v.col);
  return v;
}

function sameWidth(c: Cursor, d: Reg, s: Reg): Reg {
  if (s.w !== d.w) throw c.error(`register width mismatch: ${d.w ? 'w' : 'r'}${d.num} with ${s.w ? 'w' : 'r'}${s.num}`, s.col);
  return s;
}

function keyOf<K>(map: ReadonlyMap<K, string>, text: string): K | undefined {
  for (const [k, v] of map) if (v === text) return k;
  return undefined;
}
