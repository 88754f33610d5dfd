/**
 * Differential test against the Linux kernel verifier (BPF_PROG_LOAD on this machine): the
 * case table, generated programs (test/gen, all meant to be safe) and mutated generated
 * programs (one random change each, often unsafe) are verified both ways. A program tsbpf
 * accepts and the kernel rejects is a bug unless the kernel's reason is not about safety
 * (missing BTF metadata: callbacks and tail calls in subprograms need func_info, spin locks need the map BTF). Programs only the kernel accepts are counted with their reasons
 * and must come from the documented deliberate differences. Sizes: VERIFIER_DIFF_N (default 100).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assemble } from '../../src/core/asm/index.js';
import { disassemble } from '../../src/core/asm/format.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { verify, VerifierError, type ProgType, type RejectCode } from '../../src/core/verifier/index.js';
import { emitProgram } from '../gen/emit.js';
import { progSpecArb } from '../gen/spec.js';
import { CASES, MAPS } from './cases.js';
import { kernelReady, kernelVerify } from './kernel-oracle.js';
import { mutate, rng } from './mutate.js';

const N = Number(process.env.VERIFIER_DIFF_N ?? 100);
/** NOT_SAFETY are kernel rejections that are about metadata, not about what the program does. */
const NOT_SAFETY = /missing btf func_info|has to have BTF in order to use bpf_spin_lock|tail_call is not allowed in subprogs without BTF/;
/**
 * STRICTER are our rejection codes the kernel may accept on purpose: uninitialised stack reads
 * (root may read them in the kernel; our checked mode faults), and non-canonical instructions
 * in dead code (the kernel only checks reserved fields of instructions it reaches).
 */
const STRICTER = new Set<RejectCode>(['UNINIT_STACK', 'INVALID_INSN']);

function ours(prog: Program, progType: ProgType, insnLimit?: number): { ok: boolean; reason: string; message: string } {
  try {
    verify(prog, { progType, maps: (fd) => MAPS.get(fd), insnLimit });
    return { ok: true, reason: '', message: '' };
  } catch (e) {
    if (e instanceof VerifierError) return { ok: false, reason: e.reason, message: e.kernelMessage };
    throw e;
  }
}

/** documented tells whether a stricter rejection is one of the deliberate differences (docs/verifier.md). */
function documented(reason: string, message: string): boolean {
  if (STRICTER.has(reason as RejectCode)) return true;
  if (reason === 'RET_NOT_SCALAR') return true; // pointer returned from the program
  // the kernel's copy of the spin-lock map has no BTF, so it knows no lock there to protect
  if (reason === 'LOCK' && message.includes('cannot be accessed directly')) return true;
  return reason === 'INVALID_MEM_ACCESS' && message.includes("'map_ptr'");
}

interface Tally { agree: number; weAccept: string[]; weReject: Map<string, number> }

function compare(t: Tally, prog: Program, progType: ProgType): void {
  const a = ours(prog, progType);
  const k = kernelVerify(prog, progType, MAPS);
  if (a.ok === k.ok) t.agree++;
  else if (a.ok && !NOT_SAFETY.test(k.reason)) t.weAccept.push(`${k.reason}\n${disassemble(prog).join('\n')}`);
  else if (!a.ok) t.weReject.set(a.reason, (t.weReject.get(a.reason) ?? 0) + 1);
}

const ready = kernelReady();

test('verifier vs kernel: case table (differences are exactly the documented ones)', (t) => {
  if (!ready.ok) return t.skip(`kernel unavailable: ${ready.reason}`);
  const unexpected: string[] = [];
  for (const c of CASES) {
    if (c.progType === 'raw') continue;
    const prog = assemble(c.asm);
    const k = kernelVerify(prog, c.progType ?? 'xdp', MAPS);
    const agree = (c.expect === 'ok') === k.ok;
    if (agree === (c.kernelDiffers !== undefined)) {
      unexpected.push(`${c.name}: we say ${c.expect}, kernel ${k.ok ? 'accepts' : `rejects (${k.reason})`}`);
    }
  }
  assert.deepEqual(unexpected, []);
});

test(`verifier vs kernel: ${N} generated and ${N} mutated programs`, (t) => {
  if (!ready.ok) return t.skip(`kernel unavailable: ${ready.reason}`);
  const gen: Tally = { agree: 0, weAccept: [], weReject: new Map() };
  const mut: Tally = { agree: 0, weAccept: [], weReject: new Map() };
  const specs = fc.sample(progSpecArb({ maxItems: 20 }), { numRuns: N, seed: 1234 });
  const r = rng(99);
  for (const s of specs) {
    const pt: ProgType = s.skb ? 'sched_cls' : 'xdp';
    const prog = emitProgram(s);
    compare(gen, prog, pt);
    compare(mut, mutate(prog, r), pt);
  }
  for (const [name, x] of [['generated', gen], ['mutated', mut]] as const) {
    t.diagnostic(`${name}: ${x.agree} agree, tsbpf accepts/kernel rejects ${x.weAccept.length}, `
      + `kernel accepts/tsbpf rejects ${[...x.weReject.values()].reduce((a, b) => a + b, 0)} ${JSON.stringify(Object.fromEntries(x.weReject))}`);
    assert.deepEqual(x.weAccept.slice(0, 3), [], `${name}: tsbpf accepted programs the kernel rejects`);
    for (const code of x.weReject.keys()) assert.ok(STRICTER.has(code as RejectCode), `${name}: undocumented stricter rejection ${code}`);
  }
  assert.equal(gen.weReject.size, 0, 'generated programs are all safe: none may be rejected');
});

test(`verifier vs kernel: mutated case-table programs (maps, helpers, packets, calls)`, (t) => {
  if (!ready.ok) return t.skip(`kernel unavailable: ${ready.reason}`);
  const r = rng(2024);
  const rounds = Math.max(1, Math.round(N / 100));
  let agree = 0, skipped = 0;
  const weAccept: string[] = [];
  const weReject = new Map<string, number>();
  for (let k = 0; k < rounds; k++) {
    for (const c of CASES) {
      const pt = c.progType ?? 'xdp';
      if (pt === 'raw') continue;
      const prog = mutate(assemble(c.asm), r);
      const a = ours(prog, pt, 200_000);
      if (a.reason === 'TOO_COMPLEX') {
        skipped++; // long loops: not worth a second of the kernel's time here
        continue;
      }
      const kv = kernelVerify(prog, pt, MAPS);
      if (a.ok === kv.ok) agree++;
      else if (a.ok && !NOT_SAFETY.test(kv.reason)) weAccept.push(`${c.name}: kernel says ${kv.reason}\n${disassemble(prog).join('\n')}`);
      else if (!a.ok) {
        assert.ok(documented(a.reason, a.message), `${c.name}: undocumented stricter rejection ${a.reason}: ${a.message}\n${disassemble(prog).join('\n')}`);
        weReject.set(a.reason, (weReject.get(a.reason) ?? 0) + 1);
      }
    }
  }
  t.diagnostic(`${agree} agree, ${skipped} skipped (instruction limit), tsbpf accepts/kernel rejects ${weAccept.length}, `
    + `kernel accepts/tsbpf rejects ${JSON.stringify(Object.fromEntries(weReject))}`);
  assert.deepEqual(weAccept.slice(0, 3), []);
});
