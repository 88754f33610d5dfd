/**
 * The Wasm map runtime: a small module built with the JIT's encoder, instantiated over a
 * runtime's memory once per (context, mode), exporting bpf_map_lookup_elem,
 * bpf_map_update_elem and bpf_map_delete_elem with the JIT's helper signature
 * (r1..r5 i64, insn i32) -> i64, so a JIT-compiled program's map calls never leave Wasm.
 *
 * Also bpf_spin_lock and bpf_spin_unlock (wasm-spin.ts).
 *
 * Imports: env.memory; env.fault(kind i32, insn i32, addr i64, len i32) (throws the
 * BpfError); globals env.stackBase, env.cb (the context's JIT control block: regions of the
 * current run), env.cpu, env.checked, env.block (the runtime block, see layout.ts).
 */
import { BpfError, isBpfError } from '../errors.js';
import type { WasmHelperFactory } from '../helpers/registry.js';
import { ModuleBuilder } from '../jit/wasm/encoder.js';
import { contextRuntime } from '../jit/runtime.js';
import { type InlineArrayMap, registerArrayInline } from '../jit/inline.js';
import { isMapPointer } from './table.js';
import { H_ESTRIDE, H_MAX_ENTRIES, H_NCPUS, H_STRIDE, H_TYPE, H_VALUES, isArrayType } from './layout.js';
import type { VmContext } from '../vm/engine.js';
import type { AddressSpace } from '../vm/memory.js';
import { MF_LOCK_ALIGN, MF_LOCK_DEADLOCK, MF_NOT_MAP, MF_READ, MF_UNINIT, MF_UNLOCK, MF_WRITE, genCheck, genElem, genFind, genHash, genKeyEq, genMapPtr, genSlot } from './wasm-lib.js';
import { genDelete, genLookup, genUpdate } from './wasm-ops.js';
import { genSpinLock, genSpinUnlock } from './wasm-spin.js';
import { declareNative, defineNative, nativeJsOp } from './wasm-native.js';
import { SPIN_MSG } from './spin-lock.js';
import { deleteElem, lookupElem, updateElem } from './ops.js';
import { I32, I64, type MRT } from './wasm-util.js';

/** MAP_RUNTIME_EXPORTS are the helper names the module exports. */
export const MAP_RUNTIME_EXPORTS = ['map_lookup_elem', 'map_update_elem', 'map_delete_elem', 'spin_lock', 'spin_unlock'] as const;
type ExportName = (typeof MAP_RUNTIME_EXPORTS)[number];

/** buildMapRuntime encodes the module for shared or unshared memory. */
export function buildMapRuntime(shared: boolean): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const fault = mb.importFunc('env', 'fault', [I32, I32, I64, I32], []);
  const js = mb.importFunc('env', 'js', [I32, I32, I32, I32, I32, I32], [I64]);
  const g = (name: string): number => mb.importGlobal('env', name, I32);
  const m: MRT = {
    fault, js, gStackBase: g('stackBase'), gCb: g('cb'), gCpu: g('cpu'), gChecked: g('checked'), gBlock: g('block'),
    hash: mb.declareFunc([I32, I32], [I32]),
    keyeq: mb.declareFunc([I32, I32, I32], [I32]),
    check: mb.declareFunc([I64, I32, I32, I32], []),
    mapptr: mb.declareFunc([I64, I32], [I32]),
    find: mb.declareFunc([I32, I32, I32], [I32]),
    elem: mb.declareFunc([I32, I32], [I32]),
    slot: mb.declareFunc([I32, I32], [I32]),
    native: declareNative(mb),
    shared,
  };
  mb.defineFunc(m.hash, genHash());
  mb.defineFunc(m.keyeq, genKeyEq());
  mb.defineFunc(m.check, genCheck(m));
  mb.defineFunc(m.mapptr, genMapPtr(m));
  mb.defineFunc(m.find, genFind(m));
  mb.defineFunc(m.elem, genElem(m));
  mb.defineFunc(m.slot, genSlot(m));
  defineNative(mb, m);
  const helper = [I64, I64, I64, I64, I64, I32];
  const gens = { map_lookup_elem: genLookup, map_update_elem: genUpdate, map_delete_elem: genDelete, spin_lock: genSpinLock, spin_unlock: genSpinUnlock };
  for (const name of MAP_RUNTIME_EXPORTS) {
    const f = mb.declareFunc(helper, [I64]);
    mb.defineFunc(f, gens[name](m));
    mb.exportFunc(name, f);
  }
  mb.exportFunc('hash', m.hash);
  return mb.encode();
}

const modules = new Map<boolean, WebAssembly.Module>();

function moduleFor(shared: boolean): WebAssembly.Module {
  let mod = modules.get(shared);
  if (!mod) {
    mod = new WebAssembly.Module(buildMapRuntime(shared) as Uint8Array<ArrayBuffer>);
    modules.set(shared, mod);
  }
  return mod;
}

/** faultError builds the BpfError a `fault` import call stands for (same as the JS helpers'; also used by wasm-ringbuf.ts). */
export function faultError(kind: number, insn: number, addr: bigint, len: number): BpfError {
  const address = Number(BigInt.asUintN(64, addr));
  switch (kind) {
    case MF_READ:
    case MF_WRITE:
      return new BpfError('E_MEM', `invalid memory access: ${kind === MF_WRITE ? 'write' : 'read'} of ${len} bytes`, { insn, address });
    case MF_UNINIT:
      return new BpfError('E_UNINIT_STACK', 'read of uninitialised stack', { insn, address });
    case MF_LOCK_ALIGN:
      return new BpfError('E_HELPER', SPIN_MSG.align, { insn });
    case MF_LOCK_DEADLOCK:
      return new BpfError('E_HELPER', SPIN_MSG.deadlock, { insn });
    case MF_UNLOCK:
      return new BpfError('E_HELPER', SPIN_MSG.unlock, { insn });
    case MF_NOT_MAP:
      return new BpfError('E_HELPER', `0x${BigInt.asUintN(64, addr).toString(16)} is not a map`, { insn });
    default:
      return new BpfError('EINVAL', `internal: map runtime fault ${kind}`, { insn });
  }
}

/** jsOp runs operation `op` (0 update, 1 delete, 2 lookup) of the `js` import; faults name `insn`. */
function jsOp(space: AddressSpace, cpu: number, op: number, hdr: number, key: number, val: number, flags: number, insn: number): bigint {
  try {
    const r = nativeJsOp(space, cpu, op, hdr);
    if (r !== undefined) return r;
    if (op === 0) return BigInt.asUintN(64, BigInt(updateElem(space, hdr, key, val, flags, cpu)));
    if (op === 1) return BigInt.asUintN(64, BigInt(deleteElem(space, hdr, key)));
    return BigInt(lookupElem(space, hdr, key, cpu));
  } catch (e) {
    throw isBpfError(e) ? e.withContext({ insn }) : e;
  }
}

/** MapRuntimeHost is what an instance needs from its owner: memory and the runtime block. */
export interface MapRuntimeHost {
  readonly space: AddressSpace;
  readonly table: { readonly block: number };
}

/** MapRuntimeExports are the exported helpers of one instance. */
export type MapRuntimeExports = Record<ExportName, (...a: never[]) => unknown> & { hash: (a: number, len: number) => number };

const instances = new WeakMap<VmContext, Map<boolean, MapRuntimeExports>>();

/** mapRuntimeInstance returns (creating once) the instance for `ctx` in checked or trusted mode. */
export function mapRuntimeInstance(host: MapRuntimeHost, ctx: VmContext, checked: boolean): MapRuntimeExports {
  let per = instances.get(ctx);
  if (!per) instances.set(ctx, (per = new Map()));
  let ex = per.get(checked);
  if (!ex) {
    const gl = (v: number): WebAssembly.Global => new WebAssembly.Global({ value: 'i32', mutable: false }, v | 0);
    const env = {
      memory: host.space.memory,
      fault: (kind: number, insn: number, addr: bigint, len: number) => {
        throw faultError(kind, insn, addr, len);
      },
      // LRU and LPM writes, LPM lookups and the extension types run the TypeScript operations
      js: (op: number, hdr: number, key: number, val: number, flags: number, insn: number) =>
        jsOp(host.space, ctx.cpu, op, hdr >>> 0, key >>> 0, val >>> 0, flags >>> 0, insn),
      stackBase: gl(ctx.stack.base), cb: gl(contextRuntime(ctx).cb), cpu: gl(ctx.cpu), checked: gl(checked ? 1 : 0),
      block: gl(host.table.block),
    };
    const inst = new WebAssembly.Instance(moduleFor(host.space.shared), { env });
    ex = inst.exports as unknown as MapRuntimeExports;
    per.set(checked, ex);
  }
  return ex;
}

/** mapRuntimeExisting returns the instance made for `ctx` in a mode, or undefined (never creates one). */
export function mapRuntimeExisting(ctx: VmContext, checked: boolean): MapRuntimeExports | undefined {
  return instances.get(ctx)?.get(checked);
}

/**
 * mapRuntimeHelper is the WasmHelperFactory of one exported helper of `host`'s map runtime.
 * The lookup's factory lets the JIT inline lookups of array and per-CPU array maps.
 */
export function mapRuntimeHelper(host: MapRuntimeHost, name: ExportName): WasmHelperFactory {
  const f: WasmHelperFactory = (ctx, checked) => (ctx.space === host.space ? mapRuntimeInstance(host, ctx, checked)[name] : undefined);
  if (name === 'map_lookup_elem') registerArrayInline(f, (ctx, r1) => describeArray(host, ctx, r1));
  return f;
}

/**
 * describeArray: when `r1` is an array or per-CPU array map of `host` (as the lookup helper
 * validates it), where `ctx`'s CPU finds element 0 and the element stride. Maps are never
 * removed from the table and these header fields never change, so this holds while the
 * program lives.
 */
export function describeArray(host: MapRuntimeHost, ctx: VmContext, r1: bigint): InlineArrayMap | undefined {
  if (ctx.space !== host.space || !isMapPointer(host.space, host.table.block, r1)) return undefined;
  const dv = host.space.dv, hdr = Number(r1);
  if (!isArrayType(dv.getUint32(hdr + H_TYPE, true))) return undefined;
  const cpuOff = dv.getUint32(hdr + H_NCPUS, true) > 1 ? ctx.cpu * dv.getUint32(hdr + H_STRIDE, true) : 0;
  return {
    base: dv.getUint32(hdr + H_VALUES, true) + cpuOff,
    maxEntries: dv.getUint32(hdr + H_MAX_ENTRIES, true),
    estride: dv.getUint32(hdr + H_ESTRIDE, true),
  };
}
