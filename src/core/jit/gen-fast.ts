/**
 * Checked mode's inline region test, from locals: the control block's fast slots (first
 * readable, writable and read-write region of the run, or the last one the table search hit)
 * are copied into locals at function entry and after every call, as a start S and, per access
 * size k, an exclusive limit LIM = span - k + 1 (0 when the region is smaller than k, or the
 * slot is empty). An access [a, a+k) then lies in the slot's region iff (a - S) <u LIM, with
 * 64-bit wrapping arithmetic: one subtraction and one compare per access, no loads.
 */
import type { Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { PERM_R, PERM_RW, PERM_W } from '../vm/memory.js';
import type { Code } from './wasm/encoder.js';
import { I64, Op } from './wasm/ops.js';
import { CB_FAST, type FnLocals } from './layout.js';

/** FastCache holds the locals of the fast slots: start per permission, limit per (permission, size). */
export interface FastCache {
  start: Map<number, number>;
  lim: Map<number, Map<number, number>>;
}

/** SLOTS_FOR lists the slots an access with `perm` tries, in order (reads: read-write first, as packets usually are). */
export const SLOTS_FOR: Record<number, number[]> = { [PERM_R]: [PERM_RW, PERM_R], [PERM_W]: [PERM_W], [PERM_RW]: [PERM_RW] };

/** accessKinds lists the (slot, size) pairs the program's non-stack-frame accesses need. */
function accessKinds(prog: Program, halves: Set<number>): Array<[number, number]> {
  const set = new Set<number>();
  prog.forEach((i, pc) => {
    if (halves.has(pc)) return;
    const cls = o.BPF_CLASS(i.code), mode = o.BPF_MODE(i.code);
    let perm = 0, base = -1, off = i.off;
    if (cls === o.BPF_LDX && (mode === o.BPF_MEM || mode === o.BPF_MEMSX)) [perm, base] = [PERM_R, i.src];
    else if ((cls === o.BPF_ST || cls === o.BPF_STX) && mode === o.BPF_MEM) [perm, base] = [PERM_W, i.dst];
    else if (cls === o.BPF_STX && mode === o.BPF_ATOMIC) [perm, base] = [PERM_RW, i.dst];
    else return;
    const size = o.sizeBytes(o.BPF_SIZE(i.code));
    if (base === 10 && off >= -o.STACK_FRAME_SIZE && off + size <= 0) return; // frame accesses skip the region test
    for (const s of SLOTS_FOR[perm]) set.add(s * 16 + size);
  });
  return [...set].sort((a, b) => a - b).map((k) => [k >> 4, k & 15]);
}

/** fastCache declares the fast-slot locals a program needs (none in trusted mode). */
export function fastCache(c: Code, prog: Program, halves: Set<number>): FastCache {
  const fc: FastCache = { start: new Map(), lim: new Map() };
  for (const [slot, size] of accessKinds(prog, halves)) {
    if (!fc.start.has(slot)) {
      fc.start.set(slot, c.local(I64));
      fc.lim.set(slot, new Map());
    }
    fc.lim.get(slot)!.set(size, c.local(I64));
  }
  return fc;
}

/** loadFast (re)loads the locals of `slots` (default: all) from the control block. */
export function loadFast(c: Code, L: FnLocals, fc: FastCache, slots?: number[]): void {
  for (const [slot, s] of fc.start) {
    if (slots && !slots.includes(slot)) continue;
    c.get(L.cb).mem(Op.i64_load32_u, 2, CB_FAST(slot)).set(s);
    c.get(L.cb).mem(Op.i64_load32_u, 2, CB_FAST(slot) + 4).set(L.t);
    for (const [size, lim] of fc.lim.get(slot)!) {
      // span >= size ? span - size + 1 : 0
      c.get(L.t).i64(size - 1).op(Op.i64_sub).i64(0).get(L.t).i64(size).op(Op.i64_ge_u, Op.select).set(lim);
    }
  }
}

/** fastTest pushes whether [a, a+size) lies in the region of fast slot `slot` (i32 0/1). */
export function fastTest(c: Code, fc: FastCache, a: number, slot: number, size: number): void {
  c.get(a).get(fc.start.get(slot)!).op(Op.i64_sub).get(fc.lim.get(slot)!.get(size)!).op(Op.i64_lt_u);
}
