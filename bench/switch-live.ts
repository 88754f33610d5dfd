/**
 * The kernel's live-frames rate (BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: frames
 * really go through XDP_TX / XDP_REDIRECT transmission) for the switch benchmark's objects.
 * Run by bench/switch.ts as a child process inside a private network namespace it creates:
 * lo (ifindex 1) is the ingress device, a veth pair v0/v1 the redirect target (v1 drops with
 * an XDP program, so nothing leaves the namespace). Programs redirecting to a constant
 * ifindex 2 (xdp_nologic, xdp_l2_static) reach v0 when it is ifindex 2; the bridge's devmap
 * points at v0 whatever its index. Prints one JSON line: {name: ns per frame}.
 * Usage (inside the namespace): node dist/bench/switch-live.js V0_IFINDEX NAME...
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseObject } from '../src/core/elf/index.js';
import { encode } from '../src/core/isa/instruction.js';
import { relocateMaps } from '../src/core/runtime/object-prepare.js';
import * as k from '../src/node/kernel/bpf-syscall.js';
import { sysBpfNumber } from '../src/node/kernel/bpf-syscall.js';
import { loadLibc, NativeBuffer } from '../src/node/kernel/ffi.js';
import { TEST_RUN } from '../src/node/kernel/attr.js';
import { buildUdpFrame } from '../src/switch/dataplane/frames.js';

const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

/** frame is the benchmark's 64-byte Ethernet/IPv4/UDP frame (02:..:01 -> 02:..:02). */
function frame(): Uint8Array {
  return buildUdpFrame({ dstMac: Uint8Array.of(2, 0, 0, 0, 0, 2), srcMac: Uint8Array.of(2, 0, 0, 0, 0, 1), srcIp: 0x0a000001,
    dstIp: 0x0a000002, srcPort: 1234, dstPort: 4321, size: 64 });
}

/**
 * liveTestRun is BPF_PROG_TEST_RUN in live-frames mode, which refuses data_out and ctx_out
 * (the kernel module's progTestRun always passes a data_out buffer): returns ns per frame.
 */
function liveTestRun(fd: number, data: Uint8Array, ctx: Uint8Array, repeat: number): number {
  const libc = loadLibc();
  const bufs = [new NativeBuffer(160), NativeBuffer.from(data), NativeBuffer.from(ctx)];
  try {
    const [attr, din, cin] = bufs;
    const dv = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, 160);
    dv.setUint32(TEST_RUN.prog_fd, fd, true);
    dv.setUint32(TEST_RUN.data_size_in, data.length, true);
    dv.setBigUint64(TEST_RUN.data_in, din.addr, true);
    dv.setUint32(TEST_RUN.repeat, repeat, true);
    dv.setUint32(TEST_RUN.ctx_size_in, ctx.length, true);
    dv.setBigUint64(TEST_RUN.ctx_in, cin.addr, true);
    dv.setUint32(TEST_RUN.flags, BPF_F_TEST_XDP_LIVE_FRAMES, true);
    const r = libc.syscall(sysBpfNumber()!, k.BPF_PROG_TEST_RUN, attr.ptr, 160);
    if (r < 0) throw new Error(`BPF_PROG_TEST_RUN (live frames): errno ${libc.koffi.errno()}`);
    return dv.getUint32(TEST_RUN.duration, true);
  } finally {
    for (const b of bufs) b.free();
  }
}

function liveNs(name: string, v0: number): number {
  const spec = parseObject(new Uint8Array(readFileSync(join('examples', 'switch', `${name}.o`))));
  const prog = spec.programs[0];
  const fds = new Map<string, number>();
  try {
    for (const m of spec.maps) {
      fds.set(m.name, k.mapCreate({ mapType: m.typeId, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, mapFlags: m.flags,
        name: m.name.slice(0, 15) }));
    }
    // redirects to "ifindex 2" (port 1) must reach v0; the bridge knows the destination on port 1
    if (fds.has('tx_ports')) k.mapUpdate(fds.get('tx_ports')!, u32(2), u32(v0));
    if (fds.has('mac_table')) k.mapUpdate(fds.get('mac_table')!, frame().slice(0, 6), u32(2));
    if (fds.has('backends')) {
      k.mapUpdate(fds.get('backends')!, u32(1), Uint8Array.from([...u32(v0), 2, 0, 0, 0, 0, 2, 0, 0]));
      for (let i = 0; i < 256; i++) k.mapUpdate(fds.get('lut')!, u32(i), u32(1));
    }
    const insns = prog.insns.map((i) => ({ ...i }));
    relocateMaps(prog, insns, fds);
    const { fd } = k.progLoad({ progType: 6, insns: encode(insns, true), license: 'GPL', name: prog.name.slice(0, 15) });
    fds.set('', fd);
    const ctx = new Uint8Array(24);
    ctx.set(u32(64), 4); // data_end must be the frame length (no metadata)
    ctx.set(u32(1), 12); // ingress_ifindex: lo
    const run = (repeat: number) => liveTestRun(fd, frame(), ctx, repeat);
    run(100_000);
    const ns = [run(2_000_000), run(2_000_000), run(2_000_000)].sort((a, b) => a - b);
    return ns[1];
  } finally {
    for (const fd of fds.values()) k.closeFd(fd);
  }
}

const [v0, ...names] = process.argv.slice(2);
const out: Record<string, number | string> = {};
for (const n of names) {
  try {
    out[n] = liveNs(n, Number(v0));
  } catch (e) {
    out[n] = (e as Error).message;
  }
}
console.log(JSON.stringify(out));
