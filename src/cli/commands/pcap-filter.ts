/**
 * `tsbpf pcap filter EXPR IN [-w OUT] [--count] [--engine js|jit|interp|ref] [--via-tcpdump]`:
 * select the packets of a classic pcap or pcapng capture with a pcap-filter expression
 * (the implementation; pcap.ts is the entry the CLI loads, through the startup cache).
 * The expression is compiled by tsbpf's own compiler, or with --via-tcpdump by libpcap
 * (`tcpdump -ddd`, for anything outside tsbpf's subset), then run on the chosen engine.
 */
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { BpfError } from '../../core/errors.js';
import { compileCbpfPcapScanner, parseDDD } from '../../core/cbpf/index.js';
import type { CbpfProgram } from '../../core/cbpf/index.js';
import { compileFilter } from '../../core/pcap-filter/index.js';
import { MAX_PACKET_LEN, PCAPNG_SHB, readCapture, scanPcap, truncated, writePcap } from '../../core/pcap/index.js';
import { implausible } from '../../core/pcap-filter/batch.js';
import type { CapturedPacket } from '../../core/pcap/index.js';
import type { PcapSink, StreamResult } from '../../core/pcap-filter/batch-stream.js';
import { streamCaptureFilter } from '../../core/pcap-filter/batch-ng.js';
import { filterPcapFile } from '../../node/pcap/filter-file.js';
import { processIo, type CliIo } from '../io.js';

const USAGE = `Usage: tsbpf pcap filter EXPR IN.pcap [-w OUT.pcap] [--count] [--engine js|jit|interp|ref] [--via-tcpdump]
  Selects the packets of a pcap or pcapng file that match a pcap-filter expression.
  Without -w or --count, prints one line per selected packet (number, time, lengths).
  Engines: jit (default: the program converted to eBPF and JIT-compiled to WebAssembly, run over
  the file's records by a WebAssembly loop), js (the classic program compiled to JavaScript),
  interp (converted, on tsbpf's eBPF interpreter), ref (the reference classic interpreter).
`;

/** DLT_NAMES maps link types to the names tcpdump -y takes. */
const DLT_NAMES: Record<number, string> = { 1: 'EN10MB', 101: 'RAW', 113: 'LINUX_SLL', 0: 'NULL', 276: 'LINUX_SLL2' };

/** compileExpression compiles with tsbpf, or with libpcap through `tcpdump -ddd` when viaTcpdump is set. */
export function compileExpression(expr: string, linktype: number, viaTcpdump: boolean): CbpfProgram {
  if (!viaTcpdump) return compileFilter(expr, { linktype });
  // loaded only here: node:child_process costs a fresh process several milliseconds
  const { execFileSync } = createRequire(process.execPath)('node:child_process') as typeof import('node:child_process');
  const dlt = DLT_NAMES[linktype];
  if (!dlt) throw new BpfError('EINVAL', `--via-tcpdump: no tcpdump name known for link type ${linktype}`);
  let out: string;
  try {
    out = execFileSync('tcpdump', ['-ddd', '-y', dlt, '--', expr], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new BpfError('ENOENT', '--via-tcpdump: tcpdump is not installed');
    const msg = (err.stderr?.toString() ?? '').split('\n').filter((l) => l && !l.startsWith('Warning')).join('; ');
    throw new BpfError('EINVAL', `tcpdump rejected the expression: ${msg}`);
  }
  return parseDDD(out);
}

/** pcapCommand implements `tsbpf pcap` (pcap.ts runs it from the startup cache when it can). */
export async function pcapCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'filter') return filter(rest, io);
  if (sub === undefined || sub === 'help') {
    io.stdout(USAGE);
    return sub ? 0 : 1;
  }
  io.stderr(`Error: unknown pcap command "${sub}"\n${USAGE}`);
  return 1;
}

async function filter(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      write: { type: 'string', short: 'w' }, count: { type: 'boolean', default: false },
      engine: { type: 'string', default: 'jit' }, 'via-tcpdump': { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2) throw new BpfError('EINVAL', USAGE.trimEnd());
  const [expr, input] = positionals;
  const compile = (lt: number): CbpfProgram => compileExpression(expr, lt, values['via-tcpdump']!);
  if (values.engine === 'jit' && io === processIo) {
    const list = values.count || values.write ? undefined : new Listing(io);
    return report(filterPcapFile(input, compile, { write: values.write, record: list?.record }), values, io, list);
  }
  const bytes = io.readFile(input);
  const ng = bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) === PCAPNG_SHB;
  if (values.engine === 'js' && !ng) return fastFilter(expr, bytes, values, io);
  if (values.engine === 'jit') return batchBytes(bytes, compile, values, io);
  const { verdictFn } = await import('./cbpf.js');
  const cap = readCapture(bytes, { lenient: true });
  if (cap.warning) io.stderr(`warning: ${cap.warning.message}\n`);
  const prog = compileExpression(expr, cap.linktype, values['via-tcpdump']!);
  const verdict = await verdictFn(prog, values.engine!);
  const selected: CapturedPacket[] = [];
  const numbers: number[] = [];
  let skipped = 0;
  cap.packets.forEach((p, i) => {
    if (p.linktype !== cap.linktype) {
      skipped++;
      return;
    }
    if (verdict(p.data, p.origLen) !== 0) {
      selected.push(p);
      numbers.push(i + 1);
    }
  });
  if (skipped) io.stderr(`warning: ${skipped} packets of other link types skipped\n`);
  if (values.write) io.writeFile(values.write, writePcap(selected, { linktype: cap.linktype, snaplen: cap.snaplen || 262144, nanosecond: cap.nanosecond }));
  if (values.count) io.stdout(`${selected.length}\n`);
  else if (!values.write) {
    io.stdout(selected.map((p, k) => `${numbers[k]} ${p.tsSec}.${String(Math.floor(p.tsNsec / 1000)).padStart(6, '0')} len ${p.origLen} caplen ${p.data.length}\n`).join(''));
  }
  return cap.warning ? 1 : 0;
}

/** Listing collects tsbpf's one-line-per-packet listing of selected records. */
class Listing {
  private lines: string[] = [];
  constructor(private readonly io: CliIo) {}
  readonly record = (n: number, sec: number, nsec: number, orig: number, cap: number): void => {
    this.lines.push(`${n} ${sec}.${String(Math.floor(nsec / 1000)).padStart(6, '0')} len ${orig} caplen ${cap}\n`);
    if (this.lines.length >= 4096) this.flush();
  };
  flush(): void {
    if (this.lines.length) this.io.stdout(this.lines.join(''));
    this.lines = [];
  }
}

/** report prints the rest of a batch run's output (listing, count, warning) and returns the exit status. */
function report(res: StreamResult, values: FilterFlags, io: CliIo, list: Listing | undefined): number {
  list?.flush();
  if (res.warning) io.stderr(`warning: ${res.warning.message}\n`);
  if (res.skipped) io.stderr(`warning: ${res.skipped} packets of other link types skipped\n`);
  if (values.count) io.stdout(`${res.selected}\n`);
  return res.warning ? 1 : 0;
}

/** batchBytes runs the batch (WebAssembly) filter over a capture (classic pcap or pcapng) already in memory. */
function batchBytes(bytes: Uint8Array, compile: (lt: number) => CbpfProgram, values: FilterFlags, io: CliIo): number {
  let pos = Math.min(24, bytes.length);
  const src = {
    size: bytes.length - pos,
    read(buf: Uint8Array, off: number, len: number): number {
      const k = Math.min(len, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + k), off);
      pos += k;
      return k;
    },
  };
  const parts: Uint8Array[] = [];
  const sink: PcapSink = {};
  if (values.write) sink.write = (buf, off, len) => void parts.push(buf.slice(off, off + len));
  const list = values.count || values.write ? undefined : new Listing(io);
  sink.record = list?.record;
  const res = streamCaptureFilter(bytes.subarray(0, pos), compile, src, sink);
  if (values.write) io.writeFile(values.write, concat(parts));
  return report(res, values, io, list);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

interface FilterFlags {
  write?: string;
  count?: boolean;
  'via-tcpdump'?: boolean;
}

/**
 * fastFilter filters a classic pcap file in place: records are scanned without packet objects,
 * the filter is the classic program compiled to JavaScript, and the output file is the input's
 * header followed by the selected records, byte for byte.
 */
function fastFilter(expr: string, bytes: Uint8Array, values: FilterFlags, io: CliIo): number {
  const head = scanPcap(bytes.subarray(0, 24), () => undefined);
  const prog = compileExpression(expr, head.linktype, values['via-tcpdump']!);
  const scan = compileCbpfPcapScanner(prog, head.littleEndian, MAX_PACKET_LEN);
  const recs: number[] = [];
  const stop = scan(bytes, 24, bytes.length, recs);
  let warning: BpfError | undefined;
  if (stop < 0) throw implausible(-1 - stop);
  if (stop < bytes.length) warning = truncated('packet record', stop);
  if (warning) io.stderr(`warning: ${warning.message}\n`);
  // record numbers are needed only for the listing
  const numbers: number[] = [];
  if (!values.count && !values.write) {
    let k = 0;
    let index = 0;
    scanPcap(bytes.subarray(0, stop), (rec) => {
      index++;
      if (recs[k] === rec) {
        numbers.push(index);
        k += 2;
      }
    }, { lenient: true });
  }
  let size = 24;
  for (let i = 1; i < recs.length; i += 2) size += recs[i];
  if (values.write) {
    const out = new Uint8Array(size);
    out.set(bytes.subarray(0, 24));
    for (let i = 0, o = 24; i < recs.length; i += 2) {
      out.set(bytes.subarray(recs[i], recs[i] + recs[i + 1]), o);
      o += recs[i + 1];
    }
    io.writeFile(values.write, out);
  }
  if (values.count) io.stdout(`${recs.length / 2}\n`);
  else if (!values.write) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const lines = numbers.map((n, k) => {
      const r = recs[2 * k];
      const sec = dv.getUint32(r, head.littleEndian);
      const frac = dv.getUint32(r + 4, head.littleEndian);
      const usec = head.nanosecond ? Math.floor(frac / 1000) : frac;
      return `${n} ${sec}.${String(usec).padStart(6, '0')} len ${dv.getUint32(r + 12, head.littleEndian)} caplen ${recs[2 * k + 1] - 16}\n`;
    });
    io.stdout(lines.join(''));
  }
  return warning ? 1 : 0;
}
