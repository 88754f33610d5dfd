/**
 * Bounds-checked little/big-endian reads over a Uint8Array. Every parser of untrusted
 * binary input (ELF, BTF, BTF.ext) reads through a `ByteView`, so a malformed file ends in
 * a BpfError with the parser's code and a message naming what was being read, never a
 * RangeError from DataView.
 */
import { BpfError, ErrorCode } from '../errors.js';

/** ByteView reads fixed-width integers and byte ranges with bounds checks. */
export class ByteView {
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  private readonly dv: DataView;
  private readonly code: ErrorCode;
  private readonly what: string;

  /** `code` is the error code for out-of-bounds reads, `what` names the input in messages. */
  constructor(bytes: Uint8Array, littleEndian: boolean, code: ErrorCode, what: string) {
    this.bytes = bytes;
    this.littleEndian = littleEndian;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.code = code;
    this.what = what;
  }

  /** length is the number of readable bytes. */
  get length(): number {
    return this.bytes.length;
  }

  /** check throws unless [off, off+len) lies inside the view. */
  check(off: number, len: number, field: string): void {
    if (!Number.isSafeInteger(off) || !Number.isSafeInteger(len) || off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new BpfError(this.code, `${this.what}: ${field} at offset ${off} (+${len}) is outside ${this.bytes.length} bytes`);
    }
  }

  /** u8 reads an unsigned byte. */
  u8(off: number, field = 'u8'): number {
    this.check(off, 1, field);
    return this.bytes[off];
  }

  /** u16 reads an unsigned 16-bit integer. */
  u16(off: number, field = 'u16'): number {
    this.check(off, 2, field);
    return this.dv.getUint16(off, this.littleEndian);
  }

  /** u32 reads an unsigned 32-bit integer. */
  u32(off: number, field = 'u32'): number {
    this.check(off, 4, field);
    return this.dv.getUint32(off, this.littleEndian);
  }

  /** i32 reads a signed 32-bit integer. */
  i32(off: number, field = 'i32'): number {
    this.check(off, 4, field);
    return this.dv.getInt32(off, this.littleEndian);
  }

  /** u64 reads an unsigned 64-bit integer as a bigint. */
  u64(off: number, field = 'u64'): bigint {
    this.check(off, 8, field);
    return this.dv.getBigUint64(off, this.littleEndian);
  }

  /** u64n reads an unsigned 64-bit integer that must fit a safe JS number (sizes, offsets). */
  u64n(off: number, field = 'u64'): number {
    const v = this.u64(off, field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new BpfError(this.code, `${this.what}: ${field} at offset ${off} is too large (${v})`);
    }
    return Number(v);
  }

  /** slice returns a bounds-checked sub-array (a view, not a copy). */
  slice(off: number, len: number, field = 'bytes'): Uint8Array {
    this.check(off, len, field);
    return this.bytes.subarray(off, off + len);
  }

  /** cstring reads a NUL-terminated string starting at `off` (UTF-8). */
  cstring(off: number, field = 'string'): string {
    this.check(off, 0, field);
    if (off >= this.bytes.length) throw new BpfError(this.code, `${this.what}: ${field} at offset ${off} is outside ${this.bytes.length} bytes`);
    let end = off;
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    if (end === this.bytes.length) throw new BpfError(this.code, `${this.what}: ${field} at offset ${off} is not NUL-terminated`);
    return utf8.decode(this.bytes.subarray(off, end));
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
