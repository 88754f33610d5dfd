/**
 * The fuzzing loop shared by scripts/fuzz.ts and tests: checks consecutive seeds against a
 * target, keeps counts in a resumable state, and reports progress and mismatches by callback.
 */
import type { SeedReport } from './diff.js';
import type { FuzzTarget } from './targets.js';

/** FuzzCounts are cumulative results. */
export interface FuzzCounts {
  programs: number;
  match: number;
  mismatch: number;
  rejected: number;
}

/** FuzzState is what a run resumes from: the next seed and the counts so far. */
export interface FuzzState {
  target: string;
  nextSeed: number;
  counts: FuzzCounts;
  /** seeds whose programs disagreed (most recent last, capped) */
  mismatchSeeds: number[];
  /** seeds whose programs the first executor refused (generator bugs; capped) */
  rejectedSeeds: number[];
}

/** FuzzHooks observe a run. */
export interface FuzzHooks {
  shrink?: boolean;
  progressEvery?: number;
  onProgress?(state: FuzzState): void;
  onReport?(report: SeedReport): void;
}

/** newFuzzState starts counting at `seed`. */
export function newFuzzState(target: string, seed = 1): FuzzState {
  return { target, nextSeed: seed, counts: { programs: 0, match: 0, mismatch: 0, rejected: 0 }, mismatchSeeds: [], rejectedSeeds: [] };
}

const CAP = 1000;

/** runFuzz checks `count` seeds from state.nextSeed on, updating `state` in place, and returns it. */
export function runFuzz(target: FuzzTarget, state: FuzzState, count: number, hooks: FuzzHooks = {}): FuzzState {
  const check = target.prepare();
  const every = hooks.progressEvery ?? 1000;
  for (let i = 0; i < count; i++) {
    const seed = state.nextSeed;
    const report = check(seed, hooks.shrink ?? true);
    state.counts.programs++;
    state.counts[report.first.status]++;
    if (report.first.status === 'mismatch' && state.mismatchSeeds.length < CAP) state.mismatchSeeds.push(seed);
    if (report.first.status === 'rejected' && state.rejectedSeeds.length < CAP) state.rejectedSeeds.push(seed);
    if (report.first.status !== 'match') hooks.onReport?.(report);
    state.nextSeed = (seed + 1) >>> 0;
    if ((i + 1) % every === 0) hooks.onProgress?.(state);
  }
  return state;
}

/** summaryLine is the one-line result of a run. */
export function summaryLine(state: FuzzState, ran: number, ms: number): string {
  const c = state.counts;
  return `fuzz ${state.target}: ran ${ran} programs in ${(ms / 1000).toFixed(1)} s; total ${c.programs} programs, ` +
    `${c.match} match, ${c.mismatch} mismatch, ${c.rejected} rejected; next seed ${state.nextSeed}`;
}
