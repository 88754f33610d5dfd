/**
 * Pktgen: frame templates like netmap's pkt-gen makes them: one frame per flow, flows varying
 * the source/destination MAC, IPv4 address and UDP port over ranges, sizes over a range.
 * Templates are built once; generating is copying a template into a pool frame.
 */
import { BpfError } from '../../core/errors.js';
import { addMac, buildUdpFrame, MIN_UDP_FRAME, parseIpv4, parseMac } from './frames.js';

/** Range is an inclusive [first, last] of numbers. */
export type Range = [number, number];

/** PktgenOptions choose the frames. Each field varies over its range as the flow number grows. */
export interface PktgenOptions {
  /** frame length without FCS, or a range (default 60: a 64-byte frame on the wire with FCS) */
  size?: number | Range;
  srcMac?: string;
  dstMac?: string;
  /** how many consecutive MACs to cycle through from srcMac / dstMac (default 1) */
  srcMacs?: number;
  dstMacs?: number;
  srcIp?: string;
  dstIp?: string;
  srcIps?: number;
  dstIps?: number;
  srcPort?: number | Range;
  dstPort?: number | Range;
  /** number of distinct flows (templates), default 1 */
  flows?: number;
}

function span(r: number | Range | undefined, dflt: number): Range {
  if (r === undefined) return [dflt, dflt];
  if (typeof r === 'number') return [r, r];
  if (r[1] < r[0]) throw new BpfError('EINVAL', `range ${r[0]}-${r[1]} is empty`);
  return r;
}

function pick(r: Range, k: number): number {
  return r[0] + (k % (r[1] - r[0] + 1));
}

/** makeTemplates builds one frame per flow. */
export function makeTemplates(o: PktgenOptions = {}): Uint8Array[] {
  const flows = o.flows ?? 1;
  if (!Number.isInteger(flows) || flows < 1 || flows > 1 << 16) throw new BpfError('EINVAL', `flows ${flows} is not in [1, 65536]`);
  const size = span(o.size, 60);
  if (size[0] < MIN_UDP_FRAME) throw new BpfError('EINVAL', `frame size ${size[0]} is below ${MIN_UDP_FRAME}`);
  const sport = span(o.srcPort, 1234), dport = span(o.dstPort, 4321);
  const smac = parseMac(o.srcMac ?? '02:00:00:00:00:01'), dmac = parseMac(o.dstMac ?? '02:00:00:00:00:02');
  const sip = parseIpv4(o.srcIp ?? '10.0.0.1'), dip = parseIpv4(o.dstIp ?? '10.0.0.2');
  const out: Uint8Array[] = [];
  for (let k = 0; k < flows; k++) {
    out.push(buildUdpFrame({
      srcMac: addMac(smac, k % (o.srcMacs ?? 1)),
      dstMac: addMac(dmac, k % (o.dstMacs ?? 1)),
      srcIp: (sip + (k % (o.srcIps ?? 1))) >>> 0,
      dstIp: (dip + (k % (o.dstIps ?? 1))) >>> 0,
      srcPort: pick(sport, k),
      dstPort: pick(dport, k),
      size: pick(size, k),
    }));
  }
  return out;
}
