/**
 * LPM tries (IPv4 and IPv6 keys) against the kernel's: random prefix sets built by updates
 * (all flags, prefixlen past the maximum) and deletes, then longest-prefix lookups of random
 * addresses, compared step by step (errors, values) along with the get_next_key order (the
 * trie's post-order) and creation attributes; programs' lookups (interpreter and JIT) give
 * the user-space answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/assemble.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import { BPF_MAP_TYPE_LPM_TRIE } from '../../src/core/maps/layout.js';
import { errnoOf, hex } from './kernel-util.js';

const avail = kernelAvailable();
const NO_PREALLOC = 1;

/** an address drawn from a small pool of byte values, so prefixes overlap often */
const addrArb = (n: number): fc.Arbitrary<number[]> => fc.array(fc.constantFrom(0x00, 0x0a, 0x80, 0xc0, 0xc8, 0xff), { minLength: n, maxLength: n });

function lpmKey(len: number, addr: number[]): Uint8Array {
  const b = new Uint8Array(4 + addr.length);
  new DataView(b.buffer).setUint32(0, len, true);
  b.set(addr, 4);
  return b;
}

type Op = { kind: 'update' | 'delete' | 'lookup'; len: number; addr: number[]; flags: number; val: number };

for (const n of [4, 16]) {
  test(`LPM trie with ${n}-byte data: random prefix sets and lookups as in the kernel`, (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    const max = n * 8;
    const opArb: fc.Arbitrary<Op> = fc.record({
      kind: fc.constantFrom('update', 'update', 'update', 'delete', 'lookup', 'lookup') as fc.Arbitrary<Op['kind']>,
      len: fc.oneof(fc.integer({ min: 0, max }), fc.constantFrom(max, max + 1, 8, 16, 24)),
      addr: addrArb(n), flags: fc.constantFrom(0, 0, 1, 2, 3), val: fc.nat(),
    });
    const attr = { mapType: BPF_MAP_TYPE_LPM_TRIE, keySize: 4 + n, valueSize: 4, maxEntries: 12, mapFlags: NO_PREALLOC };
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const rt = new Runtime({ initialBytes: 1 << 20 });
      const ours = cmd.mapCreate(rt, attr);
      const kfd = k.mapCreate(attr);
      const progs = [interpreter, jit].map((e) => rt.load(e, assemble(`r2 = r1\nld_pseudo r1, 1, ${ours}\ncall 1\nif r0 == 0 goto out\nr0 = *(u32 *)(r0 + 0)\nout:\nexit`)));
      const order = (next: (key: Uint8Array | null) => Uint8Array | null): string[] => {
        const out: string[] = [];
        for (let key = next(null); key && out.length < 100; key = next(key)) out.push(hex(key));
        return out;
      };
      try {
        ops.forEach((op, step) => {
          const key = lpmKey(op.len, op.addr);
          let a, b;
          if (op.kind === 'update') {
            const v = new Uint8Array(new Uint32Array([op.val]).buffer);
            a = errnoOf(() => cmd.mapUpdateElem(rt, ours, key, v, op.flags)).errno;
            b = errnoOf(() => k.mapUpdate(kfd, key, v, op.flags)).errno;
          } else if (op.kind === 'delete') {
            a = errnoOf(() => cmd.mapDeleteElem(rt, ours, key)).errno;
            b = errnoOf(() => {
              if (!k.mapDelete(kfd, key)) throw new k.KernelError('ENOENT', 'delete', 2, 3);
            }).errno;
          } else {
            a = errnoOf(() => hex(cmd.mapLookupElem(rt, ours, key)));
            const v = k.mapLookup(kfd, key, 4);
            b = v ? { errno: 0, value: hex(v) } : { errno: 2 };
            // programs: the same answer (the key is placed in a map-free stack buffer by the runtime)
            const at = rt.scratch(64);
            rt.space.write(at + 32, key);
            for (const p of progs) {
              const r0 = p.run({ args: [BigInt(at + 32)], regions: [{ start: at, end: at + 64, perm: 3, name: 'key' }] }).r0;
              assert.equal(r0, a.errno ? 0n : BigInt(new DataView(cmd.mapLookupElem(rt, ours, key).buffer).getUint32(0, true)), `program lookup, step ${step}`);
            }
          }
          assert.deepEqual(a, b, `step ${step}: ${JSON.stringify(op)}`);
        });
        const ourNext = (key: Uint8Array | null): Uint8Array | null => {
          const r = errnoOf(() => cmd.mapGetNextKey(rt, ours, key));
          return r.errno ? null : (r.value as Uint8Array);
        };
        assert.deepEqual(order(ourNext), order((key) => k.mapGetNextKey(kfd, key, 4 + n)), 'get_next_key order');
        assert.deepEqual(errnoOf(() => hex(cmd.mapGetNextKey(rt, ours, lpmKey(max + 1, Array(n).fill(0))))),
          errnoOf(() => {
            const r = k.mapGetNextKey(kfd, lpmKey(max + 1, Array(n).fill(0)), 4 + n);
            if (!r) throw new k.KernelError('ENOENT', 'next', 2, 4);
            return hex(r);
          }), 'get_next_key of a too long prefix');
      } finally {
        k.closeFd(kfd);
      }
    }), { numRuns: 60 });
  });
}

test('LPM trie creation attributes as in the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const rt = new Runtime({ initialBytes: 1 << 22 });
  fc.assert(fc.property(fc.record({
    mapType: fc.constant(BPF_MAP_TYPE_LPM_TRIE), keySize: fc.constantFrom(4, 5, 8, 20, 260, 261),
    valueSize: fc.constantFrom(0, 1, 8), maxEntries: fc.constantFrom(0, 1, 100), mapFlags: fc.constantFrom(0, 1, 3, 5, 9, 17, 129, 64),
  }), (a) => {
    const ours = errnoOf(() => cmd.mapCreate(rt, a)), kern = errnoOf(() => k.mapCreate(a));
    if (kern.errno === 0) k.closeFd(kern.value as number);
    assert.equal(ours.errno, kern.errno, JSON.stringify(a));
  }), { numRuns: 120 });
});
