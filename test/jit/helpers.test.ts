/**
 * JIT helper calls: arguments and results as unsigned 64-bit BigInts, r1..r5 preserved,
 * callx by helper ID, and the interpreter's error rules (unknown helper at run time, helper
 * exceptions, HelperEnv.check, kfunc calls). Also re-entrant runs from inside a helper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { BpfError, isBpfError } from '../../src/core/errors.js';
import { assemble } from '../../src/core/asm/assemble.js';
import { createVmContext } from '../../src/core/vm/context.js';
import { PERM_RW } from '../../src/core/vm/memory.js';
import { jit } from '../../src/core/jit/index.js';
import { both, r0Of, u64 } from './util.js';

function registry(): HelperRegistry {
  const h = new HelperRegistry();
  h.register(7, (a, b, c, d, e) => a * 1000000n + b * 10000n + c * 100n + d * 10n + e);
  h.register(8, (a) => a); // returns r1 unchanged: shows the unsigned view of a negative value
  h.register(9, () => { throw new Error('boom'); });
  h.register(10, () => { throw new BpfError('ENOENT', 'no such thing'); });
  h.register(11, (a, b, _c, _d, _e, env) => { env.check(Number(a), Number(b), true); return 1n; });
  h.register(12, () => 2.9 as unknown as bigint);
  h.register(13, () => 'x' as unknown as bigint);
  return h;
}

const spec = { helpers: registry };

test('helper arguments are r1..r5, the result lands in r0 and r1..r5 survive', () => {
  const args = 'r1 = 1\nr2 = 2\nr3 = 3\nr4 = 4\nr5 = 5\n';
  assert.equal(r0Of(args + 'call 7\nexit', spec), 1020345n);
  assert.equal(r0Of(args + 'call 7\nr0 = r1\nr0 += r2\nr0 += r3\nr0 += r4\nr0 += r5\nexit', spec), 15n);
  assert.equal(r0Of('r1 = -1\ncall 8\nexit', spec), u64(-1n));
  assert.equal(r0Of('call 12\nexit', spec), 2n);
});

test('callx calls the helper whose ID the register holds', () => {
  assert.equal(r0Of('r1 = 4\nr6 = 8\ncallx r6\nexit', spec), 4n);
  assert.equal(both('r6 = -1\ncallx r6\nexit', spec).code, 'E_ABI');
  assert.equal(both('r6 = 0x100000008 ll\ncallx r6\nexit', spec).code, 'E_ABI');
  assert.equal(both('r6 = 77\ncallx r6\nexit', spec).code, 'E_HELPER');
});

test('helper errors: unknown ID when executed, exceptions, bad results, kfuncs', () => {
  assert.equal(r0Of('r0 = 1\nif r0 == 1 goto +1\ncall 99\nexit', spec), 1n);
  assert.deepEqual(both('r0 = 0\ncall 99\nexit', spec), { code: 'E_HELPER', insn: 1, address: undefined });
  assert.deepEqual(both('call 9\nexit', spec), { code: 'E_HELPER', insn: 0, address: undefined });
  assert.deepEqual(both('r0 = 0\ncall 10\nexit', spec), { code: 'ENOENT', insn: 1, address: undefined });
  assert.equal(both('call 13\nexit', spec).code, 'E_HELPER');
  const kfunc = assemble('call 0\nexit');
  kfunc[0].src = 2;
  assert.equal(both(kfunc, spec).code, 'E_HELPER');
});

test('HelperEnv.check applies the run\'s regions and marks stack writes', () => {
  assert.equal(r0Of('r2 = 4\ncall 11\nexit', spec), 1n);
  assert.deepEqual(both('r0 = 0\nr2 = 17\ncall 11\nexit', spec).code, 'E_MEM');
  // a helper write initialises the stack for later reads
  assert.equal(r0Of('r1 = r10\nr1 += -8\nr2 = 8\ncall 11\nr0 = *(u64 *)(r10 - 8)\nexit', spec), 0n);
  assert.equal(both('r1 = 0\nr2 = 8\ncall 11\nexit', { ...spec, checked: false }).r0, 1n);
});

test('a helper registered after load is found when the call runs', () => {
  const ctx = createVmContext();
  const l = jit.load(assemble('call 20\nexit'), ctx);
  assert.throws(() => l.run(), (e) => isBpfError(e) && e.code === 'E_HELPER');
  ctx.helpers.register(20, () => 42n);
  assert.equal(l.run().r0, 42n);
});

test('a helper may run another JIT program (or the same one) in the same context', () => {
  const ctx = createVmContext();
  const buf = ctx.space.alloc(16);
  const inner = jit.load(assemble('r0 = *(u64 *)(r1 + 0)\nr0 += 1\nexit'), ctx);
  let self: ReturnType<typeof jit.load> | null = null;
  ctx.helpers.register(30, (a) => inner.run({ args: [a], regions: [{ start: buf, end: buf + 8, perm: PERM_RW, name: 'b' }] }).r0);
  ctx.helpers.register(31, (a) => (a === 0n ? 100n : self!.run({ args: [a - 1n], regions: [] }).r0 + 1n));
  ctx.space.dv.setBigUint64(buf, 41n, true);
  // after the nested run, the outer run's region (buf + 8 .. buf + 16) must still be allowed
  const outer = jit.load(assemble('r6 = r1\nr1 = r2\ncall 30\n*(u64 *)(r6 + 0) = r0\nr0 = *(u64 *)(r6 + 0)\nexit'), ctx);
  const r = outer.run({ args: [BigInt(buf + 8), BigInt(buf)], regions: [{ start: buf + 8, end: buf + 16, perm: PERM_RW, name: 'o' }] });
  assert.equal(r.r0, 42n);
  self = jit.load(assemble('call 31\nexit'), ctx);
  assert.equal(self.run({ args: [3n], budget: 100 }).r0, 103n);
});
