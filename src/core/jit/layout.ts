/**
 * The ABI between JIT-generated code and its JavaScript runtime: fault codes passed to the
 * `fault` import, the layout of the per-context control block in the address space, and the
 * indices every emitter needs (registers, scratch locals, imports, globals, functions).
 */
import type { Code } from './wasm/encoder.js';
import type { ErrorCode } from '../errors.js';
import type { InlineLookup } from './inline.js';

/** FAULT_CODES maps the numeric code the generated code passes to `fault` to a BpfError code (0 is unused). */
export const FAULT_CODES: readonly ErrorCode[] = ['EINVAL', 'E_MEM', 'E_UNINIT_STACK', 'E_BUDGET', 'E_NO_EXIT', 'E_CALL_DEPTH', 'E_HELPER'];
/** Fault numbers (index into FAULT_CODES). F_BUDGET is reserved: budget faults come from the interpreter tail. */
export const F_MEM = 1, F_UNINIT = 2, F_BUDGET = 3, F_NO_EXIT = 4, F_CALL_DEPTH = 5, F_KFUNC = 6;

/**
 * Control block (one per VmContext, in the address space, never inside an allowed region):
 *   +0  i32 number of extra regions
 *   +4  u32 packet start
 *   +8  i32 packet length (-1: no packet)
 *   +12 u32 address of the region table: entries of 16 bytes {start u32, end u32, perm u32, 0}
 *   +16 fast-path regions tried inline first: {start u32, span u32} for the first readable,
 *       writable and read-write region, then the last one hit (span 0: none). They are tested
 *       before the stack, so they must never overlap the stack.
 *   +48 u64 r1..r5 at entry, +88 u64 r0 at exit (passed in memory: no BigInt crosses the
 *       JS -> Wasm call, which Node 20's TurboFan can miscompile when it inlines the call)
 */
export const CB_NREGIONS = 0, CB_PKT_START = 4, CB_PKT_LEN = 8, CB_REGIONS = 12;
/** CB_FAST is the offset of the fast-path slot for a permission (PERM_R 1, PERM_W 2, PERM_RW 3). */
export const CB_FAST = (perm: number): number => 8 + perm * 8;
/** CB_ARGS / CB_R0 are the offsets of r1..r5 at entry and r0 at exit. */
export const CB_ARGS = 48, CB_R0 = 88;
/** CB_FRAME (u32): r10 of the frame calling a helper that runs callbacks (bpf_loop ...), see compile.ts `callback`. */
export const CB_FRAME = 96;
/** CB_SIZE is the size of the control block header. */
export const CB_SIZE = 104;
/** REGION_ENTRY is the size of one region table entry. */
export const REGION_ENTRY = 16;

/** ModuleIndices are the function and global indices of one generated module. */
export interface ModuleIndices {
  /** import fault(code i32, insn i32, addr i64, size i32): throws */
  fault: number;
  /** import ldabsExit(): throws the "run ended returning 0" sentinel (LD_ABS miss in a subframe) */
  ldabsExit: number;
  /** import callx(id i64, r1..r5 i64, insn i32) -> i64 */
  callx: number;
  /** import budgetTail(start i32, left i64, r0..r10 i64): runs a budget unit in the interpreter; throws */
  budgetTail: number;
  /** helper functions by helper ID: (r1..r5 i64, insn i32) -> i64 (imported or generated) */
  helpers: Map<number, number>;
  /** internal region(a i64, size i32, perm i32, insn i32): checks the extra regions or faults */
  region: number;
  /** Wasm function of each eBPF entry slot */
  funcs: Map<number, number>;
  /** imported immutable globals: stack base (i64), control block address (i32) */
  gStackBase: number;
  gCb: number;
  /** budget left (i64, mutable, exported as "budget") */
  gBudget: number;
}

/** GenOptions choose what the generated code checks. */
export interface GenOptions {
  checked: boolean;
  /** count instructions against the budget */
  budget: boolean;
  /** the memory is shared: atomics use the threads proposal's instructions */
  shared: boolean;
  /** lookup call sites to inline (inline.ts), by slot */
  inline?: Map<number, InlineLookup>;
}

/**
 * Locals of a generated eBPF function. Params: r0..r10 (local k = register k; a callee sees
 * every register as the caller left it, like the interpreter, r10 being its new frame
 * pointer); then scratch locals. Results: r0..r5 (r6..r9 are the caller's own locals).
 */
export const PARAMS = 11;

/** FnLocals are the local indices of one function. */
export interface FnLocals {
  /** local index of register k */
  reg: number[];
  /** i64 scratch */
  a: number;
  t: number;
  u: number;
  /** i32 scratch (byte swaps, division) */
  i: number;
  /** i32 scratch (atomic address) */
  p: number;
  /** budget left (i64), kept in a local and synced with the global at calls and returns */
  bud: number;
  /** copies of the imported stack base (i64) and control block address (i32) */
  sb: number;
  cb: number;
}

/** allocLocals declares the locals of an eBPF function in `c`. */
export function allocLocals(c: Code, i64: number, i32: number): FnLocals {
  const reg = [...Array(PARAMS).keys()];
  return { reg, a: c.local(i64), t: c.local(i64), u: c.local(i64), i: c.local(i32), p: c.local(i32), bud: c.local(i64), sb: c.local(i64), cb: c.local(i32) };
}
