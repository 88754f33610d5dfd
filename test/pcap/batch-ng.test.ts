/**
 * The batch filter on pcapng input: blocks converted in place into classic records, then the
 * WebAssembly scan. The reference is the general path (readCapture, the classic reference
 * interpreter per packet, writePcap): outputs byte for byte, record numbers, warnings and
 * errors, over sections in both byte orders, several interfaces and timestamp resolutions,
 * EPB/OPB/SPB and other blocks, other link types, small windows and short reads, truncated
 * and corrupted files; and tcpdump's selections for the same corpus as pcap and pcapng.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCbpf } from '../../src/core/cbpf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { readCapture, writePcap, writePcapng, type PacketLike } from '../../src/core/pcap/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { streamCaptureFilter } from '../../src/core/pcap-filter/batch-ng.js';
import type { PcapSink } from '../../src/core/pcap-filter/batch-stream.js';
import { filterPcapFile } from '../../src/node/pcap/filter-file.js';
import { pcapCommand } from '../../src/cli/commands/pcap.js';
import type { CliIo } from '../../src/cli/io.js';
import { makeCorpus } from './packets.js';

interface NgIf { linktype: number; snaplen?: number; tsresol?: number }
type NgBlock = { kind: 'epb' | 'opb'; iface: number; pkt: PacketLike; opts?: boolean } | { kind: 'spb'; pkt: PacketLike }
  | { kind: 'other'; type: number; size: number };
interface NgSection { le: boolean; ifaces: NgIf[]; blocks: NgBlock[] }

/** unitsPerSec is an if_tsresol value's timestamp unit count per second. */
const unitsPerSec = (r = 6): bigint => (r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r));

/** ngFile writes pcapng sections block by block, in each section's byte order. */
function ngFile(sections: NgSection[]): Uint8Array {
  const parts: number[] = [];
  const block = (le: boolean, type: number, body: number[]): void => {
    while (body.length % 4) body.push(0);
    const len = body.length + 12;
    parts.push(...u32(type, le), ...u32(len, le), ...body, ...u32(len, le));
  };
  for (const s of sections) {
    block(s.le, 0x0a0d0d0a, [...u32(0x1a2b3c4d, s.le), ...u16(1, s.le), ...u16(0, s.le), ...new Array(8).fill(0xff)]);
    for (const f of s.ifaces) {
      const opts = f.tsresol === undefined ? [] : [...u16(9, s.le), ...u16(1, s.le), f.tsresol, 0, 0, 0];
      block(s.le, 1, [...u16(f.linktype, s.le), 0, 0, ...u32(f.snaplen ?? 0, s.le), ...opts, ...u16(0, s.le), ...u16(0, s.le)]);
    }
    for (const b of s.blocks) {
      if (b.kind === 'other') block(s.le, b.type, new Array(b.size).fill(0x5a));
      else if (b.kind === 'spb') block(s.le, 3, [...u32(b.pkt.origLen ?? b.pkt.data.length, s.le), ...b.pkt.data]);
      else {
        const ups = unitsPerSec(s.ifaces[b.iface]?.tsresol);
        const units = BigInt(b.pkt.tsSec ?? 0) * ups + (BigInt(b.pkt.tsNsec ?? 0) * ups) / 1000000000n;
        const id = b.kind === 'opb' ? [...u16(b.iface, s.le), 0, 0] : u32(b.iface, s.le);
        const data = [...b.pkt.data];
        while (data.length % 4) data.push(0);
        const opts = b.opts ? [...u16(1, s.le), ...u16(5, s.le), 104, 101, 108, 108, 111, 0, 0, 0, ...u16(0, s.le), ...u16(0, s.le)] : [];
        block(s.le, b.kind === 'opb' ? 2 : 6, [...id, ...u32(Number(units >> 32n), s.le), ...u32(Number(units & 0xffffffffn), s.le),
          ...u32(b.pkt.data.length, s.le), ...u32(b.pkt.origLen ?? b.pkt.data.length, s.le), ...data, ...opts]);
      }
    }
  }
  return Uint8Array.from(parts);
}

function u32(v: number, le: boolean): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, le);
  return [...b];
}
function u16(v: number, le: boolean): number[] {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, le);
  return [...b];
}

/** reference filters with the general path: readCapture, the reference interpreter, writePcap. */
function reference(expr: string, bytes: Uint8Array) {
  let cap;
  try {
    cap = readCapture(bytes, { lenient: true });
  } catch (e) {
    return { error: e };
  }
  const prog = compileFilter(expr, { linktype: cap.linktype });
  const sel: PacketLike[] = [], numbers: number[] = [];
  let skipped = 0;
  cap.packets.forEach((p, i) => {
    if (p.linktype !== cap.linktype) skipped++;
    else if (runCbpf(prog, p.data, { wireLen: p.origLen }) !== 0) {
      sel.push(p);
      numbers.push(i + 1);
    }
  });
  const out = writePcap(sel, { linktype: cap.linktype, snaplen: cap.snaplen || 262144, nanosecond: false });
  return { out, numbers, warning: cap.warning?.message, skipped, usec: sel.map((p) => Math.floor((p.tsNsec ?? 0) / 1000)) };
}

/** batch runs streamCaptureFilter with a window size and reads of at most `chunk` bytes. */
function batch(expr: string, bytes: Uint8Array, window: number, chunk: number, list: boolean, sized = true) {
  const pre = Math.min(24, bytes.length);
  let pos = pre;
  const parts: number[] = [], numbers: number[] = [], usec: number[] = [];
  const sink: PcapSink = { write: (b, off, len) => void parts.push(...b.subarray(off, off + len)) };
  if (list) sink.record = (n, _s, ns) => void (numbers.push(n), usec.push(Math.floor(ns / 1000)));
  const src = {
    size: sized ? bytes.length - pre : undefined,
    read(buf: Uint8Array, off: number, len: number): number {
      const k = Math.min(len, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + k), off);
      pos += k;
      return k;
    },
  };
  try {
    const res = streamCaptureFilter(bytes.subarray(0, pre), (lt) => compileFilter(expr, { linktype: lt }), src, sink, { window });
    return { out: Uint8Array.from(parts), numbers, usec, warning: res.warning?.message, skipped: res.skipped ?? 0 };
  } catch (e) {
    return { error: e };
  }
}

const corpus = makeCorpus(21, 400).map((p, i) => ({ ...p, tsNsec: (i * 7919137) % 1e9 }));

/** mixed is a file with two sections (both byte orders), five interfaces, every packet block kind and other blocks. */
function mixed(): Uint8Array {
  const blocks = (from: number, to: number, ifaces: number[], raw?: number): NgBlock[] => corpus.slice(from, to).flatMap((pkt, i): NgBlock[] => {
    const k = i % 7;
    const out: NgBlock[] = [];
    if (k === 3) out.push({ kind: 'other', type: k === 3 ? 5 : 4, size: 20 + (i % 9) });
    if (raw !== undefined && i % 11 === 5) out.push({ kind: 'epb', iface: raw, pkt: { ...pkt, data: pkt.data.subarray(14) } });
    if (k === 1) out.push({ kind: 'spb', pkt });
    else if (k === 2) out.push({ kind: 'opb', iface: ifaces[i % ifaces.length], pkt });
    else out.push({ kind: 'epb', iface: ifaces[i % ifaces.length], pkt, opts: k === 4 });
    return out;
  });
  return ngFile([
    { le: true, ifaces: [{ linktype: 1, snaplen: 1500 }, { linktype: 1, tsresol: 9 }, { linktype: 101 }, { linktype: 1, tsresol: 0x94 }],
      blocks: blocks(0, 200, [0, 1, 3], 2) },
    { le: false, ifaces: [{ linktype: 1, tsresol: 3 }, { linktype: 1, tsresol: 0x80 | 30 }, { linktype: 1, tsresol: 12 }],
      blocks: blocks(200, 400, [0, 1, 2]) },
  ]);
}

const EXPRS = ['tcp port 80', 'vlan and udp', 'ip6 or arp', '', 'len >= 100 and not tcp'];

test('pcapng batch: the general path\'s output, numbers, timestamps and skip count, in any window and read size', () => {
  const bytes = mixed();
  for (const expr of EXPRS) {
    const ref = reference(expr, bytes);
    assert.ok(!('error' in ref), 'the file reads');
    assert.ok(ref.skipped > 5 && ref.numbers.length > 0, 'the file exercises skips and selections');
    for (const [window, chunk] of [[1 << 20, Infinity], [64, 7], [300, 1000], [4096, 333]]) {
      const got = batch(expr, bytes, window, chunk, true);
      assert.deepEqual(got, ref, `${expr} window ${window} chunk ${chunk}`);
      const written = batch(expr, bytes, window, chunk, false, false);
      assert.deepEqual(written.out, ref.out, `${expr} unsized`);
    }
  }
});

test('pcapng batch: a plain pcapng file filters like its classic pcap twin', () => {
  const pkts = corpus.map((p) => ({ ...p, tsNsec: Math.floor(p.tsNsec / 1000) * 1000 }));
  for (const expr of EXPRS) {
    const ng = batch(expr, writePcapng(pkts), 1 << 16, Infinity, true);
    const classic = batch(expr, writePcap(pkts), 1 << 16, Infinity, true);
    assert.deepEqual(ng, classic, expr);
  }
});

test('pcapng batch: truncated and corrupted files give the general path\'s warnings and errors', () => {
  const bytes = mixed().subarray(0, 6000);
  const cuts = [0, 3, 11, 12, 27, 28, 40, 100, 163, 500, 1001, 2048, 3333, 5999];
  for (const cut of cuts) {
    const b = bytes.subarray(0, cut);
    const ref = reference('tcp', b), got = batch('tcp', b, 256, 50, true);
    if ('error' in ref) {
      assert.ok('error' in got && isBpfError(got.error) && isBpfError(ref.error), `cut ${cut}`);
      assert.equal(got.error.message, ref.error.message, `cut ${cut}`);
    } else assert.deepEqual(got, ref, `cut ${cut}`);
  }
  let state = 7;
  const rnd = (n: number): number => ((state = (state * 1103515245 + 12345) >>> 0) % n);
  for (let k = 0; k < 300; k++) {
    const b = bytes.slice();
    for (let j = 0; j < 1 + rnd(3); j++) b[rnd(b.length)] = rnd(256);
    const ref = reference('udp', b);
    for (const sized of [true, false]) {
      const got = batch('udp', b, 512, 100, true, sized);
      if ('error' in ref) {
        assert.ok('error' in got && isBpfError(got.error), `corruption ${k}: ${'error' in got ? got.error : 'no error'}`);
        if (sized) assert.equal(got.error.message, (ref.error as Error).message, `corruption ${k}`);
      } else if (sized) assert.deepEqual(got, ref, `corruption ${k}`);
      else assert.ok('error' in got || got.warning !== undefined || got.out.length === ref.out.length, `corruption ${k} unsized`);
    }
  }
});

test('pcap filter on pcapng: the jit engine (batch) and the ref engine print and write the same', async () => {
  const bytes = mixed();
  const io = (files: Record<string, Uint8Array>) => {
    const r = { out: '', err: '', files } as { out: string; err: string; files: Record<string, Uint8Array | string> } & CliIo;
    Object.assign(r, {
      stdout: (t: string) => void (r.out += t), stderr: (t: string) => void (r.err += t),
      readFile: (p: string) => files[p], writeFile: (p: string, d: Uint8Array) => void (r.files[p] = d), readStdin: () => new Uint8Array(0),
    });
    return r;
  };
  for (const args of [['--count'], [], ['-w', 'out.pcap']]) {
    const results = [];
    for (const engine of ['jit', 'ref']) {
      const x = io({ 'in.pcapng': bytes.subarray(0, bytes.length - 9) });
      const status = await pcapCommand(['filter', 'tcp or udp', 'in.pcapng', ...args, '--engine', engine], x);
      results.push({ status, out: x.out, err: x.err, file: x.files['out.pcap'] });
    }
    assert.deepEqual(results[0], results[1], args.join(' '));
    assert.equal(results[0].status, 1, 'truncated input');
    assert.match(results[0].err, /packets of other link types skipped/);
  }
});

test('tcpdump selects the same packets from the pcapng and pcap files as the batch filter', (t) => {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return t.skip('tcpdump not installed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-ng-'));
  const pkts = makeCorpus(23, 3000);
  writeFileSync(join(dir, 'in.pcap'), writePcap(pkts));
  writeFileSync(join(dir, 'in.pcapng'), writePcapng(pkts));
  for (const expr of ['tcp port 80', 'udp and dst net 10.0.0.0/8', 'ip6 or arp', 'vlan and tcp[tcpflags] & tcp-syn != 0', 'icmp or icmp6']) {
    const sel: Uint8Array[][] = [];
    for (const input of ['in.pcap', 'in.pcapng']) {
      const out = join(dir, `out-${input}.pcap`);
      filterPcapFile(join(dir, input), (lt) => compileFilter(expr, { linktype: lt }), { write: out, window: 8192 });
      sel.push(readCapture(new Uint8Array(readFileSync(out))).packets.map((p) => p.data));
      const td = execFileSync('tcpdump', ['-r', join(dir, input), '-w', '-', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
      sel.push(readCapture(new Uint8Array(td)).packets.map((p) => p.data));
    }
    assert.ok(sel[0].length > 0, `${expr} selects`);
    for (const s of sel.slice(1)) assert.deepEqual(s, sel[0], expr);
  }
});
