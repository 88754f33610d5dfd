/**
 * The reference interpreter ("interp"): executes eBPF exactly as docs/semantics.md
 * specifies; the JIT must match it bit for bit.
 *
 * Decisions the specification left open, fixed here (the JIT follows them):
 *
 * - callx (0x8d, BPF_JMP | BPF_CALL | BPF_X): the target register is `dst_reg` (the encoding
 *   GCC and LLVM >= 19 emit and the bpf_conformance suite assembles `call %rN` to). The
 *   register holds a HELPER ID, not an instruction index: the conformance test callx.data sets
 *   r2 = 5 (an index past its own 5-instruction program, but the ID of a helper the test
 *   harnesses register) and calls it; PREVAIL verifies callx by resolving the register to a
 *   constant helper ID, and uBPF's callx work looks the register up as a helper ID. So
 *   `callx rN` behaves like `call <value of rN>`: a value >= 2^31 (not a valid ID) is
 *   E_ABI; an unregistered ID is E_HELPER, as for `call`.
 * - call with src = 2 (kfunc by BTF ID) passes validation but is E_HELPER when executed.
 * - E_NO_EXIT is reported at the index of the last instruction of the program (the one
 *   execution fell off from; for a trailing lddw, its first slot). Reaching the end exactly
 *   when the budget runs out is still E_NO_EXIT (falling off is not an instruction).
 * - E_BUDGET is raised before executing instruction number budget + 1, with its index.
 * - Helpers: a helper that throws a BpfError has the call's insn added to its context; any
 *   other exception becomes E_HELPER. A non-bigint result is accepted when it is a finite
 *   number, otherwise E_HELPER. HelperEnv.check(addr, len, write) applies the checked-mode
 *   region rules; on the stack a read requires initialised bytes (E_UNINIT_STACK) and a write
 *   marks them initialised. In trusted mode check() accepts everything.
 * - LD_ABS/LD_IND leave r1..r5 unchanged (the kernel clobbers them; the verifier forbids
 *   reading them afterwards, so no valid program can tell the difference).
 * - E_MEM reports `address` = the start of the access (reg + off, the full 64-bit value as a
 *   number); E_UNINIT_STACK reports the first uninitialised byte of the access.
 * - Trusted mode: an access past the end of the memory (which Wasm would trap on) is E_MEM.
 * - A fault in checked mode happens before the faulting instruction has any effect.
 */
import type { Program } from '../isa/instruction.js';
import { validate } from '../isa/validate.js';
import type { Engine, EngineOptions, LoadedProgram, RunOptions, RunResult, VmContext } from './engine.js';
import { type DecodedProgram, predecode } from './interpreter-decode.js';
import { type ExecState, createState, getReg, resetState } from './interpreter-state.js';
import { execute } from './interpreter-loop.js';

/** InterpretedProgram is a program loaded by the interpreter. */
export class InterpretedProgram implements LoadedProgram {
  readonly insns: Program;
  /** decoded is the pre-decoded form the loop executes */
  readonly decoded: DecodedProgram;
  readonly ctx: VmContext;
  readonly checked: boolean;
  private spare: ExecState | null = null;

  constructor(insns: Program, decoded: DecodedProgram, ctx: VmContext, checked: boolean) {
    this.insns = insns;
    this.decoded = decoded;
    this.ctx = ctx;
    this.checked = checked;
  }

  /** run executes the program once; faults throw BpfError. */
  run(opts: RunOptions = {}): RunResult {
    // reuse one state per program; a nested run (a helper running this program) gets its own
    let st = this.spare;
    if (st === null || st.busy) st = createState(this.decoded, this.ctx, this.checked);
    else this.spare = null;
    st.busy = true;
    try {
      resetState(st, opts);
      execute(st, st.budget);
      return { r0: getReg(st.regs, 0), steps: st.steps };
    } finally {
      st.busy = false;
      this.spare = st;
    }
  }

  /** newState makes a fresh execution state (used by the debugger). */
  newState(): ExecState {
    return createState(this.decoded, this.ctx, this.checked);
  }
}

/** loadInterpreted validates and pre-decodes `prog` for `ctx`. */
export function loadInterpreted(prog: Program, ctx: VmContext, opts: EngineOptions = {}): InterpretedProgram {
  const halves = validate(prog);
  const insns = prog.map((i) => ({ ...i }));
  return new InterpretedProgram(insns, predecode(insns, halves, ctx.helpers), ctx, opts.checked ?? true);
}

/** interpreter is the reference engine. */
export const interpreter: Engine = {
  name: 'interp',
  load: loadInterpreted,
};
