/**
 * bpf_spin_lock across worker threads: N workers run a program that, under the value's lock,
 * does a plain (non-atomic) a += 1 and b += a. Mutual exclusion makes a the number of runs and
 * b exactly 1 + 2 + ... + a; meanwhile the owner thread's BPF_F_LOCK lookups must always see
 * a consistent pair (b = a(a+1)/2). Both engines, 2 and 4 workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { BPF_F_LOCK } from '../../src/core/maps/layout.js';
import { WorkerPool } from '../../src/node/workers/index.js';
import { lockValueBtf } from '../maps/btf-blob.js';
import { lookupKey0, LOCKED_COUNT } from '../asm-snippets.js';

const BTF = lockValueBtf();
const RUNS = { jit: 20000, interp: 4000 };
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

function program(fd: number): string {
  return `
    ${lookupKey0(fd)}
    if r0 == 0 goto out
    r7 = r0
    ${LOCKED_COUNT}
  out:
    r0 = 0
    exit`;
}

function pair(v: Uint8Array): [bigint, bigint] {
  const dv = new DataView(v.buffer, v.byteOffset);
  return [dv.getBigUint64(0, true), dv.getBigUint64(16, true)];
}

for (const n of [2, 4]) {
  for (const engine of ['jit', 'interp'] as const) {
    test(`workers: ${n} workers (${engine}) update a spin-locked value, exact totals; BPF_F_LOCK lookups consistent`, async () => {
      const pool = new WorkerPool({ workers: n, initialBytes: 8 << 20 });
      try {
        const fd = cmd.mapCreate(pool.rt, { mapType: 2, keySize: 4, valueSize: 24, maxEntries: 1, btf: BTF.blob, btfValueTypeId: BTF.value });
        const prog = await pool.load(engine, assemble(program(fd)), { checked: true });
        const runs = RUNS[engine];
        const done = pool.run(prog, { repeat: runs });
        let last = 0n, bad: unknown;
        // the owner reads while the workers run (a synchronous burst, then the replies)
        try {
          for (let i = 0; i < 20000; i++) {
            const [a, b] = pair(cmd.mapLookupElem(pool.rt, fd, u32(0), BPF_F_LOCK));
            assert.equal(b, (a * (a + 1n)) / 2n, `consistent snapshot at a = ${a}`);
            assert.ok(a >= last, 'a never goes back');
            last = a;
          }
        } catch (e) {
          bad = e;
        }
        await done;
        if (bad) throw bad;
        const total = BigInt(n * runs);
        const v = cmd.mapLookupElem(pool.rt, fd, u32(0));
        assert.deepEqual(pair(v), [total, (total * (total + 1n)) / 2n]);
        assert.deepEqual([...v.subarray(8, 12)], [0, 0, 0, 0], 'the lock word reads as zero');
        assert.equal(pool.rt.space.dv.getUint32(pool.rt.map(fd).values + 8, true), 0, 'every lock released');
      } finally {
        await pool.close();
      }
    });
  }
}
