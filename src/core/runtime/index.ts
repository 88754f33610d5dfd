/**
 * runtime: a Runtime (memory, maps, CPUs, helpers), the bpf(2)-style command API, the
 * object API (BpfMap / PerCpuMap with codecs) and map reference resolution for loaders.
 */
export * from './runtime.js';
export * from './commands.js';
export * from './batch.js';
export * from './codecs.js';
export * from './map.js';
export * from './resolve.js';
export { ERRNO_OF, errnoError } from './errno.js';
export { BpfMap as Map } from './map.js';
