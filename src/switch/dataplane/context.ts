/**
 * The per-frame program context of the switch: one reusable xdp_md or vale_bpf_md in the
 * address space, and one reusable RunOptions whose packet region is moved from frame to frame
 * (no allocation per packet).
 */
import { PERM_R, PERM_RW, type AddressSpace, type Region } from '../../core/vm/memory.js';
import type { RunOptions } from '../../core/vm/engine.js';
import { XDP_MD_SIZE } from '../../core/vm/xdp.js';
import { PROG_VALE, VALE_MD_DATA_END, VALE_MD_INGRESS_PORT, VALE_MD_RING_NR, VALE_MD_SIZE } from './layout.js';

/** FrameContext holds the context struct and the run options of one switch. */
export class FrameContext {
  readonly md: number;
  readonly opts: RunOptions;
  /** pkt is the packet region ([data_meta, data_end), read-write); the adjust helpers move it */
  readonly pkt: Region;

  constructor(space: AddressSpace, budget: number) {
    const size = Math.max(XDP_MD_SIZE, VALE_MD_SIZE);
    this.md = space.alloc(size, 8);
    this.pkt = { start: 0, end: 0, perm: PERM_RW, name: 'packet' };
    const ctxRegion: Region = { start: this.md, end: this.md + size, perm: PERM_R, name: 'ctx' };
    this.opts = { args: [BigInt(this.md)], regions: [ctxRegion, this.pkt], packet: { start: 0, len: 0 }, budget };
  }

  /** setExtraRegions makes `extra` (map value storage...) accessible after the context and the packet. */
  setExtraRegions(extra: readonly Region[]): void {
    this.opts.regions = [this.opts.regions![0], this.pkt, ...extra];
  }

  /**
   * set fills the context for a frame at [data, data+len) received on port `port` (ifindex
   * `ifindex`), for program kind `kind`, and points the packet region at it.
   */
  set(u32: Uint32Array, kind: number, data: number, len: number, port: number, ifindex: number): void {
    const m = this.md >>> 2;
    const end = data + len;
    if (kind === PROG_VALE) {
      u32[m] = data;
      u32[m + 1] = 0;
      u32[m + (VALE_MD_DATA_END >> 2)] = end;
      u32[m + (VALE_MD_DATA_END >> 2) + 1] = 0;
      u32[m + (VALE_MD_INGRESS_PORT >> 2)] = port;
      u32[m + (VALE_MD_RING_NR >> 2)] = 0;
    } else {
      u32[m] = data; // data
      u32[m + 1] = end; // data_end
      u32[m + 2] = data; // data_meta: no metadata yet
      u32[m + 3] = ifindex; // ingress_ifindex
      u32[m + 4] = 0; // rx_queue_index
      u32[m + 5] = 0; // egress_ifindex
    }
    this.pkt.start = data;
    this.pkt.end = end;
    const p = this.opts.packet!;
    p.start = data;
    p.len = len;
  }

  /** dataOf / endOf read data and data_end back after the program ran (it may move them). */
  dataOf(u32: Uint32Array): number {
    return u32[this.md >>> 2];
  }

  /** metaOf reads data_meta back (XDP; VALE-BPF has no metadata: data). */
  metaOf(u32: Uint32Array, kind: number): number {
    return kind === PROG_VALE ? this.dataOf(u32) : u32[(this.md >>> 2) + 2];
  }

  endOf(u32: Uint32Array, kind: number): number {
    return u32[(this.md >>> 2) + (kind === PROG_VALE ? VALE_MD_DATA_END >> 2 : 1)];
  }
}
