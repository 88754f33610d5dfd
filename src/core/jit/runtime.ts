/**
 * The JavaScript side of JIT-compiled programs: the per-context control block (extra regions
 * and packet of the current run), the imports a module instance needs (fault, helpers,
 * callx, globals), and turning faults and traps into BpfErrors the way the interpreter does.
 */
import { BpfError, isBpfError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { HelperEnv } from '../helpers/registry.js';
import { helperName } from '../helpers/registry.js';
import type { VmContext } from '../vm/engine.js';
import { type AddressSpace, PERM_R, PERM_W, STACK_SIZE, type Region } from '../vm/memory.js';
import { CB_FAST, CB_NREGIONS, CB_PKT_LEN, CB_PKT_START, CB_REGIONS, CB_SIZE, FAULT_CODES, F_CALL_DEPTH,
  F_KFUNC, F_MEM, F_NO_EXIT, F_UNINIT, REGION_ENTRY } from './layout.js';

/** RunFrame is the JS-visible state of one active run (nested runs stack up). */
export interface RunFrame {
  ctx: VmContext;
  regions: readonly Region[];
  pktStart: number;
  pktLen: number;
  /** call instruction of the helper running now (for HelperEnv.check errors) */
  helperInsn: number;
}

/**
 * Control blocks live in the never-allocated guard area at the bottom of the address space
 * (CB_AREA.. 64 KiB), one slot per CPU index, so the JIT never changes the addresses the
 * allocator hands out: interpreter and JIT runs of the same context see the same layout.
 */
const CB_AREA = 0x8000;
const CB_SLOT = 0x800;
const CB_SLOTS = 16;
const INLINE_REGIONS = (CB_SLOT - CB_SIZE) / REGION_ENTRY;

/** ContextRuntime owns the control block of one (address space, cpu) and its stack of active runs. */
export class ContextRuntime {
  readonly cb: number;
  private table: number;
  private capacity: number;
  readonly active: RunFrame[] = [];

  constructor(readonly space: AddressSpace, cpu: number) {
    if (cpu >= 0 && cpu < CB_SLOTS) {
      this.cb = CB_AREA + cpu * CB_SLOT;
      this.table = this.cb + CB_SIZE;
      this.capacity = INLINE_REGIONS;
    } else {
      this.cb = space.alloc(CB_SIZE, 16);
      this.table = 0;
      this.capacity = 0;
    }
  }

  /** enter makes `f` the current run and writes its regions and packet to the control block. */
  enter(f: RunFrame): void {
    this.active.push(f);
    this.write(f);
  }

  /** leave ends the current run, restoring the control block of an outer (nested-into) run. */
  leave(): void {
    const a = this.active;
    a.pop();
    if (a.length !== 0) this.write(a[a.length - 1]);
  }

  // Hot: runs once per program run, so it is a plain loop without allocation.
  private write(f: RunFrame): void {
    const regions = f.regions;
    const n = regions.length;
    if (n > this.capacity) {
      this.capacity = Math.max(64, n * 2);
      this.table = this.space.alloc(this.capacity * REGION_ENTRY, 16);
    }
    const dv = this.space.dv;
    const cb = this.cb;
    dv.setInt32(cb + CB_NREGIONS, n, true);
    dv.setUint32(cb + CB_PKT_START, f.pktStart >>> 0, true);
    dv.setInt32(cb + CB_PKT_LEN, f.pktLen, true);
    dv.setUint32(cb + CB_REGIONS, this.table, true);
    let r1 = -1, r2 = -1, r3 = -1;
    const sb = f.ctx.stack.base;
    for (let k = 0, e = this.table; k < n; k++, e += REGION_ENTRY) {
      const r = regions[k];
      const perm = r.perm >>> 0;
      const start = lowBound(r.start), end = highBound(r.end);
      // a region that can hold nothing (also NaN bounds) is written as the empty [2^32-1, 0)
      dv.setUint32(e, end > start ? start : 0xffffffff, true);
      dv.setUint32(e + 4, end > start ? end : 0, true);
      dv.setUint32(e + 8, perm, true);
      // fast slots are tested before the stack, so they must not overlap it
      if (end > start && (end <= sb || start >= sb + STACK_SIZE)) {
        if (r1 < 0 && (perm & 1) !== 0) r1 = k;
        if (r2 < 0 && (perm & 2) !== 0) r2 = k;
        if (r3 < 0 && (perm & 3) === 3) r3 = k;
      }
    }
    this.setFast(dv, 1, r1 < 0 ? undefined : regions[r1]);
    this.setFast(dv, 2, r2 < 0 ? undefined : regions[r2]);
    this.setFast(dv, 3, r3 < 0 ? undefined : regions[r3]);
  }

  private setFast(dv: DataView, perm: number, r: Region | undefined): void {
    const start = r ? lowBound(r.start) : 0;
    const end = r ? highBound(r.end) : 0;
    dv.setUint32(this.cb + CB_FAST(perm), start, true);
    dv.setUint32(this.cb + CB_FAST(perm) + 4, end > start ? end - start : 0, true);
  }
}

/**
 * lowBound / highBound turn a region's start / end into the u32 bounds the generated code
 * compares integer addresses with: a >= start iff a >= ceil(start); a + n <= end iff
 * a + n <= floor(end). NaN bounds admit nothing.
 */
function lowBound(x: number): number {
  if (x >>> 0 === x) return x;
  return x > 0 ? Math.min(Math.ceil(x), 0xffffffff) : x <= 0 ? 0 : 0xffffffff;
}

function highBound(x: number): number {
  if (x >>> 0 === x) return x;
  return x > 0 ? Math.min(Math.floor(x), 0xffffffff) : 0;
}

const runtimes = new WeakMap<AddressSpace, Map<number, ContextRuntime>>();

/** contextRuntime returns (creating once) the runtime of a context's address space and CPU. */
export function contextRuntime(ctx: VmContext): ContextRuntime {
  let m = runtimes.get(ctx.space);
  if (!m) {
    m = new Map();
    runtimes.set(ctx.space, m);
  }
  let rt = m.get(ctx.cpu);
  if (!rt) {
    rt = new ContextRuntime(ctx.space, ctx.cpu);
    m.set(ctx.cpu, rt);
  }
  return rt;
}

/** LDABS_EXIT is thrown (through Wasm) when LD_ABS/LD_IND misses in a subframe: r0 = 0. */
export const LDABS_EXIT = { ldabsExit: true };

/** current returns the innermost active run of the context. */
function current(rt: ContextRuntime): RunFrame {
  return rt.active[rt.active.length - 1];
}

/** stackAccess applies the stack rules of checked mode to [a, a+size) (true when on the stack). */
function stackAccess(ctx: VmContext, a: number, size: number, write: boolean, insn: number): boolean {
  const st = ctx.stack;
  if (a < st.base || a + size > st.base + STACK_SIZE) return false;
  const u8 = ctx.space.u8;
  const s = a - st.base + st.shadow;
  if (write) u8.fill(1, s, s + size);
  else {
    for (let k = 0; k < size; k++) if (u8[s + k] !== 1) throw uninit(insn, a + k);
  }
  return true;
}

function uninit(insn: number, address: number): BpfError {
  return new BpfError('E_UNINIT_STACK', 'read of uninitialised stack', { insn, address });
}

/** helperEnv builds the HelperEnv of a loaded program (check applies to its current run). */
export function helperEnv(rt: ContextRuntime, ctx: VmContext, checked: boolean): HelperEnv {
  return {
    space: ctx.space,
    cpu: ctx.cpu,
    check(addr: number, len: number, write: boolean): void {
      if (!checked || len <= 0) return;
      const f = current(rt);
      const perm = write ? PERM_W : PERM_R;
      if (Number.isInteger(addr) && addr >= 0 && addr < 0x100000000) {
        if (stackAccess(ctx, addr, len, write, f.helperInsn)) return;
        if (f.regions.some((r) => addr >= r.start && addr + len <= r.end && (r.perm & perm) === perm)) return;
      }
      throw new BpfError('E_MEM', `invalid memory access: ${write ? 'write' : 'read'} of ${len} bytes`, { insn: f.helperInsn, address: addr });
    },
  };
}

/** faultError builds the BpfError for a `fault` call from generated code. */
export function faultError(rt: ContextRuntime, prog: Program, code: number, insn: number,
  addr: bigint, size: number): BpfError {
  const address = Number(BigInt.asUintN(64, addr));
  switch (code) {
    case F_MEM: {
      const perm = size >> 8;
      const kind = perm === PERM_W ? 'write' : perm === PERM_R ? 'read' : 'read-modify-write';
      return new BpfError(FAULT_CODES[code], `invalid memory access: ${kind} of ${size & 0xff} bytes`, { insn, address });
    }
    case F_UNINIT: {
      const st = current(rt).ctx.stack, u8 = rt.space.u8;
      let k = 0;
      while (k < size - 1 && u8[address - st.base + st.shadow + k] === 1) k++;
      return uninit(insn, address + k);
    }
    case F_NO_EXIT:
      return new BpfError('E_NO_EXIT', 'execution ran past the last instruction', { insn });
    case F_CALL_DEPTH:
      return new BpfError('E_CALL_DEPTH', 'call depth exceeds 8 frames', { insn });
    case F_KFUNC:
      return new BpfError('E_HELPER', `kfunc calls are not supported (btf id ${Number(BigInt.asIntN(32, addr))})`, { insn });
    default:
      return new BpfError('EINVAL', `internal: unknown fault ${code} (program of ${prog.length} slots)`, { insn });
  }
}

/** callHelperJs runs helper `id` for generated code with the interpreter's error rules. */
export function callHelperJs(rt: ContextRuntime, env: HelperEnv, id: number, preResolved: ((...a: never[]) => unknown) | undefined,
  args: bigint[], insn: number): bigint {
  const f = (preResolved ?? current(rt).ctx.helpers.get(id)?.fn) as ((...a: unknown[]) => unknown) | undefined;
  if (!f) throw new BpfError('E_HELPER', `unknown helper ${id}`, { insn });
  const frame = current(rt);
  const saved = frame.helperInsn;
  frame.helperInsn = insn;
  let res: unknown;
  try {
    res = f(BigInt.asUintN(64, args[0]), BigInt.asUintN(64, args[1]), BigInt.asUintN(64, args[2]),
      BigInt.asUintN(64, args[3]), BigInt.asUintN(64, args[4]), env);
  } catch (e) {
    if (e === LDABS_EXIT) throw e; // an LD_ABS miss in a callback ends the whole run
    if (isBpfError(e)) throw e.withContext({ insn });
    const msg = e instanceof Error ? e.message : String(e);
    throw new BpfError('E_HELPER', `helper ${helperName(id)} failed: ${msg}`, { insn }, { cause: e });
  } finally {
    frame.helperInsn = saved;
  }
  if (typeof res === 'bigint') return res;
  if (typeof res === 'number' && Number.isFinite(res)) return BigInt(Math.trunc(res));
  throw new BpfError('E_HELPER', `helper ${helperName(id)} returned ${typeof res}, not a bigint`, { insn });
}

/** callxId validates a callx register value as a helper ID (E_ABI otherwise). */
export function callxId(v: bigint, insn: number): number {
  const u = BigInt.asUintN(64, v);
  if (u >= 0x80000000n) throw new BpfError('E_ABI', `callx target 0x${u.toString(16)} is not a helper id`, { insn });
  return Number(u);
}
