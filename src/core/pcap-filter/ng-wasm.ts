/**
 * The record moves of the pcapng conversion, in WebAssembly. Converting a block in place is a
 * short copy of its packet data and a 16-byte header; done one by one from JavaScript, the
 * copy (TypedArray copyWithin) costs more than reading the block. So the converter only
 * lists the moves (MOVE_WORDS u32 each) and `moves(list, end)` performs them in order in one
 * call per window. Performing them in order is safe: each writes only below the end of its
 * own block, and every later block lies after that.
 */
import { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { FC, I32, Op, PREFIX_FC } from '../jit/wasm/ops.js';

/** MOVE_WORDS is the size of a listed move: dst, src, caplen, seconds, microseconds, wire length. */
export const MOVE_WORDS = 6;

/** MoveFn performs the moves listed in [list, end) (byte addresses). */
export type MoveFn = (list: number, end: number) => void;

/** buildMoveModule returns the module bytes (imports env.memory; exports moves). */
export function buildMoveModule(shared: boolean): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const fn = mb.declareFunc([I32, I32], []);
  mb.defineFunc(fn, movesBody());
  mb.exportFunc('moves', fn);
  return mb.encode();
}

/** instantiateMoves compiles the module for `memory` and returns its moves function. */
export function instantiateMoves(memory: WebAssembly.Memory, shared: boolean): MoveFn {
  const bytes = buildMoveModule(shared) as Uint8Array<ArrayBuffer>;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } } as WebAssembly.Imports);
  return inst.exports.moves as unknown as MoveFn;
}

function movesBody(): Code {
  const c = new Code(2);
  const E = 0, END = 1;
  const dst = c.local(I32);
  c.block().loop();
  c.get(E).get(END).op(Op.i32_ge_u, Op.br_if).u32(1);
  c.get(E).mem(Op.i32_load, 2, 0).set(dst);
  // the data first: a simple packet block's data starts inside the header's place
  c.get(dst).i32(16).op(Op.i32_add).get(E).mem(Op.i32_load, 2, 4).get(E).mem(Op.i32_load, 2, 8);
  c.byte(PREFIX_FC);
  c.u32(FC.memory_copy);
  c.byte(0);
  c.byte(0);
  c.get(dst).get(E).mem(Op.i32_load, 2, 12).mem(Op.i32_store, 2, 0);
  c.get(dst).get(E).mem(Op.i32_load, 2, 16).mem(Op.i32_store, 2, 4);
  c.get(dst).get(E).mem(Op.i32_load, 2, 8).mem(Op.i32_store, 2, 8);
  c.get(dst).get(E).mem(Op.i32_load, 2, 20).mem(Op.i32_store, 2, 12);
  c.get(E).i32(4 * MOVE_WORDS).op(Op.i32_add).set(E);
  c.br(0).end().end();
  return c;
}
