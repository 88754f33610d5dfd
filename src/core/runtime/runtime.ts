/**
 * Runtime: one address space shared by maps and N execution contexts ("CPUs"), the fd table
 * of its maps, and the helper registry (map helpers and the other runtime helpers
 * registered). Programs loaded through a runtime get their map references resolved and the
 * maps' value storage as allowed regions.
 */
import { BpfError } from '../errors.js';
import { HelperRegistry } from '../helpers/registry.js';
import type { Program } from '../isa/instruction.js';
import type { Engine, EngineOptions, LoadedProgram, RunOptions, RunResult, VmContext } from '../vm/engine.js';
import { createVmContext } from '../vm/context.js';
import { AddressSpace, PERM_R, PERM_RW, type AddressSpaceOptions, type Region } from '../vm/memory.js';
import { BPF_F_RDONLY_PROG } from '../maps/layout.js';
import { MapTable } from '../maps/table.js';
import { registerRuntimeHelpers } from './helpers.js';
import { resolveMapReferences } from './resolve.js';
import { ProgTable } from './progs.js';
import { runChain } from './tailcall.js';
import { spinExitCheck } from '../maps/spin-exit.js';
import { hasValueRegion } from '../maps/layout.js';

/** MapInfo is what the runtime knows about one map (the header in memory is authoritative). */
export interface MapInfo {
  fd: number;
  id: number;
  name: string;
  hdr: number;
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags: number;
  /** value storage [values, values + valuesSize) */
  values: number;
  valuesSize: number;
  frozen: boolean;
}

/** RuntimeOptions configure a runtime. */
export interface RuntimeOptions extends AddressSpaceOptions {
  /** number of CPUs (execution contexts, per-CPU value slots); default 1 */
  cpus?: number;
  /** an existing address space to use */
  space?: AddressSpace;
  /** seed of bpf_get_prandom_u32 (default: from the clock) */
  seed?: number;
  /** the map table of another runtime over the same (shared) `space` (a worker's view; see shared.ts) */
  table?: MapTable;
}

/** Runtime owns memory, maps, contexts and helpers. */
export class Runtime {
  readonly space: AddressSpace;
  readonly ncpus: number;
  readonly helpers = new HelperRegistry();
  readonly contexts: readonly VmContext[];
  readonly table: MapTable;
  /** programs loaded through `load` (fds and ids, for prog arrays) */
  readonly progs = new ProgTable();
  private readonly fds = new Map<number, MapInfo>();
  private readonly byHdr = new Map<number, MapInfo>();
  private nextFd = 3;
  private regionCache: Region[] | null = null;
  private scratchAddr = 0;
  private scratchCap = 0;

  constructor(opts: RuntimeOptions = {}) {
    this.space = opts.space ?? new AddressSpace(opts);
    const n = opts.cpus ?? 1;
    if (!Number.isInteger(n) || n < 1 || n > 1024) throw new BpfError('EINVAL', `bad cpu count ${n}`);
    this.ncpus = n;
    this.table = opts.table ?? new MapTable(this.space);
    this.contexts = [...Array(n).keys()].map((cpu) => createVmContext({ space: this.space, helpers: this.helpers, cpu }));
    registerRuntimeHelpers(this, opts.seed);
  }

  /** allocFd returns a fresh fd (maps and programs share the numbering). */
  allocFd(): number {
    return this.nextFd++;
  }

  /** addMap records a created map and gives it an fd (`fd`: keep the owner's fd, for a worker's view). */
  addMap(info: Omit<MapInfo, 'fd'>, fd?: number): MapInfo {
    if (fd !== undefined && (this.fds.has(fd) || fd < 3)) throw new BpfError('EINVAL', `fd ${fd} is in use`);
    if (fd !== undefined) this.nextFd = Math.max(this.nextFd, fd + 1);
    const m: MapInfo = { ...info, fd: fd ?? this.allocFd() };
    this.fds.set(m.fd, m);
    this.byHdr.set(m.hdr, m);
    this.regionCache = null;
    return m;
  }

  /** map returns the map of `fd`; throws EBADF-like EINVAL when there is none. */
  map(fd: number): MapInfo {
    const m = this.fds.get(fd);
    if (!m) throw new BpfError('EINVAL', `fd ${fd} is not a map`);
    return m;
  }

  /** mapAt returns the map whose header is at `hdr`, if any. */
  mapAt(hdr: number): MapInfo | undefined {
    return this.byHdr.get(hdr);
  }

  /** maps lists the maps in fd order. */
  maps(): MapInfo[] {
    return [...this.fds.values()];
  }

  /**
   * regions are the value storages of all maps as allowed regions (one per map; read-only
   * for BPF_F_RDONLY_PROG maps), for RunOptions.regions of checked-mode runs.
   */
  regions(): Region[] {
    this.regionCache ??= this.maps().filter((m) => hasValueRegion(m.mapType)).map((m) => ({
      start: m.values, end: m.values + m.valuesSize,
      perm: m.mapFlags & BPF_F_RDONLY_PROG ? PERM_R : PERM_RW, name: `map ${m.name || m.fd}`,
    }));
    return this.regionCache;
  }

  /** scratch returns an address of at least `len` bytes for user-space command buffers. */
  scratch(len: number): number {
    if (len > this.scratchCap) {
      this.scratchCap = Math.max(4096, len * 2);
      this.scratchAddr = this.space.alloc(this.scratchCap, 64);
    }
    return this.scratchAddr;
  }

  /** context returns the execution context of `cpu`. */
  context(cpu = 0): VmContext {
    const c = this.contexts[cpu];
    if (!c) throw new BpfError('EINVAL', `no cpu ${cpu} (runtime has ${this.ncpus})`);
    return c;
  }

  /**
   * load resolves the map references of `prog` and loads it with `engine` on `cpu`; runs of
   * the result may access map values (the runtime's regions are added to each run's).
   */
  load(engine: Engine, prog: Program, opts: EngineOptions & { cpu?: number; name?: string } = {}): LoadedProgram & { fd: number; id: number } {
    const cpu = opts.cpu ?? 0;
    const insns = resolveMapReferences(prog, this);
    const loaded = engine.load(insns, this.context(cpu), opts);
    const p = this.progs.add(this.allocFd(), engine, insns, { checked: opts.checked }, opts.name);
    p.instances.set(cpu, loaded);
    return {
      insns: loaded.insns, fd: p.fd, id: p.id,
      // runChain follows bpf_tail_call into other programs
      run: (o: RunOptions = {}): RunResult => {
        let done = false;
        try {
          const r = runChain(this, cpu, loaded, this.runOptions(o));
          done = true;
          return r;
        } finally {
          // a bpf_spin_lock left held is released; a checked run that exited holding one faults
          spinExitCheck(this.context(cpu), done && opts.checked !== false);
        }
      },
    };
  }

  /** runOptions adds the map regions to `o`. */
  runOptions(o: RunOptions = {}): RunOptions {
    const maps = this.regions();
    return { ...o, regions: o.regions ? [...o.regions, ...maps] : maps };
  }
}
