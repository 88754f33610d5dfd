/**
 * Emission of a ProgSpec as kernel-layout instruction slots for an XDP program whose results
 * land in the packet:
 *
 *   prologue  r2 = ctx->data; r3 = ctx->data_end; r9 = r2; if r2 + PKT_CHECKED > r3 goto out
 *             stack slots and r0..r8 set to constants
 *   body      random items (r9 keeps the packet pointer; r0..r8 are scalars)
 *   epilogue  packet[0..72) = r0..r8, packet[72..136) = the 8 stack slots; exit with r0
 *   out       r0 = 0; exit
 *   subprograms (only those called): set r0, r6..r9 and stack; body; fold r0..r9 and the
 *             stack into r0; exit
 *
 * skb programs (SCHED_CLS) differ only in the prologue: r6 keeps the __sk_buff pointer (LD_ABS
 * and LD_IND need it there), data/data_end come from its offsets 76/80, and r6 is not a scalar
 * (its dump slot, packet bytes 48..56, is left untouched).
 *
 * Every choice that could make the verifier reject the program (reserved registers, shift
 * ranges, division by a zero immediate, stack alignment, unreachable code) is settled here.
 */
import { insn, lddw, type Insn, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import {
  PKT_CHECKED, STACK_SLOTS, type AluItem, type AtomicItem, type Cond, type Item, type LdItem, type ProgSpec,
  type StItem, type SubSpec, type LdAbsItem,
} from './spec.js';

/** Slot is an instruction slot, possibly a call whose target subprogram is resolved at the end. */
type Slot = Insn & { callSub?: number };

interface EmitCtx {
  scalars: number[];
  reserved: Set<number>;
  hasPacket: boolean;
  callable: number[];
  inLoop: boolean;
  called: Set<number>;
  /** r6 holds the skb context: LD_ABS/LD_IND allowed */
  skb: boolean;
}

/** SKB_DATA and SKB_DATA_END are the offsets of data/data_end in struct __sk_buff. */
export const SKB_DATA = 76, SKB_DATA_END = 80;

const SIZE_CODE: Record<number, number> = { 1: o.BPF_B, 2: o.BPF_H, 4: o.BPF_W, 8: o.BPF_DW };
const ALU_OP: Record<string, number> = {
  add: o.BPF_ADD, sub: o.BPF_SUB, mul: o.BPF_MUL, div: o.BPF_DIV, sdiv: o.BPF_DIV, mod: o.BPF_MOD, smod: o.BPF_MOD,
  or: o.BPF_OR, and: o.BPF_AND, xor: o.BPF_XOR, lsh: o.BPF_LSH, rsh: o.BPF_RSH, arsh: o.BPF_ARSH, mov: o.BPF_MOV,
};
const JMP_OP: Record<string, number> = {
  jeq: o.BPF_JEQ, jgt: o.BPF_JGT, jge: o.BPF_JGE, jset: o.BPF_JSET, jne: o.BPF_JNE, jsgt: o.BPF_JSGT,
  jsge: o.BPF_JSGE, jlt: o.BPF_JLT, jle: o.BPF_JLE, jslt: o.BPF_JSLT, jsle: o.BPF_JSLE,
};
const ATOMIC_IMM: Record<string, number> = {
  add: o.BPF_ADD, or: o.BPF_OR, and: o.BPF_AND, xor: o.BPF_XOR, fadd: o.BPF_ADD | o.BPF_FETCH,
  for: o.BPF_OR | o.BPF_FETCH, fand: o.BPF_AND | o.BPF_FETCH, fxor: o.BPF_XOR | o.BPF_FETCH,
  xchg: o.BPF_XCHG, cmpxchg: o.BPF_CMPXCHG,
};

function readReg(c: EmitCtx, r: number): number {
  return c.scalars.includes(r) ? r : c.scalars[r % c.scalars.length];
}

function writeReg(c: EmitCtx, r: number): number {
  let w = readReg(c, r);
  for (let i = 0; c.reserved.has(w) && i < c.scalars.length; i++) w = c.scalars[(c.scalars.indexOf(w) + 1) % c.scalars.length];
  return w;
}

function emitAlu(c: EmitCtx, it: AluItem): Slot[] {
  const cls = it.wide ? o.BPF_ALU64 : o.BPF_ALU;
  const dst = writeReg(c, it.dst);
  const src = readReg(c, it.src);
  const width = [16, 32, 64][it.sel % 3];
  switch (it.kind) {
    case 'neg': return [insn(cls | o.BPF_NEG, dst)];
    case 'le': return [insn(o.BPF_ALU | o.BPF_END | o.BPF_TO_LE, dst, 0, 0, width)];
    case 'be': return [insn(o.BPF_ALU | o.BPF_END | o.BPF_TO_BE, dst, 0, 0, width)];
    case 'bswap': return [insn(o.BPF_ALU64 | o.BPF_END, dst, 0, 0, width)];
    case 'movsx': {
      const w = it.wide ? [8, 16, 32][it.sel % 3] : [8, 16][it.sel % 2];
      return [insn(cls | o.BPF_MOV | o.BPF_X, dst, src, w)];
    }
    default: break;
  }
  const aop = ALU_OP[it.kind];
  const off = it.kind === 'sdiv' || it.kind === 'smod' ? 1 : 0;
  if (it.x) return [insn(cls | aop | o.BPF_X, dst, src, off)];
  let imm = it.imm;
  if (aop === o.BPF_LSH || aop === o.BPF_RSH || aop === o.BPF_ARSH) imm = it.sel & (it.wide ? 63 : 31);
  if ((aop === o.BPF_DIV || aop === o.BPF_MOD) && imm === 0) imm = -1; // the verifier rejects a zero divisor immediate
  return [insn(cls | aop | o.BPF_K, dst, 0, off, imm)];
}

function condJump(c: EmitCtx, it: Cond, off: number): Slot {
  const cls = it.wide ? o.BPF_JMP : o.BPF_JMP32;
  const dst = readReg(c, it.dst);
  if (it.x) return insn(cls | JMP_OP[it.cond] | o.BPF_X, dst, readReg(c, it.src), off);
  return insn(cls | JMP_OP[it.cond] | o.BPF_K, dst, 0, off, it.imm);
}

/** memRef picks base register and offset: the packet (any offset in range) or an aligned stack slot. */
function memRef(c: EmitCtx, pkt: boolean, size: number, off: number): { base: number; off: number } {
  if (pkt && c.hasPacket) return { base: o.R9, off: off % (PKT_CHECKED - size + 1) };
  const n = (STACK_SLOTS * 8) / size;
  return { base: o.R10, off: -STACK_SLOTS * 8 + (off % n) * size };
}

function emitLd(c: EmitCtx, it: LdItem): Slot[] {
  const m = memRef(c, it.pkt, it.size, it.off);
  const mode = it.sx && it.size < 8 ? o.BPF_MEMSX : o.BPF_MEM;
  return [insn(o.BPF_LDX | mode | SIZE_CODE[it.size], writeReg(c, it.dst), m.base, m.off)];
}

function emitSt(c: EmitCtx, it: StItem): Slot[] {
  const m = memRef(c, it.pkt, it.size, it.off);
  if (it.x) return [insn(o.BPF_STX | o.BPF_MEM | SIZE_CODE[it.size], m.base, readReg(c, it.src), m.off)];
  return [insn(o.BPF_ST | o.BPF_MEM | SIZE_CODE[it.size], m.base, 0, m.off, it.imm)];
}

function emitAtomic(c: EmitCtx, it: AtomicItem): Slot[] {
  const size = it.dw ? 8 : 4;
  const m = memRef(c, false, size, it.off);
  const fetches = it.kind.startsWith('f') || it.kind === 'xchg';
  const src = fetches ? writeReg(c, it.src) : readReg(c, it.src);
  return [insn(o.BPF_STX | o.BPF_ATOMIC | SIZE_CODE[size], o.R10, src, m.off, ATOMIC_IMM[it.kind])];
}

const reinit = (values: number[]): Slot[] => values.map((v, i) => insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, i + 1, 0, 0, v));

/** emitLdAbs: LD_ABS, or LD_IND after masking the index register; r1..r5 are reset afterwards (the kernel clobbers them). */
function emitLdAbs(c: EmitCtx, it: LdAbsItem): Slot[] {
  if (!c.skb) return [];
  const mode = it.ind ? o.BPF_IND : o.BPF_ABS;
  const src = it.ind ? writeReg(c, it.src) : 0;
  const mask = it.ind ? [insn(o.BPF_ALU | o.BPF_AND | o.BPF_K, src, 0, 0, 0x7f)] : [];
  return [...mask, insn(o.BPF_LD | mode | SIZE_CODE[it.size], 0, src, 0, it.imm), ...reinit(it.reinit)];
}

function emitItem(c: EmitCtx, it: Item): Slot[] {
  switch (it.k) {
    case 'ldabs': return emitLdAbs(c, it);
    case 'alu': return emitAlu(c, it);
    case 'ld': return emitLd(c, it);
    case 'st': return emitSt(c, it);
    case 'atomic': return emitAtomic(c, it);
    case 'lddw': return lddw(writeReg(c, it.dst), it.value);
    case 'jmp': return [condJump(c, it, 0)]; // offset fixed by emitList
    case 'call': {
      if (c.inLoop || c.callable.length === 0) return [];
      const sub = c.callable[it.sub % c.callable.length];
      c.called.add(sub);
      const call: Slot = { ...insn(o.BPF_JMP | o.BPF_CALL, 0, o.BPF_PSEUDO_CALL, 0, 0), callSub: sub };
      return [call, ...reinit(it.reinit)];
    }
    case 'ifelse': {
      const thenS = emitList(c, it.then);
      const elseS = emitList(c, it.else);
      const ja = it.gotol ? insn(o.BPF_JMP32 | o.BPF_JA, 0, 0, 0, elseS.length) : insn(o.BPF_JMP | o.BPF_JA, 0, 0, elseS.length);
      return [condJump(c, it, thenS.length + 1), ...thenS, ja, ...elseS];
    }
    case 'loop': {
      const counter = writeReg(c, it.counter);
      const inner: EmitCtx = { ...c, reserved: new Set([...c.reserved, counter]), inLoop: true };
      const body = emitList(inner, it.body);
      return [
        insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, counter, 0, 0, it.n),
        ...body,
        insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_K, counter, 0, 0, -1),
        insn(o.BPF_JMP | o.BPF_JNE | o.BPF_K, counter, 0, -(body.length + 2), 0),
      ];
    }
  }
}

/** emitList emits sibling items; a `jmp` skips the next `skip` siblings (clamped to the list). */
function emitList(c: EmitCtx, items: Item[]): Slot[] {
  const chunks = items.map((it) => emitItem(c, it));
  items.forEach((it, i) => {
    if (it.k !== 'jmp') return;
    const skipped = chunks.slice(i + 1, i + 1 + it.skip);
    chunks[i][0].off = skipped.reduce((n, ch) => n + ch.length, 0);
  });
  return chunks.flat();
}

const stxdw = (base: number, src: number, off: number): Slot => insn(o.BPF_STX | o.BPF_MEM | o.BPF_DW, base, src, off);
const ldxdw = (dst: number, base: number, off: number): Slot => insn(o.BPF_LDX | o.BPF_MEM | o.BPF_DW, dst, base, off);
const slotOff = (s: number): number => -8 * (s + 1);
const exit = (): Slot => insn(o.BPF_JMP | o.BPF_EXIT);

function initStack(values: bigint[], tmp: number): Slot[] {
  return values.flatMap((v, s) => [...lddw(tmp, v), stxdw(o.R10, tmp, slotOff(s))]);
}

function emitMain(spec: ProgSpec, called: Set<number>): Slot[] {
  const skb = spec.skb === true;
  const ctx: EmitCtx = {
    scalars: skb ? [0, 1, 2, 3, 4, 5, 7, 8] : [0, 1, 2, 3, 4, 5, 6, 7, 8], reserved: new Set(), hasPacket: true,
    callable: skb ? [] : spec.subs.map((_, i) => i), inLoop: false, called, skb,
  };
  const base = skb ? o.R6 : o.R1;
  const prologue: Slot[] = [
    ...(skb ? [insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, o.R6, o.R1)] : []),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, o.R2, base, skb ? SKB_DATA : 0),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, o.R3, base, skb ? SKB_DATA_END : 4),
    insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, o.R9, o.R2),
    insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_K, o.R2, 0, 0, PKT_CHECKED),
    insn(o.BPF_JMP | o.BPF_JGT | o.BPF_X, o.R2, o.R3, 0), // offset to `out` fixed below
  ];
  const init = [...initStack(spec.stack, o.R1), ...ctx.scalars.flatMap((r) => lddw(r, spec.init[r]))];
  const body = emitList(ctx, spec.body);
  const epilogue: Slot[] = [
    ...ctx.scalars.map((r) => stxdw(o.R9, r, 8 * r)),
    ...spec.stack.flatMap((_, s) => [ldxdw(o.R1, o.R10, slotOff(s)), stxdw(o.R9, o.R1, 72 + 8 * s)]),
    exit(),
  ];
  const main = [...prologue, ...init, ...body, ...epilogue];
  prologue[prologue.length - 1].off = main.length - prologue.length;
  return [...main, insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, o.R0), exit()];
}

function emitSub(sub: SubSpec, index: number, count: number, called: Set<number>): Slot[] {
  const ctx: EmitCtx = {
    scalars: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], reserved: new Set(), hasPacket: false,
    callable: Array.from({ length: count - index - 1 }, (_, i) => index + 1 + i), inLoop: false, called, skb: false,
  };
  const regs = [0, 6, 7, 8, 9];
  const init = [...initStack(sub.stack, o.R0), ...sub.init.flatMap((v, i) => lddw(regs[i], v))];
  const body = emitList(ctx, sub.body);
  const fold = (r: number): Slot[] => [
    insn(o.BPF_ALU64 | o.BPF_MUL | o.BPF_K, o.R0, 0, 0, 31),
    insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_X, o.R0, r),
  ];
  const mix = [
    ...[1, 2, 3, 4, 5, 6, 7, 8, 9].flatMap(fold),
    ...sub.stack.flatMap((_, s) => [ldxdw(o.R1, o.R10, slotOff(s)), ...fold(o.R1)]),
  ];
  return [...init, ...body, ...mix, exit()];
}

/** emitProgram turns a spec into instruction slots (kernel layout; subprograms that are never called are left out). */
export function emitProgram(spec: ProgSpec): Program {
  const called = new Set<number>();
  const parts: Slot[][] = [emitMain(spec, called)];
  const starts = new Map<number, number>();
  let at = parts[0].length;
  for (let i = 0; i < spec.subs.length; i++) {
    if (!called.has(i)) continue;
    const code = emitSub(spec.subs[i], i, spec.subs.length, called); // may mark later subs as called
    starts.set(i, at);
    parts.push(code);
    at += code.length;
  }
  const slots = parts.flat();
  return slots.map((s, pc) => {
    const { callSub, ...plain } = s;
    return callSub === undefined ? plain : { ...plain, imm: (starts.get(callSub) as number) - (pc + 1) };
  });
}
