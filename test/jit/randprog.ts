/**
 * Random raw eBPF programs for differential testing of the JIT against the interpreter.
 * Unlike the verifier-friendly generator in test/gen, these are deliberately wild: jumps to
 * any instruction (loops, irreducible graphs, falling into other subprograms or off the end),
 * wild pointers, uninitialised stack reads, atomics, packet loads, helper calls and callx,
 * bpf-to-bpf calls (including recursion past the depth limit). Every program passes validate().
 */
import * as o from '../../src/core/isa/opcodes.js';
import { type Insn, type Program, insn, lddw } from '../../src/core/isa/instruction.js';

/** Rng is a small deterministic PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** next returns a uniform 32-bit unsigned integer. */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** int returns an integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1));
  }
  /** chance is true with probability p. */
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
  /** pick returns a random element. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.next() % xs.length];
  }
}

/** interesting 32-bit immediates: edge cases for division, shifts and compares. */
const IMMS = [0, 1, -1, 2, 7, 8, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xff, 0xffff, -8, 16];

function imm(r: Rng): number {
  return r.chance(0.6) ? r.pick(IMMS) : r.next() | 0;
}

const ALU_OPS = [o.BPF_ADD, o.BPF_SUB, o.BPF_MUL, o.BPF_DIV, o.BPF_OR, o.BPF_AND, o.BPF_LSH, o.BPF_RSH,
  o.BPF_NEG, o.BPF_MOD, o.BPF_XOR, o.BPF_MOV, o.BPF_ARSH, o.BPF_END];
const JMP_OPS = [o.BPF_JEQ, o.BPF_JGT, o.BPF_JGE, o.BPF_JSET, o.BPF_JNE, o.BPF_JSGT, o.BPF_JSGE, o.BPF_JLT,
  o.BPF_JLE, o.BPF_JSLT, o.BPF_JSLE];
const ATOMICS = [o.BPF_ADD, o.BPF_OR, o.BPF_AND, o.BPF_XOR, o.BPF_ADD | o.BPF_FETCH, o.BPF_OR | o.BPF_FETCH,
  o.BPF_AND | o.BPF_FETCH, o.BPF_XOR | o.BPF_FETCH, o.BPF_XCHG, o.BPF_CMPXCHG];
const SIZES = [o.BPF_B, o.BPF_H, o.BPF_W, o.BPF_DW];

/** HELPER_PURE, HELPER_CHECK: helper IDs the differential harness registers; HELPER_MISSING is not registered. */
export const HELPER_PURE = 7, HELPER_CHECK = 8, HELPER_MISSING = 99;

/** An op is one instruction (or an lddw pair) with an optional jump/call target to resolve. */
interface Op {
  slots: Insn[];
  /** index of the target op for jumps, calls */
  target?: number;
  kind?: 'jmp' | 'gotol' | 'call';
}

function dstReg(r: Rng): number {
  return r.chance(0.1) ? 1 : r.pick([0, 2, 3, 4, 5, 6, 7, 8, 9]);
}

function srcReg(r: Rng): number {
  return r.int(0, 10);
}

function alu(r: Rng): Insn {
  const cls = r.chance(0.5) ? o.BPF_ALU64 : o.BPF_ALU;
  const op = r.pick(ALU_OPS);
  const x = r.chance(0.5);
  const d = dstReg(r);
  if (op === o.BPF_NEG) return insn(cls | op, d);
  if (op === o.BPF_END) {
    const width = r.pick([16, 32, 64]);
    if (cls === o.BPF_ALU64) return insn(cls | op, d, 0, 0, width);
    return insn(cls | op | (x ? o.BPF_TO_BE : o.BPF_TO_LE), d, 0, 0, width);
  }
  let off = 0;
  if ((op === o.BPF_DIV || op === o.BPF_MOD) && r.chance(0.5)) off = 1;
  if (op === o.BPF_MOV && x && r.chance(0.4)) off = r.pick(cls === o.BPF_ALU64 ? [8, 16, 32] : [8, 16]);
  return insn(cls | op | (x ? o.BPF_X : o.BPF_K), d, x ? srcReg(r) : 0, off, x ? 0 : imm(r));
}

/** memBase picks a base register and offset: mostly stack or data, sometimes anything. */
function memBase(r: Rng, size: number): [number, number] {
  const k = r.next() % 10;
  if (k < 5) return [10, -r.int(1, 64 / size) * size + (r.chance(0.1) ? r.int(-3, 3) : 0)];
  if (k < 8) return [1, r.int(-8, 72)];
  // any register: often a copy of r10 (small negative offsets reach its frame), or wild
  return [srcReg(r), r.chance(0.5) ? -r.int(1, 64) : r.int(-600, 600)];
}

function mem(r: Rng): Insn {
  const size = r.pick(SIZES);
  const n = o.sizeBytes(size);
  const k = r.next() % 8;
  if (k < 3) {
    const [b, off] = memBase(r, n);
    const sx = size !== o.BPF_DW && r.chance(0.3);
    return insn(o.BPF_LDX | (sx ? o.BPF_MEMSX : o.BPF_MEM) | size, dstReg(r), b, off);
  }
  if (k < 5) {
    const [b, off] = memBase(r, n);
    return insn(o.BPF_STX | o.BPF_MEM | size, b, srcReg(r), off);
  }
  if (k < 6) {
    const [b, off] = memBase(r, n);
    return insn(o.BPF_ST | o.BPF_MEM | size, b, 0, off, imm(r));
  }
  const dw = r.chance(0.5);
  const [b, off] = memBase(r, dw ? 8 : 4);
  return insn(o.BPF_STX | o.BPF_ATOMIC | (dw ? o.BPF_DW : o.BPF_W), b, r.int(0, 9), off, r.pick(ATOMICS));
}

function ldAbs(r: Rng): Insn {
  const size = r.pick([o.BPF_B, o.BPF_H, o.BPF_W]);
  const ind = r.chance(0.5);
  return insn(o.BPF_LD | (ind ? o.BPF_IND : o.BPF_ABS) | size, 0, ind ? srcReg(r) : 0, 0, r.chance(0.9) ? r.int(-2, 70) : imm(r));
}

function helperCall(r: Rng): Op[] {
  const k = r.next() % 10;
  if (k < 5) return [{ slots: [insn(o.BPF_JMP | o.BPF_CALL, 0, 0, 0, HELPER_PURE)] }];
  if (k < 7) return [{ slots: [insn(o.BPF_JMP | o.BPF_CALL, 0, 0, 0, HELPER_CHECK)] }];
  if (k < 8) return [{ slots: [insn(o.BPF_JMP | o.BPF_CALL, 0, 0, 0, HELPER_MISSING)] }];
  const reg = r.int(0, 9);
  const id = r.pick([HELPER_PURE, HELPER_CHECK, HELPER_PURE, HELPER_MISSING, -1]);
  return [
    { slots: [insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, reg, 0, 0, id)] },
    { slots: [insn(o.BPF_JMP | o.BPF_CALL | o.BPF_X, reg)] },
  ];
}

/** genOps generates the ops of one function of `len` ops; targets are indices into `all` later. */
function genFunc(r: Rng, len: number, first: number, total: () => number, entries: number[]): Op[] {
  const ops: Op[] = [];
  const local = (): number => first + r.int(0, len - 1);
  while (ops.length < len - 1) {
    const k = r.next() % 100;
    if (k < 38) ops.push({ slots: [alu(r)] });
    else if (k < 56) ops.push({ slots: [mem(r)] });
    else if (k < 70) {
      const cls = r.chance(0.3) ? o.BPF_JMP32 : o.BPF_JMP;
      const x = r.chance(0.5);
      const slots = [insn(cls | r.pick(JMP_OPS) | (x ? o.BPF_X : o.BPF_K), r.int(0, 10), x ? srcReg(r) : 0, 0, imm(r))];
      ops.push({ slots, kind: 'jmp', target: r.chance(0.9) ? local() : r.int(0, total() - 1) });
    } else if (k < 74) {
      const gotol = r.chance(0.3);
      ops.push({ slots: [insn(gotol ? o.BPF_JMP32 | o.BPF_JA : o.BPF_JMP | o.BPF_JA)], kind: gotol ? 'gotol' : 'jmp', target: local() });
    } else if (k < 79) ops.push({ slots: lddw(dstReg(r), BigInt.asUintN(64, BigInt(r.next()) << BigInt(r.int(0, 40)))) });
    else if (k < 83) ops.push({ slots: [ldAbs(r)] });
    else if (k < 88) ops.push(...helperCall(r));
    else if (k < 93 && entries.length) ops.push({ slots: [insn(o.BPF_JMP | o.BPF_CALL, 0, o.BPF_PSEUDO_CALL)], kind: 'call', target: r.pick(entries) });
    else if (k < 96) ops.push({ slots: [insn(o.BPF_JMP | o.BPF_EXIT)] });
    else ops.push({ slots: [insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, dstReg(r), 10)] }); // a stack pointer in another register
  }
  // usually end with exit; sometimes fall into the next function (or off the end)
  ops.push({ slots: [r.chance(0.9) ? insn(o.BPF_JMP | o.BPF_EXIT) : alu(r)] });
  return ops.slice(0, Math.max(len, 1));
}

/** randomProgram builds a valid program from a seed. */
export function randomProgram(seed: number): Program {
  const r = new Rng(seed);
  const nfuncs = r.int(1, 3);
  const lens = Array.from({ length: nfuncs }, (_, k) => (k === 0 ? r.int(4, 40) : r.int(2, 16)));
  const firsts: number[] = [];
  lens.reduce((acc, l) => (firsts.push(acc), acc + l), 0);
  const total = lens.reduce((a, b) => a + b, 0);
  // stack prologue in main so that many stack loads succeed
  const prologue: Op[] = [];
  const nInit = r.int(0, 8);
  for (let k = 0; k < nInit; k++) prologue.push({ slots: [insn(o.BPF_ST | o.BPF_MEM | o.BPF_DW, 10, 0, -8 * (k + 1), imm(r))] });
  const shift = prologue.length;
  const entries = firsts.slice(1).map((f) => f + shift);
  let ops: Op[] = [...prologue];
  lens.forEach((len, k) => {
    const fops = genFunc(r, len, firsts[k] + shift, () => total + shift, entries);
    ops = ops.concat(fops);
  });
  return layout(ops);
}

function layout(ops: Op[]): Program {
  const at: number[] = [];
  let pc = 0;
  for (const op of ops) {
    at.push(pc);
    pc += op.slots.length;
  }
  const prog: Program = [];
  ops.forEach((op, k) => {
    const slots = op.slots.map((s) => ({ ...s }));
    if (op.target !== undefined) {
      const t = at[Math.min(op.target, ops.length - 1)];
      const rel = t - (at[k] + 1);
      if (op.kind === 'jmp') slots[0].off = rel;
      else slots[0].imm = rel;
    }
    prog.push(...slots);
  });
  return prog;
}
