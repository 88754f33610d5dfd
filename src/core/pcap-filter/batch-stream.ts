/**
 * Streaming a classic pcap file through a PcapBatchFilter: the file is read window by window
 * straight into the filter's address space (no intermediate copy), each window is filtered in
 * WebAssembly, and the selected records, compacted in place, go to the sink in one write per
 * window. Platform-neutral: the caller supplies the reads and writes (files, fetch, memory).
 */
import { BpfError } from '../errors.js';
import type { CbpfProgram } from '../cbpf/opcodes.js';
import { scanPcap, truncated, type PcapScan } from '../pcap/read.js';
import { implausible, PcapBatchFilter, SCAN_COMPACT, SCAN_LIST } from './batch.js';

/** PcapSource yields the bytes after the 24-byte file header. */
export interface PcapSource {
  /** read fills buf[off, off + len) with the next bytes; returns how many (0 at the end) */
  read(buf: Uint8Array, off: number, len: number): number;
  /** bytes left after the header, when known (lets a record longer than the window be called truncated without reading it) */
  size?: number;
}

/** PcapSink receives the output. */
export interface PcapSink {
  /** write gets the file header, then the selected records in order (views valid during the call only) */
  write?(buf: Uint8Array, off: number, len: number): void;
  /** record gets each selected record: its 1-based number, timestamp (seconds, nanoseconds) and lengths */
  record?(number: number, tsSec: number, tsNsec: number, origLen: number, capLen: number): void;
}

/** StreamOptions tune streamPcapFilter. */
export interface StreamOptions {
  /** window size in bytes (default 1 MiB; grown for a longer record) */
  window?: number;
}

/** StreamResult summarises a run. */
export interface StreamResult {
  head: PcapScan;
  records: number;
  selected: number;
  /** set when the file ends inside a record (the complete records were filtered) */
  warning?: BpfError;
  /** pcapng: packets of other link types than the first interface's, left out */
  skipped?: number;
}

/** DEFAULT_WINDOW: small enough to stay in L2/L3 between the read and the scan, large enough that per-window costs vanish. */
export const DEFAULT_WINDOW = 1 << 20;

/**
 * streamPcapFilter filters a classic pcap file: `header` is its first 24 bytes, `compile`
 * gets the file's link type and returns the classic program, `src` the rest of the file.
 */
export function streamPcapFilter(header: Uint8Array, compile: (linktype: number) => CbpfProgram, src: PcapSource,
  sink: PcapSink, opts: StreamOptions = {}): StreamResult {
  const head = scanPcap(header.subarray(0, 24), () => undefined);
  const f = new PcapBatchFilter(compile(head.linktype), { littleEndian: head.littleEndian });
  sink.write?.(header, 0, 24);
  // compaction overwrites records the list points to: with both, listed records are written one by one
  const flags = sink.record ? SCAN_LIST : sink.write ? SCAN_COMPACT : 0;
  let cap = opts.window ?? DEFAULT_WINDOW;
  let win = f.window(cap);
  let carry = 0;
  let fileOff = 24; // file offset of the window's first byte
  let left = src.size;
  for (;;) {
    const got = src.read(f.ctx.space.u8, win + carry, cap - carry);
    if (left !== undefined) left -= got;
    if (got === 0) {
      const warning = carry ? truncatedAt(fileOff) : undefined;
      return { head, records: f.records, selected: f.selected, warning };
    }
    const n = win + carry + got;
    const r = f.scan(win, n, flags);
    if (r.stop < 0) throw implausible(fileOff + (-1 - r.stop - win));
    const u8 = f.ctx.space.u8;
    if (sink.record) listRecords(f, r.list, head, sink);
    if (flags === SCAN_COMPACT && r.dst > win) sink.write!(u8, win, r.dst - win);
    carry = n - r.stop;
    fileOff += r.stop - win;
    if (carry) u8.copyWithin(win, r.stop, n);
    if (carry === cap) {
      // not even one record fits: grow the window to the record's size, unless the file is shorter
      const need = 16 + recordLen(u8, win, head.littleEndian);
      if (left !== undefined && need > carry + left) return { head, records: f.records, selected: f.selected, warning: truncatedAt(fileOff) };
      const old = win;
      cap = need;
      win = f.window(cap);
      f.ctx.space.u8.copyWithin(win, old, old + carry);
    }
  }
}

function recordLen(u8: Uint8Array, at: number, le: boolean): number {
  return new DataView(u8.buffer, u8.byteOffset + at + 8, 4).getUint32(0, le);
}

function truncatedAt(off: number): BpfError {
  return truncated('packet record', off);
}

/**
 * listRecords reports the (address, number) pairs the scan left in the list area (`number`
 * maps the scan's record numbers to the file's), writing each listed record when there is a writer.
 */
export function listRecords(f: PcapBatchFilter, end: number, head: Pick<PcapScan, 'littleEndian' | 'nanosecond'>,
  sink: PcapSink, number: (n: number) => number = (n) => n): void {
  const dv = f.ctx.space.dv;
  const le = head.littleEndian, scale = head.nanosecond ? 1 : 1000;
  for (let e = f.listAddr; e < end; e += 8) {
    const p = dv.getUint32(e, true);
    const capLen = dv.getUint32(p + 8, le);
    sink.record!(number(dv.getUint32(e + 4, true)), dv.getUint32(p, le), dv.getUint32(p + 4, le) * scale, dv.getUint32(p + 12, le), capLen);
    sink.write?.(f.ctx.space.u8, p, 16 + capLen);
  }
}
