/**
 * Capture files for packet paths (switch ports): frames offered in place (buffer, offset,
 * length) are tested with a compiled pcap-filter expression and the matching ones appended
 * to a classic pcap file through a buffer flushed with one write per MiB.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BpfError } from '../../core/errors.js';
import { createCaptureFilter, type CaptureFilter } from '../../core/pcap-filter/capture.js';
import { LINKTYPE_ETHERNET, PCAP_MAGIC_NSEC } from '../../core/pcap/format.js';

/** CaptureSpec is a parsed `--capture PORT:EXPR:FILE` option. */
export interface CaptureSpec {
  port: number;
  expr: string;
  file: string;
}

/**
 * parseCaptureSpec reads `PORT:EXPR:FILE`: the port index before the first colon, the file
 * after the last one, the expression (which may contain colons, `ip[2:2]`, IPv6) between.
 */
export function parseCaptureSpec(spec: string): CaptureSpec {
  const a = spec.indexOf(':'), b = spec.lastIndexOf(':');
  const port = Number(spec.slice(0, a));
  if (a < 0 || a === b || !/^\d+$/.test(spec.slice(0, a)) || b === spec.length - 1) {
    throw new BpfError('EINVAL', `bad capture "${spec}": expected PORT:EXPR:FILE (e.g. 0:tcp port 80:web.pcap)`);
  }
  return { port, expr: spec.slice(a + 1, b), file: spec.slice(b + 1) };
}

const FLUSH = 1 << 20;

/** PcapCaptureFile appends the frames that match a filter to a classic pcap file (nanosecond timestamps). */
export class PcapCaptureFile {
  readonly filter: CaptureFilter;
  /** frames offered and frames written */
  seen = 0;
  matched = 0;
  private fd: number;
  private buf = new Uint8Array(FLUSH + 65536 + 16);
  private dv = new DataView(this.buf.buffer);
  private len = 0;

  constructor(readonly file: string, expr: string, snaplen = 262144) {
    this.filter = createCaptureFilter(expr, { linktype: LINKTYPE_ETHERNET });
    try {
      this.fd = openSync(file, 'w');
    } catch (e) {
      throw new BpfError('E_IO', `cannot write ${file}: ${(e as Error).message}`);
    }
    const h = this.dv;
    h.setUint32(0, PCAP_MAGIC_NSEC, true);
    h.setUint16(4, 2, true);
    h.setUint16(6, 4, true);
    h.setUint32(16, snaplen, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.len = 24;
  }

  /** offer tests the frame at buf[off, off + len) and records it when it matches (returns whether it did). */
  offer(buf: Uint8Array, off: number, len: number, nowMs = Date.now()): boolean {
    this.seen++;
    if (!this.filter(buf, off, len)) return false;
    this.matched++;
    if (this.len + 16 + len > this.buf.length) this.flush();
    if (16 + len > this.buf.length) this.grow(16 + len);
    const d = this.dv, p = this.len;
    d.setUint32(p, Math.floor(nowMs / 1000), true);
    d.setUint32(p + 4, Math.round((nowMs % 1000) * 1e6), true);
    d.setUint32(p + 8, len, true);
    d.setUint32(p + 12, len, true);
    this.buf.set(buf.subarray(off, off + len), p + 16);
    this.len = p + 16 + len;
    if (this.len >= FLUSH) this.flush();
    return true;
  }

  /** flush writes the buffered records. */
  flush(): void {
    let off = 0;
    while (off < this.len) off += writeSync(this.fd, this.buf, off, this.len - off);
    this.len = 0;
  }

  /** close flushes and closes the file. */
  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private grow(size: number): void {
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
  }
}
