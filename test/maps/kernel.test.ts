/**
 * Map semantics against the Linux kernel's maps: the same random command sequences applied
 * to a tsbpf Runtime and to kernel maps (bpf(2) via koffi), comparing returned errors,
 * values and iteration sets; and map creation attributes accepted or refused alike.
 * Skipped, with the reason printed, when kernel BPF is unavailable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { isBpfError } from '../../src/core/errors.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { ERRNO_OF } from '../../src/core/runtime/errno.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, isPerCpu, round8,
} from '../../src/core/maps/layout.js';
import type { MapAttr } from '../../src/core/maps/create.js';

const avail = kernelAvailable();

function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, r) => {
    const [a, b] = r.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

/** errno of a thrown error (ours or the kernel's), 0 when `fn` succeeds. */
function errnoOf(fn: () => unknown): { errno: number; value?: unknown } {
  try {
    return { errno: 0, value: fn() };
  } catch (e) {
    if (e instanceof k.KernelError) return { errno: e.errno };
    if (isBpfError(e)) return { errno: ERRNO_OF[e.code] ?? -1 };
    throw e;
  }
}

type Op =
  | { kind: 'update'; key: number; val: number; flags: number }
  | { kind: 'lookup' | 'delete' | 'next'; key: number }
  | { kind: 'first' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('update' as const), key: fc.integer({ min: 0, max: 11 }), val: fc.nat(), flags: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('lookup' as const, 'delete' as const, 'next' as const), key: fc.integer({ min: 0, max: 11 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'first' as const }) },
);

function keyBytes(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, n, true);
  for (let i = 4; i < size; i++) b[i] = (n * 13 + i) & 0xff;
  return b;
}

function valBytes(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (n >> ((i % 4) * 8)) ^ i;
  return b;
}

/** allKeys iterates a map with get_next_key from NULL and returns the keys as hex strings, sorted. */
function allKeys(next: (key: Uint8Array | null) => Uint8Array | null): string[] {
  const out: string[] = [];
  let key: Uint8Array | null = null;
  for (let i = 0; i < 10_000; i++) {
    key = next(key);
    if (!key) break;
    out.push(Buffer.from(key).toString('hex'));
  }
  return out.sort();
}

const shapes: MapAttr[] = [
  { mapType: BPF_MAP_TYPE_HASH, keySize: 4, valueSize: 8, maxEntries: 6 },
  { mapType: BPF_MAP_TYPE_HASH, keySize: 6, valueSize: 5, maxEntries: 4 },
  { mapType: BPF_MAP_TYPE_PERCPU_HASH, keySize: 4, valueSize: 12, maxEntries: 5 },
  { mapType: BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 12, maxEntries: 8 },
  { mapType: BPF_MAP_TYPE_PERCPU_ARRAY, keySize: 4, valueSize: 4, maxEntries: 7 },
];

for (const shape of shapes) {
  test(`map type ${shape.mapType} (key ${shape.keySize}, value ${shape.valueSize}): random commands as in the kernel`, (t) => {
    if (!avail.ok) return t.skip(avail.reason);
    const ncpus = possibleCpus();
    const uvs = isPerCpu(shape.mapType) ? round8(shape.valueSize) * ncpus : shape.valueSize;
    const isArray = shape.mapType === BPF_MAP_TYPE_ARRAY || shape.mapType === BPF_MAP_TYPE_PERCPU_ARRAY;
    fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const rt = new Runtime({ cpus: ncpus, initialBytes: 1 << 20 });
      const ours = cmd.mapCreate(rt, shape);
      const kfd = k.mapCreate(shape);
      try {
        for (const op of ops) {
          const key = op.kind === 'first' ? null : keyBytes(op.key, shape.keySize);
          let a, b;
          switch (op.kind) {
            case 'update': {
              const v = valBytes(op.val, uvs);
              a = errnoOf(() => cmd.mapUpdateElem(rt, ours, key!, v, op.flags));
              b = errnoOf(() => k.mapUpdate(kfd, key!, v, op.flags));
              break;
            }
            case 'lookup':
              a = errnoOf(() => Buffer.from(cmd.mapLookupElem(rt, ours, key!)).toString('hex'));
              b = errnoOf(() => {
                const v = k.mapLookup(kfd, key!, uvs);
                if (!v) throw new k.KernelError('ENOENT', 'lookup', 2, 1);
                return Buffer.from(v).toString('hex');
              });
              break;
            case 'delete':
              a = errnoOf(() => cmd.mapDeleteElem(rt, ours, key!));
              b = errnoOf(() => {
                if (!k.mapDelete(kfd, key!)) throw new k.KernelError('ENOENT', 'delete', 2, 3);
              });
              break;
            case 'next':
            case 'first':
              a = errnoOf(() => Buffer.from(cmd.mapGetNextKey(rt, ours, key)).toString('hex'));
              b = errnoOf(() => {
                const n = k.mapGetNextKey(kfd, key, shape.keySize);
                if (!n) throw new k.KernelError('ENOENT', 'next', 2, 4);
                return Buffer.from(n).toString('hex');
              });
              // hash iteration order is the implementation's: compare only where it is defined
              if (!isArray && op.kind === 'next') {
                a = { errno: 0 };
                b = { errno: 0 };
              }
              if (!isArray && op.kind === 'first') {
                a = { errno: a.errno };
                b = { errno: b.errno };
              }
              break;
          }
          assert.deepEqual(a, b, `${JSON.stringify(op)}`);
        }
        const next = (fd: number, kern: boolean) => (key: Uint8Array | null): Uint8Array | null => {
          if (kern) return k.mapGetNextKey(fd, key, shape.keySize);
          try {
            return cmd.mapGetNextKey(rt, fd, key);
          } catch {
            return null;
          }
        };
        const ka = allKeys(next(ours, false)), kb = allKeys(next(kfd, true));
        assert.deepEqual(ka, kb, 'iteration sets');
        for (const hex of ka) {
          const key = Uint8Array.from(Buffer.from(hex, 'hex'));
          assert.deepEqual(cmd.mapLookupElem(rt, ours, key), k.mapLookup(kfd, key, uvs), `value of ${hex}`);
        }
      } finally {
        k.closeFd(kfd);
      }
    }), { numRuns: 40 });
  });
}

test('map creation attributes are accepted or refused as by the kernel', (t) => {
  if (!avail.ok) return t.skip(avail.reason);
  const attrs = fc.record({
    mapType: fc.constantFrom(BPF_MAP_TYPE_HASH, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_HASH, BPF_MAP_TYPE_PERCPU_ARRAY, 9, 10),
    keySize: fc.constantFrom(0, 1, 4, 8, 512, 513),
    valueSize: fc.constantFrom(0, 1, 8, 32768, 32769),
    maxEntries: fc.constantFrom(0, 1, 16),
    mapFlags: fc.constantFrom(0, 1, 2, 4, 8, 16, 24, 64, 128, 384, 1024, 1 << 13),
  });
  fc.assert(fc.property(attrs, (a) => {
    const rt = new Runtime({ cpus: possibleCpus(), initialBytes: 1 << 20 });
    const ours = errnoOf(() => cmd.mapCreate(rt, a));
    const kern = errnoOf(() => k.mapCreate(a));
    if (kern.errno === 0) k.closeFd(kern.value as number);
    assert.equal(ours.errno, kern.errno, JSON.stringify(a));
  }), { numRuns: 300 });
});
