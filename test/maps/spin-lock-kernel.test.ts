/**
 * bpf_spin_lock in map values against the kernel, from user space: the same BTF blob
 * (BPF_BTF_LOAD in the kernel, parsed by tsbpf) describes the values. Creation (which map
 * types may hold a lock, two locks, a misaligned lock, a type of the wrong size, a value
 * without a lock) gives the same errno; random update/lookup/delete sequences with and
 * without BPF_F_LOCK (and bad flags) give the same errors and values — the lock word is never
 * copied from user space and always reads as zero.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { errnoOf, hex } from './kernel-util.js';
import { kBtfLoad, kClose, kCreate, kElem, le32 } from './ext-kernel-util.js';
import { lockValueBtf } from './btf-blob.js';

const avail = kernelAvailable();
const BTF = lockValueBtf();

test('maps with a bpf_spin_lock: creation as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const btfFd = kBtfLoad(BTF.blob);
  assert.ok(btfFd >= 0, `BPF_BTF_LOAD: ${btfFd}`);
  try {
    const values: Array<[string, number, number]> = [['value', BTF.value, 24], ['no lock', BTF.noLock, 16], ['wrong size', BTF.value, 32]];
    for (const mapType of [1, 2, 5, 6, 9, 10]) {
      for (const [what, id, valueSize] of values) {
        const a = { mapType, keySize: 4, valueSize, maxEntries: 4 };
        const kfd = kCreate({ ...a, btfFd, btfKeyTypeId: BTF.u32, btfValueTypeId: id });
        const ours = errnoOf(() => cmd.mapCreate(new Runtime({ cpus: 2 }), { ...a, btf: BTF.blob, btfValueTypeId: id }));
        assert.equal(ours.errno, kfd < 0 ? -kfd : 0, `type ${mapType} ${what}`);
        kClose(kfd);
      }
    }
  } finally {
    kClose(btfFd);
  }
});

test('values with two locks or a misaligned lock: refused (Linux: already by BPF_BTF_LOAD)', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  for (const [bad, size, errno] of [['two', 16, 7], ['misaligned', 12, 22]] as const) {
    const b = lockValueBtf(bad);
    const kbtf = kBtfLoad(b.blob);
    kClose(kbtf);
    assert.ok(kbtf < 0, `kernel BPF_BTF_LOAD of ${bad}: ${kbtf}`);
    if (bad === 'two') assert.equal(kbtf, -errno);
    const ours = errnoOf(() => cmd.mapCreate(new Runtime(), { mapType: 1, keySize: 4, valueSize: size, maxEntries: 4, btf: b.blob, btfValueTypeId: b.bad }));
    assert.equal(ours.errno, errno, bad);
  }
});

type Op = { kind: 'update'; key: number; val: number[]; flags: number } | { kind: 'lookup'; key: number; flags: number }
  | { kind: 'delete'; key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), key: fc.nat(5), val: fc.array(fc.nat(255), { minLength: 24, maxLength: 24 }),
    flags: fc.constantFrom(0, 0, 1, 2, 4, 4, 5, 6, 8, 12) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lookup' as const), key: fc.nat(5), flags: fc.constantFrom(0, 4, 4, 8, 5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat(5) }) },
);

for (const [name, mapType] of [['hash', 1], ['array', 2]] as const) {
  test(`${name} with a bpf_spin_lock: BPF_F_LOCK commands as in the kernel`, (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    const btfFd = kBtfLoad(BTF.blob);
    assert.ok(btfFd >= 0, `BPF_BTF_LOAD: ${btfFd}`);
    try {
      fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const a = { mapType, keySize: 4, valueSize: 24, maxEntries: 4 };
        const kfd = kCreate({ ...a, btfFd, btfKeyTypeId: BTF.u32, btfValueTypeId: BTF.value });
        assert.ok(kfd >= 0, `kernel create ${kfd}`);
        const rt = new Runtime();
        const fd = cmd.mapCreate(rt, { ...a, btf: BTF.blob, btfValueTypeId: BTF.value });
        try {
          for (const op of ops) {
            const key = le32(op.key);
            let k: { errno: number; value?: string }, o: { errno: number; value?: string };
            if (op.kind === 'update') {
              const v = new Uint8Array(op.val);
              k = { errno: kElem(2, kfd, key, v, 24, BigInt(op.flags)).errno };
              o = { errno: errnoOf(() => cmd.mapUpdateElem(rt, fd, key, v, op.flags)).errno };
            } else if (op.kind === 'lookup') {
              const r = kElem(1, kfd, key, null, 24, BigInt(op.flags));
              k = r.errno ? { errno: r.errno } : { errno: 0, value: hex(r.value) };
              const ours = errnoOf(() => cmd.mapLookupElem(rt, fd, key, op.flags));
              o = ours.errno ? { errno: ours.errno } : { errno: 0, value: hex(ours.value as Uint8Array) };
            } else {
              k = { errno: kElem(3, kfd, key, null, 0).errno };
              o = { errno: errnoOf(() => cmd.mapDeleteElem(rt, fd, key)).errno };
            }
            assert.deepEqual(o, k, JSON.stringify(op));
          }
        } finally {
          kClose(kfd);
        }
      }), { numRuns: 40 });
    } finally {
      kClose(btfFd);
    }
  });
}
