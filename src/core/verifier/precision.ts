/**
 * Which scalars must be compared precisely when pruning (a static stand-in for the kernel's
 * precision tracking). A scalar "matters" at an instruction when its value may flow — through
 * registers and r10-relative stack slots — into a use whose outcome depends on its range:
 * the scalar operand of pointer arithmetic, the operands of a conditional jump whose outcome
 * was decided (or one side found impossible), helper size arguments, map keys, a callback's
 * R0. The uses that depend on what was seen during exploration (decided jumps, pointer
 * arithmetic) are recorded as they happen; the backward analysis is redone when they change.
 * Before a bpf-to-bpf call the arguments matter as the callee's entry says, and the whole
 * stack (the callee may reach it through pointers); before a callback helper everything
 * matters, as does everything in caller frames. Scalars that do not matter only need to be scalars
 * (and keep their links) for one state to cover another.
 *
 * Both this analysis and register liveness follow only the branch edges exploration has
 * taken so far (the kernel's liveness is path-based too): a state is only ever compared
 * with a completed one, whose every path has been explored, so edges it never took cannot
 * matter to it. Exact comparisons (infinite-loop detection) keep the static liveness.
 */
import { isLddw, type Insn, type Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { helperProto } from '../helpers/protos.js';
import { useDef, type Cfg } from './cfg.js';

/** Rel is what matters before an instruction: registers r0..r9 and the 64 stack slots of the frame. */
export interface Rel { regs: number; slots: bigint }

const ALL_SLOTS = (1n << 64n) - 1n;
const ALL: Rel = { regs: 0x3ff, slots: ALL_SLOTS };
const SIZE_ARGS = new Set(['ARG_CONST_SIZE', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_CONST_ALLOC_SIZE_OR_ZERO', 'ARG_PTR_TO_MEM_OR_NULL', 'ARG_PTR_TO_STACK_OR_NULL']);

const bit = (r: number): number => 1 << r;
const isCond = (i: Insn): boolean => {
  const cls = o.BPF_CLASS(i.code);
  const op = o.BPF_OP(i.code);
  return (cls === o.BPF_JMP || cls === o.BPF_JMP32) && op !== o.BPF_JA && op !== o.BPF_CALL && op !== o.BPF_EXIT;
};
const slotBit = (off: number): bigint => 1n << BigInt((512 + off) >> 3);

/** Precision holds the recorded uses and the analysis result. */
export class Precision {
  private readonly uses = new Map<number, number>();
  private rel: Rel[] = [];
  private live: Uint16Array = new Uint16Array(0);
  private dirty = true;
  /** branch edges taken so far: bit 1 fall-through, bit 2 jump */
  private readonly seen: Uint8Array;
  private readonly mainEnd: number;

  constructor(private readonly prog: Program, private readonly cfg: Cfg) {
    this.mainEnd = cfg.subprogs[0].end;
    this.seen = new Uint8Array(prog.length);
  }

  /** edge records that exploration went from the conditional jump at `from` to `to`. */
  edge(from: number, to: number): void {
    if (from < 0 || !isCond(this.prog[from])) return;
    const b = to === from + 1 ? 1 : 2;
    if (this.seen[from] & b) return;
    this.seen[from] |= b;
    this.dirty = true;
  }

  /** liveAt returns the registers live before `pc` along the edges taken so far. */
  liveAt(pc: number): number {
    if (this.dirty) this.compute();
    return this.live[pc];
  }

  /** note records that at `pc` the registers in `mask` were used in a way that depends on their values. */
  note(pc: number, mask: number): void {
    const m = this.uses.get(pc) ?? 0;
    if ((m | mask) === m) return;
    this.uses.set(pc, m | mask);
    this.dirty = true;
  }

  /** at returns what matters before `pc` (recomputing the analysis if new uses were noted). */
  at(pc: number): Rel {
    if (this.dirty) this.compute();
    return this.rel[pc] ?? ALL;
  }

  private compute(): void {
    const n = this.prog.length;
    const rel: Rel[] = Array.from({ length: n }, () => ({ regs: 0, slots: 0n }));
    let changed = true;
    while (changed) {
      changed = false;
      for (let pc = n - 1; pc >= 0; pc--) {
        if (this.cfg.halves.has(pc)) continue;
        const out = this.out(rel, pc);
        const r = this.transfer(this.prog[pc], pc, out, rel);
        if (r.regs !== rel[pc].regs || r.slots !== rel[pc].slots) {
          rel[pc] = r;
          changed = true;
        }
      }
    }
    this.rel = rel;
    this.live = this.liveness();
    this.dirty = false;
  }

  private liveness(): Uint16Array {
    const n = this.prog.length;
    const live = new Uint16Array(n);
    let changed = true;
    while (changed) {
      changed = false;
      for (let pc = n - 1; pc >= 0; pc--) {
        if (this.cfg.halves.has(pc)) continue;
        let out = 0;
        for (const t of this.succ(pc)) out |= live[t];
        const [use, def] = useDef(this.prog[pc]);
        const inn = (out & ~def) | use;
        if (inn !== live[pc]) {
          live[pc] = inn;
          changed = true;
        }
      }
    }
    return live;
  }

  /** succ lists the successors of `pc` in its function along taken edges. */
  private succ(pc: number): number[] {
    const i = this.prog[pc];
    const cls = o.BPF_CLASS(i.code);
    if (cls === o.BPF_JMP || cls === o.BPF_JMP32) {
      const op = o.BPF_OP(i.code);
      if (op === o.BPF_EXIT) return [];
      if (op === o.BPF_CALL) return [pc + 1];
      if (op === o.BPF_JA) return [cls === o.BPF_JMP32 ? pc + 1 + i.imm : pc + 1 + i.off];
      const r: number[] = [];
      if (this.seen[pc] & 1) r.push(pc + 1);
      if (this.seen[pc] & 2) r.push(pc + 1 + i.off);
      return r;
    }
    const next = pc + (isLddw(i) ? 2 : 1);
    return next < this.prog.length ? [next] : [];
  }

  /** out joins what matters at the instruction's successors in the same function. */
  private out(rel: Rel[], pc: number): Rel {
    const i = this.prog[pc];
    if (i.code === (o.BPF_JMP | o.BPF_EXIT)) return pc < this.mainEnd ? { regs: 0, slots: 0n } : { regs: bit(0), slots: 0n };
    const acc: Rel = { regs: 0, slots: 0n };
    for (const t of this.succ(pc)) {
      acc.regs |= rel[t].regs;
      acc.slots |= rel[t].slots;
    }
    return acc;
  }

  private transfer(i: Insn, pc: number, out: Rel, rel: Rel[]): Rel {
    let { regs, slots } = out;
    const cls = o.BPF_CLASS(i.code);
    const x = o.BPF_SRC(i.code) === o.BPF_X;
    const has = (r: number): boolean => (regs & bit(r)) !== 0;
    switch (cls) {
      case o.BPF_ALU:
      case o.BPF_ALU64: {
        const op = o.BPF_OP(i.code);
        if (op === o.BPF_MOV) {
          const was = has(i.dst);
          regs &= ~bit(i.dst);
          if (was && x) regs |= bit(i.src);
        } else if (has(i.dst) && x && op !== o.BPF_NEG && op !== o.BPF_END) regs |= bit(i.src);
        break;
      }
      case o.BPF_LDX: {
        const was = has(i.dst);
        regs &= ~bit(i.dst);
        if (was) slots |= i.src === o.R10 ? slotBit(i.off) : ALL_SLOTS;
        break;
      }
      case o.BPF_ST:
        if (i.dst === o.R10 && o.BPF_SIZE(i.code) === o.BPF_DW) slots &= ~slotBit(i.off);
        break;
      case o.BPF_STX: {
        if (o.BPF_MODE(i.code) === o.BPF_ATOMIC) {
          regs |= bit(i.src) | (i.imm === o.BPF_CMPXCHG ? bit(0) : 0);
          slots |= i.dst === o.R10 ? slotBit(i.off) : ALL_SLOTS;
          break;
        }
        // outside the main function a pointer may lead to a caller's stack, where anything may matter
        const matters = i.dst === o.R10 ? (slots & slotBit(i.off)) !== 0n : slots !== 0n || pc >= this.mainEnd;
        if (i.dst === o.R10 && o.BPF_SIZE(i.code) === o.BPF_DW) slots &= ~slotBit(i.off);
        if (matters) regs |= bit(i.src);
        break;
      }
      case o.BPF_LD:
        if (isLddw(i)) regs &= ~bit(i.dst);
        else regs &= ~0x3f;
        break;
      default:
        if (o.BPF_OP(i.code) === o.BPF_CALL) return this.call(i, pc, regs, slots, rel);
        break;
    }
    regs |= this.uses.get(pc) ?? 0;
    return { regs: regs & 0x3ff, slots };
  }

  private call(i: Insn, pc: number, regs: number, slots: bigint, rel: Rel[]): Rel {
    if (i.src === o.BPF_PSEUDO_CALL) {
      // r6..r9 survive the call; r1..r5 matter as the callee's entry says; the callee may use our stack
      const entry = rel[pc + 1 + i.imm];
      return { regs: (regs & 0x3c0) | (entry.regs & 0x3e), slots: ALL_SLOTS };
    }
    const p = helperProto(i.imm);
    if (!p || p.callback) return ALL;
    regs &= ~0x3f;
    p.args.forEach((a, k) => {
      if (SIZE_ARGS.has(a)) regs |= bit(k + 1);
      if (a === 'ARG_PTR_TO_MAP_KEY') slots = ALL_SLOTS;
    });
    return { regs, slots };
  }
}
