/**
 * npm run bench: the five clang-compiled programs of bench/programs run side by side in one
 * process: tsbpf's interpreter, the JIT (checked and trusted) and the kernel (BPF_PROG_TEST_RUN
 * with repeat) where bpf() is allowed. Figures are medians of the trials (--best: fastest). Prints ns/run (the JIT per call from JavaScript and in its
 * in-Wasm repeat loop), ratios to the kernel (JIT: repeat loop against repeat loop) and geometric
 * means, then JIT compile times. Usage: node dist/bench/run.js [--json] [--quick]
 */
import { loadBenchPrograms, type BenchProgram } from './programs.js';
import { measureEngine, measureKernel, median, useStatistic, type Row } from './measure.js';
import { measureCompile } from './compile.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const TRIALS = quick ? 3 : 15;
const STAT = args.has('--best') ? 'best' : 'median';
useStatistic(STAT);

function fmt(n: number | undefined, digits = 1): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

function geomean(xs: number[]): number {
  const ok = xs.filter((x) => Number.isFinite(x) && x > 0);
  return ok.length ? Math.exp(ok.reduce((a, x) => a + Math.log(x), 0) / ok.length) : NaN;
}

async function main(): Promise<void> {
  const progs: BenchProgram[] = loadBenchPrograms();
  const rows: Row[] = [];
  for (const p of progs) {
    const row: Row = { name: p.name, insns: p.prog.length, steps: 0, results: {} };
    for (const engine of ['interp', 'jit-checked', 'jit-trusted'] as const) {
      const m = await measureEngine(p, engine, TRIALS);
      if (m) {
        row.results[engine] = m.nsPerRun;
        if (m.nsPerRunRepeat !== undefined) row.results[`${engine}-repeat`] = m.nsPerRunRepeat;
        if (engine === 'interp') row.steps = m.steps;
      }
    }
    const k = measureKernel(p, TRIALS);
    if (k.nsPerRun !== undefined) row.results.kernel = k.nsPerRun;
    else row.kernelSkip = k.reason;
    rows.push(row);
  }
  const compile = await measureCompile(quick ? 20 : 100);
  if (args.has('--json')) {
    console.log(JSON.stringify({ rows, compile }, null, 2));
    return;
  }
  console.log(`tsbpf benchmark: node ${process.version}, ${STAT} of ${TRIALS} trials each; ` +
    'JIT "call" = one run() from JavaScript per run, "repeat" = in-Wasm repeat loop (like the kernel\'s)');
  console.log('');
  console.log('| program | insns executed | interp ns/run | jit checked call | jit checked repeat | jit trusted call | jit trusted repeat | kernel ns/run | interp/kernel | checked/kernel | trusted/kernel |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ENGINES = ['interp', 'jit-checked', 'jit-trusted', 'jit-checked-repeat', 'jit-trusted-repeat'];
  const ratios: Record<string, number[]> = Object.fromEntries(ENGINES.map((e) => [e, []]));
  for (const r of rows) {
    const k = r.results.kernel;
    const ratio = (e: string) => {
      const v = r.results[e];
      if (v === undefined || k === undefined) return undefined;
      ratios[e].push(v / k);
      return v / k;
    };
    for (const e of ['jit-checked', 'jit-trusted']) ratio(e);
    console.log(`| ${r.name} | ${r.steps} | ${fmt(r.results.interp)} | ` +
      `${fmt(r.results['jit-checked'])} | ${fmt(r.results['jit-checked-repeat'])} | ` +
      `${fmt(r.results['jit-trusted'])} | ${fmt(r.results['jit-trusted-repeat'])} | ${fmt(k)} | ` +
      `${fmt(ratio('interp'), 2)} | ${fmt(ratio('jit-checked-repeat'), 2)} | ${fmt(ratio('jit-trusted-repeat'), 2)} |`);
  }
  console.log(`| geomean (ratios of repeat) | | | | | | | | ${fmt(geomean(ratios.interp), 2)} | ${fmt(geomean(ratios['jit-checked-repeat']), 2)} | ${fmt(geomean(ratios['jit-trusted-repeat']), 2)} |`);
  console.log(`\nper-call geomeans (run() from JavaScript each time): checked/kernel ${fmt(geomean(ratios['jit-checked']), 2)}, ` +
    `trusted/kernel ${fmt(geomean(ratios['jit-trusted']), 2)}`);
  const skip = rows.find((r) => r.kernelSkip);
  if (skip) console.log(`\nkernel column skipped: ${skip.kernelSkip}`);
  if (compile) {
    console.log('');
    console.log(`JIT compile time (${compile.insns}-instruction program, after the first compilation): ` +
      `median ${fmt(compile.medianMs, 3)} ms, p90 ${fmt(compile.p90Ms, 3)} ms; first ${fmt(compile.firstMs, 3)} ms`);
  }
  void median;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
