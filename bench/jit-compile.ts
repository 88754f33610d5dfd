/**
 * JIT compile-time benchmark: a 1,000-instruction program (bench/compile.ts's synthetic
 * mix) compiled many times with a different constant so the module cache never answers.
 * Reports the first compilation and the median/p90 of later ones, split into codegen (our
 * encoder) and `new WebAssembly.Module` (V8 validates; it compiles lazily), plus the first
 * run, which pays for Liftoff compiling the functions it enters.
 * Run: npx tsc -p tsconfig.json && node dist/bench/jit-compile.js
 */
import { createVmContext } from '../src/core/vm/index.js';
import { validate } from '../src/core/isa/validate.js';
import { compile } from '../src/core/jit/compile.js';
import { jit } from '../src/core/jit/index.js';
import { syntheticProgram } from './compile.js';
import { median } from './measure.js';

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${median(s).toFixed(3)} ms, p90 ${s[Math.floor(s.length * 0.9)].toFixed(3)} ms`;
}

function main(): void {
  const count = Number(process.argv[2] ?? 200);
  const ctx = createVmContext();
  let t = performance.now();
  jit.load(syntheticProgram(1000, 0), ctx, { checked: true });
  console.log(`first jit.load (1000 insns, checked): ${(performance.now() - t).toFixed(2)} ms`);
  for (const checked of [true, false]) {
    const total: number[] = [], first: number[] = [], gen: number[] = [], wasm: number[] = [];
    let bytes = 0;
    for (let i = 1; i <= count; i++) {
      // distinct programs everywhere: V8 itself caches modules by their bytes
      const prog = syntheticProgram(1000, i * 4 + (checked ? 0 : 1));
      t = performance.now();
      const loaded = jit.load(prog, ctx, { checked });
      total.push(performance.now() - t);
      t = performance.now();
      loaded.run({ budget: 1e6 });
      first.push(performance.now() - t);
      const other = syntheticProgram(1000, i * 4 + (checked ? 2 : 3));
      const halves = validate(other);
      t = performance.now();
      const out = compile(other, halves, { checked, budget: checked, shared: false });
      gen.push(performance.now() - t);
      bytes = out.bytes.length;
      t = performance.now();
      new WebAssembly.Module(out.bytes as Uint8Array<ArrayBuffer>);
      wasm.push(performance.now() - t);
    }
    const mode = checked ? 'checked' : 'trusted';
    console.log(`${mode} (${bytes} bytes of Wasm):`);
    console.log(`  jit.load                 ${stats(total)}`);
    console.log(`    codegen                ${stats(gen)}`);
    console.log(`    new WebAssembly.Module ${stats(wasm)} (validation; V8 compiles lazily)`);
    console.log(`  first run (Liftoff compiles the functions it calls) ${stats(first)}`);
  }
}

main();
