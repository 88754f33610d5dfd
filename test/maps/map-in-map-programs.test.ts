/**
 * Programs looking up maps of maps (array-of-maps, hash-of-maps) run identically in the
 * interpreter and the JIT (checked and trusted): the outer lookup returns the inner map (or
 * NULL for an empty slot, a missing key, an index out of range), the inner map's helpers work
 * on it, and program-side updates/deletes of the outer map fault E_HELPER at the call. Also
 * for a program loaded before the runtime had any map of an extension type (the JIT's map
 * helpers must not depend on what existed at load time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { isBpfError } from '../../src/core/errors.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH } from '../../src/core/maps/layout.js';
import { BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS } from '../../src/core/maps/ext.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint): Uint8Array => new Uint8Array(new BigUint64Array([n]).buffer);

function outcome(fn: () => bigint): bigint | string {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn}`;
    throw e;
  }
}

/**
 * twoLevel: outer map r1 (a map pointer) or fd `outer`; outer key r2, inner key r3. Returns
 * 0xdead0 + 1 when the outer lookup is NULL, 0xdead0 + 2 when the inner one is, else the inner
 * u64 value after adding r4 to it (an atomic add through the pointer).
 */
function twoLevel(outer?: number): string {
  return `
    r6 = r3
    r7 = r4
    *(u32 *)(r10 - 4) = r2
    r2 = r10
    r2 += -4
    ${outer === undefined ? '' : `ld_pseudo r1, 1, ${outer}`}
    call 1
    if r0 == 0 goto no_outer
    *(u32 *)(r10 - 8) = r6
    r1 = r0
    r2 = r10
    r2 += -8
    call 1
    if r0 == 0 goto no_inner
    lock *(u64 *)(r0 + 0) += r7
    r0 = *(u64 *)(r0 + 0)
    exit
  no_outer:
    r0 = 0xdead1
    exit
  no_inner:
    r0 = 0xdead2
    exit`;
}

interface Setup {
  rt: Runtime;
  outer: number;
  inner: number[];
}

/** setup: inner maps (array, or hash with keys 0..3) with value 100*i + key; outer slots 0 -> inner 0, 2 -> inner 1, 5 -> inner 2 (hash only). */
function setup(rt: Runtime, outerType: number, innerType: number): Setup {
  const inner = [0, 1, 2].map((i) => {
    const fd = cmd.mapCreate(rt, { mapType: innerType, keySize: 4, valueSize: 8, maxEntries: 4 });
    for (let k = 0; k < 4; k++) cmd.mapUpdateElem(rt, fd, u32(k), u64(BigInt(100 * i + k)));
    return fd;
  });
  const outer = cmd.mapCreate(rt, { mapType: outerType, keySize: 4, valueSize: 4, maxEntries: 4, innerMapFd: inner[0] });
  cmd.mapUpdateElem(rt, outer, u32(0), u32(inner[0]));
  cmd.mapUpdateElem(rt, outer, u32(2), u32(inner[1]));
  if (outerType === BPF_MAP_TYPE_HASH_OF_MAPS) cmd.mapUpdateElem(rt, outer, u32(5), u32(inner[2]));
  return { rt, outer, inner };
}

// [outer key, inner key, add]
const CASES: Array<[number, number, number]> = [
  [0, 0, 1], [0, 3, 5], [2, 1, 7], [1, 0, 1], [3, 0, 1], [4, 0, 1], [5, 2, 9], [0xffffffff, 0, 1], [2, 4, 1], [2, 9, 1], [0, 0, 1],
];

for (const outerType of [BPF_MAP_TYPE_ARRAY_OF_MAPS, BPF_MAP_TYPE_HASH_OF_MAPS]) {
  for (const innerType of [BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH]) {
    const what = `${outerType === BPF_MAP_TYPE_ARRAY_OF_MAPS ? 'array' : 'hash'}-of-maps over ${innerType === BPF_MAP_TYPE_ARRAY ? 'arrays' : 'hashes'}`;
    test(`${what}: lookups through both levels agree in every engine and with the expected values`, () => {
      const expected: Array<bigint | string> = [];
      const inner = new Map<string, bigint>();
      const slot: Record<number, number> = outerType === BPF_MAP_TYPE_HASH_OF_MAPS ? { 0: 0, 2: 1, 5: 2 } : { 0: 0, 2: 1 };
      for (const [o, k, add] of CASES) {
        const i = slot[o];
        if (i === undefined) expected.push(0xdead1n);
        else if (k >= 4) expected.push(0xdead2n);
        else {
          const v = (inner.get(`${i}/${k}`) ?? BigInt(100 * i + k)) + BigInt(add);
          inner.set(`${i}/${k}`, v);
          expected.push(v);
        }
      }
      for (const [name, engine, checked] of engines) {
        const s = setup(new Runtime(), outerType, innerType);
        const p = s.rt.load(engine, assemble(twoLevel(s.outer)), { checked });
        const got = CASES.map(([o, k, add]) => outcome(() => p.run({ args: [0n, BigInt(o), BigInt(k), BigInt(add)] }).r0));
        assert.deepEqual(got, expected, name);
        // user space sees the program's writes in the inner maps
        assert.deepEqual(cmd.mapLookupElem(s.rt, s.inner[1], u32(1)), u64(inner.get('1/1')!), name);
      }
    });
  }

  test(`${outerType === 12 ? 'array' : 'hash'}-of-maps: a program loaded before any extension map existed sees it`, () => {
    for (const [name, engine, checked] of engines) {
      const rt = new Runtime();
      const p = rt.load(engine, assemble(twoLevel()), { checked });
      const s = setup(rt, outerType, BPF_MAP_TYPE_ARRAY);
      const hdr = BigInt(rt.map(s.outer).hdr);
      const got = [[0, 1], [2, 3], [1, 0]].map(([o, k]) => outcome(() => p.run({ args: [hdr, BigInt(o), BigInt(k), 1n] }).r0));
      assert.deepEqual(got, [2n, 104n, 0xdead1n], name);
    }
  });

  test(`${outerType === 12 ? 'array' : 'hash'}-of-maps: program updates and deletes of the outer map fault E_HELPER`, () => {
    for (const [name, engine, checked] of engines) {
      const s = setup(new Runtime(), outerType, BPF_MAP_TYPE_ARRAY);
      const update = s.rt.load(engine, assemble(`
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        ld_pseudo r1, 1, ${s.outer}
        r2 = r10
        r2 += -8
        r3 = r10
        r3 += -8
        r4 = r5
        call 2
        exit`), { checked });
      const del = s.rt.load(engine, assemble(`
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        ld_pseudo r1, 1, ${s.outer}
        r2 = r10
        r2 += -8
        call 3
        exit`), { checked });
      // flags are not looked at first: the helper itself is refused (as the kernel's verifier would)
      assert.equal(outcome(() => update.run({ args: [0n, 0n, 0n, 0n, 0n] }).r0), 'E_HELPER@9', name);
      assert.equal(outcome(() => update.run({ args: [0n, 0n, 0n, 0n, 7n] }).r0), 'E_HELPER@9', name);
      assert.equal(outcome(() => del.run().r0), 'E_HELPER@6', name);
      assert.deepEqual(cmd.mapLookupElem(s.rt, s.outer, u32(0)), u32(s.rt.map(s.inner[0]).id), name);
    }
  });
}
