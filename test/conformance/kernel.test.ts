/**
 * Cross-checks the corpus's hand-computed results against the Linux kernel, where the kernel
 * accepts the program: each pure case (no data, no helper, no LD_ABS, no expected error) runs as
 * a bpf-to-bpf subprogram of a small XDP wrapper that stores the full 64-bit r0 into the packet.
 * Cases the verifier rejects are skipped with its reason; a different result is a failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, insn, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { kernelRun } from '../../src/node/kernel/test-run.js';
import { isBpfError } from '../../src/core/errors.js';
import { loadCorpus, type CorpusCase } from './corpus.js';
import { caseProgram, loadAssembler } from './run-case.js';

/** Cases whose result depends on tsbpf's own memory layout, which the kernel does not share. */
const LAYOUT_DEPENDENT: Record<string, string> = {
  'calls/r10-per-frame.data': 'tsbpf gives every frame 512 bytes; the kernel sizes frames by use',
};

/** WRAPPER calls the case at slot WRAPPER.length and stores its r0 at data[0..8) (if it fits). */
const WRAPPER: Program = [
  insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, 6, 1), // r6 = ctx
  insn(o.BPF_JMP | o.BPF_CALL, 0, o.BPF_PSEUDO_CALL, 0, 8), // call the case (slot 10)
  insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, 2, 6, 0), // r2 = ctx->data
  insn(o.BPF_LDX | o.BPF_MEM | o.BPF_W, 3, 6, 4), // r3 = ctx->data_end
  insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_X, 4, 2),
  insn(o.BPF_ALU64 | o.BPF_ADD | o.BPF_K, 4, 0, 0, 8),
  insn(o.BPF_JMP | o.BPF_JGT | o.BPF_X, 4, 3, 1), // if data + 8 > data_end skip the store
  insn(o.BPF_STX | o.BPF_MEM | o.BPF_DW, 2, 0, 0), // *(u64 *)data = r0
  insn(o.BPF_ALU64 | o.BPF_MOV | o.BPF_K, 0, 0, 0, 2), // XDP_PASS
  insn(o.BPF_JMP | o.BPF_EXIT),
];

function eligible(c: CorpusCase): boolean {
  if (c.error || c.mem.length > 0 || c.raw) return false;
  return !/\bcall\s+\d|ld(abs|ind)/i.test(c.asm ?? '');
}

function firstVerifierLine(e: unknown): string {
  const msg = isBpfError(e) ? e.detail : String(e);
  const lines = msg.split('\n').filter((l) => l.trim());
  return lines.slice(-2).join(' | ').slice(0, 200);
}

const avail = kernelAvailable();
const assemble = await loadAssembler();
const cases = loadCorpus().filter(eligible);

describe('corpus results agree with the Linux kernel', () => {
  for (const c of cases) {
    test(c.name, (t) => {
      if (!avail.ok) return t.skip(avail.reason);
      if (typeof assemble === 'string') return t.skip(assemble);
      if (LAYOUT_DEPENDENT[c.name]) return t.skip(LAYOUT_DEPENDENT[c.name]);
      const prog = [...WRAPPER, ...caseProgram(c, assemble)];
      let out: Uint8Array;
      try {
        out = kernelRun(encode(prog), new Uint8Array(64)).dataOut;
      } catch (e) {
        return t.skip(`kernel rejects it: ${firstVerifierLine(e)}`);
      }
      const r0 = new DataView(out.buffer, out.byteOffset, 8).getBigUint64(0, true);
      assert.equal('0x' + r0.toString(16), '0x' + (c.result ?? 0n).toString(16), `${c.name}: kernel r0`);
    });
  }
});
