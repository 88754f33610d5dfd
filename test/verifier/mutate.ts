/**
 * Program mutation for differential verifier testing: generated programs are all safe, so
 * one small random change (a register, an offset, an immediate, an opcode, two swapped
 * instructions) gives programs the kernel often rejects — the cases where a verifier that
 * accepts too much would show.
 */
import { insn, isLddw, type Insn, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';

/** Rng is a small deterministic generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const IMMS = [0, 1, -1, 2, 4, 7, 8, 13, 14, 16, 31, 32, 63, 64, 100, 159, 160, 161, 255, 256, 511, 512, 0x7fffffff, -0x80000000, -8, -16, -512, -513];
const OFFS = [0, 1, -1, 2, 4, 8, -4, -8, -16, -64, -65, -504, -512, -520, 12, 76, 80, 152, 156, 160, 200];
const SIZES = [o.BPF_B, o.BPF_H, o.BPF_W, o.BPF_DW];

function randomInsn(r: () => number): Insn {
  const dst = Math.floor(r() * 11), src = Math.floor(r() * 11);
  switch (Math.floor(r() * 6)) {
    case 0: return insn(o.BPF_ALU64 | pick(r, [o.BPF_ADD, o.BPF_SUB, o.BPF_MOV, o.BPF_AND, o.BPF_LSH, o.BPF_MUL]) | o.BPF_X, dst, src);
    case 1: return insn(o.BPF_ALU64 | pick(r, [o.BPF_ADD, o.BPF_MOV, o.BPF_AND, o.BPF_RSH]) | o.BPF_K, dst, 0, 0, pick(r, IMMS));
    case 2: return insn(o.BPF_LDX | o.BPF_MEM | pick(r, SIZES), dst, src, pick(r, OFFS));
    case 3: return insn(o.BPF_STX | o.BPF_MEM | pick(r, SIZES), dst, src, pick(r, OFFS));
    case 4: return insn(o.BPF_ST | o.BPF_MEM | pick(r, SIZES), dst, 0, pick(r, OFFS), pick(r, IMMS));
    default: return insn(o.BPF_JMP | pick(r, [o.BPF_JGT, o.BPF_JEQ, o.BPF_JNE, o.BPF_JSGT]) | o.BPF_X, dst, src, Math.floor(r() * 5));
  }
}

/** mutate returns a copy of `prog` with one random change (never touching the second half of an lddw). */
export function mutate(prog: Program, r: () => number): Program {
  const p = prog.map((i) => ({ ...i }));
  const slots = p.map((_, k) => k).filter((k) => k === 0 || !isLddw(p[k - 1]));
  const k = pick(r, slots);
  const i = p[k];
  switch (Math.floor(r() * 7)) {
    case 0: i.dst = Math.floor(r() * 11); break;
    case 1: i.src = isLddw(i) ? i.src : Math.floor(r() * 11); break;
    case 2: i.off = pick(r, OFFS); break;
    case 3: i.imm = pick(r, IMMS); break;
    case 4: if (!isLddw(i)) p[k] = randomInsn(r); break;
    case 5: {
      const j = pick(r, slots);
      if (!isLddw(p[j]) && !isLddw(i)) [p[k], p[j]] = [p[j], p[k]];
      break;
    }
    default: {
      // resize a memory access
      const cls = o.BPF_CLASS(i.code);
      if (cls === o.BPF_LDX || cls === o.BPF_ST || (cls === o.BPF_STX && o.BPF_MODE(i.code) === o.BPF_MEM)) i.code = (i.code & ~0x18) | pick(r, SIZES);
    }
  }
  return p;
}
