/**
 * Helpers clang-compiled objects commonly call that the map layer does not provide:
 * bpf_trace_printk (what bpf_printk expands to; lines go to a sink, the trace pipe) and the
 * probe_read family (BPF_CORE_READ). Registered on a runtime by the loader only when the
 * runtime has none of its own, so other engineers' implementations win.
 */
import { BpfError } from '../errors.js';
import type { HelperEnv } from '../helpers/registry.js';
import { CORE_POISON } from './object-core.js';
import { helperPointer } from './helpers.js';
import type { Runtime } from './runtime.js';

/** TraceSink receives one formatted bpf_trace_printk line. */
export type TraceSink = (line: string) => void;

const sinks = new WeakMap<Runtime, TraceSink[]>();
const EFAULT = 14n;

/** addTraceSink adds a receiver of the runtime's bpf_trace_printk lines. */
export function addTraceSink(rt: Runtime, sink: TraceSink): void {
  const list = sinks.get(rt) ?? [];
  list.push(sink);
  sinks.set(rt, list);
}

/** formatTrace formats like the kernel's bstr_printf subset bpf_trace_printk allows. */
export function formatTrace(fmt: string, args: bigint[], str: (addr: bigint) => string): string {
  let n = 0;
  return fmt.replace(/%([-0-9]*)(ll|l|h|hh|z)?([diuxXcsp%])/g, (all, width: string, len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    const a = args[n++] ?? 0n;
    const bits = len === 'll' || len === 'l' || len === 'z' || conv === 'p' ? 64 : 32;
    let s: string;
    switch (conv) {
      case 'd': case 'i': s = BigInt.asIntN(bits, a).toString(); break;
      case 'u': s = BigInt.asUintN(bits, a).toString(); break;
      case 'x': s = BigInt.asUintN(bits, a).toString(16); break;
      case 'X': s = BigInt.asUintN(bits, a).toString(16).toUpperCase(); break;
      case 'p': s = '0x' + a.toString(16); break;
      case 'c': s = String.fromCharCode(Number(a & 0xffn)); break;
      case 's': s = str(a); break;
      default: s = all;
    }
    const w = Number(width.replace('-', '')) || 0;
    return width.startsWith('-') ? s.padEnd(w) : s.padStart(w, width.startsWith('0') && conv !== 's' ? '0' : ' ');
  });
}

function cString(rt: Runtime, env: HelperEnv, addr: bigint, max = 256): string {
  const out: number[] = [];
  for (let a = Number(addr); out.length < max; a++) {
    try {
      env.check(a, 1, false);
    } catch {
      return '(efault)';
    }
    if (a >= rt.space.size || rt.space.u8[a] === 0) break;
    out.push(rt.space.u8[a]);
  }
  return new TextDecoder().decode(new Uint8Array(out));
}

function probeRead(rt: Runtime, dst: bigint, size: bigint, src: bigint, env: HelperEnv): bigint {
  const n = Number(size & 0xffffffffn);
  const d = helperPointer(env, dst, n, true);
  try {
    const s = helperPointer(env, src, n, false);
    rt.space.u8.copyWithin(d, s, s + n);
    return 0n;
  } catch {
    rt.space.u8.fill(0, d, d + n); // the kernel zeroes the destination when the read faults
    return BigInt.asUintN(64, -EFAULT);
  }
}

/** registerLoaderHelpers adds trace_printk and probe_read* to `rt` where it has none. */
export function registerLoaderHelpers(rt: Runtime): void {
  const h = rt.helpers;
  if (!h.has(6)) {
    h.register('trace_printk', (fmt, len, a3, a4, a5, env) => {
      const n = Number(len & 0xffffffffn);
      const at = helperPointer(env, fmt, n, false);
      const text = new TextDecoder().decode(rt.space.read(at, n)).replace(/\0[\s\S]*$/, '');
      const line = formatTrace(text, [a3, a4, a5], (p) => cString(rt, env, p));
      for (const s of sinks.get(rt) ?? []) s(line.replace(/\n$/, ''));
      return BigInt(new TextEncoder().encode(line).length);
    });
  }
  if (!h.has(CORE_POISON)) {
    // libbpf's poisoned instruction: reached only when code guarded by a failed CO-RE relocation runs
    h.register(CORE_POISON, () => {
      throw new BpfError('E_RELOC', 'reached an instruction whose CO-RE relocation failed (no matching target type or field)');
    });
  }
  for (const name of ['probe_read', 'probe_read_kernel', 'probe_read_user']) {
    if (!h.has(name === 'probe_read' ? 4 : name === 'probe_read_user' ? 112 : 113)) {
      h.register(name, (d, s, src, _4, _5, env) => probeRead(rt, d, s, src, env));
    }
  }
}
