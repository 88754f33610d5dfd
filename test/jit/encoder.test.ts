/**
 * The Wasm encoder: LEB128 encodings against hand-computed bytes, and modules it builds
 * validate and run (multi-value results, imported shared memory, atomics). Also the helper
 * ABI for in-Wasm helpers: a helper registered with a Wasm factory is called without JS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, Code, ModuleBuilder } from '../../src/core/jit/wasm/encoder.js';
import { Atomic, I32, I64, Op } from '../../src/core/jit/wasm/ops.js';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { AddressSpace } from '../../src/core/vm/memory.js';
import { createVmContext } from '../../src/core/vm/context.js';
import type { VmContext } from '../../src/core/vm/engine.js';
import { assemble } from '../../src/core/asm/assemble.js';
import { jit } from '../../src/core/jit/index.js';
import { interpreter } from '../../src/core/vm/interpreter.js';

function enc(f: (b: Bytes) => void): number[] {
  const b = new Bytes();
  f(b);
  return [...b.result()];
}

test('LEB128 encodings', () => {
  assert.deepEqual(enc((b) => b.u32(0)), [0]);
  assert.deepEqual(enc((b) => b.u32(127)), [0x7f]);
  assert.deepEqual(enc((b) => b.u32(128)), [0x80, 0x01]);
  assert.deepEqual(enc((b) => b.u32(624485)), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(enc((b) => b.u32(0xffffffff)), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(enc((b) => b.s32(-1)), [0x7f]);
  assert.deepEqual(enc((b) => b.s32(63)), [0x3f]);
  assert.deepEqual(enc((b) => b.s32(64)), [0xc0, 0x00]);
  assert.deepEqual(enc((b) => b.s32(-64)), [0x40]);
  assert.deepEqual(enc((b) => b.s32(-65)), [0xbf, 0x7f]);
  assert.deepEqual(enc((b) => b.s32(-123456)), [0xc0, 0xbb, 0x78]);
  assert.deepEqual(enc((b) => b.s32(-0x80000000)), [0x80, 0x80, 0x80, 0x80, 0x78]);
  assert.deepEqual(enc((b) => b.s64(-(2n ** 63n))), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
  assert.deepEqual(enc((b) => b.s64(2n ** 63n - 1n)), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
  assert.deepEqual(enc((b) => b.s64(0xffffffffn)), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(enc((b) => b.s64(2n ** 64n - 1n)), [0x7f]); // taken modulo 2^64
});

test('a built module with multi-value results, i64 params and shared-memory atomics runs', () => {
  const space = new AddressSpace({ shared: true, initialBytes: 1 << 16, maximumBytes: 1 << 20 });
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: 65536, shared: true });
  const f = mb.declareFunc([I64, I64], [I64, I64]);
  mb.exportFunc('f', f);
  const c = new Code(2);
  const tmp = c.local(I64);
  // old = atomic add [16] += a; return (a + b, old)
  c.i32(16).get(0).atomic(Atomic.i64_rmw_add, 3).set(tmp);
  c.get(0).get(1).op(Op.i64_add).get(tmp);
  mb.defineFunc(f, c);
  const bytes = mb.encode();
  assert.ok(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>));
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory: space.memory } });
  const fn = inst.exports.f as (a: bigint, b: bigint) => bigint[];
  assert.deepEqual(fn(5n, -7n), [-2n, 0n]);
  assert.deepEqual(fn(5n, 1n), [6n, 5n]);
  assert.equal(space.dv.getBigInt64(16, true), 10n);
});

/** wasmAdd builds a Wasm helper (r1..r5, insn) -> r1 + r2 + the u64 at address r3, over ctx's memory. */
function wasmAdd(ctx: VmContext): (...a: never[]) => unknown {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: ctx.space.shared ? 65536 : undefined, shared: ctx.space.shared });
  const f = mb.declareFunc([I64, I64, I64, I64, I64, I32], [I64]);
  mb.exportFunc('h', f);
  const c = new Code(6);
  c.get(0).get(1).op(Op.i64_add).get(2).op(Op.i32_wrap_i64).mem(Op.i64_load, 3, 0).op(Op.i64_add);
  mb.defineFunc(f, c);
  const m = new WebAssembly.Module(mb.encode() as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(m, { env: { memory: ctx.space.memory } }).exports.h as (...a: never[]) => unknown;
}

test('a helper with a Wasm implementation is imported directly by the JIT', () => {
  let jsCalls = 0;
  const helpers = new HelperRegistry();
  const fn = (a: bigint, b: bigint, c: bigint, _d: bigint, _e: bigint, env: { space: AddressSpace }) => {
    jsCalls++;
    return BigInt.asUintN(64, a + b + env.space.dv.getBigUint64(Number(c), true));
  };
  helpers.register(40, fn, (ctx) => wasmAdd(ctx));
  const prog = assemble('*(u64 *)(r10 - 8) = 1000\nr3 = r10\nr3 += -8\nr1 = 5\nr2 = -7\ncall 40\nexit');
  const ctx = createVmContext({ helpers });
  assert.equal(jit.load(prog, ctx).run().r0, 998n);
  assert.equal(jsCalls, 0);
  assert.equal(interpreter.load(prog, createVmContext({ helpers })).run().r0, 998n);
  assert.equal(jsCalls, 1);
});
