/**
 * JitProgram: a compiled program instantiated for one VmContext. `run` writes the control
 * block (regions, packet, r1..r5), calls the Wasm `entry` with the budget, and maps every way
 * a run can end (return, LD_ABS miss, fault import, Wasm trap) to the interpreter's results
 * and errors. `repeat` runs it N times in one call (the `repeat` export, repeat.ts).
 */
import { BpfError, isBpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { HelperEnv } from '../helpers/registry.js';
import { DEFAULT_BUDGET, type LoadedProgram, type RunOptions, type RunResult, type VmContext } from '../vm/engine.js';
import type { Region } from '../vm/memory.js';
import type { CacheEntry } from './index.js';
import { CB_ARGS, CB_FRAME, CB_R0 } from './layout.js';
import { callbackTargets } from './compile.js';
import { STACK_FRAME_SIZE } from '../isa/opcodes.js';
import { type DecodedProgram, predecode } from '../vm/interpreter-decode.js';
import { createState, getReg, setReg } from '../vm/interpreter-state.js';
import { EXITED, execute } from '../vm/interpreter-loop.js';
import { type ContextRuntime, type RunFrame, LDABS_EXIT, callHelperJs, callxId, contextRuntime, faultError, helperEnv } from './runtime.js';

type EntryFn = (budget: number) => void;

/** BUDGET_CAP bounds the i64 budget counter (budgets beyond it never run out in practice). */
const BUDGET_CAP = 2 ** 62;

/** JitProgram is a program loaded by the JIT engine. */
export class JitProgram implements LoadedProgram {
  readonly insns: Program;
  /** instance is the Wasm instance (exports: entry(budget f64), left() -> f64, setLeft(f64), repeat(n i32, budget f64)) */
  readonly instance: WebAssembly.Instance;
  private readonly entry: EntryFn;
  private readonly left: () => number;
  private readonly setLeft: (v: number) => void;
  /** runs of this program in progress (a helper may run it again) */
  private active = 0;
  private readonly frame: RunFrame;
  /** budget of the run in progress (for the tail's E_BUDGET message) */
  private runBudget = 0;
  /** the interpreter's form of the program, for budget tails */
  private decoded: DecodedProgram | undefined;
  private readonly rt: ContextRuntime;
  private readonly env: HelperEnv;

  /** trapMap: (module offset, slot) pairs of the memory instructions, to name a trap's slot */
  readonly trapMap: number[];

  constructor(insns: Program, private readonly halves: Set<number>, compiled: CacheEntry,
    readonly ctx: VmContext, readonly checked: boolean, readonly counting: boolean) {
    const { module, helperIds } = compiled;
    this.trapMap = compiled.trapMap;
    this.insns = insns;
    this.rt = contextRuntime(ctx);
    this.frame = { ctx, regions: NO_REGIONS, pktStart: 0, pktLen: -1, helperInsn: 0 };
    this.env = { ...helperEnv(this.rt, ctx, checked), callback: (t, a, r) => this.callback(t, a, r) };
    // pre-decoded at load like the interpreter does, so tails see the helpers of load time
    if (counting) this.decoded = predecode(insns, halves, ctx.helpers);
    this.instance = new WebAssembly.Instance(module, { env: this.imports(helperIds) as WebAssembly.ModuleImports });
    const ex = this.instance.exports;
    this.entry = ex.entry as unknown as EntryFn;
    this.left = ex.left as unknown as () => number;
    this.setLeft = ex.setLeft as unknown as (v: number) => void;
  }

  private imports(helperIds: number[]): Record<string, unknown> {
    const { rt, env, ctx } = this;
    const imp: Record<string, unknown> = {
      memory: ctx.space.memory,
      stackBase: new WebAssembly.Global({ value: 'i64', mutable: false }, BigInt(ctx.stack.base)),
      cb: new WebAssembly.Global({ value: 'i32', mutable: false }, rt.cb),
      fault: (code: number, insn: number, addr: bigint, size: number) => {
        throw faultError(rt, this.insns, code, insn, addr, size);
      },
      ldabsExit: () => {
        throw LDABS_EXIT;
      },
      callx: (id: bigint, a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, insn: number) =>
        callHelperJs(rt, env, callxId(id, insn), undefined, [a, b, c, d, e], insn),
      budgetTail: (start: number, left: bigint, ...regs: bigint[]) => this.budgetTail(start, left, regs),
    };
    for (const id of helperIds) {
      const impl = ctx.helpers.get(id);
      // a helper with an in-Wasm implementation is imported directly: calls never leave Wasm
      const native = impl?.wasm?.(ctx, this.checked);
      const pre = impl?.fn;
      imp[`h${id}`] = native ?? ((a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, insn: number) =>
        callHelperJs(rt, env, id, pre, [a, b, c, d, e], insn));
    }
    return imp;
  }

  /**
   * budgetTail runs the budget unit at slot `start`, which the budget left does not cover, in
   * the reference interpreter with that budget and the registers as they are. The unit is
   * straight-line code whose last instruction cannot be reached, so this always ends in a
   * fault (E_BUDGET or an earlier one) or an LD_ABS miss, exactly where the interpreter would.
   */
  private budgetTail(start: number, left: bigint, regs: bigint[]): never {
    this.decoded ??= predecode(this.insns, this.halves, this.ctx.helpers);
    const st = createState(this.decoded, this.ctx, this.checked);
    regs.forEach((v, k) => setReg(st.regs, k, v));
    const f = this.rt.active[this.rt.active.length - 1];
    st.pc = start;
    st.depth = (this.ctx.stack.top(0) - Number(regs[10])) / STACK_FRAME_SIZE;
    st.steps = 0;
    st.budget = Number(left);
    st.regions = f.regions.slice();
    st.pktStart = f.pktStart;
    st.pktLen = f.pktLen;
    st.done = false;
    let res: number;
    try {
      res = execute(st, st.budget);
    } catch (e) {
      // the tail's budget is what was left; the error names the run's budget, as the interpreter's
      if (isBpfError(e) && e.code === 'E_BUDGET' && this.runBudget > 0) {
        throw new BpfError('E_BUDGET', `instruction budget of ${this.runBudget} exhausted`, e.context);
      }
      throw e;
    }
    this.setLeft(st.budget - st.steps); // keeps run's steps exact after an LD_ABS miss
    if (res === EXITED && getReg(st.regs, 0) === 0n) throw LDABS_EXIT;
    throw new BpfError('EINVAL', 'internal: a budget tail ended without a fault', { insn: st.pc });
  }

  /**
   * callback implements HelperEnv.callback through the module's `callback` export: the
   * frame below the one that called the helper (CB_FRAME), r1..r5 through CB_ARGS, r0 back
   * through CB_R0; same faults as the interpreter's runCallback.
   */
  private callback(target: number, args: readonly bigint[], regions?: readonly Region[]): bigint {
    const insn = this.rt.active[this.rt.active.length - 1]?.helperInsn ?? 0;
    this.callbacks ??= new Set(callbackTargets(this.insns, this.halves));
    if (!this.callbacks.has(target)) throw new BpfError('E_HELPER', `callback target ${target} is not an instruction`, { insn });
    const dv = this.ctx.space.dv, cb = this.rt.cb;
    const fp = dv.getUint32(cb + CB_FRAME, true);
    if (fp - STACK_FRAME_SIZE <= this.ctx.stack.base) throw new BpfError('E_CALL_DEPTH', 'call depth exceeds 8 frames', { insn });
    for (let k = 0; k < 5; k++) dv.setBigUint64(cb + CB_ARGS + 8 * k, BigInt.asUintN(64, args[k] ?? 0n), true);
    const cur = this.rt.active[this.rt.active.length - 1];
    // the callback sees the run's regions plus the helper's (the control block holds them meanwhile)
    if (regions && cur) this.rt.enter({ ...cur, regions: [...cur.regions, ...regions] });
    try {
      (this.instance.exports.callback as (t: number, fp: number) => void)(target, fp);
    } catch (e) {
      throw translate(e, this.trapMap);
    } finally {
      if (regions && cur) this.rt.leave();
    }
    return this.ctx.space.dv.getBigUint64(cb + CB_R0, true);
  }

  private callbacks: Set<number> | undefined;

  /** run executes the program once; faults throw BpfError. */
  run(opts: RunOptions = {}): RunResult {
    return this.invoke(opts, 0);
  }

  /**
   * repeat runs the program `n` times (at least once) inside WebAssembly with the same
   * options, like BPF_PROG_TEST_RUN's repeat: one JS -> Wasm call for all iterations, each
   * starting from the same registers (memory is not restored). Returns the last run's result.
   */
  repeat(n: number, opts: RunOptions = {}): RunResult {
    return this.invoke(opts, Math.max(1, Math.min(0x7fffffff, Math.floor(n) || 1)));
  }

  /** repeatIn calls the `repeat` export, resuming after LD_ABS misses in subframes; returns r0. */
  private repeatIn(n: number, budget: number): bigint {
    const ex = this.instance.exports;
    const rep = ex.repeat as unknown as (n: number, budget: number) => void;
    let left = n, r0 = 0n;
    while (left > 0) {
      try {
        rep(left, budget);
        r0 = this.ctx.space.dv.getBigUint64(this.rt.cb + CB_R0, true);
        left = 0;
      } catch (e) {
        if (e !== LDABS_EXIT) throw translate(e, this.trapMap);
        r0 = 0n;
        left = (ex.repeatLeft as WebAssembly.Global).value - 1;
      }
    }
    return r0;
  }

  /** invoke runs once through `entry` (n = 0) or n times through `repeat`. */
  private invoke(opts: RunOptions, n: number): RunResult {
    const args = opts.args;
    const budget = this.counting ? budgetOf(opts.budget) : 0;
    // only a nested run of this same program disturbs the budget counter of an outer one
    const outerLeft = this.active > 0 ? this.left() : 0;
    const outerBudget = this.runBudget;
    this.runBudget = budget;
    this.active++;
    // the outermost run reuses one frame object; nested runs get their own
    const f: RunFrame = this.active === 1 ? this.frame : { ctx: this.ctx, regions: NO_REGIONS, pktStart: 0, pktLen: -1, helperInsn: 0 };
    f.regions = opts.regions ?? NO_REGIONS;
    f.pktStart = opts.packet?.start ?? 0;
    f.pktLen = opts.packet ? opts.packet.len : -1;
    f.helperInsn = 0;
    this.rt.enter(f);
    try {
      const dv = this.ctx.space.dv;
      const at = this.rt.cb + CB_ARGS;
      for (let k = 0; k < 5; k++) dv.setBigUint64(at + 8 * k, args === undefined ? 0n : arg(args, k), true);
      let r0: bigint;
      if (n > 0) return { r0: this.repeatIn(n, budget), steps: this.counting ? budget - this.left() : 0 };
      try {
        this.entry(budget);
        r0 = this.ctx.space.dv.getBigUint64(this.rt.cb + CB_R0, true);
      } catch (e) {
        if (e !== LDABS_EXIT) throw translate(e, this.trapMap);
        r0 = 0n;
      }
      return { r0, steps: this.counting ? budget - this.left() : 0 };
    } finally {
      this.rt.leave();
      this.runBudget = outerBudget;
      if (--this.active > 0) this.setLeft(outerLeft);
    }
  }
}

const NO_REGIONS: readonly Region[] = [];

/**
 * jitError maps what a call into a JIT program's Wasm threw to what `run` would throw: a
 * BpfError as is; a Wasm trap as E_MEM with the trapping slot when it can be found (for
 * code that calls the exported Wasm directly, like the switch's dataplane loop).
 */
export function jitError(prog: JitProgram, e: unknown): unknown {
  return translate(e, prog.trapMap);
}

/** arg converts r(k+1) (setBigUint64 takes any BigInt modulo 2^64). */
function arg(args: readonly bigint[], k: number): bigint {
  const v = args[k];
  return typeof v === 'bigint' ? v : v === undefined ? 0n : toBig(v);
}

function toBig(v: bigint | number): bigint {
  return typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
}

/** budgetOf turns RunOptions.budget into a count the i64 counter can hold (as the interpreter reads it). */
function budgetOf(b: number | undefined): number {
  const v = b ?? DEFAULT_BUDGET;
  if (Number.isNaN(v) || v >= BUDGET_CAP) return BUDGET_CAP;
  return v < 0 ? 0 : Math.floor(v);
}

/** translate maps what escaped the Wasm code to a BpfError (traps are out-of-bounds accesses). */
function translate(e: unknown, trapMap: number[]): unknown {
  if (isBpfError(e)) return e;
  if (e instanceof WebAssembly.RuntimeError) {
    const insn = trapInsn(e, trapMap);
    return new BpfError('E_MEM', 'memory access out of bounds', insn === undefined ? {} : { insn }, { cause: e });
  }
  if (e instanceof RangeError) {
    return new BpfError('E_MEM', `out of resources: ${e.message}`, {}, { cause: e });
  }
  return e;
}

/**
 * trapInsn finds the eBPF slot of a trapping memory instruction: V8 names the trap's module
 * offset in the stack trace ("wasm-function[3]:0x1a2"), and codegen recorded the offset of
 * every memory access. Undefined when the trace is unavailable.
 */
function trapInsn(e: Error, trapMap: number[]): number | undefined {
  const m = /wasm-function\[\d+\]:0x([0-9a-f]+)/.exec(String(e.stack));
  if (!m) return undefined;
  const off = parseInt(m[1], 16);
  for (let k = 0; k < trapMap.length; k += 2) if (trapMap[k] === off) return trapMap[k + 1];
  return undefined;
}
