/**
 * Codecs for the object API: how a TypeScript value becomes the bytes of a key or value and
 * back. Little-endian, like the eBPF machine tsbpf defines.
 */
import { BpfError } from '../errors.js';

/** Codec converts between T and exactly `size` bytes. */
export interface Codec<T> {
  readonly size: number;
  encode(v: T): Uint8Array;
  decode(b: Uint8Array): T;
}

function intCodec(size: 1 | 2 | 4, signed: boolean): Codec<number> {
  return {
    size,
    encode(v) {
      const b = new Uint8Array(size);
      const dv = new DataView(b.buffer);
      if (size === 1) dv.setUint8(0, v);
      else if (size === 2) dv.setUint16(0, v, true);
      else dv.setUint32(0, v >>> 0, true);
      return b;
    },
    decode(b) {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      if (size === 1) return signed ? dv.getInt8(0) : dv.getUint8(0);
      if (size === 2) return signed ? dv.getInt16(0, true) : dv.getUint16(0, true);
      return signed ? dv.getInt32(0, true) : dv.getUint32(0, true);
    },
  };
}

function bigCodec(signed: boolean): Codec<bigint> {
  return {
    size: 8,
    encode(v) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
      return b;
    },
    decode(b) {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return signed ? dv.getBigInt64(0, true) : dv.getBigUint64(0, true);
    },
  };
}

/** bytes is the identity codec for `size`-byte arrays. */
export function bytes(size: number): Codec<Uint8Array> {
  return {
    size,
    encode(v) {
      if (v.length !== size) throw new BpfError('EINVAL', `expected ${size} bytes, got ${v.length}`);
      return v;
    },
    decode: (b) => b,
  };
}

/** codecs for fixed-size integers. */
export const codecs = {
  u8: intCodec(1, false), u16: intCodec(2, false), u32: intCodec(4, false), i32: intCodec(4, true),
  u64: bigCodec(false), i64: bigCodec(true), bytes,
};
