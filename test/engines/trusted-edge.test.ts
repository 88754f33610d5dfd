// Trusted mode at the very end of the memory: a 64-bit store that runs off the end is E_MEM in
// both engines and writes nothing (Wasm semantics), so the engines leave identical memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { insn, lddw, BPF_ST, BPF_STX, BPF_MEM, BPF_DW, BPF_JMP, BPF_EXIT, BPF_ALU64, BPF_MOV, BPF_K } from '../../src/core/isa/index.js';
import { createVmContext } from '../../src/core/vm/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { isBpfError } from '../../src/core/errors.js';

for (const engine of [interpreter, jit]) {
  for (const form of ['stx', 'st'] as const) {
    test(`${engine.name}: trusted ${form}dw straddling the end of memory faults and writes nothing`, () => {
      const ctx = createVmContext();
      const end = ctx.space.size;
      ctx.space.u8.fill(0, end - 8, end);
      const store = form === 'stx'
        ? insn(BPF_STX | BPF_MEM | BPF_DW, 1, 2, 0)
        : insn(BPF_ST | BPF_MEM | BPF_DW, 1, 0, 0, -1);
      const prog = [...lddw(1, BigInt(end - 4)), ...lddw(2, -1n), store, insn(BPF_ALU64 | BPF_MOV | BPF_K, 0), insn(BPF_JMP | BPF_EXIT)];
      const loaded = engine.load(prog, ctx, { checked: false });
      assert.throws(() => loaded.run(), (e) => isBpfError(e) && e.code === 'E_MEM');
      assert.deepEqual([...ctx.space.u8.subarray(end - 8, end)], [0, 0, 0, 0, 0, 0, 0, 0]);
    });
  }
}
