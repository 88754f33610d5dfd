/**
 * LPM trie lookups in the Wasm map runtime: the walk of lpm.ts's Trie.lookup over the same
 * nodes in map memory (longest stored prefix whose length is at most the key's and whose
 * bits match), so a JIT program's LPM lookups never leave Wasm. Updates and deletes stay
 * TypeScript (the `js` import). A node's prefix is compared from the first byte its parent
 * did not already cover (a child extends its parent's prefix), 8 bytes at a time.
 * With shared memory the walk is a validated lock-free read (readLoop) bounded in steps.
 */
import type { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { H_ESTRIDE, H_KEY_SIZE, H_MAX_ENTRIES, H_VALUES } from './layout.js';
import { H_LPM_NODES, H_LPM_ROOT, LN_DATA, LN_PLEN, LPM_NODE } from './lpm.js';
import { I32, type MRT, Op, field, load32, newCode, readLoop } from './wasm-util.js';

/** LpmFns are the indices of the LPM functions in the module. */
export interface LpmFns {
  /** (hdr, key) -> value address of the longest matching prefix, or 0 */
  lookup: number;
  /** internal: (a, b, from, plen) -> 1 when bytes [from, plen / 8) and the top plen % 8 bits of the next byte agree */
  prefixEq: number;
}

/** declareLpm declares the LPM functions. */
export function declareLpm(mb: ModuleBuilder): LpmFns {
  return { lookup: mb.declareFunc([I32, I32], [I32]), prefixEq: mb.declareFunc([I32, I32, I32, I32], [I32]) };
}

/** defineLpm emits their bodies. */
export function defineLpm(mb: ModuleBuilder, m: MRT, f: LpmFns): void {
  mb.defineFunc(f.prefixEq, genPrefixEq());
  mb.defineFunc(f.lookup, genLpmLookup(m, f));
}

function genPrefixEq(): Code {
  const c = newCode(4);
  const a = 0, b = 1, i = 2, pl = 3, full = c.local(I32);
  const byteAt = (p: number): void => {
    c.get(p).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0);
  };
  c.get(pl).i32(3).op(Op.i32_shr_u).set(full);
  c.block().loop();
  c.get(i).i32(8).op(Op.i32_add).get(full).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  c.get(a).get(i).op(Op.i32_add).mem(Op.i64_load, 0).get(b).get(i).op(Op.i32_add).mem(Op.i64_load, 0).op(Op.i64_ne);
  c.if().i32(0).op(Op.return).end();
  c.get(i).i32(8).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.block().loop();
  c.get(i).get(full).op(Op.i32_ge_u).op(Op.br_if).u32(1);
  byteAt(a); byteAt(b); c.op(Op.i32_ne).if().i32(0).op(Op.return).end();
  c.get(i).i32(1).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.get(pl).i32(7).op(Op.i32_and).if(I32);
  byteAt(a); byteAt(b); c.op(Op.i32_xor);
  c.i32(0xff).i32(8).get(pl).i32(7).op(Op.i32_and).op(Op.i32_sub).op(Op.i32_shl).op(Op.i32_and).op(Op.i32_eqz);
  c.else().i32(1).end();
  return c;
}

/** genLpmLookup: (hdr, key) -> value address or 0 (see lpm.ts lpmLookupSlot). */
function genLpmLookup(m: MRT, f: LpmFns): Code {
  const c = newCode(2);
  const hdr = 0, key = 1;
  const klen = c.local(I32), v = c.local(I32), x = c.local(I32), rec = c.local(I32), pl = c.local(I32);
  const from = c.local(I32), found = c.local(I32), steps = c.local(I32), seq = c.local(I32), d = c.local(I32);
  c.get(key); load32(c); c.tee(klen); field(c, hdr, H_KEY_SIZE); c.i32(4).op(Op.i32_sub).i32(3).op(Op.i32_shl).op(Op.i32_gt_u);
  c.if().i32(0).op(Op.return).end();
  c.get(key).i32(4).op(Op.i32_add).set(d);
  readLoop(c, m, hdr, seq, () => {
    c.i32(-1).set(found).i32(0).set(from).i32(0).set(steps);
    field(c, hdr, H_LPM_ROOT).set(v);
    c.block().loop();
    c.get(v).op(Op.i32_eqz).op(Op.br_if).u32(1);
    // prefix lengths grow along a path: more steps than bits means a racing writer (shared memory)
    c.get(steps).i32(1).op(Op.i32_add).tee(steps).get(klen).i32(2).op(Op.i32_add).op(Op.i32_gt_u).op(Op.br_if).u32(1);
    field(c, hdr, H_LPM_NODES); c.get(v).i32(1).op(Op.i32_sub).tee(x).i32(LPM_NODE).op(Op.i32_mul).op(Op.i32_add).tee(rec);
    load32(c, LN_PLEN); c.tee(pl).get(klen).op(Op.i32_gt_u).op(Op.br_if).u32(1);
    c.get(rec); load32(c, LN_DATA); c.get(d).get(from).get(pl).call(f.prefixEq).op(Op.i32_eqz).op(Op.br_if).u32(1);
    c.get(x); field(c, hdr, H_MAX_ENTRIES); c.op(Op.i32_lt_u).if().get(x).set(found).end();
    c.get(pl).get(klen).op(Op.i32_eq).op(Op.br_if).u32(1);
    // child by bit pl of the key
    c.get(rec);
    c.get(d).get(pl).i32(3).op(Op.i32_shr_u).tee(from).op(Op.i32_add).mem(Op.i32_load8_u, 0);
    c.i32(7).get(pl).i32(7).op(Op.i32_and).op(Op.i32_sub).op(Op.i32_shr_u).i32(1).op(Op.i32_and).i32(2).op(Op.i32_shl);
    c.op(Op.i32_add); load32(c); c.set(v);
    c.br(0);
    c.end().end();
  });
  c.get(found).i32(0).op(Op.i32_lt_s).if().i32(0).op(Op.return).end();
  field(c, hdr, H_VALUES); c.get(found); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add);
  return c;
}
