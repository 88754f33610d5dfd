/**
 * Differential checking: run one generated program in two executors, compare r0 (on the bits
 * both report), the packet afterwards and the fault outcome; on a mismatch let fast-check
 * shrink the spec to a minimal program that still disagrees, and format a report.
 */
import fc from 'fast-check';
import type { Program } from '../../src/core/isa/instruction.js';
import { encode, toHex } from '../../src/core/isa/instruction.js';
import { disassemble } from '../../src/core/asm/format.js';
import type { Executor, ExecOutcome, ProgKind } from './exec.js';
import { emitProgram } from './emit.js';
import { STACK_SLOTS, type ProgSpec } from './spec.js';

/** DiffStatus: both agree, they disagree, or one executor refused the program at load time. */
export type DiffStatus = 'match' | 'mismatch' | 'rejected';

/** DiffResult is the outcome of one differential run. */
export interface DiffResult {
  status: DiffStatus;
  /** what differed (or why it was rejected); empty on a match */
  detail: string;
  prog: Program;
  packet: Uint8Array;
  kind: ProgKind;
  a?: ExecOutcome;
  b?: ExecOutcome;
}

/** describeOffset names the packet byte at `off` in the generated programs' output layout. */
export function describeOffset(off: number): string {
  if (off < 72) return `r${off >> 3} byte ${off & 7}`;
  if (off < 72 + STACK_SLOTS * 8) return `stack slot r10-${8 * (((off - 72) >> 3) + 1)} byte ${off & 7}`;
  return `packet byte ${off}`;
}

const hex64 = (v: bigint, bits: number): string => '0x' + BigInt.asUintN(bits, v).toString(16);

/** compareOutcomes returns null when the two outcomes agree, else a description of the first difference. */
export function compareOutcomes(a: ExecOutcome, b: ExecOutcome, names: [string, string]): string | null {
  if (a.error || b.error) {
    if (a.error && b.error && a.error.code === b.error.code) return null;
    const say = (o: ExecOutcome): string => (o.error ? `fault ${o.error.code} (${o.error.message})` : 'no fault');
    return `${names[0]}: ${say(a)}; ${names[1]}: ${say(b)}`;
  }
  const bits = Math.min(a.r0Bits, b.r0Bits);
  if (BigInt.asUintN(bits, a.r0) !== BigInt.asUintN(bits, b.r0)) {
    return `r0 (low ${bits} bits): ${names[0]} ${hex64(a.r0, bits)}, ${names[1]} ${hex64(b.r0, bits)}`;
  }
  if (a.dataOut.length !== b.dataOut.length) {
    return `packet length: ${names[0]} ${a.dataOut.length}, ${names[1]} ${b.dataOut.length}`;
  }
  const at = a.dataOut.findIndex((v, i) => v !== b.dataOut[i]);
  if (at < 0) return null;
  const q = at & ~7;
  const word = (d: Uint8Array): string => toHex(d.subarray(q, q + 8).slice().reverse());
  return `packet byte ${at} (${describeOffset(at)}): ${names[0]} 0x${word(a.dataOut)}, ${names[1]} 0x${word(b.dataOut)} (u64 at ${q})`;
}

/** diffProgram runs `prog` on `packet` in both executors and compares. */
export function diffProgram(prog: Program, packet: Uint8Array, x: Executor, y: Executor, kind: ProgKind = 'xdp'): DiffResult {
  const a = x.run(prog, packet, kind);
  if (a.rejected !== undefined) return { status: 'rejected', detail: `${x.name} rejected: ${a.rejected}`, prog, packet, kind, a };
  const b = y.run(prog, packet, kind);
  if (b.rejected !== undefined) {
    return { status: 'mismatch', detail: `${y.name} rejected what ${x.name} ran: ${b.rejected}`, prog, packet, kind, a, b };
  }
  const d = compareOutcomes(a, b, [x.name, y.name]);
  return { status: d ? 'mismatch' : 'match', detail: d ?? '', prog, packet, kind, a, b };
}

/** diffSpec emits a spec and diffs it. */
export function diffSpec(spec: ProgSpec, x: Executor, y: Executor): DiffResult {
  return diffProgram(emitProgram(spec), spec.packet, x, y, spec.skb ? 'skb' : 'xdp');
}

/** SeedReport is the outcome of checking the program generated from one seed. */
export interface SeedReport {
  seed: number;
  first: DiffResult;
  /** the minimal disagreeing program fast-check shrank to (mismatches only) */
  shrunk?: DiffResult;
}

/**
 * SHRINK_BUDGET_MS bounds the time spent shrinking one mismatch: candidates of slow targets
 * (the verifier's, up to seconds each near the instruction limit) made one seed shrink for
 * hours; after the budget the smallest counterexample found so far is reported.
 */
export const SHRINK_BUDGET_MS = 60_000;

/**
 * checkSeed generates the program for `seed` (the first value fast-check draws with that seed),
 * checks it, and on a mismatch shrinks it (for at most SHRINK_BUDGET_MS). `check` returns a
 * DiffResult for one value.
 */
export function checkSeed<S>(seed: number, arb: fc.Arbitrary<S>, check: (s: S) => DiffResult, shrink = true): SeedReport {
  let first: DiffResult | null = null;
  let last: DiffResult | null = null;
  const prop = fc.property(arb, (s) => {
    last = check(s);
    first ??= last;
    return last.status !== 'mismatch' || !shrink;
  });
  const out = fc.check(prop, { seed, numRuns: 1, endOnFailure: !shrink, interruptAfterTimeLimit: shrink ? SHRINK_BUDGET_MS : undefined });
  const f = first as DiffResult | null;
  if (!f) throw new Error('fast-check produced no value');
  if (!out.failed || !shrink) return { seed, first: f };
  const shrunk = check(out.counterexample![0] as S);
  return { seed, first: f, shrunk: shrunk.status === 'mismatch' ? shrunk : (last ?? f) };
}

/** formatProgram prints a program with the disassembler (raw hex if it cannot). */
export function formatProgram(prog: Program): string {
  try {
    return disassemble(prog, { bytes: true }).join('\n');
  } catch {
    const bytes = encode(prog);
    return Array.from({ length: prog.length }, (_, i) => `${i}: ${toHex(bytes.subarray(i * 8, i * 8 + 8), ' ')}`).join('\n');
  }
}

/** formatDiff is a human-readable report of a mismatch: what differed, the program, the packet. */
export function formatDiff(r: DiffResult, title = ''): string {
  return [
    `${title}${r.status}${r.detail ? ': ' + r.detail : ''}`,
    `program (${r.kind === 'skb' ? 'SCHED_CLS' : 'XDP'}, ${r.prog.length} slots):`,
    formatProgram(r.prog),
    `packet (${r.packet.length} bytes): ${toHex(r.packet)}`,
    `program hex: ${toHex(encode(r.prog))}`,
  ].join('\n');
}
