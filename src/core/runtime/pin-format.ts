/**
 * The on-disk form of pinned objects: a self-checking container.
 *
 *   "TSBPFPIN" (8) | u32 version | u32 kind (1 map, 2 program) | u32 payload length | u32 crc32(payload) | payload
 *
 * A reader accepts a file only when the magic, version, length and checksum all match, so a
 * torn or truncated file is always reported (E_PIN), never half-read. Map payloads are a JSON
 * header (attributes, BTF type ids), the raw BTF blob, then key/value pairs; program payloads
 * are JSON. All integers little-endian.
 */
import { BpfError } from '../errors.js';

const MAGIC = [0x54, 0x53, 0x42, 0x50, 0x46, 0x50, 0x49, 0x4e]; // "TSBPFPIN"
/** PIN_VERSION is the container version this code writes. */
export const PIN_VERSION = 1;
/** PIN_KIND_MAP / PIN_KIND_PROG say what a container holds. */
export const PIN_KIND_MAP = 1, PIN_KIND_PROG = 2;
const HDR = 24;

let crcTable: Uint32Array | null = null;

/** crc32 is the IEEE 802.3 CRC of `b` (as zlib's crc32). */
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** wrapPin puts `payload` in a container of `kind`. */
export function wrapPin(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HDR + payload.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, PIN_VERSION, true);
  dv.setUint32(12, kind, true);
  dv.setUint32(16, payload.length, true);
  dv.setUint32(20, crc32(payload), true);
  out.set(payload, HDR);
  return out;
}

/** unwrapPin checks a container and returns its kind and payload; `path` names it in errors. */
export function unwrapPin(bytes: Uint8Array, path: string): { kind: number; payload: Uint8Array } {
  const bad = (why: string): never => {
    throw new BpfError('E_PIN', `${path}: not a usable pinned object (${why})`);
  };
  if (bytes.length < HDR || !MAGIC.every((b, i) => bytes[i] === b)) bad('bad magic');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8, true) !== PIN_VERSION) bad(`version ${dv.getUint32(8, true)}`);
  const len = dv.getUint32(16, true);
  if (HDR + len !== bytes.length) bad(`length ${bytes.length}, header says ${HDR + len}`);
  const payload = bytes.subarray(HDR);
  if (crc32(payload) !== dv.getUint32(20, true)) bad('checksum mismatch');
  return { kind: dv.getUint32(12, true), payload };
}

/** PinWriter appends length-prefixed parts. */
export class PinWriter {
  private parts: Uint8Array[] = [];
  private size = 0;

  /** bytes appends a u32 length and the bytes. */
  bytes(b: Uint8Array): this {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, b.length, true);
    this.parts.push(len, b);
    this.size += 4 + b.length;
    return this;
  }

  /** json appends a JSON value (bigints as strings). */
  json(v: unknown): this {
    return this.bytes(new TextEncoder().encode(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))));
  }

  /** finish concatenates the parts. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** PinReader reads what PinWriter wrote, bounds-checked. */
export class PinReader {
  private at = 0;
  constructor(private readonly b: Uint8Array, private readonly path: string) {}

  /** bytes reads one length-prefixed part. */
  bytes(): Uint8Array {
    if (this.at + 4 > this.b.length) throw new BpfError('E_PIN', `${this.path}: truncated payload`);
    const len = new DataView(this.b.buffer, this.b.byteOffset + this.at, 4).getUint32(0, true);
    this.at += 4;
    if (this.at + len > this.b.length) throw new BpfError('E_PIN', `${this.path}: truncated payload`);
    const out = this.b.subarray(this.at, this.at + len);
    this.at += len;
    return out;
  }

  /** json reads one JSON part. */
  json<T>(): T {
    try {
      return JSON.parse(new TextDecoder().decode(this.bytes())) as T;
    } catch (e) {
      throw new BpfError('E_PIN', `${this.path}: bad header: ${(e as Error).message}`);
    }
  }

  /** done tells whether everything was read. */
  get done(): boolean {
    return this.at >= this.b.length;
  }
}
