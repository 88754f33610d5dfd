/**
 * fuzz: differential fuzzing of tsbpf engines against each other or against the Linux kernel.
 *
 *   npm run fuzz -- [--target kernel-interp] [--count 10000] [--seed S] [--reset] [--no-shrink]
 *                   [--state-dir .fuzz-state] [--show] [--list]
 *
 * Seeded and resumable: each program is generated from one seed (fast-check's first value for
 * it); .fuzz-state/<target>.json keeps the next seed and cumulative counts, so consecutive runs
 * continue where the last stopped. `--seed S` runs an ad-hoc range from S without touching the
 * saved state (with `--count 1 --show`, it reproduces one program). Mismatches are shrunk and
 * written to .fuzz-state/<target>/mismatch-<seed>.txt. Exit status 1 when any mismatch occurred.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiff } from '../test/gen/diff.js';
import { newFuzzState, runFuzz, summaryLine, type FuzzState } from '../test/gen/fuzz-loop.js';
import { fuzzTarget, fuzzTargets } from '../test/gen/targets.js';

interface Args {
  target: string;
  count: number;
  seed?: number;
  reset: boolean;
  shrink: boolean;
  stateDir: string;
  show: boolean;
  list: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { target: 'kernel-interp', count: 10_000, reset: false, shrink: true, stateDir: '.fuzz-state', show: false, list: false };
  for (let i = 0; i < argv.length; i++) {
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return x;
    };
    switch (argv[i]) {
      case '--target': a.target = v(); break;
      case '--count': a.count = intArg('--count', v()); break;
      case '--seed': a.seed = intArg('--seed', v()); break;
      case '--reset': a.reset = true; break;
      case '--no-shrink': a.shrink = false; break;
      case '--state-dir': a.stateDir = v(); break;
      case '--show': a.show = true; break;
      case '--list': a.list = true; break;
      default: throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return a;
}

function intArg(name: string, s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

function loadState(file: string, target: string, reset: boolean): FuzzState {
  if (reset || !existsSync(file)) return newFuzzState(target);
  const s = JSON.parse(readFileSync(file, 'utf8')) as FuzzState;
  return { ...newFuzzState(target), ...s, target };
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const t of fuzzTargets()) console.log(`${t.name}\t${t.description}`);
    return 0;
  }
  const target = fuzzTarget(args.target);
  if (!target) throw new Error(`unknown target ${args.target} (have: ${fuzzTargets().map((t) => t.name).join(', ')})`);
  const avail = target.available();
  if (!avail.ok) {
    console.log(`fuzz ${target.name}: skipped: ${avail.reason}`);
    return 0;
  }
  const adhoc = args.seed !== undefined;
  const file = join(args.stateDir, `${target.name}.json`);
  const state = adhoc ? newFuzzState(target.name, args.seed) : loadState(file, target.name, args.reset);
  const reportDir = join(args.stateDir, target.name);
  mkdirSync(reportDir, { recursive: true });
  const save = (): void => {
    if (!adhoc) writeFileSync(file, JSON.stringify(state, null, 2) + '\n');
  };
  const startSeed = state.nextSeed;
  const before = state.counts.mismatch;
  console.log(`fuzz ${target.name}: ${args.count} programs from seed ${startSeed}${adhoc ? ' (ad hoc, state not saved)' : ''}`);
  const t0 = Date.now();
  let shown = 0;
  runFuzz(target, state, args.count, {
    shrink: args.shrink,
    progressEvery: Math.min(1000, Math.max(1, Math.floor(args.count / 10))),
    onProgress: (s) => {
      save();
      const c = s.counts;
      console.log(`  ${s.nextSeed - startSeed}/${args.count}  match ${c.match}  mismatch ${c.mismatch}  rejected ${c.rejected}  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    },
    onReport: (r) => {
      const shown1 = r.shrunk ?? r.first;
      const text = formatDiff(shown1, `seed ${r.seed}: `);
      writeFileSync(join(reportDir, `${r.first.status}-${r.seed}.txt`), text + '\n');
      if (shown++ < 3 || args.show) console.log(text);
      else console.log(`seed ${r.seed}: ${r.first.status}: ${r.first.detail.split('\n')[0]}`);
    },
  });
  save();
  if (args.show && args.count <= 5) {
    for (let s = startSeed; s < startSeed + args.count; s++) {
      const r = target.prepare()(s, false);
      if (r.first.status === 'match') console.log(formatDiff(r.first, `seed ${s}: `));
    }
  }
  console.log(summaryLine(state, args.count, Date.now() - t0));
  return state.counts.mismatch > before ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`fuzz: ${(e as Error).message}`);
  process.exitCode = 2;
}
