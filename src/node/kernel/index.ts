/**
 * kernel: the Linux kernel's own BPF through bpf(2) (via koffi), for differential testing,
 * benchmarks and loading programs into the real kernel.
 */
export * from './bpf-syscall.js';
export * from './available.js';
export * from './test-run.js';
export { NativeBuffer } from './ffi.js';
