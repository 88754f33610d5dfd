/**
 * Devmap and devmap-hash against the kernel's: creation attributes (accepted or refused
 * alike, map_flags as reported), random update/delete/lookup/get_next_key sequences with real
 * and missing interface indexes, fd -1/0 in 8-byte values and bad flags give the same errors
 * and values, and the same iteration order (devmap-hash buckets follow key & (buckets - 1)).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { setNetdevs } from '../../src/core/runtime/ext-commands.js';
import { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH } from '../../src/core/maps/ext.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { errnoOf, hex } from './kernel-util.js';
import { kClose, kCreate, kElem, kInfoFlags, le32, netIfindexes } from './ext-kernel-util.js';

const avail = kernelAvailable();

type Op = { kind: 'update'; key: number; ifindex: number; fd: number; flags: number } | { kind: 'delete' | 'lookup' | 'next'; key: number };

const opArb = (ifs: number[]): fc.Arbitrary<Op> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), key: fc.nat(9), ifindex: fc.constantFrom(0, 0, 999, ...ifs),
    fd: fc.constantFrom(-1, 0), flags: fc.constantFrom(0, 0, 0, 1, 2, 3, 4) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'lookup' as const, 'next' as const), key: fc.nat(9) }) },
);

/** norm drops an absent value so results compare by errno and value only. */
function norm(r: { errno: number; value?: unknown }): { errno: number; value?: unknown } {
  return r.value === undefined ? { errno: r.errno } : { errno: r.errno, value: r.value };
}

function kernelIter(fd: number): string[] {
  const out: string[] = [];
  let key: Uint8Array | null = null;
  for (let i = 0; i < 100; i++) {
    const r = kElem(4, fd, key, null, 4);
    if (r.errno) break;
    key = r.value;
    out.push(hex(key));
  }
  return out;
}

function oursIter(rt: Runtime, fd: number): string[] {
  const out: string[] = [];
  let key: Uint8Array | null = null;
  for (let i = 0; i < 100; i++) {
    const r = errnoOf(() => cmd.mapGetNextKey(rt, fd, key));
    if (r.errno) break;
    key = r.value as Uint8Array;
    out.push(hex(key));
  }
  return out;
}

for (const mapType of [BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH]) {
  for (const valueSize of [4, 8]) {
    const name = `${mapType === BPF_MAP_TYPE_DEVMAP ? 'devmap' : 'devmap-hash'} (value ${valueSize})`;
    test(`${name}: random commands as in the kernel`, (t) => {
      if (!avail.ok) return t.skip(avail.reason);
      const ifs = netIfindexes();
      fc.assert(fc.property(fc.array(opArb(ifs), { maxLength: 40 }), (ops) => {
        const attr = { mapType, keySize: 4, valueSize, maxEntries: 5 };
        const kfd = kCreate(attr);
        assert.ok(kfd >= 0, `kernel create: ${kfd}`);
        const rt = new Runtime();
        setNetdevs(rt, (i) => ifs.includes(i));
        const fd = cmd.mapCreate(rt, attr);
        try {
          for (const op of ops) {
            const key = le32(op.key);
            let k: { errno: number; value?: unknown }, o: { errno: number; value?: unknown };
            if (op.kind === 'update') {
              const v = valueSize === 8 ? le32(op.ifindex, op.fd) : le32(op.ifindex);
              k = { errno: kElem(2, kfd, key, v, valueSize, BigInt(op.flags)).errno };
              o = errnoOf(() => cmd.mapUpdateElem(rt, fd, key, v, op.flags));
            } else if (op.kind === 'delete') {
              k = { errno: kElem(3, kfd, key, null, 0).errno };
              o = errnoOf(() => cmd.mapDeleteElem(rt, fd, key));
            } else if (op.kind === 'lookup') {
              const r = kElem(1, kfd, key, null, valueSize);
              k = { errno: r.errno, value: r.errno ? undefined : hex(r.value) };
              const ours = errnoOf(() => cmd.mapLookupElem(rt, fd, key));
              o = { errno: ours.errno, value: ours.errno ? undefined : hex(ours.value as Uint8Array) };
            } else {
              const r = kElem(4, kfd, key, null, 4);
              k = { errno: r.errno, value: r.errno ? undefined : hex(r.value) };
              const ours = errnoOf(() => cmd.mapGetNextKey(rt, fd, key));
              o = { errno: ours.errno, value: ours.errno ? undefined : hex(ours.value as Uint8Array) };
            }
            assert.deepEqual(norm(o), norm(k), JSON.stringify(op));
          }
          assert.deepEqual(oursIter(rt, fd), kernelIter(kfd), 'iteration order');
        } finally {
          kClose(kfd);
        }
      }), { numRuns: 40 });
    });
  }
}

test('devmap creation attributes and flags as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const cases = [];
  for (const mapType of [BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH]) {
    for (const [keySize, valueSize, maxEntries, mapFlags] of [[4, 4, 1, 0], [4, 8, 16, 0], [4, 6, 4, 0], [8, 4, 4, 0], [4, 4, 0, 0],
      [4, 4, 4, 1 << 3], [4, 4, 4, 1 << 4], [4, 4, 4, (1 << 3) | (1 << 4)], [4, 4, 4, 1 << 7], [4, 4, 4, 1], [4, 4, 4, 1 << 10],
      [4, 4, 3, 1 << 2]]) {
      cases.push({ mapType, keySize, valueSize, maxEntries, mapFlags });
    }
  }
  for (const a of cases) {
    const kfd = kCreate(a);
    const rt = new Runtime();
    const ours = errnoOf(() => cmd.mapCreate(rt, a));
    assert.equal(ours.errno, kfd < 0 ? -kfd : 0, JSON.stringify(a));
    if (kfd >= 0) {
      // Linux keeps no BPF_F_RDONLY / BPF_F_WRONLY in map_flags (they are file modes); tsbpf keeps them to refuse writes
      assert.equal(rt.map(ours.value as number).mapFlags & ~((1 << 3) | (1 << 4)), kInfoFlags(kfd), `flags ${JSON.stringify(a)}`);
      kClose(kfd);
    }
  }
});
