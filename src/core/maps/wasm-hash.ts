/**
 * The hash-map hot path of the Wasm map runtime as inline code: the key hash (hash-fn.ts's
 * function; 4, 8 and 16-byte keys unrolled) and the chain walk (keys of those sizes compared
 * as words, without the stored hashes: equal keys have equal hashes; other sizes compare the
 * hash, then the bytes through `keyeq`). The exported helpers emit these into their own bodies
 * (Wasm calls are not inlined by V8 and cost a few ns each); `hash` and `find` are the same code
 * as functions for the callers that want them.
 */
import type { Code } from '../jit/wasm/encoder.js';
import { HASH_SEED } from './hash-fn.js';
import { H_BUCKETS, H_HASHES, H_KEYS, H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NBUCKETS, H_NEXT } from './layout.js';
import { I32, I64, type MRT, Op, field, load32, newCode } from './wasm-util.js';

/** FIXED_KEY_SIZES are the key sizes hashed and compared without loops. */
const FIXED_KEY_SIZES = [4, 8, 16];

/** mixK replaces the i32 on the stack (a key word) by its murmur3 block mix. */
function mixK(c: Code): void {
  c.i32(0xcc9e2d51 | 0).op(Op.i32_mul).i32(15).op(Op.i32_rotl).i32(0x1b873593).op(Op.i32_mul);
}

/** mixH: h = rotl(h ^ the mixed word on the stack, 13) * 5 + 0xe6546b64. */
function mixH(c: Code, h: number): void {
  c.get(h).op(Op.i32_xor).i32(13).op(Op.i32_rotl).i32(5).op(Op.i32_mul).i32(0xe6546b64 | 0).op(Op.i32_add).set(h);
}

/** fmix sets local h to its final avalanche. */
function fmix(c: Code, h: number): void {
  for (const [shift, mul] of [[16, 0x85ebca6b], [13, 0xc2b2ae35]]) {
    c.get(h).get(h).i32(shift).op(Op.i32_shr_u).op(Op.i32_xor).i32(mul | 0).op(Op.i32_mul).set(h);
  }
  c.get(h).get(h).i32(16).op(Op.i32_shr_u).op(Op.i32_xor).set(h);
}

/** hashFixed sets local h to the hash of the `n` bytes (a multiple of 4) at the address in local `a`. */
function hashFixed(c: Code, a: number, n: number, h: number): void {
  c.i32((HASH_SEED ^ n) | 0).set(h);
  for (let w = 0; w < n; w += 4) {
    c.get(a).mem(Op.i32_load, 0, w); mixK(c); mixH(c, h);
  }
  fmix(c, h);
}

/** bySize emits `if size == 4 {fixed(4)} else if size == 8 ... else {other()}` on local `size`. */
function bySize(c: Code, size: number, fixed: (n: number) => void, other: () => void): void {
  for (const n of FIXED_KEY_SIZES) {
    c.get(size).i32(n).op(Op.i32_eq).if();
    fixed(n);
    c.else();
  }
  other();
  for (let k = 0; k < FIXED_KEY_SIZES.length; k++) c.end();
}

/** genHash: (a, len) -> the key hash of the bytes (see hash-fn.ts). */
export function genHash(): Code {
  const c = newCode(2);
  const h = c.local(I32), i = c.local(I32), k = c.local(I32), j = c.local(I32);
  bySize(c, 1, (n) => hashFixed(c, 0, n, h), () => {
    c.i32(HASH_SEED | 0).get(1).op(Op.i32_xor).set(h);
    c.block().loop();
    c.get(i).i32(4).op(Op.i32_add).get(1).op(Op.i32_gt_u).op(Op.br_if).u32(1);
    c.get(0).get(i).op(Op.i32_add).mem(Op.i32_load, 0); mixK(c); mixH(c, h);
    c.get(i).i32(4).op(Op.i32_add).set(i).br(0);
    c.end().end();
    c.get(i).get(1).op(Op.i32_lt_u).if();
    c.i32(0).set(k).get(1).i32(1).op(Op.i32_sub).set(j);
    c.block().loop();
    c.get(k).i32(8).op(Op.i32_shl).get(0).get(j).op(Op.i32_add).mem(Op.i32_load8_u, 0).op(Op.i32_or).set(k);
    c.get(j).get(i).op(Op.i32_eq).op(Op.br_if).u32(1);
    c.get(j).i32(1).op(Op.i32_sub).set(j).br(0);
    c.end().end();
    c.get(h).get(k); mixK(c); c.op(Op.i32_xor).set(h);
    c.end();
    fmix(c, h);
  });
  c.get(h);
  return c;
}

/** FindLocals are the locals of an inline hash and chain walk. */
export interface FindLocals {
  /** the key hash */
  h: number;
  /** link value (element index + 1) found, 0 when none */
  e: number;
  /** address of the link word holding e (bucket or previous element's next): deletes unlink through it */
  link: number;
  /** element index e - 1 */
  i: number;
  ks: number;
  p: number; keys: number; kst: number; next: number; steps: number; k32: number; ka: number; kb: number;
}

/** findLocals declares the locals of emitHash / emitWalk in `c`. */
export function findLocals(c: Code): FindLocals {
  const l = (t: number): number => c.local(t);
  return {
    h: l(I32), e: l(I32), link: l(I32), i: l(I32), ks: l(I32), p: l(I32), keys: l(I32), kst: l(I32), next: l(I32),
    steps: l(I32), k32: l(I32), ka: l(I64), kb: l(I64),
  };
}

/** emitHash sets L.ks to the key size of the map in local `hdr` and L.h to the hash of the key at local `key`. */
export function emitHash(c: Code, m: MRT, L: FindLocals, hdr: number, key: number): void {
  field(c, hdr, H_KEY_SIZE).set(L.ks);
  bySize(c, L.ks, (n) => hashFixed(c, key, n, L.h), () => c.get(key).get(L.ks).call(m.hash).set(L.h));
}

/**
 * emitWalk searches the chain of hash L.h (L.ks set) for the key at local `key`: L.e = its
 * link value or 0, L.link the word holding L.e, L.i = L.e - 1.
 */
export function emitWalk(c: Code, m: MRT, L: FindLocals, hdr: number, key: number): void {
  field(c, hdr, H_BUCKETS); c.get(L.h); field(c, hdr, H_NBUCKETS); c.i32(1).op(Op.i32_sub).op(Op.i32_and);
  c.i32(2).op(Op.i32_shl).op(Op.i32_add).tee(L.link); load32(c); c.set(L.e);
  field(c, hdr, H_KEYS).set(L.keys); field(c, hdr, H_KSTRIDE).set(L.kst); field(c, hdr, H_NEXT).set(L.next);
  c.i32(0).set(L.steps);
  bySize(c, L.ks, (n) => {
    c.get(key).mem(n === 4 ? Op.i32_load : Op.i64_load, 0).set(n === 4 ? L.k32 : L.ka);
    if (n === 16) c.get(key).mem(Op.i64_load, 0, 8).set(L.kb);
    walkLoop(c, m, L, hdr, () => {
      if (n === 4) c.get(L.p).mem(Op.i32_load, 0).get(L.k32).op(Op.i32_eq);
      else c.get(L.p).mem(Op.i64_load, 0).get(L.ka).op(Op.i64_eq);
      if (n === 16) c.get(L.p).mem(Op.i64_load, 0, 8).get(L.kb).op(Op.i64_eq).op(Op.i32_and);
    });
  }, () => walkLoop(c, m, L, hdr, () => {
    // the stored hash first; the bytes only when it matches
    c.get(L.i).i32(2).op(Op.i32_shl); field(c, hdr, H_HASHES); c.op(Op.i32_add); load32(c); c.get(L.h).op(Op.i32_eq).if(I32);
    c.get(L.p).get(key).get(L.ks).call(m.keyeq);
    c.else().i32(0).end();
  }));
}

/**
 * walkLoop: from L.e, stop at the element for which `match` (key address in L.p) pushes
 * non-zero, or with L.e = 0 at the chain's end. Shared memory: a lock-free walk racing with
 * writers may be led astray, so it gives up (L.e = 0) after max_entries steps; the reader's
 * sequence check then retries.
 */
function walkLoop(c: Code, m: MRT, L: FindLocals, hdr: number, match: () => void): void {
  c.block().loop();
  c.get(L.e).op(Op.i32_eqz).op(Op.br_if).u32(1);
  if (m.shared) {
    c.get(L.steps).i32(1).op(Op.i32_add).tee(L.steps); field(c, hdr, H_MAX_ENTRIES); c.op(Op.i32_gt_u).if();
    c.i32(0).set(L.e).br(2);
    c.end();
  }
  c.get(L.e).i32(1).op(Op.i32_sub).tee(L.i).get(L.kst).op(Op.i32_mul).get(L.keys).op(Op.i32_add).set(L.p);
  match();
  c.op(Op.br_if).u32(1);
  c.get(L.next).get(L.i).i32(2).op(Op.i32_shl).op(Op.i32_add).tee(L.link); load32(c); c.set(L.e);
  c.br(0);
  c.end().end();
}

/** genFind: (hdr, key, h) -> link value (index + 1) of the element holding key, or 0. */
export function genFind(m: MRT): Code {
  const c = newCode(3);
  const L = findLocals(c);
  c.get(2).set(L.h);
  field(c, 0, H_KEY_SIZE).set(L.ks);
  emitWalk(c, m, L, 0, 1);
  c.get(L.e);
  return c;
}
