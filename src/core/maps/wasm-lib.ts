/**
 * Internal functions of the Wasm map runtime: key comparison, checked-mode pointer checks
 * (same rules as HelperEnv.check), map pointer validation (same as table.ts), element and
 * per-CPU slot addresses, and the inline forms the exported helpers emit into their own
 * bodies. The key hash and chain search are in wasm-hash.ts.
 */
import type { Code } from '../jit/wasm/encoder.js';
import { STACK_SIZE } from '../vm/memory.js';
import { CB_NREGIONS, CB_REGIONS, REGION_ENTRY } from '../jit/layout.js';
import {
  BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY, H_ESTRIDE, H_KEY_SIZE, H_MAX_ENTRIES, H_NCPUS, H_STRIDE, H_TYPE,
  H_VALUES, HEADER_SIZE, RB_TABLE, RB_TABLE_LEN,
} from './layout.js';
import { I32, type MRT, Op, field, load32, memSize, newCode } from './wasm-util.js';
import { genFind, genHash } from './wasm-hash.js';

export { genFind, genHash };

/** Fault kinds passed to the runtime's `fault` import. */
export const MF_READ = 1, MF_WRITE = 2, MF_UNINIT = 3, MF_NOT_MAP = 4, MF_LOCK_ALIGN = 5, MF_LOCK_DEADLOCK = 6, MF_UNLOCK = 7;

/** genKeyEq: (a, b, len) -> 1 when the byte ranges are equal. */
export function genKeyEq(): Code {
  const c = newCode(3);
  const i = c.local(I32);
  c.block().loop();
  c.get(i).i32(8).op(Op.i32_add).get(2).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  c.get(0).get(i).op(Op.i32_add).mem(Op.i64_load, 0).get(1).get(i).op(Op.i32_add).mem(Op.i64_load, 0).op(Op.i64_ne);
  c.if().i32(0).op(Op.return).end();
  c.get(i).i32(8).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.block().loop();
  c.get(i).get(2).op(Op.i32_ge_u).op(Op.br_if).u32(1);
  c.get(0).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0).get(1).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0).op(Op.i32_ne);
  c.if().i32(0).op(Op.return).end();
  c.get(i).i32(1).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.i32(1);
  return c;
}

/**
 * genCheck: (addr i64, len i32, write i32, insn i32). Checked mode: the stack (reads need
 * initialised bytes, writes mark them) or one region of the control block with the
 * permission; always: inside the memory. Faults through the `fault` import.
 */
export function genCheck(m: MRT): Code {
  const c = newCode(4);
  const a = c.local(I32), i = c.local(I32), n = c.local(I32), e = c.local(I32), need = c.local(I32);
  const fail = (): void => {
    c.i32(MF_READ).get(2).op(Op.i32_add).get(3).get(0).get(1).call(m.fault).op(Op.unreachable);
  };
  const end64 = (): void => {
    c.get(0).get(1).op(Op.i64_extend_i32_u).op(Op.i64_add);
  };
  c.gget(m.gChecked).if();
  c.get(0).i64(0x100000000n).op(Op.i64_ge_u).if(); fail(); c.end();
  c.get(0).op(Op.i32_wrap_i64).set(a);
  // the stack: [base, base + STACK_SIZE), its shadow right after it
  c.get(0).gget(m.gStackBase).op(Op.i64_extend_i32_u).op(Op.i64_ge_u);
  end64(); c.gget(m.gStackBase).i32(STACK_SIZE).op(Op.i32_add).op(Op.i64_extend_i32_u).op(Op.i64_le_u);
  c.op(Op.i32_and).if();
  c.get(2).if();
  c.get(a).i32(STACK_SIZE).op(Op.i32_add).i32(1).get(1).memoryFill();
  c.else();
  c.block().loop();
  c.get(i).get(1).op(Op.i32_ge_u).op(Op.br_if).u32(1);
  c.get(a).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0, STACK_SIZE).i32(1).op(Op.i32_ne).if();
  c.i32(MF_UNINIT).get(3).get(a).get(i).op(Op.i32_add).op(Op.i64_extend_i32_u).i32(1).call(m.fault).op(Op.unreachable);
  c.end();
  c.get(i).i32(1).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.end();
  c.op(Op.return);
  c.end();
  // the extra regions of the current run
  c.i32(2).i32(1).get(2).op(Op.select).set(need); // write: 2 (W), read: 1 (R)
  c.gget(m.gCb); load32(c, CB_NREGIONS); c.set(n);
  c.gget(m.gCb); load32(c, CB_REGIONS); c.set(e);
  c.i32(0).set(i);
  c.block().loop();
  c.get(i).get(n).op(Op.i32_ge_u).op(Op.br_if).u32(1);
  c.get(0).get(e); load32(c, 0); c.op(Op.i64_extend_i32_u).op(Op.i64_ge_u);
  end64(); c.get(e); load32(c, 4); c.op(Op.i64_extend_i32_u).op(Op.i64_le_u).op(Op.i32_and);
  c.get(e); load32(c, 8); c.get(need).op(Op.i32_and).get(need).op(Op.i32_eq).op(Op.i32_and);
  c.if().op(Op.return).end();
  c.get(e).i32(REGION_ENTRY).op(Op.i32_add).set(e);
  c.get(i).i32(1).op(Op.i32_add).set(i).br(0);
  c.end().end();
  fail();
  c.end();
  outside(c, 0, 1);
  c.if(); fail(); c.end();
  return c;
}

/** genMapPtr: (p i64, insn i32) -> header address, or the not-a-map fault (see table.ts). */
export function genMapPtr(m: MRT): Code {
  const c = newCode(2);
  const a = c.local(I32), id = c.local(I32);
  emitMapPtr(c, m, 0, 1, a, id);
  c.get(a);
  return c;
}

/**
 * emitMapPtr sets local `a` to the header address in i64 local `p` when it is a map of the
 * table (else the not-a-map fault naming insn local `insn`); `id` is a scratch i32 local.
 */
export function emitMapPtr(c: Code, m: MRT, p: number, insn: number, a: number, id: number): void {
  c.block().block();
  c.get(p).i64(0x100000000n).op(Op.i64_ge_u).op(Op.br_if).u32(0);
  c.get(p).op(Op.i32_wrap_i64).tee(a).op(Op.i32_eqz).op(Op.br_if).u32(0);
  c.get(p).i64(HEADER_SIZE).op(Op.i64_add); memSize(c); c.op(Op.i64_gt_u).op(Op.br_if).u32(0);
  c.get(a); load32(c, 0); c.tee(id).op(Op.i32_eqz).op(Op.br_if).u32(0);
  c.get(id).gget(m.gBlock); load32(c, RB_TABLE_LEN); c.op(Op.i32_ge_u).op(Op.br_if).u32(0);
  c.gget(m.gBlock); load32(c, RB_TABLE); c.get(id).i32(2).op(Op.i32_shl).op(Op.i32_add); load32(c, 0);
  c.get(a).op(Op.i32_eq).op(Op.br_if).u32(1);
  c.end();
  c.i32(MF_NOT_MAP).get(insn).get(p).i32(0).call(m.fault).op(Op.unreachable);
  c.end();
}

/**
 * emitCheck checks [p, p + len) (i64 local p, i32 local len) for a helper: checked mode calls
 * `check`; trusted mode only needs it inside the memory (inline).
 */
export function emitCheck(c: Code, m: MRT, p: number, len: number, write: boolean, insn: number): void {
  c.gget(m.gChecked).if();
  c.get(p).get(len).i32(write ? 1 : 0).get(insn).call(m.check);
  c.else();
  outside(c, p, len);
  c.if();
  c.i32(write ? MF_WRITE : MF_READ).get(insn).get(p).get(len).call(m.fault).op(Op.unreachable);
  c.end();
  c.end();
}

/** outside pushes whether [p, p + len) (i64 local p, i32 local len) is not inside the memory (p >= 2^32 never is). */
function outside(c: Code, p: number, len: number): void {
  c.get(p).i64(0x100000000n).op(Op.i64_ge_u);
  c.get(p).get(len).op(Op.i64_extend_i32_u).op(Op.i64_add); memSize(c); c.op(Op.i64_gt_u);
  c.op(Op.i32_or);
}

/** isArrayT pushes (type == ARRAY || type == PERCPU_ARRAY) for the type in local `t`. */
export function isArrayT(c: Code, t: number): void {
  c.get(t).i32(BPF_MAP_TYPE_ARRAY).op(Op.i32_eq).get(t).i32(BPF_MAP_TYPE_PERCPU_ARRAY).op(Op.i32_eq).op(Op.i32_or);
}

/** isHashT pushes whether the type in local `t` is one of the hash types (1, 5, 9, 10). */
export function isHashT(c: Code, t: number): void {
  c.get(t).i32(1).op(Op.i32_eq).get(t).i32(5).op(Op.i32_eq).op(Op.i32_or);
  c.get(t).i32(9).op(Op.i32_eq).op(Op.i32_or).get(t).i32(10).op(Op.i32_eq).op(Op.i32_or);
}

/** genElem: (hdr, key) -> address of the element's value storage (all CPUs), or 0. */
export function genElem(m: MRT): Code {
  const c = newCode(2);
  const t = c.local(I32), x = c.local(I32);
  field(c, 0, H_TYPE); c.set(t);
  isArrayT(c, t); c.if();
  c.get(1); load32(c); c.tee(x); field(c, 0, H_MAX_ENTRIES); c.op(Op.i32_ge_u).if().i32(0).op(Op.return).end();
  field(c, 0, H_VALUES); c.get(x); field(c, 0, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add).op(Op.return);
  c.end();
  isHashT(c, t); c.if();
  c.get(0).get(1).get(1); field(c, 0, H_KEY_SIZE); c.call(m.hash).call(m.find).tee(x).op(Op.i32_eqz).if().i32(0).op(Op.return).end();
  field(c, 0, H_VALUES); c.get(x).i32(1).op(Op.i32_sub); field(c, 0, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add).op(Op.return);
  c.end();
  c.i32(0);
  return c;
}

/** genSlot: (hdr, base) -> the running CPU's slot of an element's value storage. */
export function genSlot(m: MRT): Code {
  const c = newCode(2);
  c.get(1);
  emitCpuOff(c, m, 0);
  c.op(Op.i32_add);
  return c;
}

/** emitCpuOff pushes the running CPU's slot offset in the values of the map in local `hdr` (0 unless per-CPU). */
export function emitCpuOff(c: Code, m: MRT, hdr: number): void {
  field(c, hdr, H_NCPUS); c.i32(1).op(Op.i32_gt_u).if(I32);
  c.gget(m.gCpu); field(c, hdr, H_STRIDE); c.op(Op.i32_mul);
  c.else().i32(0).end();
}
