/**
 * A small WebAssembly binary encoder of our own (no dependency): byte buffer with LEB128,
 * function-body builder, module builder for the sections the JIT needs (type, import,
 * function, global, export, code). Binary format of the core spec with the multi-value,
 * sign-extension, bulk-memory and threads extensions.
 */
export { Bytes } from './bytes.js';
export { Code, type FuncType } from './code.js';
export { ModuleBuilder, type MemoryImport } from './module.js';
