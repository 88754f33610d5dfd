/**
 * Programs on N worker threads over one shared memory: atomic counters give exact totals,
 * per-CPU maps keep one slot per worker (bpf_get_smp_processor_id = worker index), hash map
 * updates and deletes from several workers give exact final contents, and lookups racing
 * with updates/deletes never return a torn or reused value. Both engines, N = 2 and 4.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import * as cmd from '../../src/core/runtime/commands.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY,
} from '../../src/core/maps/layout.js';
import { WorkerPool } from '../../src/node/workers/index.js';
import { lookupKey0 } from '../asm-snippets.js';

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);
const u64At = (b: Uint8Array, off = 0): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);
const ENGINES = ['jit', 'interp'] as const;
const RUNS = { jit: 20000, interp: 5000 };

/** atomics: count[0] += 1 (DW add), count[1] += 2 (W add, fetch), count[2] via a CMPXCHG loop. */
function atomicsProgram(fd: number): string {
  return `
    ${lookupKey0(fd)}
    if r0 == 0 goto out
    r6 = r0
    r1 = 1
    lock *(u64 *)(r6 + 0) += r1
    r1 = 2
    w1 = atomic_fetch_add((u32 *)(r6 + 8), w1)
  retry:
    r0 = *(u64 *)(r6 + 16)
    r7 = r0
    r7 += 3
    r1 = r0
    r0 = cmpxchg_64(r6 + 16, r0, r7)
    if r0 != r1 goto retry
  out:
    r0 = 0
    exit`;
}

for (const n of [2, 4]) {
  for (const engine of ENGINES) {
    test(`workers: ${n} workers (${engine}) add to shared counters atomically, exact totals`, async () => {
      const pool = new WorkerPool({ workers: n, initialBytes: 8 << 20 });
      try {
        const fd = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1 });
        const prog = await pool.load(engine, assemble(atomicsProgram(fd)), { checked: true });
        const runs = RUNS[engine];
        const res = await pool.run(prog, { repeat: runs });
        assert.deepEqual(res.map((r) => r.cpu), [...Array(n).keys()]);
        const v = cmd.mapLookupElem(pool.rt, fd, u32(0));
        const total = BigInt(n * runs);
        assert.equal(u64At(v, 0), total);
        assert.equal(u64At(v, 8), 2n * total);
        assert.equal(u64At(v, 16), 3n * total);
      } finally {
        await pool.close();
      }
    });
  }
}

/** percpu: slot[cpu].count += 1 (plain, not atomic), slot.cpu = bpf_get_smp_processor_id(). */
function perCpuProgram(fd: number): string {
  return `
    ${lookupKey0(fd)}
    if r0 == 0 goto out
    r6 = r0
    r1 = *(u64 *)(r6 + 0)
    r1 += 1
    *(u64 *)(r6 + 0) = r1
    call 8
    *(u64 *)(r6 + 8) = r0
  out:
    r0 = 0
    exit`;
}

for (const n of [2, 4]) {
  for (const engine of ENGINES) {
    test(`workers: ${n} workers (${engine}) keep one per-CPU slot each, processor id = worker index`, async () => {
      const pool = new WorkerPool({ workers: n, initialBytes: 8 << 20 });
      try {
        const fd = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 16, maxEntries: 1 });
        const prog = await pool.load(engine, assemble(perCpuProgram(fd)), { checked: false });
        const base = RUNS[engine] / 10;
        // different run counts per worker, all concurrently
        await Promise.all([...Array(n).keys()].map((cpu) => pool.run(prog, { cpus: [cpu], repeat: base * (cpu + 1) })));
        const v = cmd.mapLookupElem(pool.rt, fd, u32(0));
        for (let cpu = 0; cpu < n; cpu++) {
          assert.equal(u64At(v, cpu * 16), BigInt(base * (cpu + 1)), `cpu ${cpu} count`);
          assert.equal(u64At(v, cpu * 16 + 8), BigInt(cpu), `cpu ${cpu} id`);
        }
      } finally {
        await pool.close();
      }
    });
  }
}

/**
 * hash churn: i = seq[cpu]++ (per-CPU array); key = cpu << 20 | i; hash[key] = i; when i is
 * odd, delete key - 1; every run also adds 1 to the shared key 0xffffffff (lookup + atomic
 * add, created with BPF_NOEXIST by whichever worker comes first).
 */
function churnProgram(seq: number, h: number): string {
  return `
    ${lookupKey0(seq)}
    if r0 == 0 goto fail
    r7 = *(u64 *)(r0 + 0)
    r1 = r7
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    call 8
    r0 <<= 20
    r0 |= r7
    *(u32 *)(r10 - 8) = r0
    *(u64 *)(r10 - 16) = r7
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -8
    r3 = r10
    r3 += -16
    r4 = 0
    call 2
    if r0 != 0 goto fail
    r1 = r7
    r1 &= 1
    if r1 == 0 goto shared
    r1 = *(u32 *)(r10 - 8)
    r1 += -1
    *(u32 *)(r10 - 8) = r1
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -8
    call 3
    if r0 != 0 goto fail
  shared:
    r1 = -1
    *(u32 *)(r10 - 8) = r1
  again:
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -8
    call 1
    if r0 == 0 goto create
    r1 = 1
    lock *(u64 *)(r0 + 0) += r1
    r0 = 0
    exit
  create:
    r1 = 0
    *(u64 *)(r10 - 16) = r1
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -8
    r3 = r10
    r3 += -16
    r4 = 1
    call 2
    goto again
  fail:
    r0 = 1
    exit`;
}

for (const n of [2, 4]) {
  for (const engine of ENGINES) {
    for (const [name, type] of [['hash', BPF_MAP_TYPE_HASH], ['lru_hash', BPF_MAP_TYPE_LRU_HASH]] as const) {
      test(`workers: ${n} workers (${engine}) insert and delete in one ${name}, exact final contents`, async () => {
        const runs = engine === 'jit' ? 4000 : 1000;
        const pool = new WorkerPool({ workers: n, initialBytes: 16 << 20 });
        try {
          const seq = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
          // room for every live key at once plus the LRU's per-CPU free lists: no evictions
          const h = cmd.mapCreate(pool.rt, { mapType: type, keySize: 4, valueSize: 8, maxEntries: n * runs + 4096 });
          const prog = await pool.load(engine, assemble(churnProgram(seq, h)), { checked: true });
          const res = await pool.run(prog, { repeat: runs });
          assert.deepEqual(res.map((r) => r.r0), res.map(() => 0n));
          const got = new Map<number, bigint>();
          let k: Uint8Array | null = null;
          for (;;) {
            try {
              k = cmd.mapGetNextKey(pool.rt, h, k);
            } catch {
              break;
            }
            got.set(new DataView(k.buffer).getUint32(0, true), u64At(cmd.mapLookupElem(pool.rt, h, k)));
          }
          const want = new Map<number, bigint>([[0xffffffff, BigInt(n * runs)]]);
          for (let cpu = 0; cpu < n; cpu++) for (let i = 1; i < runs; i += 2) want.set((cpu << 20) | i, BigInt(i));
          assert.equal(got.size, want.size);
          assert.deepEqual([...got].sort((a, b) => a[0] - b[0]), [...want].sort((a, b) => a[0] - b[0]));
        } finally {
          await pool.close();
        }
      });
    }
  }
}

/**
 * writer: key = r1 & 7 ... every word of the 64-byte value = key << 32 | run; alternately
 * deletes and re-inserts, so elements are freed and reused under the readers.
 */
function writerProgram(h: number, seq: number): string {
  const stores = [...Array(8).keys()].map((w) => `*(u64 *)(r10 - ${72 - w * 8}) = r6`).join('\n    ');
  return `
    ${lookupKey0(seq)}
    if r0 == 0 goto out
    r7 = *(u64 *)(r0 + 0)
    r1 = r7
    r1 += 1
    *(u64 *)(r0 + 0) = r1
    r8 = r7
    r8 &= 7
    *(u32 *)(r10 - 4) = r8
    r6 = r8
    r6 <<= 32
    r6 |= r7
    ${stores}
    r1 = r7
    r1 &= 8
    if r1 == 0 goto update
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -4
    call 3
    goto out
  update:
    ld_pseudo r1, 1, ${h}
    r2 = r10
    r2 += -4
    r3 = r10
    r3 += -72
    r4 = 0
    call 2
  out:
    r0 = 0
    exit`;
}

test('workers: user-space lookups racing with updates and deletes never see torn or reused values', async () => {
  const pool = new WorkerPool({ workers: 2, initialBytes: 8 << 20 });
  try {
    const seq = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const h = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 64, maxEntries: 64 });
    const prog = await pool.load('jit', assemble(writerProgram(h, seq)), { checked: true });
    const list = [...Array(40000).keys()].map((i) => ({ name: 'lookup' as const, fd: h, key: u32(i & 7) }));
    const [, reads] = await Promise.all([pool.run(prog, { cpus: [0], repeat: 400000 }), pool.commands(1, list)]);
    let found = 0;
    reads.values!.forEach((v, i) => {
      if (!v) return;
      found++;
      const w0 = u64At(v, 0);
      assert.equal(Number(w0 >> 32n), i & 7, `value of key ${i & 7} belongs to another key`);
      for (let w = 1; w < 8; w++) assert.equal(u64At(v, w * 8), w0, `torn value at lookup ${i}`);
    });
    assert.ok(found > 0, 'some lookups found their key');
  } finally {
    await pool.close();
  }
});

test('workers: a map created after the workers started is visible to programs loaded later', async () => {
  const pool = new WorkerPool({ workers: 2, initialBytes: 8 << 20 });
  try {
    const first = await pool.load('jit', assemble('r0 = 7\nexit'));
    const fd = cmd.mapCreate(pool.rt, { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 24, maxEntries: 1 });
    const prog = await pool.load('interp', assemble(atomicsProgram(fd)));
    assert.notEqual(prog.id, first.id);
    assert.deepEqual((await pool.run(first)).map((r) => r.r0), [7n, 7n]);
    await pool.run(prog, { repeat: 10 });
    assert.equal(u64At(cmd.mapLookupElem(pool.rt, fd, u32(0))), 20n);
    await assert.rejects(pool.run(prog, { budget: 3 }), { code: 'E_BUDGET' });
  } finally {
    await pool.close();
  }
});
