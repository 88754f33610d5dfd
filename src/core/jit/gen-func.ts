/**
 * FuncGen generates the blocks of one Wasm function (one eBPF entry point) for the
 * stackifier: instruction dispatch, budget segments and terminators.
 *
 * Budget: a block is split into segments that end after every instruction with an effect
 * visible outside the registers (memory access, call, packet load, exit). Each segment is
 * charged once, before it runs. If the budget runs out inside a segment the interpreter
 * would fault there too, and since the instructions before the segment's last one only touch
 * registers, faulting at the segment start leaves the same memory and reports the same error.
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

/** hasEffect tells whether an instruction ends a budget segment. */
function hasEffect(i: Insn): boolean {
  const cls = o.BPF_CLASS(i.code);
  if (cls === o.BPF_LDX || cls === o.BPF_ST || cls === o.BPF_STX) return true;
  if (cls === o.BPF_LD) return o.BPF_MODE(i.code) !== o.BPF_IMM;
  if (cls === o.BPF_JMP) return o.BPF_OP(i.code) === o.BPF_CALL || o.BPF_OP(i.code) === o.BPF_EXIT;
  return false;
}

/** FuncGen implements BlockEmitter for one function. */
export class FuncGen implements BlockEmitter {
  constructor(private readonly g: Gen, private readonly halves: Set<number>, private readonly lastInsn: number) {}

  body(b: BasicBlock): void {
    const bodyEnd = b.term === 'fall' ? b.end : b.last;
    const prog = this.g.prog;
    let segStart = -1;
    let count = 0;
    for (let pc = b.start; pc < b.end; pc++) {
      if (this.halves.has(pc)) continue;
      if (segStart < 0) {
        segStart = pc;
        count = this.segmentLength(b, pc);
        if (this.g.o.budget) emitCharge(this.g, count, pc);
      }
      if (pc < bodyEnd) this.insn(prog[pc], pc);
      if (--count === 0) segStart = -1;
    }
  }

  /** segmentLength counts the instructions from `pc` to the end of its segment. */
  private segmentLength(b: BasicBlock, pc: number): number {
    let n = 0;
    for (; pc < b.end; pc++) {
      if (this.halves.has(pc)) continue;
      n++;
      if (hasEffect(this.g.prog[pc])) break;
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

  private insn(i: Insn, pc: number): void {
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
        return emitLdAbs(g, i);
      default:
        // JMP class in the body: only calls (jumps and exit are terminators)
        if (o.BPF_OP(i.code) === o.BPF_CALL) return emitCall(g, i, pc);
        throw new Error(`internal: unexpected instruction 0x${i.code.toString(16)} at ${pc}`);
    }
  }
}
