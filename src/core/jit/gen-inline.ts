/**
 * Code for an inlined array-map lookup (inline.ts finds the sites): r0 = base + key * estride
 * when the u32 key at r10 + off is below max_entries, else 0 — what the map runtime's
 * bpf_map_lookup_elem returns for that map. Checked mode first tests the key's shadow bytes
 * (the helper's rule: initialised stack) and leaves anything else to the helper call itself,
 * which then faults exactly as before.
 */
import type { Insn } from '../isa/instruction.js';
import { STACK_SIZE } from '../vm/memory.js';
import { Op } from './wasm/ops.js';
import type { Gen } from './gen-ctx.js';
import { emitCall } from './gen-flow.js';
import { loadFast } from './gen-fast.js';
import type { InlineLookup } from './inline.js';

/** emitInlineLookup replaces the helper call `i` at `pc` by the lookup of site `s`. */
export function emitInlineLookup(g: Gen, s: InlineLookup, i: Insn, pc: number): void {
  const { c, L } = g;
  c.get(L.reg[10]).op(Op.i32_wrap_i64).i32(s.keyOff).op(Op.i32_add).set(L.i);
  if (!g.o.checked) return arrayValue(g, s);
  c.get(L.i).mem(Op.i32_load, 0, STACK_SIZE).i32(0x01010101).op(Op.i32_eq).if();
  arrayValue(g, s);
  c.else();
  emitCall(g, i, pc);
  if (g.fast) loadFast(c, L, g.fast);
  c.end();
}

/** arrayValue sets r0 from the key address in the i32 scratch local. */
function arrayValue(g: Gen, s: InlineLookup): void {
  const { c, L } = g;
  c.get(L.i).mem(Op.i32_load, 0, 0).set(L.i);
  c.i32(s.base | 0).get(L.i).i32(s.estride | 0).op(Op.i32_mul).op(Op.i32_add).op(Op.i64_extend_i32_u);
  c.i64(0);
  c.get(L.i).i32(s.maxEntries | 0).op(Op.i32_lt_u);
  c.op(Op.select).set(L.reg[0]);
}
