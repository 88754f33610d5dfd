/**
 * Helpers that call back into the program (bpf_loop, bpf_for_each_map_elem) and the small
 * helpers (csum_diff, strtol/strtoul, get_current_*) run identically in the interpreter and
 * the JIT (checked and trusted): results, memory the callbacks write, budget faults inside a
 * callback at the same instruction, call depth, bad arguments. csum_diff is compared with the
 * kernel's on random inputs through BPF_PROG_TEST_RUN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { encode } from '../../src/core/isa/index.js';
import { isBpfError } from '../../src/core/errors.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { setCurrentTask, strtoull } from '../../src/core/runtime/misc-helpers.js';
import { BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY } from '../../src/core/maps/layout.js';
import { xdpRunOptions } from '../../src/core/vm/xdp.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];

function outcome(fn: () => bigint): string {
  try {
    return fn().toString();
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn}`;
    throw e;
  }
}

/** same runs `make(engine, checked)` on every engine and requires one common list of outcomes. */
function same(runs: (engine: Engine, checked: boolean) => string[]): string[] {
  const all = engines.map(([name, e, c]) => [name, runs(e, c)] as const);
  for (const [name, r] of all) assert.deepEqual(r, all[0][1], `${name} differs from ${all[0][0]}`);
  return all[0][1];
}

// loop(n = r1, flags = r2): ctx (u64 at r10-8) += i for each i; the callback stops at i == 5
const LOOP = `
  r9 = r2
  r7 = 0
  *(u64 *)(r10 - 8) = r7
  r3 = r10
  r3 += -8
  ld_pseudo r2, 4, 7
  r4 = r9
  call 181
  r1 = *(u64 *)(r10 - 8)
  r0 *= 1000
  r0 += r1
  exit
  r3 = *(u64 *)(r2 + 0)
  r3 += r1
  *(u64 *)(r2 + 0) = r3
  r0 = 0
  if r1 != 5 goto +1
  r0 = 1
  exit`;

test('bpf_loop: iterations, early stop, flags and limit errors, budget inside the callback', () => {
  const res = same((engine, checked) => {
    const rt = new Runtime();
    const p = rt.load(engine, assemble(LOOP), { checked });
    const cases: Array<[bigint, bigint, number?]> = [[3n, 0n], [10n, 0n], [0n, 0n], [4n, 1n], [(1n << 23n) + 1n, 0n], [1n << 23n, 0n, 90]];
    return cases.map(([n, f, budget]) => outcome(() => p.run({ args: [n, f], budget }).r0));
  });
  const errno = (e: bigint): string => BigInt.asUintN(64, -e * 1000n).toString();
  assert.deepEqual(res.slice(0, 5), ['3003', '6015', '0', errno(22n), errno(7n)]);
  assert.equal(res[5], '6015', 'six callbacks fit in a budget of 90');
});

test('bpf_loop: the budget running out inside a callback', () => {
  // the JIT counts the budget in trusted mode only when asked to (countBudget)
  const budgets = [7, 8, 40, 41, 44, 47, 48, 49];
  const res = same((engine, checked) => {
    const p = new Runtime().load(engine, assemble(LOOP), { checked, countBudget: true } as { checked: boolean });
    return budgets.map((budget) => outcome(() => p.run({ args: [10n, 0n], budget }).r0));
  });
  // 8 instructions up to the call, 6 per callback (i = 0..4), 7 for i = 5 (which stops the loop), 4 after it
  assert.deepEqual(res, ['E_BUDGET@8', 'E_BUDGET@13', 'E_BUDGET@15', 'E_BUDGET@16', 'E_BUDGET@19', 'E_BUDGET@11', 'E_BUDGET@12', '6015']);
});

test('bpf_loop: callbacks nest (a callback calling bpf_loop) down to the frame limit', () => {
  // g(i, depth): depth 0 returns 1, else bpf_loop(1, g, depth - 1); main: bpf_loop(1, g, r1)
  const nest = `
    r3 = r1
    r1 = 1
    ld_pseudo r2, 4, 4
    r4 = 0
    call 181
    exit
    if r2 == 0 goto ret
    r3 = r2
    r3 += -1
    r1 = 1
    ld_pseudo r2, 4, -5
    r4 = 0
    call 181
    exit
  ret:
    r0 = 1
    exit`;
  const res = same((engine, checked) => {
    const p = new Runtime().load(engine, assemble(nest), { checked });
    return [3n, 6n, 7n, 10n].map((d) => outcome(() => p.run({ args: [d] }).r0));
  });
  assert.deepEqual(res, ['1', '1', 'E_CALL_DEPTH@14', 'E_CALL_DEPTH@14']);
});

test('bpf_loop: an LD_ABS miss inside a callback ends the whole run with 0, nested too', () => {
  // main: bpf_loop(3, cb, r1) then r0 = 77; cb(i, depth): depth 0 does the LD_ABS (no packet:
  // a miss), else runs bpf_loop(1, cb, depth - 1) and returns 0
  const prog = `
    r3 = r1
    r1 = 3
    ld_pseudo r2, 4, 5
    r4 = 0
    call 181
    r0 = 77
    exit
    if r2 == 0 goto miss
    r3 = r2
    r3 += -1
    r1 = 1
    ld_pseudo r2, 4, -5
    r4 = 0
    call 181
    r0 = 0
    exit
  miss:
    ldabsb 100
    r0 = 5
    exit`;
  const res = same((engine, checked) => {
    const p = new Runtime().load(engine, assemble(prog), { checked });
    return [0n, 1n, 3n].map((d) => outcome(() => p.run({ args: [d] }).r0));
  });
  assert.deepEqual(res, ['0', '0', '0']);
});

const FOR_EACH = (fd: number): string => `
  r7 = 0
  *(u64 *)(r10 - 8) = r7
  ld_pseudo r1, 1, ${fd}
  ld_pseudo r2, 4, 9
  r3 = r10
  r3 += -8
  r4 = 0
  call 164
  r0 *= 1000000
  r1 = *(u64 *)(r10 - 8)
  r0 += r1
  exit
  r5 = *(u32 *)(r2 + 0)
  r6 = *(u64 *)(r3 + 0)
  r6 += r5
  r1 = *(u64 *)(r4 + 0)
  r1 += r6
  *(u64 *)(r4 + 0) = r1
  r0 = 0
  if r5 != 13 goto +1
  r0 = 1
  exit`;

test('bpf_for_each_map_elem: arrays, hash maps (stop early), per-CPU slots; the key is read-only', () => {
  const res = same((engine, checked) => {
    const rt = new Runtime({ cpus: 2 });
    const u = (n: number, size: number): Uint8Array => { const b = new Uint8Array(size); new DataView(b.buffer).setUint32(0, n, true); return b; };
    const arr = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    const hash = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 16 });
    const pc = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 2 });
    for (let i = 0; i < 4; i++) cmd.mapUpdateElem(rt, arr, u(i, 4), u(100 * i, 8));
    for (const key of [11, 12, 13, 14, 15]) cmd.mapUpdateElem(rt, hash, u(key, 4), u(key * 2, 8));
    cmd.mapUpdateElem(rt, pc, u(1, 4), new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]));
    const out: string[] = [];
    for (const fd of [arr, hash, pc]) out.push(outcome(() => rt.load(engine, assemble(FOR_EACH(fd)), { checked, cpu: 1 }).run().r0));
    return out;
  });
  for (const [name, engine] of engines.filter(([, , c]) => c)) {
    const rt = new Runtime();
    const arr = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 });
    const write = rt.load(engine, assemble(FOR_EACH(arr).replace('r5 = *(u32 *)(r2 + 0)', '*(u32 *)(r2 + 0) = r1')));
    assert.equal(outcome(() => write.run().r0), 'E_MEM@14', `${name}: the key is read-only`);
  }
  assert.equal(res[0], String(4 * 1e6 + (0 + 1 + 2 + 3) + 600));
  assert.equal(res[2], String(2 * 1e6 + 1 + 9), 'per-CPU: cpu 1 slots');
  // the hash walk stops after key 13; every visited key k adds 3k
  const visited = Math.floor(Number(res[1]) / 1e6), sum = Number(res[1]) % 1e6;
  assert.ok(visited >= 1 && visited <= 5 && sum % 3 === 0 && sum >= 39, res[1]);
});

test('strtol/strtoul follow the kernel parser', () => {
  const cases: Array<[string, bigint, number, bigint, boolean]> = [
    // text, flags, result (consumed or -errno), value, negative
    ['123', 10n, 3, 123n, false], ['  -42x', 0n, 5, 42n, true], ['0x1fz', 0n, 4, 31n, false], ['0x', 0n, 1, 0n, false],
    ['0x', 16n, -22, 0n, false], ['017', 0n, 3, 15n, false], ['19', 8n, 1, 1n, false], ['ff', 16n, 2, 255n, false],
    ['18446744073709551615', 10n, 20, 2n ** 64n - 1n, false], ['18446744073709551616', 10n, -34, 0n, false],
    ['', 10n, -22, 0n, false], ['   ', 10n, -22, 0n, false], ['12', 2n, -22, 0n, false], ['12', 0x30n, -22, 0n, false],
    ['1\x0023', 10n, 1, 1n, false], ['-', 10n, -22, 0n, true],
  ];
  for (const [text, flags, r, v, negative] of cases) {
    const b = new TextEncoder().encode(text);
    const got = strtoull(b, 0, b.length, flags);
    assert.deepEqual(r < 0 ? { r: got.r } : got, r < 0 ? { r } : { r, v, negative }, JSON.stringify(text));
  }
  const res = same((engine, checked) => {
    const rt = new Runtime();
    setCurrentTask(rt, { pid: 77, tgid: 66, comm: 'averyveryverylongname' });
    // "-9223372036854775808" and "9223372036854775808" in a map value; strtol both, strtoul the first
    const arr = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 64, maxEntries: 1 });
    const text = new TextEncoder().encode('-9223372036854775808 9223372036854775808');
    const val = new Uint8Array(64);
    val.set(text);
    cmd.mapUpdateElem(rt, arr, new Uint8Array(4), val);
    const prog = (helper: number, off: number, len: number): string => `
      r6 = 0
      *(u32 *)(r10 - 4) = r6
      r2 = r10
      r2 += -4
      ld_pseudo r1, 1, ${arr}
      call 1
      if r0 == 0 goto out
      r1 = r0
      r1 += ${off}
      r2 = ${len}
      r3 = 0
      r4 = r10
      r4 += -16
      call ${helper}
      r1 = *(u64 *)(r10 - 16)
      *(u64 *)(r10 - 24) = r0
      r0 = r1
      exit
    out:
      exit`;
    const out = [
      [106 - 1, 0, 20], [106 - 1, 21, 19], [106, 0, 20], [106, 21, 19],
    ].map(([h, off, len]) => outcome(() => rt.load(engine, assemble(prog(h, off, len)), { checked }).run().r0));
    const comm = rt.load(engine, assemble(`
      r1 = r10
      r1 += -16
      r2 = 16
      call 16
      r0 = *(u64 *)(r10 - 8)
      r1 = *(u64 *)(r10 - 16)
      r0 ^= r1
      exit`), { checked });
    out.push(outcome(() => rt.load(engine, assemble('call 14\nexit'), { checked }).run().r0), outcome(() => comm.run().r0));
    return out;
  });
  assert.deepEqual(res.slice(0, 5), [(2n ** 63n).toString(), '0', '0', (2n ** 63n).toString(), ((66n << 32n) | 77n).toString()]);
});

/** csumProg computes csum_diff(data + 0, a, data + 32, b, seed) and stores r0 at data[0..8). */
function csumProg(a: number, b: number, seed: number): string {
  return `
    r6 = *(u32 *)(r1 + 0)
    r7 = *(u32 *)(r1 + 4)
    r2 = r6
    r2 += 128
    if r2 > r7 goto out
    r1 = r6
    r2 = ${a}
    r3 = r6
    r3 += 32
    r4 = ${b}
    r5 = ${seed}
    call 28
    *(u64 *)(r6 + 0) = r0
  out:
    r0 = 2
    exit`;
}

test('csum_diff equals the kernel bit for bit', (t) => {
  const avail = kernelAvailable();
  if (!avail.ok) return t.skip(avail.reason);
  const sizes = [0, 4, 8, 12, 16, 20, 40, 44, 80, 84, 96, 3, 6];
  fc.assert(fc.property(fc.constantFrom(...sizes), fc.constantFrom(...sizes), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.uint8Array({ minLength: 128, maxLength: 128 }), (a, b, seed, data) => {
      const text = csumProg(a, b, seed);
      const kfd = k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: encode(assemble(text)) }).fd;
      let want: bigint;
      try {
        const r = k.progTestRun(kfd, { dataIn: data });
        want = new DataView(r.dataOut.buffer, r.dataOut.byteOffset).getBigUint64(0, true);
      } finally {
        k.closeFd(kfd);
      }
      for (const [name, engine, checked] of engines) {
        const rt = new Runtime();
        const at = rt.space.alloc(128, 8);
        rt.space.u8.set(data, at);
        const p = rt.load(engine, assemble(text), { checked });
        p.run(xdpRunOptions(rt.context(0), { data: at, len: 128 }));
        assert.equal(rt.space.dv.getBigUint64(at, true), want, `${name} a=${a} b=${b} seed=${seed}`);
      }
    }), { numRuns: 60 });
});
