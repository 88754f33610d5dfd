/**
 * The runtime's program table: every program loaded through `Runtime.load` gets an fd and
 * an id (prog arrays store ids, user space passes fds), and can be instantiated on any CPU's
 * context on demand, which a tail call from another CPU needs.
 */
import { BpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { Engine, EngineOptions, LoadedProgram, VmContext } from '../vm/engine.js';

/** ProgInfo is one loaded program. */
export interface ProgInfo {
  fd: number;
  /** program id (1, 2, ...), what prog arrays hold */
  id: number;
  name: string;
  engine: Engine;
  /** the program with map references resolved */
  insns: Program;
  opts: EngineOptions;
  /** loaded instance per CPU */
  instances: Map<number, LoadedProgram>;
}

/** ProgTable holds the programs of a runtime. */
export class ProgTable {
  private readonly byFd = new Map<number, ProgInfo>();
  private readonly byId = new Map<number, ProgInfo>();
  private nextId = 1;

  /** add records a program under `fd` and returns its info. */
  add(fd: number, engine: Engine, insns: Program, opts: EngineOptions, name = ''): ProgInfo {
    const p: ProgInfo = { fd, id: this.nextId++, name, engine, insns, opts, instances: new Map() };
    this.byFd.set(fd, p);
    this.byId.set(p.id, p);
    return p;
  }

  /** remove drops the program of `fd` (its fd and id no longer resolve); false when there is none. */
  remove(fd: number): boolean {
    const p = this.byFd.get(fd);
    if (!p) return false;
    this.byFd.delete(fd);
    this.byId.delete(p.id);
    return true;
  }

  /** fd returns the program of `fd`, or undefined. */
  fd(fd: number): ProgInfo | undefined {
    return this.byFd.get(fd);
  }

  /** id returns the program with id `id`, or undefined. */
  id(id: number): ProgInfo | undefined {
    return this.byId.get(id);
  }

  /** all lists the programs in load order. */
  all(): ProgInfo[] {
    return [...this.byId.values()];
  }

  /** instance returns (loading once) program `p` on the context `ctx`. */
  instance(p: ProgInfo, ctx: VmContext): LoadedProgram {
    let l = p.instances.get(ctx.cpu);
    if (!l) {
      try {
        l = p.engine.load(p.insns, ctx, p.opts);
      } catch (e) {
        throw e instanceof BpfError ? e.withPrefix(`load program ${p.id} on cpu ${ctx.cpu}`) : e;
      }
      p.instances.set(ctx.cpu, l);
    }
    return l;
  }
}
