/**
 * Creating execution contexts, and running "raw" programs the way the CLI and the
 * conformance plugin do: r1 = pointer to a data buffer, r2 = its length.
 */
import type { Program } from '../isa/instruction.js';
import { HelperRegistry } from '../helpers/registry.js';
import { AddressSpace, ExecStack, PERM_RW } from './memory.js';
import type { Engine, EngineOptions, RunResult, VmContext } from './engine.js';

/** createVmContext makes a context with a fresh stack in `space` (a new space by default). */
export function createVmContext(opts: { space?: AddressSpace; helpers?: HelperRegistry; cpu?: number } = {}): VmContext {
  const space = opts.space ?? new AddressSpace();
  return { space, helpers: opts.helpers ?? new HelperRegistry(), stack: new ExecStack(space), cpu: opts.cpu ?? 0 };
}

/** RawRunResult adds the data buffer as it was after the run. */
export interface RawRunResult extends RunResult {
  dataOut: Uint8Array;
}

const scratch = new WeakMap<VmContext, { addr: number; cap: number }>();

/**
 * dataBuffer returns the address of a reusable buffer of at least `len` bytes in the context's
 * address space (the address never is 0, even for len 0).
 */
export function dataBuffer(ctx: VmContext, len: number): number {
  let s = scratch.get(ctx);
  if (!s || s.cap < len) {
    const cap = Math.max(len, 4096);
    s = { addr: ctx.space.alloc(cap, 4096), cap };
    scratch.set(ctx, s);
  }
  return s.addr;
}

/**
 * runRaw loads `prog` with `engine` and runs it once over a copy of `data`:
 * r1 = address of the data, r2 = its length; the data is also the packet for LD_ABS/LD_IND.
 */
export function runRaw(engine: Engine, prog: Program, data: Uint8Array, ctx: VmContext = createVmContext(),
  opts: EngineOptions & { budget?: number } = {}): RawRunResult {
  const loaded = engine.load(prog, ctx, opts);
  const addr = dataBuffer(ctx, data.length);
  ctx.space.write(addr, data);
  const res = loaded.run({
    args: [BigInt(addr), BigInt(data.length)],
    regions: [{ start: addr, end: addr + data.length, perm: PERM_RW, name: 'data' }],
    packet: { start: addr, len: data.length },
    budget: opts.budget,
  });
  return { ...res, dataOut: ctx.space.read(addr, data.length) };
}
