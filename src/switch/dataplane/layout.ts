/**
 * The switch's data structures as they sit in the address space, shared by the JavaScript
 * batch loop and the WebAssembly dataplane: frame buffers, rings, the switch state block,
 * per-port records and counters. All offsets are bytes; all fields little-endian.
 */

/** XDP_PACKET_HEADROOM is the room kept in front of a received frame (linux/bpf.h). */
export const XDP_PACKET_HEADROOM = 256;
/** DEFAULT_FRAME_SIZE is one frame buffer: headroom plus room for a 1518-byte frame and tail growth. */
export const DEFAULT_FRAME_SIZE = 2048;
/** ETH_HLEN is the shortest frame the switch accepts (an Ethernet header). */
export const ETH_HLEN = 14;

/**
 * Ring header: consumer index, producer index (free-running u32, on separate cache lines so
 * a producer and a consumer on two threads do not share a line), then the slot mask.
 * Slots follow the header: {addr u32, len u32}.
 */
export const RING_HEAD = 0, RING_TAIL = 64, RING_MASK = 128;
/** RING_HDR is the size of a ring header. */
export const RING_HDR = 192;
/** SLOT_SIZE is the size of a ring slot (a frame descriptor). */
export const SLOT_SIZE = 8;

/** Pool header: free-stack depth, frame count, log2(frame size), address of frame 0; then the free stack (u32 frame indices). */
export const POOL_TOP = 0, POOL_COUNT = 4, POOL_SHIFT = 8, POOL_BASE = 12;
/** POOL_HDR is the size of a pool header. */
export const POOL_HDR = 16;

/**
 * Switch state block:
 *   +0  number of ports            +4  redirect target ifindex (set by bpf_redirect, 0 = none)
 *   +8  redirect flags (seam for bpf_redirect_map / devmap: the map and key go here)
 *   +12 context (xdp_md or vale_bpf_md) address  +16 pool address  +20 ifindex table address
 *   +24 port table address         +28 program kind (0 XDP, 1 VALE-BPF)
 *   +32 cursor: index in the batch of the frame being processed (for resuming after a fault)
 *   +36 punt count                 +40 punt array address (entries of PUNT_SIZE bytes)
 *   +44 flood table address (FLOOD_*)
 *   +48 egress program id of a unicast devmap redirect (set by bpf_redirect_map, 0 = none)
 */
export const SW_NPORTS = 0, SW_REDIRECT = 4, SW_REDIRECT_FLAGS = 8, SW_CTX = 12, SW_POOL = 16, SW_IFTABLE = 20,
  SW_PORTS = 24, SW_KIND = 28, SW_CURSOR = 32, SW_NPUNT = 36, SW_PUNTS = 40, SW_FLOOD = 44, SW_EGRESS = 48;

/**
 * Flood table (for broadcasts inside the Wasm loop): +0 the devmap header address it describes
 * (0: none; a broadcast through another devmap is punted), then one byte per port: 1 if the
 * port's ifindex is in that devmap. Refreshed by JavaScript once per step.
 */
export const FLOOD_DEVMAP = 0, FLOOD_MEMBERS = 4;
/** SW_SIZE is the size of the state block. */
export const SW_SIZE = 64;

/**
 * Punt entry (a frame the Wasm fast path leaves to JavaScript): frame address as received,
 * data and data_end as the program left them, r0 low 32 bits, redirect target, flags and
 * egress program id.
 */
export const PUNT_ADDR = 0, PUNT_DATA = 4, PUNT_END = 8, PUNT_R0 = 12, PUNT_TARGET = 16, PUNT_FLAGS = 20, PUNT_EGRESS = 24;
/** BPF_F_BROADCAST and BPF_F_EXCLUDE_INGRESS are bpf_redirect_map's flags (linux/bpf.h). */
export const BPF_F_BROADCAST = 1 << 3, BPF_F_EXCLUDE_INGRESS = 1 << 4;
/** PUNT_SIZE is the size of a punt entry. */
export const PUNT_SIZE = 32;

/** MAX_IFINDEX bounds the ifindexes ports may use (the ifindex table has this many u32 entries). */
export const MAX_IFINDEX = 4096;

/** Port record: rx ring, tx ring, host (PASS) ring, ifindex, counters address. */
export const PORT_RX = 0, PORT_TX = 4, PORT_HOST = 8, PORT_IFINDEX = 12, PORT_COUNTERS = 16;
/** PORT_SIZE is the size of a port record. */
export const PORT_SIZE = 32;

/** PROG_XDP and PROG_VALE are the program kinds. */
export const PROG_XDP = 0, PROG_VALE = 1;

/** VALE-BPF return values: broadcast to every other port, drop. */
export const VALE_BPF_BROADCAST = 254, VALE_BPF_DROP = 255;

/**
 * struct vale_bpf_md as VALE-BPF declares it on a 64-bit host: data and data_end are
 * pointer-sized, then ingress_port (u32) and ring_nr (u8); 24 bytes.
 */
export const VALE_MD_DATA = 0, VALE_MD_DATA_END = 8, VALE_MD_INGRESS_PORT = 16, VALE_MD_RING_NR = 20;
/** VALE_MD_SIZE is sizeof(struct vale_bpf_md). */
export const VALE_MD_SIZE = 24;

/**
 * COUNTERS names the per-port u64 counters, in memory order. rx/tx count frames entering and
 * leaving the switch at this port; act_* count program verdicts on frames received here;
 * drop_* count frames lost here, by reason (DROP_REASONS).
 */
export const COUNTERS = [
  'rx_packets', 'rx_bytes', 'tx_packets', 'tx_bytes', 'host_packets',
  'act_aborted', 'act_drop', 'act_pass', 'act_tx', 'act_redirect', 'act_forward', 'act_broadcast',
  'drop_aborted', 'drop_program', 'drop_fault', 'drop_bad_action', 'drop_no_port', 'drop_ring_full',
  'drop_no_frame', 'drop_runt', 'drop_oversize', 'drop_hairpin', 'drop_bad_frame', 'drop_host_full',
] as const;
/** CounterName is one counter's name. */
export type CounterName = (typeof COUNTERS)[number];
/** CTR maps a counter name to its index. */
export const CTR = Object.fromEntries(COUNTERS.map((n, i) => [n, i])) as Record<CounterName, number>;
/** COUNTERS_SIZE is the byte size of one port's counters. */
export const COUNTERS_SIZE = COUNTERS.length * 8;

/** DropReason is why a frame did not leave the switch. */
export type DropReason = CounterName extends `drop_${infer R}` ? R : never;
