/**
 * The two implementations of the hot map operations (TypeScript ops.ts, Wasm map runtime)
 * against each other: the same random operation sequences on two identical runtimes must
 * give the same results (lookups: the same addresses) and leave byte-identical map memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate } from '../../src/core/runtime/commands.js';
import { deleteElem, lookupElem, updateElem } from '../../src/core/maps/ops.js';
import { mapRuntimeInstance } from '../../src/core/maps/wasm.js';
import { hashKey } from '../../src/core/maps/hash-fn.js';
import { BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH } from '../../src/core/maps/layout.js';

type Op = { kind: 'lookup' | 'update' | 'delete'; key: number; val: number; flags: bigint; cpu: number };

const opArb = fc.record({
  kind: fc.constantFrom('lookup', 'update', 'update', 'delete') as fc.Arbitrary<Op['kind']>,
  key: fc.integer({ min: 0, max: 9 }),
  val: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.oneof(fc.constantFrom(0n, 1n, 2n), fc.constantFrom(3n, 4n, 1n << 32n)),
  cpu: fc.integer({ min: 0, max: 1 }),
});

const shapes = [
  { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 5 },
  { mapType: BPF_MAP_TYPE_HASH, keySize: 6, valueSize: 12, maxEntries: 3 },
  { mapType: BPF_MAP_TYPE_PERCPU_HASH, keySize: 7, valueSize: 4, maxEntries: 4 },
  { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 12, maxEntries: 6 },
  { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 6 },
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
  { mapType: BPF_MAP_TYPE_LRU_PERCPU_HASH, keySize: 5, valueSize: 8, maxEntries: 4, mapFlags: 2 },
  // LRU writes run in Wasm too (wasm-lru.ts): common lists on 2 CPUs (refills, steals) and per-CPU lists
  { mapType: BPF_MAP_TYPE_LRU_PERCPU_HASH, keySize: 4, valueSize: 12, maxEntries: 5 },
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 6, mapFlags: 2 },
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 8, valueSize: 16, maxEntries: 9 },
];

function setup(): { rt: Runtime; fd: number[]; scratch: number } {
  const rt = new Runtime({ cpus: 2, initialBytes: 1 << 20 });
  const fd = shapes.map((s) => mapCreate(rt, s));
  return { rt, fd, scratch: rt.space.alloc(256, 8) };
}

/** writeArgs puts key (keySize bytes derived from n) and value into scratch; returns their addresses. */
function writeArgs(rt: Runtime, at: number, keySize: number, key: number, val: number): [number, number] {
  const u8 = rt.space.u8;
  for (let i = 0; i < keySize; i++) u8[at + i] = i === 0 ? key : (key * 7 + i) & 0xff;
  for (let i = 0; i < 16; i++) u8[at + 64 + i] = (val >> (i % 2 ? 8 : 0)) + i;
  return [at, at + 64];
}

/** agree runs `ops` (shape index, operation) through both implementations and compares results and memory. */
function agree(ops: Array<[number, Op]>): void {
  const a = setup(), b = setup();
  const wasm = [0, 1].map((cpu) => mapRuntimeInstance(b.rt, b.rt.context(cpu), false));
  for (const [mi, op] of ops) {
    const s = shapes[mi];
    const ha = a.rt.map(a.fd[mi]).hdr, hb = b.rt.map(b.fd[mi]).hdr;
    assert.equal(ha, hb);
    const [k, v] = writeArgs(a.rt, a.scratch, s.keySize, op.key, op.val);
    writeArgs(b.rt, b.scratch, s.keySize, op.key, op.val);
    const f32 = op.flags >= 1n << 32n ? 0xffffffff : Number(op.flags);
    let ra: bigint, rb: bigint;
    const w = wasm[op.cpu] as unknown as Record<string, (...x: unknown[]) => bigint>;
    const args = [BigInt(hb), BigInt(k), BigInt(v), op.flags, 0n, 0];
    if (op.kind === 'lookup') {
      ra = BigInt(lookupElem(a.rt.space, ha, k, op.cpu));
      rb = w.map_lookup_elem(...args);
    } else if (op.kind === 'update') {
      ra = BigInt(updateElem(a.rt.space, ha, k, v, f32, op.cpu));
      rb = BigInt.asIntN(64, w.map_update_elem(...args));
    } else {
      ra = BigInt(deleteElem(a.rt.space, ha, k));
      rb = BigInt.asIntN(64, w.map_delete_elem(...args));
    }
    assert.equal(rb, ra, `${op.kind} on map ${mi}`);
  }
  const start = a.rt.map(a.fd[0]).hdr;
  assert.deepEqual(b.rt.space.u8.subarray(start, start + 65536), a.rt.space.u8.subarray(start, start + 65536));
}

test('Wasm map runtime and TypeScript ops agree on random operation sequences', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: shapes.length - 1 }), opArb), { maxLength: 60 }), agree),
    { numRuns: 150 });
});

test('LRU maps: Wasm and TypeScript evict, refill and steal identically over long sequences', () => {
  const lru = shapes.flatMap((s, i) => (s.mapType === BPF_MAP_TYPE_LRU_HASH || s.mapType === BPF_MAP_TYPE_LRU_PERCPU_HASH ? [i] : []));
  const seq = fc.array(fc.tuple(fc.constantFrom(...lru), opArb), { minLength: 40, maxLength: 160 });
  fc.assert(fc.property(seq, agree), { numRuns: 120 });
});

test('the Wasm key hash equals the TypeScript one for every length 0..40', () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const at = rt.space.alloc(64, 8);
  const w = mapRuntimeInstance(rt, rt.context(0), false);
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (bytes) => {
    rt.space.u8.set(bytes, at);
    assert.equal(w.hash(at, bytes.length) >>> 0, hashKey(rt.space.dv, rt.space.u8, at, bytes.length));
  }));
});
