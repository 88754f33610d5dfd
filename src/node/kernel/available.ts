/**
 * Whether the Linux kernel's BPF can be used from this process: Linux, a known bpf(2) syscall
 * number, koffi present, and the kernel accepting a trivial XDP program (root / CAP_BPF).
 */
import { isBpfError } from '../../core/errors.js';
import { BPF_PROG_TYPE_XDP, closeFd, progLoad, sysBpfNumber, KernelError, ERRNO } from './bpf-syscall.js';
import { loadLibc } from './ffi.js';

/** KernelAvailability says whether kernel BPF is usable, and why not. */
export interface KernelAvailability {
  ok: boolean;
  reason: string;
}

let cached: KernelAvailability | null = null;

// mov r0, 2 (XDP_PASS); exit
const PROBE = new Uint8Array([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

/** kernelAvailable probes once (cached) whether BPF_PROG_LOAD of an XDP program works here. */
export function kernelAvailable(): KernelAvailability {
  cached ??= probe();
  return cached;
}

function probe(): KernelAvailability {
  if (process.platform !== 'linux') return { ok: false, reason: `not Linux (${process.platform})` };
  if (sysBpfNumber() === null) return { ok: false, reason: `bpf(2) syscall number unknown on ${process.arch}` };
  try {
    loadLibc();
  } catch (e) {
    return { ok: false, reason: isBpfError(e) ? e.detail : String(e) };
  }
  try {
    const { fd } = progLoad({ progType: BPF_PROG_TYPE_XDP, insns: PROBE, name: 'tsbpf_probe' });
    closeFd(fd);
    return { ok: true, reason: 'kernel BPF available' };
  } catch (e) {
    if (e instanceof KernelError && e.errno === ERRNO.EPERM) {
      const root = process.getuid?.() === 0;
      return { ok: false, reason: root ? 'bpf() denied (EPERM) even as root' : 'not root: bpf() returned EPERM' };
    }
    return { ok: false, reason: `bpf() probe failed: ${(e as Error).message}` };
  }
}
