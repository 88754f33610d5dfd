/**
 * The worker thread of a multi-core switch: builds its shard (see protocol.ts) in its arena
 * of the shared memory, then spins over batches until the control word says stop, polling
 * for program swaps (synchronously, between rounds) every few hundred batches.
 */
import { readFileSync } from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { jit } from '../../core/jit/index.js';
import { AddressSpace } from '../../core/vm/memory.js';
import { attachRuntime, syncMaps } from '../../core/runtime/shared.js';
import type { Runtime } from '../../core/runtime/runtime.js';
import { TemplateSource } from '../dataplane/mem-port.js';
import { WasmFrameSource } from '../dataplane/gen-wasm.js';
import { Switch, TRACE_KEEP } from '../dataplane/switch.js';
import type { TraceEvent } from '../dataplane/dispatch.js';
import { CTL_BELL, CTL_IDLE, CTL_SEQ, CTL_STOP, type ShardInit, type WorkerReply, type WorkerRequest } from './protocol.js';
import { ChannelPump } from './channel.js';
import { Ring } from '../dataplane/ring.js';

const init = workerData as ShardInit;
const port = parentPort!;

function reply(m: WorkerReply): void {
  port.postMessage(m);
}

function main(): void {
  let runtime: Runtime | undefined;
  if (init.runtime) {
    runtime = attachRuntime(init.runtime.init);
    syncMaps(runtime, init.runtime.maps);
  }
  const space = runtime?.space ?? new AddressSpace({ memory: init.memory, arena: init.arena });
  const sw = new Switch({ ports: init.ports, engine: jit, space, runtime, cpu: init.cpu, checked: init.checked, dataplane: init.dataplane,
    onTrace: (e) => void (traced.length < TRACE_KEEP && traced.push(e)),
    batch: init.batch, frames: init.frames, ringSize: init.ringSize });
  sw.attach(init.prog);
  // frames sent (u64), frames received (u64), this thread's CPU time in clock ticks (u32)
  const totals = space.alloc(24, 8);
  const ctl = new Int32Array(init.memory.buffer);
  const src = init.templates.length ? new TemplateSource(space, init.templates) : null;
  if (init.mode === 'loop' && src) for (const p of sw.ports) src.fill(sw.views, sw.pool, p.rx, init.inflight);
  const gen = init.mode === 'gen' ? new WasmFrameSource(space, sw.pool, init.templates) : null;
  reply({ type: 'ready', counters: sw.ports.map((p) => p.counters), totals });
  if (init.mode === 'io') {
    ioLoop(sw, space, runtime, totals);
    reply({ type: 'done' });
    return;
  }
  let sent = 0;
  const u32 = () => sw.views.refresh().u32;
  for (let round = 0; Atomics.load(ctl, init.control >>> 2) === 0; round++) {
    if (init.mode === 'loop') {
      sw.step();
      for (const p of sw.ports) p.tx.moveTo(p.rx);
    } else {
      sent += gen!.fill(sw.ports[0].rx);
      sw.step();
      for (const p of sw.ports) gen!.sink(p.tx);
      if ((round & 15) === 0) publish();
    }
    if ((round & 255) === 0) pollRequests(sw, runtime);
    if ((round & 1023) === 0) u32()[(totals >>> 2) + 4] = threadTicks();
  }
  u32()[(totals >>> 2) + 4] = threadTicks();
  if (gen) publish();
  reply({ type: 'done' });

  /** publish writes the generator totals (frames sent, frames received) for the main thread. */
  function publish(): void {
    const v = u32(), got = gen!.count().frames;
    v[totals >>> 2] = sent >>> 0;
    v[(totals >>> 2) + 1] = Math.floor(sent / 2 ** 32);
    v[(totals >>> 2) + 2] = got >>> 0;
    v[(totals >>> 2) + 3] = Math.floor(got / 2 ** 32);
  }
}

/** threadTicks is this thread's user + system CPU time in clock ticks (/proc/thread-self/stat), 0 if unknown. */
function threadTicks(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) >>> 0; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/**
 * ioLoop serves the main thread's channels: take arriving frames into the RX rings, step the
 * switch until idle, hand what each TX ring holds back. A round that finds nothing to do and
 * leaves nothing behind is published as idle (the main thread's quiescence test before an
 * atomic swap); then the worker sleeps on its doorbell (at most 2 ms, so requests and the stop
 * word are seen), instead of spinning on a shared machine.
 */
function ioLoop(sw: Switch, space: AddressSpace, runtime: Runtime | undefined, totals: number): void {
  const pump = new ChannelPump(space, sw.pool);
  const inCh = init.io!.in.map((a) => Ring.attach(space, a));
  const outCh = init.io!.out.map((a) => Ring.attach(space, a));
  let view = new Int32Array(init.memory.buffer);
  const ctl = () => (view.buffer === init.memory.buffer ? view : (view = new Int32Array(init.memory.buffer)));
  const word = (off: number) => (init.control + off) >>> 2;
  let rounds = 0;
  while (Atomics.load(ctl(), word(CTL_STOP)) === 0) {
    const bell = Atomics.load(ctl(), word(CTL_BELL));
    let moved = 0;
    // take no more than every TX ring can still absorb: a worker faster than the main thread's
    // sending then waits (frames stay in the channels) instead of dropping at a full TX ring
    let room = Math.min(...sw.ports.map((p) => p.tx.free())) - sw.ports.reduce((a, p) => a + p.rx.count(), 0);
    for (const p of sw.ports) {
      const got = pump.get(inCh[p.index], p.rx, room);
      room -= got;
      moved += got;
    }
    moved += sw.run(16);
    for (const p of sw.ports) moved += pump.put(p.tx, outCh[p.index]);
    const quiet = moved === 0 && sw.ports.every((p) => p.tx.count() === 0 && p.rx.count() === 0 && inCh[p.index].count() === 0);
    rounds++;
    if (quiet) Atomics.store(ctl(), word(CTL_IDLE), rounds);
    Atomics.store(ctl(), word(CTL_SEQ), rounds);
    if (quiet || (rounds & 255) === 0) pollRequests(sw, runtime);
    if (quiet) Atomics.wait(ctl(), word(CTL_BELL), bell, 2);
    if ((rounds & 1023) === 0) sw.views.refresh().u32[(totals >>> 2) + 4] = threadTicks();
  }
}

/** traced holds the trace events not yet sent to the main thread (at most TRACE_KEEP per batch). */
const traced: TraceEvent[] = [];

function pollRequests(sw: Switch, runtime: Runtime | undefined): void {
  if (traced.length) reply({ type: 'trace', events: traced.splice(0) });
  for (let m = receiveMessageOnPort(port as never); m; m = receiveMessageOnPort(port as never)) {
    const req = m.message as WorkerRequest;
    if (req.type === 'programs') {
      for (const p of req.progs) sw.sharedPrograms.set(p.id, p.insns);
      reply({ type: 'swapped', id: req.id });
      continue;
    }
    try {
      if (req.maps && runtime) syncMaps(runtime, req.maps);
      sw.attach(req.prog);
      reply({ type: 'swapped', id: req.id });
    } catch (e) {
      reply({ type: 'swapped', id: req.id, error: (e as Error).message });
    }
  }
}

try {
  main();
} catch (e) {
  reply({ type: 'error', message: (e as Error).stack ?? String(e) });
}
