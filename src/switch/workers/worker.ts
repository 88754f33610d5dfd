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
import { Switch } from '../dataplane/switch.js';
import type { ShardInit, WorkerReply, WorkerRequest } from './protocol.js';

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
    batch: init.batch, frames: init.frames, ringSize: init.ringSize });
  sw.attach(init.prog);
  // frames sent (u64), frames received (u64), this thread's CPU time in clock ticks (u32)
  const totals = space.alloc(24, 8);
  const ctl = new Int32Array(init.memory.buffer);
  const src = init.templates.length ? new TemplateSource(space, init.templates) : null;
  if (init.mode === 'loop' && src) for (const p of sw.ports) src.fill(sw.views, sw.pool, p.rx, init.inflight);
  const gen = init.mode === 'gen' ? new WasmFrameSource(space, sw.pool, init.templates) : null;
  reply({ type: 'ready', counters: sw.ports.map((p) => p.counters), totals });
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
    if ((round & 255) === 0) pollRequests(sw);
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

function pollRequests(sw: Switch): void {
  for (let m = receiveMessageOnPort(port as never); m; m = receiveMessageOnPort(port as never)) {
    const req = m.message as WorkerRequest;
    if (req.type !== 'swap') continue;
    try {
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
