/**
 * The map types whose program-side operations the Wasm map runtime runs itself instead of
 * handing them to TypeScript: LRU hash updates and deletes (wasm-lru.ts) and LPM trie
 * lookups and deletes (wasm-lpm.ts). wasm.ts declares and defines these functions once per module
 * (declareNative / defineNative); the exported helpers of wasm-ops.ts dispatch to them
 * (genNativeDispatch) before the generic `js` import; nativeJsOp serves the `js` import
 * operations these functions themselves need (the LRU slow path).
 */
import type { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import type { AddressSpace } from '../vm/memory.js';
import { BPF_MAP_TYPE_LPM_TRIE, BPF_MAP_TYPE_LRU_HASH, BPF_MAP_TYPE_LRU_PERCPU_HASH } from './layout.js';
import { lruPopFree } from './ops-lru.js';
import { type LpmFns, declareLpm, defineLpm } from './wasm-lpm.js';
import { JS_LRU_POP, type LruFns, declareLru, defineLru } from './wasm-lru.js';
import { I32, type MRT, Op } from './wasm-util.js';

/** NativeFns are the indices of the natively implemented operations. */
export interface NativeFns {
  lru: LruFns;
  lpm: LpmFns;
  /** mutable global (exported as SPIN_HELD_EXPORT): address + 1 of the bpf_spin_lock this context took and holds */
  spinHeld: number;
}

/** SPIN_HELD_EXPORT names the exported global the run wrapper reads at program exit (spin-exit.ts). */
export const SPIN_HELD_EXPORT = 'spin_held';

/**
 * declareNative declares the functions and the global (call after every import is declared,
 * before generating code that uses them).
 */
export function declareNative(mb: ModuleBuilder): NativeFns {
  const spinHeld = mb.global(I32, 0);
  mb.exportGlobal(SPIN_HELD_EXPORT, spinHeld);
  return { lru: declareLru(mb), lpm: declareLpm(mb), spinHeld };
}

/** defineNative emits their bodies (m.native set). */
export function defineNative(mb: ModuleBuilder, m: MRT): void {
  defineLru(mb, m, m.native.lru);
  defineLpm(mb, m, m.native.lpm);
}

/**
 * genNativeDispatch: in an exported helper whose map type is in local `t`, send LRU updates and
 * deletes and LPM lookups to the native functions and return their result. Locals: hdr, key,
 * val and flags (update), insn the helper's insn parameter.
 */
export function genNativeDispatch(c: Code, m: MRT, t: number, op: 'lookup' | 'update' | 'delete',
  l: { hdr: number; key: number; val?: number; f?: number; insn: number }): void {
  if (op === 'lookup') {
    c.get(t).i32(BPF_MAP_TYPE_LPM_TRIE).op(Op.i32_eq).if();
    c.get(l.hdr).get(l.key).call(m.native.lpm.lookup).op(Op.i64_extend_i32_u).op(Op.return);
    c.end();
    return;
  }
  if (op === 'delete') {
    c.get(t).i32(BPF_MAP_TYPE_LPM_TRIE).op(Op.i32_eq).if();
    c.get(l.hdr).get(l.key).call(m.native.lpm.delete).op(Op.return);
    c.end();
  }
  c.get(t).i32(BPF_MAP_TYPE_LRU_HASH).op(Op.i32_eq).get(t).i32(BPF_MAP_TYPE_LRU_PERCPU_HASH).op(Op.i32_eq).op(Op.i32_or).if();
  if (op === 'update') c.get(l.hdr).get(l.key).get(l.val!).get(l.f!).get(l.insn).call(m.native.lru.update);
  else c.get(l.hdr).get(l.key).call(m.native.lru.delete);
  c.op(Op.return);
  c.end();
}

/** nativeJsOp runs the `js` import operations of the native functions (undefined: not one of them). */
export function nativeJsOp(space: AddressSpace, cpu: number, op: number, hdr: number): bigint | undefined {
  if (op === JS_LRU_POP) return BigInt(lruPopFree(space, hdr, cpu));
  return undefined;
}
