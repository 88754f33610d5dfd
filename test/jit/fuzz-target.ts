/**
 * The `interp-jit` fuzz target: the wild random programs of randprog.ts (irreducible jumps,
 * wild pointers, uninitialised stack, atomics, LD_ABS, helper and bpf-to-bpf calls, budgets)
 * run in the reference interpreter and the JIT in checked mode, trusted mode and on shared
 * memory or split regions (diff.ts), comparing r0, steps, data, the whole stack and the fault
 * (code, insn, address, message). Mismatches are minimised with shrink.ts.
 */
import { encode, toHex, type Program } from '../../src/core/isa/instruction.js';
import { jit } from '../../src/core/jit/index.js';
import { compareOutcomes, type DiffResult, type SeedReport } from '../gen/diff.js';
import { engineExecutor, type Executor } from '../gen/exec.js';
import type { FuzzTarget } from '../gen/targets.js';
import { diffOutcomes, inputsOf, modesOf, type Mode, type Outcome } from './diff.js';
import { randomProgram } from './randprog.js';
import { shrinkProgram } from './shrink.js';

const json = (x: unknown): string => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));

/** describe says how the two outcomes differ, or null when they agree (crashes count as differences). */
function describe(prog: Program, data: Uint8Array, mode: Mode, budget: number): string | null {
  let d: [Outcome, Outcome] | null;
  try {
    d = diffOutcomes(prog, data, mode, budget);
  } catch (e) {
    return `mode ${mode}: crash: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  }
  if (!d) return null;
  const brief = (x: Outcome): unknown => (x.error ? { error: x.error } : { r0: x.r0, steps: x.steps });
  const what = json(brief(d[0])) === json(brief(d[1])) ? (d[0].data !== d[1].data ? 'data differs' : 'stack differs') : '';
  return `mode ${mode} (budget ${budget})${what ? ': ' + what : ''}\n  interp: ${json(d[0])}\n  jit:    ${json(d[1])}`;
}

function result(prog: Program, data: Uint8Array, detail: string | null): DiffResult {
  return { status: detail ? 'mismatch' : 'match', detail: detail ?? '', prog, packet: data, kind: 'xdp' };
}

/** checkWildSeed checks the wild program of `seed` in each of its modes, shrinking the first mismatch. */
export function checkWildSeed(seed: number, shrink: boolean): SeedReport {
  const prog = randomProgram(seed);
  const { data, budget } = inputsOf(seed);
  for (const mode of modesOf(seed)) {
    const detail = describe(prog, data, mode, budget);
    if (!detail) continue;
    const first = result(prog, data, detail);
    if (!shrink) return { seed, first };
    const small = shrinkProgram(prog, (p) => describe(p, data, mode, budget) !== null);
    return { seed, first, shrunk: result(small, data, describe(small, data, mode, budget)) };
  }
  return { seed, first: result(prog, data, null) };
}

/** interpJitTarget is the `interp-jit` fuzz target. */
export function interpJitTarget(): FuzzTarget {
  return {
    name: 'interp-jit',
    description: 'reference interpreter vs JIT on wild random programs (checked, trusted, shared memory / split regions)',
    available: () => ({ ok: true, reason: 'available' }),
    prepare: () => checkWildSeed,
  };
}

/** regressionLiteral prints a shrunk program as hex for test/jit/regressions.test.ts. */
export function regressionLiteral(prog: Program): string {
  return toHex(encode(prog));
}

/**
 * jitExecutor runs each program in the JIT twice, checked and trusted (each with its own
 * context), and reports the checked outcome; when the two modes disagree it reports a fault
 * `JIT_MODES` naming the difference, so that the comparison with the other executor fails.
 */
export function jitExecutor(): Executor {
  const checked = engineExecutor(jit, { checked: true });
  const trusted = engineExecutor(jit, { checked: false });
  return {
    name: 'jit',
    available: () => ({ ok: true, reason: 'jit engine' }),
    run(prog, packet, kind) {
      const a = checked.run(prog, packet, kind);
      const b = trusted.run(prog, packet, kind);
      if (a.rejected !== undefined) return a;
      const d = b.rejected !== undefined ? `trusted rejected: ${b.rejected}` : compareOutcomes(a, b, ['checked', 'trusted']);
      return d ? { ...a, error: { code: 'JIT_MODES', message: d } } : a;
    },
  };
}
