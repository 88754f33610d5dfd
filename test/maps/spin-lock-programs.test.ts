/**
 * Programs using bpf_spin_lock / bpf_spin_unlock on a map value with a BTF-described lock
 * run identically in the interpreter and the JIT (checked and trusted): counters under the
 * lock, the lock word as user space sees it (zero) and keeps it (updates never overwrite
 * it), map_update_elem with BPF_F_LOCK from programs (accepted with a lock, EINVAL without),
 * and the faults the kernel's verifier would have prevented (taking a held lock, unlocking a
 * lock not held, a misaligned lock) at the same instruction with the same message; a run that
 * exits (or faults) holding the lock releases it, and a checked one faults.
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
import { mapLookupBatch, mapUpdateBatch } from '../../src/core/runtime/batch.js';
import { errnoOf } from './kernel-util.js';
import { lockValueBtf } from './btf-blob.js';
import { lookupKey0, LOCKED_COUNT } from '../asm-snippets.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];
const BTF = lockValueBtf();
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const U = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

function outcome(fn: () => bigint): bigint | string {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn}: ${e.message}`;
    throw e;
  }
}

/**
 * r1 selects: 0 counter (lock, a += 1, b += a, unlock; returns a), 1 lock only, 2 unlock
 * only, 3 lock twice, 4 lock at value + 9 (misaligned), 5 map_update_elem with flags r2
 * (value a = 7, b = 9, lock bytes 0xff).
 */
function prog(fd: number): string {
  return `
    r6 = r1
    r8 = r2
    ${lookupKey0(fd)}
    if r0 == 0 goto none
    r7 = r0
    if r6 == 1 goto lock_only
    if r6 == 2 goto unlock_only
    if r6 == 3 goto twice
    if r6 == 4 goto misaligned
    if r6 == 5 goto update
    ${LOCKED_COUNT}
    r0 = *(u64 *)(r7 + 0)
    exit
  lock_only:
    r1 = r7
    r1 += 8
    call 93
    exit
  unlock_only:
    r1 = r7
    r1 += 8
    call 94
    exit
  twice:
    r1 = r7
    r1 += 8
    call 93
    r1 = r7
    r1 += 8
    call 93
    exit
  misaligned:
    r1 = r7
    r1 += 9
    call 93
    exit
  update:
    r1 = 7
    *(u64 *)(r10 - 32) = r1
    r1 = -1
    *(u64 *)(r10 - 24) = r1
    r1 = 9
    *(u64 *)(r10 - 16) = r1
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -32
    r4 = r8
    ld_pseudo r1, 1, ${fd}
    call 2
    exit
  none:
    r0 = 0xdead
    exit`;
}

test('spin lock programs: the same results, lock words and faults in every engine', () => {
  const all: Array<Array<bigint | string>> = [];
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime();
    const fd = cmd.mapCreate(rt, { mapType: 2, keySize: 4, valueSize: 24, maxEntries: 1, btf: BTF.blob, btfValueTypeId: BTF.value });
    const plain = cmd.mapCreate(rt, { mapType: 2, keySize: 4, valueSize: 24, maxEntries: 1 });
    const p = rt.load(engine, assemble(prog(fd)), { checked });
    const q = rt.load(engine, assemble(prog(plain)), { checked });
    const lockWord = (): number => rt.space.dv.getUint32(rt.map(fd).values + 8, true);
    const run = (r1: number, r2 = 0): bigint | string => outcome(() => p.run({ args: [BigInt(r1), BigInt(r2)] }).r0);
    const got: Array<bigint | string> = [];
    for (let i = 0; i < 5; i++) got.push(run(0));
    const v = cmd.mapLookupElem(rt, fd, u32(0));
    assert.equal(new DataView(v.buffer).getBigUint64(16, true), 15n, `${name}: b = 1 + ... + 5`);
    // a run exiting with the lock held: released; a checked run faults (spin-exit.ts)
    const exit = run(1);
    assert.equal(typeof exit === 'string' ? /exited holding a lock/.test(exit) : exit === 0n, true, `${name}: ${String(exit)}`);
    assert.equal(typeof exit === 'string', checked, `${name}: only checked runs fault`);
    got.push('exit', BigInt(lockWord()));
    // held by CPU 0 (as in the middle of one of its runs): user space reads zeros there, and its
    // updates (with or without BPF_F_LOCK... not while held) keep the word
    rt.space.dv.setUint32(rt.map(fd).values + 8, 1, true);
    got.push(BigInt(lockWord()));
    assert.deepEqual([...cmd.mapLookupElem(rt, fd, u32(0)).subarray(8, 12)], [0, 0, 0, 0], `${name}: lock reads as zero`);
    cmd.mapUpdateElem(rt, fd, u32(0), new Uint8Array(24).fill(0xff));
    got.push(BigInt(lockWord()), run(2), BigInt(lockWord()), run(2), run(3), BigInt(lockWord()), run(2), run(4));
    got.push(run(5, 4), run(5, 0), run(5, 5), run(5, 6), BigInt(lockWord()));
    got.push(outcome(() => q.run({ args: [5n, 4n] }).r0), outcome(() => q.run({ args: [5n, 0n] }).r0));
    const after = cmd.mapLookupElem(rt, fd, u32(0), 4);
    got.push(BigInt(new DataView(after.buffer).getBigUint64(0, true)), BigInt(new DataView(after.buffer).getUint32(8, true)));
    all.push(got);
  }
  const e = all[0];
  assert.deepEqual(e.slice(0, 5), [1n, 2n, 3n, 4n, 5n]);
  assert.deepEqual(e.slice(5, 11), ['exit', 0n, 1n, 1n, 0n, 0n], 'released at exit; held by cpu 0 (id 1), kept by a user update, unlock');
  assert.match(String(e[11]), /^E_HELPER@\d+: bpf_spin_unlock: the lock is not held/);
  assert.match(String(e[12]), /^E_HELPER@\d+: bpf_spin_lock: the lock is already held/);
  assert.equal(e[13], 0n, 'the first lock of "twice" is released when the faulted run ends');
  assert.match(String(e[14]), /^E_HELPER@\d+: bpf_spin_unlock: the lock is not held/);
  assert.match(String(e[15]), /^E_HELPER@\d+: bpf_spin_lock: the lock is not 4-byte aligned/);
  assert.deepEqual(e.slice(16, 21), [0n, 0n, U(-17), 0n, 0n], 'program updates: F_LOCK, ANY, F_LOCK|NOEXIST (EEXIST), F_LOCK|EXIST; lock untouched');
  assert.deepEqual(e.slice(21, 23), [U(-22), 0n], 'BPF_F_LOCK without a lock in the value');
  assert.deepEqual(e.slice(23), [7n, 0n]);
  for (let i = 1; i < all.length; i++) assert.deepEqual(all[i], e, engines[i][0]);
});

test('batch commands with BPF_F_LOCK: values copied around the lock, EINVAL without a lock or with other flags', () => {
  const rt = new Runtime();
  const fd = cmd.mapCreate(rt, { mapType: 1, keySize: 4, valueSize: 24, maxEntries: 8, btf: BTF.blob, btfValueTypeId: BTF.value });
  const plain = cmd.mapCreate(rt, { mapType: 1, keySize: 4, valueSize: 24, maxEntries: 8 });
  const keys = [1, 2, 3].map(u32), vals = [1, 2, 3].map((n) => new Uint8Array(24).fill(n));
  assert.equal(mapUpdateBatch(rt, fd, keys, vals, 4), 3);
  assert.equal(mapUpdateBatch(rt, plain, keys, vals, 0), 3);
  assert.equal(errnoOf(() => mapUpdateBatch(rt, plain, keys, vals, 4)).errno, 22);
  const b = mapLookupBatch(rt, fd, null, 10, 4);
  assert.equal(b.values.length, 3);
  for (const v of b.values) {
    const n = v[0];
    assert.deepEqual([...v], [...new Uint8Array(24).fill(n)].map((x, i) => (i >= 8 && i < 12 ? 0 : x)), 'lock bytes read as zero');
  }
  assert.equal(errnoOf(() => mapLookupBatch(rt, plain, null, 10, 4)).errno, 22);
  assert.equal(errnoOf(() => mapLookupBatch(rt, fd, null, 10, 8)).errno, 22);
  assert.equal(mapLookupBatch(rt, plain, null, 10).values.length, 3);
});

test('shared memory: a faulted run releases its lock; a lock left taken neither hangs user space nor the next program on that CPU', () => {
  for (const [name, engine] of [['interp', interpreter], ['jit', jit]] as const) {
    const rt = new Runtime({ shared: true });
    const fd = cmd.mapCreate(rt, { mapType: 2, keySize: 4, valueSize: 24, maxEntries: 1, btf: BTF.blob, btfValueTypeId: BTF.value });
    const p = rt.load(engine, assemble(prog(fd)), { checked: true });
    assert.match(outcome(() => p.run({ args: [3n] }).r0) as string, /bpf_spin_lock: the lock is already held/, name);
    assert.equal(rt.space.dv.getUint32(rt.map(fd).values + 8, true), 0, `${name}: released when the faulted run ended`);
    // a holder that never releases it (a program of CPU 0 still running, as far as user space knows)
    rt.space.dv.setUint32(rt.map(fd).values + 8, 1, true);
    // a BPF_F_LOCK lookup gives up waiting after a bounded spin and leaves the holder's lock alone
    assert.deepEqual([...cmd.mapLookupElem(rt, fd, u32(0), 4).subarray(8, 12)], [0, 0, 0, 0], name);
    assert.equal(rt.space.dv.getUint32(rt.map(fd).values + 8, true), 1, name);
    assert.match(outcome(() => p.run({ args: [1n] }).r0) as string, /already held/, `${name}: same CPU again`);
    assert.equal(outcome(() => p.run({ args: [2n] }).r0), 0n, `${name}: its holder can release it`);
    assert.match(outcome(() => p.run({ args: [1n] }).r0) as string, /exited holding a lock/, `${name}: exit with it held`);
    assert.match(outcome(() => p.run({ args: [2n] }).r0) as string, /not held by this CPU/, `${name}: released at that exit`);
  }
});
