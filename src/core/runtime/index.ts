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
export * from './progs.js';
export { MAX_TAIL_CALL_CNT, runChain } from './tailcall.js';
export { RingBuffer } from './ringbuf.js';
export { ERRNO_OF, errnoError } from './errno.js';
export { BpfMap as Map } from './map.js';
export * from './object.js';
export * from './object-collection.js';
export * from './object-program.js';
export * from './object-data.js';
export { mapTypeSupported, type MapPinning } from './object-maps.js';
export { applyCoreRelos, CORE_POISON } from './object-core.js';
export { relocateMaps, verifierHook, verifierProgType, type VerifyHook } from './object-prepare.js';
export { contextBtf } from './object-ctx-btf.js';
export * from './loader.js';
export { addTraceSink, formatTrace, type TraceSink } from './loader-helpers.js';
export * from './pin.js';
export * from './pin-prog.js';
export { crc32 } from './pin-format.js';
