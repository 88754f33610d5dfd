/**
 * Queue and stack maps against the kernel's: random push (BPF_ANY / BPF_EXIST / bad flags),
 * peek (lookup), pop (lookup-and-delete), delete and get_next_key give the same errors and
 * values; creation attributes are accepted or refused alike; programs' push/pop/peek helpers
 * (interpreter and JIT) see the same queue as user space.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import { withBuffers } from '../../src/node/kernel/ffi.js';
import { BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK } from '../../src/core/maps/layout.js';
import { errnoOf, hex, valBytes } from './kernel-util.js';

const avail = kernelAvailable();
const BPF_MAP_LOOKUP_AND_DELETE_ELEM = 21;

/** kernelPop: BPF_MAP_LOOKUP_AND_DELETE_ELEM with a NULL key (not in the shared syscall module). */
function kernelPop(fd: number, size: number): Uint8Array {
  return withBuffers((alloc) => {
    const attr = alloc(128);
    const dv = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, 128);
    const out = alloc(size);
    dv.setUint32(0, fd, true);
    dv.setBigUint64(16, out.addr, true);
    const r = rawBpf(BPF_MAP_LOOKUP_AND_DELETE_ELEM, attr.ptr);
    if (r < 0) throw new k.KernelError('ENOENT', 'pop', errnoNow(), BPF_MAP_LOOKUP_AND_DELETE_ELEM);
    return out.bytes.slice();
  });
}

let rawBpf: (cmd: number, attr: unknown) => number;
let errnoNow: () => number;

async function setupRaw(): Promise<void> {
  const ffi = await import('../../src/node/kernel/ffi.js');
  const libc = ffi.loadLibc();
  rawBpf = (c, attr) => Number(libc.syscall(k.sysBpfNumber()!, c, attr, 128));
  errnoNow = ffi.errno;
}

type Op = { kind: 'push'; val: number; flags: number } | { kind: 'peek' | 'pop' | 'delete' | 'next' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), val: fc.nat(), flags: fc.constantFrom(0, 0, 2, 1, 4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('peek' as const, 'pop' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'next' as const) }) },
);

for (const mapType of [BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK]) {
  test(`${mapType === BPF_MAP_TYPE_QUEUE ? 'queue' : 'stack'}: random commands as in the kernel`, async (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    await setupRaw();
    const attr = { mapType, keySize: 0, valueSize: 6, maxEntries: 4 };
    const none = new Uint8Array(0);
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const ours = cmd.mapCreate(rt, attr);
      const kfd = k.mapCreate(attr);
      try {
        for (const op of ops) {
          let a, b;
          if (op.kind === 'push') {
            const v = valBytes(op.val, 6);
            a = errnoOf(() => cmd.mapUpdateElem(rt, ours, none, v, op.flags)).errno;
            b = errnoOf(() => k.mapUpdate(kfd, null as unknown as Uint8Array, v, op.flags)).errno;
          } else if (op.kind === 'peek') {
            a = errnoOf(() => hex(cmd.mapLookupElem(rt, ours, none)));
            const v = errnoOf(() => k.mapLookup(kfd, null as unknown as Uint8Array, 6));
            b = v.errno ? v : v.value ? { errno: 0, value: hex(v.value as Uint8Array) } : { errno: 2 };
          } else if (op.kind === 'pop') {
            a = errnoOf(() => hex(cmd.mapLookupAndDeleteElem(rt, ours, none)));
            b = errnoOf(() => hex(kernelPop(kfd, 6)));
          } else if (op.kind === 'delete') {
            a = errnoOf(() => cmd.mapDeleteElem(rt, ours, none)).errno;
            b = errnoOf(() => k.mapDelete(kfd, null as unknown as Uint8Array)).errno;
          } else {
            a = errnoOf(() => cmd.mapGetNextKey(rt, ours, null)).errno;
            b = errnoOf(() => k.mapGetNextKey(kfd, null, 0)).errno;
          }
          assert.deepEqual(a, b, JSON.stringify(op));
        }
      } finally {
        k.closeFd(kfd);
      }
    }), { numRuns: 60 });
  });
}

test('queue/stack creation attributes as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const rt = new Runtime({ initialBytes: 1 << 20 });
  fc.assert(fc.property(fc.record({
    mapType: fc.constantFrom(BPF_MAP_TYPE_QUEUE, BPF_MAP_TYPE_STACK), keySize: fc.constantFrom(0, 4),
    valueSize: fc.constantFrom(0, 1, 8), maxEntries: fc.constantFrom(0, 1, 5), mapFlags: fc.constantFrom(0, 1, 4, 8, 16, 24, 128),
  }), (a) => {
    const ours = errnoOf(() => cmd.mapCreate(rt, a)), kern = errnoOf(() => k.mapCreate(a));
    if (kern.errno === 0) k.closeFd(kern.value as number);
    assert.equal(ours.errno, kern.errno, JSON.stringify(a));
  }), { numRuns: 100 });
});

test('push/pop/peek helpers in programs share the queue with user space (interpreter and JIT)', () => {
  for (const engine of [interpreter, jit]) {
    for (const checked of [true, false]) {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const q = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_QUEUE, keySize: 0, valueSize: 8, maxEntries: 3 });
      const push = rt.load(engine, assemble(`*(u64 *)(r10 - 8) = r1\nr3 = r2\nld_pseudo r1, 1, ${q}\nr2 = r10\nr2 += -8\ncall 87\nexit`), { checked });
      const pop = (id: number): bigint => {
        const r = rt.load(engine, assemble(`ld_pseudo r1, 1, ${q}\nr2 = r10\nr2 += -8\ncall ${id}\nif r0 != 0 goto out\nr0 = *(u64 *)(r10 - 8)\nout:\nexit`), { checked }).run().r0;
        return BigInt.asIntN(64, r);
      };
      assert.deepEqual([1n, 2n, 3n, 4n].map((v) => BigInt.asIntN(64, push.run({ args: [v, 0n] }).r0)), [0n, 0n, 0n, -7n]);
      assert.equal(push.run({ args: [4n, 2n] }).r0, 0n, 'BPF_EXIST overwrites the oldest');
      assert.equal(pop(89), 2n);
      assert.equal(pop(88), 2n);
      assert.equal(new DataView(cmd.mapLookupAndDeleteElem(rt, q, new Uint8Array(0)).buffer).getBigUint64(0, true), 3n);
      assert.equal(pop(88), 4n);
      assert.equal(pop(88), -2n, 'empty: -ENOENT');
    }
  }
});
