/**
 * LPM trie lookups in the Wasm map runtime: the walk of lpm.ts's Trie.lookup over the same
 * nodes in map memory (longest stored prefix whose length is at most the key's and whose
 * bits match), so a JIT program's LPM lookups never leave Wasm. Updates and deletes stay
 * TypeScript (the `js` import). With shared memory the walk is a validated lock-free read
 * (readLoop) bounded in steps.
 */
import type { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { EINVAL, ENOENT, H_COUNT, H_ESTRIDE, H_FREE, H_HASHES, H_KEY_SIZE, H_MAX_ENTRIES, H_NEXT, H_VALUES } from './layout.js';
import { H_LPM_IMFREE, H_LPM_NODES, H_LPM_NSTRIDE, H_LPM_ROOT, LN_DATA, LN_PLEN } from './lpm.js';
import { I32, I64, type MRT, Op, field, load32, lock, memCopy, newCode, readLoop, store32, unlock } from './wasm-util.js';

/** LpmFns are the indices of the LPM functions in the module. */
export interface LpmFns {
  /** (hdr, key) -> value address of the longest matching prefix, or 0 */
  lookup: number;
  /** (hdr, key) -> 0, -EINVAL (prefix too long), -ENOENT (lpm.ts lpmDelete) */
  delete: number;
  /** internal: (a, b, limit) -> leading bits (at most limit) the data at a and b share */
  matchLen: number;
}

/** declareLpm declares the LPM functions. */
export function declareLpm(mb: ModuleBuilder): LpmFns {
  return { lookup: mb.declareFunc([I32, I32], [I32]), delete: mb.declareFunc([I32, I32], [I64]), matchLen: mb.declareFunc([I32, I32, I32], [I32]) };
}

/** defineLpm emits their bodies. */
export function defineLpm(mb: ModuleBuilder, m: MRT, f: LpmFns): void {
  mb.defineFunc(f.matchLen, genMatchLen());
  mb.defineFunc(f.lookup, genLpmLookup(m, f));
  mb.defineFunc(f.delete, genLpmDelete(m, f));
}

const I32_CLZ = 0x67;

/** genMatchLen: (a, b, limit): 8 bytes at a time while equal, then the first differing byte's leading zeros. */
function genMatchLen(): Code {
  const c = newCode(3);
  const a = 0, b = 1, limit = 2, nb = c.local(I32), i = c.local(I32), x = c.local(I32);
  c.get(limit).i32(7).op(Op.i32_add).i32(3).op(Op.i32_shr_u).set(nb);
  c.block().loop();
  c.get(i).i32(8).op(Op.i32_add).get(nb).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  c.get(a).get(i).op(Op.i32_add).mem(Op.i64_load, 0).get(b).get(i).op(Op.i32_add).mem(Op.i64_load, 0).op(Op.i64_ne).op(Op.br_if).u32(1);
  c.get(i).i32(8).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.block().loop();
  c.get(i).get(nb).op(Op.i32_ge_u).op(Op.br_if).u32(1);
  c.get(a).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0).get(b).get(i).op(Op.i32_add).mem(Op.i32_load8_u, 0).op(Op.i32_xor).tee(x).if();
  // min(limit, 8 i + clz8(x))
  c.get(i).i32(3).op(Op.i32_shl).get(x).op(I32_CLZ).op(Op.i32_add).i32(24).op(Op.i32_sub).tee(x);
  c.get(limit).get(x).get(limit).op(Op.i32_lt_u).op(Op.select).op(Op.return);
  c.end();
  c.get(i).i32(1).op(Op.i32_add).set(i).br(0);
  c.end().end();
  c.get(limit);
  return c;
}

/**
 * descend emits a walk from the root following the key's bits, over nodes whose prefix length
 * is at most local `max`; `visit(rec, pl, x)` runs for each (locals), the walk stops after a
 * node of length `max`. Bounded in steps (a racing writer on shared memory; the read retries).
 */
function descend(c: Code, hdr: number, d: number, max: number,
  l: { v: number; x: number; rec: number; pl: number; steps: number; nodes: number; ns: number }, visit: () => void): void {
  const { v, x, rec, pl, steps, nodes, ns } = l;
  field(c, hdr, H_LPM_ROOT).set(v);
  c.i32(0).set(steps);
  c.block().loop();
  c.get(v).op(Op.i32_eqz).op(Op.br_if).u32(1);
  c.get(steps).i32(1).op(Op.i32_add).tee(steps).get(max).i32(2).op(Op.i32_add).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  c.get(nodes).get(v).i32(1).op(Op.i32_sub).tee(x).get(ns).op(Op.i32_mul).op(Op.i32_add).tee(rec);
  load32(c, LN_PLEN); c.tee(pl).get(max).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  visit();
  c.get(pl).get(max).op(Op.i32_eq).op(Op.br_if).u32(1);
  // child by bit pl of the key
  c.get(rec);
  c.get(d).get(pl).i32(3).op(Op.i32_shr_u).op(Op.i32_add).mem(Op.i32_load8_u, 0);
  c.i32(7).get(pl).i32(7).op(Op.i32_and).op(Op.i32_sub).op(Op.i32_shr_u).i32(1).op(Op.i32_and).i32(2).op(Op.i32_shl);
  c.op(Op.i32_add); load32(c); c.set(v);
  c.br(0);
  c.end().end();
}

/**
 * genLpmLookup: (hdr, key) -> value address or 0 (same answer as lpm.ts lpmLookupSlot), the
 * classic path-compressed trie lookup: descend by the key's bits without comparing to the
 * deepest node of length <= the key's; every node on that path is a prefix of that node, so
 * one match length M against it decides them all: the answer is the deepest element node on
 * the path with length <= M (the first walk's deepest element node when M reaches it).
 */
function genLpmLookup(m: MRT, f: LpmFns): Code {
  const c = newCode(2);
  const hdr = 0, key = 1;
  const klen = c.local(I32), d = c.local(I32), seq = c.local(I32), last = c.local(I32), mlen = c.local(I32), found = c.local(I32);
  const l = { v: c.local(I32), x: c.local(I32), rec: c.local(I32), pl: c.local(I32), steps: c.local(I32), nodes: c.local(I32), ns: c.local(I32) };
  const n = c.local(I32);
  c.get(key); load32(c); c.tee(klen); field(c, hdr, H_KEY_SIZE); c.i32(4).op(Op.i32_sub).i32(3).op(Op.i32_shl).op(Op.i32_gt_u);
  c.if().i32(0).op(Op.return).end();
  c.get(key).i32(4).op(Op.i32_add).set(d);
  field(c, hdr, H_LPM_NODES).set(l.nodes);
  field(c, hdr, H_LPM_NSTRIDE).set(l.ns);
  field(c, hdr, H_MAX_ENTRIES).set(n);
  const elemPl = c.local(I32);
  const isElem = (): void => {
    c.get(l.x).get(n).op(Op.i32_lt_u);
  };
  readLoop(c, m, hdr, seq, () => {
    c.i32(-1).set(found).i32(0).set(last);
    // the deepest element node on the path is the answer when M reaches it (no second walk)
    descend(c, hdr, d, klen, l, () => {
      c.get(l.rec).set(last);
      isElem(); c.if().get(l.x).set(found).get(l.pl).set(elemPl).end();
    });
    c.get(last).if();
    c.get(last); load32(c, LN_DATA); c.get(d).get(last); load32(c, LN_PLEN); c.call(f.matchLen).tee(mlen);
    c.get(elemPl).op(Op.i32_lt_u).get(found).i32(0).op(Op.i32_ge_s).op(Op.i32_and).if();
    c.i32(-1).set(found);
    descend(c, hdr, d, mlen, l, () => {
      isElem(); c.if().get(l.x).set(found).end();
    });
    c.end();
    c.end();
  });
  c.get(found).i32(0).op(Op.i32_lt_s).if().i32(0).op(Op.return).end();
  field(c, hdr, H_VALUES); c.get(found); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add);
  return c;
}

/**
 * genLpmDelete: (hdr, key) -> 0 / -errno, lpm.ts lpmDelete step for step (same memory after):
 * find the element node of exactly this prefix (descend by the key's bits, one match length),
 * unlink it as Trie.remove does (an intermediate node takes the place of an element with two
 * children; an intermediate parent left with one child goes too), free the slot.
 */
function genLpmDelete(m: MRT, f: LpmFns): Code {
  const c = newCode(2);
  const hdr = 0, key = 1;
  const len = c.local(I32), d = c.local(I32), ref = c.local(I32), pref = c.local(I32), lastRef = c.local(I32), lastPar = c.local(I32);
  const v = c.local(I32), x = c.local(I32), lx = c.local(I32), rec = c.local(I32), pl = c.local(I32), steps = c.local(I32);
  const nodes = c.local(I32), ns = c.local(I32), n = c.local(I32), c0 = c.local(I32), c1 = c.local(I32), im = c.local(I32), p = c.local(I32);
  const recOf = (i: () => void): void => {
    c.get(nodes); i(); c.get(ns).op(Op.i32_mul).op(Op.i32_add);
  };
  c.get(key); load32(c); c.tee(len); field(c, hdr, H_KEY_SIZE); c.i32(4).op(Op.i32_sub).i32(3).op(Op.i32_shl).op(Op.i32_gt_u);
  c.if().i64(-EINVAL).op(Op.return).end();
  c.get(key).i32(4).op(Op.i32_add).set(d);
  field(c, hdr, H_LPM_NODES).set(nodes);
  field(c, hdr, H_LPM_NSTRIDE).set(ns);
  field(c, hdr, H_MAX_ENTRIES).set(n);
  lock(c, m, hdr);
  c.get(hdr).i32(H_LPM_ROOT).op(Op.i32_add).set(ref);
  c.block().loop();
  c.get(ref); load32(c); c.tee(v).op(Op.i32_eqz).op(Op.br_if).u32(1);
  c.get(steps).i32(1).op(Op.i32_add).tee(steps).get(len).i32(2).op(Op.i32_add).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  recOf(() => c.get(v).i32(1).op(Op.i32_sub).tee(x)); c.tee(rec); load32(c, LN_PLEN); c.tee(pl).get(len).op(Op.i32_gt_u).op(Op.br_if).u32(1);
  c.get(ref).set(lastRef).get(pref).set(lastPar).get(x).set(lx);
  c.get(pl).get(len).op(Op.i32_eq).op(Op.br_if).u32(1);
  c.get(ref).set(pref);
  c.get(rec);
  c.get(d).get(pl).i32(3).op(Op.i32_shr_u).op(Op.i32_add).mem(Op.i32_load8_u, 0);
  c.i32(7).get(pl).i32(7).op(Op.i32_and).op(Op.i32_sub).op(Op.i32_shr_u).i32(1).op(Op.i32_and).i32(2).op(Op.i32_shl);
  c.op(Op.i32_add).set(ref);
  c.br(0);
  c.end().end();
  // an element node of exactly this prefix?
  c.get(lastRef).op(Op.i32_eqz).get(lx).get(n).op(Op.i32_ge_u).op(Op.i32_or).if();
  unlock(c, m, hdr); c.i64(-ENOENT).op(Op.return);
  c.end();
  recOf(() => c.get(lx)); c.set(rec);
  c.get(rec); load32(c, LN_PLEN); c.get(len).op(Op.i32_ne);
  c.get(rec); load32(c, LN_DATA); c.get(d).get(len).call(f.matchLen).get(len).op(Op.i32_ne).op(Op.i32_or).if();
  unlock(c, m, hdr); c.i64(-ENOENT).op(Op.return);
  c.end();
  c.get(rec); load32(c, 0); c.set(c0);
  c.get(rec); load32(c, 4); c.set(c1);
  c.block();
  c.get(c0).op(Op.i32_eqz).op(Op.i32_eqz).get(c1).op(Op.i32_eqz).op(Op.i32_eqz).op(Op.i32_and).if();
  // two children: an intermediate node of the same prefix takes the element's place
  field(c, hdr, H_LPM_IMFREE).i32(1).op(Op.i32_sub).set(im);
  recOf(() => c.get(im)); c.set(p);
  c.get(hdr).get(p); load32(c, 0); store32(c, H_LPM_IMFREE);
  c.get(p).get(len); store32(c, LN_PLEN);
  c.get(p); load32(c, LN_DATA); c.get(rec); load32(c, LN_DATA); field(c, hdr, H_KEY_SIZE); c.i32(4).op(Op.i32_sub); memCopy(c);
  c.get(p).get(c0); store32(c, 0);
  c.get(p).get(c1); store32(c, 4);
  c.get(lastRef).get(im).i32(1).op(Op.i32_add); store32(c);
  c.br(1);
  c.end();
  // a leaf under an intermediate parent: the parent's other child moves up, the parent is freed
  c.get(lastPar).if();
  c.get(lastPar); load32(c); c.i32(1).op(Op.i32_sub).tee(im).get(n).op(Op.i32_ge_u).get(c0).get(c1).op(Op.i32_or).op(Op.i32_eqz).op(Op.i32_and).if();
  recOf(() => c.get(im)); c.set(p);
  c.get(lastPar);
  c.get(p); load32(c, 4); c.get(p); load32(c, 0); c.get(p); load32(c, 0).get(lx).i32(1).op(Op.i32_add).op(Op.i32_eq).op(Op.select);
  store32(c);
  c.get(p); field(c, hdr, H_LPM_IMFREE); store32(c, 0);
  c.get(p).i32(0); store32(c, 4);
  c.get(hdr).get(im).i32(1).op(Op.i32_add); store32(c, H_LPM_IMFREE);
  c.br(2);
  c.end();
  c.end();
  c.get(lastRef).get(c0).get(c1).get(c0).op(Op.select); store32(c);
  c.end();
  // free the slot (in-use word, free list, count)
  field(c, hdr, H_HASHES); c.get(lx).i32(2).op(Op.i32_shl).op(Op.i32_add).i32(0); store32(c);
  field(c, hdr, H_NEXT); c.get(lx).i32(2).op(Op.i32_shl).op(Op.i32_add); field(c, hdr, H_FREE); store32(c);
  c.get(hdr).get(lx).i32(1).op(Op.i32_add); store32(c, H_FREE);
  c.get(hdr); field(c, hdr, H_COUNT); c.i32(1).op(Op.i32_sub); store32(c, H_COUNT);
  unlock(c, m, hdr);
  c.i64(0);
  return c;
}
