/**
 * Inlined array-map lookups (src/core/jit/inline.ts, gen-inline.ts): which call sites are
 * inlined, and that programs looking up random keys (in range, out of range, "negative" u32)
 * in array and per-CPU array maps give the same r0, values and faults in the interpreter and
 * the JIT, checked and trusted, on either CPU.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { validate } from '../../src/core/isa/validate.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { compileModule, jit } from '../../src/core/jit/index.js';
import { inlineSites } from '../../src/core/jit/inline.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { resolveMapReferences } from '../../src/core/runtime/resolve.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, round8 } from '../../src/core/maps/layout.js';
import { Rng } from './randprog.js';
import { outcome } from './util.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n >>> 0]).buffer);

/** arrayMap creates an array (or per-CPU array) on a 2-CPU runtime, value bytes (i * 7 + cpu * 3 + b) & 0xff. */
function arrayMap(rt: Runtime, type: number, valueSize: number, maxEntries: number): number {
  const fd = cmd.mapCreate(rt, { mapType: type, keySize: 4, valueSize, maxEntries });
  const slots = type === BPF_MAP_TYPE_PERCPU_ARRAY ? rt.ncpus : 1;
  const stride = slots > 1 ? round8(valueSize) : valueSize;
  for (let i = 0; i < maxEntries; i++) {
    const v = new Uint8Array(slots * stride);
    for (let c = 0; c < slots; c++) for (let b = 0; b < valueSize; b++) v[c * stride + b] = (i * 7 + c * 3 + b) & 0xff;
    cmd.mapUpdateElem(rt, fd, u32(i), v);
  }
  return fd;
}

/** lookupCalls lists the slots of `call 1` in `prog`. */
function lookupCalls(prog: Program): number[] {
  return prog.flatMap((i, pc) => (i.code === 0x85 && i.src === 0 && i.imm === 1 ? [pc] : []));
}

function sitesOf(rt: Runtime, prog: Program, cpu = 0): number[] {
  const insns = resolveMapReferences(prog, rt);
  return [...inlineSites(insns, validate(insns), rt.context(cpu)).keys()];
}

/**
 * lookupProg: the key r1 goes to r10 - off (unless r2 == 1: the key stays uninitialised),
 * then r0 = lookup pointer | first value byte << 40 | last value byte << 48, or 0.
 */
function lookupProg(fd: number, off: number, valueSize: number): Program {
  return assemble(`
    if r2 == 1 goto skip
    *(u32 *)(r10 - ${off}) = r1
  skip:
    r2 = r10
    r2 += -${off}
    ld_pseudo r1, 1, ${fd}
    call 1
    if r0 == 0 goto out
    r1 = *(u8 *)(r0 + 0)
    r1 <<= 40
    r3 = *(u8 *)(r0 + ${valueSize - 1})
    r3 <<= 48
    r0 |= r1
    r0 |= r3
  out:
    exit`);
}

test('inline sites: array and per-CPU array maps with the key on the stack; r1 and r2 followed through copies and joins', () => {
  const rt = new Runtime({ cpus: 2 });
  const arr = arrayMap(rt, BPF_MAP_TYPE_ARRAY, 8, 4);
  const pca = arrayMap(rt, BPF_MAP_TYPE_PERCPU_ARRAY, 8, 4);
  const hash = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 4 });
  const call = (fd: number, r2: string): Program => assemble(`r1 = 0\n*(u32 *)(r10 - 8) = r1\n${r2}\nld_pseudo r1, 1, ${fd}\ncall 1\nexit`);
  const p = call(arr, 'r2 = r10\nr2 += -8');
  assert.equal(lookupCalls(p).length, 1);
  assert.deepEqual(sitesOf(rt, p), lookupCalls(p));
  assert.deepEqual(sitesOf(rt, call(pca, 'r2 = r10\nr2 += -8'), 1), lookupCalls(p));
  assert.deepEqual(sitesOf(rt, call(hash, 'r2 = r10\nr2 += -8')), [], 'hash maps stay calls');
  assert.deepEqual(sitesOf(rt, call(arr, 'r2 = r10\nr2 += -2')), [], 'key not inside the frame');
  assert.deepEqual(sitesOf(rt, call(arr, 'r2 = r10\nr2 += -516')), [], 'key below the frame');
  assert.deepEqual(sitesOf(rt, call(arr, 'r2 = r1')), [], 'key pointer unknown');
  assert.deepEqual(sitesOf(rt, call(arr, 'r2 = r10\nr2 += r0')), [], 'key pointer unknown');
  // the map in r9 before a loop, the key pointer set on two paths: still known at the call
  const loop = assemble(`
    ld_pseudo r9, 1, ${arr}
    r6 = 0
  loop:
    *(u32 *)(r10 - 4) = r6
    if r6 > 2 goto a
    r2 = r10
    r2 += -4
    goto b
  a:
    r2 = r10
    r2 -= 4
  b:
    r1 = r9
    call 1
    r6 += 1
    if r6 < 9 goto loop
    exit`);
  assert.equal(lookupCalls(loop).length, 1);
  assert.deepEqual(sitesOf(rt, loop), lookupCalls(loop));
  // different maps or offsets meeting at a join: unknown
  const join = assemble(`
    ld_pseudo r1, 1, ${arr}
    if r2 > 2 goto a
    ld_pseudo r1, 1, ${pca}
  a:
    r2 = r10
    r2 += -4
    call 1
    exit`);
  assert.deepEqual(sitesOf(rt, join), []);
  // a helper call clobbers r1..r5
  assert.deepEqual(sitesOf(rt, assemble(`ld_pseudo r1, 1, ${arr}\nr2 = r10\nr2 += -4\ncall 7\ncall 1\nexit`)), []);
});

test('inline sites: a runtime whose map_lookup_elem was replaced keeps the call (and the replacement runs)', () => {
  const rt = new Runtime();
  const arr = arrayMap(rt, BPF_MAP_TYPE_ARRAY, 8, 4);
  rt.helpers.register('map_lookup_elem', () => 77n);
  const prog = lookupProg(arr, 4, 8);
  assert.deepEqual(sitesOf(rt, prog), []);
  const p = rt.load(jit, assemble('r2 = r10\nr2 += -4\n*(u32 *)(r10 - 4) = r1\n' + `ld_pseudo r1, 1, ${arr}\ncall 1\nexit`), { checked: false });
  assert.equal(p.run({ args: [1n] }).r0, 77n);
});

test('inline lookups: trusted modules no longer import the lookup helper; checked ones keep it for faults', () => {
  const rt = new Runtime();
  const arr = arrayMap(rt, BPF_MAP_TYPE_ARRAY, 16, 10);
  const insns = resolveMapReferences(lookupProg(arr, 8, 16), rt);
  const halves = validate(insns);
  const sites = inlineSites(insns, halves, rt.context(0));
  assert.equal(sites.size, 1);
  const imports = (checked: boolean): string[] =>
    WebAssembly.Module.imports(compileModule(insns, halves, checked, checked, false, sites).module).map((i) => i.name);
  assert.ok(!imports(false).includes('h1'));
  assert.ok(imports(true).includes('h1'));
  assert.ok(WebAssembly.Module.imports(compileModule(insns, halves, false, false, false).module).some((i) => i.name === 'h1'));
});

test('inline lookups: random keys, maps and offsets give the interpreter\'s results in both modes and on both CPUs', () => {
  const r = new Rng(4242);
  for (let round = 0; round < 40; round++) {
    const rt = new Runtime({ cpus: 2 });
    const type = r.pick([BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY]);
    const valueSize = r.int(1, 72), maxEntries = r.int(1, 40);
    const fd = arrayMap(rt, type, valueSize, maxEntries);
    const off = r.int(4, 512);
    const prog = lookupProg(fd, off, valueSize);
    for (const checked of [true, false]) {
      const cpu = r.int(0, 1);
      assert.equal(sitesOf(rt, prog, cpu).length, 1);
      const progs = [interpreter, jit].map((e) => rt.load(e, prog, { checked, cpu }));
      for (let k = 0; k < 30; k++) {
        const key = r.pick([r.int(0, maxEntries - 1), maxEntries, maxEntries - 1, r.next(), 0xffffffff, -r.int(1, 5), 0x80000000]);
        // an uninitialised key: checked mode faults in both (the JIT through the helper's own check)
        const uninit = checked && r.chance(0.1) ? 1n : 0n;
        const [a, b] = progs.map((p) => outcome(() => p.run({ args: [BigInt.asUintN(64, BigInt(key)), uninit] }).r0));
        assert.equal(b, a, `round ${round} ${checked ? 'checked' : 'trusted'} cpu ${cpu} key ${key} off ${off}`);
        const idx = key >>> 0;
        if (uninit) assert.match(a, new RegExp(`^E_UNINIT_STACK@${lookupCalls(prog)[0]} `));
        else if (idx >= maxEntries) assert.equal(a, 'r0 0');
        else {
          const c = type === BPF_MAP_TYPE_PERCPU_ARRAY ? cpu : 0;
          const lo = BigInt((idx * 7 + c * 3) & 0xff), hi = BigInt((idx * 7 + c * 3 + valueSize - 1) & 0xff);
          assert.equal(BigInt(a.slice(3)) >> 40n, lo | (hi << 8n));
        }
      }
    }
  }
});

test('inline lookups: a loop over a hoisted map pointer sums the values (array and per-CPU array, both modes)', () => {
  for (const type of [BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY]) {
    const rt = new Runtime({ cpus: 2 });
    const fd = arrayMap(rt, type, 8, 20);
    const prog = assemble(`
      ld_pseudo r9, 1, ${fd}
      r6 = 0
      r8 = 0
    loop:
      *(u32 *)(r10 - 4) = r6
      r1 = r9
      r2 = r10
      r2 += -4
      call 1
      if r0 == 0 goto next
      r1 = *(u32 *)(r0 + 0)
      r8 += r1
    next:
      r6 += 1
      if r6 < 23 goto loop
      r0 = r8
      exit`);
    for (const checked of [true, false]) {
      for (const cpu of [0, 1]) {
        const c = type === BPF_MAP_TYPE_PERCPU_ARRAY ? cpu : 0;
        let want = 0n;
        for (let i = 0; i < 20; i++) {
          const b = (k: number): number => (i * 7 + c * 3 + k) & 0xff;
          want += BigInt((b(0) | (b(1) << 8) | (b(2) << 16) | (b(3) << 24)) >>> 0);
        }
        for (const e of [interpreter, jit]) assert.equal(rt.load(e, prog, { checked, cpu }).run().r0, want);
      }
    }
  }
});
