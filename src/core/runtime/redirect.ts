/**
 * bpf_redirect_map (helper 51) on devmaps, the kernel's __bpf_xdp_redirect_map: flags other
 * than the action bits (XDP_ABORTED..XDP_TX, the verdict when the key is missing) and
 * BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS give XDP_ABORTED; a missing key without
 * BPF_F_BROADCAST returns the action in the low bits (the redirect state is cleared);
 * otherwise the target is recorded and the result is XDP_REDIRECT.
 *
 * The target is written to two u32 words, the same ones bpf_redirect writes in the switch
 * (state block +4 target ifindex, +8 flags): unicast: the entry's ifindex and flags 0;
 * broadcast: the devmap's header address (devTargets() lists its interfaces) and the
 * BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS bits. A runtime registers the helper with
 * per-CPU words of its own (`redirectTarget(rt, cpu)`); a switch re-registers it with its state
 * block's words. Both a JavaScript form and an in-Wasm form (devmap and devmap-hash unicast
 * stay in Wasm; the rest calls the JavaScript form).
 */
import { isBpfError } from '../errors.js';
import type { HelperFn, HelperRegistry, WasmHelperFactory } from '../helpers/registry.js';
import { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { I32, I64, Op } from '../jit/wasm/ops.js';
import type { VmContext } from '../vm/engine.js';
import { BPF_MAP_TYPE_DEVMAP, BPF_MAP_TYPE_DEVMAP_HASH } from '../maps/ext.js';
import { devhashLookup, devmapLookup } from '../maps/devmap.js';
import { H_BUCKETS, H_KEYS, H_MAX_ENTRIES, H_NBUCKETS, H_NEXT, H_TYPE, H_VALUES, HEADER_SIZE, RB_TABLE, RB_TABLE_LEN } from '../maps/layout.js';
import { BpfError } from '../errors.js';
import { mapPointer } from './helpers.js';
import type { Runtime } from './runtime.js';

/** BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS (linux/bpf.h). */
export const BPF_F_BROADCAST = 1 << 3, BPF_F_EXCLUDE_INGRESS = 1 << 4;
const XDP_ABORTED = 0n, XDP_REDIRECT = 4n;
const ACTION_MASK = 3n;

/** RedirectWords are the addresses of the target word and the flags word (u32 each). */
export interface RedirectWords {
  target: number;
  flags: number;
  /**
   * optional: a u32 word that a unicast redirect through an entry with an egress program
   * (`struct bpf_devmap_val` bpf_prog) sets to the program's id; the caller clears it before
   * each run (the in-Wasm form leaves entries with programs to the JavaScript form)
   */
  egress?: number;
}

/** RedirectTarget is what a redirect left: ifindex (unicast) or devmap header (broadcast), and flags. */
export interface RedirectTarget {
  target: number;
  flags: number;
}

const perCpu = new WeakMap<Runtime, number>();

/** runtimeWords are the runtime's own redirect words of `cpu` (allocated once, 8 bytes per CPU). */
export function runtimeWords(rt: Runtime, cpu: number): RedirectWords {
  let base = perCpu.get(rt);
  if (base === undefined) {
    base = rt.space.alloc(rt.ncpus * 8, 8);
    perCpu.set(rt, base);
  }
  return { target: base + cpu * 8, flags: base + cpu * 8 + 4 };
}

/** redirectTarget reads what the last bpf_redirect_map of a program on `cpu` recorded. */
export function redirectTarget(rt: Runtime, cpu = 0): RedirectTarget {
  const w = runtimeWords(rt, cpu);
  return { target: rt.space.dv.getUint32(w.target, true), flags: rt.space.dv.getUint32(w.flags, true) };
}

/** redirectMap is the helper's logic over words `w`. */
export function redirectMap(rt: Runtime, m: bigint, key: bigint, flags: bigint, w: RedirectWords): bigint {
  const hdr = mapPointer(rt, m);
  const space = rt.space, dv = space.dv;
  const t = dv.getUint32(hdr + H_TYPE, true);
  if (t !== BPF_MAP_TYPE_DEVMAP && t !== BPF_MAP_TYPE_DEVMAP_HASH) {
    throw new BpfError('E_HELPER', `bpf_redirect_map: map type ${t} is not a devmap (cpumap and xskmap are not implemented)`);
  }
  const flagMask = BigInt(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
  if ((flags & ~(ACTION_MASK | flagMask)) !== 0n) return XDP_ABORTED;
  const k = Number(key & 0xffffffffn);
  const slot = t === BPF_MAP_TYPE_DEVMAP ? devmapLookup(space, hdr, k) : devhashLookup(space, hdr, k);
  const broadcast = (flags & BigInt(BPF_F_BROADCAST)) !== 0n;
  if (slot === 0 && !broadcast) {
    dv.setUint32(w.target, 0, true);
    dv.setUint32(w.flags, 0, true);
    return flags & ACTION_MASK;
  }
  dv.setUint32(w.target, broadcast ? hdr : dv.getUint32(slot, true), true);
  dv.setUint32(w.flags, broadcast ? Number(flags & flagMask) : 0, true);
  if (w.egress !== undefined && !broadcast) dv.setUint32(w.egress, dv.getUint32(slot + 4, true), true);
  return XDP_REDIRECT;
}

/**
 * registerRedirectMap registers bpf_redirect_map on `helpers` writing to `words` (default:
 * the runtime's per-CPU words).
 */
export function registerRedirectMap(rt: Runtime, words?: RedirectWords, helpers: HelperRegistry = rt.helpers): void {
  const fn: HelperFn = (m, key, flags, _4, _5, env) => redirectMap(rt, m, key, flags, words ?? runtimeWords(rt, env.cpu));
  helpers.register('redirect_map', fn, redirectMapWasm(rt, fn, words));
}

/** redirectModules are the compiled in-Wasm forms, by memory kind (addresses are imports: one compile per process). */
const redirectModules = new Map<boolean, WebAssembly.Module>();

/** redirectMapWasm is the WasmHelperFactory: one instance per context. */
function redirectMapWasm(rt: Runtime, fn: HelperFn, words?: RedirectWords): WasmHelperFactory {
  const cache = new WeakMap<VmContext, (...a: never[]) => unknown>();
  return (ctx) => {
    if (ctx.space !== rt.space) return undefined;
    let f = cache.get(ctx);
    if (!f) {
      const w = words ?? runtimeWords(rt, ctx.cpu);
      const slow = (a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, insn: number): bigint => {
        try {
          return fn(BigInt.asUintN(64, a), BigInt.asUintN(64, b), BigInt.asUintN(64, c), BigInt.asUintN(64, d), BigInt.asUintN(64, e),
            { space: ctx.space, cpu: ctx.cpu, check: () => undefined });
        } catch (err) {
          throw isBpfError(err) ? err.withContext({ insn }) : err;
        }
      };
      const shared = rt.space.shared;
      let mod = redirectModules.get(shared);
      if (!mod) redirectModules.set(shared, (mod = new WebAssembly.Module(buildRedirectMap(shared) as Uint8Array<ArrayBuffer>)));
      const g = (v: number) => new WebAssembly.Global({ value: 'i32', mutable: false }, v);
      const env = { memory: rt.space.memory, slow, block: g(rt.table.block), target: g(w.target), flags: g(w.flags) };
      f = new WebAssembly.Instance(mod, { env }).exports.redirect_map as (...a: never[]) => unknown;
      cache.set(ctx, f);
    }
    return f;
  };
}

/**
 * buildRedirectMap encodes `redirect_map(r1..r5 i64, insn i32) -> i64`: a valid map pointer
 * to a devmap or devmap-hash, flags with no bit above the action bits and a present key: write
 * the words and return XDP_REDIRECT; anything else calls the imported JavaScript form. The
 * runtime block and the two words are imported i32 globals (`block`, `target`, `flags`).
 */
export function buildRedirectMap(shared: boolean): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const sig = [I64, I64, I64, I64, I64, I32];
  const slow = mb.importFunc('env', 'slow', sig, [I64]);
  const gBlock = mb.importGlobal('env', 'block', I32), gTarget = mb.importGlobal('env', 'target', I32), gFlags = mb.importGlobal('env', 'flags', I32);
  const fn = mb.declareFunc(sig, [I64]);
  const c = new Code(6);
  const hdr = c.local(I32), id = c.local(I32), t = c.local(I32), k = c.local(I32), e = c.local(I32), slot = c.local(I32);
  const ld = (off: number): void => {
    c.get(hdr).mem(Op.i32_load, 2, off);
  };
  c.block(); // $slow
  // the map pointer check of table.ts
  c.get(0).i64(0x100000000n).op(Op.i64_ge_u, Op.br_if).u32(0);
  c.get(0).op(Op.i32_wrap_i64).tee(hdr).op(Op.i32_eqz, Op.br_if).u32(0);
  c.get(0).i64(HEADER_SIZE).op(Op.i64_add).op(0x3f, 0x00).op(Op.i64_extend_i32_u).i64(16).op(Op.i64_shl, Op.i64_gt_u, Op.br_if).u32(0);
  ld(0); c.tee(id).op(Op.i32_eqz, Op.br_if).u32(0);
  c.get(id).gget(gBlock).mem(Op.i32_load, 2, RB_TABLE_LEN).op(Op.i32_ge_u, Op.br_if).u32(0);
  c.gget(gBlock).mem(Op.i32_load, 2, RB_TABLE).get(id).i32(2).op(Op.i32_shl, Op.i32_add).mem(Op.i32_load, 2, 0);
  c.get(hdr).op(Op.i32_ne, Op.br_if).u32(0);
  // the action bits and the broadcast bits: anything else (bad flags: XDP_ABORTED) is the slow path's
  c.get(2).i64(~BigInt(3 | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS)).op(Op.i64_and).i64(0).op(Op.i64_ne, Op.br_if).u32(0);
  // a broadcast through a devmap: the target is the map itself, the flags its broadcast bits
  c.get(2).i64(BigInt(BPF_F_BROADCAST)).op(Op.i64_and).i64(0).op(Op.i64_ne).if();
  ld(H_TYPE); c.tee(t).i32(BPF_MAP_TYPE_DEVMAP).op(Op.i32_ne).get(t).i32(BPF_MAP_TYPE_DEVMAP_HASH).op(Op.i32_ne, Op.i32_and, Op.br_if).u32(1);
  c.gget(gTarget).get(hdr).mem(Op.i32_store, 2, 0);
  c.gget(gFlags).get(2).op(Op.i32_wrap_i64).i32(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS).op(Op.i32_and).mem(Op.i32_store, 2, 0);
  c.i64(XDP_REDIRECT).op(Op.return);
  c.end();
  c.get(1).op(Op.i32_wrap_i64).set(k);
  ld(H_TYPE); c.tee(t).i32(BPF_MAP_TYPE_DEVMAP).op(Op.i32_eq).if();
  c.get(k); ld(H_MAX_ENTRIES); c.op(Op.i32_ge_u, Op.br_if).u32(1);
  ld(H_VALUES); c.get(k).i32(3).op(Op.i32_shl, Op.i32_add).set(slot);
  c.else();
  c.get(t).i32(BPF_MAP_TYPE_DEVMAP_HASH).op(Op.i32_ne, Op.br_if).u32(1);
  ld(H_BUCKETS); c.get(k); ld(H_NBUCKETS); c.i32(1).op(Op.i32_sub, Op.i32_and).i32(2).op(Op.i32_shl, Op.i32_add).mem(Op.i32_load, 2, 0).set(e);
  c.block().loop();
  c.get(e).op(Op.i32_eqz, Op.br_if).u32(3);
  ld(H_KEYS); c.get(e).i32(1).op(Op.i32_sub).i32(2).op(Op.i32_shl, Op.i32_add).mem(Op.i32_load, 2, 0).get(k).op(Op.i32_eq, Op.br_if).u32(1);
  ld(H_NEXT); c.get(e).i32(1).op(Op.i32_sub).i32(2).op(Op.i32_shl, Op.i32_add).mem(Op.i32_load, 2, 0).set(e);
  c.br(0);
  c.end().end();
  ld(H_VALUES); c.get(e).i32(1).op(Op.i32_sub).i32(3).op(Op.i32_shl, Op.i32_add).set(slot);
  c.end();
  c.get(slot).mem(Op.i32_load, 2, 0).tee(t).op(Op.i32_eqz, Op.br_if).u32(0);
  c.get(slot).mem(Op.i32_load, 2, 4).op(Op.br_if).u32(0); // an egress program: the JavaScript form records it
  c.gget(gTarget).get(t).mem(Op.i32_store, 2, 0);
  c.gget(gFlags).i32(0).mem(Op.i32_store, 2, 0);
  c.i64(XDP_REDIRECT).op(Op.return);
  c.end();
  for (let r = 0; r < 6; r++) c.get(r);
  c.call(slow);
  mb.defineFunc(fn, c);
  mb.exportFunc('redirect_map', fn);
  return mb.encode();
}
