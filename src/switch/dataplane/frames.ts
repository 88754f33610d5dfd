/**
 * Building test and generator frames: Ethernet + IPv4 + UDP with a valid IPv4 header checksum
 * (the UDP checksum is left 0, which IPv4 allows), padded to the requested size.
 */
import { BpfError } from '../../core/errors.js';

/** UdpFrameSpec describes one frame; size is the Ethernet frame length without FCS (>= 42). */
export interface UdpFrameSpec {
  dstMac: Uint8Array;
  srcMac: Uint8Array;
  srcIp: number;
  dstIp: number;
  srcPort: number;
  dstPort: number;
  size: number;
  /** byte pattern for the payload (default: the payload offset's low byte) */
  fill?: number;
}

/** MIN_UDP_FRAME is Ethernet (14) + IPv4 (20) + UDP (8) headers. */
export const MIN_UDP_FRAME = 42;

/** buildUdpFrame returns the bytes of one Ethernet/IPv4/UDP frame. */
export function buildUdpFrame(s: UdpFrameSpec): Uint8Array {
  if (!Number.isInteger(s.size) || s.size < MIN_UDP_FRAME || s.size > 65535) {
    throw new BpfError('EINVAL', `frame size ${s.size} is not in [${MIN_UDP_FRAME}, 65535]`);
  }
  const f = new Uint8Array(s.size);
  const dv = new DataView(f.buffer);
  f.set(s.dstMac.subarray(0, 6), 0);
  f.set(s.srcMac.subarray(0, 6), 6);
  dv.setUint16(12, 0x0800);
  f[14] = 0x45;
  dv.setUint16(16, s.size - 14);
  f[22] = 64; // TTL
  f[23] = 17; // UDP
  dv.setUint32(26, s.srcIp >>> 0);
  dv.setUint32(30, s.dstIp >>> 0);
  dv.setUint16(24, ipv4Checksum(f.subarray(14, 34)));
  dv.setUint16(34, s.srcPort);
  dv.setUint16(36, s.dstPort);
  dv.setUint16(38, s.size - 34);
  for (let i = MIN_UDP_FRAME; i < s.size; i++) f[i] = s.fill ?? i & 0xff;
  return f;
}

/** ipv4Checksum is the Internet checksum of a header whose checksum field is zero. */
export function ipv4Checksum(h: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < h.length; i += 2) sum += (h[i] << 8) | h[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** parseMac reads "aa:bb:cc:dd:ee:ff". */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{1,2}$/i.test(p))) throw new BpfError('EINVAL', `bad MAC address "${text}"`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/** formatMac writes six bytes as "aa:bb:cc:dd:ee:ff". */
export function formatMac(b: Uint8Array): string {
  return [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** parseIpv4 reads a dotted quad into a u32. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new BpfError('EINVAL', `bad IPv4 address "${text}"`);
  }
  return parts.reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

/** addMac returns `base` plus `n` (as a 48-bit number). */
export function addMac(base: Uint8Array, n: number): Uint8Array {
  let v = 0;
  for (const b of base.subarray(0, 6)) v = v * 256 + b;
  v = (v + n) % 2 ** 48;
  const out = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}
