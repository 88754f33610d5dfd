/**
 * Prog arrays and bpf_tail_call: user-space commands on prog arrays compared with the
 * kernel's (errors, which program a slot holds, iteration), the 33-tail-call limit counted by
 * a self-tail-calling program in the kernel (BPF_PROG_TEST_RUN) and in every engine, and
 * dispatch through a prog array (hit, empty slot, index out of range) in every engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { encode } from '../../src/core/isa/instruction.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PROG_ARRAY } from '../../src/core/maps/layout.js';
import { errnoOf, keyBytes } from '../maps/kernel-util.js';

const avail = kernelAvailable();
const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];
const u32 = (n: number): Uint8Array => keyBytes(n, 4);

type Op = { kind: 'update'; key: number; what: number; flags: number } | { kind: 'lookup' | 'delete' | 'next'; key: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('update' as const), key: fc.nat(6), what: fc.nat(3), flags: fc.constantFrom(0, 0, 0, 1, 2) }),
  fc.record({ kind: fc.constantFrom('lookup' as const, 'delete' as const, 'next' as const), key: fc.nat(6) }),
);

test('prog array commands: the same errors and slot contents as the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const kprogs = [0, 1].map((r) => k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: encode(assemble(`r0 = ${r + 1}\nexit`)) }).fd);
  try {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const attr = { mapType: BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 5 };
      const ours = cmd.mapCreate(rt, attr);
      const other = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
      const oprogs = [0, 1].map((r) => rt.load(interpreter, assemble(`r0 = ${r + 1}\nexit`)));
      const kfd = k.mapCreate(attr);
      const kother = k.mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
      // which program an id stands for (ids differ between the two sides)
      const kid = new Map<number, number>(), oid = new Map(oprogs.map((p, i) => [p.id, i]));
      try {
        for (const op of ops) {
          const key = u32(op.key);
          let a, b;
          if (op.kind === 'update') {
            const fdOf = (progs: number[], map: number): number => [progs[0], progs[1], map, 999][op.what];
            a = errnoOf(() => cmd.mapUpdateElem(rt, ours, key, u32(fdOf(oprogs.map((p) => p.fd), other)), op.flags)).errno;
            b = errnoOf(() => k.mapUpdate(kfd, key, u32(fdOf(kprogs, kother)), op.flags)).errno;
            if (a === 0 && b === 0 && op.what < 2) {
              const id = new DataView(k.mapLookup(kfd, key, 4)!.buffer).getUint32(0, true);
              kid.set(id, op.what);
            }
          } else if (op.kind === 'lookup') {
            const r1 = errnoOf(() => oid.get(new DataView(cmd.mapLookupElem(rt, ours, key).buffer).getUint32(0, true)));
            const v = k.mapLookup(kfd, key, 4);
            a = r1;
            b = v ? { errno: 0, value: kid.get(new DataView(v.buffer).getUint32(0, true)) } : { errno: 2 };
          } else if (op.kind === 'delete') {
            a = errnoOf(() => cmd.mapDeleteElem(rt, ours, key)).errno;
            b = errnoOf(() => {
              if (!k.mapDelete(kfd, key)) throw new k.KernelError('ENOENT', 'delete', 2, 3);
            }).errno;
          } else {
            a = errnoOf(() => [...cmd.mapGetNextKey(rt, ours, key)]);
            b = errnoOf(() => {
              const n = k.mapGetNextKey(kfd, key, 4);
              if (!n) throw new k.KernelError('ENOENT', 'next', 2, 4);
              return [...n];
            });
          }
          assert.deepEqual(a, b, JSON.stringify(op));
        }
      } finally {
        k.closeFd(kfd);
        k.closeFd(kother);
      }
    }), { numRuns: 60 });
  } finally {
    for (const fd of kprogs) k.closeFd(fd);
  }
});

/** selfTail: counts its runs in array `cnt` (key 0), then tail-calls slot 0 of `progs`; returns 2 when that fails. */
function selfTail(cnt: number, progs: number): string {
  return `
    r6 = r1
    r1 = 0
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${cnt}
    call 1
    if r0 == 0 goto out
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r1 = r6
    ld_pseudo r2, 1, ${progs}
    r3 = 0
    call 12
  out:
    r0 = 2
    exit`;
}

test('a program tail-calling itself runs 1 + 33 times, as in the kernel', (t) => {
  let expected = 34;
  if (avail.ok) {
    const cnt = k.mapCreate({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const pa = k.mapCreate({ mapType: BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const pfd = k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: encode(assemble(selfTail(cnt, pa))) }).fd;
    try {
      k.mapUpdate(pa, u32(0), u32(pfd));
      const r = k.progTestRun(pfd, { dataIn: new Uint8Array(64) });
      assert.equal(r.retval, 2);
      expected = Number(new DataView(k.mapLookup(cnt, u32(0), 8)!.buffer).getBigUint64(0, true));
      assert.equal(expected, 34, 'kernel count');
    } finally {
      for (const fd of [pfd, pa, cnt]) k.closeFd(fd);
    }
  } else t.diagnostic(`kernel: ${avail.reason}; expecting the documented 1 + MAX_TAIL_CALL_CNT`);
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const cnt = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const pa = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const p = rt.load(engine, assemble(selfTail(cnt, pa)), { checked });
    cmd.mapUpdateElem(rt, pa, u32(0), u32(p.fd));
    for (const run of [1, 2]) {
      assert.equal(p.run({ args: [77n] }).r0, 2n, name);
      const n = new DataView(cmd.mapLookupElem(rt, cnt, u32(0)).buffer).getBigUint64(0, true);
      assert.equal(Number(n), expected * run, `${name}: runs after ${run} outer run(s) (the count restarts per run)`);
    }
  }
});

test('dispatch through a prog array: hit, empty slot, out of range; ctx passed as r1', () => {
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime({ cpus: 2, initialBytes: 1 << 20 });
    const pa = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4 });
    // targets return ctx * 10 + slot
    const targets = [0, 2].map((s) => rt.load(engine, assemble(`r0 = r1\nr0 *= 10\nr0 += ${s}\nexit`), { checked }));
    cmd.mapUpdateElem(rt, pa, u32(0), u32(targets[0].fd));
    cmd.mapUpdateElem(rt, pa, u32(2), u32(targets[1].fd));
    const disp = `
      r6 = r2
      r3 = r2
      ld_pseudo r2, 1, ${pa}
      call 12
      r0 += 1000
      exit`;
    for (const cpu of [0, 1]) {
      const d = rt.load(engine, assemble(disp), { checked, cpu });
      const run = (slot: bigint): bigint => d.run({ args: [7n, slot] }).r0;
      assert.equal(run(0n), 70n, `${name} slot 0`);
      assert.equal(run(2n), 72n, `${name} slot 2`);
      assert.equal(run(1n), BigInt.asUintN(64, -2n + 1000n), `${name} empty slot: -ENOENT, the program goes on`);
      assert.equal(run(9n), BigInt.asUintN(64, -2n + 1000n), `${name} out of range`);
      assert.equal(run((1n << 32n) + 2n), 72n, `${name} index is u32`);
    }
    cmd.mapDeleteElem(rt, pa, u32(2));
    assert.equal(rt.load(engine, assemble(disp), { checked }).run({ args: [7n, 2n] }).r0, 998n, `${name} after delete`);
  }
});
