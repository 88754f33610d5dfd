/**
 * Raw bpf(2) calls the extension map tests need beyond the shared syscall module: map
 * creation with inner_map_fd, map_extra and BTF ids, element commands with flags and with a
 * value as input (bloom filter lookups), BPF_OBJ_GET_INFO_BY_FD for map flags, BPF_BTF_LOAD.
 * Each returns {errno, ...} instead of throwing, so sequences can compare errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { errno, loadLibc, withBuffers } from '../../src/node/kernel/ffi.js';
import { sysBpfNumber, closeFd } from '../../src/node/kernel/bpf-syscall.js';

const ATTR = 128;

function raw(cmd: number, fill: (dv: DataView, alloc: (n: number, d?: Uint8Array) => { addr: bigint; bytes: Uint8Array }) => void,
  after?: (dv: DataView) => void): number {
  return withBuffers((alloc) => {
    const attr = alloc(ATTR);
    const dv = new DataView(attr.bytes.buffer, attr.bytes.byteOffset, ATTR);
    fill(dv, alloc);
    const r = Number(loadLibc().syscall(sysBpfNumber()!, cmd, attr.ptr, ATTR));
    if (r < 0) return -errno();
    after?.(dv);
    return r;
  });
}

/** KCreate are BPF_MAP_CREATE fields. */
export interface KCreate {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  innerMapFd?: number;
  mapExtra?: bigint;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
}

/** kCreate returns the new fd or -errno. */
export function kCreate(a: KCreate): number {
  return raw(0, (dv) => {
    dv.setUint32(0, a.mapType, true);
    dv.setUint32(4, a.keySize, true);
    dv.setUint32(8, a.valueSize, true);
    dv.setUint32(12, a.maxEntries, true);
    dv.setUint32(16, a.mapFlags ?? 0, true);
    dv.setUint32(20, a.innerMapFd ?? 0, true);
    dv.setUint32(48, a.btfFd ?? 0, true);
    dv.setUint32(52, a.btfKeyTypeId ?? 0, true);
    dv.setUint32(56, a.btfValueTypeId ?? 0, true);
    dv.setBigUint64(64, a.mapExtra ?? 0n, true);
  });
}

/** kElem runs element command `cmd` (1 lookup, 2 update, 3 delete, 4 next, 21 lookup-and-delete). */
export function kElem(cmd: number, fd: number, key: Uint8Array | null, value: Uint8Array | null, valueSize: number, flags = 0n):
  { errno: number; value: Uint8Array } {
  let out = new Uint8Array(0);
  const r = withBuffers((alloc) => {
    const v = value ? alloc(Math.max(value.length, valueSize), value) : alloc(valueSize);
    const res = raw(cmd, (dv, al) => {
      dv.setUint32(0, fd, true);
      if (key) dv.setBigUint64(8, al(key.length, key).addr, true);
      if (value || valueSize > 0) dv.setBigUint64(16, v.addr, true);
      dv.setBigUint64(24, flags, true);
    });
    out = v.bytes.slice(0, valueSize);
    return res;
  });
  return { errno: r < 0 ? -r : 0, value: out };
}

/** kInfoFlags returns map_flags of a map fd as bpf_map_info reports them. */
export function kInfoFlags(fd: number): number {
  let flags = -1;
  withBuffers((alloc) => {
    const info = alloc(128);
    raw(15, (dv) => {
      dv.setUint32(0, fd, true);
      dv.setUint32(4, 128, true);
      dv.setBigUint64(8, info.addr, true);
    });
    flags = new DataView(info.bytes.buffer, info.bytes.byteOffset).getUint32(20, true);
  });
  return flags;
}

/** kInfoId returns the id of a map fd as bpf_map_info reports it (-1 on error). */
export function kInfoId(fd: number): number {
  let id = -1;
  withBuffers((alloc) => {
    const info = alloc(128);
    const r = raw(15, (dv) => {
      dv.setUint32(0, fd, true);
      dv.setUint32(4, 128, true);
      dv.setBigUint64(8, info.addr, true);
    });
    if (r >= 0) id = new DataView(info.bytes.buffer, info.bytes.byteOffset).getUint32(4, true);
  });
  return id;
}

/** kBtfLoad loads a raw BTF blob; returns the fd or -errno. */
export function kBtfLoad(blob: Uint8Array): number {
  return raw(18, (dv, al) => {
    dv.setBigUint64(0, al(blob.length, blob).addr, true);
    dv.setUint32(16, blob.length, true);
  });
}

/** kClose closes fds >= 0. */
export function kClose(...fds: number[]): void {
  for (const fd of fds) if (fd >= 0) closeFd(fd);
}

/** netIfindexes lists the interface indexes of this network namespace. */
export function netIfindexes(): number[] {
  return readdirSync('/sys/class/net').map((n) => Number(readFileSync(`/sys/class/net/${n}/ifindex`, 'utf8'))).sort((a, b) => a - b);
}

/** le32 / le32s encode a u32 / several u32s little-endian. */
export function le32(...n: number[]): Uint8Array {
  const b = new Uint8Array(4 * n.length);
  n.forEach((v, i) => new DataView(b.buffer).setUint32(4 * i, v >>> 0, true));
  return b;
}
