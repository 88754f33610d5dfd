/**
 * The path explorer (the kernel's do_check): starting from the entry state it follows one
 * path at a time, instruction by instruction, pushing the other side of every undecided
 * branch. At prune points the current state is compared with the states saved there: if a
 * fully explored one covers it the path is cut ("safe"); if one still being explored is
 * identical the program loops forever. Bounded loops are simply explored until they exit.
 */
import type { Insn, Program } from '../isa/instruction.js';
import { isLddw, lddwValue } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { alu, RAW_LEN_ID } from './alu.js';
import { exit, helperCall, pseudoCall } from './call.js';
import { buildCfg, checkStackChains, type Cfg } from './cfg.js';
import { Precision } from './precision.js';
import { reject, Reject } from './codes.js';
import { progTypeInfo, type ProgType, type ProgTypeInfo } from './ctx.js';
import { condJump } from './jmp.js';
import { insnLine, Log, regsLine, trailLines } from './log.js';
import { mapTypeNumber, MT, type MapLookup, type MapRef } from './maps.js';
import { access } from './mem.js';
import { NOT_INIT_REG, RegType, UNKNOWN_REG, constReg, ptrReg, scalarReg, type Reg } from './reg.js';
import { truncate, UNKNOWN, unsignedRange } from './scalar.js';
import { copyState, cur, newFrame, stateKey, statesEqual, type Checkpoint, type Frame, type VState } from './state.js';

/**
 * Explored is what is saved at one prune point: completed states, all states by fingerprint
 * (to find one identical to the current state among those still being explored without
 * comparing with each: a long loop saves thousands), and how many were ever saved.
 */
interface Explored { done: Checkpoint[]; byKey: Map<number, Checkpoint[]>; count: number }

/** DEFAULT_INSN_LIMIT is the kernel's BPF_COMPLEXITY_LIMIT_INSNS. */
export const DEFAULT_INSN_LIMIT = 1_000_000;
/** LOOP_MISS_LIMIT is how many times a state still being explored may differ before it stops being compared. */
const LOOP_MISS_LIMIT = 64;

/** VerifierConfig is what the explorer needs (see VerifyOptions in index.ts). */
export interface VerifierConfig {
  progType: ProgType;
  maps: MapLookup;
  logLevel: number;
  insnLimit: number;
  dataSize?: number;
}

/** Stats are the statistics of one verification. */
export interface VerifyStats {
  /** instructions processed over all paths (the kernel's "processed N insns") */
  insnsProcessed: number;
  /** states saved at prune points */
  totalStates: number;
  /** most states alive at once (saved plus pending branches) */
  peakStates: number;
  /** most states saved at one instruction */
  maxStatesPerInsn: number;
  /** stack bytes per subprogram, as the kernel rounds them */
  stackDepth: number[];
  timeMs: number;
}

/** Verifier holds one verification's state; `run` explores every path. */
export class Verifier {
  readonly cfg: Cfg;
  readonly info: ProgTypeInfo;
  readonly progType: ProgType;
  readonly log: Log;
  /** which scalars matter when comparing states */
  readonly prec: Precision;
  private readonly pending: VState[] = [];
  private readonly explored = new Map<number, Explored>();
  private idGen = RAW_LEN_ID;
  private processed = 0;
  private totalStates = 0;
  private peakStates = 0;
  private maxPerInsn = 0;
  private lastAdd = 0;
  /** jump instructions processed, and their count when a state was last saved (the kernel's heuristics) */
  private jmps = 0;
  private lastAddJmps = 0;
  private readonly mapCache = new Map<number, MapRef>();
  private readonly imms: (Reg | undefined)[] = [];
  /** the state being executed (for error logs) */
  current: VState | null = null;

  constructor(readonly prog: Program, readonly conf: VerifierConfig) {
    this.progType = conf.progType;
    this.info = progTypeInfo(conf.progType);
    this.log = new Log(conf.logLevel);
    this.cfg = buildCfg(prog);
    this.prec = new Precision(prog, this.cfg);
  }

  /**
   * immReg is the scalar register of the immediate `imm` of the instruction at `pc` (sign-
   * extended to 64 bits, or zero-extended from 32), made once per instruction: registers are
   * immutable, and loops execute the same instructions many times.
   */
  immReg(pc: number, imm: number, is64: boolean): Reg {
    const r = this.imms[pc];
    if (r) return r;
    return (this.imms[pc] = constReg(is64 ? BigInt(imm) : BigInt(imm >>> 0)));
  }

  /** newId returns a fresh id for linking registers. */
  newId(): number {
    return ++this.idGen;
  }

  /** readReg returns register r of the current frame, rejecting uninitialised ones. */
  readReg(st: VState, r: number): Reg {
    const reg = cur(st).regs[r];
    if (reg.type === RegType.NOT_INIT) reject('UNINIT_REG', `R${r} !read_ok`);
    return reg;
  }

  /** setReg writes register r of the current frame. */
  setReg(st: VState, r: number, reg: Reg): void {
    cur(st).regs[r] = reg;
  }

  /** noteStack records that frame `k` touched the stack down to offset `lo`. */
  noteStack(st: VState, k: number, lo: number): void {
    const sp = this.cfg.subprogs[st.frames[k].subprog];
    if (-lo > sp.stackDepth) sp.stackDepth = -lo;
  }

  /** push queues another path starting at `pc` (state `s` must be a copy). */
  push(s: VState, pc: number, from: number): void {
    this.prec.edge(from, pc);
    s.pc = pc;
    s.from = from;
    if (s.parent) s.parent.branches++;
    this.pending.push(s);
    this.peakStates = Math.max(this.peakStates, this.totalStates + this.pending.length);
  }

  /** replace makes `st` (the running state) become `other`. */
  replace(st: VState, other: VState): void {
    Object.assign(st, other);
  }

  /** mapRef resolves a map fd, rejecting unknown ones. */
  mapRef(fd: number): MapRef {
    let m = this.mapCache.get(fd);
    if (!m) {
      const info = this.conf.maps(fd);
      if (!info) return reject('BAD_MAP_FD', `fd ${fd} is not pointing to valid bpf_map`);
      m = { fd, info, type: mapTypeNumber(info.type) };
      this.mapCache.set(fd, m);
    }
    return m;
  }

  private entryState(): VState {
    const f = newFrame(-1, 0);
    f.regs[10] = ptrReg(RegType.PTR_TO_STACK, { frame: 0 });
    if (this.info.ctx) f.regs[1] = ptrReg(RegType.PTR_TO_CTX);
    else if (this.conf.dataSize !== undefined) {
      f.regs[1] = ptrReg(RegType.PTR_TO_MEM, { size: this.conf.dataSize });
      f.regs[2] = constReg(BigInt(this.conf.dataSize));
    } else {
      f.regs[1] = ptrReg(RegType.PTR_TO_PACKET);
      f.regs[2] = scalarReg(unsignedRange(0n, 0xffffffffn), RAW_LEN_ID);
    }
    return { frames: [f], refs: [], lock: null, pc: 0, parent: null, trail: null, from: -1 };
  }

  /** run explores all paths; throws Reject on the first unsafe one. */
  run(): VerifyStats {
    const t0 = now();
    let st: VState | null = this.entryState();
    while (st || this.pending.length) {
      if (!st) {
        st = this.pending.pop() as VState;
        if (this.log.level >= 2) this.log.add(`from ${st.from} to ${st.pc}: ${regsLine(cur(st), null)}`);
      }
      this.current = st;
      if (this.cfg.prune[st.pc] && this.visited(st)) {
        if (this.log.level >= 2) this.log.add(`${st.pc}: safe`);
        this.pathEnd(st);
        st = null;
        continue;
      }
      if (++this.processed > this.conf.insnLimit) {
        reject('TOO_COMPLEX', `BPF program is too large. Processed ${this.processed} insn`);
      }
      if (!this.step(st)) {
        this.pathEnd(st);
        st = null;
      }
    }
    this.current = null; // the stack check concerns the whole program, not an instruction
    checkStackChains(this.cfg);
    return {
      insnsProcessed: this.processed, totalStates: this.totalStates, peakStates: this.peakStates,
      maxStatesPerInsn: this.maxPerInsn, stackDepth: this.cfg.subprogs.map((s) => Math.ceil(s.stackDepth / 16) * 16),
      timeMs: now() - t0,
    };
  }

  /** failingPath prints the instructions of the current path (level-1 log on failure). */
  failingPath(): string[] {
    return this.current ? trailLines(this.prog, this.current.trail) : [];
  }

  private pathEnd(st: VState): void {
    for (let cp = st.parent; cp; cp = cp.parent) {
      if (--cp.branches > 0) break;
      this.explored.get(cp.state.pc)?.done.push(cp);
    }
  }

  /** visited compares `st` with the states saved at its pc; true when it can be pruned. */
  private visited(st: VState): boolean {
    const live = (pc: number): number => this.cfg.liveIn[pc];
    let ex = this.explored.get(st.pc);
    if (!ex) this.explored.set(st.pc, (ex = { done: [], byKey: new Map(), count: 0 }));
    if (this.covered(ex.done, st)) return true;
    const top = cur(st);
    // some state saved here may still be explored (we are in a loop): is this one identical to it?
    const looping = ex.count > ex.done.length;
    const key = looping ? stateKey(st, live) : 0;
    const bucket = looping ? ex.byKey.get(key) : undefined;
    for (let k = 0; bucket !== undefined && k < bucket.length; k++) {
      const cp = bucket[k];
      if (cp.branches !== 0 && statesEqual(cp.state, st, live, true)) {
        // a callback coming back to the same state has converged; anything else loops forever
        if (top.callback !== null && top.callback.entry === st.pc) return true;
        reject('INFINITE_LOOP', `infinite loop detected at insn ${st.pc}`);
      }
      // completed states, and ones that keep differing, leave the bucket (as the kernel evicts
      // states that miss 64 times): without this a loop that never repeats a state exactly but
      // keeps one fingerprint compared each visit with every state saved before, quadratically.
      // Only the loop detection can miss; the instruction limit still ends such a loop.
      if (cp.branches === 0 || ++cp.loopMiss > LOOP_MISS_LIMIT) bucket.splice(k--, 1);
    }
    if (!this.saveHere(st, top, looping)) return false;
    const cp: Checkpoint = { state: copyState(st), branches: 1, parent: st.parent, hit: 0, miss: 0, loopMiss: 0 };
    const k = looping ? key : stateKey(st, live);
    const same = ex.byKey.get(k);
    if (same) same.push(cp);
    else ex.byKey.set(k, [cp]);
    ex.count++;
    st.parent = cp;
    this.lastAdd = this.processed;
    this.lastAddJmps = this.jmps;
    this.totalStates++;
    this.maxPerInsn = Math.max(this.maxPerInsn, ex.count);
    this.peakStates = Math.max(this.peakStates, this.totalStates + this.pending.length);
    return false;
  }

  /**
   * saveHere decides whether to save a state at this prune point, with the kernel's
   * heuristics: only after at least 2 jumps and 8 instructions since the last one (programs
   * have a prune point every few instructions, and most states would never help), except at
   * a callback's entry, where its convergence is found; and inside a loop (a state saved here
   * is still being explored) only every 20 jumps or 100 instructions.
   */
  private saveHere(st: VState, top: Frame, looping: boolean): boolean {
    const sinceJmps = this.jmps - this.lastAddJmps, sinceInsns = this.processed - this.lastAdd;
    const entry = top.callback !== null && top.callback.entry === st.pc;
    if (!entry && (sinceJmps < 2 || sinceInsns < 8)) return false;
    return !looping || sinceJmps >= 20 || sinceInsns >= 100;
  }

  /** covered tells whether a completed state covers `st`; states that rarely help are evicted. */
  private covered(done: Checkpoint[], st: VState): boolean {
    if (done.length === 0) return false;
    const live = (pc: number): number => this.prec.liveAt(pc);
    const rel = this.prec.at(st.pc);
    // (rel is a view valid until the next analysis query: statesEqual does not query)
    for (let k = 0; k < done.length; k++) {
      const cp = done[k];
      if (statesEqual(cp.state, st, live, false, rel)) {
        cp.hit++;
        return true;
      }
      if (++cp.miss > cp.hit * 3 + 3) {
        done.splice(k--, 1);
      }
    }
    return false;
  }

  /** step executes the instruction at st.pc; false when the path ends. */
  private step(st: VState): boolean {
    const pc = st.pc;
    const i = this.prog[pc];
    const before = this.log.level >= 2 ? cur(st).regs.slice() : null;
    const depth = st.frames.length;
    if (this.log.level >= 1) st.trail = { pc, prev: st.trail };
    const next = this.exec(st, i, pc);
    if (before) {
      const f = cur(st);
      const changed = regsLine(f, depth === st.frames.length ? before : null);
      this.log.add(changed ? `${insnLine(this.prog, pc)} ; ${changed}` : insnLine(this.prog, pc));
    }
    if (next === null) return false;
    this.prec.edge(pc, next);
    st.pc = next;
    return true;
  }

  /** exec runs one instruction and returns the next pc (null: the path ends). */
  private exec(st: VState, i: Insn, pc: number): number | null {
    switch (o.BPF_CLASS(i.code)) {
      case o.BPF_ALU:
      case o.BPF_ALU64:
        alu(this, st, i);
        return pc + 1;
      case o.BPF_LDX: {
        const r = access(this, st, { regno: i.src, off: i.off, size: o.sizeBytes(o.BPF_SIZE(i.code)), write: false, sx: o.BPF_MODE(i.code) === o.BPF_MEMSX });
        this.setReg(st, i.dst, r as Reg);
        return pc + 1;
      }
      case o.BPF_ST:
      case o.BPF_STX:
        this.store(st, i);
        return pc + 1;
      case o.BPF_LD:
        return this.ld(st, i, pc);
      default:
        return this.jmp(st, i, pc);
    }
  }

  private store(st: VState, i: Insn): void {
    const size = o.sizeBytes(o.BPF_SIZE(i.code));
    if (o.BPF_CLASS(i.code) === o.BPF_ST) {
      const value = constReg(BigInt.asUintN(size * 8, BigInt(i.imm)));
      access(this, st, { regno: i.dst, off: i.off, size, write: true, value, imm: true });
      return;
    }
    const value = this.readReg(st, i.src);
    if (o.BPF_MODE(i.code) !== o.BPF_ATOMIC) {
      access(this, st, { regno: i.dst, off: i.off, size, write: true, value });
      return;
    }
    if (i.imm === o.BPF_CMPXCHG) this.readReg(st, 0);
    const old = access(this, st, { regno: i.dst, off: i.off, size, write: true, value, atomic: true }) ?? UNKNOWN_REG;
    const loaded = size === 8 ? UNKNOWN_REG : scalarReg(truncate(UNKNOWN, size));
    void old;
    if (i.imm === o.BPF_CMPXCHG) this.setReg(st, 0, loaded);
    else if (i.imm & o.BPF_FETCH) this.setReg(st, i.src, loaded);
  }

  private ld(st: VState, i: Insn, pc: number): number {
    if (isLddw(i)) {
      this.setReg(st, i.dst, this.lddw(i, pc));
      return pc + 2;
    }
    if (!this.info.ldAbs) reject('LD_ABS', 'BPF_LD_[ABS|IND] instructions not allowed for this program type');
    if (this.cfg.subprogs.length > 1) reject('LD_ABS', 'BPF_LD_[ABS|IND] instructions cannot be mixed with bpf-to-bpf calls');
    if (st.lock) reject('LOCK', 'BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region');
    if (st.refs.length) reject('LD_ABS', 'BPF_LD_[ABS|IND] cannot be mixed with socket references');
    if (this.info.ldAbsNeedsCtx && this.readReg(st, 6).type !== RegType.PTR_TO_CTX) {
      reject('LD_ABS', 'at the time of BPF_LD_ABS|IND R6 != pointer to skb');
    }
    if (o.BPF_MODE(i.code) === o.BPF_IND) this.readReg(st, i.src);
    const f = cur(st);
    for (let r = 1; r <= 5; r++) f.regs[r] = NOT_INIT_REG;
    f.regs[0] = scalarReg(truncate(UNKNOWN, o.sizeBytes(o.BPF_SIZE(i.code))));
    return pc + 1;
  }

  /** lddw is the register an lddw loads (a constant, a map, a map value or a callback); it rejects bad maps. */
  lddw(i: Insn, pc: number): Reg {
    switch (i.src) {
      case 0: return constReg(lddwValue(this.prog, pc));
      case o.BPF_PSEUDO_MAP_FD:
      case o.BPF_PSEUDO_MAP_IDX: {
        const map = this.mapRef(i.imm);
        return ptrReg(RegType.CONST_PTR_TO_MAP, { map });
      }
      case o.BPF_PSEUDO_MAP_VALUE:
      case o.BPF_PSEUDO_MAP_IDX_VALUE: {
        const map = this.mapRef(i.imm);
        const off = this.prog[pc + 1].imm;
        if (map.type !== MT.ARRAY || map.info.maxEntries !== 1 || off < 0 || off >= map.info.valueSize) {
          reject('BAD_MAP_FD', `direct value access on map fd ${i.imm} off ${off} is not supported`);
        }
        return ptrReg(RegType.PTR_TO_MAP_VALUE, { map, off });
      }
      case o.BPF_PSEUDO_FUNC:
        return ptrReg(RegType.PTR_TO_FUNC, { size: pc + 1 + i.imm });
      default:
        return reject('UNSUPPORTED', `unsupported ldimm64 source ${i.src}`);
    }
  }

  private jmp(st: VState, i: Insn, pc: number): number | null {
    const op = o.BPF_OP(i.code);
    this.jmps++;
    switch (op) {
      case o.BPF_JA:
        return o.BPF_CLASS(i.code) === o.BPF_JMP32 ? pc + 1 + i.imm : pc + 1 + i.off;
      case o.BPF_EXIT:
        return exit(this, st);
      case o.BPF_CALL:
        return i.src === o.BPF_PSEUDO_CALL ? pseudoCall(this, st, i.imm, pc) : helperCall(this, st, i.imm, pc);
      default:
        return condJump(this, st, i, pc);
    }
  }
}

function now(): number {
  const p = (globalThis as { performance?: { now(): number } }).performance;
  return p ? p.now() : Date.now();
}

export { Reject };
