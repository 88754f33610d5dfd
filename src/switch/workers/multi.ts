/**
 * MultiSwitch: a switch spread over N worker threads sharing one address space (a
 * SharedArrayBuffer-backed WebAssembly.Memory). Every port has one queue per worker, like a
 * multi-queue NIC: flows are dealt to workers by their RSS hash (rss.ts), each worker runs
 * its shard with its own pool, state and execution context (cpu = worker index, so per-CPU
 * maps are per worker), and forwards to its own queue of the output port. Counters are in
 * shared memory: stats() sums them without asking the workers.
 */
import { Worker } from 'node:worker_threads';
import { BpfError } from '../../core/errors.js';
import { AddressSpace } from '../../core/vm/memory.js';
import { COUNTERS, DEFAULT_FRAME_SIZE } from '../dataplane/layout.js';
import type { PortStats } from '../dataplane/port.js';
import type { SwitchProgram } from '../program.js';
import type { ShardInit, ShardReady, WorkerMode, WorkerReply } from './protocol.js';
import { spreadFlows } from './rss.js';
import { Runtime } from '../../core/runtime/runtime.js';
import type { Collection } from '../../core/runtime/object-collection.js';
import { describeMaps, shareRuntime } from '../../core/runtime/shared.js';
import { fillDevmaps, switchObject } from '../objects.js';
import type { ObjectSelect } from '../program.js';

/** MultiOptions configure a multi-worker switch. */
export interface MultiOptions {
  workers: number;
  ports: number;
  /** the program (or `object`) */
  prog?: SwitchProgram;
  mode: WorkerMode;
  /** every flow's frame; dealt to workers by RSS hash */
  templates: Uint8Array[];
  checked?: boolean;
  dataplane?: 'wasm' | 'js';
  batch?: number;
  /** frames per worker pool (default 4096) */
  frames?: number;
  ringSize?: number;
  /** loop mode: frames in circulation per port and worker (default 512) */
  inflight?: number;
  /**
   * an object whose program uses maps (instead of `prog`): loaded into a shared runtime the
   * workers attach to, so maps are shared and per-CPU maps have one slot per worker
   */
  object?: { bytes: Uint8Array; select?: ObjectSelect };
}

interface Shard { worker: Worker; ready: ShardReady; control: number }

/** MultiSwitch runs N worker shards. */
export class MultiSwitch {
  private nextId = 1;

  private constructor(readonly space: AddressSpace, private readonly shards: Shard[], readonly flows: number[],
    /** the maps of an object program (shared by every worker) */
    readonly coll: Collection | null, readonly programName: string) {}

  /** start spawns the workers and resolves once every shard is built and running. */
  static async start(o: MultiOptions): Promise<MultiSwitch> {
    if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 16) throw new BpfError('EINVAL', `--workers must be 1 to 16, not ${o.workers}`);
    const frames = o.frames ?? 4096;
    const arenaSize = frames * DEFAULT_FRAME_SIZE + o.ports * 3 * ((o.ringSize ?? 1024) * 8 + 4096) + (8 << 20);
    const sizes = { shared: true, initialBytes: o.workers * arenaSize + (16 << 20), maximumBytes: o.workers * arenaSize + (256 << 20) };
    let rt: Runtime | null = null, coll: Collection | null = null, prog = o.prog;
    if (o.object) {
      rt = new Runtime({ ...sizes, cpus: o.workers });
      const obj = switchObject(o.object.bytes, o.object.select, { runtime: rt });
      coll = obj.coll;
      prog = obj.prog;
      fillDevmaps(coll, Array.from({ length: o.ports }, (_, i) => i + 1));
    }
    if (!prog) throw new BpfError('EINVAL', 'MultiSwitch needs a program or an object');
    const space = rt?.space ?? new AddressSpace(sizes);
    const queues = spreadFlows(o.templates, o.workers);
    const shards: Shard[] = [];
    try {
      for (let w = 0; w < o.workers; w++) {
        const control = space.alloc(64, 64);
        const shared = rt ? shareRuntime(rt, w, arenaSize) : null;
        const arena = shared ? shared.arena[0] : space.alloc(arenaSize, 4096);
        const init: ShardInit = {
          memory: space.memory, arena: [arena, arena + arenaSize], cpu: w, ports: o.ports, prog: prog!, checked: o.checked ?? true,
          runtime: shared && rt ? { init: shared, maps: describeMaps(rt) } : undefined,
          dataplane: o.dataplane, batch: o.batch ?? 256, frames, ringSize: o.ringSize ?? 1024, mode: o.mode, templates: queues[w],
          inflight: o.inflight ?? 512, control,
        };
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
        shards.push({ worker, control, ready: await firstReply(worker) });
      }
    } catch (e) {
      for (const s of shards) void s.worker.terminate();
      throw e;
    }
    return new MultiSwitch(space, shards, queues.map((q) => q.length), coll, prog.name);
  }

  /** workers is the number of shards. */
  get workers(): number {
    return this.shards.length;
  }

  /** stats sums each port's counters over the workers. */
  stats(): PortStats[] {
    const dv = this.space.dv;
    const nports = this.shards[0].ready.counters.length;
    return Array.from({ length: nports }, (_, p) => Object.fromEntries(COUNTERS.map((name, i) => [name,
      this.shards.reduce((a, s) => a + Number(dv.getBigUint64(s.ready.counters[p] + i * 8, true)), 0)])) as PortStats);
  }

  /** processed is the number of frames every worker has taken from RX rings so far, per worker. */
  processed(): number[] {
    const dv = this.space.dv;
    return this.shards.map((s) => s.ready.counters.reduce((a, c) => a + Number(dv.getBigUint64(c, true)), 0));
  }

  /**
   * cpuSeconds is each worker's own CPU time so far (user + system, from /proc/thread-self/stat
   * sampled every 1024 rounds; 10 ms resolution; 0 where unavailable).
   */
  cpuSeconds(): number[] {
    const dv = this.space.dv;
    return this.shards.map((s) => dv.getUint32(s.ready.totals + 16, true) / 100);
  }

  /** totals are the generator's frames sent and received (gen mode), summed over workers. */
  totals(): { sent: number; received: number } {
    const dv = this.space.dv;
    let sent = 0, received = 0;
    for (const s of this.shards) {
      sent += Number(dv.getBigUint64(s.ready.totals, true));
      received += Number(dv.getBigUint64(s.ready.totals + 8, true));
    }
    return { sent, received };
  }

  /** swap replaces the program on every worker (each between two of its rounds). */
  async swap(prog: SwitchProgram): Promise<void> {
    const id = this.nextId++;
    await Promise.all(this.shards.map((s) => new Promise<void>((resolve, reject) => {
      const on = (m: WorkerReply) => {
        if (m.type !== 'swapped' || m.id !== id) return;
        s.worker.off('message', on);
        if (m.error) reject(new BpfError('EINVAL', `worker swap failed: ${m.error}`));
        else resolve();
      };
      s.worker.on('message', on);
      s.worker.postMessage({ type: 'swap', prog, id });
    })));
  }

  /** stop tells every worker to stop and waits for them to exit. */
  async stop(): Promise<void> {
    const ctl = new Int32Array(this.space.memory.buffer);
    for (const s of this.shards) Atomics.store(ctl, s.control >>> 2, 1);
    await Promise.all(this.shards.map((s) => new Promise<void>((resolve) => {
      s.worker.once('exit', () => resolve());
    })));
  }
}

function firstReply(worker: Worker): Promise<ShardReady> {
  return new Promise((resolve, reject) => {
    worker.once('message', (m: WorkerReply) => {
      if (m.type === 'ready') resolve(m);
      else reject(new BpfError('EINVAL', `switch worker failed: ${m.type === 'error' ? m.message : m.type}`));
    });
    worker.once('error', (e) => reject(new BpfError('EINVAL', `switch worker failed: ${e.message}`)));
  });
}
