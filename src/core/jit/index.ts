/**
 * jit: the eBPF -> WebAssembly compiler engine ("jit"). `jit.load` validates the program,
 * compiles it to a Wasm module (cached by program and mode), and instantiates it over the
 * context's memory. Results and faults are identical to the reference interpreter's.
 * See docs/jit.md for the design.
 */
import { BpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import { encode } from '../isa/instruction.js';
import { validate } from '../isa/validate.js';
import type { Engine, EngineOptions, VmContext } from '../vm/engine.js';
import { compile } from './compile.js';
import { JitProgram } from './program.js';
import { type InlineLookup, inlineKey, inlineSites } from './inline.js';

export { JitProgram, jitError } from './program.js';
export { compile, entryPoints } from './compile.js';
export { type ArrayMapDescriber, type InlineArrayMap, registerArrayInline } from './inline.js';

/** JitOptions extend EngineOptions with JIT-only switches. */
export interface JitOptions extends EngineOptions {
  /** count instructions against RunOptions.budget (default: on in checked mode, off in trusted mode) */
  countBudget?: boolean;
}

/** CacheEntry is a compiled module with what instantiating it needs. */
export interface CacheEntry {
  module: WebAssembly.Module;
  helperIds: number[];
  /** (module offset, slot) pairs of memory instructions, to name the slot of a Wasm trap */
  trapMap: number[];
}

const CACHE_LIMIT = 256;
const cache = new Map<string, CacheEntry>();

function cacheKey(prog: Program, checked: boolean, counting: boolean, shared: boolean, inline: Map<number, InlineLookup>): string {
  const bytes = encode(prog);
  let s = `${checked ? 'c' : 't'}${counting ? 'b' : 'n'}${shared ? 's' : 'p'}${inlineKey(inline)}:`;
  // the program's bytes as UTF-16 code units, converted in chunks (one concatenation per
  // 4 bytes took ~1 ms for a 10,000-instruction program)
  const units = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  for (let k = 0; k < units.length; k += 4096) s += String.fromCharCode.apply(null, units.subarray(k, k + 4096) as unknown as number[]);
  return s;
}

/**
 * compileModule returns the (cached) module for a program in a mode, with the lookups of
 * `inline` inlined (their map constants are part of the cache key).
 */
export function compileModule(prog: Program, halves: Set<number>, checked: boolean, counting: boolean, shared: boolean,
  inline: Map<number, InlineLookup> = new Map()): CacheEntry {
  const key = cacheKey(prog, checked, counting, shared, inline);
  let e = cache.get(key);
  if (e) {
    cache.delete(key); // refresh its LRU position
    cache.set(key, e);
    return e;
  }
  const out = compile(prog, halves, { checked, budget: counting, shared, inline });
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(out.bytes as Uint8Array<ArrayBuffer>);
  } catch (err) {
    // V8 limits a function body to ~7.6 MB (roughly 150k+ eBPF instructions in one function)
    throw new BpfError('E2BIG', `program too large for the JIT: ${(err as Error).message}`, {}, { cause: err });
  }
  e = { module, helperIds: out.helperIds, trapMap: out.trapMap };
  cache.set(key, e);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  return e;
}

/** loadJit validates, compiles and instantiates `prog` for `ctx`. */
export function loadJit(prog: Program, ctx: VmContext, opts: JitOptions = {}): JitProgram {
  const halves = validate(prog);
  const insns = prog.map((i) => ({ ...i }));
  const checked = opts.checked ?? true;
  const counting = typeof opts.countBudget === 'boolean' ? opts.countBudget : checked;
  const e = compileModule(insns, halves, checked, counting, ctx.space.shared, inlineSites(insns, halves, ctx));
  return new JitProgram(insns, halves, e, ctx, checked, counting);
}

/** jit is the WebAssembly JIT engine. */
export const jit: Engine = {
  name: 'jit',
  load: loadJit,
};
