/**
 * vm: the address space (one WebAssembly.Memory), stacks, execution contexts, the engine
 * contract and the reference interpreter.
 */
export * from './memory.js';
export * from './engine.js';
export * from './context.js';
export * from './xdp.js';
export * from './interpreter.js';
export * from './debugger.js';
export * from './skb.js';
