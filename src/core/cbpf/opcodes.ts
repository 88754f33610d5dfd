/**
 * Classic BPF (cBPF): the 8-byte `struct sock_filter` instruction and the kernel's constants
 * (include/uapi/linux/filter.h and bpf_common.h). Class, size, mode, op and source values are
 * the same numbers eBPF uses; cBPF adds BPF_RET, BPF_MISC, BPF_LEN, BPF_MSH and the
 * ancillary-data offsets (SKF_*).
 */
export { BPF_LD, BPF_LDX, BPF_ST, BPF_STX, BPF_ALU, BPF_JMP, BPF_W, BPF_H, BPF_B, BPF_IMM, BPF_ABS, BPF_IND, BPF_MEM,
  BPF_K, BPF_X, BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR,
  BPF_JA, BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_CLASS, BPF_SIZE, BPF_MODE, BPF_OP, BPF_SRC } from '../isa/opcodes.js';

/** BPF_RET is the return class. */
export const BPF_RET = 0x06;
/** BPF_MISC is the register-transfer class (tax/txa). */
export const BPF_MISC = 0x07;
/** BPF_LEN is the mode loading the packet length. */
export const BPF_LEN = 0x80;
/** BPF_MSH is the mode of `ldxb 4*([k]&0xf)` (IPv4 header length). */
export const BPF_MSH = 0xa0;
/** BPF_A is the return source "accumulator" (BPF_RET | BPF_A). */
export const BPF_A = 0x10;
/** BPF_TAX and BPF_TXA are the BPF_MISC operations. */
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;
/** BPF_MISCOP extracts the operation of a BPF_MISC instruction. */
export const BPF_MISCOP = (code: number): number => code & 0xf8;
/** BPF_RVAL extracts the return source of a BPF_RET instruction. */
export const BPF_RVAL = (code: number): number => code & 0x18;

/** BPF_MEMWORDS is the number of scratch memory slots M[0..15]. */
export const BPF_MEMWORDS = 16;
/** BPF_MAXINSNS is the longest classic program the kernel accepts. */
export const BPF_MAXINSNS = 4096;

/** Negative load offsets: ancillary data, and the network / link-layer header bases. */
export const SKF_AD_OFF = -0x1000;
export const SKF_NET_OFF = -0x100000;
export const SKF_LL_OFF = -0x200000;

/** Ancillary data indices (added to SKF_AD_OFF). */
export const SKF_AD_PROTOCOL = 0;
export const SKF_AD_PKTTYPE = 4;
export const SKF_AD_IFINDEX = 8;
export const SKF_AD_NLATTR = 12;
export const SKF_AD_NLATTR_NEST = 16;
export const SKF_AD_MARK = 20;
export const SKF_AD_QUEUE = 24;
export const SKF_AD_HATYPE = 28;
export const SKF_AD_RXHASH = 32;
export const SKF_AD_CPU = 36;
export const SKF_AD_ALU_XOR_X = 40;
export const SKF_AD_VLAN_TAG = 44;
export const SKF_AD_VLAN_TAG_PRESENT = 48;
export const SKF_AD_PAY_OFFSET = 52;
export const SKF_AD_RANDOM = 56;
export const SKF_AD_VLAN_TPID = 60;
export const SKF_AD_MAX = 64;

/** SockFilter is one classic instruction: opcode, jump-if-true, jump-if-false, constant (unsigned 32-bit). */
export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** CbpfProgram is a classic program. */
export type CbpfProgram = SockFilter[];

/** sf builds a SockFilter, normalising field widths (k is kept unsigned). */
export function sf(code: number, jt = 0, jf = 0, k = 0): SockFilter {
  return { code: code & 0xffff, jt: jt & 0xff, jf: jf & 0xff, k: k >>> 0 };
}

/**
 * CbpfMeta is the socket-buffer metadata the ancillary loads read (what the kernel takes from
 * the skb). All values are unsigned 32-bit. `netOffset` is where the network header starts in
 * the packet (for SKF_NET_OFF loads); `random` is the value SKF_AD_RANDOM returns, so runs are
 * reproducible.
 */
export interface CbpfMeta {
  protocol: number;
  pkttype: number;
  ifindex: number;
  mark: number;
  queue: number;
  hatype: number;
  rxhash: number;
  cpu: number;
  vlanTci: number;
  vlanPresent: number;
  vlanTpid: number;
  random: number;
  payOffset: number;
  netOffset: number;
}

/** META_FIELDS lists CbpfMeta's fields in the order of the converted program's meta block (u32 each). */
export const META_FIELDS: readonly (keyof CbpfMeta)[] = [
  'protocol', 'pkttype', 'ifindex', 'mark', 'queue', 'hatype', 'rxhash', 'cpu',
  'vlanTci', 'vlanPresent', 'vlanTpid', 'random', 'payOffset', 'netOffset',
];
/** META_SIZE is the size in bytes of the meta block. */
export const META_SIZE = META_FIELDS.length * 4;

/** ANCILLARY maps an SKF_AD_* index to the meta field it loads (ALU_XOR_X and netlink ones are absent). */
export const ANCILLARY: ReadonlyMap<number, keyof CbpfMeta> = new Map<number, keyof CbpfMeta>([
  [SKF_AD_PROTOCOL, 'protocol'], [SKF_AD_PKTTYPE, 'pkttype'], [SKF_AD_IFINDEX, 'ifindex'], [SKF_AD_MARK, 'mark'],
  [SKF_AD_QUEUE, 'queue'], [SKF_AD_HATYPE, 'hatype'], [SKF_AD_RXHASH, 'rxhash'], [SKF_AD_CPU, 'cpu'],
  [SKF_AD_VLAN_TAG, 'vlanTci'], [SKF_AD_VLAN_TAG_PRESENT, 'vlanPresent'], [SKF_AD_VLAN_TPID, 'vlanTpid'],
  [SKF_AD_RANDOM, 'random'], [SKF_AD_PAY_OFFSET, 'payOffset'],
]);

/** metaOffset is the byte offset of a meta field in the meta block. */
export function metaOffset(field: keyof CbpfMeta): number {
  return META_FIELDS.indexOf(field) * 4;
}

/** encodeMeta lays out metadata as the converted program's meta block (little-endian u32s; missing fields 0). */
export function encodeMeta(meta: Partial<CbpfMeta>): Uint8Array {
  const out = new Uint8Array(META_SIZE);
  const dv = new DataView(out.buffer);
  META_FIELDS.forEach((f, i) => dv.setUint32(i * 4, (meta[f] ?? 0) >>> 0, true));
  return out;
}

/** ancillaryIndex returns the SKF_AD_* index of an absolute load offset, or -1 when k is not ancillary. */
export function ancillaryIndex(k: number): number {
  const s = k | 0;
  return s >= SKF_AD_OFF && s < 0 ? s - SKF_AD_OFF : -1;
}
