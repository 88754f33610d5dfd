/**
 * Differential checking of the JIT against the reference interpreter on random programs
 * (randprog.ts). `diffInterpJit(seed, count)` is the entry point the fuzz script calls:
 * programs seed .. seed+count-1, each run in checked mode and in trusted mode (with budget
 * counting on, so non-terminating programs end), and on shared memory or with split regions,
 * comparing r0, steps, the data buffer, the whole stack, and the fault (code, insn, address,
 * message).
 */
import { isBpfError } from '../../src/core/errors.js';
import { type Program, encode, toHex } from '../../src/core/isa/instruction.js';
import { HelperRegistry } from '../../src/core/helpers/registry.js';
import { createVmContext, dataBuffer } from '../../src/core/vm/context.js';
import type { Engine, VmContext } from '../../src/core/vm/engine.js';
import { AddressSpace, PERM_R, PERM_RW, PERM_W, type Region, STACK_SIZE } from '../../src/core/vm/memory.js';
import { interpreter } from '../../src/core/vm/interpreter.js';
import { loadJit } from '../../src/core/jit/index.js';
import { HELPER_CHECK, HELPER_PURE, Rng, randomProgram } from './randprog.js';

/** Outcome is everything observable about one run. */
export interface Outcome {
  r0?: bigint;
  steps?: number;
  data: string;
  stack: string;
  error?: { code: string; insn?: number; address?: number; message: string };
}

/** Mismatch describes one program on which the engines disagree. */
export interface Mismatch {
  seed: number;
  mode: Mode;
  program: string;
  interp: Outcome;
  jit: Outcome;
}

/** diffHelpers registers the helpers random programs call (one pure, one using env.check). */
export function diffHelpers(): HelperRegistry {
  const h = new HelperRegistry();
  h.register(HELPER_PURE, (r1, r2, r3) => BigInt.asUintN(64, r1 * 31n + r2) ^ r3);
  h.register(HELPER_CHECK, (r1, r2, r3, _r4, _r5, env) => {
    const addr = Number(r1 & 0xffffffffn);
    const len = Number(r2 & 15n);
    const write = (r3 & 1n) === 1n;
    env.check(addr, len, write);
    if (len > 0 && addr + len <= env.space.size) {
      if (write) env.space.u8.fill(0xab, addr, addr + len);
      else return BigInt(env.space.u8[addr]) + 1000n;
    }
    return BigInt(len);
  });
  return h;
}

/** Mode is how a random program is run: checked or trusted; shared memory; split regions. */
export type Mode = 'checked' | 'trusted' | 'shared' | 'split';

/**
 * runOutcome runs `prog` once with `engine` in a fresh context and records the outcome.
 * r1 = data address, r2 = length, the data is the packet too (like runRaw). Mode 'split'
 * offers the data as three overlapping regions instead of one: R [0, h), W [h, h+8), RW [h, len),
 * after a region around the top of the stack.
 */
export function runOutcome(engine: Engine, prog: Program, data: Uint8Array, mode: Mode, budget: number): Outcome {
  // a small memory keeps the many fresh contexts cheap (wild pointers trap sooner, alike in both engines)
  const space = new AddressSpace({ initialBytes: 1 << 20, maximumBytes: 1 << 22, shared: mode === 'shared' });
  const ctx: VmContext = createVmContext({ helpers: diffHelpers(), space });
  const stackOf = (): string => toHex(ctx.space.read(ctx.stack.base, STACK_SIZE));
  const addr = dataBuffer(ctx, data.length);
  ctx.space.write(addr, data);
  const len = data.length, h = len >> 1;
  // split also lists, first, a region straddling the top of the stack and the shadow bytes above
  // it (an odd but legal region: the stack's own rules must still win inside the stack)
  const top = ctx.stack.base + STACK_SIZE;
  const regions: Region[] = mode === 'split'
    ? [{ start: top - 64, end: top + 64, perm: PERM_RW, name: 'odd' }, { start: addr, end: addr + h, perm: PERM_R, name: 'r' },
      { start: addr + h, end: addr + Math.min(h + 8, len), perm: PERM_W, name: 'w' }, { start: addr + h, end: addr + len, perm: PERM_RW, name: 'rw' }]
    : [{ start: addr, end: addr + len, perm: PERM_RW, name: 'data' }];
  try {
    const loaded = engine.load(prog, ctx, { checked: mode !== 'trusted' });
    const r = loaded.run({ args: [BigInt(addr), BigInt(len)], regions, packet: { start: addr, len }, budget });
    return { r0: r.r0, steps: r.steps, data: toHex(ctx.space.read(addr, len)), stack: stackOf() };
  } catch (e) {
    if (!isBpfError(e)) throw e;
    return {
      data: toHex(ctx.space.read(addr, len)), stack: stackOf(),
      error: { code: e.code, insn: e.context.insn, address: e.context.address, message: e.message },
    };
  }
}

function same(a: Outcome, b: Outcome): boolean {
  if (a.error || b.error) {
    if (!a.error || !b.error || a.error.code !== b.error.code) return false;
    if (a.error.insn !== b.error.insn || a.error.message !== b.error.message) return false;
    return a.error.address === b.error.address && a.stack === b.stack && a.data === b.data;
  }
  return a.r0 === b.r0 && a.steps === b.steps && a.data === b.data && a.stack === b.stack;
}

/** inputsOf derives the packet and budget of a seed. */
export function inputsOf(seed: number): { data: Uint8Array; budget: number } {
  const r = new Rng(seed ^ 0x5bd1e995);
  const data = new Uint8Array(r.int(0, 80));
  for (let k = 0; k < data.length; k++) data[k] = r.next() & 0xff;
  return { data, budget: r.chance(0.2) ? r.int(0, 40) : r.int(50, 3000) };
}

/** checkSeed compares both engines on the program of one seed; null when they agree. */
export function checkSeed(seed: number, mode: Mode): Mismatch | null {
  const prog = randomProgram(seed);
  const { data, budget } = inputsOf(seed);
  const d = diffOutcomes(prog, data, mode, budget);
  return d && { seed, mode, program: toHex(encode(prog)), interp: d[0], jit: d[1] };
}

/** diffOutcomes runs `prog` in both engines; null when they agree, else [interpreter, JIT] outcomes. */
export function diffOutcomes(prog: Program, data: Uint8Array, mode: Mode, budget: number): [Outcome, Outcome] | null {
  const a = runOutcome(interpreter, prog, data, mode, budget);
  const b = runOutcomeJit(prog, data, mode, budget);
  return same(a, b) ? null : [a, b];
}

function runOutcomeJit(prog: Program, data: Uint8Array, mode: Mode, budget: number): Outcome {
  // trusted mode counts the budget too here, so that the random (possibly endless) programs end
  const engine: Engine = { name: 'jit', load: (p, ctx, o) => loadJit(p, ctx, { ...o, countBudget: true }) };
  return runOutcome(engine, prog, data, mode, budget);
}

/** modesOf lists the modes a seed is checked in: always checked and trusted, plus one of shared / split. */
export function modesOf(seed: number): Mode[] {
  return ['checked', 'trusted', seed % 2 === 0 ? 'shared' : 'split'];
}

/**
 * diffInterpJit checks the programs of seeds seed .. seed+count-1 in checked and trusted mode
 * (and on shared memory or with split regions, alternately) and returns the mismatches
 * (empty when the JIT agrees with the interpreter everywhere).
 */
export function diffInterpJit(seed: number, count: number): Mismatch[] {
  const out: Mismatch[] = [];
  for (let s = seed; s < seed + count; s++) {
    for (const mode of modesOf(s >>> 0)) {
      const m = checkSeed(s >>> 0, mode);
      if (m) out.push(m);
    }
  }
  return out;
}
