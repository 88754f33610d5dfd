/**
 * The verifier state of one path: a stack of call frames (registers, and the frame's 512
 * stack bytes with their kind — never written, written data, known zero, spilled register —
 * and the spilled registers), the acquired references and the held spin lock.
 * `statesEqual` is the kernel's states_equal: does an explored state cover the current one.
 */
import { STACK_FRAME_SIZE } from '../isa/opcodes.js';
import { NOT_INIT_REG, RegType, type Reg } from './reg.js';
import { same, within } from './scalar.js';
import { relSlot, type Rel } from './precision.js';

const ALL_REL: Rel = { regs: 0x3ff, lo: -1, hi: -1 };

/** Kinds of stack bytes (the kernel's STACK_INVALID / STACK_MISC / STACK_ZERO / STACK_SPILL). */
export const STACK_INVALID = 0, STACK_MISC = 1, STACK_ZERO = 2, STACK_SPILL = 3;
/** SLOTS is the number of 8-byte stack slots of a frame. */
export const SLOTS = STACK_FRAME_SIZE / 8;

/** CallbackFrame says how to re-enter and leave a callback frame (bpf_loop, for_each_map_elem). */
export interface CallbackFrame {
  /** the helper call instruction */
  helperPc: number;
  /** first instruction of the callback */
  entry: number;
  /** the callback's r1..r5 at entry (index 0 = r1) */
  args: Reg[];
}

/** Frame is one call frame. */
export interface Frame {
  regs: Reg[];
  /** kind of each stack byte; index = 512 + offset from r10 */
  stype: Uint8Array;
  /** spilled register of each 8-byte slot (slot = index >> 3) */
  spills: (Reg | null)[];
  /** bytes spilled in each slot, from the slot's start */
  spillSize: Uint8Array;
  /** call instruction in the caller (-1 for the main frame) */
  callsite: number;
  subprog: number;
  callback: CallbackFrame | null;
  /** the stack arrays are shared with a copy: `ownStack` before writing them */
  shared: boolean;
}

/** RefState is an acquired reference (a ring-buffer record) and where it was acquired. */
export interface RefState { id: number; insn: number }

/** LockState is the held bpf_spin_lock: the map value it lives in. */
export interface LockState { mapFd: number; off: number; id: number }

/** Checkpoint is a saved state at a prune point, and how many paths below it are still open. */
export interface Checkpoint {
  state: VState;
  branches: number;
  parent: Checkpoint | null;
  /** times the state did / did not cover a state compared with it (eviction heuristic) */
  hit: number;
  miss: number;
  /** times it differed from a state reaching it while still being explored (loop detection) */
  loopMiss: number;
}

/** Trail is the path of instructions that led to a state (for the level-1 log). */
export interface Trail { pc: number; prev: Trail | null }

/** VState is the whole verifier state of one path. */
export interface VState {
  frames: Frame[];
  refs: RefState[];
  lock: LockState | null;
  pc: number;
  parent: Checkpoint | null;
  trail: Trail | null;
  /** insn the path branched from (for "from X to Y" log lines) */
  from: number;
}

/** newFrame makes a frame with no register initialised and an untouched stack. */
export function newFrame(callsite: number, subprog: number, callback: CallbackFrame | null = null): Frame {
  return {
    regs: Array.from({ length: 11 }, () => NOT_INIT_REG), stype: new Uint8Array(STACK_FRAME_SIZE),
    spills: new Array<Reg | null>(SLOTS).fill(null), spillSize: new Uint8Array(SLOTS), callsite, subprog, callback,
    shared: false,
  };
}

/** copyFrame copies a frame; the stack arrays are shared (copy on write) until either side writes them. */
function copyFrame(f: Frame): Frame {
  f.shared = true;
  return {
    regs: f.regs.slice(), stype: f.stype, spills: f.spills, spillSize: f.spillSize,
    callsite: f.callsite, subprog: f.subprog, callback: f.callback, shared: true,
  };
}

/** ownStack makes the frame's stack arrays its own, so that they may be written. */
export function ownStack(f: Frame): void {
  if (!f.shared) return;
  f.stype = f.stype.slice();
  f.spills = f.spills.slice();
  f.spillSize = f.spillSize.slice();
  f.shared = false;
}

/** copyState deep-copies a state (registers themselves are immutable and shared). */
export function copyState(s: VState): VState {
  return { ...s, frames: s.frames.map(copyFrame), refs: s.refs.slice() };
}

/** cur is the innermost frame. */
export const cur = (s: VState): Frame => s.frames[s.frames.length - 1];

/** IdMap pairs ids of an old state with ids of the current one (both ways), like the kernel's check_ids. */
class IdMap {
  private o2c: Map<number, number> | null = null;
  private c2o: Map<number, number> | null = null;
  private fresh = 0;
  check(oldId: number, curId: number): boolean {
    if (oldId === 0) return true;
    // ids are positive; an id-less current register gets a unique negative stand-in
    const ck = curId === 0 ? --this.fresh : curId;
    if (!this.o2c || !this.c2o) {
      this.o2c = new Map();
      this.c2o = new Map();
    }
    const m = this.o2c.get(oldId);
    if (m !== undefined) return m === ck;
    if (this.c2o.has(ck)) return false;
    this.o2c.set(oldId, ck);
    this.c2o.set(ck, oldId);
    return true;
  }
}

function regsafe(o: Reg, c: Reg, ids: IdMap, exact: boolean, precise = true): boolean {
  if (o === c && o.id === 0 && o.ref === 0) return true;
  if (!exact && o.type === RegType.NOT_INIT) return true;
  if (o.type !== c.type || o.nullable !== c.nullable || o.ringbuf !== c.ringbuf) return false;
  if (o.type === RegType.NOT_INIT) return true;
  // a scalar whose value cannot matter any more only needs to be a scalar with the same links
  if (!exact && !precise && o.type === RegType.SCALAR) return ids.check(o.id, c.id);
  const sOk = exact ? same(o.s, c.s) : within(o.s, c.s);
  if (!sOk || !ids.check(o.id, c.id)) return false;
  if (o.type === RegType.SCALAR) return true;
  if (o.off !== c.off || o.size !== c.size || o.frame !== c.frame || (o.map?.fd ?? -1) !== (c.map?.fd ?? -1)) return false;
  if (exact ? o.range !== c.range : o.range > c.range) return false;
  return o.ref === 0 ? c.ref === 0 : ids.check(o.ref, c.ref);
}

function stacksafe(o: Frame, c: Frame, ids: IdMap, exact: boolean, rel: Rel): boolean {
  if (o.stype === c.stype && o.spills === c.spills && !exact) return spillIdsOk(o, ids, rel);
  for (let i = 0; i < o.stype.length; i++) {
    const a = o.stype[i], b = c.stype[i];
    if (exact) {
      if (a !== b) return false;
    } else if (a === STACK_INVALID) continue;
    else if (a === STACK_MISC) {
      if (b === STACK_MISC || b === STACK_ZERO) continue;
      const sp = c.spills[i >> 3];
      if (b === STACK_SPILL && sp && sp.type === RegType.SCALAR) continue;
      return false;
    } else if (a !== b) return false;
    if (a === STACK_SPILL && (i & 7) === 0) {
      const so = o.spills[i >> 3], sc = c.spills[i >> 3];
      const precise = relSlot(rel, i >> 3);
      if (!so || !sc || o.spillSize[i >> 3] !== c.spillSize[i >> 3] || !regsafe(so, sc, ids, exact, precise)) return false;
    }
  }
  return true;
}

/** spillIdsOk compares a stack with itself: only the ids of its spilled registers must map consistently. */
function spillIdsOk(f: Frame, ids: IdMap, rel: Rel): boolean {
  for (let k = 0; k < SLOTS; k++) {
    const sp = f.spills[k];
    if (!sp || f.stype[k * 8] !== STACK_SPILL || (sp.id === 0 && sp.ref === 0)) continue;
    if (!regsafe(sp, sp, ids, false, relSlot(rel, k))) return false;
  }
  return true;
}

/** LiveFn gives the registers live at an instruction (bit mask). */
export type LiveFn = (pc: number) => number;

/**
 * statesEqual tells whether the fully explored state `o` covers `c` (every register and
 * stack byte that matters in `o` is at least as general as in `c`), or with `exact`
 * whether they are identical (infinite-loop detection). `rel` says which scalars of the
 * innermost frame matter (precision.ts); without it all do.
 */
export function statesEqual(o: VState, c: VState, live: LiveFn, exact: boolean, rel?: Rel): boolean {
  if (o.frames.length !== c.frames.length || o.refs.length !== c.refs.length) return false;
  if ((o.lock === null) !== (c.lock === null)) return false;
  if (o.lock && c.lock && (o.lock.mapFd !== c.lock.mapFd || o.lock.off !== c.lock.off)) return false;
  const ids = new IdMap();
  if (o.lock && c.lock && (o.lock.id === 0 ? c.lock.id !== 0 : !ids.check(o.lock.id, c.lock.id))) return false;
  for (let k = 0; k < o.frames.length; k++) {
    const fo = o.frames[k], fc = c.frames[k];
    if (fo.callsite !== fc.callsite) return false;
    const top = k === o.frames.length - 1;
    const mask = top ? live(c.pc) : live(o.frames[k + 1].callsite + 1) & 0b1111000000;
    const r = top && rel ? rel : ALL_REL;
    for (let q = 0; q < 10; q++) {
      if (mask & (1 << q) && !regsafe(fo.regs[q], fc.regs[q], ids, exact, (r.regs & (1 << q)) !== 0)) return false;
    }
    if (!stacksafe(fo, fc, ids, exact, r)) return false;
  }
  for (let i = 0; i < o.refs.length; i++) if (!ids.check(o.refs[i].id, c.refs[i].id)) return false;
  return true;
}

/**
 * stateKey is a fingerprint of the registers that matter at the state's pc, for exact
 * comparisons: identical states have equal keys (different ones rarely do; statesEqual
 * decides). Cheap rather than thorough: one BigInt conversion per register.
 */
export function stateKey(s: VState, live: LiveFn): number {
  let h = mix(mix(mix(0x2545f491, s.frames.length), s.refs.length), s.lock ? 1 : 0);
  for (let k = 0; k < s.frames.length; k++) {
    const f = s.frames[k];
    const mask = k === s.frames.length - 1 ? live(s.pc) : live(s.frames[k + 1].callsite + 1) & 0b1111000000;
    h = mix(h, f.callsite);
    for (let r = 0; r < 10; r++) {
      if (!(mask & (1 << r))) continue;
      const g = f.regs[r];
      h = mix(mix(mix(h, r), g.type), g.off);
      // both ends of the range: a loop that only narrows umax (r1 -= 1 until 0) otherwise puts
      // thousands of states under one key and compares each visit with all of them (seed 60789)
      if (g.type !== RegType.NOT_INIT) h = mixBig(mix(h, Number(g.s.umin)), g.s.umax);
    }
    for (let q = 0; q < f.spills.length; q++) {
      const sp = f.spills[q];
      if (sp) h = mixBig(mix(mix(mix(mix(h, q), sp.type), sp.off), Number(sp.s.umin)), sp.s.umax);
    }
  }
  return h;
}

/** mixBig folds both 32-bit halves of a 64-bit value (a double would round values near 2^64 together). */
const mixBig = (h: number, x: bigint): number => mix(mix(h, Number(x & 0xffffffffn)), Number(x >> 32n));

/** mix folds a number into a 32-bit hash (equal inputs give equal hashes). */
function mix(h: number, x: number): number {
  h = Math.imul(h ^ (x | 0) ^ ((x / 4294967296) | 0), 0x9e3779b1);
  return h ^ (h >>> 15);
}
