/**
 * filterPcapFile: the Node side of the batch pcap filter (classic pcap and pcapng). The input is read window by window
 * with fs.readSync straight into a view of the filter's WebAssembly memory (no intermediate
 * buffer), and the selected records leave with one write per window.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import type { CbpfProgram } from '../../core/cbpf/opcodes.js';
import { BpfError } from '../../core/errors.js';
import type { PcapSink, StreamResult } from '../../core/pcap-filter/batch-stream.js';
import { streamCaptureFilter } from '../../core/pcap-filter/batch-ng.js';

/** FileFilterOptions choose the outputs. */
export interface FileFilterOptions {
  /** output file for the selected records ("-": standard output) */
  write?: string;
  /** called for each selected record (see PcapSink.record) */
  record?: PcapSink['record'];
  /** window size in bytes */
  window?: number;
}

/**
 * filterPcapFile filters the classic pcap or pcapng file at `path` ("-": standard input) and
 * writes the selection as a classic pcap file.
 */
export function filterPcapFile(path: string, compile: (linktype: number) => CbpfProgram,
  opts: FileFilterOptions = {}): StreamResult {
  const fd = path === '-' ? 0 : open(path, 'r');
  try {
    const seekable = path !== '-';
    const header = new Uint8Array(24);
    let got = 0;
    while (got < 24) {
      const k = readSync(fd, header, got, 24 - got, seekable ? got : null);
      if (k === 0) break;
      got += k;
    }
    let pos = got;
    const size = seekable ? Math.max(0, fstatSync(fd).size - pos) : undefined;
    const src = {
      size,
      read(buf: Uint8Array, off: number, len: number): number {
        const k = readSync(fd, buf, off, len, seekable ? pos : null);
        pos += k;
        return k;
      },
    };
    return withOutput(opts.write, (sink) => streamCaptureFilter(header.subarray(0, got), compile, src,
      { ...sink, record: opts.record }, { window: opts.window }));
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

function withOutput<T>(path: string | undefined, run: (sink: PcapSink) => T): T {
  if (path === undefined) return run({});
  const fd = path === '-' ? 1 : open(path, 'w');
  try {
    return run({ write: (buf, off, len) => writeAll(fd, buf, off, len) });
  } finally {
    if (fd !== 1) closeSync(fd);
  }
}

function writeAll(fd: number, buf: Uint8Array, off: number, len: number): void {
  while (len > 0) {
    const k = writeSync(fd, buf, off, len);
    off += k;
    len -= k;
  }
}

function open(path: string, flags: string): number {
  try {
    return openSync(path, flags);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new BpfError(err.code === 'ENOENT' ? 'ENOENT' : 'EINVAL', `${path}: ${err.message}`, {}, { cause: e });
  }
}
