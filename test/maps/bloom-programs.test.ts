/**
 * Programs using bloom filters run identically in the interpreter and the JIT (checked and
 * trusted): bpf_map_push_elem (flags other than BPF_ANY: -EINVAL) and bpf_map_peek_elem
 * (0 or -ENOENT) agree with each other and with user-space peeks of the same filter, pushed
 * values always peek present, and bpf_map_lookup_elem / update / delete on the filter fault.
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
import { bloomHas } from '../../src/core/runtime/ext-commands.js';
import { BPF_MAP_TYPE_BLOOM_FILTER } from '../../src/core/maps/ext.js';

const engines: Array<[string, Engine, boolean]> = [
  ['interp checked', interpreter, true], ['interp trusted', interpreter, false],
  ['jit checked', jit, true], ['jit trusted', jit, false],
];

function outcome(fn: () => bigint): bigint | string {
  try {
    return fn();
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn}`;
    throw e;
  }
}

/** r1 = value (u64), r2 = 0 push (flags r3) / 1 peek / 2 lookup / 3 update / 4 delete. */
function prog(fd: number): string {
  return `
    *(u64 *)(r10 - 8) = r1
    r6 = r2
    r3 = r3
    ld_pseudo r1, 1, ${fd}
    r2 = r10
    r2 += -8
    if r6 == 0 goto push
    if r6 == 1 goto peek
    if r6 == 2 goto lookup
    if r6 == 3 goto update
    call 3
    exit
  push:
    call 87
    exit
  peek:
    call 89
    exit
  lookup:
    call 1
    exit
  update:
    r3 = r10
    r3 += -8
    r4 = 0
    call 2
    exit`;
}

const U = (n: number): bigint => BigInt.asUintN(64, BigInt(n));

test('bloom filter programs: push and peek agree across engines and with user space', () => {
  const pushes = [5n, 17n, 5n, 99n, 1234567n, 0n, 2n ** 40n];
  const peeks = [...pushes, ...Array.from({ length: 200 }, (_, i) => BigInt(i * 7 + 3))];
  const all: Array<Array<bigint | string>> = [];
  for (const [name, engine, checked] of engines) {
    const rt = new Runtime();
    const fd = cmd.mapCreate(rt, { mapType: BPF_MAP_TYPE_BLOOM_FILTER, keySize: 0, valueSize: 8, maxEntries: 20, mapFlags: 1 << 6, mapExtra: 3 });
    const p = rt.load(engine, assemble(prog(fd)), { checked });
    const got: Array<bigint | string> = [];
    got.push(...pushes.map((v) => outcome(() => p.run({ args: [v, 0n, 0n] }).r0)));
    got.push(...[1n, 2n, 4n, 2n ** 32n].map((f) => outcome(() => p.run({ args: [77n, 0n, f] }).r0)));
    const peeked = peeks.map((v) => outcome(() => p.run({ args: [v, 1n] }).r0));
    got.push(...peeked);
    // user space sees the same bits
    const user = peeks.map((v) => (bloomHas(rt, fd, new Uint8Array(new BigUint64Array([v]).buffer)) ? 0n : U(-2)));
    assert.deepEqual(peeked, user, `${name}: program and user-space peeks`);
    for (const v of pushes) assert.equal(peeked[peeks.indexOf(v)], 0n, `${name}: pushed ${v} present`);
    assert.ok(peeked.some((r) => r === U(-2)), `${name}: some values absent`);
    got.push(...[2n, 3n, 4n].map((op) => outcome(() => p.run({ args: [5n, op] }).r0)));
    all.push(got);
  }
  assert.deepEqual(all[0].slice(pushes.length, pushes.length + 4), [U(-22), U(-22), U(-22), U(-22)], 'push flags');
  assert.deepEqual(all[0].slice(-3), ['E_HELPER@17', 'E_HELPER@22', 'E_HELPER@11'], 'lookup/update/delete refused');
  for (let i = 1; i < all.length; i++) assert.deepEqual(all[i], all[0], engines[i][0]);
});
