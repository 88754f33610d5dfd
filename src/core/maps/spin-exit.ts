/**
 * The exit check of bpf_spin_lock: a program must release the lock it took before it exits
 * (the kernel's verifier refuses programs that do not: "bpf_spin_unlock is missing"). For
 * programs run without that guarantee, the run wrapper calls spinExitCheck when a run ends
 * (normally or with a fault): a lock this CPU still holds is released, so it is not held
 * forever, and a checked run that ended normally faults E_HELPER (SPIN_EXIT_MSG). The lock
 * taken last is known from the JavaScript helper's record (spin-lock.ts) and from the Wasm
 * map runtime's exported global (wasm-spin.ts) of the context's instances.
 */
import { BpfError } from '../errors.js';
import type { VmContext } from '../vm/engine.js';
import { SPIN_EXIT_MSG, releaseAtExit, spinHeldJs } from './spin-lock.js';
import { SPIN_HELD_EXPORT } from './wasm-native.js';
import { mapRuntimeExisting } from './wasm.js';

/** heldWasm takes (and clears) the lock address + 1 the context's Wasm instances recorded. */
function heldWasm(ctx: VmContext): number {
  let a = 0;
  for (const checked of [false, true]) {
    const g = (mapRuntimeExisting(ctx, checked) as Record<string, unknown> | undefined)?.[SPIN_HELD_EXPORT] as WebAssembly.Global | undefined;
    if (g && g.value !== 0) {
      a = g.value;
      g.value = 0;
    }
  }
  return a;
}

/**
 * spinExitCheck ends a run on `ctx`: releases the lock the program left held; throws
 * E_HELPER when `fault` (a checked run that ended normally) and one was.
 */
export function spinExitCheck(ctx: VmContext, fault: boolean): void {
  const js = spinHeldJs(ctx.space, ctx.cpu, true);
  const wasm = heldWasm(ctx) - 1;
  let released = false;
  for (const addr of [js, wasm]) if (addr >= 0 && releaseAtExit(ctx.space, ctx.cpu, addr)) released = true;
  if (released && fault) throw new BpfError('E_HELPER', SPIN_EXIT_MSG);
}
