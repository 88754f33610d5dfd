/**
 * workers: running a Runtime's programs on N worker_threads over one shared memory.
 */
export { WorkerPool, type WorkerPoolOptions, type PoolProgram, type PoolRunOptions, type PoolCommand, type RunReply } from './pool.js';
