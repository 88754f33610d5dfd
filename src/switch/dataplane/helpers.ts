/**
 * The switch's own helpers. bpf_redirect (23) records the target ifindex for the frame in the
 * switch state block and returns XDP_REDIRECT, like the kernel's XDP variant (any flag makes
 * it return XDP_ABORTED). It has a JavaScript form (interpreter) and an in-Wasm form the JIT
 * imports directly, so redirecting programs stay inside WebAssembly.
 * bpf_redirect_map (51) on a devmap comes with maps: it will resolve the map entry to an
 * ifindex (and BPF_F_BROADCAST / BPF_F_EXCLUDE_INGRESS into the flags word) and write the same
 * two words, so the dispatch code does not change.
 */
import { BPF_FUNC } from '../../core/helpers/ids.js';
import type { HelperRegistry } from '../../core/helpers/registry.js';
import { Code, ModuleBuilder } from '../../core/jit/wasm/encoder.js';
import { I32, I64, Op } from '../../core/jit/wasm/ops.js';
import type { VmContext } from '../../core/vm/engine.js';
import { XDP_ABORTED, XDP_REDIRECT } from '../../core/vm/xdp.js';
import { SW_REDIRECT, SW_REDIRECT_FLAGS } from './layout.js';

/** RedirectTarget is what the redirect helpers need of a switch. */
export interface RedirectTarget {
  readonly state: number;
}

/** registerSwitchHelpers adds bpf_redirect for switch `sw` to `helpers`. */
export function registerSwitchHelpers(helpers: HelperRegistry, sw: RedirectTarget): void {
  const wasm = new Map<WebAssembly.Memory, (...a: never[]) => unknown>();
  helpers.register(BPF_FUNC.redirect, (ifindex, flags, _r3, _r4, _r5, env) => {
    if (flags !== 0n) return BigInt(XDP_ABORTED);
    const dv = env.space.dv;
    dv.setUint32(sw.state + SW_REDIRECT, Number(ifindex & 0xffffffffn), true);
    dv.setUint32(sw.state + SW_REDIRECT_FLAGS, 0, true);
    return BigInt(XDP_REDIRECT);
  }, (ctx: VmContext) => {
    let f = wasm.get(ctx.space.memory);
    if (!f) {
      f = redirectWasm(ctx, sw.state);
      wasm.set(ctx.space.memory, f);
    }
    return f;
  });
}

/** redirectWasm builds bpf_redirect as a Wasm function `(r1..r5 i64, insn i32) -> i64`. */
function redirectWasm(ctx: VmContext, state: number): (...a: never[]) => unknown {
  const mb = new ModuleBuilder();
  const shared = ctx.space.shared;
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: shared ? 65536 : undefined, shared });
  const fn = mb.declareFunc([I64, I64, I64, I64, I64, I32], [I64]);
  const c = new Code(6);
  c.get(1).op(Op.i64_eqz).if(I64);
  c.i32(0).get(0).op(Op.i32_wrap_i64).mem(Op.i32_store, 2, state + SW_REDIRECT);
  c.i32(0).i32(0).mem(Op.i32_store, 2, state + SW_REDIRECT_FLAGS);
  c.i64(XDP_REDIRECT);
  c.else().i64(XDP_ABORTED).end();
  mb.defineFunc(fn, c);
  mb.exportFunc('redirect', fn);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode() as Uint8Array<ArrayBuffer>), { env: { memory: ctx.space.memory } });
  return inst.exports.redirect as (...a: never[]) => unknown;
}
