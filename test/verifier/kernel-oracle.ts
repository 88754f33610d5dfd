/**
 * The kernel as an oracle for the verifier: load a program with BPF_PROG_LOAD and report
 * whether the kernel verifier accepts it (and its last log line when it does not), creating
 * the kernel maps a program references and patching their fds into the `lddw`s.
 */
import { encode, type Program } from '../../src/core/isa/instruction.js';
import * as o from '../../src/core/isa/opcodes.js';
import {
  KernelError, closeFd, mapCreate, progLoad, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP,
} from '../../src/node/kernel/bpf-syscall.js';
import { kernelAvailable } from '../../src/node/kernel/available.js';
import { mapTypeNumber, type MapInfo } from '../../src/core/verifier/maps.js';
import type { ProgType } from '../../src/core/verifier/ctx.js';

/** KernelVerdict is the kernel verifier's answer. */
export interface KernelVerdict { ok: boolean; reason: string }

const PROG_TYPE: Record<string, number> = { xdp: BPF_PROG_TYPE_XDP, sched_cls: BPF_PROG_TYPE_SCHED_CLS, socket_filter: BPF_PROG_TYPE_SOCKET_FILTER };

/** kernelReady says whether the kernel can be used (and why not). */
export function kernelReady(): { ok: boolean; reason: string } {
  return kernelAvailable();
}

/** lastLine is the kernel's rejection message (the last meaningful log line). */
function lastLine(log: string): string {
  const lines = log.trim().split('\n').filter((l) => l && !l.startsWith('processed ') && !l.startsWith('verification time'));
  return lines[lines.length - 1] ?? '';
}

/**
 * kernelVerify loads `prog` as `progType` into the kernel; maps used by `lddw` (fd = key of
 * `maps`) are created for the load (only those the program uses) and their fds substituted.
 */
export function kernelVerify(prog: Program, progType: ProgType, maps: Map<number, MapInfo> = new Map()): KernelVerdict {
  const fds = new Map<number, number>();
  try {
    const used = new Set(prog.filter((i) => i.code === (o.BPF_LD | o.BPF_IMM | o.BPF_DW) && i.src !== 0).map((i) => i.imm));
    for (const [k, m] of maps) {
      if (!used.has(k)) continue;
      fds.set(k, mapCreate({ mapType: mapTypeNumber(m.type), keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries }));
    }
    const patched = prog.map((i) => (i.code === (o.BPF_LD | o.BPF_IMM | o.BPF_DW) && (i.src === o.BPF_PSEUDO_MAP_FD || i.src === o.BPF_PSEUDO_MAP_VALUE) && fds.has(i.imm)
      ? { ...i, imm: fds.get(i.imm) as number } : i));
    const { fd } = progLoad({ progType: PROG_TYPE[progType], insns: encode(patched), name: 'tsbpf_verif', logLevel: 1, logSize: 1 << 22 });
    closeFd(fd);
    return { ok: true, reason: '' };
  } catch (e) {
    if (e instanceof KernelError) return { ok: false, reason: e.log ? lastLine(e.log) : `errno ${e.errno}` };
    throw e;
  } finally {
    for (const fd of fds.values()) closeFd(fd);
  }
}
