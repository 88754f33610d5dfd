/**
 * TAP port: a Linux TAP device (/dev/net/tun, IFF_TAP | IFF_NO_PI) as a switch port. Frames
 * the kernel sends into the device are read (non-blocking) straight into pool buffers and
 * received on the port; frames the port transmits are written to the device, i.e. delivered
 * to the kernel's network stack as if they arrived on that interface. Needs CAP_NET_ADMIN.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { BpfError } from '../../core/errors.js';
import { XDP_PACKET_HEADROOM } from '../dataplane/layout.js';
import type { Switch } from '../dataplane/switch.js';
import { acceptInPlace, type PortDriver } from './driver.js';
import { EAGAIN, EINTR, portLibc } from './libc.js';

/** TUNSETIFF is _IOW('T', 202, int); IFF_TAP and IFF_NO_PI are linux/if_tun.h flags. */
export const TUNSETIFF = 0x400454ca, IFF_TAP = 0x0002, IFF_NO_PI = 0x1000;
/** IFREQ_SIZE is sizeof(struct ifreq) on 64-bit Linux; IFNAMSIZ the name field. */
const IFREQ_SIZE = 40, IFNAMSIZ = 16;
const O_NONBLOCK = 0o4000;

/** TapPort drives switch port `port` from TAP device `name` (created if it does not exist). */
export class TapPort implements PortDriver {
  readonly fd: number;
  readonly name: string;
  readonly label: string;

  constructor(private readonly sw: Switch, readonly port: number, name: string) {
    if (name.length === 0 || name.length >= IFNAMSIZ) throw new BpfError('EINVAL', `bad interface name "${name}"`);
    const libc = portLibc();
    try {
      this.fd = openSync('/dev/net/tun', constants.O_RDWR | O_NONBLOCK);
    } catch (e) {
      throw new BpfError('E_IO', `cannot open /dev/net/tun: ${(e as Error).message}`);
    }
    const ifr = new Uint8Array(IFREQ_SIZE);
    ifr.set(new TextEncoder().encode(name));
    new DataView(ifr.buffer).setUint16(IFNAMSIZ, IFF_TAP | IFF_NO_PI, true);
    if (libc.ioctl(this.fd, TUNSETIFF, ifr) < 0) {
      const err = libc.errno();
      closeSync(this.fd);
      throw new BpfError('E_IO', `TUNSETIFF ${name} failed (errno ${err}${err === 1 ? ': needs CAP_NET_ADMIN' : ''})`);
    }
    this.name = new TextDecoder().decode(ifr.subarray(0, ifr.indexOf(0) < 0 ? IFNAMSIZ : ifr.indexOf(0)));
    this.label = `tap:${this.name}`;
  }

  poll(): number {
    const { sw } = this;
    const libc = portLibc();
    const rx = sw.ports[this.port].rx;
    let n = 0;
    while (rx.free() > 0) {
      const addr = sw.pool.alloc();
      if (addr === 0) break;
      const max = sw.pool.frameSize - XDP_PACKET_HEADROOM;
      const got = libc.read(this.fd, sw.views.refresh().u8.subarray(addr, addr + max), max);
      if (got <= 0) {
        sw.pool.free(addr);
        const err = got < 0 ? libc.errno() : 0;
        if (got < 0 && err !== EAGAIN && err !== EINTR) throw new BpfError('E_IO', `read from ${this.label} failed (errno ${err})`);
        break;
      }
      if (acceptInPlace(sw, this.port, addr, got)) n++;
    }
    return n;
  }

  flush(): number {
    const { sw } = this;
    const libc = portLibc();
    return sw.transmit(this.port, (f) => {
      // a full device queue drops the frame, as a NIC would; the switch counted it as sent
      libc.write(this.fd, f, f.length);
    });
  }

  close(): void {
    closeSync(this.fd);
  }
}
