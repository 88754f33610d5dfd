/**
 * Instructions: the 8-byte slot form every engine, the assembler and the loader share,
 * and encode/decode in both byte orders. A program is an array of slots in kernel order:
 * `lddw` takes two slots, the second holding the high 32 bits of the immediate in `imm`
 * (code, dst, src and off zero), so jump offsets and instruction indices match the kernel's.
 */
import { BpfError } from '../errors.js';
import * as op from './opcodes.js';

/** Insn is one 8-byte instruction slot. `imm` is a signed 32-bit value, `off` a signed 16-bit one. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Program is a sequence of instruction slots. */
export type Program = Insn[];

/** INSN_SIZE is the size of one slot in bytes. */
export const INSN_SIZE = 8;

/** insn builds a slot, normalising field widths. */
export function insn(code: number, dst = 0, src = 0, off = 0, imm = 0): Insn {
  return { code: code & 0xff, dst: dst & 0xf, src: src & 0xf, off: (off << 16) >> 16, imm: imm | 0 };
}

/** isLddw tells whether a slot is the first half of a 16-byte `lddw`. */
export function isLddw(i: Insn): boolean {
  return i.code === (op.BPF_LD | op.BPF_IMM | op.BPF_DW);
}

/** lddw builds the two slots of a 64-bit immediate load. */
export function lddw(dst: number, value: bigint, src = 0): [Insn, Insn] {
  const v = BigInt.asUintN(64, value);
  const lo = Number(v & 0xffffffffn) | 0;
  const hi = Number(v >> 32n) | 0;
  return [insn(op.BPF_LD | op.BPF_IMM | op.BPF_DW, dst, src, 0, lo), insn(0, 0, 0, 0, hi)];
}

/** lddwValue reads the 64-bit immediate of the `lddw` at slot `i`. */
export function lddwValue(prog: Program, i: number): bigint {
  const lo = BigInt(prog[i].imm >>> 0);
  const hi = BigInt((prog[i + 1]?.imm ?? 0) >>> 0);
  return (hi << 32n) | lo;
}

/**
 * decode reads instruction slots from bytes. `littleEndian` selects the byte order of
 * the object (big-endian objects also swap the dst/src nibbles, as the kernel defines).
 */
export function decode(bytes: Uint8Array, littleEndian = true): Program {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new BpfError('E_TRUNCATED', `program length ${bytes.length} is not a multiple of ${INSN_SIZE}`, {
      insn: Math.floor(bytes.length / INSN_SIZE),
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Program = new Array(bytes.length / INSN_SIZE);
  for (let i = 0, p = 0; p < bytes.length; i++, p += INSN_SIZE) {
    const regs = bytes[p + 1];
    out[i] = {
      code: bytes[p],
      dst: littleEndian ? regs & 0xf : regs >> 4,
      src: littleEndian ? regs >> 4 : regs & 0xf,
      off: dv.getInt16(p + 2, littleEndian),
      imm: dv.getInt32(p + 4, littleEndian),
    };
  }
  return out;
}

/** encode writes instruction slots as bytes in the given byte order. */
export function encode(prog: Program, littleEndian = true): Uint8Array {
  const bytes = new Uint8Array(prog.length * INSN_SIZE);
  const dv = new DataView(bytes.buffer);
  prog.forEach((i, n) => {
    const p = n * INSN_SIZE;
    bytes[p] = i.code & 0xff;
    bytes[p + 1] = littleEndian ? ((i.src & 0xf) << 4) | (i.dst & 0xf) : ((i.dst & 0xf) << 4) | (i.src & 0xf);
    dv.setInt16(p + 2, i.off, littleEndian);
    dv.setInt32(p + 4, i.imm, littleEndian);
  });
  return bytes;
}

/** fromHex parses hex text (whitespace, commas and 0x prefixes ignored) into bytes. */
export function fromHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new BpfError('EINVAL', 'hex input must be an even number of hex digits');
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(i * 2, 2), 16);
  return out;
}

/** toHex prints bytes as lowercase hex, optionally separated. */
export function toHex(bytes: Uint8Array, sep = ''): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(sep);
}
