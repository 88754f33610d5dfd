/**
 * tsbpf: the public library surface. The core is platform-neutral; Node glue lives in src/node.
 */
export * from './core/index.js';
