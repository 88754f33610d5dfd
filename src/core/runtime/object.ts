/**
 * loadObject: the live half of the loader (libbpf's bpf_object__load, cilium/ebpf's
 * NewCollection). From an ObjectSpec it creates the maps (global data with initial values,
 * by-name pinned maps reused), relocates each program's map references and CO-RE accesses,
 * verifies it (src/core/verifier, for the program types it models) and loads it with the
 * engine (the JIT by default). The result is a Collection: programs and maps by name.
 *
 *   const spec = parseObject(bytes);
 *   setGlobal(spec, 'limit', 10);                  // skel->rodata->limit = 10
 *   const coll = loadObject(new Runtime(), spec);
 *   coll.programs.xdp_count.run({ data: packet });
 *   coll.maps.counters.get(new Uint8Array(4));
 */
import { BpfError, isBpfError } from '../errors.js';
import type { ObjectSpec, ProgramSpec } from '../elf/spec.js';
import type { Btf } from '../btf/index.js';
import type { Engine, EngineOptions } from '../vm/engine.js';
import { jit } from '../jit/index.js';
import type { Runtime } from './runtime.js';
import { createMap, reusePinned, pinPathOf, type MapPinning } from './object-maps.js';
import { contextBtf } from './object-ctx-btf.js';
import { BpfProgram } from './object-program.js';
import { Collection } from './object-collection.js';
import { addTraceSink, registerLoaderHelpers, type TraceSink } from './loader-helpers.js';
import { prepareProgram, verifierHook, type VerifyHook } from './object-prepare.js';
import { pinMap } from './pin.js';
import { mapUpdateElem } from './commands.js';

/** LoadObjectOptions configure loadObject. */
export interface LoadObjectOptions extends EngineOptions {
  /** engine to load programs with (default: the JIT) */
  engine?: Engine;
  /** CPU (execution context) the programs run on */
  cpu?: number;
  /** load only these programs (section or function names); only the maps they use are created */
  programs?: string[];
  /**
   * verifier run on each program: default src/core/verifier (verifierHook()); false skips it.
   * Programs it accepts run in trusted mode unless `checked` is set explicitly; others (not
   * verified, or of a type the verifier does not model) run checked.
   */
  verify?: VerifyHook | false;
  /** extra CO-RE target types, searched before tsbpf's own context types */
  coreBtf?: Btf;
  /** where LIBBPF_PIN_BY_NAME maps are reused from and pinned to */
  pins?: MapPinning;
  /** the object's raw .BTF (kept with maps, so pinned maps print with types) */
  btfBytes?: Uint8Array | null;
  /** receives bpf_trace_printk lines */
  trace?: TraceSink;
  /** when set, a program that fails to load is reported here and skipped instead of failing the load */
  onProgramError?: (prog: ProgramSpec, err: unknown) => void;
  /** existing maps (fd in the runtime) to use instead of creating the named ones */
  mapReplacements?: Record<string, number>;
}

/** selectPrograms returns the programs named (by section or function) in `names`, all when absent. */
export function selectPrograms(spec: ObjectSpec, names?: string[]): ProgramSpec[] {
  if (!names) return spec.programs;
  return names.flatMap((n) => {
    const found = spec.programs.filter((p) => p.name === n);
    const bySec = found.length ? found : spec.programs.filter((p) => p.sectionName === n);
    if (bySec.length === 0) {
      const list = spec.programs.map((x) => `${x.sectionName} (${x.name})`).join(', ');
      throw new BpfError('ENOENT', `no program in section or named "${n}"; programs: ${list || 'none'}`, { section: n });
    }
    return bySec;
  });
}

/**
 * closure extends a program selection with what it needs: the maps its programs use, the
 * programs and inner maps those maps' initial contents (__array) name, transitively.
 */
function closure(spec: ObjectSpec, progs: ProgramSpec[], all: boolean): { progs: ProgramSpec[]; maps: string[] } {
  if (all) return { progs: spec.programs, maps: spec.maps.map((m) => m.name) };
  const ps = new Set(progs), ms = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    const add = (name: string): void => {
      if (!ms.has(name) && spec.maps.some((m) => m.name === name)) { ms.add(name); grew = true; }
    };
    for (const p of ps) p.relocations.forEach((r) => add(r.map));
    for (const m of spec.maps.filter((x) => ms.has(x.name))) {
      for (const slot of m.contents) {
        const prog = spec.programs.find((x) => x.name === slot.name);
        if (prog && !ps.has(prog)) { ps.add(prog); grew = true; } else if (!prog) add(slot.name);
      }
    }
  }
  return { progs: spec.programs.filter((p) => ps.has(p)), maps: spec.maps.filter((m) => ms.has(m.name)).map((m) => m.name) };
}

/** fillContents stores the initial __array slots: program fds in prog arrays, map fds in maps of maps. */
function fillContents(rt: Runtime, spec: ObjectSpec, fds: Map<string, number>, programs: Record<string, BpfProgram>): void {
  for (const m of spec.maps) {
    const fd = fds.get(m.name);
    if (fd === undefined) continue;
    for (const slot of m.contents) {
      const target = programs[slot.name]?.fd ?? fds.get(slot.name);
      if (target === undefined) {
        throw new BpfError('E_RELOC', `load maps: map "${m.name}": slot ${slot.key} names "${slot.name}", which is not loaded`, { section: m.section, symbol: m.name });
      }
      const key = new Uint8Array(4), value = new Uint8Array(4);
      new DataView(key.buffer).setUint32(0, slot.key, true);
      new DataView(value.buffer).setUint32(0, target, true);
      try {
        mapUpdateElem(rt, fd, key, value);
      } catch (e) {
        if (isBpfError(e)) throw e.withPrefix(`load maps: map "${m.name}": slot ${slot.key} ("${slot.name}")`).withContext({ section: m.section, symbol: m.name });
        throw e;
      }
    }
  }
}

function createMaps(rt: Runtime, spec: ObjectSpec, names: string[], opts: LoadObjectOptions): { fds: Map<string, number>; toPin: string[] } {
  const fds = new Map<string, number>();
  const toPin: string[] = [];
  for (const name of names) {
    const m = spec.maps.find((x) => x.name === name)!;
    const replaced = opts.mapReplacements?.[name];
    if (replaced !== undefined) {
      fds.set(name, replaced);
      continue;
    }
    const pinned = m.pinning === 'by_name' && opts.pins ? reusePinned(rt, m, opts.pins) : undefined;
    fds.set(name, pinned ?? createMap(rt, m, opts.btfBytes ?? null, opts.btfBytes ? spec.btf : null));
    if (m.pinning === 'by_name' && opts.pins && pinned === undefined) toPin.push(name);
  }
  return { fds, toPin };
}

function loadOne(rt: Runtime, spec: ObjectSpec, p: ProgramSpec, fds: Map<string, number>, targets: Btf[], engine: Engine,
  hook: VerifyHook | undefined, opts: LoadObjectOptions): BpfProgram {
  const { insns, verified } = prepareProgram(rt, spec, p, fds, targets, hook);
  // a verified program runs in trusted mode unless the caller asked for checked mode
  const checked = opts.checked ?? !verified;
  try {
    return new BpfProgram(rt, p, insns, rt.load(engine, insns, { checked, cpu: opts.cpu, name: p.name }), opts.cpu ?? 0, checked);
  } catch (e) {
    if (isBpfError(e)) throw e.withPrefix(`load program "${p.name}"`).withContext({ section: p.sectionName, symbol: p.name });
    throw e;
  }
}

/** loadObject creates an object's maps and loads its programs into `rt`. */
export function loadObject(rt: Runtime, spec: ObjectSpec, opts: LoadObjectOptions = {}): Collection {
  if (!spec.littleEndian) throw new BpfError('EINVAL', 'object is big-endian (bpfeb); tsbpf, like the kernel on this host, runs little-endian BPF');
  const need = closure(spec, selectPrograms(spec, opts.programs), !opts.programs);
  const progs = need.progs;
  registerLoaderHelpers(rt);
  if (opts.trace) addTraceSink(rt, opts.trace);
  const { fds, toPin } = createMaps(rt, spec, need.maps, opts);
  const targets = opts.coreBtf ? [opts.coreBtf, contextBtf()] : [contextBtf()];
  const engine = opts.engine ?? jit;
  const programs: Record<string, BpfProgram> = {};
  const hook = opts.verify === false ? undefined : opts.verify ?? verifierHook();
  for (const p of progs) {
    try {
      programs[p.name] = loadOne(rt, spec, p, fds, targets, engine, hook, opts);
    } catch (e) {
      if (!opts.onProgramError) throw e;
      opts.onProgramError(p, e);
    }
  }
  fillContents(rt, spec, fds, programs);
  if (opts.pins) for (const name of toPin) pinMap(rt, opts.pins.store, fds.get(name)!, pinPathOf(spec.maps.find((m) => m.name === name)!, opts.pins));
  return new Collection(rt, spec, programs, fds);
}
