/**
 * Fuzz targets: named pairs of executors checked against each other on generated programs.
 * `kernel-interp` compares the Linux kernel with the reference interpreter, `kernel-jit` the
 * kernel with the JIT, `interp-jit-structured` the interpreter with the JIT on the same
 * kernel-verifiable programs, and `interp-jit` the interpreter with the JIT on wild programs
 * (test/jit/fuzz-target.ts); `elf` feeds mutated objects to the ELF/BTF parser
 * (test/elf/fuzz-target.ts); `verifier-kernel` and `verifier-soundness` check the verifier against
 * the kernel's and against checked-mode runs (test/verifier/fuzz-targets.ts). Other pairs plug in with `registerFuzzTarget(diffTarget(...))`.
 */
import type fc from 'fast-check';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { checkSeed, diffSpec, type SeedReport } from './diff.js';
import { engineExecutor, kernelExecutor, type Executor } from './exec.js';
import { progSpecArb, type ProgSpec } from './spec.js';
import { interpJitTarget, jitExecutor } from '../jit/fuzz-target.js';
import { elfFuzzTarget } from '../elf/fuzz-target.js';
import { verifierKernelTarget, verifierSoundnessTarget } from '../verifier/fuzz-targets.js';

/** SeedChecker checks the program of one seed (shrinking mismatches when asked). */
export type SeedChecker = (seed: number, shrink: boolean) => SeedReport;

/** FuzzTarget is one differential fuzzing target. */
export interface FuzzTarget {
  name: string;
  description: string;
  /** available says whether the target can run here, and why not */
  available(): { ok: boolean; reason: string };
  /** prepare sets up the executors once and returns the per-seed checker */
  prepare(): SeedChecker;
}

/** diffTarget builds a target that compares two executors on programs from `arb` (default progSpecArb()). */
export function diffTarget(name: string, description: string, executors: () => [Executor, Executor],
  arb: fc.Arbitrary<ProgSpec> = progSpecArb()): FuzzTarget {
  let pair: [Executor, Executor] | null = null;
  const get = (): [Executor, Executor] => (pair ??= executors());
  return {
    name,
    description,
    available() {
      for (const e of get()) {
        const a = e.available();
        if (!a.ok) return { ok: false, reason: `${e.name}: ${a.reason}` };
      }
      return { ok: true, reason: 'available' };
    },
    prepare() {
      const [x, y] = get();
      return (seed, shrink) => checkSeed(seed, arb, (s) => diffSpec(s, x, y), shrink);
    },
  };
}

const targets = new Map<string, FuzzTarget>();

/** registerFuzzTarget adds (or replaces) a target by name. */
export function registerFuzzTarget(t: FuzzTarget): void {
  targets.set(t.name, t);
}

/** fuzzTargets lists the registered targets. */
export function fuzzTargets(): FuzzTarget[] {
  return [...targets.values()];
}

/** fuzzTarget finds a target by name. */
export function fuzzTarget(name: string): FuzzTarget | undefined {
  return targets.get(name);
}

registerFuzzTarget(diffTarget('kernel-interp', 'Linux kernel (BPF_PROG_TEST_RUN, XDP) vs the reference interpreter',
  () => [kernelExecutor(), engineExecutor(interpreter)]));

registerFuzzTarget(interpJitTarget());
registerFuzzTarget(diffTarget('interp-jit-structured', 'reference interpreter vs JIT (checked and trusted) on kernel-verifiable programs',
  () => [engineExecutor(interpreter), jitExecutor()]));
registerFuzzTarget(diffTarget('kernel-jit', 'Linux kernel (BPF_PROG_TEST_RUN) vs the JIT (checked and trusted) on kernel-verifiable programs',
  () => [kernelExecutor(), jitExecutor()]));
registerFuzzTarget(elfFuzzTarget());
registerFuzzTarget(verifierKernelTarget());
registerFuzzTarget(verifierSoundnessTarget());
