/**
 * The JIT's map helpers for the extension map types: a small Wasm function put in front of
 * the Wasm map runtime's lookup/update/delete that sends maps of an extension type (header
 * type word in EXT_TYPE_MASK) to the JavaScript helper and everything else to the map runtime,
 * Wasm to Wasm. It is used only by runtimes that have extension maps, so programs of other
 * runtimes import the map runtime directly and pay nothing.
 */
import type { HelperFn, WasmHelperFactory } from '../helpers/registry.js';
import { Code, ModuleBuilder } from '../jit/wasm/encoder.js';
import { I32, I64, Op } from '../jit/wasm/ops.js';
import { callHelperJs, contextRuntime, helperEnv } from '../jit/runtime.js';
import type { VmContext } from '../vm/engine.js';
import { EXT_TYPE_MASK } from './ext.js';
import { H_TYPE, HEADER_SIZE } from './layout.js';

type WasmFn = (...a: never[]) => unknown;

/** buildExtDispatch encodes `dispatch(r1..r5 i64, insn i32) -> i64` over imports `fast` and `slow`. */
export function buildExtDispatch(shared: boolean): Uint8Array {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const sig = [I64, I64, I64, I64, I64, I32];
  const fast = mb.importFunc('env', 'fast', sig, [I64]);
  const slow = mb.importFunc('env', 'slow', sig, [I64]);
  const fn = mb.declareFunc(sig, [I64]);
  const c = new Code(6);
  const t = c.local(I32);
  const args = (): void => {
    for (let r = 0; r < 6; r++) c.get(r);
  };
  c.block();
  c.get(0).i64(0x100000000n).op(Op.i64_ge_u, Op.br_if).u32(0);
  c.get(0).i64(HEADER_SIZE).op(Op.i64_add).op(0x3f, 0x00).op(Op.i64_extend_i32_u).i64(16).op(Op.i64_shl, Op.i64_gt_u, Op.br_if).u32(0);
  c.get(0).op(Op.i32_wrap_i64).mem(Op.i32_load, 2, H_TYPE).tee(t).i32(32).op(Op.i32_ge_u, Op.br_if).u32(0);
  c.i32(EXT_TYPE_MASK).get(t).op(Op.i32_shr_u).i32(1).op(Op.i32_and).op(Op.i32_eqz, Op.br_if).u32(0);
  args();
  c.call(slow).op(Op.return);
  c.end();
  args();
  c.call(fast);
  mb.defineFunc(fn, c);
  mb.exportFunc('dispatch', fn);
  return mb.encode();
}

const modules = new Map<boolean, WebAssembly.Module>();

/** ExtHost is what the dispatcher needs of a runtime. */
export interface ExtHost {
  readonly space: { readonly memory: WebAssembly.Memory; readonly shared: boolean };
  /** whether the runtime has a map of an extension type now */
  hasExtMaps(): boolean;
}

/**
 * extMapHelper wraps the map runtime's factory `fast` of helper `id` (JavaScript form `fn`):
 * with extension maps present, programs import the dispatcher instead.
 */
export function extMapHelper(host: ExtHost, id: number, fn: HelperFn, fast: WasmHelperFactory): WasmHelperFactory {
  return (ctx: VmContext, checked: boolean) => {
    const f = fast(ctx, checked);
    if (!f || !host.hasExtMaps()) return f;
    const crt = contextRuntime(ctx);
    const env = helperEnv(crt, ctx, checked);
    const slow = (a: bigint, b: bigint, c: bigint, d: bigint, e: bigint, insn: number): bigint =>
      callHelperJs(crt, env, id, fn as unknown as WasmFn, [a, b, c, d, e], insn);
    const shared = host.space.shared;
    let mod = modules.get(shared);
    if (!mod) modules.set(shared, (mod = new WebAssembly.Module(buildExtDispatch(shared) as Uint8Array<ArrayBuffer>)));
    const inst = new WebAssembly.Instance(mod, { env: { memory: host.space.memory, fast: f, slow } });
    return inst.exports.dispatch as WasmFn;
  };
}
