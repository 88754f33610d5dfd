/**
 * Run state of the reference interpreter and its cold paths: region checks that miss the
 * stack fast path, faults, helper calls, 64-bit division, atomics and legacy packet loads.
 * The hot loop (interpreter-loop.ts) keeps everything it can in locals and calls in here only
 * for work that is rare or inherently slow, so these functions favour clarity over speed.
 *
 * Registers live in an Int32Array of 22 words: register k is (lo, hi) = (regs[2k], regs[2k+1]).
 */
import { BpfError, isBpfError } from '../errors.js';
import { MAX_CALL_FRAMES, STACK_FRAME_SIZE } from '../isa/opcodes.js';
import type { HelperEnv, HelperFn } from '../helpers/registry.js';
import { helperName } from '../helpers/registry.js';
import type { VmContext, RunOptions } from './engine.js';
import { DEFAULT_BUDGET } from './engine.js';
import { PERM_R, PERM_W, STACK_SIZE, type Region } from './memory.js';
import type { DecodedProgram } from './interpreter-decode.js';

/** FRAME_WORDS is the size of one saved call frame: r6..r9 (lo, hi) and the return pc. */
export const FRAME_WORDS = 9;

/** ExecState is everything one run of a program needs; the debugger keeps one across steps. */
export interface ExecState {
  readonly prog: DecodedProgram;
  readonly ctx: VmContext;
  readonly checked: boolean;
  /** r0..r10 as (lo, hi) int32 pairs */
  readonly regs: Int32Array;
  /** saved caller frames, FRAME_WORDS words each */
  readonly frames: Int32Array;
  /** next instruction to execute */
  pc: number;
  /** current frame (0 = main program) */
  depth: number;
  /** instructions executed so far */
  steps: number;
  budget: number;
  /** extra regions of this run (the stack is implicit) */
  regions: Region[];
  pktStart: number;
  /** packet length, or -1 when the run has no packet */
  pktLen: number;
  /** set once the run has ended (exit from frame 0, LD_ABS miss, or fault) */
  done: boolean;
  /** instruction being executed while a helper runs (for its env.check errors) */
  helperInsn: number;
  readonly env: HelperEnv;
  /** true while a run uses this state (a nested run must not share it) */
  busy: boolean;
  /** frame whose exit ends the run: 0, or the frame of a callback run by a helper (runCallback) */
  base: number;
  /** set when the run ended through an LD_ABS/LD_IND miss (r0 = 0), so a callback's miss ends its caller too */
  ldAbsMiss: boolean;
}

/**
 * LDABS_ABORT is thrown by runCallback when an LD_ABS/LD_IND miss ended the callback: the
 * legacy semantics end the whole run returning 0, not just the callback (docs/semantics.md),
 * so the helper that ran the callback is abandoned and the caller's loop exits in turn.
 */
export const LDABS_ABORT: unique symbol = Symbol('tsbpf.ldabs-abort');

/** createState makes a fresh state for `prog` in `ctx`. */
export function createState(prog: DecodedProgram, ctx: VmContext, checked: boolean): ExecState {
  const st: ExecState = {
    prog, ctx, checked,
    regs: new Int32Array(22),
    frames: new Int32Array(MAX_CALL_FRAMES * FRAME_WORDS),
    pc: 0, depth: 0, steps: 0, budget: DEFAULT_BUDGET,
    regions: [], pktStart: 0, pktLen: -1, done: true, helperInsn: 0, busy: false, base: 0, ldAbsMiss: false,
    env: undefined as unknown as HelperEnv,
  };
  (st as { env: HelperEnv }).env = {
    space: ctx.space,
    cpu: ctx.cpu,
    check: (addr: number, len: number, write: boolean) => helperCheck(st, addr, len, write),
    callback: (target: number, args: readonly bigint[], regions?: readonly Region[]) => runCallback(st, target, args, regions),
  };
  return st;
}

/** resetState prepares `st` for a new run with `opts` (registers, frame 0, regions, budget). */
export function resetState(st: ExecState, opts: RunOptions): void {
  const r = st.regs;
  r.fill(0);
  const args = opts.args ?? [];
  for (let i = 0; i < 5 && i < args.length; i++) setReg(r, i + 1, toU64(args[i]));
  r[20] = st.ctx.stack.top(0);
  st.pc = 0;
  st.depth = 0;
  st.base = 0;
  st.steps = 0;
  st.budget = opts.budget ?? DEFAULT_BUDGET;
  st.regions = opts.regions ? opts.regions.slice() : [];
  st.pktStart = opts.packet?.start ?? 0;
  st.pktLen = opts.packet ? opts.packet.len : -1;
  st.done = false;
  st.ldAbsMiss = false;
  if (st.checked) st.ctx.stack.resetFrame(0);
}

function toU64(v: bigint | number): bigint {
  return BigInt.asUintN(64, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
}

/** getReg reads register k as an unsigned 64-bit bigint. */
export function getReg(r: Int32Array, k: number): bigint {
  return (BigInt(r[2 * k + 1] >>> 0) << 32n) | BigInt(r[2 * k] >>> 0);
}

/** setReg writes register k from a bigint (taken modulo 2^64). */
export function setReg(r: Int32Array, k: number, v: bigint): void {
  const u = BigInt.asUintN(64, v);
  r[2 * k] = Number(u & 0xffffffffn) | 0;
  r[2 * k + 1] = Number(u >> 32n) | 0;
}

// ---- memory checks -------------------------------------------------------------------

/** fullAddress is the exact 64-bit value of reg + off, as a (possibly lossy) number for errors. */
function fullAddress(lo: number, hi: number, off: number): number {
  return Number(BigInt.asUintN(64, (BigInt(hi) << 32n) + BigInt(lo >>> 0) + BigInt(off)));
}

/**
 * effectiveAddress returns reg + off when that 64-bit sum is below 2^32, else -1.
 * A pointer with non-zero high bits is in no region (the wrap cases are handled exactly).
 */
function effectiveAddress(lo: number, hi: number, off: number): number {
  const a = (lo >>> 0) + off;
  if (hi === 0) return a >= 0 && a < 0x100000000 ? a : -1;
  if (hi === -1 && a >= 0x100000000) return a - 0x100000000;
  return -1;
}

/**
 * slowAddress is the checked-mode path for an access that missed the stack fast path: it
 * returns the address if [addr, addr+size) lies in one allowed region with `perm`, and throws
 * E_MEM (or E_UNINIT_STACK) otherwise. Stack hits are handled too (they only get here through
 * 64-bit wrap-around) so the result never depends on which path was taken.
 */
export function slowAddress(st: ExecState, lo: number, hi: number, off: number, size: number, perm: number, insn: number): number {
  const a = effectiveAddress(lo, hi, off);
  if (a >= 0 && accessAllowed(st, a, size, perm, insn)) return a;
  throw memFault(insn, fullAddress(lo, hi, off), size, perm);
}

/** accessAllowed tells whether [a, a+size) is in one region; stack accesses also check/mark the shadow. */
function accessAllowed(st: ExecState, a: number, size: number, perm: number, insn: number): boolean {
  const stack = st.ctx.stack;
  if (a >= stack.base && a + size <= stack.base + STACK_SIZE) {
    if (perm & PERM_R) requireInit(st, a, size, insn);
    else markInit(st, a, size);
    return true;
  }
  const regs = st.regions;
  for (let i = 0; i < regs.length; i++) {
    const r = regs[i];
    if (a >= r.start && a + size <= r.end) {
      if ((r.perm & perm) === perm) return true;
    }
  }
  return false;
}

/**
 * requireInit throws E_UNINIT_STACK when any stack byte of [a, a+size) was never written; the
 * error's address is that first uninitialised byte (the JIT reports the same).
 */
export function requireInit(st: ExecState, a: number, size: number, insn: number): void {
  const stack = st.ctx.stack;
  const u8 = st.ctx.space.u8;
  const s = a - stack.base + stack.shadow;
  for (let i = 0; i < size; i++) {
    if (u8[s + i] !== 1) throw uninitFault(insn, a + i);
  }
}

/** markInit marks the stack bytes [a, a+size) as written. */
export function markInit(st: ExecState, a: number, size: number): void {
  const stack = st.ctx.stack;
  const s = a - stack.base + stack.shadow;
  st.ctx.space.u8.fill(1, s, s + size);
}

/** memFault is the E_MEM error for an access of `size` bytes at `address`. */
export function memFault(insn: number, address: number, size: number, perm: number): BpfError {
  const kind = perm === PERM_W ? 'write' : perm === PERM_R ? 'read' : 'read-modify-write';
  return new BpfError('E_MEM', `invalid memory access: ${kind} of ${size} bytes`, { insn, address });
}

/** uninitFault is the E_UNINIT_STACK error for the first uninitialised byte at `address`. */
export function uninitFault(insn: number, address: number): BpfError {
  return new BpfError('E_UNINIT_STACK', 'read of uninitialised stack', { insn, address });
}

/** helperCheck implements HelperEnv.check: region, permission and stack-initialisation rules. */
function helperCheck(st: ExecState, addr: number, len: number, write: boolean): void {
  if (!st.checked || len <= 0) return;
  const perm = write ? PERM_W : PERM_R;
  if (Number.isInteger(addr) && addr >= 0 && addr < 0x100000000 && accessAllowed(st, addr, len, perm, st.helperInsn)) return;
  throw memFault(st.helperInsn, addr, len, perm);
}

// ---- faults from the loop ------------------------------------------------------------

/** budgetOrPause decides what reaching the step limit means: E_NO_EXIT, E_BUDGET, or a pause. */
export function budgetExceeded(st: ExecState, pc: number, steps: number): BpfError | null {
  if ((st.prog.code[pc << 2] & 0xfff) === 0) return noExit(st);
  if (steps > st.budget) {
    return new BpfError('E_BUDGET', `instruction budget of ${st.budget} exhausted`, { insn: pc });
  }
  return null;
}

/** noExit is the E_NO_EXIT error: execution ran past the last instruction. */
export function noExit(st: ExecState): BpfError {
  return new BpfError('E_NO_EXIT', 'execution ran past the last instruction', { insn: st.prog.lastInsn });
}

/** asFault turns anything thrown inside the loop into a BpfError at instruction `insn`. */
export function asFault(e: unknown, insn: number): unknown {
  if (isBpfError(e)) return e;
  // Trusted mode relies on the memory's own bounds: DataView throws RangeError past the end.
  if (e instanceof RangeError) {
    return new BpfError('E_MEM', 'memory access out of bounds', { insn }, { cause: e });
  }
  return e;
}

/** callDepthFault is the E_CALL_DEPTH error for a call that would need a 9th frame. */
export function callDepthFault(insn: number): BpfError {
  return new BpfError('E_CALL_DEPTH', `call depth exceeds ${MAX_CALL_FRAMES} frames`, { insn });
}

/** enterFrame sets r10 for frame k and marks its stack uninitialised (checked mode). */
export function enterFrame(st: ExecState, k: number): void {
  st.regs[20] = st.ctx.stack.top(k);
  st.regs[21] = 0;
  if (st.checked) st.ctx.stack.resetFrame(k);
}

/** frameTop is r10 of frame k (the stack grows down from it). */
export function frameTop(st: ExecState, k: number): number {
  return st.ctx.stack.base + STACK_SIZE - k * STACK_FRAME_SIZE;
}

// ---- helper calls --------------------------------------------------------------------

/** callbackRunner is the loop (interpreter-loop.ts registers it; this module cannot import it). */
let callbackRunner: ((st: ExecState, limit: number) => number) | null = null;

/** setCallbackRunner registers the loop that runCallback uses. */
export function setCallbackRunner(run: (st: ExecState, limit: number) => number): void {
  callbackRunner = run;
}

/**
 * runCallback implements HelperEnv.callback: a fresh state over the same program runs slot
 * `target` in the frame below the helper's caller (frame numbers stay absolute, so the call
 * depth limit and stack addresses are those of a bpf-to-bpf call) until that frame exits; its
 * steps count against the caller's budget (the loop syncs st.steps around helper calls).
 */
export function runCallback(st: ExecState, target: number, args: readonly bigint[], regions?: readonly Region[]): bigint {
  const depth = (st.ctx.stack.top(0) - st.regs[20]) / STACK_FRAME_SIZE;
  if (depth + 1 >= MAX_CALL_FRAMES) throw callDepthFault(st.helperInsn);
  const code = st.prog.code;
  if (!Number.isInteger(target) || target < 0 || (target << 2) >= code.length || (code[target << 2] & 0xfff) === 0) {
    throw new BpfError('E_HELPER', `callback target ${target} is not an instruction`, { insn: st.helperInsn });
  }
  const sub = createState(st.prog, st.ctx, st.checked);
  for (let k = 0; k < 5; k++) setReg(sub.regs, k + 1, args[k] ?? 0n);
  sub.depth = sub.base = depth + 1;
  enterFrame(sub, depth + 1);
  sub.pc = target;
  sub.steps = st.steps;
  sub.budget = st.budget;
  sub.regions = regions ? [...st.regions, ...regions] : st.regions;
  sub.pktStart = st.pktStart;
  sub.pktLen = st.pktLen;
  sub.done = false;
  try {
    callbackRunner!(sub, st.budget);
  } finally {
    st.steps = sub.steps;
  }
  if (sub.ldAbsMiss) throw LDABS_ABORT;
  return getReg(sub.regs, 0);
}

/** callHelper runs helper `id` (fn pre-resolved at load when known) with r1..r5; r0 = result. */
export function callHelper(st: ExecState, fn: HelperFn | undefined, id: number, insn: number): void {
  const f = fn ?? st.ctx.helpers.get(id)?.fn;
  if (!f) throw new BpfError('E_HELPER', `unknown helper ${id}`, { insn });
  const r = st.regs;
  st.helperInsn = insn;
  let res: unknown;
  try {
    res = f(getReg(r, 1), getReg(r, 2), getReg(r, 3), getReg(r, 4), getReg(r, 5), st.env);
  } catch (e) {
    if (e === LDABS_ABORT) throw e;
    if (isBpfError(e)) throw e.withContext({ insn });
    const msg = e instanceof Error ? e.message : String(e);
    throw new BpfError('E_HELPER', `helper ${helperName(id)} failed: ${msg}`, { insn }, { cause: e });
  }
  if (typeof res === 'bigint') setReg(r, 0, res);
  else if (typeof res === 'number' && Number.isFinite(res)) setReg(r, 0, BigInt(Math.trunc(res)));
  else throw new BpfError('E_HELPER', `helper ${helperName(id)} returned ${typeof res}, not a bigint`, { insn });
}

/**
 * callxTarget reads the helper ID a callx register holds. IDs are small non-negative
 * integers; any other value is a bad call target (E_ABI).
 */
export function callxTarget(lo: number, hi: number, insn: number): number {
  if (hi !== 0 || lo < 0) {
    throw new BpfError('E_ABI', `callx target 0x${getPair(lo, hi).toString(16)} is not a helper id`, { insn });
  }
  return lo;
}

function getPair(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

// ---- 64-bit division -----------------------------------------------------------------

/**
 * div64 computes dst = dst / b or dst % b (64-bit, unsigned or signed) with the eBPF rules:
 * x / 0 = 0, x % 0 = x, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0, remainder has the sign
 * of the dividend. Numbers are used while both operands fit; BigInt otherwise.
 */
export function div64(r: Int32Array, d: number, blo: number, bhi: number, signed: boolean, mod: boolean): void {
  const alo = r[d], ahi = r[d + 1];
  if (blo === 0 && bhi === 0) {
    if (!mod) r[d] = r[d + 1] = 0;
    return;
  }
  if (!signed && ahi === 0 && bhi === 0) {
    const a = alo >>> 0, b = blo >>> 0;
    r[d] = (mod ? a % b : Math.floor(a / b)) | 0;
    return;
  }
  if (signed && ahi === alo >> 31 && bhi === blo >> 31) {
    // both fit in int32: exact in doubles, and INT32_MIN / -1 = 2^31 is representable
    const q = mod ? alo % blo : Math.trunc(alo / blo);
    r[d] = q | 0;
    r[d + 1] = q < 0 ? -1 : 0;
    return;
  }
  const a = getPair(alo, ahi), b = getPair(blo, bhi);
  let res: bigint;
  if (signed) {
    const sa = BigInt.asIntN(64, a), sb = BigInt.asIntN(64, b);
    res = mod ? sa % sb : sa / sb; // BigInt truncates like C; INT_MIN / -1 wraps below
  } else {
    res = mod ? a % b : a / b;
  }
  const u = BigInt.asUintN(64, res);
  r[d] = Number(u & 0xffffffffn) | 0;
  r[d + 1] = Number(u >> 32n) | 0;
}

/** div32 computes the 32-bit forms (result zero-extended) with the same rules as div64. */
export function div32(r: Int32Array, d: number, b: number, signed: boolean, mod: boolean): void {
  const a = r[d];
  r[d + 1] = 0;
  if (b === 0) {
    if (!mod) r[d] = 0;
    return;
  }
  if (signed) {
    if (b === -1) r[d] = mod ? 0 : -a | 0; // -INT_MIN wraps to INT_MIN
    else r[d] = (mod ? a % b : Math.trunc(a / b)) | 0;
  } else {
    const ua = a >>> 0, ub = b >>> 0;
    r[d] = (mod ? ua % ub : Math.floor(ua / ub)) | 0;
  }
}

/**
 * mul64 computes dst *= b modulo 2^64: Math.imul gives the low word; the high word of the
 * 32x32 product is assembled from 16-bit partial products (all below 2^33, exact), plus the
 * two cross terms whose low 32 bits are all that matters.
 */
export function mul64(r: Int32Array, d: number, blo: number, bhi: number): void {
  const alo = r[d], ahi = r[d + 1];
  const a0 = alo & 0xffff, a1 = alo >>> 16, b0 = blo & 0xffff, b1 = blo >>> 16;
  const m1 = a1 * b0, m2 = a0 * b1;
  const t = ((a0 * b0) >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  const high = a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (t >>> 16);
  r[d] = Math.imul(alo, blo);
  r[d + 1] = (high + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

// ---- legacy packet loads -------------------------------------------------------------

/**
 * ldPacket reads `size` bytes big-endian from the run's packet at `off`, or returns -1 when
 * the load does not fit (the run then ends returning 0).
 */
export function ldPacket(st: ExecState, off: number, size: number): number {
  if (st.pktLen < 0 || off < 0 || off + size > st.pktLen) return -1;
  const dv = st.ctx.space.dv;
  const a = st.pktStart + off;
  return size === 4 ? dv.getUint32(a, false) : size === 2 ? dv.getUint16(a, false) : dv.getUint8(a);
}
