/**
 * Test helpers: run a program (assembly text or slots) through the JIT and the interpreter
 * in identical fresh contexts and demand identical outcomes.
 */
import assert from 'node:assert/strict';
import { assemble } from '../../src/core/asm/assemble.js';
import { isBpfError } from '../../src/core/errors.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { createVmContext, runRaw } from '../../src/core/vm/context.js';
import type { Engine, VmContext } from '../../src/core/vm/engine.js';
import { AddressSpace } from '../../src/core/vm/memory.js';
import type { HelperRegistry } from '../../src/core/helpers/registry.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { jit } from '../../src/core/jit/index.js';

/** RunSpec describes one run. */
export interface RunSpec {
  data?: Uint8Array;
  checked?: boolean;
  budget?: number;
  helpers?: () => HelperRegistry;
  shared?: boolean;
}

/** Result is a run's r0/steps/data, or its error code, insn and address. */
export interface Result {
  r0?: bigint;
  steps?: number;
  data?: Uint8Array;
  code?: string;
  insn?: number;
  address?: number;
}

/** prog turns assembly text into slots (slots pass through). */
export function prog(p: string | Program): Program {
  return typeof p === 'string' ? assemble(p) : p;
}

/** runWith runs `p` with `engine` in a fresh context. */
export function runWith(engine: Engine, p: string | Program, spec: RunSpec = {}): Result {
  // small memories keep the many fresh contexts cheap
  const space = new AddressSpace({ shared: spec.shared ?? false, initialBytes: 1 << 20, maximumBytes: 1 << 24 });
  const ctx: VmContext = createVmContext({ helpers: spec.helpers?.(), space });
  try {
    const r = runRaw(engine, prog(p), spec.data ?? new Uint8Array(16), ctx, { checked: spec.checked ?? true, budget: spec.budget });
    return { r0: r.r0, steps: r.steps, data: r.dataOut };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return { code: e.code, insn: e.context.insn, address: e.context.address };
  }
}

/** both runs `p` in the interpreter and the JIT, asserts identical outcomes and returns the JIT's. */
export function both(p: string | Program, spec: RunSpec = {}): Result {
  const a = runWith(interpreter, p, spec);
  const b = runWith(jit, p, spec);
  if (spec.checked === false) {
    // trusted mode: the JIT does not count steps unless asked
    delete a.steps;
    delete b.steps;
  }
  assert.deepEqual(b, a);
  return b;
}

/** r0Of runs `p` on both engines and returns r0 (asserting there was no fault). */
export function r0Of(p: string | Program, spec: RunSpec = {}): bigint {
  const r = both(p, spec);
  assert.equal(r.code, undefined, `unexpected fault ${r.code}`);
  return r.r0!;
}

/** u64 converts a signed value to the unsigned 64-bit form r0 has. */
export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** outcome runs `run` and renders its r0, or its fault (code, insn, address, message), as one comparable string. */
export function outcome(run: () => bigint): string {
  try {
    return `r0 ${run()}`;
  } catch (e) {
    if (isBpfError(e)) return `${e.code}@${e.context.insn} ${e.context.address}: ${e.message}`;
    throw e;
  }
}
