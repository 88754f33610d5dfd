/**
 * Shared pieces of the kernel comparison tests: the possible CPU count, pinning the calling
 * thread to one CPU (the kernel's LRU and per-CPU behaviour depends on the CPU a syscall runs
 * on), errno of a thrown error (ours or the kernel's), key/value byte patterns.
 */
import { readFileSync } from 'node:fs';
import { isBpfError } from '../../src/core/errors.js';
import { ERRNO_OF } from '../../src/core/runtime/errno.js';
import { loadLibc } from '../../src/node/kernel/ffi.js';
import * as k from '../../src/node/kernel/bpf-syscall.js';

/** possibleCpus is the kernel's num_possible_cpus(). */
export function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, r) => {
    const [a, b] = r.split('-').map(Number);
    return n + (b === undefined ? 1 : b - a + 1);
  }, 0);
}

let setAffinity: ((pid: number, len: number, mask: Uint8Array) => number) | null = null;

/** pinTo runs `fn` with the calling thread pinned to `cpus` (a list of CPU numbers), then unpins. */
export function pinTo<T>(cpus: number[], fn: () => T): T {
  if (!setAffinity) {
    const { koffi } = loadLibc();
    const lib = koffi.load('libc.so.6');
    setAffinity = lib.func('int sched_setaffinity(int pid, size_t len, _Inout_ uint8_t *mask)') as unknown as typeof setAffinity;
  }
  const mask = (list: number[]): Uint8Array => {
    const m = new Uint8Array(128);
    for (const c of list) m[c >> 3] |= 1 << (c & 7);
    return m;
  };
  if (setAffinity!(0, 128, mask(cpus)) !== 0) throw new Error('sched_setaffinity failed');
  try {
    return fn();
  } finally {
    setAffinity!(0, 128, mask([...Array(possibleCpus()).keys()]));
  }
}

/** errnoOf runs `fn`: errno 0 and its value, or the errno of what it threw. */
export function errnoOf(fn: () => unknown): { errno: number; value?: unknown } {
  try {
    return { errno: 0, value: fn() };
  } catch (e) {
    if (e instanceof k.KernelError) return { errno: e.errno };
    if (isBpfError(e)) return { errno: ERRNO_OF[e.code] ?? -1 };
    throw e;
  }
}

/** keyBytes is a key of `size` bytes derived from n (u32 n first). */
export function keyBytes(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, n, true);
  for (let i = 4; i < size; i++) b[i] = (n * 13 + i) & 0xff;
  return b;
}

/** valBytes is a value of `size` bytes derived from n. */
export function valBytes(n: number, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (n >> ((i % 4) * 8)) ^ i;
  return b;
}

/** hex of bytes. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** kernelKeys iterates a kernel map with get_next_key and returns its keys as sorted hex. */
export function kernelKeys(fd: number, keySize: number): string[] {
  const out: string[] = [];
  let key: Uint8Array | null = null;
  for (let i = 0; i < 100_000; i++) {
    key = k.mapGetNextKey(fd, key, keySize);
    if (!key) break;
    out.push(hex(key));
  }
  return out.sort();
}
