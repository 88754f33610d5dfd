/**
 * FuncGen generates the blocks of one Wasm function (one eBPF entry point) for the
 * stackifier: instruction dispatch, budget segments and terminators.
 *
 * Budget: a block is split into units that end after each bpf-to-bpf call or callback helper
 * call (a callee or callback charges its own instructions, so a caller must not charge past a
 * call in advance). Each unit is charged once, before it runs. When the budget left does not
 * cover the unit, the unit is not run here: the interpreter executes it from its start with
 * exactly the budget left (budgetTail), so the fault (E_BUDGET, or any earlier fault) and the
 * memory it leaves are the interpreter's by construction. The unit's last instruction is never
 * reached in that case, so the tail never leaves straight-line code. An LD_ABS miss inside a
 * unit refunds the unit's instructions after it, so `steps` stays exact.
 */
import type { Insn } from '../isa/instruction.js';
import { lddwValue } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import type { BasicBlock } from './cfg.js';
import type { BlockEmitter } from './stackify.js';
import { type Gen, fault } from './gen-ctx.js';
import { emitAlu } from './gen-alu.js';
import { emitAtomic, emitLdAbs, emitLoad, emitStore } from './gen-mem.js';
import { emitCall, emitCharge, emitCond, emitExit } from './gen-flow.js';
import { F_NO_EXIT } from './layout.js';
import { loadFast } from './gen-fast.js';
import { emitInlineLookup } from './gen-inline.js';
import { CALLBACK_HELPERS } from '../helpers/registry.js';

/**
 * endsUnit tells whether an instruction ends a budget unit: bpf-to-bpf calls, and calls of
 * helpers that run callbacks (bpf_loop ...), whose callbacks charge the same budget.
 */
function endsUnit(i: Insn): boolean {
  return i.code === (o.BPF_JMP | o.BPF_CALL) && (i.src === o.BPF_PSEUDO_CALL || (i.src === 0 && CALLBACK_HELPERS.includes(i.imm)));
}

/** FuncGen implements BlockEmitter for one function. */
export class FuncGen implements BlockEmitter {
  constructor(private readonly g: Gen, private readonly halves: Set<number>, private readonly lastInsn: number) {}

  body(b: BasicBlock): void {
    const bodyEnd = b.term === 'fall' ? b.end : b.last;
    const prog = this.g.prog;
    let left = 0; // instructions of the current unit not emitted yet
    for (let pc = b.start; pc < b.end; pc++) {
      if (this.isHalf(pc)) continue;
      if (left === 0) {
        left = this.unitLength(b, pc);
        if (this.g.o.budget) emitCharge(this.g, left, pc);
      }
      left--;
      if (pc < bodyEnd) this.insn(prog[pc], pc, left);
    }
  }

  /** isHalf: slot `pc` is a second lddw half (opcode 0, which no validated instruction has: the Set is asked only then). */
  private isHalf(pc: number): boolean {
    return this.g.prog[pc].code === 0 && this.halves.has(pc);
  }

  /** unitLength counts the instructions from `pc` to the end of its budget unit. */
  private unitLength(b: BasicBlock, pc: number): number {
    let n = 0;
    for (; pc < b.end; pc++) {
      if (this.isHalf(pc)) continue;
      n++;
      if (endsUnit(this.g.prog[pc])) break;
    }
    return n;
  }

  cond(b: BasicBlock): void {
    emitCond(this.g, this.g.prog[b.last]);
  }

  exit(): void {
    emitExit(this.g);
  }

  noExit(): void {
    fault(this.g, F_NO_EXIT, this.lastInsn);
  }

  /** insn emits one instruction; `after` is how many instructions of its budget unit follow it. */
  private insn(i: Insn, pc: number, after: number): void {
    const g = this.g;
    switch (o.BPF_CLASS(i.code)) {
      case o.BPF_ALU:
      case o.BPF_ALU64:
        return emitAlu(g, i);
      case o.BPF_LDX:
        return emitLoad(g, i, pc);
      case o.BPF_ST:
        return emitStore(g, i, pc);
      case o.BPF_STX:
        if (o.BPF_MODE(i.code) === o.BPF_ATOMIC) return emitAtomic(g, i, pc);
        return emitStore(g, i, pc);
      case o.BPF_LD:
        if (o.BPF_MODE(i.code) === o.BPF_IMM) {
          g.c.i64(lddwValue(g.prog, pc)).set(g.L.reg[i.dst]);
          return;
        }
        return emitLdAbs(g, i, after);
      default:
        // JMP class in the body: only calls (jumps and exit are terminators)
        if (o.BPF_OP(i.code) === o.BPF_CALL) {
          const site = g.o.inline?.get(pc);
          if (site) return emitInlineLookup(g, site, i, pc);
          emitCall(g, i, pc);
          // a call may change the fast slots (nested runs, table hits in the callee)
          if (g.fast) loadFast(g.c, g.L, g.fast);
          return;
        }
        throw new Error(`internal: unexpected instruction 0x${i.code.toString(16)} at ${pc}`);
    }
  }
}
