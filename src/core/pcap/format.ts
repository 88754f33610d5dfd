/**
 * Capture files: the in-memory form of classic pcap and pcapng captures that the reader
 * produces and the writer consumes. Packet bytes are views into the file (no copies).
 */

/** LINKTYPE_ETHERNET is the link type of Ethernet captures (DLT_EN10MB). */
export const LINKTYPE_ETHERNET = 1;
/** LINKTYPE_RAW is raw IPv4/IPv6 without a link-layer header. */
export const LINKTYPE_RAW = 101;

/** PCAP_MAGIC_USEC is the classic pcap magic with microsecond timestamps. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** PCAP_MAGIC_NSEC is the classic pcap magic with nanosecond timestamps. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** PCAPNG_SHB is the pcapng Section Header Block type (also the file's first 4 bytes). */
export const PCAPNG_SHB = 0x0a0d0d0a;
/** PCAPNG_BYTE_ORDER_MAGIC tells a pcapng section's byte order. */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** PCAPNG_IDB, PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB are the block types the reader understands. */
export const PCAPNG_IDB = 1;
export const PCAPNG_OPB = 2;
export const PCAPNG_SPB = 3;
export const PCAPNG_EPB = 6;

/** MAX_PACKET_LEN bounds a record's captured length; larger values mean a corrupt file. */
export const MAX_PACKET_LEN = 256 * 1024 * 1024;

/** CapturedPacket is one packet record. `data` holds the captured bytes (caplen = data.length). */
export interface CapturedPacket {
  data: Uint8Array;
  /** length of the packet on the wire (>= data.length in a sane file) */
  origLen: number;
  /** timestamp: whole seconds and nanoseconds */
  tsSec: number;
  tsNsec: number;
  /** link type of the interface the packet was captured on */
  linktype: number;
  /** pcapng interface index (0 for classic pcap) */
  iface: number;
}

/** CaptureFormat names the two container formats. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Capture is a whole capture file. */
export interface Capture {
  format: CaptureFormat;
  /** link type of the file (classic) or of the first interface (pcapng) */
  linktype: number;
  snaplen: number;
  /** true when the classic file stores nanosecond timestamps */
  nanosecond: boolean;
  packets: CapturedPacket[];
}
