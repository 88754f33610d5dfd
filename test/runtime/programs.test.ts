/**
 * Programs using the map helpers run identically in the interpreter and the JIT (checked and
 * trusted): results, map contents seen from user space, per-CPU slots, error returns, direct
 * value access (BPF_PSEUDO_MAP_VALUE), and the faults of bad helper arguments.
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
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH } from '../../src/core/maps/layout.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

/** counter: count[r1]++ in map `fd` (hash or array), creating the entry with BPF_NOEXIST; returns the new count. */
function counter(fd: number): string {
  return `
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${fd}
    call 1
    if r0 == 0 goto create
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r0 = *(u64 *)(r0 + 0)
    exit
  create:
    r1 = 1
    *(u64 *)(r10 - 16) = r1
    ld_pseudo r1, 1, ${fd}
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -16
    r4 = 1
    call 2
    if r0 != 0 goto fail
    r0 = 1
    exit
  fail:
    r0 = 1000
    exit`;
}

/** outcome runs `fn` and returns its result or the error's code/insn/address. */
function outcome<T>(fn: () => T): T | { code: string; insn?: number; address?: number } {
  try {
    return fn();
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return { code: e.code, insn: e.context.insn, address: e.context.address };
  }
}

test('a counter program over hash and array maps gives the same counts and map contents in every engine', () => {
  const keys = [3, 1, 3, 3, 0, 1, 7, 3, 2, 9, 9, 5, 4, 3];
  const results = engines.map(([name, engine, checked]) => {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const hash = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 5 });
    const arr = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 8 });
    const ph = rt.load(engine, assemble(counter(hash)), { checked });
    const pa = rt.load(engine, assemble(counter(arr)), { checked });
    const r0 = keys.map((k) => [ph.run({ args: [BigInt(k)] }).r0, pa.run({ args: [BigInt(k)] }).r0]);
    const dump = [hash, arr].map((fd) => {
      const out: string[] = [];
      let key: Uint8Array | null = null;
      for (;;) {
        try {
          key = cmd.mapGetNextKey(rt, fd, key);
        } catch {
          break;
        }
        out.push(`${new DataView(key.buffer).getUint32(0, true)}=${u64(cmd.mapLookupElem(rt, fd, key))}`);
      }
      return out.sort();
    });
    return { name, r0, dump };
  });
  // the hash map holds 5 entries: the 6th and later new keys fail with E2BIG (r0 = 1000)
  assert.deepEqual(results[0].r0.map((r) => r[0]), [1n, 1n, 2n, 3n, 1n, 2n, 1n, 4n, 1n, 1000n, 1000n, 1000n, 1000n, 5n]);
  // array elements always exist (NOEXIST is never needed), keys >= 8 miss and the update fails
  assert.deepEqual(results[0].r0.map((r) => r[1]), [1n, 1n, 2n, 3n, 1n, 2n, 1n, 4n, 1n, 1000n, 1000n, 1n, 1n, 5n]);
  for (const r of results.slice(1)) {
    assert.deepEqual(r.r0, results[0].r0, r.name);
    assert.deepEqual(r.dump, results[0].dump, r.name);
  }
});

test('per-CPU maps: each context increments its own slot; user space sees all slots', () => {
  for (const [name, engine, checked] of engines) {
    for (const mapType of [BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH]) {
      const rt = new Runtime({ cpus: 3, initialBytes: 1 << 20 });
      const fd = cmd.mapCreate(rt, { mapType, keySize: 4, valueSize: 8, maxEntries: 4 });
      const progs = [0, 1, 2].map((cpu) => rt.load(engine, assemble(counter(fd)), { checked, cpu }));
      const plan = [0, 1, 1, 2, 2, 2, 0, 2];
      for (const cpu of plan) progs[cpu].run({ args: [1n] });
      const v = cmd.mapLookupElem(rt, fd, u32(1));
      assert.equal(v.length, 24, name);
      assert.deepEqual([0, 8, 16].map((o) => u64(v, o)), [2n, 2n, 4n], `${name} type ${mapType}`);
    }
  }
});

test('helpers return -errno: update with NOEXIST on an array, delete on an array, missing hash key', () => {
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const arr = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    const hash = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 2 });
    const prog = (fd: number, body: string): bigint => rt.load(engine, assemble(`
      r1 = 0
      *(u64 *)(r10 - 8) = r1
      *(u64 *)(r10 - 16) = r1
      ld_pseudo r1, 1, ${fd}
      r2 = r10
      r2 += -8
      r3 = r10
      r3 += -16
      ${body}
      exit`), { checked }).run().r0;
    assert.equal(prog(arr, 'r4 = 1\ncall 2'), BigInt.asUintN(64, -17n), `${name} EEXIST`);
    assert.equal(prog(arr, 'r4 = 4\ncall 2'), BigInt.asUintN(64, -22n), `${name} BPF_F_LOCK`);
    assert.equal(prog(arr, 'call 3'), BigInt.asUintN(64, -22n), `${name} EINVAL`);
    assert.equal(prog(hash, 'call 3'), BigInt.asUintN(64, -2n), `${name} ENOENT`);
    assert.equal(prog(hash, 'r4 = 2\ncall 2'), BigInt.asUintN(64, -2n), `${name} EXIST on missing`);
    assert.equal(prog(hash, 'r4 = 0\ncall 2'), 0n, `${name} insert`);
    assert.equal(prog(hash, 'call 3'), 0n, `${name} delete`);
  }
});

test('BPF_PSEUDO_MAP_VALUE gives the address of an array value: writes are visible to user space', () => {
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const data = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, name: '.data' });
    cmd.mapUpdateElem(rt, data, u32(0), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    // ld_pseudo's immediate: fd in the low half, offset 8 in the high half
    const r = rt.load(engine, assemble(`
      ld_pseudo r1, 2, ${(8n << 32n) | BigInt(data)}
      ld_pseudo r2, 2, ${data}
      r0 = *(u64 *)(r2 + 0)
      r0 *= 7
      *(u64 *)(r1 + 0) = r0
      exit`), { checked }).run();
    assert.equal(r.r0, 35n, name);
    assert.equal(u64(cmd.mapLookupElem(rt, data, u32(0)), 8), 35n, name);
  }
});

test('bad helper arguments fault identically in checked mode (interpreter and JIT)', () => {
  const cases: Array<[string, string]> = [
    ['uninitialised key', 'r2 = r10\nr2 += -4\nld_pseudo r1, 1, FD\ncall 1\nexit'],
    ['half-initialised key', '*(u16 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, FD\ncall 1\nexit'],
    ['key outside any region', 'r2 = 4096\nld_pseudo r1, 1, FD\ncall 1\nexit'],
    ['key above 4 GiB', 'r2 = 0x100000010 ll\nld_pseudo r1, 1, FD\ncall 1\nexit'],
    ['not a map', '*(u32 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\nr1 = r10\ncall 1\nexit'],
    ['map pointer + 8', '*(u32 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, FD\nr1 += 8\ncall 1\nexit'],
    ['uninitialised value', '*(u32 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\nr3 = r10\nr3 += -16\nr4 = 0\nld_pseudo r1, 1, FD\ncall 2\nexit'],
    ['write past the value storage', '*(u32 *)(r10 - 4) = 1\nr2 = r10\nr2 += -4\nld_pseudo r1, 1, FD\ncall 1\n*(u64 *)(r0 + 16) = r1\nexit'],
  ];
  for (const [what, text] of cases) {
    const got = engines.filter((e) => e[2]).map(([name, engine]) => {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const fd = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
      return { name, out: outcome(() => rt.load(engine, assemble(text.replaceAll('FD', String(fd))), { checked: true }).run()) };
    });
    const first = got[0].out as { code?: string };
    assert.ok(first.code, `${what}: expected a fault, got ${JSON.stringify(first)}`);
    for (const g of got.slice(1)) assert.deepEqual(g.out, got[0].out, `${what} (${g.name})`);
  }
});

test('the JIT calls the Wasm map helpers (the JavaScript ones are not called), the interpreter the JavaScript ones', () => {
  for (const checked of [true, false]) {
    const rt = new Runtime({ initialBytes: 1 << 20 });
    const fd = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
    let jsCalls = 0;
    for (const id of [1, 2]) {
      const impl = rt.helpers.get(id)!;
      assert.ok(impl.wasm, `helper ${id} has a Wasm implementation`);
      rt.helpers.register(id, (...a) => {
        jsCalls++;
        return impl.fn(...a);
      }, impl.wasm);
    }
    const pj = rt.load(jit, assemble(counter(fd)), { checked });
    assert.deepEqual([1n, 2n, 1n, 3n].map((k) => pj.run({ args: [k] }).r0), [1n, 1n, 2n, 1n]);
    assert.equal(jsCalls, 0);
    const pi = rt.load(interpreter, assemble(counter(fd)), { checked });
    assert.equal(pi.run({ args: [1n] }).r0, 3n);
    assert.equal(jsCalls, 1);
  }
});

test('ktime_get_ns is monotonic, get_prandom_u32 is seedable, get_smp_processor_id is the context cpu', () => {
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime({ cpus: 2, seed: 42, initialBytes: 1 << 20 });
    const twice = rt.load(engine, assemble('call 5\nr6 = r0\ncall 125\nr7 = r0\ncall 5\nr0 -= r6\nexit'), { checked });
    assert.ok(BigInt.asIntN(64, twice.run().r0) >= 0n, name);
    const rnd = (r: Runtime): bigint[] => {
      const p = r.load(engine, assemble('call 7\nexit'), { checked });
      return [0, 1, 2, 3].map(() => p.run().r0);
    };
    const seq = rnd(rt);
    assert.deepEqual(rnd(new Runtime({ seed: 42, initialBytes: 1 << 20 })), seq, name);
    assert.ok(seq.every((v) => v < 1n << 32n) && new Set(seq).size === 4, name);
    for (const cpu of [0, 1]) assert.equal(rt.load(engine, assemble('call 8\nexit'), { checked, cpu }).run().r0, BigInt(cpu));
  }
});
