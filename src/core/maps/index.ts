/**
 * maps: the in-memory layout of maps, their operations in TypeScript and the Wasm map
 * runtime the JIT's helper calls use.
 */
export * from './layout.js';
export * from './create.js';
export * from './ops.js';
export * from './table.js';
export { hashKey } from './hash-fn.js';
export { buildMapRuntime, mapRuntimeInstance, mapRuntimeHelper, MAP_RUNTIME_EXPORTS } from './wasm.js';
export { btfSpinLock, spinLockOff, USER_OWNER } from './spin-lock.js';
export { innerTemplate, type InnerTemplate } from './map-in-map.js';
