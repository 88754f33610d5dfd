/**
 * Helpers that call back into the program: bpf_loop (181) and bpf_for_each_map_elem (164),
 * with the kernel's rules. The callback is a resolved BPF_PSEUDO_FUNC pointer ((CALLBACK_TAG
 * << 32) | slot, see resolve.ts); the engine runs it in the frame below the caller
 * (HelperEnv.callback), so its instructions count against the run's budget.
 *
 * bpf_loop(nr, fn, ctx, flags): flags != 0 -> -EINVAL; nr > 2^23 -> -E2BIG; calls fn(i, ctx)
 * for i = 0.. until it returns non-zero; returns the number of calls made.
 * bpf_for_each_map_elem(map, fn, ctx, flags): arrays (all indexes) and hash maps (bucket
 * order), fn(map, &key, &value, ctx) until it returns non-zero; returns the number of elements
 * visited. The key is a read-only copy the callback may read (a region added for the call);
 * the value is the element's (this CPU's slot for per-CPU maps).
 */
import { BpfError } from '../errors.js';
import { CALLBACK_TAG, type HelperEnv } from '../helpers/registry.js';
import {
  H_BUCKETS, H_ESTRIDE, H_KEYS, H_KEY_SIZE, H_KSTRIDE, H_MAX_ENTRIES, H_NBUCKETS, H_NCPUS, H_NEXT, H_STRIDE, H_TYPE, H_VALUES,
  isArrayType, isHashType,
} from '../maps/layout.js';
import { PERM_R, type Region } from '../vm/memory.js';
import { mapPointer } from './helpers.js';
import type { Runtime } from './runtime.js';

/** BPF_MAX_LOOPS is the kernel's bound on bpf_loop iterations. */
export const BPF_MAX_LOOPS = 1 << 23;
const EINVAL = 22n, E2BIG = 7n;

function neg(e: bigint): bigint {
  return BigInt.asUintN(64, -e);
}

/** callbackSlot checks a callback pointer and returns its slot. */
export function callbackSlot(fn: bigint): number {
  if (fn >> 32n !== BigInt(CALLBACK_TAG)) {
    throw new BpfError('E_HELPER', `0x${fn.toString(16)} is not a callback (a BPF_PSEUDO_FUNC pointer)`);
  }
  return Number(fn & 0xffffffffn);
}

function run(env: HelperEnv, slot: number, args: bigint[], regions?: Region[]): bigint {
  if (!env.callback) throw new BpfError('E_HELPER', 'this engine cannot run callbacks');
  return env.callback(slot, args, regions);
}

/** bpfLoop is bpf_loop. */
export function bpfLoop(nr: bigint, fn: bigint, ctx: bigint, flags: bigint, env: HelperEnv): bigint {
  if (flags !== 0n) return neg(EINVAL);
  const n = Number(nr & 0xffffffffn);
  if (n > BPF_MAX_LOOPS) return neg(E2BIG);
  const slot = callbackSlot(fn);
  let i = 0;
  while (i < n) {
    const r = run(env, slot, [BigInt(i), ctx]);
    i++;
    if (r !== 0n) break;
  }
  return BigInt(i);
}

const keyBufs = new WeakMap<Runtime, Map<number, { at: number; cap: number }>>();

/** keyBuffer returns a per-CPU buffer of at least `len` bytes for callback keys. */
function keyBuffer(rt: Runtime, cpu: number, len: number): number {
  let m = keyBufs.get(rt);
  if (!m) keyBufs.set(rt, (m = new Map()));
  let b = m.get(cpu);
  if (!b || b.cap < len) {
    b = { at: rt.space.alloc(Math.max(64, len), 8), cap: Math.max(64, len) };
    m.set(cpu, b);
  }
  return b.at;
}

/** forEachMapElem is bpf_for_each_map_elem. */
export function forEachMapElem(rt: Runtime, m: bigint, fn: bigint, ctx: bigint, flags: bigint, env: HelperEnv): bigint {
  const hdr = mapPointer(rt, m);
  if (flags !== 0n) return neg(EINVAL);
  const slot = callbackSlot(fn);
  const dv = rt.space.dv;
  const u32 = (off: number): number => dv.getUint32(hdr + off, true);
  const t = u32(H_TYPE);
  if (!isArrayType(t) && !isHashType(t)) throw new BpfError('E_HELPER', `bpf_for_each_map_elem: map type ${t} is not supported`);
  const ks = u32(H_KEY_SIZE);
  const key = keyBuffer(rt, env.cpu, ks);
  const regions: Region[] = [{ start: key, end: key + ks, perm: PERM_R, name: 'callback key' }];
  const cpuOff = u32(H_NCPUS) > 1 ? env.cpu * u32(H_STRIDE) : 0;
  let n = 0;
  const visit = (keyFrom: number | null, index: number, value: number): boolean => {
    if (keyFrom === null) rt.space.dv.setUint32(key, index, true);
    else rt.space.u8.copyWithin(key, keyFrom, keyFrom + ks);
    n++;
    return run(env, slot, [m, BigInt(key), BigInt(value + cpuOff), ctx], regions) !== 0n;
  };
  if (isArrayType(t)) {
    for (let i = 0; i < u32(H_MAX_ENTRIES); i++) if (visit(null, i, u32(H_VALUES) + i * u32(H_ESTRIDE))) break;
    return BigInt(n);
  }
  // hash: bucket by bucket, the next element taken before the callback (it may delete the current one)
  for (let b = 0; b < u32(H_NBUCKETS); b++) {
    let e = dv.getUint32(u32(H_BUCKETS) + b * 4, true);
    while (e !== 0) {
      const next = rt.space.dv.getUint32(u32(H_NEXT) + (e - 1) * 4, true);
      if (visit(u32(H_KEYS) + (e - 1) * u32(H_KSTRIDE), 0, u32(H_VALUES) + (e - 1) * u32(H_ESTRIDE))) return BigInt(n);
      e = next;
    }
  }
  return BigInt(n);
}

/** registerCallbackHelpers adds bpf_loop and bpf_for_each_map_elem to `rt`. */
export function registerCallbackHelpers(rt: Runtime): void {
  rt.helpers.register('loop', (nr, fn, ctx, flags, _5, env) => bpfLoop(nr, fn, ctx, flags, env));
  rt.helpers.register('for_each_map_elem', (m, fn, ctx, flags, _5, env) => forEachMapElem(rt, m, fn, ctx, flags, env));
}
