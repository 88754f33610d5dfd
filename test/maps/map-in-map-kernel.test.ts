/**
 * Array-of-maps and hash-of-maps against the kernel's: creation attributes (inner map fd
 * missing, not a map, a map of maps, a prog array, bad sizes and flags), and random
 * update/delete/lookup/get_next_key sequences storing compatible and incompatible inner maps
 * (other max_entries with and without BPF_F_INNER_MAP, another type, a bad fd) with every
 * flag: same errors, lookups naming the same inner map (ids translated), same iteration
 * (order for arrays, the key set for hashes, whose bucket order differs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS } from '../../src/core/maps/ext.js';
import { BPF_F_INNER_MAP } from '../../src/core/maps/map-in-map.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH } from '../../src/core/maps/layout.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { errnoOf, hex } from './kernel-util.js';
import { type KCreate, kClose, kCreate, kElem, kInfoFlags, kInfoId, le32 } from './ext-kernel-util.js';

const avail = kernelAvailable();
const BAD_FD = 100000;

type Op = { kind: 'update'; key: number; inner: number; flags: number } | { kind: 'delete' | 'lookup' | 'next'; key: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), key: fc.nat(5), inner: fc.nat(5),
    flags: fc.constantFrom(0, 0, 0, 1, 2, 3, 4) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'lookup' as const, 'next' as const), key: fc.nat(5) }) },
);

type Res = { errno: number; value?: string };

/** Inner maps: 0..2 like the template, 3 with more entries, 4 a hash; 5 stands for a bad fd. */
function innerAttrs(flag: number): KCreate[] {
  const arr = (maxEntries: number): KCreate => ({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries, mapFlags: flag });
  return [arr(4), arr(4), arr(4), arr(8), { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4 }];
}

interface Pair {
  kfds: number[];
  fds: number[];
  kouter: number;
  outer: number;
  rt: Runtime;
  /** inner map index by kernel id / by tsbpf id */
  kname: Map<number, number>;
  name: Map<number, number>;
}

function makePair(outerType: number, flag: number): Pair {
  const rt = new Runtime();
  const attrs = innerAttrs(flag);
  const kfds = attrs.map((a) => kCreate(a));
  assert.ok(kfds.every((f) => f >= 0), `kernel inner maps: ${kfds}`);
  const fds = attrs.map((a) => cmd.mapCreate(rt, a));
  const outerAttr = { mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 4 };
  const kouter = kCreate({ ...outerAttr, innerMapFd: kfds[0] });
  assert.ok(kouter >= 0, `kernel outer: ${kouter}`);
  const outer = cmd.mapCreate(rt, { ...outerAttr, innerMapFd: fds[0] });
  return {
    kfds, fds, kouter, outer, rt,
    kname: new Map(kfds.map((f, i) => [kInfoId(f), i])), name: new Map(fds.map((f, i) => [rt.map(f).id, i])),
  };
}

function idName(v: Uint8Array, names: Map<number, number>): string {
  const id = new DataView(v.buffer, v.byteOffset).getUint32(0, true);
  return `inner#${names.get(id) ?? `?${id}`}`;
}

function step(p: Pair, op: Op, hashOuter: boolean): [Res, Res] {
  const key = le32(op.key);
  const res = (r: { errno: number; value?: unknown }, show: (v: Uint8Array) => string): Res =>
    r.errno ? { errno: r.errno } : { errno: 0, ...(r.value instanceof Uint8Array ? { value: show(r.value) } : {}) };
  switch (op.kind) {
    case 'update': {
      const kv = le32(op.inner < 5 ? p.kfds[op.inner] : BAD_FD), v = le32(op.inner < 5 ? p.fds[op.inner] : BAD_FD);
      return [{ errno: kElem(2, p.kouter, key, kv, 4, BigInt(op.flags)).errno }, res(errnoOf(() => cmd.mapUpdateElem(p.rt, p.outer, key, v, op.flags)), hex)];
    }
    case 'delete':
      return [{ errno: kElem(3, p.kouter, key, null, 0).errno }, res(errnoOf(() => cmd.mapDeleteElem(p.rt, p.outer, key)), hex)];
    case 'lookup': {
      const r = kElem(1, p.kouter, key, null, 4);
      return [r.errno ? { errno: r.errno } : { errno: 0, value: idName(r.value, p.kname) },
        res(errnoOf(() => cmd.mapLookupElem(p.rt, p.outer, key)), (v) => idName(v, p.name))];
    }
    default: {
      const r = kElem(4, p.kouter, key, null, 4);
      const k: Res = r.errno ? { errno: r.errno } : { errno: 0, value: hex(r.value) };
      const o = res(errnoOf(() => cmd.mapGetNextKey(p.rt, p.outer, key)), hex);
      // hash bucket order differs from the kernel's: only a present-vs-missing answer is comparable
      return hashOuter ? [{ errno: 0 }, { errno: 0 }] : [k, o];
    }
  }
}

function iterate(next: (key: Uint8Array | null) => Uint8Array | null): string[] {
  const out: string[] = [];
  let key: Uint8Array | null = null;
  for (let i = 0; i < 100; i++) {
    key = next(key);
    if (!key) break;
    out.push(hex(key));
  }
  return out;
}

for (const outerType of [BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS]) {
  for (const flag of [0, BPF_F_INNER_MAP]) {
    const name = `${outerType === BPF_MAP_TYPE_ARRAY_OF_MAPS ? 'array' : 'hash'}-of-maps${flag ? ' (BPF_F_INNER_MAP)' : ''}`;
    test(`${name}: random commands as in the kernel`, (t) => {
      if (!avail.ok) return t.skip(avail.reason);
      const hashOuter = outerType === BPF_MAP_TYPE_HASH_OF_MAPS;
      fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const p = makePair(outerType, flag);
        try {
          for (const op of ops) {
            const [k, o] = step(p, op, hashOuter);
            assert.deepEqual(o, k, JSON.stringify(op));
          }
          const kIter = iterate((key) => {
            const r = kElem(4, p.kouter, key, null, 4);
            return r.errno ? null : r.value;
          });
          const oIter = iterate((key) => {
            const r = errnoOf(() => cmd.mapGetNextKey(p.rt, p.outer, key));
            return r.errno ? null : (r.value as Uint8Array);
          });
          if (hashOuter) assert.deepEqual(oIter.sort(), kIter.sort(), 'key set');
          else assert.deepEqual(oIter, kIter, 'iteration');
        } finally {
          kClose(p.kouter, ...p.kfds);
        }
      }), { numRuns: 30 });
    });
  }
}

test('maps of maps: creation attributes as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const rt = new Runtime();
  // inner candidates: [kernel fd, tsbpf fd]
  const make = (a: KCreate): [number, number] => [kCreate(a), errnoOf(() => cmd.mapCreate(rt, a)).value as number];
  const arr = make({ mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
  const prog = make({ mapType: 3, keySize: 4, valueSize: 4, maxEntries: 4 });
  const aom = [kCreate({ mapType: 12, keySize: 4, valueSize: 4, maxEntries: 2, innerMapFd: arr[0] }),
    cmd.mapCreate(rt, { mapType: 12, keySize: 4, valueSize: 4, maxEntries: 2, innerMapFd: arr[1] })];
  const others: Array<[string, KCreate]> = [
    ['percpu hash', { mapType: 5, keySize: 4, valueSize: 8, maxEntries: 4 }], ['lru hash', { mapType: 9, keySize: 4, valueSize: 8, maxEntries: 4 }],
    ['lpm trie', { mapType: 11, keySize: 8, valueSize: 8, maxEntries: 4, mapFlags: 1 }], ['queue', { mapType: 22, keySize: 0, valueSize: 8, maxEntries: 4 }],
    ['ringbuf', { mapType: 27, keySize: 0, valueSize: 0, maxEntries: 4096 }], ['devmap', { mapType: 14, keySize: 4, valueSize: 4, maxEntries: 4 }],
    ['devmap hash', { mapType: 25, keySize: 4, valueSize: 4, maxEntries: 4 }],
    ['bloom', { mapType: 30, keySize: 0, valueSize: 8, maxEntries: 4 }],
  ];
  const inners: Array<[string, [number, number]]> = [['array', arr], ['prog array', prog], ['array of maps', aom as [number, number]],
    ['bad fd', [BAD_FD, BAD_FD]], ...others.map(([n, a]): [string, [number, number]] => [n, make(a)])];
  try {
    for (const mapType of [BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS]) {
      for (const [what, [kin, oin]] of inners) {
        for (const [keySize, valueSize, maxEntries, mapFlags] of [[4, 4, 4, 0], [4, 8, 4, 0], [8, 4, 4, 0], [4, 4, 0, 0], [0, 4, 4, 0],
          [4, 4, 4, 1], [4, 4, 4, 1 << 3], [4, 4, 4, 1 << 7], [4, 4, 4, 1 << 12]]) {
          const a = { mapType, keySize, valueSize, maxEntries, mapFlags };
          const kfd = kCreate({ ...a, innerMapFd: kin });
          const ours = errnoOf(() => cmd.mapCreate(rt, { ...a, innerMapFd: oin }));
          const label = `${JSON.stringify(a)} inner ${what}`;
          assert.equal(ours.errno, kfd < 0 ? -kfd : 0, label);
          if (kfd >= 0) {
            assert.equal(rt.map(ours.value as number).mapFlags & ~((1 << 3) | (1 << 4)), kInfoFlags(kfd), `flags ${label}`);
            kClose(kfd);
          }
        }
      }
    }
  } finally {
    kClose(...inners.filter(([n]) => !n.includes('fd')).map(([, [k]]) => k));
  }
});
