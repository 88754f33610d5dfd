/**
 * Control-flow checks before the path-by-path analysis (the kernel's check_subprogs and
 * check_cfg): structure (`validate`), subprograms found from bpf-to-bpf calls and callback
 * references, jumps that stay inside their subprogram, subprograms that end in exit or
 * goto, reachability of every instruction, the call graph (no recursion, at most 8 frames),
 * the prune points where states are compared, and register liveness for state pruning.
 */
import { isBpfError } from '../errors.js';
import { isLddw, type Insn, type Program } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import { jumpTarget, validate } from '../isa/validate.js';
import { helperProto } from '../helpers/protos.js';
import { isCanonical } from '../asm/canonical.js';
import { reject } from './codes.js';

/** Subprog is one function of the program: slots [start, end). */
export interface Subprog {
  start: number;
  end: number;
  /** subprograms it calls (or passes as callbacks) */
  callees: Set<number>;
  /** deepest stack byte it touches (positive, bytes below r10), filled in by the analysis */
  stackDepth: number;
  /** it calls bpf_tail_call */
  tailCall: boolean;
}

/** Cfg is what the analysis needs to know about the program's shape. */
export interface Cfg {
  halves: Set<number>;
  subprogs: Subprog[];
  /** subprogram index of every slot */
  subprogOf: Int32Array;
  /** 1 where states are saved and compared (jump targets, branch fall-throughs, after calls) */
  prune: Uint8Array;
  /** registers live before each slot (bit r for register r) */
  liveIn: Uint16Array;
}

const isCall = (i: Insn): boolean => i.code === (o.BPF_JMP | o.BPF_CALL);
const isPseudoCall = (i: Insn): boolean => isCall(i) && i.src === o.BPF_PSEUDO_CALL;
const isPseudoFunc = (i: Insn): boolean => isLddw(i) && i.src === o.BPF_PSEUDO_FUNC;
const isExit = (i: Insn): boolean => i.code === (o.BPF_JMP | o.BPF_EXIT);
const isJa = (i: Insn): boolean => (i.code === (o.BPF_JMP | o.BPF_JA) || i.code === (o.BPF_JMP32 | o.BPF_JA));
const isCondJump = (i: Insn): boolean => {
  const cls = o.BPF_CLASS(i.code);
  if (cls !== o.BPF_JMP && cls !== o.BPF_JMP32) return false;
  const op = o.BPF_OP(i.code);
  return op !== o.BPF_JA && op !== o.BPF_CALL && op !== o.BPF_EXIT;
};

/** structure runs `validate` and turns its errors into rejections. */
function structure(prog: Program): Set<number> {
  try {
    return validate(prog);
  } catch (e) {
    if (!isBpfError(e)) throw e;
    reject(e.code === 'E_BAD_JUMP' ? 'BAD_JUMP' : 'INVALID_INSN', e.detail, e.context.insn);
  }
}

function unsupported(prog: Program, halves: Set<number>): void {
  prog.forEach((i, pc) => {
    if (halves.has(pc)) return;
    if (!isCanonical(i)) reject('INVALID_INSN', `${CLASS_NAMES[o.BPF_CLASS(i.code)]} uses reserved fields`, pc);
    if (i.code === (o.BPF_JMP | o.BPF_CALL | o.BPF_X)) reject('UNSUPPORTED', 'callx is not supported', pc);
    if (isCall(i) && i.src === o.BPF_PSEUDO_KFUNC_CALL) reject('UNSUPPORTED', 'kernel function calls are not supported', pc);
    if (isCall(i) && (i.dst !== 0 || i.off !== 0)) reject('INVALID_INSN', 'BPF_CALL uses reserved fields', pc);
    if (isLddw(i) && i.src === o.BPF_PSEUDO_BTF_ID) reject('UNSUPPORTED', 'ldimm64 of a BTF id is not supported', pc);
    if (isPseudoFunc(i) && (prog[pc + 1].imm !== 0 || i.dst === o.R10)) reject('INVALID_INSN', 'invalid bpf func reference', pc);
    // checked on every lddw, reachable or not, like the kernel's resolve_pseudo_ldimm64
    const mapFd = i.src === o.BPF_PSEUDO_MAP_FD || i.src === o.BPF_PSEUDO_MAP_IDX;
    if (isLddw(i) && mapFd && prog[pc + 1].imm !== 0) reject('INVALID_INSN', 'unrecognized bpf_ld_imm64 insn', pc);
  });
}

/** BPF_FUNC_TAIL_CALL is bpf_tail_call's helper id. */
const BPF_FUNC_TAIL_CALL = 12;

const CLASS_NAMES = ['BPF_LD', 'BPF_LDX', 'BPF_ST', 'BPF_STX', 'BPF_ALU', 'BPF_JMP', 'BPF_JMP32', 'BPF_ALU64'];

/** funcTarget is the first slot of the subprogram a call or callback reference names. */
function funcTarget(i: Insn, pc: number): number | null {
  if (isPseudoCall(i) || isPseudoFunc(i)) return pc + 1 + i.imm;
  return null;
}

function findSubprogs(prog: Program, halves: Set<number>): { subprogs: Subprog[]; subprogOf: Int32Array } {
  const starts = new Set<number>([0]);
  prog.forEach((i, pc) => {
    if (halves.has(pc)) return;
    const t = funcTarget(i, pc);
    if (t === null) return;
    if (t < 0 || t >= prog.length || halves.has(t)) reject('BAD_JUMP', `function target ${t} out of range from insn ${pc}`, pc);
    starts.add(t);
  });
  const sorted = [...starts].sort((a, b) => a - b);
  const subprogs = sorted.map((start, k) => ({ start, end: sorted[k + 1] ?? prog.length, callees: new Set<number>(), stackDepth: 0, tailCall: false }));
  const subprogOf = new Int32Array(prog.length);
  subprogs.forEach((s, k) => subprogOf.fill(k, s.start, s.end));
  prog.forEach((i, pc) => {
    if (!halves.has(pc) && isCall(i) && i.src === 0 && i.imm === BPF_FUNC_TAIL_CALL) subprogs[subprogOf[pc]].tailCall = true;
  });
  return { subprogs, subprogOf };
}

function checkBoundaries(prog: Program, halves: Set<number>, subprogs: Subprog[], subprogOf: Int32Array): void {
  for (let pc = 0; pc < prog.length; pc++) {
    if (halves.has(pc) || isPseudoCall(prog[pc])) continue;
    const t = jumpTarget(prog[pc], pc);
    if (t !== null && subprogOf[t] !== subprogOf[pc]) reject('BAD_JUMP', `jump out of range from insn ${pc} to ${t}`, pc);
  }
  for (const s of subprogs) {
    const last = prog[s.end - 1];
    if (halves.has(s.end - 1) || !(isExit(last) || isJa(last))) reject('NO_EXIT', 'last insn is not an exit or jmp', s.end - 1);
  }
}

/** successors lists the slots control may reach next from `pc` inside the same frame (plus called functions). */
function successors(prog: Program, pc: number): number[] {
  const i = prog[pc];
  if (isExit(i)) return [];
  const next = pc + (isLddw(i) ? 2 : 1);
  if (isJa(i)) return [jumpTarget(i, pc) as number];
  if (isCondJump(i)) return [next, jumpTarget(i, pc) as number];
  const f = funcTarget(i, pc);
  return f === null ? [next] : [next, f];
}

function reachability(prog: Program, halves: Set<number>): void {
  const seen = new Uint8Array(prog.length);
  const todo = [0];
  seen[0] = 1;
  while (todo.length) {
    const pc = todo.pop() as number;
    for (const n of successors(prog, pc)) {
      if (n >= prog.length) reject('NO_EXIT', `jump out of range from insn ${pc} to ${n}`, pc);
      if (!seen[n]) {
        seen[n] = 1;
        todo.push(n);
      }
    }
  }
  for (let pc = 0; pc < prog.length; pc++) if (!seen[pc] && !halves.has(pc)) reject('UNREACHABLE', `unreachable insn ${pc}`, pc);
}

function callGraph(prog: Program, halves: Set<number>, subprogs: Subprog[], subprogOf: Int32Array): void {
  const site = new Map<string, number>();
  prog.forEach((i, pc) => {
    if (halves.has(pc)) return;
    const t = funcTarget(i, pc);
    if (t === null) return;
    subprogs[subprogOf[pc]].callees.add(subprogOf[t]);
    site.set(`${subprogOf[pc]}:${subprogOf[t]}`, pc);
  });
  const state = new Uint8Array(subprogs.length); // 0 new, 1 on stack, 2 done
  const depth = new Int32Array(subprogs.length);
  const visit = (k: number): number => {
    if (state[k] === 2) return depth[k];
    state[k] = 1;
    let d = 1;
    for (const c of subprogs[k].callees) {
      if (state[c] === 1) {
        const pc = site.get(`${k}:${c}`) as number;
        reject('RECURSIVE_CALL', `recursive call from insn ${pc} to ${subprogs[c].start}`, pc);
      }
      d = Math.max(d, 1 + visit(c));
    }
    state[k] = 2;
    depth[k] = d;
    return d;
  };
  const frames = visit(0);
  if (frames > o.MAX_CALL_FRAMES) reject('CALL_DEPTH', `the call stack of ${frames} frames is too deep !`);
}

function prunePoints(prog: Program, halves: Set<number>): Uint8Array {
  const prune = new Uint8Array(prog.length + 1);
  prog.forEach((i, pc) => {
    if (halves.has(pc)) return;
    if (isCall(i)) prune[pc + 1] = 1;
    if (isPseudoCall(i)) return;
    const t = jumpTarget(i, pc);
    if (t !== null) prune[t] = 1;
    if (isCondJump(i)) prune[pc + 1] = 1;
  });
  return prune.subarray(0, prog.length);
}

const ALL_ARGS = 0b111110;
const CALLER_SAVED = 0b111111;

/** useDef gives the registers an instruction reads and writes (bit masks). */
export function useDef(i: Insn): [number, number] {
  const b = (r: number): number => 1 << r;
  const cls = o.BPF_CLASS(i.code);
  const x = o.BPF_SRC(i.code) === o.BPF_X;
  switch (cls) {
    case o.BPF_ALU:
    case o.BPF_ALU64: {
      const op = o.BPF_OP(i.code);
      if (op === o.BPF_MOV) return [x ? b(i.src) : 0, b(i.dst)];
      return [b(i.dst) | (x ? b(i.src) : 0), b(i.dst)];
    }
    case o.BPF_LDX: return [b(i.src), b(i.dst)];
    case o.BPF_ST: return [b(i.dst), 0];
    case o.BPF_STX: {
      if (o.BPF_MODE(i.code) !== o.BPF_ATOMIC) return [b(i.dst) | b(i.src), 0];
      if (i.imm === o.BPF_CMPXCHG) return [b(i.dst) | b(i.src) | b(0), b(0)];
      return [b(i.dst) | b(i.src), i.imm & o.BPF_FETCH ? b(i.src) : 0];
    }
    case o.BPF_LD: {
      if (isLddw(i)) return [0, b(i.dst)];
      const ind = o.BPF_MODE(i.code) === o.BPF_IND;
      return [b(6) | (ind ? b(i.src) : 0), CALLER_SAVED];
    }
    default: {
      const op = o.BPF_OP(i.code);
      if (op === o.BPF_EXIT) return [b(0), 0];
      if (op === o.BPF_CALL) {
        if (i.src === o.BPF_PSEUDO_CALL) return [ALL_ARGS, CALLER_SAVED];
        const p = helperProto(i.imm);
        const uses = p ? ((1 << (p.args.length + 1)) - 2) : ALL_ARGS;
        return [uses, CALLER_SAVED];
      }
      if (op === o.BPF_JA) return [0, 0];
      return [b(i.dst) | (x ? b(i.src) : 0), 0];
    }
  }
}

function liveness(prog: Program, halves: Set<number>): Uint16Array {
  const n = prog.length;
  const live = new Uint16Array(n);
  const use = new Uint16Array(n), def = new Uint16Array(n);
  const succ: number[][] = new Array(n);
  const preds: number[][] = Array.from({ length: n }, () => []);
  const work: number[] = [];
  const queued = new Uint8Array(n);
  for (let pc = 0; pc < n; pc++) {
    if (halves.has(pc)) continue;
    [use[pc], def[pc]] = useDef(prog[pc]);
    // a called function's liveness does not flow back into the caller's registers
    succ[pc] = successors(prog, pc).filter((t) => t < n && !(funcTarget(prog[pc], pc) === t && t !== pc + 1));
    for (const t of succ[pc]) preds[t].push(pc);
    work.push(pc);
    queued[pc] = 1;
  }
  // a worklist (last instruction first) rather than sweeps: only what a change reaches is revisited
  while (work.length) {
    const pc = work.pop() as number;
    queued[pc] = 0;
    let out = 0;
    for (const t of succ[pc]) out |= live[t];
    const inn = (out & ~def[pc]) | use[pc];
    if (inn === live[pc]) continue;
    live[pc] = inn;
    for (const q of preds[pc]) {
      if (queued[q]) continue;
      queued[q] = 1;
      work.push(q);
    }
  }
  return live;
}

/** buildCfg runs the control-flow checks and returns the program's shape; throws Reject. */
export function buildCfg(prog: Program): Cfg {
  const halves = structure(prog);
  unsupported(prog, halves);
  const { subprogs, subprogOf } = findSubprogs(prog, halves);
  checkBoundaries(prog, halves, subprogs, subprogOf);
  reachability(prog, halves);
  callGraph(prog, halves, subprogs, subprogOf);
  const prune = prunePoints(prog, halves);
  for (const sp of subprogs) prune[sp.start] = 1; // callbacks re-enter here
  return { halves, subprogs, subprogOf, prune, liveIn: liveness(prog, halves) };
}

/** roundStack rounds a subprogram's stack depth as the kernel does for JIT-ed programs (16 bytes). */
export const roundStack = (d: number): number => Math.ceil(d / 16) * 16;

/** checkStackChains verifies that no call chain uses more than 512 bytes of stack in total. */
export function checkStackChains(cfg: Cfg): void {
  const memo = new Map<number, { total: number; frames: number }>();
  const chain = (k: number): { total: number; frames: number } => {
    const m = memo.get(k);
    if (m) return m;
    let best = { total: 0, frames: 0 };
    for (const c of cfg.subprogs[k].callees) {
      const r = chain(c);
      if (r.total > best.total) best = r;
    }
    const r = { total: best.total + roundStack(cfg.subprogs[k].stackDepth), frames: best.frames + 1 };
    memo.set(k, r);
    return r;
  };
  const r = chain(0);
  if (r.total > o.STACK_FRAME_SIZE) reject('STACK_TOO_LARGE', `combined stack size of ${r.frames} calls is ${r.total}. Too large`);
  checkTailCallStack(cfg);
}

/**
 * checkTailCallStack: a subprogram calling bpf_tail_call may not run under 256 bytes or more
 * of its callers' stack (the kernel's limit: a tail call keeps the callers' frames, and a chain
 * of tail calls through such subprograms must fit the kernel stack).
 */
function checkTailCallStack(cfg: Cfg): void {
  const above = new Array<number>(cfg.subprogs.length).fill(-1);
  const visit = (k: number, depth: number): void => {
    const s = cfg.subprogs[k];
    if (k !== 0 && s.tailCall && depth >= 256) {
      reject('STACK_TOO_LARGE', `tail_calls are not allowed when call stack of previous frames is ${depth} bytes. Too large`);
    }
    if (depth <= above[k]) return; // a deeper chain of callers was already checked below k
    above[k] = depth;
    for (const c of s.callees) visit(c, depth + roundStack(s.stackDepth));
  };
  visit(0, 0);
}
