/**
 * LRU hash and LRU per-CPU hash (common and BPF_F_NO_COMMON_LRU lists) against the kernel's:
 * the thread is pinned to CPU 0 (LRU free lists are per CPU), the same random sequences of
 * user-space updates (all flags), deletes, user-space lookups (which do not mark elements)
 * and program lookups (which do: BPF_PROG_TEST_RUN of an XDP program in the kernel, the
 * interpreter or the JIT here) are applied to both, and every result, every eviction (the
 * key set after each step) and the final values must be the same.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { encode } from '../../src/core/isa/instruction.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import type { LoadedProgram } from '../../src/core/vm/engine.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import { BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, isPerCpu, round8 } from '../../src/core/maps/layout.js';
import { errnoOf, hex, keyBytes, kernelKeys, pinTo, possibleCpus, valBytes } from './kernel-util.js';

const avail = kernelAvailable();
const BPF_F_NO_COMMON_LRU = 2;

/** kernel XDP program: look up the u32 key at the start of the packet; XDP_PASS (2) when found. */
function kernelLookupProg(fd: number): Uint8Array {
  return encode(assemble(`
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r4 = r2
    r4 += 4
    if r4 > r3 goto out
    r5 = *(u32 *)(r2 + 0)
    *(u32 *)(r10 - 4) = r5
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${fd}
    call 1
    if r0 == 0 goto out
    r0 = 2
    exit
  out:
    r0 = 1
    exit`));
}

/** our program: look up key r1; 2 when found, else 1. */
function ourLookupProg(fd: number): string {
  return `
    *(u32 *)(r10 - 4) = r1
    r2 = r10
    r2 += -4
    ld_pseudo r1, 1, ${fd}
    call 1
    r1 = r0
    r0 = 1
    if r1 == 0 goto out
    r0 = 2
  out:
    exit`;
}

type Op =
  | { kind: 'update'; key: number; val: number; flags: number }
  | { kind: 'lookup' | 'plookup' | 'delete'; key: number; jit?: boolean };

const opArb = (nkeys: number): fc.Arbitrary<Op> => fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('update' as const), key: fc.nat(nkeys - 1), val: fc.nat(), flags: fc.constantFrom(0, 0, 1, 2, 3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('plookup' as const), key: fc.nat(nkeys - 1), jit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('lookup' as const, 'delete' as const), key: fc.nat(nkeys - 1) }) },
);

const shapes = [
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 8, mapFlags: 0 },
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 16, mapFlags: 0 },
  { mapType: BPF_MAP_TYPE_LRU_HASH, keySize: 4, valueSize: 8, maxEntries: 7, mapFlags: BPF_F_NO_COMMON_LRU },
  { mapType: BPF_MAP_TYPE_LRU_PERCPU_HASH, keySize: 4, valueSize: 8, maxEntries: 10, mapFlags: 0 },
  { mapType: BPF_MAP_TYPE_LRU_PERCPU_HASH, keySize: 4, valueSize: 12, maxEntries: 6, mapFlags: BPF_F_NO_COMMON_LRU },
];

for (const shape of shapes) {
  test(`LRU map type ${shape.mapType} flags ${shape.mapFlags} max ${shape.maxEntries}: same evictions as the kernel on CPU 0`, (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    const ncpus = possibleCpus();
    const uvs = isPerCpu(shape.mapType) ? round8(shape.valueSize) * ncpus : shape.valueSize;
    const nkeys = shape.maxEntries * 2 + 3;
    pinTo([0], () => fc.assert(fc.property(fc.array(opArb(nkeys), { maxLength: 80 }), (ops) => {
      const rt = new Runtime({ cpus: ncpus, initialBytes: 1 << 20 });
      const ours = cmd.mapCreate(rt, shape);
      const progs: Record<string, LoadedProgram> = {
        interp: rt.load(interpreter, assemble(ourLookupProg(ours))),
        jit: rt.load(jit, assemble(ourLookupProg(ours))),
      };
      const kfd = k.mapCreate(shape);
      const kprog = k.progLoad({ progType: k.BPF_PROG_TYPE_XDP, insns: kernelLookupProg(kfd) }).fd;
      const ourKeys = (): string[] => {
        const out: string[] = [];
        let key: Uint8Array | null = null;
        for (;;) {
          const r = errnoOf(() => cmd.mapGetNextKey(rt, ours, key));
          if (r.errno) break;
          key = r.value as Uint8Array;
          out.push(hex(key));
        }
        return out.sort();
      };
      try {
        assert.equal(rt.map(ours).maxEntries, shape.mapFlags ? Math.ceil(shape.maxEntries / ncpus) * ncpus : shape.maxEntries);
        ops.forEach((op, step) => {
          const key = keyBytes(op.key, shape.keySize);
          let a, b;
          if (op.kind === 'update') {
            const v = valBytes(op.val, uvs);
            a = errnoOf(() => cmd.mapUpdateElem(rt, ours, key, v, op.flags));
            b = errnoOf(() => k.mapUpdate(kfd, key, v, op.flags));
          } else if (op.kind === 'delete') {
            a = { errno: errnoOf(() => cmd.mapDeleteElem(rt, ours, key)).errno };
            b = { errno: k.mapDelete(kfd, key) ? 0 : 2 };
          } else if (op.kind === 'lookup') {
            a = errnoOf(() => hex(cmd.mapLookupElem(rt, ours, key)));
            const v = k.mapLookup(kfd, key, uvs);
            b = v ? { errno: 0, value: hex(v) } : { errno: 2 };
          } else {
            const pkt = new Uint8Array(64);
            pkt.set(keyBytes(op.key, 4));
            a = Number(progs[op.jit ? 'jit' : 'interp'].run({ args: [BigInt(op.key)] }).r0);
            b = k.progTestRun(kprog, { dataIn: pkt }).retval;
          }
          assert.deepEqual(a, b, `step ${step}: ${JSON.stringify(op)}`);
          assert.deepEqual(ourKeys(), kernelKeys(kfd, shape.keySize), `keys after step ${step}: ${JSON.stringify(op)}`);
        });
        for (const h of ourKeys()) {
          const key = Uint8Array.from(Buffer.from(h, 'hex'));
          assert.equal(hex(cmd.mapLookupElem(rt, ours, key)), hex(k.mapLookup(kfd, key, uvs)!), `value of ${h}`);
        }
      } finally {
        k.closeFd(kprog);
        k.closeFd(kfd);
      }
    }), { numRuns: 30 }));
  });
}
