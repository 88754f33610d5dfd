/**
 * The bpf(2) system call from Node via koffi: program load and test run, the map element
 * commands, and close(2). Each command fills a zeroed `union bpf_attr` (layouts in attr.ts)
 * in native memory, calls `syscall(__NR_bpf, cmd, &attr, size)`, and turns a failure into a
 * KernelError carrying errno (and, for loads, the verifier's log).
 */
import { BpfError, type ErrorCode } from '../../core/errors.js';
import { ATTR_SIZE, MAP_CREATE, MAP_ELEM, PROG_LOAD, TEST_RUN, putName } from './attr.js';
import { errno, loadLibc, withBuffers, type NativeBuffer } from './ffi.js';

/** bpf(2) command numbers (enum bpf_cmd). */
export const BPF_MAP_CREATE = 0;
export const BPF_MAP_LOOKUP_ELEM = 1;
export const BPF_MAP_UPDATE_ELEM = 2;
export const BPF_MAP_DELETE_ELEM = 3;
export const BPF_MAP_GET_NEXT_KEY = 4;
export const BPF_PROG_LOAD = 5;
export const BPF_PROG_TEST_RUN = 10;

/** Program types (enum bpf_prog_type) tsbpf loads. */
export const BPF_PROG_TYPE_SOCKET_FILTER = 1;
export const BPF_PROG_TYPE_SCHED_CLS = 3;
export const BPF_PROG_TYPE_XDP = 6;

/** Map types (enum bpf_map_type) tsbpf creates. */
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_LRU_HASH = 9;

/** Map update flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** Linux errno values bpf(2) returns that callers distinguish. */
export const ERRNO = { EPERM: 1, ENOENT: 2, E2BIG: 7, EACCES: 13, ENOMEM: 12, EEXIST: 17, EINVAL: 22, ENOSPC: 28, ENOSYS: 38 } as const;

const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280, ia32: 357, arm: 386, riscv64: 280 };

/** KernelError is a failed bpf(2) call: `errno`, the command, and the verifier log of a failed load. */
export class KernelError extends BpfError {
  constructor(code: ErrorCode, message: string, readonly errno: number, readonly cmd: number, readonly log = '') {
    super(code, message);
  }
}

function errnoCode(e: number): ErrorCode {
  switch (e) {
    case ERRNO.EPERM: return 'EPERM';
    case ERRNO.ENOENT: return 'ENOENT';
    case ERRNO.EEXIST: return 'EEXIST';
    case ERRNO.E2BIG: return 'E2BIG';
    case ERRNO.ENOMEM: return 'ENOMEM';
    case ERRNO.EINVAL: return 'EINVAL';
    case ERRNO.ENOSYS: return 'ENOSYS';
    default: return 'E_IO';
  }
}

/** sysBpfNumber is __NR_bpf on this architecture, or null when unknown. */
export function sysBpfNumber(): number | null {
  return SYS_BPF[process.arch] ?? null;
}

/** attrView is the DataView of an attr buffer. */
function view(b: NativeBuffer): DataView {
  return new DataView(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
}

/** sysBpf calls bpf(2) and returns its non-negative result, or {errno} on failure. */
function sysBpf(cmd: number, attr: NativeBuffer): number | { errno: number } {
  const nr = sysBpfNumber();
  if (nr === null) throw new BpfError('ENOSYS', `bpf(2) number unknown on ${process.arch}`);
  const r = Number(loadLibc().syscall(nr, cmd, attr.ptr, ATTR_SIZE));
  return r < 0 ? { errno: errno() } : r;
}

function fail(cmd: number, what: string, e: number, log = ''): KernelError {
  const code = log ? 'E_VERIFIER' : errnoCode(e);
  const tail = log ? `\n${log.trimEnd()}` : '';
  return new KernelError(code, `${what}: errno ${e}${tail}`, e, cmd, log);
}

/** ProgLoadOptions are the BPF_PROG_LOAD inputs tsbpf uses. */
export interface ProgLoadOptions {
  progType: number;
  /** encoded instructions (8 bytes each, native byte order) */
  insns: Uint8Array;
  license?: string;
  name?: string;
  expectedAttachType?: number;
  progFlags?: number;
  /** verifier log level for the first attempt; 0 (default) loads quietly and retries with 1 on failure */
  logLevel?: number;
  /** log buffer size in bytes (default 1 MiB) */
  logSize?: number;
}

/** ProgLoadResult is a loaded program: its fd and the verifier log (empty when loaded quietly). */
export interface ProgLoadResult {
  fd: number;
  log: string;
}

/** progLoad loads a program; a rejected program throws KernelError('E_VERIFIER') with the kernel's log. */
export function progLoad(opts: ProgLoadOptions): ProgLoadResult {
  const first = tryProgLoad(opts, opts.logLevel ?? 0);
  if (typeof first.fd === 'number') return { fd: first.fd, log: first.log };
  if (opts.logLevel || first.errno === ERRNO.EPERM) throw fail(BPF_PROG_LOAD, 'BPF_PROG_LOAD', first.errno, first.log);
  const again = tryProgLoad(opts, 1);
  if (typeof again.fd === 'number') return { fd: again.fd, log: again.log }; // flaky first failure
  throw fail(BPF_PROG_LOAD, 'BPF_PROG_LOAD', first.errno, again.log || first.log);
}

function tryProgLoad(opts: ProgLoadOptions, logLevel: number): { fd?: number; errno: number; log: string } {
  if (opts.insns.length % 8 !== 0) throw new BpfError('EINVAL', 'program length is not a multiple of 8');
  return withBuffers((alloc) => {
    const attr = alloc(ATTR_SIZE);
    const dv = view(attr);
    const insns = alloc(opts.insns.length, opts.insns);
    const license = alloc(0, new TextEncoder().encode(`${opts.license ?? 'GPL'}\0`));
    dv.setUint32(PROG_LOAD.prog_type, opts.progType, true);
    dv.setUint32(PROG_LOAD.insn_cnt, opts.insns.length / 8, true);
    dv.setBigUint64(PROG_LOAD.insns, insns.addr, true);
    dv.setBigUint64(PROG_LOAD.license, license.addr, true);
    let log: NativeBuffer | null = null;
    if (logLevel > 0) {
      log = alloc(opts.logSize ?? 1 << 20);
      dv.setUint32(PROG_LOAD.log_level, logLevel, true);
      dv.setUint32(PROG_LOAD.log_size, log.size, true);
      dv.setBigUint64(PROG_LOAD.log_buf, log.addr, true);
    }
    dv.setUint32(PROG_LOAD.prog_flags, opts.progFlags ?? 0, true);
    if (opts.name) putName(dv, PROG_LOAD.prog_name, opts.name);
    dv.setUint32(PROG_LOAD.expected_attach_type, opts.expectedAttachType ?? 0, true);
    const r = sysBpf(BPF_PROG_LOAD, attr);
    const text = log ? cString(log.bytes) : '';
    return typeof r === 'number' ? { fd: r, errno: 0, log: text } : { errno: r.errno, log: text };
  });
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
}

/** TestRunOptions are the BPF_PROG_TEST_RUN inputs. */
export interface TestRunOptions {
  dataIn?: Uint8Array;
  /** size of the data_out buffer (default: dataIn length + 256, room for tail growth) */
  dataOutSize?: number;
  /** runs to average over (default 1) */
  repeat?: number;
  ctxIn?: Uint8Array;
  ctxOutSize?: number;
  flags?: number;
  cpu?: number;
}

/** TestRunResult is what the kernel reports: retval (32 bits), average ns per run, output data. */
export interface TestRunResult {
  retval: number;
  duration: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array;
}

/** progTestRun runs a loaded program once or `repeat` times on the given input. */
export function progTestRun(fd: number, opts: TestRunOptions = {}): TestRunResult {
  return withBuffers((alloc) => {
    const attr = alloc(ATTR_SIZE);
    const dv = view(attr);
    const dataIn = opts.dataIn ?? new Uint8Array(0);
    const inBuf = alloc(dataIn.length, dataIn);
    const outBuf = alloc(opts.dataOutSize ?? dataIn.length + 256);
    dv.setUint32(TEST_RUN.prog_fd, fd, true);
    dv.setUint32(TEST_RUN.data_size_in, dataIn.length, true);
    dv.setUint32(TEST_RUN.data_size_out, outBuf.size, true);
    dv.setBigUint64(TEST_RUN.data_in, inBuf.addr, true);
    dv.setBigUint64(TEST_RUN.data_out, outBuf.addr, true);
    dv.setUint32(TEST_RUN.repeat, opts.repeat ?? 1, true);
    let ctxOut: NativeBuffer | null = null;
    if (opts.ctxIn) {
      const ctxIn = alloc(opts.ctxIn.length, opts.ctxIn);
      dv.setUint32(TEST_RUN.ctx_size_in, ctxIn.size, true);
      dv.setBigUint64(TEST_RUN.ctx_in, ctxIn.addr, true);
    }
    if (opts.ctxOutSize) {
      ctxOut = alloc(opts.ctxOutSize);
      dv.setUint32(TEST_RUN.ctx_size_out, ctxOut.size, true);
      dv.setBigUint64(TEST_RUN.ctx_out, ctxOut.addr, true);
    }
    dv.setUint32(TEST_RUN.flags, opts.flags ?? 0, true);
    dv.setUint32(TEST_RUN.cpu, opts.cpu ?? 0, true);
    const r = sysBpf(BPF_PROG_TEST_RUN, attr);
    if (typeof r !== 'number') throw fail(BPF_PROG_TEST_RUN, 'BPF_PROG_TEST_RUN', r.errno);
    const outLen = Math.min(dv.getUint32(TEST_RUN.data_size_out, true), outBuf.size);
    const ctxLen = ctxOut ? Math.min(dv.getUint32(TEST_RUN.ctx_size_out, true), ctxOut.size) : 0;
    return {
      retval: dv.getUint32(TEST_RUN.retval, true),
      duration: dv.getUint32(TEST_RUN.duration, true),
      dataOut: outBuf.bytes.slice(0, outLen),
      ctxOut: ctxOut ? ctxOut.bytes.slice(0, ctxLen) : new Uint8Array(0),
    };
  });
}

/** MapCreateOptions are the BPF_MAP_CREATE inputs tsbpf uses. */
export interface MapCreateOptions {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  name?: string;
}

/** mapCreate creates a map and returns its fd. */
export function mapCreate(opts: MapCreateOptions): number {
  return withBuffers((alloc) => {
    const attr = alloc(ATTR_SIZE);
    const dv = view(attr);
    dv.setUint32(MAP_CREATE.map_type, opts.mapType, true);
    dv.setUint32(MAP_CREATE.key_size, opts.keySize, true);
    dv.setUint32(MAP_CREATE.value_size, opts.valueSize, true);
    dv.setUint32(MAP_CREATE.max_entries, opts.maxEntries, true);
    dv.setUint32(MAP_CREATE.map_flags, opts.mapFlags ?? 0, true);
    if (opts.name) putName(dv, MAP_CREATE.map_name, opts.name);
    const r = sysBpf(BPF_MAP_CREATE, attr);
    if (typeof r !== 'number') throw fail(BPF_MAP_CREATE, 'BPF_MAP_CREATE', r.errno);
    return r;
  });
}

/** elemCall runs one BPF_MAP_*_ELEM command; returns errno (0 on success) and the value buffer. */
function elemCall(cmd: number, fd: number, key: Uint8Array | null, valueIn: Uint8Array | null, valueSize: number,
  flags = 0): { errno: number; value: Uint8Array } {
  return withBuffers((alloc) => {
    const attr = alloc(ATTR_SIZE);
    const dv = view(attr);
    dv.setUint32(MAP_ELEM.map_fd, fd, true);
    if (key) dv.setBigUint64(MAP_ELEM.key, alloc(key.length, key).addr, true);
    const value = valueIn ? alloc(valueIn.length, valueIn) : alloc(valueSize);
    if (valueIn || valueSize > 0) dv.setBigUint64(MAP_ELEM.value, value.addr, true);
    dv.setBigUint64(MAP_ELEM.flags, BigInt(flags), true);
    const r = sysBpf(cmd, attr);
    return { errno: typeof r === 'number' ? 0 : r.errno, value: value.bytes.slice() };
  });
}

/** mapLookup returns a copy of the value stored under `key`, or null when there is none. */
export function mapLookup(fd: number, key: Uint8Array, valueSize: number): Uint8Array | null {
  const r = elemCall(BPF_MAP_LOOKUP_ELEM, fd, key, null, valueSize);
  if (r.errno === ERRNO.ENOENT) return null;
  if (r.errno) throw fail(BPF_MAP_LOOKUP_ELEM, 'BPF_MAP_LOOKUP_ELEM', r.errno);
  return r.value;
}

/** mapUpdate stores `value` under `key` (flags BPF_ANY / BPF_NOEXIST / BPF_EXIST). */
export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
  const r = elemCall(BPF_MAP_UPDATE_ELEM, fd, key, value, value.length, flags);
  if (r.errno) throw fail(BPF_MAP_UPDATE_ELEM, 'BPF_MAP_UPDATE_ELEM', r.errno);
}

/** mapDelete removes `key`; returns false when it was not there. */
export function mapDelete(fd: number, key: Uint8Array): boolean {
  const r = elemCall(BPF_MAP_DELETE_ELEM, fd, key, null, 0);
  if (r.errno === ERRNO.ENOENT) return false;
  if (r.errno) throw fail(BPF_MAP_DELETE_ELEM, 'BPF_MAP_DELETE_ELEM', r.errno);
  return true;
}

/** mapGetNextKey returns the key after `key` (the first key when `key` is null), or null at the end. */
export function mapGetNextKey(fd: number, key: Uint8Array | null, keySize: number): Uint8Array | null {
  const r = elemCall(BPF_MAP_GET_NEXT_KEY, fd, key, null, keySize);
  if (r.errno === ERRNO.ENOENT) return null;
  if (r.errno) throw fail(BPF_MAP_GET_NEXT_KEY, 'BPF_MAP_GET_NEXT_KEY', r.errno);
  return r.value;
}

/** closeFd closes a program or map fd. */
export function closeFd(fd: number): void {
  if (loadLibc().close(fd) < 0) throw new BpfError('E_IO', `close(${fd}) failed: errno ${errno()}`);
}
