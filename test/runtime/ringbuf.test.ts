/**
 * Ring buffers: random sequences of program operations (output, reserve + submit, reserve +
 * discard, reserve with bad flags, query) give the same results and positions as a kernel
 * ring buffer (BPF_PROG_TEST_RUN), in the interpreter and the JIT; the consumer sees submitted
 * records in order with their bytes (discarded ones skipped, records wrapping past the end
 * intact) through consume(), and through async iteration as they arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { encode } from '../../src/core/isa/instruction.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { RingBuffer } from '../../src/core/runtime/ringbuf.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import { BPF_MAP_TYPE_RINGBUF } from '../../src/core/maps/layout.js';
import { errnoOf } from '../maps/kernel-util.js';

const avail = kernelAvailable();
const RB = { mapType: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 };

type Op =
  | { kind: 'output'; size: number; flags: number; fill: number }
  | { kind: 'submit' | 'discard' | 'badflags'; size: number; fill: number }
  | { kind: 'query'; flags: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('output' as const), size: fc.integer({ min: 0, max: 256 }), flags: fc.constantFrom(0, 1, 2, 4), fill: fc.nat(255) }),
  fc.record({ kind: fc.constantFrom('submit' as const, 'discard' as const, 'badflags' as const), size: fc.oneof(fc.integer({ min: 1, max: 1500 }), fc.constantFrom(4088, 4089, 5000)), fill: fc.nat(255) }),
  fc.record({ kind: fc.constant('query' as const), flags: fc.nat(4) }),
);

/** program text of one operation on ring buffer `fd` (the record bytes are `fill`). */
function progText(op: Op, fd: number): string {
  const fillStack = (): string => [...Array(32).keys()].map((i) => `*(u64 *)(r10 - ${256 - i * 8}) = r6`).join('\n');
  const fill64 = (f: number): string => `r6 = ${BigInt(f) * 0x0101010101010101n} ll`;
  switch (op.kind) {
    case 'output':
      return `${fill64(op.fill)}\n${fillStack()}\nld_pseudo r1, 1, ${fd}\nr2 = r10\nr2 += -256\nr3 = ${op.size}\nr4 = ${op.flags}\ncall 130\nexit`;
    case 'query':
      return `ld_pseudo r1, 1, ${fd}\nr2 = ${op.flags}\ncall 134\nexit`;
    default: {
      const bytes = op.kind === 'badflags' ? '' : `r1 = ${op.fill}\n*(u8 *)(r0 + 0) = r1\n*(u8 *)(r0 + ${op.size - 1}) = r1`;
      return `ld_pseudo r1, 1, ${fd}\nr2 = ${op.size}\nr3 = ${op.kind === 'badflags' ? 1 : 0}\ncall 131\nif r0 == 0 goto null
        ${bytes}\nr1 = r0\nr2 = 0\ncall ${op.kind === 'discard' ? 133 : 132}\nr0 = 1\nexit\nnull:\nr0 = 0\nexit`;
    }
  }
}

test('ring buffer operations from programs: same results and positions as the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const ours = cmd.mapCreate(rt, RB);
    const kfd = k.mapCreate(RB);
    try {
      ops.forEach((op, i) => {
        const mine = Number(rt.load(i % 2 ? jit : interpreter, assemble(progText(op, ours))).run().r0 & 0xffffffffn);
        const kprog = k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: encode(assemble(progText(op, kfd))) }).fd;
        try {
          assert.equal(mine, k.progTestRun(kprog, { dataIn: new Uint8Array(64) }).retval, `step ${i}: ${JSON.stringify(op)}`);
        } finally {
          k.closeFd(kprog);
        }
      });
    } finally {
      k.closeFd(kfd);
    }
  }), { numRuns: 25 });
});

test('ring buffer creation attributes and element commands fail as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const rt = new Runtime({ initialBytes: 1 << 20 });
  for (const [n, ks, vs, flags] of [[4096, 0, 0, 0], [4096, 4, 0, 0], [4096, 0, 4, 0], [8192, 0, 0, 0], [12288, 0, 0, 0], [2048, 0, 0, 0], [0, 0, 0, 0], [4096, 0, 0, 1], [4096, 0, 0, 4]]) {
    const attr = { mapType: BPF_MAP_TYPE_RINGBUF, keySize: ks, valueSize: vs, maxEntries: n, mapFlags: flags };
    const a = errnoOf(() => cmd.mapCreate(rt, attr)), b = errnoOf(() => k.mapCreate(attr));
    if (b.errno === 0) k.closeFd(b.value as number);
    assert.equal(a.errno, b.errno, JSON.stringify(attr));
  }
  const ours = cmd.mapCreate(rt, RB), kfd = k.mapCreate(RB);
  try {
    const e = new Uint8Array(0);
    assert.equal(errnoOf(() => cmd.mapLookupElem(rt, ours, e)).errno, errnoOf(() => k.mapLookup(kfd, e, 0)).errno);
    assert.equal(errnoOf(() => cmd.mapUpdateElem(rt, ours, e, e)).errno, errnoOf(() => k.mapUpdate(kfd, e, e)).errno);
    assert.equal(errnoOf(() => cmd.mapDeleteElem(rt, ours, e)).errno, errnoOf(() => k.mapDelete(kfd, e)).errno);
    assert.equal(errnoOf(() => cmd.mapGetNextKey(rt, ours, null)).errno, errnoOf(() => k.mapGetNextKey(kfd, null, 0)).errno);
  } finally {
    k.closeFd(kfd);
  }
});

test('the consumer gets submitted records in order with their bytes, also across the end of the ring', () => {
  for (const engine of [interpreter, jit]) {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const fd = cmd.mapCreate(rt, RB);
    const rb = new RingBuffer(rt, fd);
    const expect: string[] = [];
    let seen: string[] = [];
    const hexOf = (size: number, fill: number): string => `${size}:${fill}`;
    const got = (d: Uint8Array): void => {
      assert.ok(d.every((b) => b === d[0]), 'record bytes');
      seen.push(hexOf(d.length, d[0]));
    };
    for (let round = 0; round < 12; round++) {
      for (const [i, size] of [700, 1, 1000, 64].entries()) {
        const fill = (round * 4 + i) & 0xff;
        // reserve + fill every byte + submit (or discard every third)
        const discard = (round + i) % 3 === 0;
        const text = `ld_pseudo r1, 1, ${fd}\nr2 = ${size}\nr3 = 0\ncall 131\nif r0 == 0 goto null\nr6 = r0\nr7 = 0\nr1 = ${fill}
          loop:\nr2 = r6\nr2 += r7\n*(u8 *)(r2 + 0) = r1\nr7 += 1\nif r7 < ${size} goto loop
          r1 = r6\nr2 = 0\ncall ${discard ? 133 : 132}\nr0 = 1\nexit\nnull:\nr0 = 0\nexit`;
        assert.equal(rt.load(engine, assemble(text)).run().r0, 1n, `reserve ${size} in round ${round}`);
        if (!discard) expect.push(hexOf(size, fill));
      }
      rb.consume(got);
      assert.deepEqual(seen, expect);
    }
    seen = [];
    assert.equal(rb.consume(got), 0);
    rb.close();
  }
});

test('async iteration yields records as programs submit them', async () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const fd = cmd.mapCreate(rt, RB);
  const rb = new RingBuffer(rt, fd);
  const prog = rt.load(jit, assemble(`*(u64 *)(r10 - 8) = r1\nld_pseudo r1, 1, ${fd}\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall 130\nexit`));
  const timer = setInterval(() => {
    for (let i = 0; i < 3; i++) prog.run({ args: [BigInt(n++)] });
  }, 5);
  let n = 0;
  const out: bigint[] = [];
  for await (const rec of rb) {
    out.push(new DataView(rec.buffer).getBigUint64(0, true));
    if (out.length === 10) break;
  }
  clearInterval(timer);
  rb.close();
  assert.deepEqual(out, [...Array(10).keys()].map(BigInt));
});
