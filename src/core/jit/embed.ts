/**
 * The stable API for code that drives JIT-compiled programs from its own WebAssembly (the
 * switch's batch loop, its in-Wasm helpers): the program's entry function, the address and
 * field offsets of the context's control block, and the run-frame enter/leave around a batch.
 * Everything else in src/core/jit is internal and may change; this file may only grow.
 */
import type { VmContext } from '../vm/engine.js';
import type { Region } from '../vm/memory.js';
import { CB_ARGS, CB_FAST, CB_PKT_LEN, CB_PKT_START, CB_R0, CB_REGIONS, REGION_ENTRY } from './layout.js';
import { JitProgram } from './program.js';
import { contextRuntime, LDABS_EXIT } from './runtime.js';

/**
 * ControlBlockLayout are byte offsets in a context's control block: r1..r5 (u64 each) read by
 * `entry`, r0 (u64) written by it, the packet start and length (for LD_ABS), the address of the
 * region table (entries of `regionEntry` bytes: {start u32, end u32, perm u32, 0}; entry 0
 * the context, entry 1 the packet in the switch), and `fast(perm)`: the fast-path slot
 * {start u32, span u32} checked-mode code tries first for accesses needing `perm` (PERM_R,
 * PERM_W, PERM_RW).
 */
export interface ControlBlockLayout {
  args: number;
  r0: number;
  pktStart: number;
  pktLen: number;
  regions: number;
  regionEntry: number;
  fast(perm: number): number;
}

/** CONTROL_BLOCK is the control block layout of this JIT. */
export const CONTROL_BLOCK: ControlBlockLayout = Object.freeze({
  args: CB_ARGS, r0: CB_R0, pktStart: CB_PKT_START, pktLen: CB_PKT_LEN, regions: CB_REGIONS, regionEntry: REGION_ENTRY, fast: CB_FAST,
});

/** RunFrameInit is what a run needs in the control block: its context, regions and LD_ABS packet (pktLen -1: none). */
export interface RunFrameInit {
  regions: readonly Region[];
  pktStart: number;
  pktLen: number;
}

/** JitControl is a context's control block and the run frames around code that calls `entry` directly. */
export interface JitControl {
  /** address of the control block (see CONTROL_BLOCK) */
  cb: number;
  /** enter writes a run's regions and packet to the control block (runs nest); pair with leave() */
  enter(f: RunFrameInit): void;
  leave(): void;
}

/** jitControl returns the control block of context `ctx` (one per address space and CPU index). */
export function jitControl(ctx: VmContext): JitControl {
  const rt = contextRuntime(ctx);
  return {
    cb: rt.cb,
    enter: (f) => rt.enter({ ctx, regions: f.regions, pktStart: f.pktStart, pktLen: f.pktLen, helperInsn: 0 }),
    leave: () => rt.leave(),
  };
}

/** JitEntry is a JIT program as callable Wasm: `entry(budget f64)` reads r1..r5 from and writes r0 to the control block. */
export interface JitEntry {
  /** the exported Wasm function (import it into another module to call it without leaving Wasm) */
  entry: (budget: number) => void;
  checked: boolean;
  /** whether the program counts instructions against the budget (else the budget argument is ignored) */
  counting: boolean;
  control: JitControl;
}

/** jitEntry returns the Wasm entry of a program the JIT loaded, or null for another engine's program. */
export function jitEntry(prog: unknown): JitEntry | null {
  if (!(prog instanceof JitProgram)) return null;
  const entry = prog.instance.exports.entry as ((budget: number) => void) | undefined;
  if (typeof entry !== 'function') return null;
  return { entry, checked: prog.checked, counting: prog.counting, control: jitControl(prog.ctx) };
}

/**
 * isLdAbsExit tells whether `e`, thrown out of `entry`, is an LD_ABS miss in a subprogram:
 * the run ended returning 0 (as the kernel's LD_ABS does), not a fault.
 */
export function isLdAbsExit(e: unknown): boolean {
  return e === LDABS_EXIT;
}
