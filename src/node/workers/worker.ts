/**
 * The worker side of a WorkerPool: attaches a Runtime view to the owner's shared memory
 * (workerData is a SharedRuntimeInit), loads the owner's programs on its own CPU, runs them
 * and map commands on request. Entry point of each worker thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isBpfError } from '../../core/errors.js';
import { jit } from '../../core/jit/index.js';
import { interpreter } from '../../core/vm/interpreter.js';
import { dataBuffer } from '../../core/vm/context.js';
import { PERM_RW } from '../../core/vm/memory.js';
import type { Engine, RunOptions } from '../../core/vm/engine.js';
import { type SharedLoaded, type SharedRuntimeInit, attachRuntime, loadShared, syncMaps } from '../../core/runtime/shared.js';
import * as cmd from '../../core/runtime/commands.js';
import type { CommandRequest, Reply, Request, RunReply, RunRequest } from './protocol.js';

const init = workerData as SharedRuntimeInit;
const rt = attachRuntime(init);
const progs = new Map<number, SharedLoaded>();
const ENGINES: Record<string, Engine> = { jit, interp: interpreter };

function runProgram(r: RunRequest): RunReply {
  const p = progs.get(r.prog);
  if (!p) throw new Error(`program ${r.prog} is not loaded`);
  const o: RunOptions = { args: r.args, budget: r.budget };
  if (r.data) {
    const ctx = rt.context(init.cpu);
    const addr = dataBuffer(ctx, r.data.length);
    rt.space.write(addr, r.data);
    o.args = [BigInt(addr), BigInt(r.data.length)];
    o.regions = [{ start: addr, end: addr + r.data.length, perm: PERM_RW, name: 'data' }];
    o.packet = { start: addr, len: r.data.length };
  }
  let r0 = 0n;
  const t0 = performance.now();
  for (let k = 0; k < r.repeat; k++) r0 = p.run(o).r0;
  return { cpu: init.cpu, r0, runs: r.repeat, ns: (performance.now() - t0) * 1e6 };
}

function commands(r: CommandRequest): RunReply {
  syncMaps(rt, r.maps);
  const values: Array<Uint8Array | null> = [];
  const t0 = performance.now();
  for (const c of r.list) {
    if (c.name === 'update') cmd.mapUpdateElem(rt, c.fd, c.key, c.value ?? new Uint8Array(0), c.flags ?? 0);
    else if (c.name === 'delete') cmd.mapDeleteElem(rt, c.fd, c.key);
    else {
      try {
        values.push(cmd.mapLookupElem(rt, c.fd, c.key));
      } catch (e) {
        if (!isBpfError(e) || e.code !== 'ENOENT') throw e;
        values.push(null);
      }
    }
  }
  return { cpu: init.cpu, r0: 0n, runs: r.list.length, ns: (performance.now() - t0) * 1e6, values };
}

function handle(m: Request): RunReply {
  switch (m.op) {
    case 'load': {
      syncMaps(rt, m.maps);
      const engine = ENGINES[m.prog.engine];
      if (!engine) throw new Error(`unknown engine ${m.prog.engine}`);
      progs.set(m.prog.id, loadShared(rt, engine, m.prog, init.cpu));
      return { cpu: init.cpu, r0: 0n, runs: 0, ns: 0 };
    }
    case 'run':
      return runProgram(m);
    case 'commands':
      return commands(m);
  }
}

parentPort!.on('message', (m: Request) => {
  let reply: Reply;
  try {
    reply = { id: m.id, ok: true, result: handle(m) };
  } catch (e) {
    const error = isBpfError(e)
      ? { code: e.code, message: e.detail, context: e.context }
      : { code: 'EINVAL' as const, message: `worker ${init.cpu}: ${e instanceof Error ? e.message : String(e)}`, context: {} };
    reply = { id: m.id, ok: false, error };
  }
  parentPort!.postMessage(reply);
});
