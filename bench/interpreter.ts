/**
 * Interpreter micro-benchmarks: ns per executed instruction on a few small programs, checked
 * and trusted. Run: npx tsc -p tsconfig.json && node dist/bench/interpreter.js
 */
import { insn, lddw, type Program } from '../src/core/isa/instruction.js';
import * as o from '../src/core/isa/opcodes.js';
import { createVmContext, dataBuffer, interpreter, PERM_RW } from '../src/core/index.js';

const A64 = o.BPF_ALU64, J = o.BPF_JMP, X = o.BPF_X, K = o.BPF_K;

/** sumLoop: r0 = sum of 1..r1 (3 instructions per iteration). */
function sumLoop(): Program {
  return [
    insn(A64 | o.BPF_MOV | K, 0, 0, 0, 0),
    insn(A64 | o.BPF_ADD | X, 0, 1),
    insn(A64 | o.BPF_SUB | K, 1, 0, 0, 1),
    insn(J | o.BPF_JNE | K, 1, 0, -3, 0),
    insn(J | o.BPF_EXIT),
  ];
}

/** fnv1a: 64-bit FNV-1a over [r1, r1 + r2) (7 instructions per byte). */
function fnv1a(): Program {
  return [
    ...lddw(0, 0xcbf29ce484222325n),
    ...lddw(3, 0x100000001b3n),
    insn(A64 | o.BPF_MOV | X, 4, 1),
    insn(A64 | o.BPF_ADD | X, 4, 2),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_B, 5, 1, 0),
    insn(A64 | o.BPF_XOR | X, 0, 5),
    insn(A64 | o.BPF_MUL | X, 0, 3),
    insn(A64 | o.BPF_ADD | K, 1, 0, 0, 1),
    insn(J | o.BPF_JNE | X, 1, 4, -5),
    insn(J | o.BPF_EXIT),
  ];
}

/** stackLoop: spills and fills a counter through the stack each iteration. */
function stackLoop(): Program {
  return [
    insn(o.BPF_STX | o.BPF_MEM | o.BPF_DW, 10, 1, -8),
    insn(o.BPF_LDX | o.BPF_MEM | o.BPF_DW, 2, 10, -8),
    insn(A64 | o.BPF_SUB | K, 2, 0, 0, 1),
    insn(o.BPF_STX | o.BPF_MEM | o.BPF_DW, 10, 2, -8),
    insn(J | o.BPF_JNE | K, 2, 0, -4, 0),
    insn(A64 | o.BPF_MOV | X, 0, 2),
    insn(J | o.BPF_EXIT),
  ];
}

function bench(name: string, prog: Program, checked: boolean, args: (addr: number) => bigint[], reps: number): void {
  const ctx = createVmContext();
  const data = dataBuffer(ctx, 64);
  ctx.space.write(data, new Uint8Array(64).map((_, i) => i * 7));
  const loaded = interpreter.load(prog, ctx, { checked });
  const regions = [{ start: data, end: data + 64, perm: PERM_RW, name: 'data' }];
  const run = () => loaded.run({ args: args(data), regions });
  for (let i = 0; i < Math.min(reps, 2000); i++) run(); // warm up
  let steps = 0;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) steps += run().steps;
  const ms = performance.now() - t0;
  const ns = (ms * 1e6) / steps;
  console.log(`${name.padEnd(10)} ${checked ? 'checked' : 'trusted'}  ${ns.toFixed(2)} ns/insn  (${steps} insns, ${ms.toFixed(0)} ms, ${((ms * 1e6) / reps).toFixed(0)} ns/run)`);
}

for (const checked of [true, false]) {
  bench('sum', sumLoop(), checked, () => [1_000_000n], 10);
  bench('fnv1a-64', fnv1a(), checked, (a) => [BigInt(a), 64n], 20_000);
  bench('stack', stackLoop(), checked, () => [1_000_000n], 5);
}
