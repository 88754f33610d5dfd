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
import { CTL_BELL, CTL_IDLE, CTL_SEQ, CTL_STOP, type ShardInit, type ShardReady, type WorkerMode, type WorkerReply,
  type WorkerRequest } from './protocol.js';
import { flowHashAt, spreadFlows } from './rss.js';
import { ChannelPump, channelBuffer, createChannel } from './channel.js';
import { Switch, TRACE_KEEP } from '../dataplane/switch.js';
import type { TraceEvent } from '../dataplane/dispatch.js';
import type { Ring } from '../dataplane/ring.js';
import { jit } from '../../core/jit/index.js';
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
  /** every flow's frame; dealt to workers by RSS hash (gen and loop modes) */
  templates?: Uint8Array[];
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

interface Shard { worker: Worker; ready: ShardReady; control: number; in: Ring[]; out: Ring[] }

/** CHANNEL_SLOTS is the depth of each io-mode channel (one per worker, port and direction). */
const CHANNEL_SLOTS = 512;
const CHANNEL_SHIFT = Math.log2(DEFAULT_FRAME_SIZE);

/** IoFront is the main thread's side of io mode: the switch whose ports the drivers use, and its channel pump. */
interface IoFront { sw: Switch; pump: ChannelPump }

/** MultiSwitch runs N worker shards. */
export class MultiSwitch {
  private nextId = 1;
  /** io mode: while true, frames stay on the front RX rings (an atomic swap is draining the workers) */
  private holding = false;
  /** the running program's name and kind */
  program: { name: string; kind: string };
  /** the last trace events the workers reported (port, reason ..., and the worker index) */
  readonly trace: Array<TraceEvent & { worker: number }> = [];

  private constructor(readonly space: AddressSpace, private readonly shards: Shard[], readonly flows: number[],
    /** the maps of an object program (shared by every worker) */
    readonly coll: Collection | null, readonly programName: string, private readonly io: IoFront | null,
    /** the shared runtime of an object program (swapped-in objects load into it) */
    readonly runtime: Runtime | null, kind: string) {
    this.program = { name: programName, kind };
    shards.forEach((s, w) => s.worker.on('message', (m: WorkerReply) => {
      if (m.type !== 'trace') return;
      this.trace.push(...m.events.map((e) => ({ ...e, worker: w })));
      if (this.trace.length > TRACE_KEEP) this.trace.splice(0, this.trace.length - TRACE_KEEP);
    }));
  }

  /**
   * hasFront tells whether this is an io-mode switch. Its front is the main thread's switch:
   * port drivers (TAP, VXLAN, pcap, in-memory) receive into its RX rings and transmit from its TX rings; it runs no program (the workers
   * do). Its counters hold the drops at ingress (runts, full rings) and add to stats().
   */
  get hasFront(): boolean {
    return this.io !== null;
  }

  /** front: see hasFront. */
  get front(): Switch {
    if (!this.io) throw new BpfError('EINVAL', 'only an io-mode MultiSwitch has front ports');
    return this.io.sw;
  }

  /** start spawns the workers and resolves once every shard is built and running. */
  static async start(o: MultiOptions): Promise<MultiSwitch> {
    if (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 16) throw new BpfError('EINVAL', `--workers must be 1 to 16, not ${o.workers}`);
    const frames = o.frames ?? 4096;
    const arenaSize = frames * DEFAULT_FRAME_SIZE + o.ports * 3 * ((o.ringSize ?? 1024) * 8 + 4096) + (8 << 20);
    // io mode: two channels per worker and port, and the front switch's pool
    const chans = o.mode === 'io' ? o.workers * o.ports * 2 * ((CHANNEL_SLOTS << CHANNEL_SHIFT) + 8192) + o.ports * 1024 * DEFAULT_FRAME_SIZE : 0;
    const fixed = o.workers * arenaSize + chans;
    const sizes = { shared: true, initialBytes: fixed + (16 << 20), maximumBytes: fixed + (256 << 20) };
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
    const queues = spreadFlows(o.templates ?? [], o.workers);
    const io = o.mode === 'io' ? ioFront(space, o) : null;
    const shards: Shard[] = [];
    try {
      for (let w = 0; w < o.workers; w++) {
        const control = space.alloc(64, 64);
        const chan = () => Array.from({ length: io ? o.ports : 0 }, () => createChannel(space, CHANNEL_SLOTS, CHANNEL_SHIFT));
        const inCh = chan(), outCh = chan();
        const shared = rt ? shareRuntime(rt, w, arenaSize) : null;
        const arena = shared ? shared.arena[0] : space.alloc(arenaSize, 4096);
        const init: ShardInit = {
          memory: space.memory, arena: [arena, arena + arenaSize], cpu: w, ports: o.ports, prog: prog!, checked: o.checked ?? true,
          runtime: shared && rt ? { init: shared, maps: describeMaps(rt) } : undefined,
          dataplane: o.dataplane, batch: o.batch ?? 256, frames, ringSize: o.ringSize ?? 1024, mode: o.mode, templates: queues[w],
          inflight: o.inflight ?? 512, control, io: io ? { in: inCh.map((r) => r.addr), out: outCh.map((r) => r.addr) } : undefined,
        };
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
        shards.push({ worker, control, in: inCh, out: outCh, ready: await firstReply(worker) });
      }
    } catch (e) {
      for (const s of shards) void s.worker.terminate();
      throw e;
    }
    return new MultiSwitch(space, shards, queues.map((q) => q.length), coll, prog.name, io, rt, prog.kind);
  }

  /** workers is the number of shards. */
  get workers(): number {
    return this.shards.length;
  }

  /** stats sums each port's counters over the workers (and, in io mode, the front ports' ingress drops). */
  stats(): PortStats[] {
    const dv = this.space.dv;
    const nports = this.shards[0].ready.counters.length;
    const blocks = (p: number) => [...this.shards.map((s) => s.ready.counters[p]), ...(this.io ? [this.io.sw.ports[p].counters] : [])];
    return Array.from({ length: nports }, (_, p) => Object.fromEntries(COUNTERS.map((name, i) => [name,
      blocks(p).reduce((a, c) => a + Number(dv.getBigUint64(c + i * 8, true)), 0)])) as PortStats);
  }

  /**
   * distribute deals the frames waiting on the front RX rings to the workers by RSS hash
   * (copied into the worker's channel for that port; at a full channel the port's remaining
   * frames wait on its RX ring, which then fills and counts ring_full drops) and rings the
   * doorbell of every worker that got some. Returns the count.
   * Nothing moves while an atomic swap holds the traffic.
   */
  distribute(): number {
    if (!this.io || this.holding) return 0;
    const { sw } = this.io;
    const v = sw.views.refresh();
    const nw = this.shards.length;
    const got = new Array<boolean>(nw).fill(false);
    let total = 0;
    for (const port of sw.ports) {
      const n = port.rx.count();
      let k = 0;
      for (; k < n; k++) {
        const addr = port.rx.addrAt(k), len = port.rx.lenAt(k);
        const w = nw === 1 ? 0 : flowHashAt(v.u8, addr, len) % nw;
        const ch = this.shards[w].in[port.index];
        if (ch.free() === 0) break; // back-pressure: the rest waits on the front RX ring
        const buf = channelBuffer(ch, ch.tail, v.dv);
        v.u8.copyWithin(buf, addr, addr + len);
        ch.push(buf, len);
        got[w] = true;
        sw.pool.free(addr);
      }
      port.rx.release(k);
      total += k;
    }
    got.forEach((g, w) => g && this.ring(w));
    return total;
  }

  /** gather moves what the workers transmitted onto the front TX rings (for the drivers to send); returns the count. */
  gather(): number {
    if (!this.io) return 0;
    const { sw, pump } = this.io;
    let n = 0;
    for (const s of this.shards) for (const port of sw.ports) n += pump.get(s.out[port.index], port.tx);
    return n;
  }

  /**
   * sharePrograms sends every program of the shared runtime (devmap egress programs loaded
   * with `runtime.load`) to the workers, which load one the first time a devmap entry names it.
   * Call it after loading such a program and before a devmap entry refers to it; resolves once
   * every worker has them.
   */
  async sharePrograms(): Promise<void> {
    if (!this.runtime) return;
    const progs = this.runtime.progs.all().map((p) => ({ id: p.id, insns: p.insns }));
    await this.request((id) => ({ type: 'programs', progs, id }));
  }

  /** ring bumps worker w's doorbell and wakes it. */
  private ring(w: number): void {
    const i32 = this.words();
    const i = (this.shards[w].control + CTL_BELL) >>> 2;
    Atomics.add(i32, i, 1);
    Atomics.notify(i32, i);
  }

  private i32: Int32Array | null = null;

  /** words is an Int32Array over the shared memory (rebuilt after it grew) for the control words. */
  private words(): Int32Array {
    const buf = this.space.memory.buffer;
    if (this.i32?.buffer !== buf) this.i32 = new Int32Array(buf);
    return this.i32;
  }

  /** mark is each worker's number of finished rounds now (see settled). */
  mark(): number[] {
    const i32 = this.words();
    return this.shards.map((s) => Atomics.load(i32, (s.control + CTL_SEQ) >>> 2));
  }

  /**
   * settled tells whether, since `mark`, every worker has had an idle round that began after
   * the mark (round mark + 2 or later: round mark + 1 may have begun before it), so every frame
   * distributed before the mark was processed and handed back, and the out channels are empty.
   */
  settled(mark: number[]): boolean {
    const i32 = this.words();
    return this.shards.every((s, w) => Atomics.load(i32, (s.control + CTL_IDLE) >>> 2) >= mark[w] + 2 &&
      s.out.every((r) => r.count() === 0));
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

  /**
   * swap replaces the program on every worker. In io mode the swap is atomic: distribution
   * stops, the workers drain (every frame dealt so far is processed by the old program and
   * handed back; the caller's live loop keeps gathering meanwhile), every worker swaps, and
   * distribution resumes, so the old program saw exactly the frames received before the swap.
   * In gen/loop mode each worker swaps between two of its rounds. Programs whose maps were
   * loaded into `runtime` reach the workers with them.
   */
  async swap(prog: SwitchProgram): Promise<void> {
    if (this.io) {
      this.holding = true;
      try {
        const m = this.mark();
        for (let i = 0; !this.settled(m); i++) {
          if (i > 20_000) throw new BpfError('E_IO', 'the workers did not drain within 20 s; swap abandoned');
          await new Promise((r) => setTimeout(r, 1));
        }
        await this.swapEach(prog);
      } finally {
        this.holding = false;
      }
    } else await this.swapEach(prog);
    this.program = { name: prog.name, kind: prog.kind };
  }

  private swapEach(prog: SwitchProgram): Promise<void> {
    const maps = this.runtime ? describeMaps(this.runtime) : undefined;
    return this.request((id) => ({ type: 'swap', prog, id, maps }));
  }

  /** request sends every worker a request and resolves when all answered it (rejects on an error). */
  private async request(make: (id: number) => WorkerRequest): Promise<void> {
    const id = this.nextId++;
    const done = Promise.all(this.shards.map((s) => new Promise<void>((resolve, reject) => {
      const on = (m: WorkerReply) => {
        if (m.type !== 'swapped' || m.id !== id) return;
        s.worker.off('message', on);
        if (m.error) reject(new BpfError('EINVAL', `worker request failed: ${m.error}`));
        else resolve();
      };
      s.worker.on('message', on);
      s.worker.postMessage(make(id));
    })));
    this.shards.forEach((_, w) => this.ring(w));
    await done;
  }

  /** stop tells every worker to stop and waits for them to exit. */
  async stop(): Promise<void> {
    const ctl = new Int32Array(this.space.memory.buffer);
    for (const s of this.shards) Atomics.store(ctl, (s.control + CTL_STOP) >>> 2, 1);
    await Promise.all(this.shards.map((s) => new Promise<void>((resolve) => {
      s.worker.once('exit', () => resolve());
    })));
  }
}

/** ioFront builds the main thread's switch (no program) and pump for io mode. */
function ioFront(space: AddressSpace, o: MultiOptions): IoFront {
  const sw = new Switch({ ports: o.ports, engine: jit, space, ringSize: o.ringSize });
  return { sw, pump: new ChannelPump(space, sw.pool) };
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
