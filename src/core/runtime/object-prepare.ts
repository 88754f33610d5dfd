/**
 * Preparing one program of an object for loading: CO-RE relocations, map relocations
 * (spec records -> `lddw` with BPF_PSEUDO_MAP_FD / BPF_PSEUDO_MAP_VALUE and the live map's
 * fd, which Runtime.load then resolves to addresses), structural validation and the verifier.
 */
import { BpfError, isBpfError } from '../errors.js';
import type { ObjectSpec, ProgramSpec } from '../elf/spec.js';
import type { Btf } from '../btf/index.js';
import { BPF_PSEUDO_MAP_FD, BPF_PSEUDO_MAP_VALUE } from '../isa/opcodes.js';
import type { Insn } from '../isa/instruction.js';
import { verify, PROG_TYPES as VERIFIER_TYPES, type MapInfo, type ProgType as VerifierProgType, type VerifierError } from '../verifier/index.js';
import type { LineInfo } from '../btf/ext.js';
import { innerTemplate } from '../maps/map-in-map.js';
import { spinLockOff } from '../maps/spin-lock.js';
import { applyCoreRelos } from './object-core.js';
import type { Runtime } from './runtime.js';

/**
 * VerifyHook checks a relocated program (map references still as fds); it throws to reject.
 * It returns true when it proved the program safe, which lets the loader run it in the
 * engines' trusted mode (no per-access checks); anything else keeps checked mode.
 */
export type VerifyHook = (insns: Insn[], prog: ProgramSpec, rt: Runtime) => boolean | void;

/** PreparedProgram is a program ready for Runtime.load, and whether the verifier accepted it. */
export interface PreparedProgram {
  insns: Insn[];
  verified: boolean;
}

/** relocateMaps points each map relocation of `prog` at the live map in `fds`. */
export function relocateMaps(prog: ProgramSpec, insns: Insn[], fds: Map<string, number>): void {
  for (const r of prog.relocations) {
    const where = { insn: r.insn, section: prog.sectionName, symbol: r.map };
    const fd = fds.get(r.map);
    if (fd === undefined) throw new BpfError('E_RELOC', `program "${prog.name}": relocation against unknown map "${r.map}"`, where);
    const i = insns[r.insn], hi = insns[r.insn + 1];
    if (!i || !hi || i.code !== 0x18) throw new BpfError('E_RELOC', `program "${prog.name}": relocation of "${r.map}" is not on an lddw instruction`, where);
    i.src = r.kind === 'map' ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_VALUE;
    i.imm = fd;
    hi.imm = r.kind === 'map' ? 0 : r.offset;
  }
}

/** prepareProgram returns the instructions of `prog` ready for Runtime.load, verified by `hook`. */
export function prepareProgram(rt: Runtime, spec: ObjectSpec, prog: ProgramSpec, fds: Map<string, number>, targets: Btf[], hook?: VerifyHook): PreparedProgram {
  const insns = applyCoreRelos(prog, spec.btf, targets);
  relocateMaps(prog, insns, fds);
  for (const r of prog.relocations) {
    if (r.kind !== 'map_value') continue;
    const m = rt.map(fds.get(r.map)!);
    if (r.offset < 0 || r.offset >= m.valueSize) {
      throw new BpfError('E_RELOC', `program "${prog.name}": offset ${r.offset} is outside map "${r.map}" (${m.valueSize} bytes)`, { insn: r.insn, section: prog.sectionName, symbol: r.map });
    }
  }
  const verified = hook?.(insns, prog, rt) === true;
  return { insns, verified };
}

/** verifierProgType maps a libbpf program type to one the verifier models (null: none). */
export function verifierProgType(type: string): VerifierProgType | null {
  if (type === 'sched_act') return 'sched_cls';
  return (VERIFIER_TYPES as readonly string[]).includes(type) ? (type as VerifierProgType) : null;
}

/** VerifierHookOptions configure verifierHook. */
export interface VerifierHookOptions {
  logLevel?: number;
  /** receives each program's log (and a note for types the verifier does not model) */
  onLog?: (prog: ProgramSpec, log: string) => void;
}

/** verifierHook runs src/core/verifier on programs of the types it models. */
export function verifierHook(o: VerifierHookOptions = {}): VerifyHook {
  return (insns, prog, rt) => {
    const progType = verifierProgType(prog.type);
    if (!progType) {
      o.onLog?.(prog, `not verified: the verifier does not model program type ${prog.type}`);
      return false;
    }
    const maps = (fd: number) => {
      try {
        const m = rt.map(fd);
        const info: MapInfo = { type: m.mapType, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries };
        const lock = spinLockOff(rt.space, m.hdr);
        if (lock >= 0) info.spinLockOff = lock;
        if (m.mapType === 12 || m.mapType === 13) {
          const t = innerTemplate(rt.space, m.hdr);
          info.inner = { type: t.mapType, keySize: t.keySize, valueSize: t.valueSize, maxEntries: t.maxEntries };
        }
        return info;
      } catch {
        return undefined;
      }
    };
    try {
      const r = verify(insns, { progType, maps, logLevel: o.logLevel ?? 0 });
      if (r.log) o.onLog?.(prog, r.log);
      return true;
    } catch (e) {
      if (!isBpfError(e)) throw e;
      const log = (e as { log?: string }).log;
      if (log) o.onLog?.(prog, log);
      throw rejected(e, prog);
    }
  };
}

/** sourceLine returns the BTF line info covering instruction `insn` (the last record at or before it). */
export function sourceLine(prog: ProgramSpec, insn: number | undefined): LineInfo | undefined {
  if (insn === undefined) return undefined;
  let best: LineInfo | undefined;
  for (const l of prog.lineInfo ?? []) if (l.insn <= insn && (!best || l.insn >= best.insn)) best = l;
  return best;
}

/**
 * rejected wraps a verifier error for the loader: the program's name, and the C source line
 * of the failing instruction when the object has BTF line info (as the kernel's log prints
 * it). The verifier's reason, kernel message and log stay on the error.
 */
function rejected(e: BpfError, prog: ProgramSpec): BpfError {
  const li = sourceLine(prog, e.context.insn);
  const src = li && li.line.trim() ? `; source: \`${li.line.trim()}\`` : '';
  const where = li ? { file: li.file, line: li.lineNo, ...(li.column ? { column: li.column } : {}) } : {};
  const out = new BpfError(e.code, `program "${prog.name}" rejected by the verifier: ${e.detail}${src}`,
    { ...where, section: prog.sectionName, symbol: prog.name, ...e.context }, { cause: e.cause });
  const v = e as Partial<Pick<VerifierError, 'reason' | 'kernelMessage' | 'log'>>;
  return Object.assign(out, { reason: v.reason, kernelMessage: v.kernelMessage, log: v.log });
}
