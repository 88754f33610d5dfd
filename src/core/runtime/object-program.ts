/**
 * A loaded program of an object, runnable the way BPF_PROG_TEST_RUN runs it: the input is
 * placed in the context its program type expects (xdp_md for XDP; __sk_buff for socket
 * filters, tc and cgroup_skb; the input itself as the context for tracing types; r1 = data,
 * r2 = length for programs of no known type), and the output data comes back.
 */
import type { ProgramSpec } from '../elf/spec.js';
import type { Insn } from '../isa/instruction.js';
import type { LoadedProgram, RunOptions, VmContext } from '../vm/engine.js';
import { dataBuffer } from '../vm/context.js';
import { PERM_RW } from '../vm/memory.js';
import { xdpMdAddress, xdpRunOptions } from '../vm/xdp.js';
import { ETH_HLEN, skbRunOptions } from '../vm/skb.js';
import type { Runtime } from './runtime.js';

/** ProgramRunInput is one test run's input. */
export interface ProgramRunInput {
  /** packet (XDP, skb types) or context bytes (tracing types) or data (raw) */
  data?: Uint8Array;
  /** runs (the result is the last one's) */
  repeat?: number;
  budget?: number;
}

/** ProgramRunResult is what a run gives back, as BPF_PROG_TEST_RUN reports it. */
export interface ProgramRunResult {
  /** r0 (unsigned 64-bit; the kernel reports its low 32 bits) */
  retval: bigint;
  dataOut: Uint8Array;
  steps: number;
  /** average nanoseconds per run */
  durationNs: number;
}

/** RunContextKind is how a program type receives its input. */
export type RunContextKind = 'xdp' | 'skb_l2' | 'skb' | 'ctx' | 'raw';

const SKB_L2 = new Set(['sched_cls', 'sched_act', 'lwt_xmit']);
const SKB_L3 = new Set(['socket_filter', 'cgroup_skb', 'lwt_in', 'lwt_out', 'lwt_seg6local', 'sk_skb']);

/** runContextKind returns the context kind of a program type. */
export function runContextKind(type: string): RunContextKind {
  if (type === 'xdp') return 'xdp';
  if (SKB_L2.has(type)) return 'skb_l2';
  if (SKB_L3.has(type)) return 'skb';
  return type === 'unspec' || type === 'raw' ? 'raw' : 'ctx';
}

/** XDP_HEADROOM is the space before an XDP frame (XDP_PACKET_HEADROOM). */
export const XDP_HEADROOM = 256;

/** BpfProgram is a program of a loaded object. */
export class BpfProgram {
  readonly name: string;
  readonly type: string;
  readonly sectionName: string;
  /** fd is the program's fd in the runtime (what prog arrays store), -1 when it has none */
  readonly fd: number;

  /**
   * checked: whether the program runs with per-access checks (false: trusted mode, for
   * programs the verifier accepted; see loadObject)
   */
  readonly checked: boolean;

  constructor(readonly rt: Runtime, readonly spec: ProgramSpec, readonly insns: Insn[], readonly loaded: LoadedProgram, readonly cpu = 0, checked = true) {
    this.checked = checked;
    this.name = spec.name;
    this.type = spec.type;
    this.sectionName = spec.sectionName;
    this.fd = (loaded as { fd?: number }).fd ?? -1;
  }

  /** run runs the program on `input` like BPF_PROG_TEST_RUN. */
  run(input: ProgramRunInput = {}): ProgramRunResult {
    const ctx = this.rt.context(this.cpu);
    const data = input.data ?? new Uint8Array(0);
    const { opts, out } = prepare(ctx, runContextKind(this.type), data, input.budget);
    const repeat = Math.max(1, input.repeat ?? 1);
    let r = { r0: 0n, steps: 0 };
    const t0 = globalThis.performance.now();
    const inWasm = (this.loaded as { repeat?: (n: number, o: RunOptions) => { r0: bigint; steps: number } }).repeat;
    // the JIT repeats inside WebAssembly like the kernel's test run: the input is not restored between runs
    if (repeat > 1 && inWasm) r = inWasm.call(this.loaded, repeat, opts);
    else {
      for (let i = 0; i < repeat; i++) {
        if (i > 0) ctx.space.write(out.start, data); // every run sees the same input
        r = this.loaded.run(opts);
      }
    }
    const durationNs = Math.round(((globalThis.performance.now() - t0) * 1e6) / repeat);
    return { retval: r.r0, steps: r.steps, durationNs, dataOut: out.read() };
  }
}

interface Prepared { opts: RunOptions; out: { start: number; read(): Uint8Array } }

function prepare(ctx: VmContext, kind: RunContextKind, data: Uint8Array, budget?: number): Prepared {
  const head = kind === 'xdp' ? XDP_HEADROOM : 0;
  const start = dataBuffer(ctx, head + data.length) + head;
  ctx.space.write(start, data);
  const fixed = { start, read: () => ctx.space.read(start, data.length) };
  switch (kind) {
    case 'xdp': {
      const opts = xdpRunOptions(ctx, { data: start, len: data.length }, budget);
      const md = xdpMdAddress(ctx);
      // the program may move data/data_end (adjust_head/tail): the output is what they frame
      const read = (): Uint8Array => {
        const a = ctx.space.dv.getUint32(md, true), b = ctx.space.dv.getUint32(md + 4, true);
        return ctx.space.read(a, Math.max(0, b - a));
      };
      return { opts, out: { start, read } };
    }
    case 'skb_l2':
      return { opts: skbRunOptions(ctx, { data: start, len: data.length, l2: true, tc: true }, budget), out: fixed };
    case 'skb': {
      // the kernel hands non-L2 programs the frame after the Ethernet header and zeroes that header in data_out
      const read = (): Uint8Array => {
        const out = ctx.space.read(start, data.length);
        out.fill(0, 0, Math.min(ETH_HLEN, out.length));
        return out;
      };
      return { opts: skbRunOptions(ctx, { data: start, len: data.length, l2: false }, budget), out: { start, read } };
    }
    case 'ctx':
      return { opts: { args: [BigInt(start)], regions: [{ start, end: start + data.length, perm: PERM_RW, name: 'ctx' }], budget }, out: fixed };
    default:
      return {
        opts: { args: [BigInt(start), BigInt(data.length)], regions: [{ start, end: start + data.length, perm: PERM_RW, name: 'data' }], packet: { start, len: data.length }, budget },
        out: fixed,
      };
  }
}
