/**
 * bench:verifier — verification time per program, tsbpf's verifier against the kernel's
 * BPF_PROG_LOAD (the syscall is timed; for these programs the kernel's verifier dominates
 * it), side by side in one run, medians of TRIALS. Inputs: the clang-compiled test objects
 * (test/fixtures/c, bench/programs, examples/switch) and bench/verifier/large.o (over 5,000
 * instructions with loops). Then the speedup of the JIT's trusted mode (what verified
 * programs get) over its checked mode on bench/programs.
 *
 * tsbpf is timed without a log (the loader's default), after one warm-up pass over every
 * program (V8 compiles the verifier's hot functions; a cold first verification is slower).
 * A program both verifiers refuse is timed too (time to reject, both with a level-1 log)
 * and its two messages are shown.
 *
 *   npm run bench:verifier [-- --trials N]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { loadObject, verifierHook, verifierProgType, applyCoreRelos, contextBtf, relocateMaps } from '../src/core/runtime/index.js';
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

interface Row { name: string; insns: number; processed: number; oursMs: number; kernelMs?: number; note?: string; rejected?: string }

/** Ours is tsbpf's result for one program: times, and the rejection message if it refused it. */
interface Ours { ms: number[]; insns: number; processed: number; rejected?: string }

/** oursTimes loads an object with a verifier hook that verifies each modelled program `trials` times. */
function oursTimes(spec: ObjectSpec, btfBytes: Uint8Array | null, trials = TRIALS): Map<string, Ours> {
  const out = new Map<string, Ours>();
  let processed = 0;
  const logged = verifierHook({ logLevel: 1, onLog: (_p, log) => { processed = Number(/processed (\d+) insns/.exec(log)?.[1] ?? 0); } });
  const quiet = verifierHook();
  loadObject(new Runtime(), spec, {
    btfBytes,
    verify: (insns, prog, rt) => {
      if (!verifierProgType(prog.type)) return false; // a type the verifier does not model
      let rejected: string | undefined;
      try {
        logged(insns, prog, rt); // the processed count, and whether it is refused
      } catch (e) {
        rejected = (e as { kernelMessage?: string }).kernelMessage ?? (e as Error).message;
      }
      const hook = rejected ? logged : quiet;
      const ms: number[] = [];
      for (let i = 0; i < trials; i++) {
        const t0 = performance.now();
        try {
          hook(insns, prog, rt);
        } catch {
          // refused again: the time to reject is what is measured
        }
        ms.push(performance.now() - t0);
      }
      out.set(prog.name, { ms, insns: insns.length, processed: rejected ? 0 : processed, rejected });
      return !rejected;
    },
    onProgramError: (p, e) => console.error(`  ${p.name}: not loaded: ${(e as Error).message}`),
  });
  return out;
}

/** objectFiles lists the little-endian objects of the benchmark's directories. */
function objectFiles(): string[] {
  return DIRS.flatMap((dir) => readdirSync(dir).filter((x) => x.endsWith('.o') && !x.includes('bpfeb')).sort().map((f) => join(dir, f)));
}

/** warmUp verifies every program once, untimed, so that V8 has compiled the verifier before timing. */
function warmUp(): void {
  for (const path of objectFiles()) {
    const obj = openObject(new Uint8Array(readFileSync(path)));
    oursTimes(obj.spec, obj.btfBytes, 1);
  }
}

/** kernelTimes times BPF_PROG_LOAD of `prog` (maps created once, outside the timing); `rejected` when the kernel refuses it. */
function kernelTimes(spec: ObjectSpec, prog: ProgramSpec, logged: boolean): { ms: number[]; rejected?: string } | string {
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
    let rejected: string | undefined;
    for (let i = 0; i < TRIALS; i++) {
      const t0 = performance.now();
      try {
        const { fd } = k.progLoad({
          progType: PROG_TYPES.indexOf(prog.type), insns: bytes, license: spec.license || 'GPL', name: prog.name.slice(0, 15),
          ...(logged ? { logLevel: 1, logSize: 1 << 20 } : {}),
        });
        k.closeFd(fd);
      } catch (e) {
        if (!(e instanceof k.KernelError) || !e.log) throw e;
        rejected = lastLogLine(e.log);
      }
      ms.push(performance.now() - t0);
    }
    return { ms, rejected };
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  } finally {
    fds.forEach((f) => k.closeFd(f));
  }
}

/** lastLogLine is the kernel's rejection message (the last meaningful line of its log). */
function lastLogLine(log: string): string {
  const lines = log.trim().split('\n').filter((l) => l && !/^(processed |verification time|stack depth)/.test(l));
  return lines[lines.length - 1] ?? '';
}

function verifierRows(): Row[] {
  const kernel = kernelAvailable();
  if (!kernel.ok) console.log(`kernel unavailable (${kernel.reason}): tsbpf only`);
  const rows: Row[] = [];
  for (const path of objectFiles()) {
    const obj = openObject(new Uint8Array(readFileSync(path)));
    const ours = oursTimes(obj.spec, obj.btfBytes);
    for (const p of obj.spec.programs) {
      const o = ours.get(p.name);
      if (!o) continue;
      const kt = kernel.ok ? kernelTimes(obj.spec, p, o.rejected !== undefined) : 'kernel unavailable';
      const name = `${path.split('/').slice(-2).join('/')} ${p.name}`;
      if (typeof kt === 'string') {
        rows.push({ name, insns: o.insns, processed: o.processed, oursMs: median(o.ms), note: kt, rejected: o.rejected });
        continue;
      }
      const verdicts = o.rejected || kt.rejected ? `tsbpf: ${o.rejected ?? 'accepted'}; kernel: ${kt.rejected ?? 'accepted'}` : undefined;
      rows.push({ name, insns: o.insns, processed: o.processed, oursMs: median(o.ms), kernelMs: median(kt.ms), rejected: verdicts });
    }
  }
  return rows;
}

function fmt(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`## Verifier (medians of ${TRIALS}; load average at start ${load()})\n`);
  warmUp();
  console.log('| program | insns | processed (tsbpf) | tsbpf verify | kernel BPF_PROG_LOAD | ratio |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const rows = verifierRows();
  for (const r of rows) {
    const ratio = r.kernelMs ? `${(r.oursMs / r.kernelMs).toFixed(2)}×` : '';
    console.log(`| ${r.name} | ${r.insns} | ${r.rejected ? 'rejected' : r.processed} | ${fmt(r.oursMs)} | ${r.kernelMs !== undefined ? fmt(r.kernelMs) : r.note ?? ''} | ${ratio} |`);
  }
  for (const r of rows.filter((x) => x.rejected)) console.log(`\n${r.name}: ${r.rejected}`);
  const within = rows.filter((r) => r.kernelMs !== undefined && r.oursMs <= 2 * r.kernelMs).length;
  const compared = rows.filter((r) => r.kernelMs !== undefined).length;
  console.log(`\n${within}/${compared} programs within 2× the kernel; slowest tsbpf verification ${fmt(Math.max(...rows.map((r) => r.oursMs)))}; load average at end ${load()}\n`);
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
