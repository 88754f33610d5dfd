/**
 * A step debugger over the reference interpreter. It drives the very same resumable loop the
 * engine runs (interpreter-loop.ts `execute` with a step limit), so stepping can never diverge
 * from a normal run: a program run to completion under the debugger gives the same r0, steps,
 * memory and fault as `interpreter.load(...).run(...)`.
 *
 * Faults do not throw out of step()/continue(): the status becomes 'faulted' and `fault`
 * holds the BpfError (with the instruction index), so a UI can still inspect registers.
 */
import { BpfError, isBpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { EngineOptions, RunOptions, VmContext } from './engine.js';
import { createVmContext } from './context.js';
import { InterpretedProgram, loadInterpreted } from './interpreter.js';
import { EXITED, execute } from './interpreter-loop.js';
import { type ExecState, getReg, resetState } from './interpreter-state.js';

/** DebugStatus is where a debugged run is: not started, paused, finished or faulted. */
export type DebugStatus = 'idle' | 'paused' | 'exited' | 'faulted';

/** Debugger loads a program and executes it step by step with breakpoints. */
export class Debugger {
  /** program is the loaded program (its insns are what `pc` indexes) */
  readonly program: InterpretedProgram;
  /** breakpoints are instruction indices; continue() stops before executing one */
  readonly breakpoints = new Set<number>();
  private st: ExecState;
  private _status: DebugStatus = 'idle';
  private _fault: BpfError | undefined;

  constructor(prog: Program, ctx: VmContext = createVmContext(), opts: EngineOptions = {}) {
    this.program = loadInterpreted(prog, ctx, opts);
    this.st = this.program.newState();
  }

  /** start (re)starts the program with `opts` (args, regions, packet, budget) and pauses at insn 0. */
  start(opts: RunOptions = {}): this {
    this.st = this.program.newState();
    resetState(this.st, opts);
    this._status = 'paused';
    this._fault = undefined;
    return this;
  }

  /** status tells whether the run is paused, exited or faulted. */
  get status(): DebugStatus {
    return this._status;
  }

  /** fault is the error that ended the run, when status is 'faulted'. */
  get fault(): BpfError | undefined {
    return this._fault;
  }

  /** pc is the next instruction to execute (or the exit / faulting instruction once finished). */
  get pc(): number {
    return this.st.pc;
  }

  /** depth is the current call frame: 0 in the main program, k inside the k-th nested bpf-to-bpf call. */
  get depth(): number {
    return this.st.depth;
  }

  /** steps is how many instructions have executed. */
  get steps(): number {
    return this.st.steps;
  }

  /** result is r0 after a normal exit, else undefined. */
  get result(): bigint | undefined {
    return this._status === 'exited' ? getReg(this.st.regs, 0) : undefined;
  }

  /** reg reads register rN (0..10) as an unsigned 64-bit value. */
  reg(n: number): bigint {
    if (!Number.isInteger(n) || n < 0 || n > 10) throw new BpfError('E_BAD_REGISTER', `no register r${n}`);
    return getReg(this.st.regs, n);
  }

  /** registers returns r0..r10. */
  registers(): bigint[] {
    return Array.from({ length: 11 }, (_, n) => getReg(this.st.regs, n));
  }

  /** readMemory copies `len` bytes at `addr` of the address space. */
  readMemory(addr: number, len: number): Uint8Array {
    const space = this.program.ctx.space;
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > space.size) {
      throw new BpfError('E_MEM', `cannot read ${len} bytes`, { address: addr });
    }
    return space.read(addr, len);
  }

  /** readStack copies `len` bytes at r10 + `offset` of the current frame (offset is usually negative). */
  readStack(offset: number, len: number): Uint8Array {
    return this.readMemory(this.st.regs[20] + offset, len);
  }

  /** step executes one instruction (a paused run only) and returns the new status. */
  step(): DebugStatus {
    return this.runTo(this.st.steps + 1, false);
  }

  /** continue runs until a breakpoint is reached (after at least one step), exit or fault. */
  continue(): DebugStatus {
    if (this.breakpoints.size === 0) return this.runTo(this.st.budget, false);
    return this.runTo(this.st.budget, true);
  }

  private runTo(limit: number, stopAtBreakpoints: boolean): DebugStatus {
    if (this._status !== 'paused') return this._status;
    const st = this.st;
    // never pause past the budget: at the budget, execute() raises E_BUDGET itself
    const lim = Math.min(limit, st.budget);
    try {
      for (;;) {
        const stop = stopAtBreakpoints ? Math.min(st.steps + 1, lim) : lim;
        if (execute(st, stop) === EXITED) return (this._status = 'exited');
        if (st.steps >= lim || (stopAtBreakpoints && this.breakpoints.has(st.pc))) return this._status;
      }
    } catch (e) {
      if (!isBpfError(e)) throw e;
      this._fault = e;
      return (this._status = 'faulted');
    }
  }
}
