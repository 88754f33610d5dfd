/**
 * Test helper: the kernel as an oracle for classic programs. A veth pair in a private network
 * namespace; frames are sent into one end through an AF_PACKET socket and received on the other
 * by packet sockets carrying a classic filter (SO_ATTACH_FILTER), so the kernel's own cBPF
 * handling decides which frames pass. libc is reached through koffi.
 */
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { sf } from '../../src/core/cbpf/index.js';
import type { CbpfProgram } from '../../src/core/cbpf/index.js';

type Koffi = typeof import('koffi');

const AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL = 3, SOL_SOCKET = 1, SO_ATTACH_FILTER = 26, SO_RCVBUFFORCE = 33,
  SO_SNDBUFFORCE = 32, MSG_DONTWAIT = 0x40, CLONE_NEWNET = 0x40000000, O_RDONLY = 0;

interface Libc {
  koffi: Koffi;
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, alen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  open(path: string, flags: number): number;
  setns(fd: number, type: number): number;
  close(fd: number): number;
}

function libc(): Libc {
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  return {
    koffi,
    socket: lib.func('int socket(int, int, int)'),
    bind: lib.func('int bind(int, const uint8_t *, uint32_t)'),
    setsockopt: lib.func('int setsockopt(int, int, int, const uint8_t *, uint32_t)'),
    sendto: lib.func('long sendto(int, const uint8_t *, size_t, int, const uint8_t *, uint32_t)'),
    recv: lib.func('long recv(int, _Out_ uint8_t *, size_t, int)'),
    open: lib.func('int open(const char *, int)'),
    setns: lib.func('int setns(int, int)'),
    close: lib.func('int close(int)'),
  };
}

function sockaddrLl(ifindex: number, proto: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_PACKET, true);
  dv.setUint16(2, proto, false);
  dv.setInt32(4, ifindex, true);
  return b;
}

/** KernelLink is the veth pair: send on `va`, filter and receive on `vb`. */
export interface KernelLink {
  /** ifindex and MAC of the receiving end */
  ifindex: number;
  mac: number[];
  /** run sends all frames and returns, in order, the copies the filtered socket received */
  run(prog: CbpfProgram, frames: Uint8Array[]): Uint8Array[];
  close(): void;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** openKernelLink sets up the namespace and veth pair, or throws with the reason it cannot. */
export function openKernelLink(): KernelLink {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) throw new Error('needs root on Linux');
  const c = libc();
  const ns = `tsbpf-cbpf-${process.pid}`;
  ip(['netns', 'add', ns]);
  const self = c.open('/proc/self/ns/net', O_RDONLY);
  let inNs = false;
  const cleanup = (): void => {
    if (inNs) c.setns(self, CLONE_NEWNET);
    c.close(self);
    try { ip(['netns', 'del', ns]); } catch { /* already gone */ }
  };
  try {
    execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    ip(['-n', ns, 'link', 'add', 'va', 'mtu', '9000', 'type', 'veth', 'peer', 'name', 'vb', 'mtu', '9000']);
    ip(['-n', ns, 'link', 'set', 'va', 'up']);
    ip(['-n', ns, 'link', 'set', 'vb', 'up']);
    const info = JSON.parse(ip(['-n', ns, '-j', 'link', 'show', 'vb']))[0] as { ifindex: number; address: string };
    const va = (JSON.parse(ip(['-n', ns, '-j', 'link', 'show', 'va']))[0] as { ifindex: number }).ifindex;
    const nsfd = c.open(`/var/run/netns/${ns}`, O_RDONLY);
    if (nsfd < 0 || c.setns(nsfd, CLONE_NEWNET) !== 0) throw new Error('setns failed');
    c.close(nsfd);
    inNs = true;
    const big = new Uint8Array(4);
    new DataView(big.buffer).setInt32(0, 64 << 20, true);
    const open = (filter?: CbpfProgram): number => {
      const fd = c.socket(AF_PACKET, SOCK_RAW, 0);
      if (fd < 0) throw new Error(`socket failed, errno ${c.koffi.errno()}`);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, big, 4);
      c.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, big, 4);
      if (filter) attach(c, fd, filter);
      if (c.bind(fd, sockaddrLl(info.ifindex, ETH_P_ALL), 20) !== 0) throw new Error(`bind failed, errno ${c.koffi.errno()}`);
      return fd;
    };
    const tx = c.socket(AF_PACKET, SOCK_RAW, 0);
    c.setsockopt(tx, SOL_SOCKET, SO_SNDBUFFORCE, big, 4);
    const txAddr = sockaddrLl(va, 0);
    return {
      ifindex: info.ifindex,
      mac: info.address.split(':').map((h) => parseInt(h, 16)),
      run(prog, frames) {
        const rx = open(prog);
        const all = open(); // unfiltered: tells when every frame has gone past the filter
        const sentinel = Uint8Array.from([...new Array(12).fill(0xfe), 0x88, 0xb5, ...new Array(50).fill(0x5a)]);
        try {
          for (const f of [...frames, sentinel]) {
            if (c.sendto(tx, f, f.length, 0, txAddr, 20) !== f.length) throw new Error(`sendto failed, errno ${c.koffi.errno()}`);
          }
          waitFor(c, all, sentinel);
          return collect(c, rx, sentinel);
        } finally {
          c.close(rx);
          c.close(all);
        }
      },
      close() {
        c.close(tx);
        cleanup();
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}

function attach(c: Libc, fd: number, prog: CbpfProgram): void {
  const insns = c.koffi.alloc('uint8_t', prog.length * 8);
  const view = new DataView(c.koffi.view(insns, prog.length * 8));
  prog.forEach((i, n) => {
    view.setUint16(n * 8, i.code, true);
    view.setUint8(n * 8 + 2, i.jt);
    view.setUint8(n * 8 + 3, i.jf);
    view.setUint32(n * 8 + 4, i.k, true);
  });
  const fprog = new Uint8Array(16);
  const dv = new DataView(fprog.buffer);
  dv.setUint16(0, prog.length, true);
  dv.setBigUint64(8, BigInt(c.koffi.address(insns)), true);
  const r = c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16);
  c.koffi.free(insns);
  if (r !== 0) throw new Error(`SO_ATTACH_FILTER failed, errno ${c.koffi.errno()}`);
}

function waitFor(c: Libc, fd: number, sentinel: Uint8Array): void {
  const buf = new Uint8Array(65536);
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
    if (n === sentinel.length && buf[12] === 0x88 && buf[13] === 0xb5) return;
  }
  throw new Error('sentinel frame never arrived');
}

function collect(c: Libc, fd: number, sentinel: Uint8Array): Uint8Array[] {
  const buf = new Uint8Array(65536);
  const received: Uint8Array[] = [];
  for (;;) {
    const n = c.recv(fd, buf, buf.length, MSG_DONTWAIT);
    if (n < 0) break;
    received.push(buf.slice(0, n));
  }
  // the sentinel may pass the filter too: it is the last frame sent, drop its copy
  const last = received[received.length - 1];
  if (last && last.length <= sentinel.length && last.every((b, i) => b === sentinel[i])) received.pop();
  return received;
}

/** stripTag removes an outer 802.1Q / 802.1ad tag as the kernel's receive path does, or returns null. */
export function stripTag(f: Uint8Array): Uint8Array | null {
  if (f.length < 18) return null;
  const tpid = (f[12] << 8) | f[13];
  if (tpid !== 0x8100 && tpid !== 0x88a8) return null;
  return Uint8Array.from([...f.subarray(0, 12), ...f.subarray(16)]);
}

/** passAll is a program accepting every frame (for checks of the harness itself). */
export const passAll: CbpfProgram = [sf(0x06, 0, 0, 0xffff)];
