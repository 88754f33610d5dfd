/**
 * Executors run one generated XDP program on one packet and report what can be compared:
 * r0 (the kernel only reports its low 32 bits), the packet afterwards, or the fault. The
 * kernel executor uses BPF_PROG_LOAD + BPF_PROG_TEST_RUN; the engine executor runs the same
 * bytes in a tsbpf Engine over a fake xdp_md whose data/data_end hold our 32-bit addresses.
 */
import { encode, type Program } from '../../src/core/isa/instruction.js';
import { isBpfError } from '../../src/core/errors.js';
import { createVmContext, dataBuffer } from '../../src/core/vm/context.js';
import type { Engine, EngineOptions, VmContext } from '../../src/core/vm/engine.js';
import { xdpRunOptions } from '../../src/core/vm/xdp.js';
import { PERM_R, PERM_RW } from '../../src/core/vm/memory.js';
import type { RunOptions } from '../../src/core/vm/engine.js';
import {
  KernelError, closeFd, progLoad, progTestRun, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_XDP,
} from '../../src/node/kernel/bpf-syscall.js';
import { kernelAvailable, type KernelAvailability } from '../../src/node/kernel/available.js';

/** ExecOutcome is the observable result of one run. */
export interface ExecOutcome {
  /** r0 at exit (only the low `r0Bits` bits are meaningful) */
  r0: bigint;
  r0Bits: 32 | 64;
  dataOut: Uint8Array;
  /** a fault: error code and message (then r0/dataOut are meaningless) */
  error?: { code: string; message: string };
  /** the program was refused at load time (kernel verifier log, or engine validation message) */
  rejected?: string;
}

/** ProgKind selects the program type and context: XDP (struct xdp_md) or SCHED_CLS (struct __sk_buff). */
export type ProgKind = 'xdp' | 'skb';

/** Executor runs programs on packets. */
export interface Executor {
  readonly name: string;
  available(): KernelAvailability;
  run(prog: Program, packet: Uint8Array, kind?: ProgKind): ExecOutcome;
}

/** kernelExecutor runs programs as XDP in the Linux kernel. */
export function kernelExecutor(): Executor {
  return {
    name: 'kernel',
    available: kernelAvailable,
    run(prog, packet, kind = 'xdp') {
      let fd: number;
      const progType = kind === 'skb' ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP;
      try {
        fd = progLoad({ progType, insns: encode(prog), name: 'tsbpf_diff' }).fd;
      } catch (e) {
        if (e instanceof KernelError && e.code === 'E_VERIFIER') return rejected(e.log);
        throw e;
      }
      try {
        const r = progTestRun(fd, { dataIn: packet, dataOutSize: packet.length });
        return { r0: BigInt(r.retval), r0Bits: 32, dataOut: r.dataOut };
      } finally {
        closeFd(fd);
      }
    },
  };
}

function rejected(why: string): ExecOutcome {
  return { r0: 0n, r0Bits: 64, dataOut: new Uint8Array(0), rejected: why };
}

/** SKB_SIZE is sizeof(struct __sk_buff); data and data_end are the u32 fields at 76 and 80. */
const SKB_SIZE = 192;
const skbAddrs = new WeakMap<VmContext, number>();

/** skbRunOptions fills a fake __sk_buff (len, data, data_end) for the packet at `data`. */
function skbRunOptions(ctx: VmContext, data: number, len: number, budget: number): RunOptions {
  let skb = skbAddrs.get(ctx);
  if (skb === undefined) skbAddrs.set(ctx, (skb = ctx.space.alloc(SKB_SIZE, 8)));
  const dv = ctx.space.dv;
  dv.setUint32(skb, len, true);
  dv.setUint32(skb + 76, data, true);
  dv.setUint32(skb + 80, data + len, true);
  return {
    args: [BigInt(skb)],
    regions: [{ start: skb, end: skb + SKB_SIZE, perm: PERM_R, name: 'ctx' }, { start: data, end: data + len, perm: PERM_RW, name: 'packet' }],
    packet: { start: data, len },
    budget,
  };
}

/** engineExecutor runs programs in a tsbpf engine (checked mode by default) with one reused context. */
export function engineExecutor(engine: Engine, opts: EngineOptions & { budget?: number } = {}): Executor {
  let ctx: VmContext | null = null;
  return {
    name: engine.name,
    available: () => ({ ok: true, reason: `${engine.name} engine` }),
    run(prog, packet, kind = 'xdp') {
      ctx ??= createVmContext();
      let loaded;
      try {
        loaded = engine.load(prog, ctx, { checked: opts.checked ?? true });
      } catch (e) {
        if (isBpfError(e)) return rejected(`${e.code}: ${e.message}`);
        throw e;
      }
      const addr = dataBuffer(ctx, packet.length);
      ctx.space.write(addr, packet);
      try {
        const budget = opts.budget ?? 1_000_000;
        const runOpts = kind === 'skb' ? skbRunOptions(ctx, addr, packet.length, budget)
          : xdpRunOptions(ctx, { data: addr, len: packet.length }, budget);
        const res = loaded.run(runOpts);
        return { r0: res.r0, r0Bits: 64, dataOut: ctx.space.read(addr, packet.length) };
      } catch (e) {
        const error = isBpfError(e) ? { code: e.code, message: e.message } : { code: 'CRASH', message: String(e) };
        return { r0: 0n, r0Bits: 64, dataOut: ctx.space.read(addr, packet.length), error };
      }
    },
  };
}
