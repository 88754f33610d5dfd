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

/**
 * Rel is what matters before an instruction: registers r0..r9 (bits of `regs`) and the 64
 * stack slots of the frame (slot k = (512 + off) >> 3; slots 0..31 are bits of `lo`, 32..63
 * of `hi`). Numbers rather than a BigInt: the analysis runs on every new branch edge.
 */
export interface Rel { regs: number; lo: number; hi: number }

/** relSlot tells whether stack slot `k` (0..63) matters in `r`. */
export const relSlot = (r: Rel, k: number): boolean => ((k < 32 ? r.lo >>> k : r.hi >>> (k - 32)) & 1) === 1;

const ALL32 = -1;
const SIZE_ARGS = new Set(['ARG_CONST_SIZE', 'ARG_CONST_SIZE_OR_ZERO', 'ARG_CONST_ALLOC_SIZE_OR_ZERO', 'ARG_PTR_TO_MEM_OR_NULL', 'ARG_PTR_TO_STACK_OR_NULL']);

const bit = (r: number): number => 1 << r;
const isCond = (i: Insn): boolean => {
  const cls = o.BPF_CLASS(i.code);
  const op = o.BPF_OP(i.code);
  return (cls === o.BPF_JMP || cls === o.BPF_JMP32) && op !== o.BPF_JA && op !== o.BPF_CALL && op !== o.BPF_EXIT;
};
const slotOf = (off: number): number => (512 + off) >> 3;

/**
 * Precision holds the recorded uses and the analysis result. Both analyses are monotone in
 * the taken edges and the recorded uses, so when either grows the fixpoint is resumed from
 * the previous solution with a worklist (only the instructions upstream of the change are
 * revisited) instead of being recomputed from scratch.
 */
export class Precision {
  private readonly uses: Uint16Array;
  private readonly regs: Uint16Array;
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly live: Uint16Array;
  private readonly use: Uint16Array;
  private readonly def: Uint16Array;
  /** branch edges taken so far: bit 1 fall-through, bit 2 jump */
  private readonly seen: Uint8Array;
  private readonly cond: Uint8Array;
  private readonly mainEnd: number;
  /** instructions whose result may depend on each instruction's (static predecessors, call sites of entries) */
  private readonly preds: number[][];
  private readonly work: number[] = [];
  private readonly queued: Uint8Array;
  private readonly scratch: Rel = { regs: 0, lo: 0, hi: 0 };

  constructor(private readonly prog: Program, private readonly cfg: Cfg) {
    const n = prog.length;
    this.mainEnd = cfg.subprogs[0].end;
    this.seen = new Uint8Array(n);
    this.cond = new Uint8Array(n);
    this.uses = new Uint16Array(n);
    this.regs = new Uint16Array(n);
    this.lo = new Int32Array(n);
    this.hi = new Int32Array(n);
    this.live = new Uint16Array(n);
    this.queued = new Uint8Array(n);
    this.use = new Uint16Array(n);
    this.def = new Uint16Array(n);
    this.preds = Array.from({ length: n }, () => []);
    for (let pc = 0; pc < n; pc++) {
      if (cfg.halves.has(pc)) continue;
      const i = prog[pc];
      if (isCond(i)) this.cond[pc] = 1;
      [this.use[pc], this.def[pc]] = useDef(i);
      for (const t of this.staticSucc(pc)) if (t < n) this.preds[t].push(pc);
      if (i.code === (o.BPF_JMP | o.BPF_CALL) && i.src === o.BPF_PSEUDO_CALL) this.preds[pc + 1 + i.imm].push(pc);
    }
    for (let pc = 0; pc < n; pc++) this.enqueue(pc);
  }

  private enqueue(pc: number): void {
    if (this.queued[pc] || this.cfg.halves.has(pc)) return;
    this.queued[pc] = 1;
    this.work.push(pc);
  }

  /** edge records that exploration went from the conditional jump at `from` to `to`. */
  edge(from: number, to: number): void {
    if (from < 0 || !this.cond[from]) return;
    const b = to === from + 1 ? 1 : 2;
    if (this.seen[from] & b) return;
    this.seen[from] |= b;
    this.enqueue(from);
  }

  /** liveAt returns the registers live before `pc` along the edges taken so far. */
  liveAt(pc: number): number {
    if (this.work.length) this.compute();
    return this.live[pc];
  }

  /** note records that at `pc` the registers in `mask` were used in a way that depends on their values. */
  note(pc: number, mask: number): void {
    const m = this.uses[pc];
    if ((m | mask) === m) return;
    this.uses[pc] = m | mask;
    this.enqueue(pc);
  }

  /** at returns what matters before `pc` (resuming the analysis if new uses or edges were noted); valid until the next call. */
  at(pc: number): Rel {
    if (this.work.length) this.compute();
    const r = this.scratch;
    r.regs = this.regs[pc];
    r.lo = this.lo[pc];
    r.hi = this.hi[pc];
    return r;
  }

  private compute(): void {
    const work = this.work;
    const acc: Rel = { regs: 0, lo: 0, hi: 0 };
    while (work.length) {
      const pc = work.pop() as number;
      this.queued[pc] = 0;
      this.out(pc, acc);
      this.transfer(this.prog[pc], pc, acc);
      const live = this.liveIn(pc);
      const regs = acc.regs & 0x3ff;
      if (regs === this.regs[pc] && acc.lo === this.lo[pc] && acc.hi === this.hi[pc] && live === this.live[pc]) continue;
      this.regs[pc] = regs;
      this.lo[pc] = acc.lo;
      this.hi[pc] = acc.hi;
      this.live[pc] = live;
      for (const p of this.preds[pc]) this.enqueue(p);
    }
  }

  private liveIn(pc: number): number {
    let out = 0;
    this.succ(pc, (t) => { out |= this.live[t]; });
    return (out & ~this.def[pc]) | this.use[pc];
  }

  /** staticSucc lists every possible successor of `pc` in its function. */
  private staticSucc(pc: number): number[] {
    const i = this.prog[pc];
    const cls = o.BPF_CLASS(i.code);
    if (cls === o.BPF_JMP || cls === o.BPF_JMP32) {
      const op = o.BPF_OP(i.code);
      if (op === o.BPF_EXIT) return [];
      if (op === o.BPF_CALL) return [pc + 1];
      if (op === o.BPF_JA) return [cls === o.BPF_JMP32 ? pc + 1 + i.imm : pc + 1 + i.off];
      return [pc + 1, pc + 1 + i.off];
    }
    return [pc + (isLddw(i) ? 2 : 1)];
  }

  /** succ visits the successors of `pc` in its function along taken edges. */
  private succ(pc: number, fn: (t: number) => void): void {
    const i = this.prog[pc];
    if (this.cond[pc]) {
      if (this.seen[pc] & 1) fn(pc + 1);
      if (this.seen[pc] & 2) fn(pc + 1 + i.off);
      return;
    }
    const cls = o.BPF_CLASS(i.code);
    if (cls === o.BPF_JMP || cls === o.BPF_JMP32) {
      const op = o.BPF_OP(i.code);
      if (op === o.BPF_EXIT) return;
      if (op === o.BPF_CALL) return fn(pc + 1);
      if (op === o.BPF_JA) return fn(cls === o.BPF_JMP32 ? pc + 1 + i.imm : pc + 1 + i.off);
    }
    const next = pc + (isLddw(i) ? 2 : 1);
    if (next < this.prog.length) fn(next);
  }

  /** out joins into `acc` what matters at the instruction's successors in the same function. */
  private out(pc: number, acc: Rel): void {
    acc.regs = 0;
    acc.lo = 0;
    acc.hi = 0;
    if (this.prog[pc].code === (o.BPF_JMP | o.BPF_EXIT)) {
      if (pc >= this.mainEnd) acc.regs = bit(0);
      return;
    }
    this.succ(pc, (t) => {
      acc.regs |= this.regs[t];
      acc.lo |= this.lo[t];
      acc.hi |= this.hi[t];
    });
  }

  /** transfer turns what matters after instruction `i` (in `r`) into what matters before it. */
  private transfer(i: Insn, pc: number, r: Rel): void {
    const cls = o.BPF_CLASS(i.code);
    const x = o.BPF_SRC(i.code) === o.BPF_X;
    const has = (reg: number): boolean => (r.regs & bit(reg)) !== 0;
    switch (cls) {
      case o.BPF_ALU:
      case o.BPF_ALU64: {
        const op = o.BPF_OP(i.code);
        if (op === o.BPF_MOV) {
          const was = has(i.dst);
          r.regs &= ~bit(i.dst);
          if (was && x) r.regs |= bit(i.src);
        } else if (has(i.dst) && x && op !== o.BPF_NEG && op !== o.BPF_END) r.regs |= bit(i.src);
        break;
      }
      case o.BPF_LDX: {
        const was = has(i.dst);
        r.regs &= ~bit(i.dst);
        if (was) {
          if (i.src === o.R10) setSlot(r, slotOf(i.off));
          else allSlots(r);
        }
        break;
      }
      case o.BPF_ST:
        if (i.dst === o.R10 && o.BPF_SIZE(i.code) === o.BPF_DW) clearSlot(r, slotOf(i.off));
        break;
      case o.BPF_STX: {
        if (o.BPF_MODE(i.code) === o.BPF_ATOMIC) {
          r.regs |= bit(i.src) | (i.imm === o.BPF_CMPXCHG ? bit(0) : 0);
          if (i.dst === o.R10) setSlot(r, slotOf(i.off));
          else allSlots(r);
          break;
        }
        // outside the main function a pointer may lead to a caller's stack, where anything may matter
        const matters = i.dst === o.R10 ? relSlot(r, slotOf(i.off)) : (r.lo | r.hi) !== 0 || pc >= this.mainEnd;
        if (i.dst === o.R10 && o.BPF_SIZE(i.code) === o.BPF_DW) clearSlot(r, slotOf(i.off));
        if (matters) r.regs |= bit(i.src);
        break;
      }
      case o.BPF_LD:
        if (isLddw(i)) r.regs &= ~bit(i.dst);
        else r.regs &= ~0x3f;
        break;
      default:
        if (o.BPF_OP(i.code) === o.BPF_CALL) {
          this.call(i, pc, r);
          return;
        }
        break;
    }
    r.regs |= this.uses[pc];
  }

  private call(i: Insn, pc: number, r: Rel): void {
    if (i.src === o.BPF_PSEUDO_CALL) {
      // r6..r9 survive the call; r1..r5 matter as the callee's entry says; the callee may use our stack
      r.regs = (r.regs & 0x3c0) | (this.regs[pc + 1 + i.imm] & 0x3e);
      allSlots(r);
      return;
    }
    const p = helperProto(i.imm);
    if (!p || p.callback) {
      r.regs = 0x3ff;
      allSlots(r);
      return;
    }
    r.regs &= ~0x3f;
    p.args.forEach((a, k) => {
      if (SIZE_ARGS.has(a)) r.regs |= bit(k + 1);
      if (a === 'ARG_PTR_TO_MAP_KEY') allSlots(r);
    });
  }
}

function setSlot(r: Rel, k: number): void {
  if (k < 32) r.lo |= 1 << k;
  else r.hi |= 1 << (k - 32);
}

function clearSlot(r: Rel, k: number): void {
  if (k < 32) r.lo &= ~(1 << k);
  else r.hi &= ~(1 << (k - 32));
}

function allSlots(r: Rel): void {
  r.lo = ALL32;
  r.hi = ALL32;
}
