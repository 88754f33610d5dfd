/**
 * The Wasm ring buffer helpers (maps/wasm-ringbuf.ts, what the JIT imports) against the
 * JavaScript ones (the interpreter): random program sequences (output, reserve + submit or
 * discard, double submit, submit of a forged or stack pointer, reserve with flags or a huge
 * size, query) run in both engines on two runtimes must give the same results or the same
 * faults and leave byte-identical ring buffer memory; consumers are woken by the Wasm submit
 * (without BPF_RB_NO_WAKEUP) only while one waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { RingBuffer } from '../../src/core/runtime/ringbuf.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_RINGBUF } from '../../src/core/maps/layout.js';
import { isBpfError } from '../../src/core/errors.js';

const RB = { mapType: BPF_MAP_TYPE_RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 };

type Op =
  | { kind: 'output'; size: number; flags: number }
  | { kind: 'submit' | 'discard' | 'twice' | 'forged' | 'stack'; size: number; flags: number }
  | { kind: 'reserve'; size: bigint; flags: number }
  | { kind: 'query'; flags: number }
  | { kind: 'notring' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('output' as const), size: fc.integer({ min: 0, max: 300 }), flags: fc.constantFrom(0, 1, 2, 3, 4) }),
  fc.record({
    kind: fc.constantFrom('submit' as const, 'discard' as const, 'twice' as const, 'forged' as const, 'stack' as const),
    size: fc.oneof(fc.integer({ min: 1, max: 1500 }), fc.constantFrom(4080, 4088, 4089)), flags: fc.constantFrom(0, 1),
  }),
  fc.record({ kind: fc.constant('reserve' as const), size: fc.constantFrom(8n, 0x3fffffffn, 0x40000000n, 1n << 32n), flags: fc.constantFrom(0, 1) }),
  fc.record({ kind: fc.constant('query' as const), flags: fc.integer({ min: 0, max: 5 }) }),
  fc.constant({ kind: 'notring' as const }),
);

/** program text of one operation on ring buffer `fd` (array map `afd` for the wrong-map case). */
function progText(op: Op, fd: number, afd: number): string {
  const reserve = (size: bigint | number, flags: number): string => `ld_pseudo r1, 1, ${fd}\nr2 = ${size} ll\nr3 = ${flags}\ncall 131`;
  switch (op.kind) {
    case 'output':
      return `r1 = 7\n*(u64 *)(r10 - 8) = r1\n${[...Array(40).keys()].map((i) => `*(u64 *)(r10 - ${320 - 8 * i}) = r1`).join('\n')}
        ld_pseudo r1, 1, ${fd}\nr2 = r10\nr2 += -320\nr3 = ${op.size}\nr4 = ${op.flags}\ncall 130\nexit`;
    case 'query':
      return `ld_pseudo r1, 1, ${fd}\nr2 = ${op.flags}\ncall 134\nexit`;
    case 'reserve':
      return `${reserve(op.size, op.flags)}\nif r0 == 0 goto out\nr1 = r0\nr2 = 0\ncall 133\nr0 = 1\nout:\nexit`;
    case 'notring':
      return `ld_pseudo r1, 1, ${afd}\nr2 = 8\nr3 = 0\ncall 131\nexit`;
    default: {
      const ptr = op.kind === 'forged' ? 'r1 = r0\nr1 += 8' : op.kind === 'stack' ? 'r1 = r10\nr1 += -16' : 'r1 = r0';
      const again = op.kind === 'twice' ? `\nr1 = r6\nr2 = 0\ncall 132` : '';
      return `${reserve(op.size, 0)}\nif r0 == 0 goto out\nr6 = r0\nr1 = 5\n*(u8 *)(r0 + 0) = r1\n${ptr}\nr2 = ${op.flags}
        call ${op.kind === 'discard' ? 133 : 132}${again}\nr0 = 1\nout:\nexit`;
    }
  }
}

function outcome(f: () => bigint): string {
  try {
    return `r0 ${f()}`;
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return `${e.code} ${e.message}`;
  }
}

for (const checked of [true, false]) {
  test(`ring buffer helpers: the JIT's Wasm forms and the interpreter's agree (${checked ? 'checked' : 'trusted'})`, () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
      const sides = [interpreter, jit].map((engine) => {
        const rt = new Runtime({ initialBytes: 1 << 20 });
        const afd = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
        return { rt, engine, fd: cmd.mapCreate(rt, RB), afd };
      });
      ops.forEach((op, step) => {
        const [a, b] = sides.map((s) => outcome(() => s.rt.load(s.engine, assemble(progText(op, s.fd, s.afd)), { checked }).run().r0));
        assert.equal(b, a, `step ${step}: ${JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      });
      const [ma, mb] = sides.map((s) => {
        const m = s.rt.map(s.fd);
        return s.rt.space.u8.slice(m.hdr, m.values + m.valuesSize);
      });
      assert.deepEqual(mb, ma);
    }), { numRuns: 60 });
  });
}

test('the JIT imports the Wasm ring buffer helpers, which wake a waiting consumer (and only call out then)', async () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const fd = cmd.mapCreate(rt, RB);
  for (const id of [130, 131, 132, 133, 134]) {
    const f = rt.helpers.get(id)!.wasm!(rt.context(0), false) as unknown as { name: string };
    assert.ok(f && /^\d+$/.test(f.name), `helper ${id} is an exported Wasm function`);
  }
  const prog = rt.load(jit, assemble(`*(u64 *)(r10 - 8) = r1\nld_pseudo r1, 1, ${fd}\nr2 = r10\nr2 += -8\nr3 = 8\nr4 = 0\ncall 130\nexit`));
  prog.run({ args: [1n] }); // nobody waits: no wake-up
  const rb = new RingBuffer(rt, fd);
  const got: bigint[] = [];
  const woke = rb.poll((d) => got.push(new DataView(d.buffer).getBigUint64(0, true)), 5000);
  assert.deepEqual(got, [1n], 'the first record is consumed at once');
  setTimeout(() => prog.run({ args: [2n] }), 10);
  const t0 = Date.now();
  await woke; // the already-consumed poll returned at once
  const more = await rb.poll((d) => got.push(new DataView(d.buffer).getBigUint64(0, true)), 5000);
  assert.equal(more, 1);
  assert.ok(Date.now() - t0 < 2500, 'woken by the submit, not by the timeout');
  assert.deepEqual(got, [1n, 2n]);
  rb.close();
});
