/**
 * A delta-debugging shrinker for raw eBPF programs: the wild random programs of randprog.ts
 * come from a PRNG, not from a fast-check arbitrary, so a mismatch is minimised here by
 * deleting instructions (fixing up every jump and call across the deleted slot), turning
 * instructions into `ja +0` and zeroing immediates and offsets, while the failure persists.
 */
import * as o from '../../src/core/isa/opcodes.js';
import { type Insn, type Program, insn } from '../../src/core/isa/instruction.js';
import { validate } from '../../src/core/isa/validate.js';

/** relField names the field of `i` holding a relative target, or null when it has none. */
function relField(i: Insn): 'off' | 'imm' | null {
  const cls = o.BPF_CLASS(i.code);
  if (cls !== o.BPF_JMP && cls !== o.BPF_JMP32) return null;
  const op = o.BPF_OP(i.code);
  if (op === o.BPF_EXIT) return null;
  if (op === o.BPF_CALL) return i.src === o.BPF_PSEUDO_CALL ? 'imm' : null;
  if (i.code === (o.BPF_JMP32 | o.BPF_JA)) return 'imm';
  return 'off';
}

/** deleteSlots removes slots [at, at+n) and retargets jumps; a jump into the gap lands after it. */
export function deleteSlots(prog: Program, at: number, n: number): Program {
  const out: Program = [];
  prog.forEach((i, pc) => {
    if (pc >= at && pc < at + n) return;
    const c = { ...i };
    const f = isSecondHalf(prog, pc) ? null : relField(i);
    if (f) {
      const t = pc + 1 + c[f];
      const map = (x: number): number => (x >= at + n ? x - n : x > at ? at : x);
      c[f] = map(t) - (map(pc) + 1);
    }
    out.push(c);
  });
  return out;
}

/** isSecondHalf: slot `pc` is the second half of an lddw (a second half has code 0, never lddw's). */
function isSecondHalf(prog: Program, pc: number): boolean {
  return pc > 0 && prog[pc - 1].code === (o.BPF_LD | o.BPF_IMM | o.BPF_DW);
}

function valid(p: Program): boolean {
  try {
    validate(p);
    return p.length > 0;
  } catch {
    return false;
  }
}

/** simpler lists simpler variants of the instruction at `pc` (same slot count). */
function simpler(prog: Program, pc: number): Insn[] {
  const i = prog[pc];
  const out: Insn[] = [];
  const nop = insn(o.BPF_JMP | o.BPF_JA);
  if (i.code !== nop.code || i.off !== 0) out.push(nop);
  if (i.imm !== 0 && relField(i) !== 'imm') out.push({ ...i, imm: 0 });
  if (i.off !== 0 && relField(i) !== 'off') out.push({ ...i, off: 0 });
  return out;
}

/**
 * shrinkProgram returns a smaller program on which `fails` still holds (the input when no
 * smaller one does). `fails` must hold for `prog`; `limit` bounds the number of attempts.
 */
export function shrinkProgram(prog: Program, fails: (p: Program) => boolean, limit = 5000): Program {
  let best = prog;
  let tries = 0;
  const attempt = (p: Program): boolean => {
    if (tries >= limit || !valid(p)) return false;
    tries++;
    if (!fails(p)) return false;
    best = p;
    return true;
  };
  for (let progress = true; progress && tries < limit;) {
    progress = false;
    // delete chunks, halving the chunk size down to single slots (lddw pairs go as one)
    for (let n = Math.max(1, best.length >> 1); n >= 1; n >>= 1) {
      for (let at = 0; at < best.length;) {
        if (attempt(deleteSlots(best, at, n))) progress = true;
        else if (n === 1 && attempt(deleteSlots(best, at, 2))) progress = true;
        else at++;
      }
    }
    for (let pc = 0; pc < best.length; pc++) {
      if (isSecondHalf(best, pc)) continue;
      for (const s of simpler(best, pc)) {
        const p = best.slice();
        p[pc] = s;
        if (attempt(p)) {
          progress = true;
          break;
        }
      }
    }
  }
  return best;
}
