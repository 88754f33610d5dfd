/**
 * The XDP context as programs see it: `struct xdp_md` (linux/bpf.h) in the address space.
 * Its `data`, `data_end` and `data_meta` fields are 32-bit, and tsbpf pointers are 32-bit
 * offsets, so the fields hold real pointers: unlike the kernel, loads from the context need
 * no rewriting.
 */
import { PERM_R, PERM_RW, type Region } from './memory.js';
import type { RunOptions, VmContext } from './engine.js';

/** XDP_MD_SIZE is sizeof(struct xdp_md). */
export const XDP_MD_SIZE = 24;

/** XDP action codes (enum xdp_action). */
export const XDP_ABORTED = 0, XDP_DROP = 1, XDP_PASS = 2, XDP_TX = 3, XDP_REDIRECT = 4;

/** XdpFrame describes a packet placed in memory for an XDP program. */
export interface XdpFrame {
  /** address of the first byte of packet data */
  data: number;
  /** packet length in bytes */
  len: number;
  /** bytes of metadata just before `data` (0 when none) */
  metaLen?: number;
  ingressIfindex?: number;
  rxQueueIndex?: number;
  egressIfindex?: number;
}

const mdAddrs = new WeakMap<VmContext, number>();

/** xdpMdAddress returns the address of this context's reusable xdp_md. */
export function xdpMdAddress(ctx: VmContext): number {
  let a = mdAddrs.get(ctx);
  if (a === undefined) {
    a = ctx.space.alloc(XDP_MD_SIZE, 8);
    mdAddrs.set(ctx, a);
  }
  return a;
}

/**
 * xdpRunOptions fills the context's xdp_md for `frame` and returns the RunOptions that run
 * an XDP program on it: r1 = &xdp_md, the context readable, the packet (and metadata) writable.
 */
export function xdpRunOptions(ctx: VmContext, frame: XdpFrame, budget?: number): RunOptions {
  const md = xdpMdAddress(ctx);
  const dv = ctx.space.dv;
  const meta = frame.data - (frame.metaLen ?? 0);
  dv.setUint32(md + 0, frame.data, true);
  dv.setUint32(md + 4, frame.data + frame.len, true);
  dv.setUint32(md + 8, meta, true);
  dv.setUint32(md + 12, frame.ingressIfindex ?? 1, true);
  dv.setUint32(md + 16, frame.rxQueueIndex ?? 0, true);
  dv.setUint32(md + 20, frame.egressIfindex ?? 0, true);
  const regions: Region[] = [
    { start: md, end: md + XDP_MD_SIZE, perm: PERM_R, name: 'ctx' },
    { start: meta, end: frame.data + frame.len, perm: PERM_RW, name: 'packet' },
  ];
  return { args: [BigInt(md)], regions, packet: { start: frame.data, len: frame.len }, budget };
}
