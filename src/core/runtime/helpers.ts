/**
 * The runtime's JavaScript helpers (interpreter path; the JIT uses the Wasm versions of the
 * map helpers when a HelperImpl has `wasm`): map lookup/update/delete, time, random numbers
 * and the CPU id. Map pointers are validated against the map table and key/value pointers
 * with HelperEnv.check, exactly as the Wasm map runtime does.
 */
import { BpfError } from '../errors.js';
import type { HelperEnv } from '../helpers/registry.js';
import { H_KEY_SIZE, H_TYPE, H_VALUE_SIZE, isQueueStack } from '../maps/layout.js';
import { qsPop, qsPush } from '../maps/queue.js';
import { deleteElem, lookupElem, updateElem } from '../maps/ops.js';
import { isMapPointer } from '../maps/table.js';
import { mapRuntimeHelper } from '../maps/wasm.js';
import type { Runtime } from './runtime.js';
import { registerTailCall } from './tailcall.js';
import { registerRingbufHelpers } from './ringbuf.js';
import { registerExtHelpers } from './ext-helpers.js';
import { SPIN_MSG, spinRelease, spinTake } from '../maps/spin-lock.js';

const U32 = 0x100000000n;

/** helperPointer checks [v, v+len) for the helper (checked mode rules, then memory bounds) and returns it. */
export function helperPointer(env: HelperEnv, v: bigint, len: number, write: boolean): number {
  const a = Number(v);
  env.check(a, len, write);
  if (v >= U32 || a + len > env.space.size) {
    throw new BpfError('E_MEM', `invalid memory access: ${write ? 'write' : 'read'} of ${len} bytes`, { address: a });
  }
  return a;
}

/** mapPointer checks that r1 is a map of this runtime and returns its header address. */
export function mapPointer(rt: Runtime, v: bigint): number {
  if (!isMapPointer(rt.space, rt.table.block, v)) {
    throw new BpfError('E_HELPER', `0x${v.toString(16)} is not a map`);
  }
  return Number(v);
}

function neg(r: number): bigint {
  return BigInt.asUintN(64, BigInt(r));
}

function flags32(f: bigint): number {
  return f >= U32 ? 0xffffffff : Number(f);
}

/** registerRuntimeHelpers adds the runtime's helpers to its registry. */
export function registerRuntimeHelpers(rt: Runtime, seed?: number): void {
  const h = rt.helpers;
  const space = rt.space;
  h.register('map_lookup_elem', (m, k, _3, _4, _5, env) => {
    const hdr = mapPointer(rt, m);
    const key = helperPointer(env, k, space.dv.getUint32(hdr + H_KEY_SIZE, true), false);
    return BigInt(lookupElem(space, hdr, key, env.cpu));
  }, mapRuntimeHelper(rt, 'map_lookup_elem'));
  h.register('map_update_elem', (m, k, v, f, _5, env) => {
    const hdr = mapPointer(rt, m);
    const key = helperPointer(env, k, space.dv.getUint32(hdr + H_KEY_SIZE, true), false);
    const val = helperPointer(env, v, space.dv.getUint32(hdr + H_VALUE_SIZE, true), false);
    return neg(updateElem(space, hdr, key, val, flags32(f), env.cpu));
  }, mapRuntimeHelper(rt, 'map_update_elem'));
  h.register('map_delete_elem', (m, k, _3, _4, _5, env) => {
    const hdr = mapPointer(rt, m);
    const key = helperPointer(env, k, space.dv.getUint32(hdr + H_KEY_SIZE, true), false);
    return neg(deleteElem(space, hdr, key));
  }, mapRuntimeHelper(rt, 'map_delete_elem'));
  const qs = (m: bigint): number => {
    const hdr = mapPointer(rt, m);
    if (!isQueueStack(space.dv.getUint32(hdr + H_TYPE, true))) throw new BpfError('E_HELPER', 'map is not a queue or stack');
    return hdr;
  };
  const vsize = (hdr: number): number => space.dv.getUint32(hdr + H_VALUE_SIZE, true);
  h.register('map_push_elem', (m, v, f, _4, _5, env) => {
    const hdr = qs(m);
    return neg(qsPush(space, hdr, helperPointer(env, v, vsize(hdr), false), flags32(f)));
  });
  for (const [name, del] of [['map_pop_elem', true], ['map_peek_elem', false]] as const) {
    h.register(name, (m, v, _3, _4, _5, env) => {
      const hdr = qs(m);
      return neg(qsPop(space, hdr, helperPointer(env, v, vsize(hdr), true), del));
    });
  }
  registerSpinLock(rt);
  registerMiscHelpers(rt, seed);
  registerTailCall(rt);
  registerRingbufHelpers(rt);
  registerExtHelpers(rt);
}

function nowNs(): bigint {
  return BigInt(Math.floor(globalThis.performance.now() * 1e6));
}

function registerMiscHelpers(rt: Runtime, seed?: number): void {
  const h = rt.helpers;
  let s = (seed ?? Math.floor(Math.random() * 0xffffffff)) >>> 0 || 0x2545f491;
  h.register('ktime_get_ns', () => nowNs());
  h.register('ktime_get_boot_ns', () => nowNs());
  h.register('get_prandom_u32', () => {
    // xorshift32: fast, seedable (tests reproduce runs), not cryptographic (nor is the kernel's)
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return BigInt(s);
  });
  h.register('get_smp_processor_id', (_1, _2, _3, _4, _5, env) => BigInt(env.cpu));
}

/** registerSpinLock adds bpf_spin_lock / bpf_spin_unlock (JavaScript; the JIT imports the map runtime's). */
function registerSpinLock(rt: Runtime): void {
  const lockAt = (v: bigint, env: HelperEnv): number => {
    const a = helperPointer(env, v, 4, true);
    if ((a & 3) !== 0) throw new BpfError('E_HELPER', SPIN_MSG.align);
    return a;
  };
  rt.helpers.register('spin_lock', (v, _2, _3, _4, _5, env) => {
    if (!spinTake(rt.space, lockAt(v, env), env.cpu + 1)) throw new BpfError('E_HELPER', SPIN_MSG.deadlock);
    return 0n;
  }, mapRuntimeHelper(rt, 'spin_lock'));
  rt.helpers.register('spin_unlock', (v, _2, _3, _4, _5, env) => {
    if (!spinRelease(rt.space, lockAt(v, env), env.cpu + 1)) throw new BpfError('E_HELPER', SPIN_MSG.unlock);
    return 0n;
  }, mapRuntimeHelper(rt, 'spin_unlock'));
}
