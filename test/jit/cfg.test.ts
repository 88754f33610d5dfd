/**
 * JIT control-flow analysis: funcGraph's dominator tree and reducibility against a brute-force
 * computation (w dominates v iff v is unreachable from the entry once w is removed), on the
 * wild random programs of the differential fuzzer (loops, irreducible graphs, calls) and on a
 * long chain of early exits to shared blocks (the shape of unrolled packet parsers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validate } from '../../src/core/isa/validate.js';
import { assemble } from '../../src/core/asm/assemble.js';
import { buildCfg, funcGraph, type Cfg } from '../../src/core/jit/cfg.js';
import { entryPoints } from '../../src/core/jit/compile.js';
import type { Program } from '../../src/core/isa/instruction.js';
import { randomProgram } from './randprog.js';

// reachable lists the blocks reachable from `entry` without passing through `removed`.
function reachable(cfg: Cfg, entry: number, removed: number): Set<number> {
  const seen = new Set<number>();
  const stack = entry === removed ? [] : [entry];
  while (stack.length) {
    const b = stack.pop()!;
    if (seen.has(b)) continue;
    seen.add(b);
    for (const s of cfg.blocks[b].succs) if (s >= 0 && s !== removed && !seen.has(s)) stack.push(s);
  }
  return seen;
}

// check compares funcGraph with brute-force dominator sets for every entry of `prog`.
function check(prog: Program, what: string): void {
  const halves = validate(prog);
  const entries = entryPoints(prog, halves);
  const cfg = buildCfg(prog, halves, entries);
  for (const e of entries) {
    const entry = cfg.blockOf[e];
    const g = funcGraph(cfg, entry);
    const blocks = [...reachable(cfg, entry, -1)];
    const dom = new Map<number, Set<number>>(blocks.map((b) => [b, new Set([b])]));
    for (const w of blocks) {
      const left = reachable(cfg, entry, w);
      for (const v of blocks) if (v !== w && !left.has(v)) dom.get(v)!.add(w);
    }
    let reducible = true;
    for (const v of blocks) {
      const strict = [...dom.get(v)!].filter((w) => w !== v);
      // the immediate dominator is the strict dominator every other strict dominator dominates
      const idom = v === entry ? entry : strict.find((d) => strict.every((w) => dom.get(d)!.has(w)));
      assert.equal(g.idom[v], idom, `${what}, entry ${e}: idom of block ${v}`);
      for (const s of cfg.blocks[v].succs) if (s >= 0 && g.rpo[s] <= g.rpo[v] && !dom.get(v)!.has(s)) reducible = false;
    }
    assert.equal(g.reducible, reducible, `${what}, entry ${e}: reducible`);
  }
}

test('dominators and reducibility match brute force on random programs', () => {
  for (let seed = 1; seed <= 150; seed++) check(randomProgram(seed), `seed ${seed}`);
});

test('dominators of a long chain of early exits to two shared blocks', () => {
  const stages = Array.from({ length: 300 }, (_, i) => `r3 += 1\nif r3 > ${i * 7} goto ${i % 2 ? 'drop' : 'pass'}\nif r2 == ${i} goto loop`).join('\n');
  check(assemble(`r3 = 0\nloop:\n${stages}\nr0 = 2\nexit\ndrop:\nr0 = 1\nexit\npass:\nr0 = 0\nexit`), 'chain');
});
