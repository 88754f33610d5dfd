/**
 * Small emit helpers for the Wasm map runtime (wasm-*.ts): loads and stores of header
 * fields, memory.copy/fill, returning -errno, spin-lock acquire/release.
 */
import { Code } from '../jit/wasm/encoder.js';
import { Atomic, I32, I64, Op, PREFIX_FC } from '../jit/wasm/ops.js';
import { H_LOCK } from './layout.js';
import type { NativeFns } from './wasm-native.js';

export { I32, I64, Op };

/** MRT are the indices the map runtime's functions refer to. */
export interface MRT {
  fault: number;
  /**
   * import (op, hdr, key, val, flags, insn) -> i64: the TypeScript update (op 0), delete (op 1)
   * or lookup (op 2) for the types the module leaves to TypeScript (LRU, LPM, extension types)
   */
  js: number;
  gStackBase: number;
  gCb: number;
  gCpu: number;
  gChecked: number;
  gBlock: number;
  hash: number;
  keyeq: number;
  check: number;
  mapptr: number;
  find: number;
  elem: number;
  slot: number;
  /** the natively implemented LRU and LPM operations (wasm-native.ts) */
  native: NativeFns;
  shared: boolean;
}

/** field pushes the u32 header field at `off` of the header in local `hdr`. */
export function field(c: Code, hdr: number, off: number): Code {
  return c.get(hdr).mem(Op.i32_load, 2, off);
}

/** load32 loads a u32 from the address on the stack (+off). */
export function load32(c: Code, off = 0): Code {
  return c.mem(Op.i32_load, 2, off);
}

/** store32 stores (addr, value) from the stack. */
export function store32(c: Code, off = 0): Code {
  return c.mem(Op.i32_store, 2, off);
}

/** memCopy emits memory.copy (dst, src, len on the stack). */
export function memCopy(c: Code): Code {
  c.byte(PREFIX_FC);
  c.u32(10);
  c.byte(0);
  c.byte(0);
  return c;
}

/** memSize pushes the memory size in bytes as i64. */
export function memSize(c: Code): Code {
  c.op(0x3f, 0x00).op(Op.i64_extend_i32_u).i64(16).op(Op.i64_shl);
  return c;
}

/** retErr returns -errno (i64) from the current function. */
export function retErr(c: Code, errno: number): Code {
  return c.i64(-errno).op(Op.return);
}

/** lock takes the map's sequence lock: spins until an atomic OR sets bit 0 that was clear (shared memory only; see lock.ts). */
export function lock(c: Code, m: MRT, hdr: number): void {
  if (!m.shared) return;
  c.loop();
  c.get(hdr).i32(1).atomic(Atomic.i32_rmw_or, 2, H_LOCK).i32(1).op(Op.i32_and);
  c.op(Op.br_if).u32(0);
  c.end();
}

/** unlock releases the map's sequence lock: an atomic ADD of 1 makes the word even again. */
export function unlock(c: Code, m: MRT, hdr: number): void {
  if (!m.shared) return;
  c.get(hdr).i32(1).atomic(Atomic.i32_rmw_add, 2, H_LOCK).op(Op.drop);
}

/**
 * readLoop wraps `body` (which leaves nothing on the stack) in a validated lock-free read:
 * wait while the sequence word in local `seq` is odd, run the body, start over when the word
 * changed (shared memory only; otherwise just the body).
 */
export function readLoop(c: Code, m: MRT, hdr: number, seq: number, body: () => void): void {
  if (!m.shared) {
    body();
    return;
  }
  c.loop();
  c.get(hdr).atomic(Atomic.i32_load, 2, H_LOCK).tee(seq).i32(1).op(Op.i32_and).op(Op.br_if).u32(0);
  body();
  c.get(hdr).atomic(Atomic.i32_load, 2, H_LOCK).get(seq).op(Op.i32_ne).op(Op.br_if).u32(0);
  c.end();
}

/** newCode makes a function body with `nparams` params. */
export function newCode(nparams: number): Code {
  return new Code(nparams);
}
