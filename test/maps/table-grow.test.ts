/**
 * The map table grows (at its 256th map) by allocating in the address space, which may grow
 * the memory and detach the views taken before: when that allocation is the one that grows
 * the memory, the map is still created and every map stays a valid map pointer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate } from '../../src/core/runtime/commands.js';
import { BPF_MAP_TYPE_ARRAY } from '../../src/core/maps/layout.js';
import { isMapPointer } from '../../src/core/maps/table.js';

test('the map table grows in the allocation that grows the memory', () => {
  const rt = new Runtime({ initialBytes: 256 << 10 });
  const create = () => mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 4 });
  const fds: number[] = [];
  for (let i = 0; i < 253; i++) fds.push(create());
  // how much address space one such map takes
  const p1 = rt.space.alloc(1, 8);
  fds.push(create());
  const mapBytes = rt.space.alloc(1, 8) - p1;
  fds.push(create());
  // leave room for the next map but not for the table's doubling (512 u32 entries)
  const top = rt.space.alloc(1, 8);
  const size = rt.space.size;
  rt.space.alloc(size - top - mapBytes - 64, 8);
  fds.push(create()); // the 256th map: the table grows here, and so does the memory
  assert.ok(rt.space.size > size, 'the memory grew');
  for (let i = 0; i < 10; i++) fds.push(create());
  for (const fd of fds) assert.ok(isMapPointer(rt.space, rt.table.block, BigInt(rt.map(fd).hdr)), `map ${fd} is in the table`);
});
