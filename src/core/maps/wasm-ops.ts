/**
 * The exported helpers of the Wasm map runtime, with the JIT's helper signature
 * (r1..r5 i64, insn i32) -> i64: bpf_map_lookup_elem, bpf_map_update_elem and
 * bpf_map_delete_elem for array, per-CPU array, hash and per-CPU hash maps. They mirror
 * runtime/helpers.ts + ops.ts step for step (same checks in the same order, same results).
 */
import type { Code } from '../jit/wasm/encoder.js';
import { H_LRU } from './lru.js';
import {
  BPF_F_LOCK, BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH, BPF_MAP_TYPE_LPM_TRIE, E2BIG, EEXIST, EINVAL, ENOENT, H_BUCKETS, H_COUNT, H_ESTRIDE, H_FREE, H_HASHES, H_KEYS, H_KEY_SIZE,
  H_KSTRIDE, H_MAX_ENTRIES, H_NBUCKETS, H_NCPUS, H_NEXT, H_SPIN, H_TYPE, H_VALUES, H_VALUE_SIZE,
} from './layout.js';
import { emitCheck, emitCpuOff, emitMapPtr, isArrayT, isHashT } from './wasm-lib.js';
import { emitHash, emitWalk, findLocals } from './wasm-hash.js';
import { EXT_TYPE_MASK } from './ext.js';
import { genNativeDispatch } from './wasm-native.js';
import { I32, type MRT, Op, field, load32, lock, memCopy, newCode, readLoop, retErr, store32, unlock } from './wasm-util.js';

const PARAMS = 6;
const INSN = 5;

/** prologue: hdr = mapptr(r1); check key (r2, key_size); key = (u32) r2 (inline: calls cost more than these). */
function prologue(c: Code, m: MRT, hdr: number, key: number): void {
  emitMapPtr(c, m, 0, INSN, hdr, key);
  field(c, hdr, H_KEY_SIZE).set(key);
  emitCheck(c, m, 1, key, false, INSN);
  c.get(1).op(Op.i32_wrap_i64).set(key);
}

/** genLookup: r0 = address of the running CPU's value slot of key r2 in map r1, or 0. */
export function genLookup(m: MRT): Code {
  const c = newCode(PARAMS);
  const hdr = c.local(I32), key = c.local(I32), v = c.local(I32), seq = c.local(I32), t = c.local(I32);
  const L = findLocals(c);
  prologue(c, m, hdr, key);
  // LPM tries: the trie walk in Wasm; extension types: TypeScript
  field(c, hdr, H_TYPE).set(t);
  genNativeDispatch(c, m, t, 'lookup', { hdr, key, insn: INSN });
  jsCall(c, m, t, JS_LOOKUP, 2, hdr, key, -1, -1);
  readLoop(c, m, hdr, seq, () => {
    isHashT(c, t); c.if();
    emitHash(c, m, L, hdr, key);
    emitWalk(c, m, L, hdr, key);
    c.i32(0).set(v);
    c.get(L.e).if();
    valueBase(c, hdr, L.e); c.set(v);
    markLru(c, hdr, v);
    c.end();
    c.else();
    c.get(hdr).get(key).call(m.elem).set(v);
    c.end();
  });
  c.get(v).op(Op.i32_eqz).if().i64(0).op(Op.return).end();
  c.get(v); emitCpuOff(c, m, hdr); c.op(Op.i32_add).op(Op.i64_extend_i32_u);
  return c;
}

/** markLru sets the ref byte of the LRU element whose value storage is at local `v` (LRU types only). */
function markLru(c: Code, hdr: number, v: number): void {
  field(c, hdr, H_TYPE).i32(BPF_MAP_TYPE_LRU_HASH).op(Op.i32_eq);
  field(c, hdr, H_TYPE).i32(BPF_MAP_TYPE_LRU_PERCPU_HASH).op(Op.i32_eq).op(Op.i32_or).if();
  field(c, hdr, H_LRU); load32(c);
  c.get(v); field(c, hdr, H_VALUES); c.op(Op.i32_sub); field(c, hdr, H_ESTRIDE); c.op(Op.i32_div_u).i32(2).op(Op.i32_shl);
  c.op(Op.i32_add).i32(1).mem(Op.i32_store8, 0, 1);
  c.end();
}

/**
 * Type masks (bit t = type t, all types below 32) of the maps whose operations run in TypeScript
 * (LRU writes and LPM lookups are dispatched to wasm-native.ts before these apply).
 */
const JS_LOOKUP = (1 << BPF_MAP_TYPE_LPM_TRIE) | EXT_TYPE_MASK;
const JS_WRITE = JS_LOOKUP | (1 << BPF_MAP_TYPE_LRU_HASH) | (1 << BPF_MAP_TYPE_LRU_PERCPU_HASH);

/**
 * jsCall: maps whose type (local `t`) is in `mask` go to the TypeScript operation `op` through
 * the `js` import (LRU lists, the LPM index and the extension types live there), returning its result.
 */
function jsCall(c: Code, m: MRT, t: number, mask: number, op: number, hdr: number, key: number, val: number, f: number): void {
  c.get(t).i32(32).op(Op.i32_lt_u).if();
  c.i32(mask).get(t).op(Op.i32_shr_u).i32(1).op(Op.i32_and).if();
  c.i32(op).get(hdr).get(key);
  if (val < 0) c.i32(0).i32(0);
  else c.get(val).get(f);
  c.get(INSN).call(m.js).op(Op.return);
  c.end();
  c.end();
}

/** genUpdate: map r1, key r2, value r3, flags r4 -> 0 or -errno. */
export function genUpdate(m: MRT): Code {
  const c = newCode(PARAMS);
  const hdr = c.local(I32), key = c.local(I32), val = c.local(I32), f = c.local(I32), t = c.local(I32);
  const b = c.local(I32);
  const L = findLocals(c);
  prologue(c, m, hdr, key);
  field(c, hdr, H_VALUE_SIZE).set(val);
  emitCheck(c, m, 2, val, false, INSN);
  c.get(2).op(Op.i32_wrap_i64).set(val);
  // flags >= 2^32 behave as 0xffffffff (invalid), like flags32() in helpers.ts
  c.i32(-1).get(3).op(Op.i32_wrap_i64).get(3).i64(0x100000000n).op(Op.i64_ge_u).op(Op.select).set(f);
  field(c, hdr, H_TYPE); c.set(t);
  genNativeDispatch(c, m, t, 'update', { hdr, key, val, f, insn: INSN });
  jsCall(c, m, t, JS_WRITE, 0, hdr, key, val, f);
  // values holding a bpf_spin_lock: the TypeScript update (the lock word is skipped or taken)
  field(c, hdr, H_SPIN).if();
  c.i32(0).get(hdr).get(key).get(val).get(f).get(INSN).call(m.js).op(Op.return);
  c.end();
  // from here no value has a lock: BPF_F_LOCK is EINVAL, for arrays after the index and NOEXIST checks (as Linux)
  c.get(f).i32(~BPF_F_LOCK).op(Op.i32_and).i32(2).op(Op.i32_gt_u).if(); retErr(c, EINVAL); c.end();
  // (BPF_F_LOCK is bit 2)
  c.get(f).i32(2).op(Op.i32_shr_u).i32(1).op(Op.i32_and).get(t).i32(BPF_MAP_TYPE_ARRAY).op(Op.i32_ne).op(Op.i32_and).if(); retErr(c, EINVAL); c.end();
  isArrayT(c, t); c.if();
  c.get(key); load32(c); c.tee(L.i); field(c, hdr, H_MAX_ENTRIES); c.op(Op.i32_ge_u).if(); retErr(c, E2BIG); c.end();
  c.get(f).i32(1).op(Op.i32_and).if(); retErr(c, EEXIST); c.end();
  c.get(f).i32(BPF_F_LOCK).op(Op.i32_and).if(); retErr(c, EINVAL); c.end();
  field(c, hdr, H_VALUES); c.get(L.i); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add); emitCpuOff(c, m, hdr); c.op(Op.i32_add);
  c.get(val); field(c, hdr, H_VALUE_SIZE); memCopy(c);
  c.i64(0).op(Op.return);
  c.end();
  isHashT(c, t); c.op(Op.i32_eqz).if(); retErr(c, EINVAL); c.end();
  emitHash(c, m, L, hdr, key);
  lock(c, m, hdr);
  emitWalk(c, m, L, hdr, key);
  const e = L.e;
  const fail = (errno: number): void => {
    unlock(c, m, hdr);
    retErr(c, errno);
  };
  c.get(e).op(Op.i32_eqz).op(Op.i32_eqz).get(f).i32(1).op(Op.i32_eq).op(Op.i32_and).if(); fail(EEXIST); c.end();
  c.get(e).op(Op.i32_eqz).get(f).i32(2).op(Op.i32_eq).op(Op.i32_and).if(); fail(ENOENT); c.end();
  c.get(e).if();
  copyToSlot(c, m, hdr, e, val);
  unlock(c, m, hdr);
  c.i64(0).op(Op.return);
  c.end();
  insert(c, m, { hdr, key, val, e, i: L.i, h: L.h, b });
  unlock(c, m, hdr);
  c.i64(0);
  return c;
}

function valueBase(c: Code, hdr: number, e: number): void {
  field(c, hdr, H_VALUES); c.get(e).i32(1).op(Op.i32_sub); field(c, hdr, H_ESTRIDE); c.op(Op.i32_mul).op(Op.i32_add);
}

function copyToSlot(c: Code, m: MRT, hdr: number, e: number, val: number): void {
  valueBase(c, hdr, e); emitCpuOff(c, m, hdr); c.op(Op.i32_add);
  c.get(val); field(c, hdr, H_VALUE_SIZE); memCopy(c);
}

function insert(c: Code, m: MRT, l: { hdr: number; key: number; val: number; e: number; i: number; h: number; b: number }): void {
  const { hdr, key, val, e, i, h, b } = l;
  field(c, hdr, H_FREE); c.tee(e).op(Op.i32_eqz).if(); unlock(c, m, hdr); retErr(c, E2BIG); c.end();
  c.get(e).i32(1).op(Op.i32_sub).set(i);
  const linkOf = (): void => {
    field(c, hdr, H_NEXT); c.get(i).i32(2).op(Op.i32_shl).op(Op.i32_add);
  };
  c.get(hdr); linkOf(); load32(c); store32(c, H_FREE);
  field(c, hdr, H_KEYS); c.get(i); field(c, hdr, H_KSTRIDE); c.op(Op.i32_mul).op(Op.i32_add);
  c.get(key); field(c, hdr, H_KEY_SIZE); memCopy(c);
  field(c, hdr, H_HASHES); c.get(i).i32(2).op(Op.i32_shl).op(Op.i32_add).get(h); store32(c);
  field(c, hdr, H_NCPUS); c.i32(1).op(Op.i32_gt_u).if();
  valueBase(c, hdr, e); c.i32(0); field(c, hdr, H_ESTRIDE); c.memoryFill();
  c.end();
  copyToSlot(c, m, hdr, e, val);
  field(c, hdr, H_BUCKETS); c.get(h); field(c, hdr, H_NBUCKETS); c.i32(1).op(Op.i32_sub).op(Op.i32_and);
  c.i32(2).op(Op.i32_shl).op(Op.i32_add).set(b);
  linkOf(); c.get(b); load32(c); store32(c);
  c.get(b).get(e); store32(c);
  c.get(hdr); field(c, hdr, H_COUNT); c.i32(1).op(Op.i32_add); store32(c, H_COUNT);
}

/** genDelete: map r1, key r2 -> 0, -ENOENT, or -EINVAL for arrays. */
export function genDelete(m: MRT): Code {
  const c = newCode(PARAMS);
  const hdr = c.local(I32), key = c.local(I32), t = c.local(I32), nx = c.local(I32);
  const L = findLocals(c);
  prologue(c, m, hdr, key);
  field(c, hdr, H_TYPE); c.set(t);
  genNativeDispatch(c, m, t, 'delete', { hdr, key, insn: INSN });
  jsCall(c, m, t, JS_WRITE, 1, hdr, key, -1, -1);
  isHashT(c, t); c.op(Op.i32_eqz).if(); retErr(c, EINVAL); c.end();
  emitHash(c, m, L, hdr, key);
  lock(c, m, hdr);
  emitWalk(c, m, L, hdr, key);
  c.get(L.e).if();
  // unlink (the word that pointed at it takes its next), then push it on the free list
  c.get(L.link).get(L.next).get(L.i).i32(2).op(Op.i32_shl).op(Op.i32_add).tee(nx); load32(c); store32(c);
  c.get(nx); field(c, hdr, H_FREE); store32(c);
  c.get(hdr).get(L.e); store32(c, H_FREE);
  c.get(hdr); field(c, hdr, H_COUNT); c.i32(1).op(Op.i32_sub); store32(c, H_COUNT);
  unlock(c, m, hdr);
  c.i64(0).op(Op.return);
  c.end();
  unlock(c, m, hdr);
  retErr(c, ENOENT);
  return c;
}
