/**
 * A minimal raw BTF writer for tests: INT and STRUCT types, encoded as the kernel's
 * BPF_BTF_LOAD takes them (and as tsbpf's parseBtf reads them), so one blob describes a map
 * value to both.
 */

/** BlobMember is one struct member: name, type id, byte offset. */
export interface BlobMember {
  name: string;
  type: number;
  off: number;
}

/** BtfBlob accumulates types (ids from 1) and strings. */
export class BtfBlob {
  private readonly types: number[] = [];
  private readonly strs: number[] = [0];
  private n = 0;

  private str(s: string): number {
    if (s === '') return 0;
    const at = this.strs.length;
    for (const ch of new TextEncoder().encode(s)) this.strs.push(ch);
    this.strs.push(0);
    return at;
  }

  /** int adds an unsigned integer of `size` bytes; returns its id. */
  int(name: string, size: number): number {
    this.types.push(this.str(name), (1 << 24) >>> 0, size, size * 8);
    return ++this.n;
  }

  /** struct adds a struct of `size` bytes; returns its id. */
  struct(name: string, size: number, members: BlobMember[]): number {
    this.types.push(this.str(name), ((4 << 24) | members.length) >>> 0, size);
    for (const m of members) this.types.push(this.str(m.name), m.type, m.off * 8);
    return ++this.n;
  }

  /** bytes encodes header, type section and string section. */
  bytes(): Uint8Array {
    const typeLen = this.types.length * 4, strLen = this.strs.length;
    const out = new Uint8Array(24 + typeLen + strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, true);
    dv.setUint8(2, 1);
    dv.setUint32(4, 24, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, typeLen, true);
    dv.setUint32(16, typeLen, true);
    dv.setUint32(20, strLen, true);
    this.types.forEach((v, i) => dv.setUint32(24 + i * 4, v, true));
    out.set(this.strs, 24 + typeLen);
    return out;
  }
}

/**
 * lockValueBtf describes `struct value { u64 a; struct bpf_spin_lock lock; u32 pad; u64 b; }`
 * (24 bytes, lock at 8) and `struct plain { u64 x, y; }`; with `bad` also a struct Linux
 * refuses at BPF_BTF_LOAD already: two locks (E2BIG) or a lock at offset 6 (EFAULT).
 */
export function lockValueBtf(bad?: 'two' | 'misaligned'): { blob: Uint8Array; u32: number; value: number; noLock: number; bad: number } {
  const b = new BtfBlob();
  const u32 = b.int('unsigned int', 4), u64 = b.int('long long unsigned int', 8);
  const lock = b.struct('bpf_spin_lock', 4, [{ name: 'val', type: u32, off: 0 }]);
  const value = b.struct('value', 24, [{ name: 'a', type: u64, off: 0 }, { name: 'lock', type: lock, off: 8 },
    { name: 'pad', type: u32, off: 12 }, { name: 'b', type: u64, off: 16 }]);
  const noLock = b.struct('plain', 16, [{ name: 'x', type: u64, off: 0 }, { name: 'y', type: u64, off: 8 }]);
  let badId = -1;
  if (bad === 'two') badId = b.struct('two', 16, [{ name: 'l1', type: lock, off: 0 }, { name: 'l2', type: lock, off: 4 }, { name: 'x', type: u64, off: 8 }]);
  if (bad === 'misaligned') badId = b.struct('mis', 12, [{ name: 'c', type: u32, off: 0 }, { name: 'l', type: lock, off: 6 }]);
  return { blob: b.bytes(), u32, value, noLock, bad: badId };
}
