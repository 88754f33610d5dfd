/**
 * Thin access to libc through koffi: the raw `syscall(2)` entry point, `close(2)`, errno, and
 * native buffers whose addresses can be written into `union bpf_attr` (the kernel reads user
 * pointers from it, so those buffers must live outside the JS heap and never move).
 * koffi is loaded lazily so that importing this module never fails where koffi is missing.
 */
import { createRequire } from 'node:module';
import { BpfError } from '../../core/errors.js';

type Koffi = typeof import('koffi');

/** Libc is the handful of libc entry points tsbpf uses. */
export interface Libc {
  koffi: Koffi;
  /** syscall(nr, a, b, c) with the bpf(2) argument shapes */
  syscall: (nr: number, cmd: number, attr: unknown, size: number) => number;
  close: (fd: number) => number;
}

let cached: Libc | null = null;
let loadError: string | null = null;

/** loadLibc returns libc via koffi, or throws BpfError('ENOSYS') with the reason it cannot. */
export function loadLibc(): Libc {
  if (cached) return cached;
  if (loadError === null) {
    try {
      const require = createRequire(import.meta.url);
      const koffi = require('koffi') as Koffi;
      const lib = koffi.load('libc.so.6');
      // Declared non-variadic: on x86_64 and arm64 the integer argument registers are the same
      // for variadic and fixed calls, and fixed calls are much cheaper in koffi.
      const syscall = lib.func('long syscall(long nr, long cmd, void *attr, unsigned int size)');
      const close = lib.func('int close(int fd)');
      cached = { koffi, syscall, close };
      return cached;
    } catch (e) {
      loadError = `koffi/libc unavailable: ${(e as Error).message}`;
    }
  }
  throw new BpfError('ENOSYS', loadError ?? 'koffi unavailable');
}

/** errno returns the calling thread's errno after the last native call. */
export function errno(): number {
  return loadLibc().koffi.errno();
}

/** NativeBuffer is zeroed native memory with a stable address and a byte view of it. */
export class NativeBuffer {
  readonly ptr: unknown;
  /** addr is the address to put into bpf_attr pointer fields */
  readonly addr: bigint;
  readonly bytes: Uint8Array;
  private freed = false;

  constructor(readonly size: number) {
    const { koffi } = loadLibc();
    const n = Math.max(size, 1);
    this.ptr = koffi.alloc('uint8_t', n);
    this.addr = koffi.address(this.ptr);
    this.bytes = new Uint8Array(koffi.view(this.ptr, n), 0, size);
    this.bytes.fill(0);
  }

  /** from copies `data` into a new native buffer of at least `minSize` bytes. */
  static from(data: Uint8Array, minSize = 0): NativeBuffer {
    const b = new NativeBuffer(Math.max(data.length, minSize));
    b.bytes.set(data);
    return b;
  }

  /** free releases the memory; the byte view must not be used afterwards. */
  free(): void {
    if (this.freed) return;
    this.freed = true;
    loadLibc().koffi.free(this.ptr);
  }
}

/** withBuffers runs `fn` and frees every buffer it allocated through `alloc`, even on error. */
export function withBuffers<T>(fn: (alloc: (size: number, data?: Uint8Array) => NativeBuffer) => T): T {
  const all: NativeBuffer[] = [];
  const alloc = (size: number, data?: Uint8Array): NativeBuffer => {
    const b = data ? NativeBuffer.from(data, size) : new NativeBuffer(size);
    all.push(b);
    return b;
  };
  try {
    return fn(alloc);
  } finally {
    for (const b of all) b.free();
  }
}
