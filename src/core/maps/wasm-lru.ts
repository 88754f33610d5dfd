/**
 * LRU hash and LRU per-CPU hash updates and deletes in the Wasm map runtime, mirroring
 * ops-lru.ts + lru.ts step for step (same list moves, same memory afterwards), so a JIT
 * program's LRU writes stay in Wasm:
 *
 * - update: flags check, hash, lock, take a free element, flag checks against the existing
 *   element, link the new one (or write a per-CPU slot in place), free the replaced one;
 * - delete: unlink from its chain and give the element back to its free list (bpf_lru_push_free);
 * - taking a free element: the common-LRU fast path (this CPU's local free list is not empty:
 *   pop it and put it on the local pending list) runs here; the rest of bpf_lru_pop_free
 *   (flush, rotation, shrinking with evictions, stealing, and every BPF_F_NO_COMMON_LRU pop)
 *   is the TypeScript Lru.popFree behind the `js` import (op JS_LRU_POP), reached about once
 *   per target_free updates. It runs under the lock the Wasm update already holds.
 */
import type { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import {
  BPF_EXIST, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_NOEXIST, EEXIST, EINVAL, ENOENT, ENOMEM, H_BUCKETS, H_COUNT, H_ESTRIDE,
  H_HASHES, H_KEYS, H_KEY_SIZE, H_KSTRIDE, H_NBUCKETS, H_NCPUS, H_NEXT, H_TYPE, H_VALUES, H_VALUE_SIZE,
} from './layout.js';
import { H_LRU, L_META, L_NEXT, L_N, L_PERCPU, L_PREV, L_SETS, SET_SIZE, T_FREE, T_LOCAL_FREE, T_LOCAL_PENDING } from './lru.js';
import { I32, I64, type MRT, Op, field, load32, lock, memCopy, newCode, retErr, store32, unlock } from './wasm-util.js';

/** JS_LRU_POP is the `js` import operation that runs Lru.popFree (key argument: unused; result: element or -1). */
export const JS_LRU_POP = 3;

/** LruFns are the indices of the LRU functions in the module. */
export interface LruFns {
  /** (hdr, key, val, flags, insn) -> 0 / -errno */
  update: number;
  /** (hdr, key) -> 0 / -ENOENT */
  delete: number;
  /** internal: (lb, x, h) list_move; (hdr, i) push free; (hdr, insn) pop free; (lb, s, i, t) move to list; (hdr, i) unlink */
  move: number;
  push: number;
  pop: number;
  moveTo: number;
  unlink: number;
}

/** declareLru declares the LRU functions (bodies come from defineLru). */
export function declareLru(mb: ModuleBuilder): LruFns {
  return {
    update: mb.declareFunc([I32, I32, I32, I32, I32], [I64]),
    delete: mb.declareFunc([I32, I32], [I64]),
    move: mb.declareFunc([I32, I32, I32], []),
    push: mb.declareFunc([I32, I32], []),
    pop: mb.declareFunc([I32, I32], [I32]),
    moveTo: mb.declareFunc([I32, I32, I32, I32], []),
    unlink: mb.declareFunc([I32, I32], []),
  };
}

/** defineLru emits the bodies. */
export function defineLru(mb: ModuleBuilder, m: MRT, f: LruFns): void {
  mb.defineFunc(f.move, genMove());
  mb.defineFunc(f.push, genPush(f));
  mb.defineFunc(f.pop, genPop(m, f));
  mb.defineFunc(f.moveTo, genMoveTo(f));
  mb.defineFunc(f.unlink, genUnlink());
  mb.defineFunc(f.update, genLruUpdate(m, f));
  mb.defineFunc(f.delete, genLruDelete(m, f));
}

/** at pushes arr + idx * 4 where `arr` is an LRU block field of the block in local `lb`. */
function at(c: Code, lb: number, arr: number, idx: () => void): Code {
  c.get(lb); load32(c, arr); idx(); c.i32(2).op(Op.i32_shl).op(Op.i32_add);
  return c;
}

/** linkAB emits next[a] = b; prev[b] = a (list.h's link step) for locals a, b. */
function linkAB(c: Code, lb: number, a: () => void, b: () => void): void {
  at(c, lb, L_NEXT, a); b(); store32(c);
  at(c, lb, L_PREV, b); a(); store32(c);
}

/** genMove: (lb, x, h): list_move(x, h) = list_del(x) then list_add(x, h). */
function genMove(): Code {
  const c = newCode(3);
  const lb = 0, x = 1, h = 2, p = c.local(I32), n = c.local(I32);
  at(c, lb, L_PREV, () => c.get(x)); load32(c); c.set(p);
  at(c, lb, L_NEXT, () => c.get(x)); load32(c); c.set(n);
  linkAB(c, lb, () => c.get(p), () => c.get(n));
  at(c, lb, L_NEXT, () => c.get(h)); load32(c); c.set(n);
  linkAB(c, lb, () => c.get(x), () => c.get(n));
  linkAB(c, lb, () => c.get(h), () => c.get(x));
  return c;
}

/** metaAt pushes the address of element `i`'s meta word (+ off: 0 type, 1 ref, 2 cpu). */
function metaAt(c: Code, lb: number, i: () => void): Code {
  c.get(lb); load32(c, L_META); i(); c.i32(2).op(Op.i32_shl).op(Op.i32_add);
  return c;
}

/** setField pushes the address of field `off` of list set `s` (local) of the block in `lb`. */
function setField(c: Code, lb: number, s: number, off: number): Code {
  c.get(lb); load32(c, L_SETS); c.get(s).i32(SET_SIZE).op(Op.i32_mul).op(Op.i32_add);
  if (off) c.i32(off).op(Op.i32_add);
  return c;
}

/**
 * genMoveTo: (lb, s, i, t): __bpf_lru_node_move: counters follow the type change, ref bit
 * cleared, next_inactive_rotation steps back when it pointed at `i`, moved to the head of list t.
 */
function genMoveTo(f: LruFns): Code {
  const c = newCode(4);
  const lb = 0, s = 1, i = 2, t = 3, ti = c.local(I32), a = c.local(I32);
  metaAt(c, lb, () => c.get(i)); c.mem(Op.i32_load8_u, 0).set(ti);
  c.get(ti).get(t).op(Op.i32_ne).if();
  for (const [tl, d] of [[ti, -1], [t, 1]] as const) {
    c.get(tl).i32(T_FREE).op(Op.i32_lt_u).if();
    setField(c, lb, s, 0); c.get(tl).i32(2).op(Op.i32_shl).op(Op.i32_add).tee(a);
    c.get(a); load32(c); c.i32(d).op(Op.i32_add); store32(c);
    c.end();
  }
  metaAt(c, lb, () => c.get(i)); c.get(t).mem(Op.i32_store8, 0);
  c.end();
  metaAt(c, lb, () => c.get(i)); c.i32(0).mem(Op.i32_store8, 0, 1);
  setField(c, lb, s, 8); load32(c); c.get(i).op(Op.i32_eq).if();
  setField(c, lb, s, 8); at(c, lb, L_PREV, () => c.get(i)); load32(c); store32(c);
  c.end();
  c.get(lb).get(i);
  // head(s, t) = n + 3 s + t
  c.get(lb); load32(c, L_N); c.get(s).i32(3).op(Op.i32_mul).op(Op.i32_add).get(t).op(Op.i32_add);
  c.call(f.move);
  return c;
}

/** localHead pushes the sentinel of CPU `cpu`'s local list `t` (common LRU: one list set). */
function localHead(c: Code, lb: number, cpu: () => void, t: number): void {
  c.get(lb); load32(c, L_N); c.i32(3 + (t - T_LOCAL_FREE)).op(Op.i32_add); cpu(); c.i32(1).op(Op.i32_shl).op(Op.i32_add);
}

/** genPush: (hdr, i): bpf_lru_push_free of element i (Lru.pushFree). */
function genPush(f: LruFns): Code {
  const c = newCode(2);
  const hdr = 0, i = 1, lb = c.local(I32), t = c.local(I32), cpu = c.local(I32);
  field(c, hdr, H_LRU).set(lb);
  metaAt(c, lb, () => c.get(i)); c.mem(Op.i32_load8_u, 0).set(t);
  metaAt(c, lb, () => c.get(i)); c.mem(Op.i32_load16_u, 1, 2).set(cpu);
  c.get(lb); load32(c, L_PERCPU); c.if();
  c.get(lb).get(cpu).get(i).i32(T_FREE).call(f.moveTo).op(Op.return);
  c.end();
  c.get(t).i32(T_LOCAL_PENDING).op(Op.i32_eq).if();
  metaAt(c, lb, () => c.get(i)); c.i32(T_LOCAL_FREE).mem(Op.i32_store8, 0);
  metaAt(c, lb, () => c.get(i)); c.i32(0).mem(Op.i32_store8, 0, 1);
  c.get(lb).get(i); localHead(c, lb, () => c.get(cpu), T_LOCAL_FREE); c.call(f.move);
  c.op(Op.return);
  c.end();
  c.get(t).i32(T_FREE).op(Op.i32_eq).get(t).i32(T_LOCAL_FREE).op(Op.i32_eq).op(Op.i32_or).if().op(Op.return).end();
  c.get(lb).i32(0).get(i).i32(T_FREE).call(f.moveTo);
  return c;
}

/**
 * genPop: (hdr, insn) -> a free element for this CPU, or -1: the common-LRU fast path
 * (pop the local free list, push on the local pending list as this CPU's), else Lru.popFree in TypeScript.
 */
function genPop(m: MRT, f: LruFns): Code {
  const c = newCode(2);
  const hdr = 0, insn = 1, lb = c.local(I32), h = c.local(I32), x = c.local(I32);
  field(c, hdr, H_LRU).set(lb);
  c.get(lb); load32(c, L_PERCPU); c.op(Op.i32_eqz).if();
  localHead(c, lb, () => c.gget(m.gCpu), T_LOCAL_FREE); c.set(h);
  at(c, lb, L_NEXT, () => c.get(h)); load32(c); c.tee(x).get(h).op(Op.i32_ne).if();
  unlinkNode(c, lb, x);
  metaAt(c, lb, () => c.get(x)); c.i32(T_LOCAL_PENDING).mem(Op.i32_store8, 0);
  metaAt(c, lb, () => c.get(x)); c.i32(0).mem(Op.i32_store8, 0, 1);
  metaAt(c, lb, () => c.get(x)); c.gget(m.gCpu).mem(Op.i32_store16, 1, 2);
  // list_add(x, pending head): the same as a move of a node that is its own neighbour
  at(c, lb, L_NEXT, () => c.get(x)); c.get(x); store32(c);
  at(c, lb, L_PREV, () => c.get(x)); c.get(x); store32(c);
  c.get(lb).get(x); localHead(c, lb, () => c.gget(m.gCpu), T_LOCAL_PENDING); c.call(f.move);
  c.get(x).op(Op.return);
  c.end();
  c.end();
  c.i32(JS_LRU_POP).get(hdr).i32(0).i32(0).i32(0).get(insn).call(m.js).op(Op.i32_wrap_i64);
  return c;
}

/** unlinkNode emits list_del(x) for local x: link(prev(x), next(x)). */
function unlinkNode(c: Code, lb: number, x: number): void {
  const p = (): void => {
    at(c, lb, L_PREV, () => c.get(x)); load32(c);
  };
  const n = (): void => {
    at(c, lb, L_NEXT, () => c.get(x)); load32(c);
  };
  // next[prev] = next; prev[next] = prev
  at(c, lb, L_NEXT, p); n(); store32(c);
  at(c, lb, L_PREV, n); p(); store32(c);
}

/** genUnlink: (hdr, i): remove element i from its hash chain (unlinkFromHash; absent: nothing). */
function genUnlink(): Code {
  const c = newCode(2);
  const hdr = 0, i = 1, link = c.local(I32), e = c.local(I32);
  field(c, hdr, H_BUCKETS);
  field(c, hdr, H_HASHES); c.get(i).i32(2).op(Op.i32_shl).op(Op.i32_add); load32(c);
  field(c, hdr, H_NBUCKETS); c.i32(1).op(Op.i32_sub).op(Op.i32_and).i32(2).op(Op.i32_shl).op(Op.i32_add).set(link);
  c.block().loop();
  c.get(link); load32(c); c.tee(e).op(Op.i32_eqz).op(Op.br_if).u32(1);
  c.get(e).get(i).i32(1).op(Op.i32_add).op(Op.i32_eq).if();
  c.get(link); field(c, hdr, H_NEXT); c.get(i).i32(2).op(Op.i32_shl).op(Op.i32_add); load32(c); store32(c);
  c.get(hdr); field(c, hdr, H_COUNT); c.i32(1).op(Op.i32_sub); store32(c, H_COUNT);
  c.op(Op.return);
  c.end();
  field(c, hdr, H_NEXT); c.get(e).i32(1).op(Op.i32_sub).i32(2).op(Op.i32_shl).op(Op.i32_add).set(link);
  c.br(0);
  c.end().end();
  return c;
}

/** slotOf pushes the running CPU's slot of element index `i` (local) of the map in `hdr`. */
function slotOf(c: Code, m: MRT, hdr: number, i: number): void {
  c.get(hdr); field(c, hdr, H_VALUES); c.get(i); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add).call(m.slot);
}

/** setRef1 sets the ref byte of element index in local `i`. */
function setRef1(c: Code, hdr: number, i: number): void {
  field(c, hdr, H_LRU); load32(c, L_META); c.get(i).i32(2).op(Op.i32_shl).op(Op.i32_add).i32(1).mem(Op.i32_store8, 0, 1);
}

/** linkElem: element index x holds key (hash h) at the head of its bucket (ops-lru.ts link). */
function linkElem(c: Code, hdr: number, x: number, key: number, h: number, b: number): void {
  field(c, hdr, H_KEYS); c.get(x); field(c, hdr, H_KSTRIDE); c.op(Op.i32_mul).op(Op.i32_add);
  c.get(key); field(c, hdr, H_KEY_SIZE); memCopy(c);
  field(c, hdr, H_HASHES); c.get(x).i32(2).op(Op.i32_shl).op(Op.i32_add).get(h); store32(c);
  field(c, hdr, H_BUCKETS); c.get(h); field(c, hdr, H_NBUCKETS); c.i32(1).op(Op.i32_sub).op(Op.i32_and);
  c.i32(2).op(Op.i32_shl).op(Op.i32_add).set(b);
  field(c, hdr, H_NEXT); c.get(x).i32(2).op(Op.i32_shl).op(Op.i32_add).get(b); load32(c); store32(c);
  c.get(b).get(x).i32(1).op(Op.i32_add); store32(c);
  c.get(hdr); field(c, hdr, H_COUNT); c.i32(1).op(Op.i32_add); store32(c, H_COUNT);
}

/** genLruUpdate: (hdr, key, val, flags, insn) -> 0 / -errno, as lruUpdate. */
function genLruUpdate(m: MRT, f: LruFns): Code {
  const c = newCode(5);
  const hdr = 0, key = 1, val = 2, fl = 3, insn = 4;
  const pc = c.local(I32), h = c.local(I32), x = c.local(I32), e = c.local(I32), err = c.local(I32), b = c.local(I32);
  c.get(fl).i32(BPF_EXIST).op(Op.i32_gt_u).if(); retErr(c, EINVAL); c.end();
  field(c, hdr, H_TYPE).i32(BPF_MAP_TYPE_LRU_PERCPU_HASH).op(Op.i32_eq).set(pc);
  c.get(key); field(c, hdr, H_KEY_SIZE); c.call(m.hash).set(h);
  lock(c, m, hdr);
  const done = (r: () => void): void => {
    unlock(c, m, hdr);
    r();
    c.op(Op.return);
  };
  c.i32(-1).set(x);
  c.get(pc).op(Op.i32_eqz).get(fl).i32(BPF_EXIST).op(Op.i32_ne).op(Op.i32_or).if();
  c.get(hdr).get(insn).call(f.pop).tee(x).i32(0).op(Op.i32_lt_s).if(); done(() => c.i64(-ENOMEM)); c.end();
  c.get(pc).op(Op.i32_eqz).if();
  slotOf(c, m, hdr, x); c.get(val); field(c, hdr, H_VALUE_SIZE); memCopy(c);
  c.end();
  c.end();
  c.get(hdr).get(key).get(h).call(m.find).set(e);
  // err = e == 0 && EXIST ? -ENOENT : e != 0 && NOEXIST ? -EEXIST : 0
  c.i32(-ENOENT);
  c.i32(-EEXIST).i32(0).get(e).op(Op.i32_eqz).op(Op.i32_eqz).get(fl).i32(BPF_NOEXIST).op(Op.i32_eq).op(Op.i32_and).op(Op.select);
  c.get(e).op(Op.i32_eqz).get(fl).i32(BPF_EXIST).op(Op.i32_eq).op(Op.i32_and).op(Op.select).tee(err).if();
  c.get(x).i32(0).op(Op.i32_ge_s).if().get(hdr).get(x).call(f.push).end();
  done(() => c.get(err).op(Op.i64_extend_i32_s));
  c.end();
  c.get(pc).if();
  c.get(e).if();
  c.get(e).i32(1).op(Op.i32_sub).set(e);
  setRef1(c, hdr, e);
  slotOf(c, m, hdr, e); c.get(val); field(c, hdr, H_VALUE_SIZE); memCopy(c);
  c.get(x).i32(0).op(Op.i32_ge_s).if().get(hdr).get(x).call(f.push).end();
  done(() => c.i64(0));
  c.end();
  // a new per-CPU element: the other CPUs' slots zeroed
  field(c, hdr, H_NCPUS); c.i32(1).op(Op.i32_gt_u).if();
  field(c, hdr, H_VALUES); c.get(x); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add).i32(0); field(c, hdr, H_ESTRIDE); c.memoryFill();
  c.end();
  slotOf(c, m, hdr, x); c.get(val); field(c, hdr, H_VALUE_SIZE); memCopy(c);
  linkElem(c, hdr, x, key, h, b);
  done(() => c.i64(0));
  c.end();
  linkElem(c, hdr, x, key, h, b);
  c.get(e).if();
  setRef1(c, hdr, x);
  c.get(hdr).get(e).i32(1).op(Op.i32_sub).call(f.unlink);
  c.get(hdr).get(e).i32(1).op(Op.i32_sub).call(f.push);
  c.end();
  unlock(c, m, hdr);
  c.i64(0);
  return c;
}

/** genLruDelete: (hdr, key) -> 0 / -ENOENT, as lruDelete. */
function genLruDelete(m: MRT, f: LruFns): Code {
  const c = newCode(2);
  const hdr = 0, key = 1, e = c.local(I32);
  lock(c, m, hdr);
  c.get(hdr).get(key).get(key); field(c, hdr, H_KEY_SIZE); c.call(m.hash).call(m.find).tee(e).op(Op.i32_eqz).if();
  unlock(c, m, hdr);
  retErr(c, ENOENT);
  c.end();
  c.get(hdr).get(e).i32(1).op(Op.i32_sub).call(f.unlink);
  c.get(hdr).get(e).i32(1).op(Op.i32_sub).call(f.push);
  unlock(c, m, hdr);
  c.i64(0);
  return c;
}
