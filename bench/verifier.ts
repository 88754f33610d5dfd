/**
 * bench:verifier — verification time per program, tsbpf's verifier against the kernel's
 * BPF_PROG_LOAD (the syscall is timed; for these programs the kernel's verifier dominates
 * it), side by side in one run, medians of TRIALS. Inputs: the clang-compiled test objects
 * (test/fixtures/c, bench/programs, examples/switch) and bench/verifier/large.o (over 5,000
 * instructions with loops). Then the speedup of the JIT's trusted mode (what verified
 * programs get) over its checked mode on bench/programs.
 *
 *   npm run bench:verifier [-- --trials N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadObject, verifierHook, applyCoreRelos, contextBtf, relocateMaps } from '../src/core/runtime/index.js';
import { openObject } from '../src/core/runtime/loader.js';
import { Runtime } from '../src/core/runtime/runtime.js';
import type { ObjectSpec, ProgramSpec } from '../src/core/elf/spec.js';
import { PROG_TYPES } from '../src/core/elf/sec-defs.js';
import { encode } from '../src/core/isa/instruction.js';
import * as k from '../src/node/kernel/bpf-syscall.js';
import { kernelAvailable } from '../src/node/kernel/available.js';
import { median, measureEngine } from './measure.js';
import { loadBenchPrograms } from './programs.js';

const DIRS = ['test/fixtures/c', 'bench/programs', 'examples/switch', 'bench/verifier'];
const arg = process.argv.indexOf('--trials');
const TRIALS = arg > 0 ? Number(process.argv[arg + 1]) : 7;

interface Row { name: string; insns: number; processed: number; oursMs: number; kernelMs?: number; note?: string }

/** oursTimes loads `file` with a verifier hook that verifies each modelled program TRIALS times. */
function oursTimes(spec: ObjectSpec, btfBytes: Uint8Array | null): Map<string, { ms: number[]; insns: number; processed: number }> {
  const out = new Map<string, { ms: number[]; insns: number; processed: number }>();
  let processed = 0;
  const hook = verifierHook({ logLevel: 1, onLog: (_p, log) => { processed = Number(/processed (\d+) insns/.exec(log)?.[1] ?? 0); } });
  loadObject(new Runtime(), spec, {
    btfBytes,
    verify: (insns, prog, rt) => {
      const ms: number[] = [];
      let ok = false;
      for (let i = 0; i < TRIALS; i++) {
        const t0 = performance.now();
        ok = hook(insns, prog, rt) === true;
        ms.push(performance.now() - t0);
      }
      if (ok) out.set(prog.name, { ms, insns: insns.length, processed });
      return ok;
    },
    onProgramError: (p, e) => console.error(`  ${p.name}: not loaded: ${(e as Error).message}`),
  });
  return out;
}

/** kernelTimes times BPF_PROG_LOAD of `prog` (maps created once, outside the timing). */
function kernelTimes(spec: ObjectSpec, prog: ProgramSpec): number[] | string {
  const fds: number[] = [];
  try {
    const maps = new Map<string, number>();
    for (const name of new Set(prog.relocations.map((r) => r.map))) {
      const m = spec.maps.find((x) => x.name === name)!;
      const fd = k.mapCreate({ mapType: m.typeId, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags });
      fds.push(fd);
      maps.set(name, fd);
    }
    const insns = applyCoreRelos(prog, spec.btf, [contextBtf()]);
    relocateMaps(prog, insns, maps);
    const bytes = encode(insns, true);
    const ms: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const t0 = performance.now();
      const { fd } = k.progLoad({ progType: PROG_TYPES.indexOf(prog.type), insns: bytes, license: spec.license || 'GPL', name: prog.name.slice(0, 15) });
      ms.push(performance.now() - t0);
      k.closeFd(fd);
    }
    return ms;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    fds.forEach((f) => k.closeFd(f));
  }
}

function verifierRows(): Row[] {
  const kernel = kernelAvailable();
  if (!kernel.ok) console.log(`kernel unavailable (${kernel.reason}): tsbpf only`);
  const rows: Row[] = [];
  for (const dir of DIRS) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.o') && !x.includes('bpfeb')).sort()) {
      const obj = openObject(new Uint8Array(readFileSync(join(dir, f))));
      const ours = oursTimes(obj.spec, obj.btfBytes);
      for (const p of obj.spec.programs) {
        const o = ours.get(p.name);
        if (!o) continue;
        const kt = kernel.ok ? kernelTimes(obj.spec, p) : 'kernel unavailable';
        rows.push({ name: `${dir.split('/').pop()}/${f} ${p.name}`, insns: o.insns, processed: o.processed, oursMs: median(o.ms),
          kernelMs: typeof kt === 'string' ? undefined : median(kt), note: typeof kt === 'string' ? kt : undefined });
      }
    }
  }
  return rows;
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  console.log(`## Verifier (medians of ${TRIALS})\n`);
  console.log('| program | insns | processed (tsbpf) | tsbpf verify | kernel BPF_PROG_LOAD | ratio |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const rows = verifierRows();
  for (const r of rows) {
    const ratio = r.kernelMs ? `${(r.oursMs / r.kernelMs).toFixed(2)}×` : '';
    console.log(`| ${r.name} | ${r.insns} | ${r.processed} | ${fmt(r.oursMs)} | ${r.kernelMs !== undefined ? fmt(r.kernelMs) : r.note ?? ''} | ${ratio} |`);
  }
  const within = rows.filter((r) => r.kernelMs !== undefined && r.oursMs <= 2 * r.kernelMs).length;
  const compared = rows.filter((r) => r.kernelMs !== undefined).length;
  console.log(`\n${within}/${compared} programs within 2× the kernel; slowest tsbpf verification ${fmt(Math.max(...rows.map((r) => r.oursMs)))}\n`);
  console.log('| program | JIT checked | JIT trusted | trusted speedup |');
  console.log('|---|---:|---:|---:|');
  for (const p of loadBenchPrograms()) {
    const c = await measureEngine(p, 'jit-checked', TRIALS);
    const t = await measureEngine(p, 'jit-trusted', TRIALS);
    const cn = (c as { nsPerRun?: number } | null)?.nsPerRun, tn = (t as { nsPerRun?: number } | null)?.nsPerRun;
    if (cn === undefined || tn === undefined) continue;
    console.log(`| ${p.name} | ${cn.toFixed(0)} ns | ${tn.toFixed(0)} ns | ${(cn / tn).toFixed(2)}× |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
