/**
 * Inlined array-map lookups (the JIT's counterpart of the kernel's map_gen_lookup): a
 * `call bpf_map_lookup_elem` whose r1 is provably one array or per-CPU array map and whose r2
 * is provably r10 + off within the frame becomes a bounds check and an address computation in
 * the generated code instead of a call into the map runtime.
 *
 * The JIT knows nothing about maps: a helper's Wasm factory can be registered here with a
 * describer (`registerArrayInline`) that tells, at load time, whether a constant r1 names an
 * array map of the context's runtime and where the running CPU's values are. The registers
 * are known from a small constant propagation over the CFG (no verifier needed): lddw and
 * mov-immediate constants, r10 + constant, copies; meet of different values is unknown.
 */
import type { Program } from '../isa/instruction.js';
import { lddwValue } from '../isa/instruction.js';
import * as o from '../isa/opcodes.js';
import type { WasmHelperFactory } from '../helpers/registry.js';
import type { VmContext } from '../vm/engine.js';
import { OFF_END, buildCfg } from './cfg.js';
import { entryPoints } from './compile.js';

/** InlineArrayMap describes an array map whose lookups may be inlined (all u32, fixed while the map lives). */
export interface InlineArrayMap {
  /** address of element 0's value slot for the program's CPU */
  base: number;
  maxEntries: number;
  /** bytes from one element's value storage to the next */
  estride: number;
}

/** InlineLookup is one inlined call site: the map, and the key at r10 + keyOff. */
export interface InlineLookup extends InlineArrayMap {
  keyOff: number;
}

/**
 * ArrayMapDescriber tells whether `r1` is an array map the helper would accept for `ctx`
 * (and return values of); undefined when the call must stay a call.
 */
export type ArrayMapDescriber = (ctx: VmContext, r1: bigint) => InlineArrayMap | undefined;

/** BPF_FUNC_map_lookup_elem */
const MAP_LOOKUP = 1;

const describers = new WeakMap<WasmHelperFactory, ArrayMapDescriber>();

/**
 * registerArrayInline declares that lookups through a helper whose HelperImpl.wasm is
 * `factory` may be inlined for the maps `describe` accepts. The describer must only accept
 * maps for which the helper returns exactly `base + key * estride` (key < maxEntries) or 0.
 */
export function registerArrayInline(factory: WasmHelperFactory, describe: ArrayMapDescriber): void {
  describers.set(factory, describe);
}

/**
 * Known register values: a bigint is a constant, a number is r10 + that offset, null is
 * unknown. r10 itself is always offset 0 (it is read-only).
 */
type Val = bigint | number | null;

function unknownState(): Val[] {
  const st: Val[] = new Array(11).fill(null);
  st[10] = 0;
  return st;
}

function clobber(st: Val[], from: number, to: number): void {
  for (let r = from; r <= to; r++) st[r] = null;
}

/** alu64 applies an ALU64 instruction: mov copies, add/sub of an immediate move an r10 offset. */
function alu64(st: Val[], i: Program[number]): void {
  const op = o.BPF_OP(i.code);
  const isK = o.BPF_SRC(i.code) === o.BPF_K;
  const d = st[i.dst];
  if (op === o.BPF_MOV && i.off === 0) st[i.dst] = isK ? BigInt.asUintN(64, BigInt(i.imm)) : st[i.src];
  else if ((op === o.BPF_ADD || op === o.BPF_SUB) && isK && typeof d === 'number') st[i.dst] = op === o.BPF_ADD ? d + i.imm : d - i.imm;
  else st[i.dst] = null;
}

/** step applies the register effects of the instruction at `pc` to `st`. */
function step(st: Val[], prog: Program, pc: number): void {
  const i = prog[pc];
  switch (o.BPF_CLASS(i.code)) {
    case o.BPF_ALU64:
      return alu64(st, i);
    case o.BPF_ALU:
    case o.BPF_LDX:
      st[i.dst] = null;
      return;
    case o.BPF_LD:
      if (o.BPF_MODE(i.code) === o.BPF_IMM) st[i.dst] = lddwValue(prog, pc);
      else clobber(st, 0, 5);
      return;
    case o.BPF_STX:
      if (o.BPF_MODE(i.code) !== o.BPF_ATOMIC) return;
      if (i.imm === o.BPF_CMPXCHG) st[0] = null;
      else if (i.imm & o.BPF_FETCH) st[i.src] = null;
      return;
    case o.BPF_JMP:
      // helpers, bpf-to-bpf calls and callx leave r6..r9 (and r10) as they were
      if (o.BPF_OP(i.code) === o.BPF_CALL) clobber(st, 0, 5);
      return;
    default:
      return;
  }
}

function meet(a: Val[], b: Val[]): boolean {
  let changed = false;
  for (let r = 0; r < 11; r++) {
    if (a[r] !== null && a[r] !== b[r]) {
      a[r] = null;
      changed = true;
    }
  }
  return changed;
}

function isLookupCall(prog: Program, pc: number): boolean {
  const i = prog[pc];
  return i.code === (o.BPF_JMP | o.BPF_CALL) && i.src === 0 && i.imm === MAP_LOOKUP;
}

/**
 * knownAtLookups runs the propagation and returns, for every reachable lookup call site, the
 * known values of r1 and r2 just before it.
 */
export function knownAtLookups(prog: Program, halves: Set<number>): Map<number, [Val, Val]> {
  const out = new Map<number, [Val, Val]>();
  if (!prog.some((_, pc) => !halves.has(pc) && isLookupCall(prog, pc))) return out;
  const entries = entryPoints(prog, halves);
  const cfg = buildCfg(prog, halves, entries);
  const ins: Array<Val[] | undefined> = new Array(cfg.blocks.length);
  const dirty = new Uint8Array(cfg.blocks.length);
  for (const e of entries) {
    ins[cfg.blockOf[e]] = unknownState();
    dirty[cfg.blockOf[e]] = 1;
  }
  // passes in slot order: forward edges are settled within a pass, only back edges need another
  for (let again = true; again;) {
    again = false;
    for (const b of cfg.blocks) {
      if (!dirty[b.id]) continue;
      dirty[b.id] = 0;
      const st = ins[b.id]!.slice();
      for (let pc = b.start; pc < b.end; pc++) {
        if (halves.has(pc)) continue;
        if (isLookupCall(prog, pc)) out.set(pc, [st[1], st[2]]);
        step(st, prog, pc);
      }
      for (const s of b.succs) {
        if (s === OFF_END) continue;
        const cur = ins[s];
        if (cur === undefined) ins[s] = st.slice();
        else if (!meet(cur, st)) continue;
        dirty[s] = 1;
        if (cfg.blocks[s].start <= b.start) again = true;
      }
    }
  }
  return out;
}

/**
 * inlineSites lists the lookup calls of `prog` that may be inlined for `ctx`: the context's
 * helper 1 has a registered describer, r1 is a constant it accepts and r2 is r10 + off with
 * the 4-byte key inside the frame.
 */
export function inlineSites(prog: Program, halves: Set<number>, ctx: VmContext): Map<number, InlineLookup> {
  const sites = new Map<number, InlineLookup>();
  const factory = ctx.helpers.get(MAP_LOOKUP)?.wasm;
  const describe = factory && describers.get(factory);
  if (!describe) return sites;
  for (const [pc, [r1, r2]] of knownAtLookups(prog, halves)) {
    if (typeof r1 !== 'bigint' || typeof r2 !== 'number' || r2 < -o.STACK_FRAME_SIZE || r2 > -4) continue;
    const m = describe(ctx, r1);
    if (m) sites.set(pc, { ...m, keyOff: r2 });
  }
  return sites;
}

/** inlineKey is the part of the compile cache key that inlined sites add (their constants are in the code; no ':'). */
export function inlineKey(sites: Map<number, InlineLookup>): string {
  let s = '';
  for (const [pc, x] of sites) s += `/${pc},${x.base},${x.maxEntries},${x.estride},${x.keyOff}`;
  return s;
}
