/**
 * WorkerPool: a Runtime whose programs run on N worker_threads sharing its memory (a
 * SharedArrayBuffer-backed WebAssembly.Memory). The owner thread creates maps through
 * `pool.rt` (the command and object APIs work there as usual); `load` registers a program
 * and compiles it in every worker; `run` runs it on every worker (or some) concurrently.
 * Worker k is CPU k: per-CPU maps keep one slot per worker, bpf_get_smp_processor_id
 * returns k, atomics in programs are real atomics, map updates from several workers are
 * serialised by each map's lock (see docs/maps.md, "Workers").
 */
import { Worker } from 'node:worker_threads';
import { BpfError } from '../../core/errors.js';
import type { Program } from '../../core/isa/instruction.js';
import { jit } from '../../core/jit/index.js';
import { interpreter } from '../../core/vm/interpreter.js';
import type { Engine, EngineOptions } from '../../core/vm/engine.js';
import { Runtime } from '../../core/runtime/runtime.js';
import { DEFAULT_ARENA_BYTES, describeMaps, registerShared, shareRuntime } from '../../core/runtime/shared.js';
import type { CommandRequest, Reply, RequestBody, RunReply } from './protocol.js';

export type { RunReply } from './protocol.js';

/** WorkerPoolOptions size a pool. */
export interface WorkerPoolOptions {
  /** number of worker threads (= CPUs); default 2 */
  workers?: number;
  /** initial and maximum size of the shared memory (bytes) */
  initialBytes?: number;
  maximumBytes?: number;
  /** memory reserved per worker (stacks, control blocks, buffers) */
  arenaBytes?: number;
  /** base seed of bpf_get_prandom_u32 (worker k gets seed + k) */
  seed?: number;
}

/** PoolProgram is a program loaded in every worker. */
export interface PoolProgram {
  fd: number;
  id: number;
}

/** PoolRunOptions say what to run. */
export interface PoolRunOptions {
  /** runs per worker (default 1) */
  repeat?: number;
  args?: bigint[];
  data?: Uint8Array;
  budget?: number;
  /** the workers to run on (default all) */
  cpus?: number[];
}

/** PoolCommand is one user-space map command a worker runs. */
export type PoolCommand = CommandRequest['list'][number];

const ENGINES: Record<string, Engine> = { jit, interp: interpreter, interpreter };

interface Pending { resolve(r: RunReply): void; reject(e: unknown): void }

/** WorkerPool owns the shared runtime and its workers. */
export class WorkerPool {
  readonly rt: Runtime;
  readonly size: number;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(opts: WorkerPoolOptions = {}) {
    const n = opts.workers ?? 2;
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new BpfError('EINVAL', `bad worker count ${n}`);
    this.size = n;
    this.rt = new Runtime({ cpus: n, shared: true, initialBytes: opts.initialBytes, maximumBytes: opts.maximumBytes ?? 1 << 30, seed: opts.seed });
    const url = new URL('./worker.js', import.meta.url);
    for (let cpu = 0; cpu < n; cpu++) {
      const init = shareRuntime(this.rt, cpu, opts.arenaBytes ?? DEFAULT_ARENA_BYTES, opts.seed === undefined ? undefined : opts.seed + cpu);
      const w = new Worker(url, { workerData: init });
      w.on('message', (r: Reply) => this.settle(r));
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => {
        if (!this.closed) this.failAll(new BpfError('EINVAL', `worker ${cpu} exited (${code})`));
      });
      this.workers.push(w);
    }
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (r.ok) p.resolve(r.result);
    else p.reject(new BpfError(r.error.code, r.error.message, r.error.context));
  }

  private failAll(e: unknown): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private send(cpu: number, m: RequestBody): Promise<RunReply> {
    const w = this.workers[cpu];
    if (!w || this.closed) return Promise.reject(new BpfError('EINVAL', `no worker ${cpu}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ ...m, id });
    });
  }

  private all(cpus?: number[]): number[] {
    return cpus ?? [...Array(this.size).keys()];
  }

  /** load registers `prog` in the runtime and compiles it in every worker with `engine` ('jit' / 'interp'). */
  async load(engine: Engine | string, prog: Program, opts: EngineOptions & { name?: string } = {}): Promise<PoolProgram> {
    const e = typeof engine === 'string' ? ENGINES[engine] : engine;
    if (!e || ENGINES[e.name] !== e) throw new BpfError('EINVAL', `unknown engine ${typeof engine === 'string' ? engine : engine.name}`);
    const p = registerShared(this.rt, e, prog, { checked: opts.checked }, opts.name);
    const maps = describeMaps(this.rt);
    await Promise.all(this.all().map((cpu) => this.send(cpu, { op: 'load', maps, prog: p })));
    return { fd: p.fd, id: p.id };
  }

  /** run runs `prog` `repeat` times on each selected worker, concurrently; one reply per worker. */
  run(prog: PoolProgram, o: PoolRunOptions = {}): Promise<RunReply[]> {
    return Promise.all(this.all(o.cpus).map((cpu) => this.send(cpu, {
      op: 'run', prog: prog.id, repeat: o.repeat ?? 1, args: o.args, data: o.data, budget: o.budget,
    })));
  }

  /** commands runs user-space map commands on worker `cpu` (lookups' values in the reply). */
  commands(cpu: number, list: PoolCommand[]): Promise<RunReply> {
    return this.send(cpu, { op: 'commands', maps: describeMaps(this.rt), list });
  }

  /** close terminates the workers (the runtime and its maps stay usable in this thread). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new BpfError('EINVAL', 'worker pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
