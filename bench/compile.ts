/**
 * JIT compile time: a 1,000-instruction program (ALU, forward branches, stack loads/stores, a
 * loop) compiled repeatedly with a different constant each time so no cache can answer.
 */
import { createVmContext } from '../src/core/vm/index.js';
import * as o from '../src/core/isa/index.js';
import type { Program } from '../src/core/isa/index.js';
import { median } from './measure.js';

/** syntheticProgram builds a program of exactly `n` slots whose first constant is `salt`. */
export function syntheticProgram(n: number, salt: number): Program {
  const p: Program = [];
  const I = o.insn;
  p.push(I(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, 0, 0, 0, salt));
  for (let r = 1; r <= 9; r++) p.push(I(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, r, 0, 0, r * 7 + salt));
  const ops = [o.BPF_ADD, o.BPF_SUB, o.BPF_XOR, o.BPF_OR, o.BPF_AND, o.BPF_MUL, o.BPF_LSH, o.BPF_RSH];
  let k = 0;
  while (p.length < n - 8) {
    const dst = (k % 9) + 1, src = ((k * 5) % 9) + 1;
    switch (k % 6) {
      case 0: p.push(I(o.BPF_ALU64 | ops[k % 8] | o.BPF_X, dst, src)); break;
      case 1: p.push(I(o.BPF_ALU | ops[(k >> 1) % 8] | o.BPF_K, dst, 0, 0, (k % 31) + 1)); break;
      case 2: p.push(I(o.BPF_STX | o.BPF_MEM | o.BPF_DW, 10, dst, -8 * ((k % 16) + 1))); break;
      case 3: p.push(I(o.BPF_LDX | o.BPF_MEM | o.BPF_DW, dst, 10, -8 * (((k - 1) % 16) + 1))); break;
      case 4: p.push(I(o.BPF_JMP | o.BPF_JGT | o.BPF_X, dst, src, 1)); break;
      default: p.push(I(o.BPF_ALU64 | o.BPF_ADD | o.BPF_X, 0, dst)); break;
    }
    k++;
  }
  // a small counted loop at the end, then exit
  p.push(I(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, 1, 0, 0, 10));
  p.push(I(o.BPF_ALU64 | o.BPF_ADD | o.BPF_X, 0, 1));
  p.push(I(o.BPF_ALU64 | o.BPF_SUB | o.BPF_K, 1, 0, 0, 1));
  p.push(I(o.BPF_JMP | o.BPF_JNE | o.BPF_K, 1, 0, -3, 0));
  while (p.length < n - 1) p.push(I(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, 2, 0));
  p.push(I(o.BPF_JMP | o.BPF_EXIT));
  return p;
}

/** measureCompile returns compile-time statistics for the JIT, or null when it is missing. */
export async function measureCompile(count: number) {
  let jit;
  try {
    jit = (await import('../src/core/jit/index.js')).jit;
  } catch {
    return null;
  }
  const ctx = createVmContext();
  const t0 = performance.now();
  jit.load(syntheticProgram(1000, 0), ctx, { checked: true });
  const firstMs = performance.now() - t0;
  const samples: number[] = [];
  for (let i = 1; i <= count; i++) {
    const prog = syntheticProgram(1000, i);
    const t = performance.now();
    jit.load(prog, ctx, { checked: i % 2 === 0 });
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { insns: 1000, firstMs, medianMs: median(samples), p90Ms: samples[Math.floor(samples.length * 0.9)] };
}
