/**
 * The socket-buffer context as socket filter, tc (sched_cls/sched_act) and cgroup_skb programs
 * see it: `struct __sk_buff` (linux/bpf.h, 192 bytes, kernel field offsets) in the address space.
 * As with xdp_md, tsbpf pointers are 32-bit offsets, so `data`, `data_end` and `data_meta`
 * hold real pointers and context loads need no rewriting.
 *
 * skbRunOptions fills the fields the way the kernel's BPF_PROG_TEST_RUN does for a frame on
 * the loopback device: `protocol` from eth_type_trans (network byte order), `pkt_type` from
 * the destination MAC, and for non-L2 program types (socket filter, cgroup_skb) `data`/`len`
 * start after the Ethernet header.
 */
import { BpfError } from '../errors.js';
import { PERM_R, PERM_RW, type Region } from './memory.js';
import type { RunOptions, VmContext } from './engine.js';

/** SK_BUFF_SIZE is sizeof(struct __sk_buff). */
export const SK_BUFF_SIZE = 192;
/** ETH_HLEN is the Ethernet header length the kernel strips for non-L2 program types. */
export const ETH_HLEN = 14;

/** SKB field offsets (struct __sk_buff). */
export const SKB = {
  len: 0, pkt_type: 4, mark: 8, queue_mapping: 12, protocol: 16, vlan_present: 20, vlan_tci: 24, vlan_proto: 28,
  priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, tc_classid: 72, data: 76,
  data_end: 80, napi_id: 84, family: 88, remote_ip4: 92, local_ip4: 96, remote_ip6: 100, local_ip6: 116,
  remote_port: 132, local_port: 136, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160, gso_segs: 164,
  sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
} as const;

/** SkbFrame describes a frame (starting with its Ethernet header) placed in memory. */
export interface SkbFrame {
  /** address of the first byte of the frame */
  data: number;
  /** frame length in bytes (at least ETH_HLEN) */
  len: number;
  /** l2: data starts at the Ethernet header (tc); false: after it (socket filter, cgroup_skb) */
  l2: boolean;
  /** writable fields (tc may write mark, priority, tc_index...; socket filters only cb) */
  tc?: boolean;
  mark?: number;
  priority?: number;
  ifindex?: number;
  ingressIfindex?: number;
}

const skbAddrs = new WeakMap<VmContext, number>();

/** skbAddress returns the address of this context's reusable __sk_buff. */
export function skbAddress(ctx: VmContext): number {
  let a = skbAddrs.get(ctx);
  if (a === undefined) {
    a = ctx.space.alloc(SK_BUFF_SIZE, 8);
    skbAddrs.set(ctx, a);
  }
  return a;
}

/** ethProtocol is eth_type_trans's result as the u32 field reads it (a __be16 in memory order). */
export function ethProtocol(frame: Uint8Array): number {
  const proto = (frame[12] << 8) | frame[13];
  if (proto >= 0x600) return frame[12] | (frame[13] << 8);
  // 802.3 frames: raw IPX (0xffff payload start) is ETH_P_802_3, else ETH_P_802_2
  const raw = frame[14] === 0xff && frame[15] === 0xff;
  return raw ? 0x0100 : 0x0400;
}

/** pktType is eth_type_trans's pkt_type for a device whose address is all zeros (loopback). */
export function pktType(frame: Uint8Array): number {
  if (frame[0] & 1) return frame.subarray(0, 6).every((b) => b === 0xff) ? 1 : 2; // broadcast / multicast
  return frame.subarray(0, 6).every((b) => b === 0) ? 0 : 3; // host / otherhost
}

/** minFrameLen is the shortest frame the kernel's test run accepts: an IPv4/IPv6 frame must hold its header. */
export function minFrameLen(frame: Uint8Array): number {
  const proto = (frame[12] << 8) | frame[13];
  return proto === 0x0800 ? ETH_HLEN + 20 : proto === 0x86dd ? ETH_HLEN + 40 : ETH_HLEN;
}

// Parts of the context a program may write (tc: mark, queue_mapping, priority, tc_index, cb,
// tc_classid; otherwise only cb). Regions must not overlap, so the rest is cut around them.
const TC_WRITABLE: Array<[number, number]> = [[8, 16], [32, 36], [44, 68], [72, 76], [152, 160]]; // + tstamp, as the kernel allows tc
const CB_WRITABLE: Array<[number, number]> = [[48, 68]];

function ctxRegions(md: number, writable: Array<[number, number]>): Region[] {
  const out: Region[] = [];
  let at = 0;
  for (const [s, e] of writable) {
    if (s > at) out.push({ start: md + at, end: md + s, perm: PERM_R, name: 'ctx' });
    out.push({ start: md + s, end: md + e, perm: PERM_RW, name: 'ctx' });
    at = e;
  }
  out.push({ start: md + at, end: md + SK_BUFF_SIZE, perm: PERM_R, name: 'ctx' });
  return out;
}

/**
 * skbRunOptions fills the context's __sk_buff for `frame` and returns the RunOptions of a run:
 * r1 = &__sk_buff, the packet writable (tc) or readable, LD_ABS reading from `data`.
 */
export function skbRunOptions(ctx: VmContext, frame: SkbFrame, budget?: number): RunOptions {
  if (frame.len < ETH_HLEN) {
    throw new BpfError('EINVAL', `skb programs need at least ${ETH_HLEN} bytes of packet (an Ethernet header), got ${frame.len}`);
  }
  const bytes = ctx.space.read(frame.data, ETH_HLEN + 2);
  const need = minFrameLen(bytes);
  if (frame.len < need) {
    throw new BpfError('EINVAL', `a frame with ethertype 0x${((bytes[12] << 8) | bytes[13]).toString(16).padStart(4, '0')} needs at least ${need} bytes (its network header), got ${frame.len}`);
  }
  const md = skbAddress(ctx);
  const data = frame.l2 ? frame.data : frame.data + ETH_HLEN;
  const end = frame.data + frame.len;
  ctx.space.u8.fill(0, md, md + SK_BUFF_SIZE);
  const dv = ctx.space.dv;
  const put = (off: number, v: number): void => dv.setUint32(md + off, v >>> 0, true);
  put(SKB.len, end - data);
  put(SKB.pkt_type, pktType(bytes));
  put(SKB.mark, frame.mark ?? 0);
  put(SKB.protocol, ethProtocol(bytes));
  put(SKB.priority, frame.priority ?? 0);
  put(SKB.ingress_ifindex, frame.ingressIfindex ?? 0);
  put(SKB.ifindex, frame.ifindex ?? 1);
  put(SKB.data, data);
  put(SKB.data_end, end);
  put(SKB.data_meta, data);
  const regions: Region[] = [
    ...ctxRegions(md, frame.tc ? TC_WRITABLE : CB_WRITABLE),
    { start: data, end, perm: frame.tc ? PERM_RW : PERM_R, name: 'packet' },
  ];
  return { args: [BigInt(md)], regions, packet: { start: data, len: end - data }, budget };
}
