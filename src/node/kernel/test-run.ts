/**
 * One-shot helpers over BPF_PROG_LOAD + BPF_PROG_TEST_RUN: load encoded instructions as a
 * program (XDP by default), run it on data, close it. Used by differential tests and benchmarks.
 */
import { BPF_PROG_TYPE_XDP, closeFd, progLoad, progTestRun, type TestRunResult } from './bpf-syscall.js';

/** KernelRunOptions select the program type and run count. */
export interface KernelRunOptions {
  progType?: number;
  /** runs the kernel averages duration over (default 1) */
  repeat?: number;
  /** data_out buffer size (default: input length + 256) */
  dataOutSize?: number;
}

/** withKernelProgram loads `progBytes`, passes the fd to `fn`, and always closes it. */
export function withKernelProgram<T>(progBytes: Uint8Array, fn: (fd: number) => T, progType = BPF_PROG_TYPE_XDP): T {
  const { fd } = progLoad({ progType, insns: progBytes, name: 'tsbpf_test' });
  try {
    return fn(fd);
  } finally {
    closeFd(fd);
  }
}

/** kernelRun loads a program, runs it once (or `repeat` times) on `data`, and returns the kernel's result. */
export function kernelRun(progBytes: Uint8Array, data: Uint8Array, opts: KernelRunOptions = {}): TestRunResult {
  return withKernelProgram(progBytes, (fd) =>
    progTestRun(fd, { dataIn: data, repeat: opts.repeat ?? 1, dataOutSize: opts.dataOutSize }), opts.progType);
}

/**
 * kernelTestRun runs a program `repeat` times on `data` and returns the kernel's average
 * duration per run in nanoseconds (with the last run's retval), for benchmarks.
 */
export function kernelTestRun(progBytes: Uint8Array, data: Uint8Array, repeat: number,
  progType = BPF_PROG_TYPE_XDP): { nsPerRun: number; retval: number } {
  const r = kernelRun(progBytes, data, { repeat, progType });
  return { nsPerRun: r.duration, retval: r.retval };
}
