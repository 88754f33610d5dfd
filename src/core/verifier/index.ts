/**
 * verifier: static safety analysis of eBPF programs modelled on the Linux verifier. It
 * proves, before a program runs, that every path terminates within the instruction limit,
 * reads only initialised registers and stack, accesses memory only inside the context,
 * stack, map values, ring-buffer records and the checked packet range, calls helpers with
 * arguments of the right kinds, and releases what it acquires. See docs/verifier.md.
 *
 *   const { stats, log } = verify(prog, { progType: 'xdp', maps: (fd) => myMaps.get(fd), logLevel: 1 });
 *   // or throws VerifierError (BpfError 'E_VERIFIER') with .reason, .kernelMessage, .context.insn, .log
 */
import { isLddw, type Program } from '../isa/instruction.js';
import { formatInsn } from '../asm/format.js';
import { Reject, VerifierError } from './codes.js';
import type { ProgType } from './ctx.js';
import type { MapLookup } from './maps.js';
import { DEFAULT_INSN_LIMIT, Verifier, type VerifyStats } from './verifier.js';

/** VerifyOptions configure one verification. */
export interface VerifyOptions {
  /** program type: 'xdp' (default), 'socket_filter', 'sched_cls', or 'raw' (r1 = data, r2 = length) */
  progType?: ProgType;
  /** resolves the map fds used by `lddw` (BPF_PSEUDO_MAP_FD / _VALUE / _IDX); none when absent */
  maps?: MapLookup;
  /** 0: no log; 1: the failing path, or the statistics line; 2: every instruction with register states */
  logLevel?: number;
  /** processed-instruction limit (default 1,000,000, the kernel's) */
  insnLimit?: number;
  /** raw programs only: a fixed data size, making r1 a pointer to that many bytes (default: packet-like, r1 + r2 is the end) */
  dataSize?: number;
}

/** VerifyResult is a verified program's statistics and log. */
export interface VerifyResult {
  ok: true;
  stats: VerifyStats;
  log: string;
}

/** verify checks a program; it returns statistics or throws VerifierError. */
export function verify(prog: Program, opts: VerifyOptions = {}): VerifyResult {
  const level = opts.logLevel ?? 0;
  let v: Verifier | null = null;
  try {
    v = new Verifier(prog, {
      progType: opts.progType ?? 'xdp', maps: opts.maps ?? (() => undefined), logLevel: level,
      insnLimit: opts.insnLimit ?? DEFAULT_INSN_LIMIT, dataSize: opts.dataSize,
    });
    resolveLddws(prog, v);
    const stats = v.run();
    const summary = `processed ${stats.insnsProcessed} insns (limit ${opts.insnLimit ?? DEFAULT_INSN_LIMIT}) `
      + `max_states_per_insn ${stats.maxStatesPerInsn} total_states ${stats.totalStates} peak_states ${stats.peakStates}`;
    if (level >= 1) v.log.add(summary);
    return { ok: true, stats, log: level >= 1 ? v.log.text() : '' };
  } catch (e) {
    if (!(e instanceof Reject)) throw e;
    throw toError(prog, e, v, level);
  }
}

/**
 * resolveLddws resolves the map of every lddw, reachable or not, as the kernel does when it
 * loads a program (resolve_pseudo_ldimm64): a bad fd or map value in dead code is refused too.
 */
function resolveLddws(prog: Program, v: Verifier): void {
  prog.forEach((i, pc) => {
    if (!isLddw(i) || i.src === 0 || v.cfg.halves.has(pc)) return;
    try {
      v.lddw(i, pc);
    } catch (e) {
      if (e instanceof Reject && e.pc === undefined) throw new Reject(e.reason, e.message, pc);
      throw e;
    }
  });
}

function toError(prog: Program, e: Reject, v: Verifier | null, level: number): VerifierError {
  const pc = e.pc ?? (v?.current ? v.current.pc : undefined);
  const text = pc !== undefined && prog[pc] ? formatInsn(prog, pc) : '';
  let log = '';
  if (level >= 1) {
    const lines = level >= 2 && v ? [...v.log.lines] : v ? v.failingPath() : [];
    log = [...lines, e.message].join('\n');
  }
  return new VerifierError(e.reason, e.message, pc, text, log);
}

export { VerifierError, REJECT_CODES, type RejectCode } from './codes.js';
export type { VerifyStats } from './verifier.js';
export type { MapInfo, MapLookup } from './maps.js';
export { MAP_TYPES } from './maps.js';
export type { ProgType } from './ctx.js';
export { PROG_TYPES } from './ctx.js';
