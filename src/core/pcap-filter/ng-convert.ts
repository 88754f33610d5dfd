/**
 * NgConverter turns pcapng blocks, in place, into the classic pcap records the batch filter
 * scans (little-endian, microsecond timestamps: exactly the records `tsbpf pcap filter`
 * writes for a pcapng input). A classic record is never longer than the block it comes from
 * and starts no later (it ends inside its block), so converting a window of blocks leaves the records packed at its
 * start with no copy of the window; the moves are listed and done in WebAssembly (ng-wasm.ts).
 * Checks and error messages are readPcapng's, with file offsets; packets of another link type
 * than the first interface's are counted and skipped.
 */
import type { BpfError } from '../errors.js';
import { corrupt, truncated } from '../pcap/read.js';
import type { AddressSpace } from '../vm/memory.js';
import { instantiateMoves, MOVE_WORDS, type MoveFn } from './ng-wasm.js';
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
  /** the last timestamp split: seconds (low 32 bits) and microseconds */
  private sec = 0;
  private usec = 0;
  private dv!: DataView;
  private u8!: Uint8Array;
  /** file offset of address 0 of the current window's memory */
  private delta = 0;
  /** the move list (address, capacity in moves, moves listed) and the function performing it */
  private list = { addr: 0, cap: 0, n: 0, u32: new Uint32Array(0) };
  private readonly moves: MoveFn;

  /** the converter works in `space` (the filter's address space: windows and its move list). */
  constructor(private readonly space: AddressSpace) {
    this.moves = instantiateMoves(space.memory, space.shared);
  }

  /**
   * convert converts the complete blocks in [p, n) (the window at address `win` starts at
   * file offset `fileOff`), writing records from `out`; stops at an incomplete block.
   */
  convert(win: number, fileOff: number, p: number, n: number, out: number): ConvertResult {
    this.reserve((n - p) >>> 4);
    this.view(win, fileOff);
    while (n - p >= 12) {
      const len = this.blockHeader(p);
      if (n - p < len) break;
      out = this.block(p, len, out);
      p += len;
    }
    this.flush();
    return { p, out };
  }

  /**
   * incomplete is the error for the file ending inside the block at `p` (n - p bytes left),
   * after the checks readPcapng makes first (which may find the block corrupt instead).
   */
  incomplete(win: number, fileOff: number, p: number, n: number): BpfError {
    this.view(win, fileOff);
    if (n - p < 12) return truncated('block header', this.off(p));
    return truncated(`block of ${this.blockHeader(p)} bytes`, this.off(p));
  }

  /** blockLength is the length field of the block at `p` (its header must be in the window). */
  blockLength(p: number): number {
    return this.space.dv.getUint32(p + 4, this.le);
  }

  private view(win: number, fileOff: number): void {
    this.u8 = this.space.u8;
    this.dv = this.space.dv;
    this.delta = fileOff - win;
  }

  /** reserve makes room for `moves` listed moves (a block is at least 16 bytes). */
  private reserve(moves: number): void {
    if (moves > this.list.cap) {
      const cap = moves + (moves >>> 1) + 16;
      this.list = { addr: this.space.alloc(cap * MOVE_WORDS * 4, 8), cap, n: 0, u32: new Uint32Array(0) };
    }
    this.list.u32 = new Uint32Array(this.space.memory.buffer, this.list.addr, this.list.cap * MOVE_WORDS);
    this.list.n = 0;
  }

  /** flush performs the listed moves. */
  private flush(): void {
    const l = this.list;
    if (l.n) this.moves(l.addr, l.addr + l.n * MOVE_WORDS * 4);
    l.n = 0;
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
    if (f.fast) this.splitFast(hi, lo, f.fast);
    else this.splitBig(hi, lo, f.ups);
    const l = this.list, k = l.n++ * MOVE_WORDS, u32 = l.u32;
    u32[k] = out;
    u32[k + 1] = data;
    u32[k + 2] = caplen;
    u32[k + 3] = this.sec;
    u32[k + 4] = this.usec;
    u32[k + 5] = orig;
    this.converted++;
    return out + 16 + caplen;
  }

  /**
   * splitFast divides the 64-bit timestamp hi:lo by `ups` (<= 2^33) into the low 32 bits of
   * the seconds (what a classic record holds) and the microseconds, floor(rem * 10^6 / ups),
   * exactly in doubles: directly below 2^53 units, else by long division in base 2^16
   * (remainder * 2^16 + digit < 2^49). Results in this.sec / this.usec (no allocation per packet).
   */
  private splitFast(hi: number, lo: number, ups: number): void {
    let q: number, r: number;
    if (hi < 0x200000) {
      const ts = hi * 4294967296 + lo;
      q = Math.floor(ts / ups);
      r = ts - q * ups;
      // the quotient of two doubles may round up past an integer
      if (r < 0) {
        q--;
        r += ups;
      }
    } else {
      q = 0;
      r = 0;
      for (let k = 0; k < 4; k++) {
        const v = r * 65536 + (k === 0 ? hi >>> 16 : k === 1 ? hi & 0xffff : k === 2 ? lo >>> 16 : lo & 0xffff);
        const d = Math.floor(v / ups);
        r = v - d * ups;
        // (q * 2^16 + d) mod 2^32 without a floating-point modulo
        q = (((q & 0xffff) * 65536) + d) >>> 0;
      }
    }
    this.sec = q >>> 0;
    this.usec = Math.floor((r * 1000000) / ups);
  }

  /** splitBig is splitFast for any resolution, with BigInt. */
  private splitBig(hi: number, lo: number, ups: bigint): void {
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    this.sec = Number((units / ups) & 0xffffffffn);
    this.usec = Number((((units % ups) * 1000000000n) / ups) / 1000n);
  }
}
