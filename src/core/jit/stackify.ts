/**
 * Stackifier: turns a function's arbitrary gotos into structured Wasm control flow.
 *
 * Reducible graphs use the dominator-tree algorithm of N. Ramsey, "Beyond Relooper" (ICFP
 * 2022): each node's merge children (>= 2 forward in-edges) follow nested `block`s opened in
 * the node, highest reverse-postorder number outermost; a loop header wraps its code in a
 * `loop`; forward edges to merge nodes are `br`s to the block that precedes them, back edges
 * `br`s to the loop, and other forward edges inline the (dominated) target.
 *
 * Irreducible graphs use a dispatch loop: a `pc` local, a `loop` around nested blocks entered
 * through `br_table`; forward edges still branch directly, backward ones set `pc` and restart.
 */
import type { Code } from './wasm/encoder.js';
import { I32 } from './wasm/ops.js';
import { BasicBlock, Cfg, FuncGraph, OFF_END } from './cfg.js';

/** BlockEmitter generates the code of single blocks; the stackifier does the control flow. */
export interface BlockEmitter {
  /** body emits the block's instructions except a cond/jump/exit terminator. */
  body(b: BasicBlock): void;
  /** cond pushes the i32 condition of the block's conditional jump. */
  cond(b: BasicBlock): void;
  /** exit emits the code for an `exit` terminator (never falls through). */
  exit(b: BasicBlock): void;
  /** noExit emits the fault for running past the end of the program (never falls through). */
  noExit(b: BasicBlock): void;
}

const TREE = 0, WITHIN = 1, END = 2, BRANCH = 3;

type Label = { kind: 'block'; follow: number } | { kind: 'loop'; header: number } | { kind: 'if' };

/** stackify emits the body of one function covering graph `g`. */
export function stackify(code: Code, cfg: Cfg, g: FuncGraph, em: BlockEmitter): void {
  if (g.reducible) new Structured(code, cfg, g, em).run();
  else new Dispatch(code, cfg, g, em).run();
  code.op(0x00); // unreachable: every path above ends in br/return/trap
}

class Structured {
  private readonly ctx: Label[] = [];
  /** merge[b]: b has two or more forward predecessors */
  private readonly merge: Uint8Array;
  /** header[b]: b is the target of a back edge (a loop header) */
  private readonly header: Uint8Array;
  /** dominator-tree children that are merge nodes, highest reverse-postorder number first */
  private readonly mergeKids: number[][] = [];

  constructor(private readonly c: Code, private readonly cfg: Cfg, private readonly g: FuncGraph,
    private readonly em: BlockEmitter) {
    const nb = cfg.blocks.length;
    this.merge = new Uint8Array(nb);
    this.header = new Uint8Array(nb);
    const fwd = new Int32Array(nb);
    const lastPred = new Int32Array(nb).fill(-1);
    for (const b of g.order) {
      for (const s of cfg.blocks[b].succs) {
        if (s < 0 || lastPred[s] === b) continue; // count each predecessor once
        lastPred[s] = b;
        if (g.rpo[s] <= g.rpo[b]) this.header[s] = 1;
        else if (++fwd[s] === 2) this.merge[s] = 1;
      }
    }
    // visiting blocks in decreasing RPO leaves each list sorted highest first
    for (let k = g.order.length - 1; k > 0; k--) {
      const b = g.order[k];
      if (!this.merge[b]) continue;
      const d = g.idom[b];
      (this.mergeKids[d] ??= []).push(b);
    }
  }

  // The algorithm is naturally recursive (dominator-tree depth can reach the program length),
  // so it runs on an explicit work stack: each item is [action, a, b], executed last-in first-out.
  private readonly work: number[][] = [];

  run(): void {
    this.work.push([TREE, this.g.order[0], 0]);
    for (let w = this.work.pop(); w; w = this.work.pop()) {
      if (w[0] === TREE) this.doTree(w[1]);
      else if (w[0] === WITHIN) this.nodeWithin(w[1], w[2]);
      else if (w[0] === END) {
        this.ctx.pop();
        this.c.end();
      } else this.branch(this.cfg.blocks[w[1]], w[2]);
    }
  }

  private doTree(x: number): void {
    if (this.header[x]) {
      this.c.loop();
      this.ctx.push({ kind: 'loop', header: x });
      this.work.push([END, 0, 0], [WITHIN, x, 0]);
    } else {
      this.nodeWithin(x, 0);
    }
  }

  /** nodeWithin: x's code inside blocks for its merge children ys[i..] (then those follow). */
  private nodeWithin(x: number, i: number): void {
    const ys = this.mergeKids[x];
    if (ys !== undefined && i < ys.length) {
      this.c.block();
      this.ctx.push({ kind: 'block', follow: ys[i] });
      this.work.push([TREE, ys[i], 0], [END, 0, 0], [WITHIN, x, i + 1]);
      return;
    }
    const b = this.cfg.blocks[x];
    this.em.body(b);
    if (b.term === 'exit') this.em.exit(b);
    else if (b.term === 'cond') this.condBranch(b);
    else this.work.push([BRANCH, x, b.succs[0]]);
  }

  private condBranch(b: BasicBlock): void {
    const [taken, fall] = b.succs;
    if (taken === fall) return void this.work.push([BRANCH, b.id, taken]);
    this.em.cond(b);
    const dt = this.depth(b, taken);
    if (dt >= 0) {
      this.c.op(0x0d).u32(dt); // br_if
      return void this.work.push([BRANCH, b.id, fall]);
    }
    const df = this.depth(b, fall);
    if (df >= 0) {
      this.c.op(0x45, 0x0d).u32(df); // i32.eqz; br_if
      return void this.work.push([BRANCH, b.id, taken]);
    }
    this.c.if();
    this.ctx.push({ kind: 'if' });
    this.work.push([BRANCH, b.id, fall], [END, 0, 0], [BRANCH, b.id, taken]);
  }

  /** depth returns the br depth for an edge that is a branch, or -1 when it is inlined. */
  private depth(src: BasicBlock, t: number): number {
    if (t === OFF_END) return -1;
    const back = this.g.rpo[t] <= this.g.rpo[src.id];
    if (!back && !this.merge[t]) return -1;
    for (let i = this.ctx.length - 1; i >= 0; i--) {
      const l = this.ctx[i];
      if (back ? l.kind === 'loop' && l.header === t : l.kind === 'block' && l.follow === t) {
        return this.ctx.length - 1 - i;
      }
    }
    throw new Error(`stackify: no label for edge ${src.id} -> ${t}`);
  }

  private branch(src: BasicBlock, t: number): void {
    if (t === OFF_END) return this.em.noExit(src);
    const d = this.depth(src, t);
    if (d >= 0) this.c.br(d);
    else this.work.push([TREE, t, 0]);
  }
}

class Dispatch {
  private readonly pc: number;
  private readonly n: number;
  private cur = 0;

  constructor(private readonly c: Code, private readonly cfg: Cfg, private readonly g: FuncGraph,
    private readonly em: BlockEmitter) {
    this.pc = c.local(I32);
    this.n = g.order.length;
  }

  run(): void {
    const n = this.n;
    this.c.loop();
    for (let i = 0; i < n; i++) this.c.block();
    this.c.get(this.pc).brTable([...Array(n).keys()], n - 1);
    for (let i = 0; i < n; i++) {
      this.c.end();
      this.cur = i;
      this.emitBlock(this.cfg.blocks[this.g.order[i]]);
    }
    this.c.end();
  }

  // The code of block i follows the end of label B_i and is enclosed by B_{i+1}..B_{n-1}, loop.
  private emitBlock(b: BasicBlock): void {
    this.em.body(b);
    if (b.term === 'exit') return this.em.exit(b);
    if (b.term !== 'cond') return this.branch(b, b.succs[0], 0);
    const [taken, fall] = b.succs;
    if (taken === fall) return this.branch(b, taken, 0);
    this.em.cond(b);
    this.c.if();
    this.branch(b, taken, 1);
    this.c.end();
    this.branch(b, fall, 0);
  }

  private branch(src: BasicBlock, t: number, extra: number): void {
    if (t === OFF_END) return this.em.noExit(src);
    const j = this.g.rpo[t];
    const i = this.cur;
    if (j === i + 1 && extra === 0) return; // falls through into the next block's code
    if (j > i) {
      this.c.br(j - (i + 1) + extra); // to the end of block B_j, where block j's code starts
      return;
    }
    this.c.i32(j).set(this.pc);
    this.c.br(this.n - 1 - i + extra);
  }
}
