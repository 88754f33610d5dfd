/**
 * VXLAN port (RFC 7348): the port's frames travel inside UDP datagrams with an 8-byte VXLAN
 * header (flags 0x08 = "VNI valid", 24-bit VNI). Interoperates with Linux `vxlan` interfaces:
 * the switch listens on a local UDP address and sends to the remote's VXLAN port, e.g.
 *   ip link add vx0 type vxlan id 42 local 127.0.0.1 dstport 4789 nolearning
 *   bridge fdb append 00:00:00:00:00:00 dev vx0 dst 127.0.0.1 port 4790
 * with this port listening on 127.0.0.1:4790 and sending to 127.0.0.1:4789, VNI 42.
 * Datagrams with another VNI, without the I flag or too short are counted as bad_frame drops.
 */
import { createSocket, type Socket } from 'node:dgram';
import { BpfError } from '../../core/errors.js';
import { CTR, ETH_HLEN } from '../dataplane/layout.js';
import type { Switch } from '../dataplane/switch.js';
import type { PortDriver } from './driver.js';

/** VXLAN_HLEN is the size of the VXLAN header; VXLAN_FLAG_I marks a valid VNI. */
export const VXLAN_HLEN = 8, VXLAN_FLAG_I = 0x08;
/** VXLAN_PORT is IANA's VXLAN UDP port. */
export const VXLAN_PORT = 4789;

/** VxlanSpec configures a VXLAN port. */
export interface VxlanSpec {
  localHost?: string;
  localPort: number;
  remoteHost?: string;
  remotePort?: number;
  vni: number;
}

/** parseVxlanSpec reads "LOCALPORT:REMOTEHOST:REMOTEPORT:VNI" (hosts default 127.0.0.1). */
export function parseVxlanSpec(text: string): VxlanSpec {
  const m = /^(?:([\d.]+):)?(\d+):([\d.]+):(\d+):(\d+)$/.exec(text);
  if (!m) throw new BpfError('EINVAL', `bad vxlan spec "${text}" (expected [LOCALHOST:]LOCALPORT:REMOTEHOST:REMOTEPORT:VNI)`);
  const spec = { localHost: m[1] ?? '127.0.0.1', localPort: Number(m[2]), remoteHost: m[3], remotePort: Number(m[4]), vni: Number(m[5]) };
  if (spec.vni >= 1 << 24) throw new BpfError('EINVAL', `VNI ${spec.vni} does not fit in 24 bits`);
  if (spec.localPort > 65535 || spec.remotePort > 65535) throw new BpfError('EINVAL', `bad UDP port in "${text}"`);
  return spec;
}

/** encapVxlan returns the UDP payload carrying `frame` with VNI `vni`. */
export function encapVxlan(frame: Uint8Array, vni: number): Buffer {
  const b = Buffer.allocUnsafe(VXLAN_HLEN + frame.length);
  b.writeUInt32BE(VXLAN_FLAG_I << 24, 0);
  b.writeUInt32BE((vni << 8) >>> 0, 4);
  b.set(frame, VXLAN_HLEN);
  return b;
}

/** decapVxlan returns the inner frame of a VXLAN datagram with VNI `vni`, or null. */
export function decapVxlan(msg: Uint8Array, vni: number): Uint8Array | null {
  if (msg.length < VXLAN_HLEN + ETH_HLEN || (msg[0] & VXLAN_FLAG_I) === 0) return null;
  if (((msg[4] << 16) | (msg[5] << 8) | msg[6]) !== vni) return null;
  return msg.subarray(VXLAN_HLEN);
}

/** VxlanPort drives switch port `port` over a UDP socket. */
export class VxlanPort implements PortDriver {
  readonly label: string;
  private readonly sock: Socket;
  private readonly spec: Required<VxlanSpec>;
  private received = 0;

  constructor(private readonly sw: Switch, readonly port: number, spec: VxlanSpec) {
    this.spec = { localHost: '127.0.0.1', remoteHost: '127.0.0.1', remotePort: VXLAN_PORT, ...spec };
    this.label = `vxlan:${this.spec.localHost}:${this.spec.localPort}->${this.spec.remoteHost}:${this.spec.remotePort} vni ${spec.vni}`;
    this.sock = createSocket('udp4');
    this.sock.on('message', (msg) => this.onMessage(msg));
    this.sock.on('error', () => {});
  }

  /** bind starts listening; resolves once the socket is bound. */
  bind(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.once('error', (e) => reject(new BpfError('E_IO', `${this.label}: ${e.message}`)));
      this.sock.bind(this.spec.localPort, this.spec.localHost, () => resolve());
    });
  }

  private onMessage(msg: Buffer): void {
    const inner = decapVxlan(msg, this.spec.vni);
    if (inner === null) {
      this.sw.views.refresh();
      this.sw.ports[this.port].count(CTR.drop_bad_frame);
      return;
    }
    if (this.sw.receive(this.port, inner)) this.received++;
  }

  /** address is the bound local address (after bind). */
  address(): { address: string; port: number } {
    return this.sock.address();
  }

  /** poll: datagrams arrive through the event loop ('message'); reports how many since the last poll. */
  poll(): number {
    const n = this.received;
    this.received = 0;
    return n;
  }

  flush(): number {
    return this.sw.transmit(this.port, (f) => {
      this.sock.send(encapVxlan(f, this.spec.vni), this.spec.remotePort, this.spec.remoteHost);
    });
  }

  close(): void {
    this.sock.close();
  }
}
