/**
 * User-space API: the bpf(2)-style commands (errors, freeze, RDONLY/WRONLY, lookup-and-delete,
 * batches), the object API (codecs, per-CPU arrays of values, iteration, array views) and
 * map reference resolution.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { mapDeleteBatch, mapLookupAndDeleteBatch, mapLookupBatch, mapUpdateBatch } from '../../src/core/runtime/batch.js';
import { BpfMap, PerCpuMap } from '../../src/core/runtime/map.js';
import { codecs } from '../../src/core/runtime/codecs.js';
import { resolveMapReferences } from '../../src/core/runtime/resolve.js';
import { lddw, lddwValue } from '../../src/core/isa/instruction.js';
import {
  BPF_EXIST, BPF_F_RDONLY, BPF_F_WRONLY, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_NOEXIST,
} from '../../src/core/maps/layout.js';

const u32 = (n: number): Uint8Array => codecs.u32.encode(n);
const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
};

test('commands: errors carry the kernel errno names', () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const h = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 2 });
  assert.equal(code(() => cmd.mapLookupElem(rt, h, u32(1))), 'ENOENT');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(1), u32(5), BPF_EXIST)), 'ENOENT');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(1), u32(5), BPF_NOEXIST)), 'ok');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(1), u32(6), BPF_NOEXIST)), 'EEXIST');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(2), u32(6))), 'ok');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(3), u32(6))), 'E2BIG');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, u32(2), u32(7), 3)), 'EINVAL');
  assert.equal(code(() => cmd.mapUpdateElem(rt, h, new Uint8Array(3), u32(7))), 'EINVAL');
  assert.deepEqual(cmd.mapLookupAndDeleteElem(rt, h, u32(1)), u32(5));
  assert.equal(code(() => cmd.mapLookupElem(rt, h, u32(1))), 'ENOENT');
  assert.equal(code(() => cmd.mapDeleteElem(rt, h, u32(1))), 'ENOENT');
  const a = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  assert.equal(code(() => cmd.mapDeleteElem(rt, a, u32(0))), 'EINVAL');
  assert.equal(code(() => cmd.mapLookupAndDeleteElem(rt, a, u32(0))), 'ENOTSUPP');
  assert.equal(code(() => cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 8, valueSize: 4, maxEntries: 2 })), 'EINVAL');
  assert.equal(code(() => cmd.mapCreate(rt, { mapType: 99, keySize: 4, valueSize: 4, maxEntries: 2 })), 'EINVAL');
  assert.equal(code(() => cmd.mapLookupElem(rt, 99, u32(0))), 'EINVAL');
});

test('commands: freeze and access flags', () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const a = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2 });
  cmd.mapUpdateElem(rt, a, u32(0), u32(9));
  cmd.mapFreeze(rt, a);
  assert.equal(code(() => cmd.mapFreeze(rt, a)), 'EBUSY');
  assert.equal(code(() => cmd.mapUpdateElem(rt, a, u32(0), u32(1))), 'EPERM');
  assert.deepEqual(cmd.mapLookupElem(rt, a, u32(0)), u32(9));
  const ro = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, mapFlags: BPF_F_RDONLY });
  assert.equal(code(() => cmd.mapUpdateElem(rt, ro, u32(0), u32(1))), 'EPERM');
  const wo = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, mapFlags: BPF_F_WRONLY });
  assert.equal(code(() => cmd.mapLookupElem(rt, wo, u32(0))), 'EPERM');
});

test('batches: lookup in pieces visits every element once; update, delete, lookup-and-delete', () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const h = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 4, maxEntries: 64 });
  const keys = [...Array(50).keys()].map((i) => u32(i * 3));
  assert.equal(mapUpdateBatch(rt, h, keys, keys.map((k) => k.slice().reverse())), 50);
  const seen: number[] = [];
  let cursor: Uint8Array | null = null;
  do {
    const b = mapLookupBatch(rt, h, cursor, 7);
    assert.ok(b.keys.length <= 7);
    b.keys.forEach((k, i) => assert.deepEqual(b.values[i], k.slice().reverse()));
    seen.push(...b.keys.map((k) => codecs.u32.decode(k)));
    cursor = b.cursor;
  } while (cursor);
  assert.deepEqual(seen.sort((x, y) => x - y), [...Array(50).keys()].map((i) => i * 3));
  assert.equal(mapDeleteBatch(rt, h, keys.slice(0, 20)), 20);
  assert.throws(() => mapDeleteBatch(rt, h, [keys[20], keys[0]]), /after 1 elements/);
  const d = mapLookupAndDeleteBatch(rt, h, 100);
  assert.equal(d.keys.length, 29);
  assert.equal(mapLookupBatch(rt, h, null, 10).keys.length, 0);
});

test('object API: typed hash map, per-CPU array values as arrays, array view', () => {
  const rt = new Runtime({ cpus: 4, initialBytes: 1 << 20 });
  const m = BpfMap.create(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 8, key: codecs.u32, value: codecs.u64 });
  m.set(1, 10n).set(2, 20n);
  assert.equal(m.get(1), 10n);
  assert.equal(m.get(3), undefined);
  assert.equal(m.has(2), true);
  assert.deepEqual([...m].sort(), [[1, 10n], [2, 20n]]);
  assert.equal(m.size, 2);
  assert.equal(m.delete(1), true);
  assert.equal(m.delete(1), false);
  assert.throws(() => m.set(2, 1n, BPF_NOEXIST), { code: 'EEXIST' });
  const pc = PerCpuMap.create(rt, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 2, key: codecs.u32, value: codecs.u32 });
  pc.set(1, [1, 2, 3, 4]);
  assert.deepEqual(pc.get(1), [1, 2, 3, 4]);
  assert.equal(PerCpuMap.sum(pc.get(1)!), 10n);
  pc.set(0, 7);
  assert.deepEqual(pc.get(0), [7, 7, 7, 7]);
  const arr = BpfMap.create(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 4, maxEntries: 3, key: codecs.u32, value: codecs.u32 });
  const view = new Uint32Array(arr.view().buffer, arr.view().byteOffset, 6);
  view[2] = 77; // element 1 (values are 8-byte strided)
  assert.equal(arr.get(1), 77);
  arr.set(2, 5);
  assert.equal(view[4], 5);
  assert.deepEqual([...arr.keys()], [0, 1, 2]);
});

test('resolveMapReferences: map fd -> header address, map value -> value address + offset; bad fds rejected', () => {
  const rt = new Runtime({ initialBytes: 1 << 20 });
  const a = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 });
  const h = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 16, maxEntries: 1 });
  const prog = [...lddw(1, BigInt(h), 1), ...lddw(2, (4n << 32n) | BigInt(a), 2), ...lddw(3, 5n, 0)];
  const out = resolveMapReferences(prog, rt);
  assert.equal(lddwValue(out, 0), BigInt(rt.map(h).hdr));
  assert.equal(lddwValue(out, 2), BigInt(rt.map(a).values + 4));
  assert.equal(lddwValue(out, 4), 5n);
  assert.deepEqual(out.map((i) => i.src), [0, 0, 0, 0, 0, 0]);
  assert.equal(prog[0].src, 1, 'input untouched');
  assert.throws(() => resolveMapReferences([...lddw(1, 99n, 1)], rt), { code: 'EINVAL' });
  assert.throws(() => resolveMapReferences([...lddw(1, BigInt(h), 2)], rt), { code: 'ENOTSUPP' });
  assert.throws(() => resolveMapReferences([...lddw(1, (16n << 32n) | BigInt(a), 2)], rt), { code: 'EINVAL' });
});
