/**
 * Conditional jumps on abstract registers (check_cond_jmp_op): decided branches are not
 * explored; otherwise both sides are, each with what its condition teaches — scalar bounds
 * (also for every linked copy), NULL checks of map values / ring-buffer records (for all
 * copies with the same id), and packet ranges from comparisons with data_end
 * (find_good_pkt_pointers, for every comparison direction).
 */
import type { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { JSET_FALSE, branchTaken, negateOp, refine } from './branch.js';
import { RegType, constReg, isKnownZero, isPacket, isPointer, scalarReg, type Reg } from './reg.js';
import { isConst, type Scalar } from './scalar.js';
import { copyState, cur, ownStack, type VState } from './state.js';
import type { Verifier } from './verifier.js';

/** MAX_PACKET_OFF is the largest packet offset ranges are learned for. */
const MAX_PACKET_OFF = 0xffff;

/** forEachReg visits every register and spilled register of every frame, replacing it by fn's result. */
export function mapRegs(st: VState, fn: (r: Reg) => Reg): void {
  for (const f of st.frames) {
    for (let k = 0; k < 11; k++) f.regs[k] = fn(f.regs[k]);
    for (let k = 0; k < f.spills.length; k++) {
      const sp = f.spills[k];
      if (!sp) continue;
      const nr = fn(sp);
      if (nr === sp) continue;
      ownStack(f);
      f.spills[k] = nr;
    }
  }
}

/**
 * condJump handles a conditional jump at `pc`: it returns the next pc of `st` (which it may
 * refine), or null when `st` cannot continue; the other feasible side is pushed with v.push.
 */
export function condJump(v: Verifier, st: VState, i: Insn, pc: number): number | null {
  const is32 = o.BPF_CLASS(i.code) === o.BPF_JMP32;
  const op = o.BPF_OP(i.code);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  const dst = v.readReg(st, i.dst);
  const src = x ? v.readReg(st, i.src) : constReg(is32 ? BigInt(i.imm >>> 0) : BigInt(i.imm));
  const target = pc + 1 + i.off;
  const fall = pc + 1;
  if (!is32 && (op === o.BPF_JEQ || op === o.BPF_JNE)) {
    const nullCheck = dst.nullable && isKnownZero(src) ? dst : src.nullable && isKnownZero(dst) ? src : null;
    if (nullCheck) v.prec.note(pc, (1 << i.dst) | (x ? 1 << i.src : 0));
    if (nullCheck) return nullBranch(v, st, nullCheck, op === o.BPF_JEQ, target, fall, pc);
  }
  const used = (1 << i.dst) | (x ? 1 << i.src : 0);
  if (isPointer(dst) || isPointer(src)) return pointerBranch(v, st, i, dst, src, is32, target, fall);
  const taken = branchTaken(dst.s, src.s, op, is32);
  if (taken !== null) {
    v.prec.note(pc, used); // the outcome depends on the values: they must be compared precisely
    return taken ? target : fall;
  }
  const jumped = copyState(st);
  const okJump = applyRefine(jumped, i, x, dst, src, op, is32);
  const okFall = applyRefine(st, i, x, dst, src, op === o.BPF_JSET ? JSET_FALSE : negateOp(op), is32);
  if (okJump && okFall) {
    v.push(jumped, target, pc);
    return fall;
  }
  v.prec.note(pc, used);
  if (okFall) return fall;
  if (okJump) {
    v.replace(st, jumped);
    return target;
  }
  return null;
}

function applyRefine(st: VState, i: Insn, x: boolean, dst: Reg, src: Reg, op: number, is32: boolean): boolean {
  const r = refine(dst.s, src.s, op, is32);
  if (!r) return false;
  setScalar(st, i.dst, dst, r[0]);
  if (x) setScalar(st, i.src, src, r[1]);
  return true;
}

/** setScalar writes a refined scalar to a register and to every register linked to it by id. */
function setScalar(st: VState, regno: number, old: Reg, s: Scalar): void {
  const f = cur(st);
  const nr = scalarReg(s, isConst(s) ? 0 : old.id);
  f.regs[regno] = nr;
  if (old.id === 0) return;
  mapRegs(st, (r) => (r.type === RegType.SCALAR && r.id === old.id ? nr : r));
}

/** nullBranch splits on `ptr == NULL`: `isEq` when the jump is taken on equality. */
function nullBranch(v: Verifier, st: VState, ptr: Reg, isEq: boolean, target: number, fall: number, pc: number): number {
  const jumped = copyState(st);
  markNull(jumped, ptr, isEq);
  markNull(st, ptr, !isEq);
  v.push(jumped, target, pc);
  return fall;
}

function markNull(st: VState, ptr: Reg, isNull: boolean): void {
  const id = ptr.id;
  mapRegs(st, (r) => {
    if (!r.nullable || r.id !== id) return r;
    // references and values holding a spin lock keep their id (the lock is identified by it)
    const keep = r.ref || (r.type === RegType.PTR_TO_MAP_VALUE && r.map?.info.spinLockOff !== undefined);
    return isNull ? constReg(0n) : { ...r, nullable: false, id: keep ? r.id : 0 };
  });
  if (isNull && ptr.ref) st.refs = st.refs.filter((x) => x.id !== ptr.ref);
}

const isInitPkt = (r: Reg): boolean => r.type === RegType.PTR_TO_PACKET && r.off === 0 && isConst(r.s) && r.s.t.v === 0n;

function pointerBranch(v: Verifier, st: VState, i: Insn, dst: Reg, src: Reg, is32: boolean, target: number, fall: number): number | null {
  const op = o.BPF_OP(i.code);
  // a pointer the kernel knows is not NULL (reg_not_null: map values, map keys, memory) against 0
  const nonNull = (p: Reg, z: Reg): boolean => !p.nullable && isKnownZero(z) && (p.type === RegType.PTR_TO_MAP_VALUE
    || p.type === RegType.PTR_TO_MAP_KEY || p.type === RegType.PTR_TO_MEM);
  if (!is32 && (op === o.BPF_JEQ || op === o.BPF_JNE) && (nonNull(dst, src) || nonNull(src, dst))) {
    v.prec.note(fall - 1, (1 << i.dst) | (o.BPF_SRC(i.code) === o.BPF_X ? 1 << i.src : 0));
    return op === o.BPF_JEQ ? fall : target;
  }
  const jumped = copyState(st);
  if (!is32 && isPointer(dst) && isPointer(src)) {
    pktCompare(jumped, st, i, dst, src, op);
    if ((op === o.BPF_JEQ || op === o.BPF_JNE) && dst.nullable !== src.nullable) {
      // equal to a pointer that is not NULL: not NULL either (that register only, as the kernel's mark_ptr_not_null_reg)
      const f = cur(op === o.BPF_JEQ ? jumped : st);
      const regno = dst.nullable ? i.dst : i.src;
      f.regs[regno] = { ...f.regs[regno], nullable: false };
    }
  }
  v.push(jumped, target, fall - 1);
  return fall;
}

/** pktCompare learns packet ranges from `dst op src` (try_match_pkt_pointers); `taken`/`fall` are the two sides. */
function pktCompare(taken: VState, fall: VState, i: Insn, dst: Reg, src: Reg, op: number): void {
  const dataVsEnd = (isPacket(dst) && dst.type === RegType.PTR_TO_PACKET && src.type === RegType.PTR_TO_PACKET_END)
    || (dst.type === RegType.PTR_TO_PACKET_META && isInitPkt(src));
  const endVsData = (dst.type === RegType.PTR_TO_PACKET_END && src.type === RegType.PTR_TO_PACKET)
    || (isInitPkt(dst) && src.type === RegType.PTR_TO_PACKET_META);
  if (!dataVsEnd && !endVsData) return;
  // mark_pkt_end: on the side where the packet pointer is known to be past (or at) the end, the
  // kernel gives that register a negative range, so any access through it is refused
  const endMark = (st: VState, regno: number, beyond: boolean) => markPktEnd(st, regno, beyond);
  switch (op) {
    case o.BPF_JGT:
      if (dataVsEnd) { goodPkt(fall, dst, false); endMark(taken, i.dst, true); } else { goodPkt(taken, src, true); endMark(fall, i.src, false); }
      break;
    case o.BPF_JLT:
      if (dataVsEnd) { goodPkt(taken, dst, true); endMark(fall, i.dst, false); } else { goodPkt(fall, src, false); endMark(taken, i.src, true); }
      break;
    case o.BPF_JGE:
      if (dataVsEnd) { goodPkt(fall, dst, true); endMark(taken, i.dst, false); } else { goodPkt(taken, src, false); endMark(fall, i.src, true); }
      break;
    case o.BPF_JLE:
      if (dataVsEnd) { goodPkt(taken, dst, false); endMark(fall, i.dst, true); } else { goodPkt(fall, src, true); endMark(taken, i.src, false); }
      break;
    default:
      break;
  }
  void i;
}

/** BEYOND_PKT_END / AT_PKT_END are the kernel's negative ranges of a pointer known to be past / at the end. */
const BEYOND_PKT_END = -1, AT_PKT_END = -2;

/** markPktEnd gives register `regno` of the innermost frame a negative range (mark_pkt_end). */
function markPktEnd(st: VState, regno: number, beyond: boolean): void {
  const f = cur(st);
  const r = f.regs[regno];
  if (r.type === RegType.PTR_TO_PACKET || r.type === RegType.PTR_TO_PACKET_META) {
    f.regs[regno] = { ...r, range: beyond ? BEYOND_PKT_END : AT_PKT_END };
  }
}

/** goodPkt gives every packet pointer with the same base as `p` the range up to p (find_good_pkt_pointers). */
function goodPkt(st: VState, p: Reg, rightOpen: boolean): void {
  if (p.off < 0 || (p.off === 0 && rightOpen)) return;
  if (p.s.umax > BigInt(MAX_PACKET_OFF) || p.s.umax + BigInt(p.off) > BigInt(MAX_PACKET_OFF)) return;
  const range = p.off + (rightOpen ? 1 : 0);
  mapRegs(st, (r) => (r.type === p.type && r.id === p.id && r.range < range ? { ...r, range } : r));
}
