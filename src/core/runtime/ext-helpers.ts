/**
 * Helpers for the extension map types, registered by every Runtime: bpf_redirect_map
 * (runtime per-CPU redirect words), map_push_elem / map_peek_elem on bloom filters (queue and
 * stack keep their own). The JIT's map helpers (the Wasm map runtime) hand the extension
 * types to the TypeScript operations themselves.
 */
import { BpfError } from '../errors.js';
import { BPF_FUNC } from '../helpers/ids.js';
import type { HelperFn } from '../helpers/registry.js';
import { BPF_MAP_TYPE_BLOOM_FILTER } from '../maps/ext.js';
import { bloomPeek, bloomPush } from '../maps/bloom.js';
import { H_TYPE, H_VALUE_SIZE } from '../maps/layout.js';
import { helperPointer, mapPointer } from './helpers.js';
import { registerRedirectMap } from './redirect.js';
import { registerCallbackHelpers } from './callbacks.js';
import { registerMiscHelpers } from './misc-helpers.js';
import type { Runtime } from './runtime.js';

const U32 = 0x100000000n;

function neg(r: number): bigint {
  return BigInt.asUintN(64, BigInt(r));
}

/** registerExtHelpers adds the extension types' helpers to `rt` (after the core map helpers). */
export function registerExtHelpers(rt: Runtime): void {
  const h = rt.helpers, space = rt.space;
  registerRedirectMap(rt);
  registerCallbackHelpers(rt);
  registerMiscHelpers(rt);
  const bloom = (m: bigint): number => {
    const hdr = mapPointer(rt, m);
    return space.dv.getUint32(hdr + H_TYPE, true) === BPF_MAP_TYPE_BLOOM_FILTER ? hdr : 0;
  };
  const vsize = (hdr: number): number => space.dv.getUint32(hdr + H_VALUE_SIZE, true);
  const push = h.get(BPF_FUNC.map_push_elem)?.fn;
  h.register('map_push_elem', (m, v, f, r4, r5, env) => {
    const hdr = bloom(m);
    if (hdr === 0) return call(push, 'map_push_elem', m, v, f, r4, r5, env);
    return neg(bloomPush(space, hdr, helperPointer(env, v, vsize(hdr), false), f >= U32 ? 0xffffffff : Number(f)));
  });
  const peek = h.get(BPF_FUNC.map_peek_elem)?.fn;
  h.register('map_peek_elem', (m, v, r3, r4, r5, env) => {
    const hdr = bloom(m);
    if (hdr === 0) return call(peek, 'map_peek_elem', m, v, r3, r4, r5, env);
    return neg(bloomPeek(space, hdr, helperPointer(env, v, vsize(hdr), false)));
  });
}

function call(prev: HelperFn | undefined, name: string, ...a: Parameters<HelperFn>): bigint {
  if (!prev) throw new BpfError('E_HELPER', `${name}: map is not a bloom filter`);
  return prev(...a);
}
