/**
 * Streaming a pcapng file through the batch filter: each window read from the source is
 * converted in place into classic records (ng-convert.ts), then scanned and compacted by the
 * same WebAssembly loop as classic files, so the output is the classic pcap file
 * `tsbpf pcap filter` writes for pcapng input, and no packet becomes a JavaScript object.
 */
import type { CbpfProgram } from '../cbpf/opcodes.js';
import { AddressSpace } from '../vm/memory.js';
import { writePcap } from '../pcap/write.js';
import { MAX_PACKET_LEN, PCAPNG_SHB } from '../pcap/format.js';
import { corrupt } from '../pcap/read.js';
import { allocWindow, PcapBatchFilter, SCAN_COMPACT, SCAN_LIST, type ScanWindow } from './batch.js';
import { DEFAULT_WINDOW, listRecords, streamPcapFilter, type PcapSink, type PcapSource, type StreamOptions, type StreamResult } from './batch-stream.js';
import { NgConverter } from './ng-convert.js';

/** NgRun is the state of one pcapng stream. */
interface NgRun {
  space: AddressSpace;
  conv: NgConverter;
  compile: (linktype: number) => CbpfProgram;
  sink: PcapSink;
  win: ScanWindow;
  f?: PcapBatchFilter;
}

/**
 * streamPcapngFilter filters a pcapng file: `prefix` holds its first bytes (already read, at
 * most the window size), `src` the rest. Results are as streamPcapFilter's, plus `skipped`.
 */
export function streamPcapngFilter(prefix: Uint8Array, compile: (linktype: number) => CbpfProgram, src: PcapSource,
  sink: PcapSink, opts: StreamOptions = {}): StreamResult {
  const space = new AddressSpace({ initialBytes: 1 << 20 });
  const cap0 = Math.max(opts.window ?? DEFAULT_WINDOW, prefix.length, 64);
  const run: NgRun = { space, conv: new NgConverter(space), compile, sink, win: allocWindow(space, cap0) };
  space.u8.set(prefix, run.win.addr);
  let carry = prefix.length;
  let untried = carry > 0; // the prefix has not been converted yet
  let fileOff = 0; // file offset of the window's first byte
  let left = src.size;
  for (;;) {
    const { addr: win, cap } = run.win;
    const got = src.read(space.u8, win + carry, cap - carry);
    if (left !== undefined) left -= got;
    if (got === 0 && !untried) return finish(run, carry ? run.conv.incomplete(win, fileOff, win, win + carry) : undefined);
    untried = false;
    const n = win + carry + got;
    const r = run.conv.convert(win, fileOff, win, n, win);
    if (run.conv.linktype >= 0) ensureFilter(run);
    if (r.out > win) scanWindow(run, r.out);
    carry = n - r.p;
    fileOff += r.p - win;
    if (carry) space.u8.copyWithin(win, r.p, n);
    if (carry === cap) {
      // not even one block fits: grow the window to the block's length, unless the file is shorter
      const need = run.conv.blockLength(win);
      if (left !== undefined && need > carry + left) return finish(run, run.conv.incomplete(win, fileOff, win, win + carry));
      // unknown size (a pipe): a block cannot be much longer than the longest packet
      if (need > MAX_PACKET_LEN + 4096) {
        throw corrupt(`block length ${need} is implausible`, fileOff + 4);
      }
      run.win = allocWindow(space, need);
      run.f?.useWindow(run.win);
      space.u8.copyWithin(run.win.addr, win, win + carry);
    }
  }
}

/** ensureFilter compiles the filter once the file's link type is known, and writes the file header. */
function ensureFilter(run: NgRun): PcapBatchFilter {
  if (run.f) return run.f;
  const c = run.conv;
  const lt = c.linktype >= 0 ? c.linktype : 1;
  run.f = new PcapBatchFilter(run.compile(lt), { littleEndian: true, space: run.space });
  run.f.useWindow(run.win);
  run.sink.write?.(writePcap([], { linktype: lt, snaplen: c.snaplen || 262144 }), 0, 24);
  return run.f;
}

/** scanWindow filters the records converted into [win, end) and hands the selection to the sink. */
function scanWindow(run: NgRun, end: number): void {
  const f = run.f!, sink = run.sink;
  const flags = sink.record ? SCAN_LIST : sink.write ? SCAN_COMPACT : 0;
  const r = f.scan(run.win.addr, end, flags);
  if (sink.record) {
    const skips = run.conv.skipAt;
    let k = 0;
    // a record's number in the file counts the skipped packets before it
    listRecords(f, r.list, { littleEndian: true, nanosecond: false }, sink, (n) => {
      while (k < skips.length && skips[k] <= n - 1) k++;
      return n + k;
    });
  }
  if (flags === SCAN_COMPACT && r.dst > run.win.addr) sink.write!(run.space.u8, run.win.addr, r.dst - run.win.addr);
}

function finish(run: NgRun, truncation: ReturnType<NgConverter['incomplete']> | undefined): StreamResult {
  const c = run.conv;
  // a file ending before any interface description has no packets: the truncation is the error
  if (truncation && c.linktype < 0) throw truncation;
  const f = ensureFilter(run);
  const head = { linktype: c.linktype >= 0 ? c.linktype : 1, snaplen: c.snaplen, nanosecond: false, littleEndian: true };
  return { head, records: f.records + c.skipAt.length, selected: f.selected, warning: truncation, skipped: c.skipAt.length };
}

/**
 * streamCaptureFilter filters a classic pcap or pcapng file, told apart by `prefix` (the
 * file's first bytes: at least 24 for classic pcap; fewer only for a file that short).
 */
export function streamCaptureFilter(prefix: Uint8Array, compile: (linktype: number) => CbpfProgram, src: PcapSource,
  sink: PcapSink, opts: StreamOptions = {}): StreamResult {
  const ng = prefix.length >= 4 && new DataView(prefix.buffer, prefix.byteOffset, 4).getUint32(0, true) === PCAPNG_SHB;
  return ng ? streamPcapngFilter(prefix, compile, src, sink, opts) : streamPcapFilter(prefix, compile, src, sink, opts);
}
