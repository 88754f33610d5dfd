/**
 * Bloom filters against the kernel's: creation attributes (key size, map_extra, flags),
 * random push/peek sequences for several value sizes (jhash and jhash2), sizes and hash
 * function counts. With BPF_F_ZERO_SEED both set the same bits, so every peek answer, false
 * positives included, must be the kernel's; with a random seed, every pushed value must peek
 * present in both (no false negatives). Push flags, delete, get_next_key and
 * lookup-and-delete give the kernel's errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { bloomHas } from '../../src/core/runtime/ext-commands.js';
import { BPF_MAP_TYPE_BLOOM_FILTER } from '../../src/core/maps/ext.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { errnoOf, valBytes } from './kernel-util.js';
import { kClose, kCreate, kElem, kInfoFlags } from './ext-kernel-util.js';

const avail = kernelAvailable();
const ZERO_SEED = 1 << 6;
const NOKEY = new Uint8Array(0);

type Op = { kind: 'push'; v: number; flags: number } | { kind: 'peek'; v: number } | { kind: 'delete' | 'next' | 'pop' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), v: fc.nat(300), flags: fc.constantFrom(0, 0, 0, 0, 1, 2, 4) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('peek' as const), v: fc.nat(300) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'next' as const, 'pop' as const) }) },
);

const geomArb = fc.record({
  valueSize: fc.constantFrom(1, 3, 4, 5, 8, 12, 13, 64),
  maxEntries: fc.constantFrom(1, 3, 10, 60, 1000),
  nhash: fc.constantFrom(0, 1, 2, 3, 7, 15),
});

function ours(rt: Runtime, fd: number, op: Op, valueSize: number): { errno: number; value?: unknown } {
  switch (op.kind) {
    case 'push': return errnoOf(() => cmd.mapUpdateElem(rt, fd, NOKEY, valBytes(op.v, valueSize), op.flags));
    case 'peek': {
      const r = errnoOf(() => bloomHas(rt, fd, valBytes(op.v, valueSize)));
      return r.errno ? r : { errno: r.value ? 0 : 2 }; // ENOENT: not present
    }
    case 'delete': return errnoOf(() => cmd.mapDeleteElem(rt, fd, NOKEY));
    case 'next': return errnoOf(() => cmd.mapGetNextKey(rt, fd, null));
    default: return errnoOf(() => cmd.mapLookupAndDeleteElem(rt, fd, NOKEY));
  }
}

function kernel(kfd: number, op: Op, valueSize: number): { errno: number } {
  switch (op.kind) {
    case 'push': return { errno: kElem(2, kfd, null, valBytes(op.v, valueSize), valueSize, BigInt(op.flags)).errno };
    case 'peek': return { errno: kElem(1, kfd, null, valBytes(op.v, valueSize), valueSize).errno };
    case 'delete': return { errno: kElem(3, kfd, null, null, 0).errno };
    case 'next': return { errno: kElem(4, kfd, null, null, 0).errno };
    default: return { errno: kElem(21, kfd, null, null, valueSize).errno };
  }
}

test('bloom filter (zero seed): every command and every peek answer as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  fc.assert(fc.property(geomArb, fc.array(opArb, { maxLength: 80 }), (g, ops) => {
    const attr = { mapType: BPF_MAP_TYPE_BLOOM_FILTER, keySize: 0, valueSize: g.valueSize, maxEntries: g.maxEntries, mapFlags: ZERO_SEED };
    const kfd = kCreate({ ...attr, mapExtra: BigInt(g.nhash) });
    assert.ok(kfd >= 0, `kernel create ${kfd}`);
    const rt = new Runtime();
    const fd = cmd.mapCreate(rt, { ...attr, mapExtra: g.nhash });
    try {
      for (const op of ops) assert.deepEqual({ errno: ours(rt, fd, op, g.valueSize).errno }, kernel(kfd, op, g.valueSize), JSON.stringify(op));
      // then every value of the range: the same bits are set, false positives included
      for (let v = 0; v <= 300; v++) {
        const peek: Op = { kind: 'peek', v };
        assert.equal(ours(rt, fd, peek, g.valueSize).errno, kernel(kfd, peek, g.valueSize).errno, `value ${v}`);
      }
    } finally {
      kClose(kfd);
    }
  }), { numRuns: 40 });
});

test('bloom filter (random seed): no false negatives, in tsbpf and in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  fc.assert(fc.property(geomArb, fc.uniqueArray(fc.nat(5000), { maxLength: 60 }), (g, vals) => {
    const attr = { mapType: BPF_MAP_TYPE_BLOOM_FILTER, keySize: 0, valueSize: g.valueSize, maxEntries: g.maxEntries };
    const kfd = kCreate({ ...attr, mapExtra: BigInt(g.nhash) });
    const rt = new Runtime();
    const fd = cmd.mapCreate(rt, { ...attr, mapExtra: g.nhash });
    try {
      for (const v of vals) {
        assert.equal(kElem(2, kfd, null, valBytes(v, g.valueSize), g.valueSize).errno, 0);
        cmd.mapUpdateElem(rt, fd, NOKEY, valBytes(v, g.valueSize));
      }
      for (const v of vals) {
        assert.equal(kElem(1, kfd, null, valBytes(v, g.valueSize), g.valueSize).errno, 0, `kernel ${v}`);
        assert.ok(bloomHas(rt, fd, valBytes(v, g.valueSize)), `tsbpf ${v}`);
      }
    } finally {
      kClose(kfd);
    }
  }), { numRuns: 30 });
});

test('bloom filter: creation attributes as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const cases: Array<{ keySize: number; valueSize: number; maxEntries: number; mapFlags: number; extra: bigint }> = [];
  for (const [keySize, valueSize, maxEntries] of [[0, 4, 16], [4, 4, 16], [0, 0, 16], [0, 4, 0], [0, 1, 1], [0, 4096, 8]]) {
    for (const mapFlags of [0, ZERO_SEED, 1, 1 << 2, 1 << 3, 1 << 4, (1 << 3) | (1 << 4), 1 << 7, (1 << 7) | (1 << 8), 1 << 10]) {
      for (const extra of [0n, 3n, 15n, 16n, 1n << 32n]) cases.push({ keySize, valueSize, maxEntries, mapFlags, extra });
    }
  }
  for (const c of cases) {
    const a = { mapType: BPF_MAP_TYPE_BLOOM_FILTER, keySize: c.keySize, valueSize: c.valueSize, maxEntries: c.maxEntries, mapFlags: c.mapFlags };
    const kfd = kCreate({ ...a, mapExtra: c.extra });
    const rt = new Runtime();
    const r = errnoOf(() => cmd.mapCreate(rt, { ...a, mapExtra: c.extra }));
    const label = JSON.stringify({ ...a, extra: String(c.extra) });
    assert.equal(r.errno, kfd < 0 ? -kfd : 0, label);
    if (kfd >= 0) {
      assert.equal(rt.map(r.value as number).mapFlags & ~((1 << 3) | (1 << 4)), kInfoFlags(kfd), `flags ${label}`);
      kClose(kfd);
    }
  }
});
