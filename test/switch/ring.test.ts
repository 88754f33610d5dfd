/**
 * Rings and the frame pool: FIFO order across wrap-around, full/empty edges, block moves
 * between rings (moveTo) against a simple array model, pool allocation and double frees.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressSpace } from '../../src/core/vm/memory.js';
import { Ring } from '../../src/switch/dataplane/ring.js';
import { FramePool } from '../../src/switch/dataplane/pool.js';

test('a ring is a bounded FIFO across index wrap-around', () => {
  const space = new AddressSpace({ initialBytes: 1 << 20 });
  const r = Ring.create(space, 4);
  const model: number[] = [];
  let next = 1;
  for (let round = 0; round < 50; round++) {
    while (r.push(next, next * 2)) model.push(next++);
    assert.equal(model.length, 4);
    assert.equal(r.free(), 0);
    const d = r.shift()!;
    assert.deepEqual(d, { addr: model[0], len: model[0] * 2 });
    model.shift();
  }
  assert.throws(() => Ring.create(space, 6), /power of two/);
});

test('moveTo moves descriptors in order like an array model, whatever the wrap positions', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(12), fc.nat(12), fc.nat(12))), (ops) => {
    const space = new AddressSpace({ initialBytes: 1 << 20 });
    const a = Ring.create(space, 8), b = Ring.create(space, 16);
    const ma: number[] = [], mb: number[] = [];
    let next = 1;
    for (const [push, move, pop] of ops) {
      for (let k = 0; k < push; k++) if (a.push(next, 0)) ma.push(next++);
      const moved = a.moveTo(b, move);
      assert.equal(moved, Math.min(move, ma.length, 16 - mb.length));
      mb.push(...ma.splice(0, moved));
      for (let k = 0; k < pop; k++) {
        const d = b.shift();
        assert.equal(d?.addr, mb.shift());
      }
    }
  }));
});

test('the pool hands out distinct frames with headroom and detects double frees', () => {
  const space = new AddressSpace({ initialBytes: 1 << 20 });
  const pool = new FramePool(space, 3, 2048);
  const got = [pool.alloc(), pool.alloc(), pool.alloc()];
  assert.equal(pool.alloc(), 0);
  assert.equal(new Set(got.map((a) => pool.indexOf(a))).size, 3);
  for (const a of got) assert.equal((a - pool.base) % 2048, 256);
  pool.free(got[1] + 100);
  assert.equal(pool.alloc(), got[1]);
  for (const a of got) pool.free(a);
  assert.throws(() => pool.free(got[0]), /double free/);
  assert.ok(pool.contains(got[0], 2048 - 256));
  assert.ok(!pool.contains(got[0], 2048 - 255));
});
