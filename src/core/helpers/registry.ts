/**
 * Helper registry: helper implementations keyed by Linux helper ID. A helper takes r1..r5
 * as unsigned 64-bit BigInts plus the environment of the running program and returns r0.
 * Engines look helpers up once at load time; the JIT may replace well-known helpers with
 * code generated inside WebAssembly (see HelperImpl.wasm) so the hot path never calls JS.
 */
import { BpfError } from '../errors.js';
import type { AddressSpace, Region } from '../vm/memory.js';
import type { VmContext } from '../vm/engine.js';
import { BPF_FUNC, HELPERS } from './ids.js';

/** HelperEnv is what a helper sees of the running program. */
export interface HelperEnv {
  readonly space: AddressSpace;
  /** check throws an E_MEM BpfError when [addr, addr+len) is not accessible in checked mode. */
  check(addr: number, len: number, write: boolean): void;
  /** cpu is the index of the execution context (worker) running the program. */
  readonly cpu: number;
  /**
   * callback runs the program's subprogram starting at slot `target` (a callback passed as a
   * BPF_PSEUDO_FUNC pointer, see CALLBACK_TAG) in a new stack frame below the calling one,
   * with r1..r5 = `args`, and returns its r0; its instructions count against the run's
   * budget. Faults inside it propagate. `regions` are extra regions the callback may access
   * (checked mode), e.g. a key copy. Engines provide it to the helpers of CALLBACK_HELPERS.
   */
  callback?(target: number, args: readonly bigint[], regions?: readonly Region[]): bigint;
}

/**
 * CALLBACK_TAG is the high word of a resolved callback pointer: the loader turns `lddw rX,
 * BPF_PSEUDO_FUNC` into rX = (CALLBACK_TAG << 32) | target slot (keeping src BPF_PSEUDO_FUNC
 * so engines can see which slots are callbacks). Never a valid memory address.
 */
export const CALLBACK_TAG = 0x0cb00000;

/** CALLBACK_HELPERS are the helpers that call back into the program (for_each_map_elem, timer_set_callback, find_vma, loop, user_ringbuf_drain). */
export const CALLBACK_HELPERS: readonly number[] = [164, 170, 180, 181, 209];

/** HelperFn implements a helper: r1..r5 in, r0 out (all unsigned 64-bit). */
export type HelperFn = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: HelperEnv) => bigint;

/**
 * WasmHelperFactory returns, for a context and mode (checked or trusted), a function exported
 * from a WebAssembly instance over the context's memory that implements the helper with the
 * JIT's helper signature `(r1..r5: i64, insn: i32) -> i64`, or undefined when it has none.
 * A JIT imports it in place of the JavaScript wrapper of `fn`, so calls stay inside Wasm; it
 * behaves exactly like `fn` (same results, same faults as BpfErrors with the call's insn).
 */
export type WasmHelperFactory = (ctx: VmContext, checked: boolean) => ((...args: never[]) => unknown) | undefined;

/** HelperImpl is a registered helper. */
export interface HelperImpl {
  id: number;
  name: string;
  fn: HelperFn;
  /** wasm, when present, gives the in-Wasm implementation of `fn` for the JIT */
  wasm?: WasmHelperFactory;
}

/** HelperRegistry maps helper IDs to implementations. */
export class HelperRegistry {
  private readonly byId = new Map<number, HelperImpl>();

  /** register adds or replaces the helper `idOrName` (kernel ID or name without bpf_). */
  register(idOrName: number | string, fn: HelperFn, wasm?: WasmHelperFactory): this {
    const id = typeof idOrName === 'number' ? idOrName : helperId(idOrName);
    const name = HELPERS[id]?.name ?? `helper_${id}`;
    this.byId.set(id, wasm ? { id, name, fn, wasm } : { id, name, fn });
    return this;
  }

  /** get returns the helper with this ID, or undefined. */
  get(id: number): HelperImpl | undefined {
    return this.byId.get(id);
  }

  /** has tells whether a helper is registered. */
  has(id: number): boolean {
    return this.byId.has(id);
  }

  /** ids lists the registered helper IDs. */
  ids(): number[] {
    return [...this.byId.keys()].sort((a, b) => a - b);
  }
}

/** helperId returns the kernel ID of a helper name (with or without the bpf_ prefix). */
export function helperId(name: string): number {
  const n = name.replace(/^bpf_/, '');
  const id = (BPF_FUNC as Record<string, number>)[n];
  if (id === undefined) throw new BpfError('E_HELPER', `unknown helper ${name}`);
  return id;
}

/** helperName returns the name of a helper ID, e.g. "map_lookup_elem". */
export function helperName(id: number): string {
  return HELPERS[id]?.name ?? `helper_${id}`;
}
