/**
 * The batch filter: the WebAssembly record loop calling the JIT-compiled converted program,
 * and the windowed streaming around it (core and Node file paths). Selections are compared
 * with the reference classic interpreter; outputs byte for byte with writePcap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCbpf } from '../../src/core/cbpf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { writePcap, writePcapng } from '../../src/core/pcap/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { filterPcapRecords } from '../../src/core/pcap-filter/batch.js';
import { streamPcapFilter, type PcapSink } from '../../src/core/pcap-filter/batch-stream.js';
import { filterPcapFile } from '../../src/node/pcap/filter-file.js';
import { makeCorpus } from './packets.js';
import type { PacketLike } from '../../src/core/pcap/write.js';

const corpus = makeCorpus(11, 1500).map((p, i) => ({ ...p, tsSec: 1700000000 + i, tsNsec: i * 1000 }));
const EXPRS = ['tcp port 80', 'vlan and udp', 'ip[6:2] & 0x1fff != 0', 'ip6 and not tcp', 'len >= 100 or arp', 'host 10.0.0.1'];

/** num is a corpus packet's 1-based record number (kept in its timestamp). */
const num = (p: PacketLike): number => (p.tsSec ?? 0) - 1700000000 + 1;

function want(expr: string, pkts: PacketLike[] = corpus): PacketLike[] {
  const prog = compileFilter(expr);
  return pkts.filter((p) => runCbpf(prog, p.data, { wireLen: p.origLen }) !== 0);
}

/** bigEndian rewrites a little-endian classic pcap file in big-endian byte order. */
function bigEndian(le: Uint8Array): Uint8Array {
  const out = le.slice();
  const src = new DataView(le.buffer, le.byteOffset), dst = new DataView(out.buffer);
  dst.setUint32(0, src.getUint32(0, true), false);
  dst.setUint16(4, src.getUint16(4, true), false);
  dst.setUint16(6, src.getUint16(6, true), false);
  for (const o of [8, 12, 16, 20]) dst.setUint32(o, src.getUint32(o, true), false);
  for (let p = 24; p < le.length;) {
    for (let k = 0; k < 16; k += 4) dst.setUint32(p + k, src.getUint32(p + k, true), false);
    p += 16 + src.getUint32(p + 8, true);
  }
  return out;
}

/** stream runs streamPcapFilter over bytes with reads of at most `chunk` bytes. */
function stream(expr: string, bytes: Uint8Array, window: number, chunk = Infinity, list = false) {
  let pos = 24;
  const parts: number[] = [];
  const numbers: number[] = [];
  const sink: PcapSink = { write: (b, off, len) => void parts.push(...b.subarray(off, off + len)) };
  if (list) sink.record = (n) => void numbers.push(n);
  const src = {
    read(buf: Uint8Array, off: number, len: number): number {
      const k = Math.min(len, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + k), off);
      pos += k;
      return k;
    },
  };
  const res = streamPcapFilter(bytes.subarray(0, 24), (lt) => compileFilter(expr, { linktype: lt }), src, sink, { window });
  return { res, out: new Uint8Array(parts), numbers };
}

test('batch filter selects what the reference interpreter selects, in both byte orders', () => {
  const le = writePcap(corpus);
  const be = bigEndian(le);
  for (const expr of EXPRS) {
    const expected = want(expr).map((p) => num(p));
    for (const bytes of [le, be]) {
      const sel = filterPcapRecords(compileFilter(expr), bytes, 24, bytes === le);
      assert.deepEqual(sel.numbers, expected, expr);
      assert.equal(sel.stop, bytes.length);
      assert.ok(expected.length > 0 && expected.length < corpus.length, `${expr} discriminates`);
    }
  }
});

test('streaming with small windows and short reads writes exactly the selected records', () => {
  const bytes = writePcap(corpus);
  for (const expr of EXPRS) {
    const expected = writePcap(want(expr));
    for (const [window, chunk] of [[1 << 20, Infinity], [4096, Infinity], [3000, 777], [1600, 100]]) {
      const { res, out } = stream(expr, bytes, window, chunk);
      assert.deepEqual(out, expected, `${expr} window ${window} chunk ${chunk}`);
      assert.equal(res.records, corpus.length);
      assert.equal(res.selected, want(expr).length);
      assert.equal(res.warning, undefined);
    }
    const listed = stream(expr, bytes, 2048, 500, true);
    assert.deepEqual(listed.numbers, want(expr).map((p) => num(p)));
    assert.deepEqual(listed.out, expected, 'listing and writing together');
  }
});

test('a record longer than the window grows it; truncated and corrupt files are reported with offsets', () => {
  const big = { ...corpus[0], data: new Uint8Array(9000).map((_, i) => i), origLen: 9000 };
  const pkts = [corpus[1], big, corpus[2]];
  const bytes = writePcap(pkts);
  assert.deepEqual(stream('', bytes, 1024).out, bytes);
  const cut = bytes.subarray(0, bytes.length - 5);
  const last = 24 + 16 + pkts[0].data.length + 16 + 9000;
  const r = stream('', cut, 1024);
  assert.equal(r.res.warning?.code, 'E_TRUNCATED');
  assert.equal(r.res.warning?.context.address, last);
  assert.deepEqual(r.out, writePcap(pkts.slice(0, 2)));
  // a long record cut short is truncated without reading it whole when the size is known
  const cut2 = bytes.subarray(0, 24 + 16 + pkts[0].data.length + 100);
  let pos = 24;
  const res = streamPcapFilter(cut2.subarray(0, 24), () => compileFilter(''), {
    size: cut2.length - 24,
    read: (buf, off, len) => {
      const k = Math.min(len, cut2.length - pos);
      buf.set(cut2.subarray(pos, pos + k), off);
      pos += k;
      return k;
    },
  }, {}, { window: 1024 });
  assert.equal(res.warning?.context.address, 24 + 16 + pkts[0].data.length);
  const bad = bytes.slice();
  new DataView(bad.buffer).setUint32(24 + 16 + pkts[0].data.length + 8, 0x7fffffff, true);
  assert.throws(() => stream('', bad, 1024), (e: unknown) => isBpfError(e) && e.code === 'EINVAL' && e.context.address === 24 + 16 + pkts[0].data.length);
});

test('filterPcapFile reads files window by window into Wasm memory, classic pcap and pcapng', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-batch-'));
  const input = join(dir, 'in.pcap');
  writeFileSync(input, writePcap(corpus));
  for (const expr of EXPRS) {
    const out = join(dir, 'out.pcap');
    const numbers: number[] = [];
    const res = filterPcapFile(input, (lt) => compileFilter(expr, { linktype: lt }), { write: out, window: 5000 });
    assert.deepEqual(new Uint8Array(readFileSync(out)), writePcap(want(expr)));
    assert.equal(res?.selected, want(expr).length);
    filterPcapFile(input, (lt) => compileFilter(expr, { linktype: lt }), { record: (n) => void numbers.push(n) });
    assert.deepEqual(numbers, want(expr).map((p) => num(p)));
  }
  const ng = join(dir, 'in.pcapng');
  writeFileSync(ng, writePcapng(corpus));
  const out = join(dir, 'ng-out.pcap');
  const res = filterPcapFile(ng, (lt) => compileFilter('tcp', { linktype: lt }), { write: out, window: 3000 });
  assert.equal(res.selected, want('tcp').length);
  assert.deepEqual(new Uint8Array(readFileSync(out)), writePcap(want('tcp')), 'pcapng in, the classic file of the selection out');
  assert.throws(() => filterPcapFile(join(dir, 'missing.pcap'), () => compileFilter('tcp')), (e: unknown) => isBpfError(e) && e.code === 'ENOENT');
});
