/**
 * The filter compiler's boolean form and its translation to classic BPF. A filter is a tree
 * of and/or/not over tests; a test is a few statements that set A (and maybe X) followed by
 * one conditional jump. Code is laid out in evaluation order (left to right, short-circuit,
 * as libpcap does) and jumps that do not fit jt/jf's 8 bits go through `ja` trampolines.
 */
import { BpfError } from '../errors.js';
import * as c from '../cbpf/opcodes.js';
import type { CbpfProgram, SockFilter } from '../cbpf/opcodes.js';

/** Test is one leaf: run `stmts`, then jump on `jop` (BPF_JEQ/JGT/JGE/JSET) against k or X. */
export interface Test {
  t: 'test';
  stmts: SockFilter[];
  jop: number;
  /** compare with X instead of k */
  x?: boolean;
  k: number;
}

/** BExpr is a boolean filter expression. */
export type BExpr = Test | { t: 'and' | 'or'; a: BExpr; b: BExpr } | { t: 'not'; a: BExpr } | { t: 'const'; v: boolean };

/** test builds a leaf. */
export function test(stmts: SockFilter[], jop: number, k: number, x = false): Test {
  return { t: 'test', stmts, jop, k: k >>> 0, x };
}

/** and builds a conjunction (a evaluated first). */
export function and(...xs: BExpr[]): BExpr {
  return xs.reduce((a, b) => ({ t: 'and', a, b }));
}

/** or builds a disjunction (a evaluated first). */
export function or(...xs: BExpr[]): BExpr {
  return xs.reduce((a, b) => ({ t: 'or', a, b }));
}

/** not negates. */
export function not(a: BExpr): BExpr {
  return { t: 'not', a };
}

/** ld is a packet load at a fixed offset: size 1, 2 or 4. */
export function ld(size: number, off: number): SockFilter {
  const s = size === 1 ? c.BPF_B : size === 2 ? c.BPF_H : c.BPF_W;
  return c.sf(c.BPF_LD | s | c.BPF_ABS, 0, 0, off);
}

/** cmp tests (P[off:size] & mask) == value; a zero mask is always true and loads nothing (as libpcap's code). */
export function cmp(size: number, off: number, value: number, mask?: number): BExpr {
  if (mask !== undefined && mask >>> 0 === 0) return { t: 'const', v: (value >>> 0) === 0 };
  const stmts = [ld(size, off)];
  if (mask !== undefined && mask >>> 0 !== 0xffffffff) stmts.push(c.sf(c.BPF_ALU | c.BPF_AND | c.BPF_K, 0, 0, mask));
  return test(stmts, c.BPF_JEQ, value);
}

interface Item {
  ins: SockFilter;
  /** label ids of jump targets for conditional jumps / ja */
  jt?: number;
  jf?: number;
  ja?: number;
}

/** Layout collects instructions with symbolic targets and resolves them. */
class Layout {
  items: (Item | { label: number })[] = [];
  private next = 0;

  newLabel(): number {
    return this.next++;
  }

  place(label: number): void {
    this.items.push({ label });
  }

  gen(e: BExpr, t: number, f: number): void {
    switch (e.t) {
      case 'const':
        this.items.push({ ins: c.sf(c.BPF_JMP | c.BPF_JA), ja: e.v ? t : f });
        return;
      case 'not':
        return this.gen(e.a, f, t);
      case 'and': {
        const mid = this.newLabel();
        this.gen(e.a, mid, f);
        this.place(mid);
        return this.gen(e.b, t, f);
      }
      case 'or': {
        const mid = this.newLabel();
        this.gen(e.a, t, mid);
        this.place(mid);
        return this.gen(e.b, t, f);
      }
      default:
        for (const s of e.stmts) this.items.push({ ins: s });
        this.items.push({ ins: c.sf(c.BPF_JMP | e.jop | (e.x ? c.BPF_X : c.BPF_K), 0, 0, e.k), jt: t, jf: f });
    }
  }

  /** resolve assigns offsets, inserting trampolines for jumps longer than 255, until everything fits. */
  resolve(): CbpfProgram {
    for (;;) {
      const pos = new Map<number, number>();
      let n = 0;
      for (const it of this.items) {
        if ('label' in it) pos.set(it.label, n);
        else n++;
      }
      const out: CbpfProgram = [];
      let far = -1;
      for (let idx = 0; idx < this.items.length && far < 0; idx++) {
        const it = this.items[idx];
        if ('label' in it) continue;
        const pc = out.length;
        if (it.ja !== undefined) out.push({ ...it.ins, k: pos.get(it.ja)! - pc - 1 });
        else if (it.jt !== undefined) {
          const jt = pos.get(it.jt)! - pc - 1;
          const jf = pos.get(it.jf!)! - pc - 1;
          if (jt > 255 || jf > 255) far = idx;
          out.push({ ...it.ins, jt, jf });
        } else out.push(it.ins);
      }
      if (far < 0) return out;
      this.trampoline(far);
    }
  }

  /** trampoline rewrites a far conditional jump as a near one to `ja` instructions placed right after it. */
  private trampoline(idx: number): void {
    const it = this.items[idx] as Item;
    const lt = this.newLabel();
    const lf = this.newLabel();
    this.items.splice(idx + 1, 0, { label: lt }, { ins: c.sf(c.BPF_JMP | c.BPF_JA), ja: it.jt },
      { label: lf }, { ins: c.sf(c.BPF_JMP | c.BPF_JA), ja: it.jf });
    this.items[idx] = { ins: it.ins, jt: lt, jf: lf };
  }
}

/** ACCEPT_SNAPLEN is what the compiled filter returns for an accepted packet (tcpdump's default snapshot length). */
export const ACCEPT_SNAPLEN = 262144;

/** generate lays out a boolean expression as a classic program returning `snaplen` or 0. */
export function generate(e: BExpr, snaplen = ACCEPT_SNAPLEN): CbpfProgram {
  const l = new Layout();
  const yes = l.newLabel();
  const no = l.newLabel();
  l.gen(e, yes, no);
  l.place(yes);
  l.items.push({ ins: c.sf(c.BPF_RET | c.BPF_K, 0, 0, snaplen) });
  l.place(no);
  l.items.push({ ins: c.sf(c.BPF_RET | c.BPF_K, 0, 0, 0) });
  const prog = l.resolve();
  if (prog.length > c.BPF_MAXINSNS) {
    throw new BpfError('E2BIG', `filter compiles to ${prog.length} instructions (limit ${c.BPF_MAXINSNS})`);
  }
  return prog;
}
