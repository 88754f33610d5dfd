/**
 * The reference classic interpreter, with the kernel's semantics: A and X are unsigned
 * 32-bit, a packet load outside the captured bytes makes the filter return 0, division or
 * modulo by a zero X returns 0, shifts by X use its low 5 bits (as eBPF's 32-bit shifts do).
 *
 * Two modes, like the two places cBPF runs: with `meta` (a socket filter in the kernel),
 * negative offsets reach ancillary data (SKF_AD_*), the network header (SKF_NET_OFF) and the
 * link-layer header (SKF_LL_OFF); without `meta` (libpcap filtering a capture file) every
 * negative offset makes the filter return 0. `len` is the wire length, loads are bounded by
 * the captured length (libpcap's wirelen/buflen).
 */
import { BpfError } from '../errors.js';
import * as c from './opcodes.js';
import type { CbpfMeta, CbpfProgram, SockFilter } from './opcodes.js';

/** CbpfRunOptions describe the packet around the captured bytes. */
export interface CbpfRunOptions {
  /** length on the wire (BPF_LEN); defaults to the captured length, never below it */
  wireLen?: number;
  /** socket-buffer metadata: enables negative offsets (kernel semantics) */
  meta?: Partial<CbpfMeta>;
}

/** REJECT is the sentinel a failed load returns internally. */
const FAIL = -1;

/**
 * loadAt reads `size` bytes big-endian at offset `off` (a signed 32-bit value), resolving
 * negative offsets as the kernel does; it returns FAIL when the bytes are not available.
 */
export function loadAt(data: Uint8Array, off: number, size: 1 | 2 | 4, meta?: Partial<CbpfMeta>): number {
  let p = off | 0;
  if (p < 0) {
    if (!meta) return FAIL;
    if (p >= c.SKF_NET_OFF) p = ((meta.netOffset ?? 0) + (p - c.SKF_NET_OFF)) >>> 0;
    else if (p >= c.SKF_LL_OFF) p = p - c.SKF_LL_OFF;
    else return FAIL;
  }
  if (p + size > data.length) return FAIL;
  if (size === 1) return data[p];
  if (size === 2) return (data[p] << 8) | data[p + 1];
  return ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
}

function sizeOf(code: number): 1 | 2 | 4 {
  const s = c.BPF_SIZE(code);
  return s === c.BPF_B ? 1 : s === c.BPF_H ? 2 : 4;
}

/** ancillary returns the value of an ancillary load, or FAIL when there is none. */
function ancillary(idx: number, x: number, a: number, meta: Partial<CbpfMeta>): number {
  if (idx === c.SKF_AD_ALU_XOR_X) return (a ^ x) >>> 0;
  const field = c.ANCILLARY.get(idx);
  return field === undefined ? FAIL : (meta[field] ?? 0) >>> 0;
}

function alu(op: number, a: number, v: number): number {
  switch (op) {
    case c.BPF_ADD: return (a + v) >>> 0;
    case c.BPF_SUB: return (a - v) >>> 0;
    case c.BPF_MUL: return Math.imul(a, v) >>> 0;
    case c.BPF_DIV: return Math.floor(a / v) >>> 0;
    case c.BPF_MOD: return (a % v) >>> 0;
    case c.BPF_AND: return (a & v) >>> 0;
    case c.BPF_OR: return (a | v) >>> 0;
    case c.BPF_XOR: return (a ^ v) >>> 0;
    case c.BPF_LSH: return (a << (v & 31)) >>> 0;
    case c.BPF_RSH: return a >>> (v & 31);
    case c.BPF_NEG: return (-a) >>> 0;
    default: return a;
  }
}

function cond(op: number, a: number, v: number): boolean {
  switch (op) {
    case c.BPF_JEQ: return a === v;
    case c.BPF_JGT: return a > v;
    case c.BPF_JGE: return a >= v;
    default: return (a & v) !== 0; // BPF_JSET
  }
}

/**
 * runCbpf runs a classic program over a packet and returns its verdict (unsigned 32-bit: the
 * number of bytes to accept, 0 = drop). The program should have passed checkCbpf; an opcode
 * the checker would reject, or a jump out of the program, throws a BpfError.
 */
export function runCbpf(prog: CbpfProgram, data: Uint8Array, opts: CbpfRunOptions = {}): number {
  const meta = opts.meta;
  const wireLen = Math.max(opts.wireLen ?? data.length, data.length) >>> 0;
  const mem = new Uint32Array(c.BPF_MEMWORDS);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const i: SockFilter = prog[pc];
    const k = i.k >>> 0;
    const cls = c.BPF_CLASS(i.code);
    switch (cls) {
      case c.BPF_LD:
      case c.BPF_LDX: {
        const v = load(i, k, a, x, data, wireLen, mem, meta);
        if (v === FAIL) return 0;
        if (cls === c.BPF_LD) a = v;
        else x = v;
        break;
      }
      case c.BPF_ST: mem[slot(k, pc)] = a; break;
      case c.BPF_STX: mem[slot(k, pc)] = x; break;
      case c.BPF_ALU: {
        const op = c.BPF_OP(i.code);
        const v = c.BPF_SRC(i.code) === c.BPF_X ? x : k;
        if ((op === c.BPF_DIV || op === c.BPF_MOD) && v === 0) return 0;
        a = alu(op, a, v);
        break;
      }
      case c.BPF_JMP: {
        const op = c.BPF_OP(i.code);
        if (op === c.BPF_JA) pc += k;
        else pc += cond(op, a, c.BPF_SRC(i.code) === c.BPF_X ? x : k) ? i.jt : i.jf;
        break;
      }
      case c.BPF_RET:
        return c.BPF_RVAL(i.code) === c.BPF_A ? a : k;
      default: // BPF_MISC
        if (c.BPF_MISCOP(i.code) === c.BPF_TAX) x = a;
        else a = x;
        break;
    }
  }
  throw new BpfError('E_NO_EXIT', 'classic program ran past its end', { insn: prog.length });
}

function slot(k: number, pc: number): number {
  if (k >= c.BPF_MEMWORDS) throw new BpfError('EINVAL', `scratch slot M[${k}] out of range`, { insn: pc });
  return k;
}

function load(i: SockFilter, k: number, a: number, x: number, data: Uint8Array, wireLen: number,
  mem: Uint32Array, meta: Partial<CbpfMeta> | undefined): number {
  switch (c.BPF_MODE(i.code)) {
    case c.BPF_IMM: return k;
    case c.BPF_LEN: return wireLen;
    case c.BPF_MEM: return mem[k & 15];
    case c.BPF_ABS: {
      const idx = c.ancillaryIndex(k);
      if (idx >= 0) return meta ? ancillary(idx, x, a, meta) : FAIL;
      return loadAt(data, k, sizeOf(i.code), meta);
    }
    case c.BPF_IND: return loadAt(data, (x + k) | 0, sizeOf(i.code), meta);
    default: { // BPF_MSH
      const b = loadAt(data, k, 1, meta);
      return b === FAIL ? FAIL : (b & 0xf) << 2;
    }
  }
}
