/**
 * The contract every execution engine (interpreter, JIT) fulfils, so tests and tools can run
 * one corpus through all of them and demand identical results.
 */
import type { Program } from '../isa/instruction.js';
import type { HelperRegistry } from '../helpers/registry.js';
import type { AddressSpace, ExecStack, Region } from './memory.js';

/** DEFAULT_BUDGET is the default instruction budget of one run. */
export const DEFAULT_BUDGET = 100_000_000;

/** VmContext is one execution context: address space, helpers and a stack (one per CPU). */
export interface VmContext {
  readonly space: AddressSpace;
  readonly helpers: HelperRegistry;
  readonly stack: ExecStack;
  /** cpu index of this context (worker index) */
  readonly cpu: number;
}

/** PacketRef names the packet the legacy LD_ABS/LD_IND instructions read. */
export interface PacketRef {
  start: number;
  len: number;
}

/** RunOptions configure one run of a loaded program. */
export interface RunOptions {
  /** r1..r5 at entry (missing ones are 0) */
  args?: readonly bigint[];
  /** regions the program may access besides its stack (checked mode) */
  regions?: readonly Region[];
  /** packet for LD_ABS / LD_IND */
  packet?: PacketRef;
  /** maximum instructions executed before E_BUDGET; default DEFAULT_BUDGET */
  budget?: number;
}

/** RunResult is what a run returns. */
export interface RunResult {
  /** r0 at exit from the main frame, unsigned 64-bit */
  r0: bigint;
  /** instructions executed (the interpreter counts exactly; the JIT may report 0 when not counting) */
  steps: number;
}

/** LoadedProgram is a program prepared by an engine. `run` throws BpfError on a fault. */
export interface LoadedProgram {
  readonly insns: Program;
  run(opts?: RunOptions): RunResult;
}

/** EngineOptions select how an engine prepares a program. */
export interface EngineOptions {
  /** checked: every memory access is checked against the allowed regions (default true) */
  checked?: boolean;
}

/** Engine prepares programs for execution in a VmContext. */
export interface Engine {
  readonly name: string;
  load(prog: Program, ctx: VmContext, opts?: EngineOptions): LoadedProgram;
}
