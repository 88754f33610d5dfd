/**
 * Running one corpus case on one engine: assemble (or decode `-- raw`), load, run over the
 * case's data with runRaw, and report r0, the data afterwards, or the BpfError thrown.
 */
import { decode, type Program } from '../../src/core/isa/instruction.js';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { AddressSpace } from '../../src/core/vm/memory.js';
import { createVmContext, runRaw } from '../../src/core/vm/context.js';
import type { Engine } from '../../src/core/vm/engine.js';
import { isBpfError, type BpfError } from '../../src/core/errors.js';
import type { CorpusCase } from './corpus.js';

/** CORPUS_SUM_HELPER is the helper ID the corpus may call: it returns r1+r2+r3+r4+r5 (mod 2^64). */
export const CORPUS_SUM_HELPER = 999;

type Assemble = (text: string) => Program;

/** loadAssembler imports src/core/asm's `assemble`, or returns why it is not available. */
export async function loadAssembler(): Promise<Assemble | string> {
  try {
    const mod = (await import(new URL('../../src/core/asm/index.js', import.meta.url).href)) as Record<string, unknown>;
    const fn = mod.assemble;
    if (typeof fn !== 'function') return 'src/core/asm does not export assemble()';
    return (text) => programOf((fn as (t: string) => unknown)(text));
  } catch (e) {
    return `cannot import src/core/asm: ${(e as Error).message}`;
  }
}

/** programOf accepts assemble()'s result: a Program, or an object holding one. */
function programOf(x: unknown): Program {
  if (Array.isArray(x)) return x as Program;
  const o = x as Record<string, unknown>;
  for (const k of ['insns', 'prog', 'program']) if (Array.isArray(o?.[k])) return o[k] as Program;
  throw new Error('assemble() returned no instructions');
}

/** caseProgram builds the program of a case from its raw bytes or its assembly. */
export function caseProgram(c: CorpusCase, assemble: Assemble | string): Program {
  if (c.raw) return decode(c.raw, true);
  if (typeof assemble === 'string') throw new Error(`no assembler: ${assemble}`);
  return assemble(c.asm ?? '');
}

/** Outcome is what one run produced. */
export interface Outcome {
  r0?: bigint;
  dataOut?: Uint8Array;
  error?: BpfError;
}

function corpusHelpers(): HelperRegistry {
  return new HelperRegistry().register(CORPUS_SUM_HELPER, (a, b, c, d, e) => BigInt.asUintN(64, a + b + c + d + e));
}

/** runCase loads and runs `prog` once on a fresh context; BpfErrors become outcomes, others propagate. */
export function runCase(engine: Engine, c: CorpusCase, prog: Program, checked: boolean): Outcome {
  const ctx = createVmContext({ space: new AddressSpace({ initialBytes: 1 << 20, maximumBytes: 16 << 20 }), helpers: corpusHelpers() });
  try {
    const res = runRaw(engine, prog, c.mem, ctx, { checked, budget: c.budget });
    return { r0: res.r0, dataOut: res.dataOut };
  } catch (e) {
    if (isBpfError(e)) return { error: e };
    throw e;
  }
}
