/**
 * bpf_spin_lock / bpf_spin_unlock in the Wasm map runtime, with the JIT's helper signature
 * (r1..r5 i64, insn i32) -> i64: the same steps as the JavaScript helpers (runtime/helpers.ts,
 * maps/spin-lock.ts): the lock pointer checked as a 4-byte write, 4-byte alignment, then the
 * lock word taken with an atomic compare-exchange loop (shared memory) or a plain test-and-set
 * (unshared), holder id = CPU + 1; a lock its own CPU holds (or, unshared, any held lock) and
 * an unlock by a non-holder fault through the `fault` import.
 */
import type { Code } from '../jit/wasm/encoder.js';
import { Atomic } from '../jit/wasm/ops.js';
import { MF_LOCK_ALIGN, MF_LOCK_DEADLOCK, MF_UNLOCK } from './wasm-lib.js';
import { I32, type MRT, Op, newCode } from './wasm-util.js';

const INSN = 5;

/** prologue: check r1 as a 4-byte write, then alignment; sets locals a (address) and me (holder id). */
function prologue(c: Code, m: MRT, a: number, me: number): void {
  c.get(0).i32(4).i32(1).get(INSN).call(m.check);
  c.get(0).op(Op.i32_wrap_i64).tee(a).i32(3).op(Op.i32_and).if();
  c.i32(MF_LOCK_ALIGN).get(INSN).get(0).i32(4).call(m.fault).op(Op.unreachable);
  c.end();
  c.gget(m.gCpu).i32(1).op(Op.i32_add).set(me);
}

function fault(c: Code, m: MRT, kind: number): void {
  c.i32(kind).get(INSN).get(0).i32(4).call(m.fault).op(Op.unreachable);
}

/** genSpinLock: take the lock at r1; returns 0. */
export function genSpinLock(m: MRT): Code {
  const c = newCode(6);
  const a = c.local(I32), me = c.local(I32), old = c.local(I32);
  prologue(c, m, a, me);
  if (m.shared) {
    c.block().loop();
    c.get(a).i32(0).get(me).atomic(Atomic.i32_rmw_cmpxchg, 2, 0).tee(old).op(Op.i32_eqz).op(Op.br_if).u32(1);
    c.get(old).get(me).op(Op.i32_eq).if(); fault(c, m, MF_LOCK_DEADLOCK); c.end();
    c.br(0);
    c.end().end();
  } else {
    c.get(a).mem(Op.i32_load, 2, 0).if(); fault(c, m, MF_LOCK_DEADLOCK); c.end();
    c.get(a).get(me).mem(Op.i32_store, 2, 0);
  }
  // remembered for the exit check of the run (spin-exit.ts)
  c.get(a).i32(1).op(Op.i32_add).gset(m.native.spinHeld);
  c.i64(0);
  return c;
}

/** genSpinUnlock: release the lock at r1 held by this CPU; returns 0. */
export function genSpinUnlock(m: MRT): Code {
  const c = newCode(6);
  const a = c.local(I32), me = c.local(I32);
  prologue(c, m, a, me);
  if (m.shared) {
    c.get(a).get(me).i32(0).atomic(Atomic.i32_rmw_cmpxchg, 2, 0).get(me).op(Op.i32_ne).if(); fault(c, m, MF_UNLOCK); c.end();
  } else {
    c.get(a).mem(Op.i32_load, 2, 0).get(me).op(Op.i32_ne).if(); fault(c, m, MF_UNLOCK); c.end();
    c.get(a).i32(0).mem(Op.i32_store, 2, 0);
  }
  c.gget(m.native.spinHeld).get(a).i32(1).op(Op.i32_add).op(Op.i32_eq).if().i32(0).gset(m.native.spinHeld).end();
  c.i64(0);
  return c;
}
