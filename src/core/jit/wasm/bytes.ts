/**
 * Bytes: a growable byte buffer with the LEB128 writers of the WebAssembly binary format.
 */

/** Bytes is a growable byte buffer with LEB128 writers. */
export class Bytes {
  buf = new Uint8Array(256);
  len = 0;

  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** byte appends one byte. */
  byte(b: number): void {
    if (this.len === this.buf.length) this.grow(1);
    this.buf[this.len++] = b;
  }

  /** bytes appends a byte array. */
  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** u32 appends an unsigned LEB128 of a 32-bit value. */
  u32(v: number): void {
    v >>>= 0;
    do {
      let b = v & 0x7f;
      v >>>= 7;
      if (v !== 0) b |= 0x80;
      this.byte(b);
    } while (v !== 0);
  }

  /** s32 appends a signed LEB128 of a 32-bit value. */
  s32(v: number): void {
    v |= 0;
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }

  /** s64 appends a signed LEB128 of a 64-bit value (taken modulo 2^64). */
  s64(value: bigint): void {
    const v = BigInt.asIntN(64, value);
    if (v >= -0x40000000n && v < 0x40000000n) {
      this.s32(Number(v));
      return;
    }
    this.bytes(s64Bytes(v));
  }

  /** name appends a length-prefixed UTF-8 string. */
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }

  /** vec appends a length-prefixed byte vector. */
  vec(b: Bytes): void {
    this.u32(b.len);
    this.bytes(b.result());
  }

  /** result returns the bytes written so far (a view, not a copy). */
  result(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

// Large constants repeat (masks, shadow patterns): their encodings are memoised.
const s64Memo = new Map<bigint, Uint8Array>();

function s64Bytes(value: bigint): Uint8Array {
  let enc = s64Memo.get(value);
  if (enc) return enc;
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) {
      out.push(b);
      break;
    }
    out.push(b | 0x80);
  }
  enc = new Uint8Array(out);
  if (s64Memo.size > 4096) s64Memo.clear();
  s64Memo.set(value, enc);
  return enc;
}
