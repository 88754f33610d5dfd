/**
 * compile: eBPF program -> WebAssembly module bytes. One Wasm function per entry point (the
 * program start and every bpf-to-bpf call target), each covering the blocks it reaches, plus
 * the checked-mode `region` function. Imports and exports are described in layout.ts.
 */
import type { Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { buildCfg, funcGraph } from './cfg.js';
import { stackify } from './stackify.js';
import { Code, ModuleBuilder } from './wasm/encoder.js';
import { F64, I32, I64, Op } from './wasm/ops.js';
import { STACK_SIZE } from '../vm/memory.js';
import { CALLBACK_TAG } from '../helpers/registry.js';
import { FuncGen } from './gen-func.js';
import { defineRepeatExport } from './repeat.js';
import { fastCache, loadFast } from './gen-fast.js';
import {
  CB_ARGS, CB_FAST, CB_NREGIONS, CB_R0, CB_REGIONS, F_MEM, type GenOptions, type ModuleIndices, PARAMS, REGION_ENTRY, allocLocals,
} from './layout.js';

/** Compiled is the output of compile: the module bytes and what its imports need. */
export interface Compiled {
  bytes: Uint8Array;
  /** helper IDs the module imports as env.h<ID> */
  helperIds: number[];
  /** trapMap: sorted (module offset of a memory instruction, eBPF slot) pairs, flattened */
  trapMap: number[];
}

const REGS6 = [I64, I64, I64, I64, I64, I64];
const REGS11 = [...REGS6, ...REGS6.slice(1)];

/** entryPoints lists slot 0 and every bpf-to-bpf call target. */
export function entryPoints(prog: Program, halves: Set<number>): number[] {
  const set = new Set([0]);
  // (opcode tests first: they are cheap, and a second lddw half has opcode 0)
  prog.forEach((i, pc) => {
    if (i.code === (o.BPF_JMP | o.BPF_CALL) && i.src === o.BPF_PSEUDO_CALL && !halves.has(pc)) set.add(pc + 1 + i.imm);
  });
  for (const t of callbackTargets(prog, halves)) set.add(t);
  return [...set].sort((a, b) => a - b);
}

/**
 * callbackTargets lists the slots resolved callback pointers name: lddw with src
 * BPF_PSEUDO_FUNC and value (CALLBACK_TAG << 32) | slot, the slot an instruction start.
 */
export function callbackTargets(prog: Program, halves: Set<number>): number[] {
  const out: number[] = [];
  prog.forEach((i, pc) => {
    if (i.code !== (o.BPF_LD | o.BPF_IMM | o.BPF_DW) || i.src !== o.BPF_PSEUDO_FUNC || halves.has(pc)) return;
    const t = i.imm;
    if (prog[pc + 1]?.imm === CALLBACK_TAG && t >= 0 && t < prog.length && !halves.has(t) && !out.includes(t)) out.push(t);
  });
  return out;
}

/** helperIds lists the helpers the module calls (trusted mode: inlined lookups need no helper). */
function helperIds(prog: Program, halves: Set<number>, opts: GenOptions): number[] {
  const set = new Set<number>();
  prog.forEach((i, pc) => {
    if (i.code !== (o.BPF_JMP | o.BPF_CALL) || i.src !== 0 || halves.has(pc)) return;
    if (!opts.checked && opts.inline?.has(pc)) return;
    set.add(i.imm);
  });
  return [...set].sort((a, b) => a - b);
}

/** compile generates the module for a validated program (`halves` from validate()). */
export function compile(prog: Program, halves: Set<number>, opts: GenOptions): Compiled {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', minPages: 0, maxPages: opts.shared ? 65536 : undefined, shared: opts.shared });
  const hids = helperIds(prog, halves, opts);
  const m: ModuleIndices = {
    fault: mb.importFunc('env', 'fault', [I32, I32, I64, I32], []),
    ldabsExit: mb.importFunc('env', 'ldabsExit', [], []),
    callx: mb.importFunc('env', 'callx', [I64, ...REGS6.slice(1), I32], [I64]),
    budgetTail: mb.importFunc('env', 'budgetTail', [I32, I64, ...REGS11], []),
    helpers: new Map(hids.map((id) => [id, mb.importFunc('env', `h${id}`, [...REGS6.slice(1), I32], [I64])])),
    gStackBase: mb.importGlobal('env', 'stackBase', I64),
    gCb: mb.importGlobal('env', 'cb', I32),
    gBudget: 0,
    region: 0,
    funcs: new Map(),
  };
  m.gBudget = mb.global(I64, 0);
  m.region = mb.declareFunc([I64, I32, I32, I32], []);
  const entries = entryPoints(prog, halves);
  for (const e of entries) m.funcs.set(e, mb.declareFunc(REGS11, REGS6));
  mb.defineFunc(m.region, regionBody(m));
  defineRunExports(mb, m, opts);
  defineRepeatExport(mb, m, opts);
  defineCallbackExport(mb, m, opts, callbackTargets(prog, halves));
  const cfg = buildCfg(prog, halves, entries);
  const lastInsn = halves.has(prog.length - 1) ? prog.length - 2 : prog.length - 1;
  const bodies: Code[] = [];
  for (const e of entries) {
    const code = new Code(PARAMS);
    bodies.push(code);
    const L = allocLocals(code, I64, I32);
    if (opts.budget) code.gget(m.gBudget).set(L.bud);
    // globals are loads from the instance; locals can live in registers
    code.gget(m.gStackBase).set(L.sb).gget(m.gCb).set(L.cb);
    const fast = opts.checked ? fastCache(code, prog, halves) : undefined;
    if (fast) loadFast(code, L, fast);
    const gen = new FuncGen({ c: code, L, m, o: opts, prog, fast }, halves, lastInsn);
    stackify(code, cfg, funcGraph(cfg, cfg.blockOf[e]), gen);
    mb.defineFunc(m.funcs.get(e)!, code);
  }
  const bytes = mb.encode();
  const trapMap: number[] = [];
  for (const b of bodies) for (let k = 0; k < b.marks.length; k += 2) trapMap.push(b.codeOffset + b.marks[k], b.marks[k + 1]);
  return { bytes, helperIds: hids, trapMap };
}

/**
 * defineRunExports adds what `run` calls, with Number-only signatures: entry(budget f64)
 * (reads r1..r5 from the control block, clears frame 0's shadow in checked mode, sets the
 * budget, calls the main function with r10 = top of frame 0 and stores r0 in the control
 * block), left() -> f64 (budget left) and setLeft(f64) (restores an outer run's budget after
 * a nested run of the same program).
 */
function defineRunExports(mb: ModuleBuilder, m: ModuleIndices, opts: GenOptions): void {
  const entry = mb.declareFunc([F64], []);
  const c = new Code(1);
  if (opts.checked) {
    c.gget(m.gStackBase).op(Op.i32_wrap_i64).i32(2 * STACK_SIZE - o.STACK_FRAME_SIZE).op(Op.i32_add);
    c.i32(0).i32(o.STACK_FRAME_SIZE).memoryFill();
  }
  c.get(0).op(Op.i64_trunc_f64_s).gset(m.gBudget);
  c.gget(m.gCb); // address for the r0 store below
  c.i64(0);
  for (let r = 0; r < 5; r++) c.gget(m.gCb).mem(Op.i64_load, 3, CB_ARGS + 8 * r);
  c.i64(0).i64(0).i64(0).i64(0);
  c.gget(m.gStackBase).i64(STACK_SIZE).op(Op.i64_add);
  c.call(m.funcs.get(0)!).op(Op.drop, Op.drop, Op.drop, Op.drop, Op.drop);
  c.mem(Op.i64_store, 3, CB_R0);
  mb.defineFunc(entry, c);
  mb.exportFunc('entry', entry);
  const left = mb.declareFunc([], [F64]);
  mb.defineFunc(left, new Code(0).gget(m.gBudget).op(Op.f64_convert_i64_s) as Code);
  mb.exportFunc('left', left);
  const setLeft = mb.declareFunc([F64], []);
  mb.defineFunc(setLeft, new Code(1).get(0).op(Op.i64_trunc_f64_s).gset(m.gBudget) as Code);
  mb.exportFunc('setLeft', setLeft);
}

/**
 * defineCallbackExport adds callback(target i32, r10 i32) for HelperEnv.callback: r10 is the
 * frame of the helper's caller (CB_FRAME); the callback runs one frame below it (E_CALL_DEPTH
 * past frame 8), its shadow cleared in checked mode, with r1..r5 from CB_ARGS; r0 goes to
 * CB_R0. The callee charges the budget global itself. An unknown target traps (the JavaScript
 * side checks targets first).
 */
function defineCallbackExport(mb: ModuleBuilder, m: ModuleIndices, opts: GenOptions, targets: number[]): void {
  const fn = mb.declareFunc([I32, I32], []);
  const c = new Code(2);
  const T = 0, FP = 1;
  c.get(FP).i32(o.STACK_FRAME_SIZE).op(Op.i32_sub).set(FP);
  if (opts.checked) c.get(FP).i32(STACK_SIZE - o.STACK_FRAME_SIZE).op(Op.i32_add).i32(0).i32(o.STACK_FRAME_SIZE).memoryFill();
  for (const t of targets) {
    c.get(T).i32(t).op(Op.i32_eq).if();
    c.gget(m.gCb); // address for the r0 store
    c.i64(0);
    for (let r = 0; r < 5; r++) c.gget(m.gCb).mem(Op.i64_load, 3, CB_ARGS + 8 * r);
    c.i64(0).i64(0).i64(0).i64(0);
    c.get(FP).op(Op.i64_extend_i32_u);
    c.call(m.funcs.get(t)!).op(Op.drop, Op.drop, Op.drop, Op.drop, Op.drop);
    c.mem(Op.i64_store, 3, CB_R0).op(Op.return);
    c.end();
  }
  c.op(Op.unreachable);
  mb.defineFunc(fn, c);
  mb.exportFunc('callback', fn);
}

/**
 * regionBody: region(a i64, size i32, perm i32, insn i32) returns when [a, a+size) lies in
 * one extra region with `perm`, and faults E_MEM otherwise. Addresses >= 2^32 are in none.
 * A hit becomes the inline fast-path region for `perm` (slot CB_FAST(perm) = CB_FAST(0) + 8 * perm)
 * when it does not overlap the stack.
 */
function regionBody(m: ModuleIndices): Code {
  const c = new Code(4);
  const A = 0, SIZE = 1, PERM = 2, INSN = 3;
  const p = c.local(I32), n = c.local(I32);
  c.block();
  c.get(A).i64(0xffffffffn).op(Op.i64_gt_u, Op.br_if).u32(0);
  c.gget(m.gCb).mem(Op.i32_load, 2, CB_NREGIONS).set(n);
  c.gget(m.gCb).mem(Op.i32_load, 2, CB_REGIONS).set(p);
  c.loop();
  c.get(n).op(Op.i32_eqz, Op.br_if).u32(1);
  c.get(A).get(p).mem(Op.i64_load32_u, 2, 0).op(Op.i64_ge_u);
  c.get(A).get(SIZE).op(Op.i64_extend_i32_u, Op.i64_add).get(p).mem(Op.i64_load32_u, 2, 4).op(Op.i64_le_u);
  c.op(Op.i32_and);
  c.get(p).mem(Op.i32_load, 2, 8).get(PERM).op(Op.i32_and).get(PERM).op(Op.i32_eq, Op.i32_and);
  c.if();
  // remember the hit as the fast-path region for this permission (a last-hit cache), unless it
  // overlaps the stack: the inline fast test runs before the stack's shadow checks
  c.get(p).mem(Op.i64_load32_u, 2, 4).gget(m.gStackBase).op(Op.i64_le_u);
  c.get(p).mem(Op.i64_load32_u, 2, 0).gget(m.gStackBase).i64(STACK_SIZE).op(Op.i64_add, Op.i64_ge_u, Op.i32_or);
  c.if();
  c.gget(m.gCb).get(PERM).i32(3).op(Op.i32_shl, Op.i32_add).tee(n);
  c.get(p).mem(Op.i32_load, 2, 0).mem(Op.i32_store, 2, CB_FAST(0));
  c.get(n).get(p).mem(Op.i32_load, 2, 4).get(p).mem(Op.i32_load, 2, 0).op(Op.i32_sub).mem(Op.i32_store, 2, CB_FAST(0) + 4);
  c.end();
  c.op(Op.return).end();
  c.get(p).i32(REGION_ENTRY).op(Op.i32_add).set(p);
  c.get(n).i32(1).op(Op.i32_sub).set(n);
  c.br(0).end();
  c.end();
  // size | perm << 8: the message names the kind of access, as the interpreter's does
  c.i32(F_MEM).get(INSN).get(A).get(SIZE).get(PERM).i32(8).op(Op.i32_shl, Op.i32_or).call(m.fault).op(Op.unreachable);
  return c;
}
