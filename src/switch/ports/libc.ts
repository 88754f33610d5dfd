/**
 * The libc calls the real-traffic ports need (via koffi, through the kernel module's loader):
 * read/write on non-blocking descriptors straight into and out of frame buffers in the
 * address space (koffi passes typed-array views of the Wasm memory as pointers), and ioctl.
 */
import { BpfError } from '../../core/errors.js';
import { loadLibc } from '../../node/kernel/ffi.js';

/** PortLibc holds the bound functions. */
export interface PortLibc {
  read: (fd: number, buf: Uint8Array, n: number) => number;
  write: (fd: number, buf: Uint8Array, n: number) => number;
  ioctl: (fd: number, req: number, arg: Uint8Array) => number;
  errno: () => number;
}

let cached: PortLibc | null = null;

/** portLibc returns the bound libc functions (throws BpfError ENOSYS without koffi). */
export function portLibc(): PortLibc {
  if (cached) return cached;
  const { koffi } = loadLibc();
  const lib = koffi.load('libc.so.6');
  try {
    cached = {
      read: lib.func('long read(int fd, void *buf, unsigned long n)'),
      write: lib.func('long write(int fd, const void *buf, unsigned long n)'),
      // declared non-variadic: the argument registers are the same on x86_64 and arm64
      ioctl: lib.func('int ioctl(int fd, unsigned long req, void *arg)'),
      errno: () => koffi.errno(),
    };
  } catch (e) {
    throw new BpfError('ENOSYS', `libc functions unavailable: ${(e as Error).message}`);
  }
  return cached;
}

/** EAGAIN and EINTR are the errno values of an empty non-blocking read and an interrupted call. */
export const EAGAIN = 11, EINTR = 4;
