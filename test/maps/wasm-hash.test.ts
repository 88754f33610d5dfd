/**
 * The inline hash path of the Wasm map runtime (wasm-hash.ts: unrolled 4/8/16-byte hashes,
 * word compares of those key sizes, the generic path for others) against the TypeScript ops:
 * random lookup/update/delete sequences over keys that differ in a single byte (so every word
 * of a key matters) on small maps (long chains), private and shared memory; results and map
 * memory must be identical. Also the inlined map-pointer and key checks: the same faults as
 * the interpreter's helpers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate } from '../../src/core/runtime/commands.js';
import { deleteElem, lookupElem, updateElem } from '../../src/core/maps/ops.js';
import { mapRuntimeInstance } from '../../src/core/maps/wasm.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_HASH } from '../../src/core/maps/layout.js';
import { outcome } from '../jit/util.js';

const shapes = [4, 8, 12, 16, 20].map((keySize) => ({ mapType: BPF_MAP_TYPE_HASH, keySize, valueSize: 8, maxEntries: 6 }))
  .concat([{ mapType: BPF_MAP_TYPE_PERCPU_HASH, keySize: 16, valueSize: 20, maxEntries: 5 }]);

interface Op { map: number; kind: 0 | 1 | 2; byte: number; val: number; flags: number; cpu: number }

const opArb = fc.record({
  map: fc.integer({ min: 0, max: shapes.length - 1 }),
  kind: fc.constantFrom(0, 1, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
  // key = base bytes with byte `byte >> 2` set to `byte & 3` (byte -1: the base itself)
  byte: fc.integer({ min: -1, max: 79 }),
  val: fc.integer({ min: 0, max: 255 }),
  flags: fc.constantFrom(0, 0, 1, 2),
  cpu: fc.integer({ min: 0, max: 1 }),
});

function setup(shared: boolean): { rt: Runtime; fds: number[]; at: number } {
  const rt = new Runtime({ cpus: 2, initialBytes: 1 << 20, shared });
  return { rt, fds: shapes.map((s) => mapCreate(rt, s)), at: rt.space.alloc(128, 8) };
}

function writeKey(rt: Runtime, at: number, keySize: number, byte: number, val: number): void {
  const u8 = rt.space.u8;
  for (let i = 0; i < keySize; i++) u8[at + i] = 0x40 + i;
  if (byte >= 0 && byte >> 2 < keySize) u8[at + (byte >> 2)] = byte & 3;
  u8.fill(val, at + 64, at + 128);
}

function agree(shared: boolean, ops: Op[]): void {
  const a = setup(shared), b = setup(shared);
  const wasm = [0, 1].map((cpu) => mapRuntimeInstance(b.rt, b.rt.context(cpu), false) as unknown as Record<string, (...x: unknown[]) => bigint>);
  for (const op of ops) {
    const s = shapes[op.map];
    const ha = a.rt.map(a.fds[op.map]).hdr;
    writeKey(a.rt, a.at, s.keySize, op.byte, op.val);
    writeKey(b.rt, b.at, s.keySize, op.byte, op.val);
    const k = a.at, v = a.at + 64;
    const args = [BigInt(ha), BigInt(k), BigInt(v), BigInt(op.flags), 0n, 0];
    const w = wasm[op.cpu];
    const [ra, rb] = op.kind === 0
      ? [BigInt(lookupElem(a.rt.space, ha, k, op.cpu)), w.map_lookup_elem(...args)]
      : op.kind === 1
        ? [BigInt(updateElem(a.rt.space, ha, k, v, op.flags, op.cpu)), BigInt.asIntN(64, w.map_update_elem(...args))]
        : [BigInt(deleteElem(a.rt.space, ha, k)), BigInt.asIntN(64, w.map_delete_elem(...args))];
    assert.equal(rb, ra, `${['lookup', 'update', 'delete'][op.kind]} on key size ${s.keySize}`);
  }
  const start = a.rt.map(a.fds[0]).hdr;
  assert.deepEqual(b.rt.space.u8.subarray(start, start + 32768), a.rt.space.u8.subarray(start, start + 32768));
}

for (const shared of [false, true]) {
  test(`inline hash path: Wasm and TypeScript agree for every key size (${shared ? 'shared' : 'private'} memory)`, () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 120 }), (ops) => agree(shared, ops)), { numRuns: 120 });
  });
}

test('inlined map pointer and key checks fault like the interpreter\'s helpers (trusted and checked)', () => {
  const fresh = (): { rt: Runtime; hdr: number } => {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const fd = mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 8, maxEntries: 4 });
    return { rt, hdr: rt.map(fd).hdr };
  };
  const { hdr, rt: { space: { size } } } = fresh();
  // r1 = r3 (the map, or not), r2 = key pointer r4 (the update's value too); helper 1 lookup, 2 update, 3 delete
  const progs = [1, 2, 3].map((id) => assemble(`r1 = r3\nr2 = r4\nr3 = r4\nr4 = 0\ncall ${id}\nexit`));
  const cases: Array<[bigint, bigint]> = [
    [BigInt(hdr), BigInt(size - 8)], [BigInt(hdr), BigInt(size - 16)], [BigInt(hdr), 1n << 32n], [BigInt(hdr), 2n ** 64n - 4n],
    [BigInt(hdr + 4), BigInt(hdr)], [0n, 0n], [1n << 33n, 0n], [BigInt(size - 64), 0n],
  ];
  let faults = 0;
  for (const checked of [false, true]) {
    for (const prog of progs) {
      for (const [r3, r4] of cases) {
        // a fresh runtime per engine: updates and deletes change the map
        const [a, b] = [interpreter, jit].map((e) => outcome(() => fresh().rt.load(e, prog, { checked }).run({ args: [0n, 0n, r3, r4] }).r0));
        assert.equal(b, a, `${checked} ${prog[4].imm} ${r3} ${r4}`);
        if (a.startsWith('E_')) faults++;
      }
    }
  }
  assert.ok(faults > 20, `faults ${faults}`);
});
