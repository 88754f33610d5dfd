/**
 * Writing captures: classic pcap (what `tcpdump -w` writes) and a minimal pcapng
 * (one section, one interface, enhanced packet blocks), both little-endian.
 */
import { BpfError } from '../errors.js';
import { CapturedPacket, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_SHB } from './format.js';

/** WriteOptions describe the file header. */
export interface WriteOptions {
  linktype?: number;
  snaplen?: number;
  /** write nanosecond timestamps (classic pcap magic 0xa1b23c4d) */
  nanosecond?: boolean;
}

/** PacketLike is the part of a packet the writers need; missing fields default to 0 / data length. */
export type PacketLike = Pick<CapturedPacket, 'data'> & Partial<CapturedPacket>;

/** writePcap encodes packets as a classic pcap file. */
export function writePcap(packets: readonly PacketLike[], opts: WriteOptions = {}): Uint8Array {
  const linktype = opts.linktype ?? packets[0]?.linktype ?? 1;
  let size = 24;
  for (const p of packets) size += 16 + p.data.length;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, opts.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, opts.snaplen ?? 262144, true);
  dv.setUint32(20, linktype, true);
  let o = 24;
  for (const p of packets) {
    if (p.linktype !== undefined && p.linktype !== linktype) {
      throw new BpfError('EINVAL', `cannot write link type ${p.linktype} into a pcap file of link type ${linktype}`);
    }
    const ns = p.tsNsec ?? 0;
    dv.setUint32(o, p.tsSec ?? 0, true);
    dv.setUint32(o + 4, opts.nanosecond ? ns : Math.floor(ns / 1000), true);
    dv.setUint32(o + 8, p.data.length, true);
    dv.setUint32(o + 12, p.origLen ?? p.data.length, true);
    out.set(p.data, o + 16);
    o += 16 + p.data.length;
  }
  return out;
}

/** writePcapng encodes packets as a pcapng file with one interface (nanosecond resolution). */
export function writePcapng(packets: readonly PacketLike[], opts: WriteOptions = {}): Uint8Array {
  const linktype = opts.linktype ?? packets[0]?.linktype ?? 1;
  let size = 28 + 32;
  for (const p of packets) size += 32 + ((p.data.length + 3) & ~3);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  // Section header block: type, length, byte-order magic, version 1.0, section length -1
  dv.setUint32(0, PCAPNG_SHB, true);
  dv.setUint32(4, 28, true);
  dv.setUint32(8, PCAPNG_BYTE_ORDER_MAGIC, true);
  dv.setUint16(12, 1, true);
  dv.setInt32(16, -1, true);
  dv.setInt32(20, -1, true);
  dv.setUint32(24, 28, true);
  // Interface description block with if_tsresol = 9 (nanoseconds)
  let o = 28;
  dv.setUint32(o, PCAPNG_IDB, true);
  dv.setUint32(o + 4, 32, true);
  dv.setUint16(o + 8, linktype, true);
  dv.setUint32(o + 12, opts.snaplen ?? 262144, true);
  dv.setUint16(o + 16, 9, true);
  dv.setUint16(o + 18, 1, true);
  out[o + 20] = 9;
  dv.setUint32(o + 28, 32, true); // options end (code 0) is at o+24, already zero
  o += 32;
  for (const p of packets) o = writeEpb(dv, out, o, p);
  return out;
}

function writeEpb(dv: DataView, out: Uint8Array, o: number, p: PacketLike): number {
  const len = 32 + ((p.data.length + 3) & ~3);
  const ts = BigInt(p.tsSec ?? 0) * 1000000000n + BigInt(p.tsNsec ?? 0);
  dv.setUint32(o, PCAPNG_EPB, true);
  dv.setUint32(o + 4, len, true);
  dv.setUint32(o + 12, Number(ts >> 32n), true);
  dv.setUint32(o + 16, Number(ts & 0xffffffffn), true);
  dv.setUint32(o + 20, p.data.length, true);
  dv.setUint32(o + 24, p.origLen ?? p.data.length, true);
  out.set(p.data, o + 28);
  dv.setUint32(o + len - 4, len, true);
  return o + len;
}
