/**
 * The verifier's fuzz targets (scripts/fuzz.ts, registered in test/gen/targets.ts). Each seed
 * gives one program: a generated one (test/gen, safe by construction), the same after one or
 * two random mutations (often unsafe), or a case-table program (maps, helpers, packets, calls,
 * loops) after one or two mutations.
 *
 * - `verifier-kernel`: verified by tsbpf and by the kernel's BPF_PROG_LOAD. match: same
 *   verdict; mismatch: tsbpf accepts what the kernel rejects for a safety reason (must never
 *   happen); rejected: the kernel accepts what tsbpf rejects (tsbpf is stricter; the detail
 *   names the rejection code).
 * - `verifier-soundness`: programs tsbpf accepts run in the checked interpreter with their
 *   maps, on the spec's packet and on a short one. match: no fault; mismatch: a fault (the
 *   verifier was wrong); rejected: the verifier rejected the program (nothing to run).
 */
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/index.js';
import type { Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import { isBpfError } from '../../src/core/errors.js';
import { verify, VerifierError, type ProgType } from '../../src/core/verifier/index.js';
import { mapTypeNumber } from '../../src/core/verifier/maps.js';
import { Runtime } from '../../src/core/runtime/runtime.js';
import { mapCreate } from '../../src/core/runtime/commands.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { dataBuffer } from '../../src/core/vm/context.js';
import { xdpRunOptions } from '../../src/core/vm/xdp.js';
import { skbRunOptions } from '../../src/core/vm/skb.js';
import { emitProgram } from '../gen/emit.js';
import { progSpecArb, type ProgSpec } from '../gen/spec.js';
import { checkSeed, formatProgram, type DiffResult } from '../gen/diff.js';
import type { FuzzTarget } from '../gen/targets.js';
import { CASES, MAPS } from './cases.js';
import { kernelReady, kernelVerify } from './kernel-oracle.js';
import { mutate, rng } from './mutate.js';

/** VerifierInput is what one seed draws: a generated spec, where the program comes from, mutation seeds. */
interface VerifierInput {
  spec: ProgSpec;
  source: 'generated' | 'mutated' | 'mutated2' | 'case';
  caseIndex: number;
  mutSeed: number;
}

/** Subject is the program of one input with its type and packet. */
interface Subject { prog: Program; progType: ProgType; packet: Uint8Array; origin: string }

const CASE_LIST = CASES.filter((c) => (c.progType ?? 'xdp') !== 'raw');

// caseIndex is drawn from a fixed range (taken modulo the table's size) so that adding
// cases does not change the programs of the other seeds
const inputArb: fc.Arbitrary<VerifierInput> = fc.record({
  spec: progSpecArb({ maxItems: 20 }),
  source: fc.constantFrom('generated', 'mutated', 'mutated2', 'case'),
  caseIndex: fc.nat(),
  mutSeed: fc.nat(),
});

/** subject builds the program an input describes. */
function subject(x: VerifierInput): Subject {
  const r = rng(x.mutSeed);
  const twice = (r() < 0.5);
  if (x.source === 'case') {
    const c = CASE_LIST[x.caseIndex % CASE_LIST.length];
    let prog = mutate(assemble(c.asm), r);
    if (twice) prog = mutate(prog, r);
    return { prog, progType: c.progType ?? 'xdp', packet: x.spec.packet, origin: `case "${c.name}" mutated${twice ? ' twice' : ''}` };
  }
  const progType: ProgType = x.spec.skb ? 'sched_cls' : 'xdp';
  let prog = emitProgram(x.spec);
  if (x.source !== 'generated') prog = mutate(prog, r);
  if (x.source === 'mutated2') prog = mutate(prog, r);
  return { prog, progType, packet: x.spec.packet, origin: `${x.source} ${progType} program` };
}

/** ours runs tsbpf's verifier on a subject. */
function ours(s: Subject): { ok: boolean; reason: string; message: string } {
  try {
    verify(s.prog, { progType: s.progType, maps: (fd) => MAPS.get(fd) });
    return { ok: true, reason: '', message: '' };
  } catch (e) {
    if (e instanceof VerifierError) return { ok: false, reason: e.reason, message: e.kernelMessage };
    throw e;
  }
}

function result(status: DiffResult['status'], detail: string, s: Subject): DiffResult {
  return { status, detail: detail ? `${s.origin}: ${detail}` : '', prog: s.prog, packet: s.packet, kind: s.progType === 'xdp' ? 'xdp' : 'skb' };
}

/** NOT_SAFETY are kernel rejections about metadata (BTF func_info, map BTF), not about behaviour. */
const NOT_SAFETY = /missing btf func_info|has to have BTF in order to use bpf_spin_lock|tail_call is not allowed in subprogs without BTF/;

/** checkKernel compares the two verdicts on one input. */
export function checkKernel(x: VerifierInput): DiffResult {
  return compareWithKernel(subject(x));
}

/** checkKernelProgram compares the two verdicts on one program (the regressions). */
export function checkKernelProgram(prog: Program, progType: ProgType): DiffResult {
  return compareWithKernel({ prog, progType, packet: new Uint8Array(0), origin: `${progType} program` });
}

function compareWithKernel(s: Subject): DiffResult {
  const a = ours(s);
  const k = kernelVerify(s.prog, s.progType, MAPS);
  if (a.ok === k.ok) return result('match', '', s);
  if (a.ok) return result(NOT_SAFETY.test(k.reason) ? 'match' : 'mismatch', `tsbpf accepts, the kernel rejects: ${k.reason}`, s);
  return result('rejected', `kernel accepts, tsbpf rejects: ${a.reason}: ${a.message}`, s);
}

/** verifierKernelTarget is the `verifier-kernel` fuzz target. */
export function verifierKernelTarget(): FuzzTarget {
  return {
    name: 'verifier-kernel',
    description: 'tsbpf verifier vs the kernel verifier (BPF_PROG_LOAD): mismatch = tsbpf accepts what the kernel rejects for safety; rejected = only the kernel accepts',
    available: () => kernelReady(),
    prepare: () => (seed, shrink) => checkSeed(seed, inputArb, checkKernel, shrink),
  };
}

/** SoundRunner runs accepted programs in the checked interpreter with the case table's maps. */
class SoundRunner {
  private rt: Runtime | null = null;
  private fds = new Map<number, number>();
  private loads = 0;

  // a fresh runtime every 200 loads: the program table only grows
  private runtime(): Runtime {
    if (this.rt && this.loads++ < 200) return this.rt;
    this.loads = 0;
    this.fds.clear();
    const rt = new Runtime();
    for (const [k, m] of MAPS) {
      if (m.spinLockOff !== undefined) continue; // needs BTF at creation; programs using it are skipped
      this.fds.set(k, mapCreate(rt, { mapType: mapTypeNumber(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries }));
    }
    return (this.rt = rt);
  }

  /** patch points the case table's map fds at this runtime's maps (null: a map it lacks). */
  private patch(prog: Program): Program | null {
    const out: Program = [];
    for (const i of prog) {
      const isMap = i.code === (o.BPF_LD | o.BPF_IMM | o.BPF_DW) && (i.src === o.BPF_PSEUDO_MAP_FD || i.src === o.BPF_PSEUDO_MAP_VALUE);
      if (isMap && !this.fds.has(i.imm)) return null;
      out.push(isMap ? { ...i, imm: this.fds.get(i.imm)! } : i);
    }
    return out;
  }

  /** run returns the fault of one run (null when it ran cleanly). */
  run(s: Subject, packet: Uint8Array): string | null | 'skip' {
    const rt = this.runtime();
    const prog = this.patch(s.prog);
    if (!prog) return 'skip';
    const ctx = rt.context(0);
    const loaded = rt.load(interpreter, prog, { checked: true });
    const addr = dataBuffer(ctx, packet.length);
    ctx.space.write(addr, packet);
    const budget = 4_000_000;
    let opts;
    try {
      opts = s.progType === 'xdp' ? xdpRunOptions(ctx, { data: addr, len: packet.length }, budget)
        : skbRunOptions(ctx, { data: addr, len: packet.length, l2: s.progType === 'sched_cls', tc: s.progType === 'sched_cls' }, budget);
    } catch {
      return 'skip'; // a frame too short for its ethertype: no skb to build
    }
    try {
      loaded.run(opts);
      return null;
    } catch (e) {
      // helpers the runtime does not implement (xdp_adjust_meta...) say nothing about the verifier
      if (isBpfError(e) && e.code === 'E_HELPER' && /unknown helper/.test(e.message)) return 'skip';
      return isBpfError(e) ? `${e.code}: ${e.message}` : `CRASH: ${String(e)}`;
    }
  }
}

/** checkSound runs one input's program when the verifier accepts it. */
export function checkSound(runner: SoundRunner, x: VerifierInput): DiffResult {
  return runAccepted(runner, subject(x));
}

/** checkSoundProgram runs one program on `packet` (and its first 20 bytes) when the verifier accepts it (the regressions). */
export function checkSoundProgram(prog: Program, progType: ProgType, packet: Uint8Array): DiffResult {
  return runAccepted(new SoundRunner(), { prog, progType, packet, origin: `${progType} program` });
}

function runAccepted(runner: SoundRunner, s: Subject): DiffResult {
  const a = ours(s);
  if (!a.ok) return result('rejected', `${a.reason}: ${a.message}`, s);
  let runs = 0;
  for (const packet of [s.packet, s.packet.slice(0, 20)]) {
    const fault = runner.run(s, packet);
    if (fault === 'skip') continue;
    runs++;
    if (fault) return result('mismatch', `accepted by the verifier, faulted in checked mode on ${packet.length} bytes: ${fault}\n${formatProgram(s.prog)}`, s);
  }
  return runs ? result('match', '', s) : result('rejected', 'not runnable here (a map or helper the runtime lacks, or no valid skb for the packet)', s);
}

/** verifierSoundnessTarget is the `verifier-soundness` fuzz target. */
export function verifierSoundnessTarget(): FuzzTarget {
  return {
    name: 'verifier-soundness',
    description: 'programs the tsbpf verifier accepts run in the checked interpreter: mismatch = a fault; rejected = the verifier rejected it',
    available: () => ({ ok: true, reason: 'available' }),
    prepare: () => {
      const runner = new SoundRunner();
      return (seed, shrink) => checkSeed(seed, inputArb, (x) => checkSound(runner, x), shrink);
    },
  };
}
