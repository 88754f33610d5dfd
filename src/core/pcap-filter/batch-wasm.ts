/**
 * The record loop of the batch filter, generated as WebAssembly: `scan(p, n, flags)` walks the
 * classic pcap records in [p, n) of the address space and calls the JIT-compiled filter on
 * each (imported straight from the program's instance, so a packet never crosses into
 * JavaScript). Selected records are compacted in place (memmove to a cursor that never passes
 * the record being read) and/or listed as (record address, record number) pairs.
 */
import { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { F64, FC, I32, Op, PREFIX_FC } from '../jit/wasm/ops.js';

/** SCAN_COMPACT / SCAN_LIST are the `flags` bits of scan. */
export const SCAN_COMPACT = 1, SCAN_LIST = 2;

/** ScanLayout is what the generated loop bakes in. */
export interface ScanLayout {
  littleEndian: boolean;
  /** larger captured lengths mean a corrupt file */
  maxLen: number;
  /** JIT control block address and the offsets of r1..r5 and r0 in it (the JIT's embed.ts) */
  cb: number;
  cbArgs: number;
  cbR0: number;
  shared: boolean;
}

/**
 * buildScanModule returns the module bytes. Imports env.memory and env.prog (the JIT's
 * entry(budget f64), which reads r1..r5 from the control block and writes r0 there); exports scan(p i32, n i32, flags i32) -> i32, which returns n when every record was
 * complete, the address of an incomplete last record, or -1 - address of a record whose
 * captured length exceeds maxLen; and the mutable i32 globals `dst` (compaction cursor, set
 * by the caller before scan), `list` (list cursor), `index` (records seen) and `count` (selected).
 */
export function buildScanModule(L: ScanLayout): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: L.shared ? 65536 : undefined, shared: L.shared });
  const prog = mb.importFunc('env', 'prog', [F64], []);
  const g = { dst: mb.global(I32, 0), list: mb.global(I32, 0), index: mb.global(I32, 0), count: mb.global(I32, 0) };
  for (const [name, idx] of Object.entries(g)) mb.exportGlobal(name, idx);
  const fn = mb.declareFunc([I32, I32, I32], [I32]);
  mb.defineFunc(fn, scanBody(L, prog, g));
  mb.exportFunc('scan', fn);
  return mb.encode();
}

/** f64zero emits f64.const 0 (the budget argument: trusted programs do not count). */
function f64zero(c: Code): void {
  c.byte(0x44);
  c.bytes(new Uint8Array(8));
}

/** load32 pushes the file-order u32 at local `p` + off (byte-swapped for big-endian files). */
function load32(c: Code, L: ScanLayout, p: number, off: number, t: number): void {
  c.get(p).mem(Op.i32_load, 0, off);
  if (L.littleEndian) return;
  c.tee(t).i32(8).op(Op.i32_rotl).i32(0x00ff00ff).op(Op.i32_and);
  c.get(t).i32(24).op(Op.i32_rotl).i32(0xff00ff00 | 0).op(Op.i32_and, Op.i32_or);
}

function scanBody(L: ScanLayout, prog: number, g: { dst: number; list: number; index: number; count: number }): Code {
  const c = new Code(3);
  const P = 0, N = 1, FLAGS = 2;
  const cl = c.local(I32), v = c.local(I32), t = c.local(I32), size = c.local(I32);
  const arg = (k: number): number => L.cbArgs + 8 * k;
  // r4 (meta) and r5 stay 0 for every record
  c.i32(L.cb).i64(0).mem(Op.i64_store, 3, arg(3));
  c.i32(L.cb).i64(0).mem(Op.i64_store, 3, arg(4));
  c.block().loop();
  // a record header must fit, then its data
  c.get(N).get(P).op(Op.i32_sub).i32(16).op(Op.i32_lt_u, Op.br_if).u32(1);
  load32(c, L, P, 8, t);
  c.tee(cl).i32(L.maxLen).op(Op.i32_gt_u).if();
  c.i32(-1).get(P).op(Op.i32_sub, Op.return);
  c.end();
  c.get(N).get(P).op(Op.i32_sub).i32(16).op(Op.i32_sub).get(cl).op(Op.i32_lt_u, Op.br_if).u32(1);
  callProgram(c, L, prog, P, cl, t);
  c.set(v);
  c.gget(g.index).i32(1).op(Op.i32_add).gset(g.index);
  c.get(cl).i32(16).op(Op.i32_add).set(size);
  c.get(v).if();
  c.gget(g.count).i32(1).op(Op.i32_add).gset(g.count);
  c.get(FLAGS).i32(SCAN_LIST).op(Op.i32_and).if();
  c.gget(g.list).get(P).mem(Op.i32_store, 2, 0);
  c.gget(g.list).gget(g.index).mem(Op.i32_store, 2, 4);
  c.gget(g.list).i32(8).op(Op.i32_add).gset(g.list);
  c.end();
  c.get(FLAGS).i32(SCAN_COMPACT).op(Op.i32_and).if();
  c.gget(g.dst).get(P).get(size);
  c.byte(PREFIX_FC);
  c.u32(FC.memory_copy);
  c.byte(0);
  c.byte(0);
  c.gget(g.dst).get(size).op(Op.i32_add).gset(g.dst);
  c.end();
  c.end();
  c.get(P).get(size).op(Op.i32_add).set(P);
  c.br(0).end().end();
  c.get(P);
  return c;
}

/** callProgram runs the filter on the record at P (caplen in cl); leaves the verdict (i32) on the stack. */
function callProgram(c: Code, L: ScanLayout, prog: number, P: number, cl: number, t: number): void {
  c.i32(L.cb);
  c.get(P).i32(16).op(Op.i32_add, Op.i64_extend_i32_u);
  c.mem(Op.i64_store, 3, L.cbArgs);
  c.i32(L.cb).get(cl).op(Op.i64_extend_i32_u).mem(Op.i64_store, 3, L.cbArgs + 8);
  c.i32(L.cb);
  load32(c, L, P, 12, t);
  c.op(Op.i64_extend_i32_u).mem(Op.i64_store, 3, L.cbArgs + 16);
  f64zero(c);
  c.call(prog);
  c.i32(L.cb).mem(Op.i32_load, 2, L.cbR0);
}
