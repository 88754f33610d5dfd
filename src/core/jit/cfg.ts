/**
 * Control-flow analysis for the JIT: basic blocks of the whole program, the blocks each
 * Wasm function (one per eBPF entry point) reaches, reverse postorder, dominators and the
 * reducibility test the stackifier needs.
 */
import type { Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';

/** Terminator kinds of a basic block. */
export type TermKind = 'cond' | 'jump' | 'exit' | 'fall';

/** OFF_END is the successor id meaning "execution runs past the last instruction". */
export const OFF_END = -1;

/** BasicBlock is a maximal straight-line run of slots [start, end). */
export interface BasicBlock {
  id: number;
  start: number;
  end: number;
  /** slot of the last instruction (the terminator for cond/jump/exit) */
  last: number;
  term: TermKind;
  /** successors: for 'cond' [taken, fallthrough]; block ids or OFF_END */
  succs: number[];
}

/** Cfg is the block partition of a whole program. */
export interface Cfg {
  blocks: BasicBlock[];
  /** blockOf[pc] is the id of the block starting at pc, or -1 */
  blockOf: Int32Array;
}

function isJmpClass(code: number): boolean {
  const c = o.BPF_CLASS(code);
  return c === o.BPF_JMP || c === o.BPF_JMP32;
}

/** isCondJump tells whether the slot is a conditional jump. */
export function isCondJump(code: number): boolean {
  if (!isJmpClass(code)) return false;
  const op = o.BPF_OP(code);
  return op !== o.BPF_JA && op !== o.BPF_CALL && op !== o.BPF_EXIT;
}

/** isGoto tells whether the slot is an unconditional jump (ja or gotol). */
export function isGoto(code: number): boolean {
  return isJmpClass(code) && o.BPF_OP(code) === o.BPF_JA;
}

/** isExit tells whether the slot is `exit`. */
export function isExit(code: number): boolean {
  return code === (o.BPF_JMP | o.BPF_EXIT);
}

/** branchTarget is the slot a cond jump or goto at pc lands on. */
export function branchTarget(prog: Program, pc: number): number {
  const i = prog[pc];
  return o.BPF_CLASS(i.code) === o.BPF_JMP32 && o.BPF_OP(i.code) === o.BPF_JA ? pc + 1 + i.imm : pc + 1 + i.off;
}

/**
 * buildCfg splits a validated program into basic blocks. `entries` are extra leaders
 * (function entry points). lddw second halves are never leaders (validate guarantees it).
 */
export function buildCfg(prog: Program, halves: Set<number>, entries: Iterable<number>): Cfg {
  const n = prog.length;
  const leader = new Uint8Array(n + 1);
  leader[0] = 1;
  for (const e of entries) leader[e] = 1;
  for (let pc = 0; pc < n; pc++) {
    const c = prog[pc].code;
    // a second lddw half has opcode 0: only jumps and exits need the halves lookup
    if (!isJmpClass(c) || halves.has(pc)) continue;
    if (isCondJump(c) || isGoto(c)) {
      leader[branchTarget(prog, pc)] = 1;
      leader[pc + 1] = 1;
    } else if (isExit(c)) {
      leader[pc + 1] = 1;
    }
  }
  const blockOf = new Int32Array(n).fill(-1);
  const blocks: BasicBlock[] = [];
  for (let pc = 0; pc < n;) {
    let end = pc + 1;
    while (end < n && !leader[end]) end++;
    const last = end - 1;
    blockOf[pc] = blocks.length;
    blocks.push({ id: blocks.length, start: pc, end, last, term: 'fall', succs: [] });
    pc = end;
  }
  for (const b of blocks) {
    const pc = b.last;
    const c = halves.has(pc) ? 0 : prog[pc].code;
    const next = b.end < n ? blockOf[b.end] : OFF_END;
    if (!halves.has(pc) && isCondJump(c)) {
      b.term = 'cond';
      b.succs = [blockOf[branchTarget(prog, pc)], next];
    } else if (!halves.has(pc) && isGoto(c)) {
      b.term = 'jump';
      b.succs = [blockOf[branchTarget(prog, pc)]];
    } else if (!halves.has(pc) && isExit(c)) {
      b.term = 'exit';
    } else {
      b.term = 'fall';
      b.succs = [next];
    }
  }
  return { blocks, blockOf };
}

/** FuncGraph is the part of the CFG one Wasm function covers, in reverse postorder. */
export interface FuncGraph {
  /** block ids in reverse postorder; order[0] is the entry */
  order: number[];
  /** rpo number of each block id (or -1 when not in this function) */
  rpo: Int32Array;
  /** immediate dominator (block id) of each block in the function; entry's is itself */
  idom: Int32Array;
  /** true when every retreating edge goes to a dominator of its source */
  reducible: boolean;
}

/** funcGraph computes reachability, RPO, dominators and reducibility from an entry block. */
export function funcGraph(cfg: Cfg, entry: number): FuncGraph {
  const nb = cfg.blocks.length;
  const rpo = new Int32Array(nb).fill(-1);
  const post: number[] = [];
  const state = new Uint8Array(nb); // 0 new, 1 on stack, 2 done
  // Iterative DFS so large programs do not overflow the JS stack.
  const stack: Array<[number, number]> = [[entry, 0]];
  state[entry] = 1;
  while (stack.length) {
    const top = stack[stack.length - 1];
    const succs = cfg.blocks[top[0]].succs;
    if (top[1] < succs.length) {
      const s = succs[top[1]++];
      if (s >= 0 && state[s] === 0) {
        state[s] = 1;
        stack.push([s, 0]);
      }
    } else {
      state[top[0]] = 2;
      post.push(top[0]);
      stack.pop();
    }
  }
  const order = post.reverse();
  order.forEach((b, i) => (rpo[b] = i));
  // Dominators of the forward edges (one pass, O(n log n)) are the graph's when every
  // retreating edge goes to a dominator of its source (such an edge changes no dominance),
  // which is exactly the reducibility test; otherwise iterate over all edges.
  const fwd = forwardDominators(cfg, order, rpo);
  if (isReducible(cfg, order, rpo, fwd)) return { order, rpo, idom: fwd, reducible: true };
  const idom = dominators(cfg, order, rpo);
  return { order, rpo, idom, reducible: isReducible(cfg, order, rpo, idom) };
}

/**
 * forwardDominators computes the dominator tree of the forward (RPO-increasing) edges in one
 * pass over the blocks in reverse postorder: every forward predecessor is final by then, and
 * the nearest common dominator of two blocks is found by binary lifting over the tree built so
 * far. (The iterative algorithm below walks the tree one step at a time, which is quadratic
 * on long chains of early exits to one block, as in unrolled packet parsers.)
 */
function forwardDominators(cfg: Cfg, order: number[], rpo: Int32Array): Int32Array {
  const nb = cfg.blocks.length;
  const idom = new Int32Array(nb).fill(-1);
  const depth = new Int32Array(nb);
  const up: Int32Array[] = [];
  for (let span = 1; span <= order.length; span *= 2) up.push(new Int32Array(nb));
  const lca = (x: number, y: number): number => {
    let a = depth[x] >= depth[y] ? x : y, b = a === x ? y : x;
    for (let k = up.length - 1; k >= 0; k--) if (depth[a] - (1 << k) >= depth[b]) a = up[k][a];
    if (a === b) return a;
    for (let k = up.length - 1; k >= 0; k--) {
      if (up[k][a] !== up[k][b]) {
        a = up[k][a];
        b = up[k][b];
      }
    }
    return up[0][a];
  };
  const preds = predecessors(cfg, order, rpo);
  for (const b of order) {
    let d = b;
    for (const p of preds[b]) if (rpo[p] < rpo[b]) d = d === b ? p : lca(p, d);
    idom[b] = d;
    depth[b] = d === b ? 0 : depth[d] + 1;
    up[0][b] = d;
    for (let k = 1; k < up.length; k++) up[k][b] = up[k - 1][up[k - 1][b]];
  }
  return idom;
}

function predecessors(cfg: Cfg, order: number[], rpo: Int32Array): number[][] {
  const preds: number[][] = [];
  for (const b of order) preds[b] = [];
  for (const b of order) {
    const succs = cfg.blocks[b].succs;
    for (let k = 0; k < succs.length; k++) {
      const s = succs[k];
      if (s >= 0 && rpo[s] >= 0 && (k === 0 || succs[0] !== s)) preds[s].push(b);
    }
  }
  return preds;
}

// Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm".
function dominators(cfg: Cfg, order: number[], rpo: Int32Array): Int32Array {
  const idom = new Int32Array(cfg.blocks.length).fill(-1);
  const preds = predecessors(cfg, order, rpo);
  idom[order[0]] = order[0];
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (rpo[a] > rpo[b]) a = idom[a];
      while (rpo[b] > rpo[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 1; i < order.length; i++) {
      const b = order[i];
      let d = -1;
      for (const p of preds[b]) {
        if (idom[p] < 0) continue;
        d = d < 0 ? p : intersect(p, d);
      }
      if (d !== idom[b]) {
        idom[b] = d;
        changed = true;
      }
    }
  }
  return idom;
}

/** dominates tells whether block a dominates block b in the function. */
export function dominates(g: FuncGraph, a: number, b: number): boolean {
  for (;;) {
    if (a === b) return true;
    const d = g.idom[b];
    if (d === b) return false;
    b = d;
  }
}

function isReducible(cfg: Cfg, order: number[], rpo: Int32Array, idom: Int32Array): boolean {
  const g: FuncGraph = { order, rpo, idom, reducible: true };
  for (const b of order) {
    for (const s of cfg.blocks[b].succs) {
      if (s >= 0 && rpo[s] <= rpo[b] && !dominates(g, s, b)) return false;
    }
  }
  return true;
}
