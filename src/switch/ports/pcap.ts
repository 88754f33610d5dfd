/**
 * pcap ports: a capture file as a port's input (every packet is received on the port) and a
 * classic libpcap file (what `tcpdump -r` reads) collecting what the port transmits.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { BpfError } from '../../core/errors.js';
import { LINKTYPE_ETHERNET, readCapture, writePcap, type PacketLike } from '../../core/pcap/index.js';
import type { Switch } from '../dataplane/switch.js';

/** pcapFrames reads the Ethernet frames of a pcap or pcapng file. */
export function pcapFrames(path: string): Uint8Array[] {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new BpfError('E_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
  const cap = readCapture(bytes, { lenient: true });
  if (cap.linktype !== LINKTYPE_ETHERNET) throw new BpfError('EINVAL', `${path}: link type ${cap.linktype} is not Ethernet`);
  return cap.packets.map((p) => p.data);
}

/** PcapSink collects the frames a port transmits and writes them as a classic pcap file. */
export class PcapSink {
  private readonly packets: PacketLike[] = [];

  constructor(readonly path: string, private readonly sw: Switch, readonly port: number) {}

  /** drain takes every frame waiting on the port's TX ring (timestamped now). */
  drain(): number {
    const now = Date.now();
    return this.sw.transmit(this.port, (f) => {
      this.packets.push({ data: f.slice(), tsSec: Math.floor(now / 1000), tsNsec: (now % 1000) * 1e6, linktype: LINKTYPE_ETHERNET });
    });
  }

  /** count is the number of frames collected so far. */
  get count(): number {
    return this.packets.length;
  }

  /** close writes the file. */
  close(): void {
    try {
      writeFileSync(this.path, writePcap(this.packets, { linktype: LINKTYPE_ETHERNET }));
    } catch (e) {
      throw new BpfError('E_IO', `cannot write ${this.path}: ${(e as Error).message}`);
    }
  }
}
