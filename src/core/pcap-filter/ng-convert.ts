/**
 * NgConverter turns pcapng blocks, in place, into the classic pcap records the batch filter
 * scans (little-endian, microsecond timestamps: exactly the records `tsbpf pcap filter`
 * writes for a pcapng input). A classic record is never longer than the block it comes from
 * and starts no later (it ends inside its block), so converting a window of blocks leaves the records packed at its
 * start with no copy of the window. Checks and error messages are readPcapng's, with file
 * offsets; packets of another link type than the first interface's are counted and skipped.
 */
import type { BpfError } from '../errors.js';
import { corrupt, truncated } from '../pcap/read.js';
import { PCAPNG_BYTE_ORDER_MAGIC, PCAPNG_EPB, PCAPNG_IDB, PCAPNG_OPB, PCAPNG_SHB, PCAPNG_SPB } from '../pcap/format.js';

/** NgIface is an interface description: link type, snap length, timestamp units per second. */
interface NgIface {
  linktype: number;
  snaplen: number;
  ups: bigint;
  /** ups as a number when the fast division is exact (ups <= 2^33), else 0 */
  fast: number;
  /** packets of this interface are filtered (same link type as the file's first interface) */
  ok: boolean;
}

/** ConvertResult: blocks were consumed up to `p`, records written up to `out`. */
export interface ConvertResult {
  p: number;
  out: number;
}

/** NgConverter keeps the state of a pcapng stream across windows. */
export class NgConverter {
  /** link type and snap length of the first interface (-1 before the first IDB) */
  linktype = -1;
  snaplen = 0;
  /** packets converted, and the converted count at each skipped packet (for record numbers) */
  converted = 0;
  skipAt: number[] = [];
  private le = true;
  private started = false;
  private ifaces: NgIface[] = [];
  private dv!: DataView;
  private u8!: Uint8Array;
  /** file offset of address 0 of the current window's memory */
  private delta = 0;

  /**
   * convert converts the complete blocks in [p, n) of `u8` (the window starts at file offset
   * `fileOff` + 0 at address `win`), writing records from `out`; stops at an incomplete block.
   */
  convert(u8: Uint8Array, win: number, fileOff: number, p: number, n: number, out: number): ConvertResult {
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.delta = fileOff - win;
    while (n - p >= 12) {
      const len = this.blockHeader(p);
      if (n - p < len) break;
      out = this.block(p, len, out);
      p += len;
    }
    return { p, out };
  }

  /**
   * incomplete is the error for the file ending inside the block at `p` (n - p bytes left),
   * after the checks readPcapng makes first (which may find the block corrupt instead).
   */
  incomplete(u8: Uint8Array, win: number, fileOff: number, p: number, n: number): BpfError {
    this.u8 = u8;
    this.dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    this.delta = fileOff - win;
    if (n - p < 12) return truncated('block header', this.off(p));
    return truncated(`block of ${this.blockHeader(p)} bytes`, this.off(p));
  }

  /** blockLength is the length field of the block at `p` (its header must be in the window). */
  blockLength(u8: Uint8Array, p: number): number {
    return new DataView(u8.buffer, u8.byteOffset + p + 4, 4).getUint32(0, this.le);
  }

  private off(a: number): number {
    return a + this.delta;
  }

  /** blockHeader applies a section header's byte order and checks the block length; returns it. */
  private blockHeader(p: number): number {
    const dv = this.dv;
    const type = dv.getUint32(p, this.le);
    if (type === PCAPNG_SHB) {
      if (dv.getUint32(p + 8, true) === PCAPNG_BYTE_ORDER_MAGIC) this.le = true;
      else if (dv.getUint32(p + 8, false) === PCAPNG_BYTE_ORDER_MAGIC) this.le = false;
      else throw corrupt('bad byte-order magic in section header block', this.off(p + 8));
      this.ifaces = []; // interface ids are per section
      this.started = true;
    } else if (!this.started) {
      throw corrupt('pcapng file does not start with a section header block', this.off(p));
    }
    const len = dv.getUint32(p + 4, this.le);
    if (len < 12 || len % 4 !== 0) throw corrupt(`block length ${len} is invalid`, this.off(p + 4));
    return len;
  }

  private block(p: number, len: number, out: number): number {
    const dv = this.dv, le = this.le;
    if (dv.getUint32(p + len - 4, le) !== len) throw corrupt('block trailing length does not match', this.off(p + len - 4));
    const type = dv.getUint32(p, le);
    const body = p + 8, end = p + len - 4;
    if (type === PCAPNG_EPB || type === PCAPNG_OPB) {
      if (body + 20 > end) throw corrupt('packet block too short', this.off(body));
      const id = type === PCAPNG_OPB ? dv.getUint16(body, le) : dv.getUint32(body, le);
      const f = this.iface(id, body);
      const caplen = dv.getUint32(body + 12, le);
      if (body + 20 + caplen > end) throw corrupt(`captured length ${caplen} overruns its block`, this.off(body + 12));
      return this.emit(out, f, dv.getUint32(body + 4, le), dv.getUint32(body + 8, le), body + 20, caplen, dv.getUint32(body + 16, le));
    }
    if (type === PCAPNG_SPB) {
      if (body + 4 > end) throw corrupt('simple packet block too short', this.off(body));
      const f = this.iface(0, body);
      const orig = dv.getUint32(body, le);
      return this.emit(out, f, 0, 0, body + 4, Math.min(orig, f.snaplen || orig, end - body - 4), orig);
    }
    if (type === PCAPNG_IDB) this.idb(body, end);
    return out;
  }

  private iface(id: number, at: number): NgIface {
    const f = this.ifaces[id];
    if (!f) throw corrupt(`packet refers to undefined interface ${id}`, this.off(at));
    return f;
  }

  private idb(body: number, end: number): void {
    const dv = this.dv, le = this.le;
    if (body + 8 > end) throw corrupt('interface description block too short', this.off(body));
    const linktype = dv.getUint16(body, le), snaplen = dv.getUint32(body + 4, le);
    let ups = 1000000n;
    for (let p = body + 8; p + 4 <= end;) {
      const code = dv.getUint16(p, le), len = dv.getUint16(p + 2, le);
      if (code === 0) break;
      if (p + 4 + len > end) throw corrupt(`option ${code} overruns its block`, this.off(p));
      if (code === 9 && len >= 1) {
        const r = this.u8[p + 4];
        ups = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r & 0x7f);
      }
      p += 4 + ((len + 3) & ~3);
    }
    if (this.linktype < 0) {
      this.linktype = linktype;
      this.snaplen = snaplen;
    }
    const fast = ups > 0n && ups <= 1n << 33n ? Number(ups) : 0;
    this.ifaces.push({ linktype, snaplen, ups, fast, ok: linktype === this.linktype });
  }

  /** emit writes the classic record of a packet (or counts it as skipped); returns the new `out`. */
  private emit(out: number, f: NgIface, hi: number, lo: number, data: number, caplen: number, orig: number): number {
    if (!f.ok) {
      this.skipAt.push(this.converted);
      return out;
    }
    const [sec, usec] = f.fast ? splitFast(hi, lo, f.fast) : splitBig(hi, lo, f.ups);
    const dv = this.dv;
    // data first: a simple packet block's data starts 12 bytes in, inside the header about to be written
    this.u8.copyWithin(out + 16, data, data + caplen);
    dv.setUint32(out, sec, true);
    dv.setUint32(out + 4, usec, true);
    dv.setUint32(out + 8, caplen, true);
    dv.setUint32(out + 12, orig, true);
    this.converted++;
    return out + 16 + caplen;
  }
}

/**
 * splitFast divides the 64-bit timestamp hi:lo by `ups` (<= 2^33) by long division in base
 * 2^16, exact in doubles (remainder * 2^16 + digit < 2^49), and returns the low 32 bits of
 * the seconds (what a classic record holds) and the microseconds, floor(rem * 10^6 / ups).
 */
function splitFast(hi: number, lo: number, ups: number): [number, number] {
  let r = 0, q = 0;
  for (const digit of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
    const v = r * 65536 + digit;
    const d = Math.floor(v / ups);
    r = v - d * ups;
    q = (q * 65536 + d) % 4294967296;
  }
  return [q, Math.floor((r * 1000000) / ups)];
}

/** splitBig is splitFast for any resolution, with BigInt. */
function splitBig(hi: number, lo: number, ups: bigint): [number, number] {
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const nsec = ((units % ups) * 1000000000n) / ups;
  return [Number((units / ups) & 0xffffffffn), Number(nsec / 1000n)];
}
