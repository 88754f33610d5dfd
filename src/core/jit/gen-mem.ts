/**
 * Memory instructions: LDX (zero- and sign-extending), ST/STX, atomics and the legacy packet
 * loads. Checked mode inlines a test of the run's fast-path regions (gen-fast.ts; disjoint from the stack)
 * and the stack path (bounds + shadow bytes; r10-relative accesses need only the shadow), and
 * calls the generated `region` function for the rest; trusted mode uses the low 32 bits of the address
 * directly and relies on Wasm's own bounds checks.
 */
import type { Insn } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { STACK_SIZE, PERM_R, PERM_RW, PERM_W } from '../vm/memory.js';
import { Atomic, Op } from './wasm/ops.js';
import { type Gen, bswap16, bswap32, fault } from './gen-ctx.js';
import { syncBudget } from './gen-flow.js';
import { CB_PKT_LEN, CB_PKT_START, F_UNINIT } from './layout.js';
import { SLOTS_FOR, fastTest, loadFast } from './gen-fast.js';

const LOAD_U: Record<number, number> = { 1: Op.i64_load8_u, 2: Op.i64_load16_u, 4: Op.i64_load32_u, 8: Op.i64_load };
const LOAD_S: Record<number, number> = { 1: Op.i64_load8_s, 2: Op.i64_load16_s, 4: Op.i64_load32_s, 8: Op.i64_load };
const STORE64: Record<number, number> = { 1: Op.i64_store8, 2: Op.i64_store16, 4: Op.i64_store32, 8: Op.i64_store };
const STORE32: Record<number, number> = { 1: Op.i32_store8, 2: Op.i32_store16, 4: Op.i32_store };
const SHADOW_LOAD: Record<number, number> = { 1: Op.i32_load8_u, 2: Op.i32_load16_u, 4: Op.i32_load, 8: Op.i64_load };

function shadowPattern(g: Gen, size: number): void {
  if (size === 8) g.c.i64(0x0101010101010101n);
  else g.c.i32(size === 4 ? 0x01010101 : size === 2 ? 0x0101 : 1);
}

/**
 * address pushes the i32 address of a `size`-byte access at reg + off after the checks of
 * the mode. `perm` is PERM_R, PERM_W or PERM_RW (atomics: must be readable and writable,
 * and on the stack initialised like a read).
 */
export function address(g: Gen, reg: number, off: number, size: number, perm: number, pc: number): void {
  const c = g.c;
  const r = g.L.reg[reg];
  if (!g.o.checked) {
    c.get(r).op(Op.i32_wrap_i64);
    if (off !== 0) c.i32(off).op(Op.i32_add);
    return;
  }
  if (reg === 10 && off >= -o.STACK_FRAME_SIZE && off + size <= 0) return frameAddress(g, off, size, perm, pc);
  const a = g.L.a;
  c.get(r);
  if (off !== 0) c.i64(off).op(Op.i64_add);
  c.set(a);
  // the fast-path regions (never overlapping the stack) first: packet and context accesses
  const fc = g.fast!;
  const slots = SLOTS_FOR[perm];
  for (const slot of slots) {
    fastTest(c, fc, a, slot, size);
    c.op(Op.i32_eqz).if();
  }
  c.get(a).get(g.L.sb).op(Op.i64_sub).i64(STACK_SIZE - size).op(Op.i64_le_u).if();
  if (perm === PERM_W) {
    c.get(a).op(Op.i32_wrap_i64);
    shadowPattern(g, size);
    c.mem(size === 8 ? Op.i64_store : STORE32[size], 0, STACK_SIZE);
  } else {
    c.get(a).op(Op.i32_wrap_i64).mem(SHADOW_LOAD[size], 0, STACK_SIZE);
    shadowPattern(g, size);
    c.op(size === 8 ? Op.i64_ne : Op.i32_ne).if();
    fault(g, F_UNINIT, pc, a, size);
    c.end();
  }
  // a table hit becomes the fast slot of `perm`
  c.else().get(a).i32(size).i32(perm).i32(pc).call(g.m.region);
  loadFast(c, g.L, fc, [perm]);
  c.end();
  for (let k = 0; k < slots.length; k++) c.end();
  c.get(a).op(Op.i32_wrap_i64);
}

/**
 * frameAddress handles r10 + off with -512 <= off and off + size <= 0: r10 is read-only and
 * lies in [stack base + 512, stack base + 4096], so the access is on the stack whatever the
 * frame and only the shadow bytes need checking (reads) or marking (writes).
 */
function frameAddress(g: Gen, off: number, size: number, perm: number, pc: number): void {
  const c = g.c;
  const p = g.L.i;
  c.get(g.L.reg[10]).op(Op.i32_wrap_i64);
  if (off !== 0) c.i32(off).op(Op.i32_add);
  c.tee(p);
  if (perm === PERM_W) {
    shadowPattern(g, size);
    c.mem(size === 8 ? Op.i64_store : STORE32[size], 0, STACK_SIZE);
  } else {
    c.mem(SHADOW_LOAD[size], 0, STACK_SIZE);
    shadowPattern(g, size);
    c.op(size === 8 ? Op.i64_ne : Op.i32_ne).if();
    c.get(p).op(Op.i64_extend_i32_u).set(g.L.a);
    fault(g, F_UNINIT, pc, g.L.a, size);
    c.end();
  }
  c.get(p);
}

/** emitLoad emits LDX MEM / MEMSX. */
export function emitLoad(g: Gen, i: Insn, pc: number): void {
  const size = o.sizeBytes(o.BPF_SIZE(i.code));
  address(g, i.src, i.off, size, PERM_R, pc);
  const sx = o.BPF_MODE(i.code) === o.BPF_MEMSX;
  g.c.mark(pc).mem((sx ? LOAD_S : LOAD_U)[size], 0, 0).set(g.L.reg[i.dst]);
}

/** emitStore emits ST MEM (immediate) and STX MEM (register). */
export function emitStore(g: Gen, i: Insn, pc: number): void {
  const size = o.sizeBytes(o.BPF_SIZE(i.code));
  address(g, i.dst, i.off, size, PERM_W, pc);
  if (o.BPF_CLASS(i.code) === o.BPF_STX) {
    g.c.get(g.L.reg[i.src]).mark(pc).mem(STORE64[size], 0, 0);
  } else if (size === 8) {
    g.c.i64(i.imm).mark(pc).mem(Op.i64_store, 0, 0);
  } else {
    g.c.i32(i.imm).mark(pc).mem(STORE32[size], 0, 0);
  }
}

const RMW32: Record<number, number> = {
  [o.BPF_ADD]: Atomic.i32_rmw_add, [o.BPF_OR]: Atomic.i32_rmw_or, [o.BPF_AND]: Atomic.i32_rmw_and,
  [o.BPF_XOR]: Atomic.i32_rmw_xor, [o.BPF_XCHG & ~o.BPF_FETCH]: Atomic.i32_rmw_xchg,
};
const RMW64: Record<number, number> = {
  [o.BPF_ADD]: Atomic.i64_rmw_add, [o.BPF_OR]: Atomic.i64_rmw_or, [o.BPF_AND]: Atomic.i64_rmw_and,
  [o.BPF_XOR]: Atomic.i64_rmw_xor, [o.BPF_XCHG & ~o.BPF_FETCH]: Atomic.i64_rmw_xchg,
};
const PLAIN64: Record<number, number> = {
  [o.BPF_ADD]: Op.i64_add, [o.BPF_OR]: Op.i64_or, [o.BPF_AND]: Op.i64_and, [o.BPF_XOR]: Op.i64_xor,
};

/**
 * emitAtomic emits STX | ATOMIC (W, DW). The old value ends up zero-extended in scratch `u`;
 * then CMPXCHG puts it in r0 and the FETCH forms in src. Shared memory uses Wasm atomics
 * when the address is naturally aligned (Wasm traps on unaligned atomics; the interpreter
 * makes the same choice with Atomics.*); otherwise a plain read-modify-write is exact.
 */
export function emitAtomic(g: Gen, i: Insn, pc: number): void {
  const c = g.c;
  const is64 = o.BPF_SIZE(i.code) === o.BPF_DW;
  const size = is64 ? 8 : 4;
  address(g, i.dst, i.off, size, PERM_RW, pc);
  c.set(g.L.p);
  if (g.o.shared) {
    c.get(g.L.p).i32(size - 1).op(Op.i32_and, Op.i32_eqz).if();
    atomicShared(g, i, is64, pc);
    c.else();
    atomicPlain(g, i, is64, pc);
    c.end();
  } else {
    atomicPlain(g, i, is64, pc);
  }
  if (i.imm === o.BPF_CMPXCHG) c.get(g.L.u).set(g.L.reg[0]);
  else if (i.imm & o.BPF_FETCH) c.get(g.L.u).set(g.L.reg[i.src]);
}

function atomicPlain(g: Gen, i: Insn, is64: boolean, pc: number): void {
  const c = g.c;
  const { p, u } = g.L;
  const s = g.L.reg[i.src];
  const store = is64 ? Op.i64_store : Op.i64_store32;
  c.get(p).mark(pc).mem(is64 ? Op.i64_load : Op.i64_load32_u, 0, 0).set(u);
  c.get(p);
  const kind = i.imm & ~o.BPF_FETCH;
  if (i.imm === o.BPF_CMPXCHG) {
    c.get(s).get(u).get(u).get(g.L.reg[0]);
    if (!is64) c.i64(0xffffffffn).op(Op.i64_and);
    c.op(Op.i64_eq, Op.select);
  } else if (i.imm === o.BPF_XCHG) {
    c.get(s);
  } else {
    c.get(u).get(s).op(PLAIN64[kind]);
  }
  c.mark(pc).mem(store, 0, 0);
}

function atomicShared(g: Gen, i: Insn, is64: boolean, pc: number): void {
  const c = g.c;
  const { p, u } = g.L;
  const s = g.L.reg[i.src];
  const wrap = (): void => void (is64 ? 0 : c.op(Op.i32_wrap_i64));
  c.get(p);
  if (i.imm === o.BPF_CMPXCHG) {
    c.get(g.L.reg[0]);
    wrap();
    c.get(s);
    wrap();
    c.mark(pc).atomic(is64 ? Atomic.i64_rmw_cmpxchg : Atomic.i32_rmw_cmpxchg, is64 ? 3 : 2);
  } else {
    c.get(s);
    wrap();
    c.mark(pc).atomic((is64 ? RMW64 : RMW32)[i.imm & ~o.BPF_FETCH], is64 ? 3 : 2);
  }
  if (!is64) c.op(Op.i64_extend_i32_u);
  c.set(u);
}

/**
 * emitLdAbs emits LD_ABS / LD_IND: r0 = big-endian packet load, or the run ends returning 0
 * when the offset is negative or the load does not fit (no packet: length -1, never fits).
 */
export function emitLdAbs(g: Gen, i: Insn, refund: number): void {
  const c = g.c;
  const size = o.sizeBytes(o.BPF_SIZE(i.code));
  const t = g.L.t;
  if (o.BPF_MODE(i.code) === o.BPF_IND) {
    c.get(g.L.reg[i.src]).i64(0xffffffffn).op(Op.i64_and).i64(i.imm).op(Op.i64_add);
  } else {
    c.i64(i.imm);
  }
  c.tee(t).i64(0).op(Op.i64_lt_s);
  c.get(t).i64(size).op(Op.i64_add).get(g.L.cb).mem(Op.i64_load32_s, 2, CB_PKT_LEN).op(Op.i64_gt_s);
  c.op(Op.i32_or).if();
  ldAbsMiss(g, refund);
  c.end();
  c.get(g.L.cb).mem(Op.i32_load, 2, CB_PKT_START).get(t).op(Op.i32_wrap_i64, Op.i32_add);
  if (size === 1) c.mem(Op.i64_load8_u, 0, 0);
  else {
    c.mem(size === 2 ? Op.i32_load16_u : Op.i32_load, 0, 0);
    if (size === 2) bswap16(g);
    else bswap32(g);
    c.op(Op.i64_extend_i32_u);
  }
  c.set(g.L.reg[0]);
}

/**
 * ldAbsMiss ends the run with r0 = 0: a plain return in frame 0, the ldabsExit import deeper.
 * The instructions of the budget unit after this one were charged but never run: refunded.
 */
function ldAbsMiss(g: Gen, refund: number): void {
  const c = g.c;
  const fp = g.L.reg[10];
  if (g.o.budget && refund > 0) c.get(g.L.bud).i64(refund).op(Op.i64_add).set(g.L.bud);
  syncBudget(g);
  c.get(fp).get(g.L.sb).i64(STACK_SIZE).op(Op.i64_add, Op.i64_eq).if();
  c.i64(0);
  for (let r = 1; r <= 5; r++) c.get(g.L.reg[r]);
  c.op(Op.return).else().call(g.m.ldabsExit).op(Op.unreachable).end();
}

