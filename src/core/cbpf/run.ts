/**
 * Running converted classic programs on an eBPF engine: packet bytes and the meta block are
 * copied into the context's address space and the program gets the calling convention
 * convertCbpf documents (r1 packet, r2 captured length, r3 wire length, r4 meta or 0).
 */
import type { Program } from '../isa/instruction.js';
import type { Engine, EngineOptions, LoadedProgram, VmContext } from '../vm/engine.js';
import { createVmContext } from '../vm/context.js';
import { PERM_R, PERM_RW, type Region } from '../vm/memory.js';
import { encodeMeta, META_SIZE } from './opcodes.js';
import type { CbpfRunOptions } from './interp.js';

/** ConvertedFilter runs one converted program over packets. */
export interface ConvertedFilter {
  readonly loaded: LoadedProgram;
  /** run returns the filter's verdict (unsigned 32-bit; 0 = reject). */
  run(data: Uint8Array, opts?: CbpfRunOptions): number;
}

/** loadConverted loads a converted program (convertCbpf output) with `engine`. */
export function loadConverted(engine: Engine, prog: Program, ctx: VmContext = createVmContext(),
  opts: EngineOptions = {}): ConvertedFilter {
  const loaded = engine.load(prog, ctx, opts);
  const metaAddr = ctx.space.alloc(META_SIZE, 8);
  let cap = 65536;
  let addr = ctx.space.alloc(cap, 4096);
  const metaRegion: Region = { start: metaAddr, end: metaAddr + META_SIZE, perm: PERM_R, name: 'cbpf meta' };
  return {
    loaded,
    run(data, ro = {}) {
      if (data.length > cap) {
        cap = data.length;
        addr = ctx.space.alloc(cap, 4096);
      }
      ctx.space.u8.set(data, addr);
      const wire = Math.max(ro.wireLen ?? data.length, data.length);
      if (ro.meta) ctx.space.write(metaAddr, encodeMeta(ro.meta));
      const regions: Region[] = [{ start: addr, end: addr + data.length, perm: PERM_RW, name: 'packet' }];
      if (ro.meta) regions.push(metaRegion);
      const res = loaded.run({
        args: [BigInt(addr), BigInt(data.length), BigInt(wire), ro.meta ? BigInt(metaAddr) : 0n],
        regions,
        packet: { start: addr, len: data.length },
      });
      return Number(res.r0 & 0xffffffffn);
    },
  };
}
