/**
 * Runtimes sharing one address space between threads (workers). The owner creates a Runtime
 * over a shared AddressSpace (`shared: true`), creates the maps, and reserves one arena of the
 * memory per worker (`shareRuntime`). A worker re-creates a Runtime view over the same memory
 * (`attachRuntime`): it allocates only inside its arena (its stacks, JIT control blocks,
 * scratch buffers), reads the maps' headers already in memory through the owner's map table,
 * and keeps the owner's fds and program ids so prog arrays and fds mean the same everywhere.
 * Each worker runs programs on the context of its own CPU index, so per-CPU maps use one slot
 * per worker and bpf_get_smp_processor_id returns the worker index. Engines compile
 * per worker (Wasm modules and instances are per thread).
 *
 * Nothing here is Node-specific: any host with threads over a shared WebAssembly.Memory
 * (Node worker_threads, browser Web Workers) passes a SharedRuntimeInit to the thread.
 */
import { BpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { Engine, EngineOptions, LoadedProgram, RunOptions, RunResult } from '../vm/engine.js';
import { AddressSpace } from '../vm/memory.js';
import { MapTable } from '../maps/table.js';
import { resolveMapReferences } from './resolve.js';
import { type MapInfo, Runtime } from './runtime.js';

/** DEFAULT_ARENA_BYTES is the memory reserved for each worker (stacks, control blocks, buffers). */
export const DEFAULT_ARENA_BYTES = 4 << 20;

/** SharedRuntimeInit is everything a thread needs to attach to a shared runtime (structured-cloneable). */
export interface SharedRuntimeInit {
  memory: WebAssembly.Memory;
  /** the runtime block (map table) address */
  block: number;
  ncpus: number;
  /** the CPU index of the thread */
  cpu: number;
  /** [start, end): where the thread allocates */
  arena: [number, number];
  /** bpf_get_prandom_u32 seed of the thread */
  seed: number;
}

/**
 * shareRuntime reserves an arena of `arenaBytes` in `rt`'s shared memory for the thread that
 * will run as `cpu`, and returns what that thread passes to attachRuntime.
 */
export function shareRuntime(rt: Runtime, cpu: number, arenaBytes = DEFAULT_ARENA_BYTES, seed?: number): SharedRuntimeInit {
  if (!rt.space.shared) throw new BpfError('EINVAL', 'runtime memory is not shared (create it with shared: true)');
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= rt.ncpus) throw new BpfError('EINVAL', `no cpu ${cpu} (runtime has ${rt.ncpus})`);
  const start = rt.space.alloc(arenaBytes, 4096);
  return {
    memory: rt.space.memory, block: rt.table.block, ncpus: rt.ncpus, cpu, arena: [start, start + arenaBytes],
    seed: (seed ?? Math.floor(Math.random() * 0xffffffff)) >>> 0,
  };
}

/** attachRuntime builds a thread's Runtime view over a shared runtime's memory and map table. */
export function attachRuntime(init: SharedRuntimeInit): Runtime {
  if (!(init.memory.buffer instanceof SharedArrayBuffer)) throw new BpfError('EINVAL', 'attachRuntime: memory is not shared');
  const space = new AddressSpace({ memory: init.memory, arena: init.arena });
  return new Runtime({ space, cpus: init.ncpus, table: new MapTable(space, init.block), seed: init.seed });
}

/** SharedMapInfo is a map as the owner describes it to threads (MapInfo is plain data). */
export type SharedMapInfo = MapInfo;

/** describeMaps lists the owner's maps for syncMaps. */
export function describeMaps(rt: Runtime): SharedMapInfo[] {
  return rt.maps().map((m) => ({ ...m }));
}

/** syncMaps adds to a thread's view the owner's maps it does not know yet (same fds). */
export function syncMaps(view: Runtime, maps: readonly SharedMapInfo[]): void {
  for (const m of maps) {
    if (view.mapAt(m.hdr)) continue;
    const { fd, ...info } = m;
    view.addMap(info, fd);
  }
}

/** SharedProgram is a program as the owner registered it (fd and id the threads must reproduce). */
export interface SharedProgram {
  fd: number;
  id: number;
  name: string;
  engine: string;
  insns: Program;
  opts: EngineOptions;
}

/**
 * registerShared records `prog` in the owner's program table (fd, id, map references resolved)
 * without instantiating it, and returns what the threads load with loadShared.
 */
export function registerShared(rt: Runtime, engine: Engine, prog: Program, opts: EngineOptions = {}, name = ''): SharedProgram {
  const insns = resolveMapReferences(prog, rt);
  const p = rt.progs.add(rt.allocFd(), engine, insns, opts, name);
  return { fd: p.fd, id: p.id, name, engine: engine.name, insns: prog, opts };
}

/** SharedLoaded is a program loaded in a thread's view, running on the thread's CPU. */
export interface SharedLoaded {
  id: number;
  run(o?: RunOptions): RunResult;
  loaded: LoadedProgram;
}

/**
 * loadShared loads a registered program in a thread's view on CPU `cpu` with `engine` (the
 * engine named by `p.engine`); the fd and id must come out as the owner's, else EINVAL.
 */
export function loadShared(view: Runtime, engine: Engine, p: SharedProgram, cpu: number): SharedLoaded {
  if (engine.name !== p.engine) throw new BpfError('EINVAL', `engine ${engine.name} is not ${p.engine}`);
  const l = view.load(engine, p.insns, { ...p.opts, cpu, name: p.name });
  if (l.fd !== p.fd || l.id !== p.id) {
    throw new BpfError('EINVAL', `program ${p.id} (fd ${p.fd}) loaded as ${l.id} (fd ${l.fd}): load programs in the owner's order`);
  }
  return { id: l.id, run: l.run, loaded: l };
}
