/**
 * Capture files: classic pcap and pcapng round trips, byte orders and timestamp resolutions,
 * and corrupt or truncated files giving BpfErrors (never raw exceptions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture, writePcap, writePcapng, PCAP_MAGIC_NSEC } from '../../src/core/pcap/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { makeCorpus, rng } from './packets.js';

const corpus = makeCorpus(42, 200);

function hasTcpdump(): boolean {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('classic pcap round trip keeps data, lengths and timestamps', () => {
  const cap = readCapture(writePcap(corpus));
  assert.equal(cap.format, 'pcap');
  assert.equal(cap.linktype, 1);
  assert.equal(cap.packets.length, corpus.length);
  cap.packets.forEach((p, i) => {
    assert.deepEqual(p.data, corpus[i].data);
    assert.equal(p.origLen, corpus[i].origLen);
    assert.equal(p.tsSec, corpus[i].tsSec);
    assert.equal(p.tsNsec, Math.floor(corpus[i].tsNsec! / 1000) * 1000);
  });
});

test('nanosecond pcap keeps nanoseconds', () => {
  const bytes = writePcap([{ data: new Uint8Array([1, 2, 3]), tsSec: 5, tsNsec: 123456789 }], { nanosecond: true });
  assert.equal(new DataView(bytes.buffer).getUint32(0, true), PCAP_MAGIC_NSEC);
  const cap = readCapture(bytes);
  assert.equal(cap.nanosecond, true);
  assert.equal(cap.packets[0].tsNsec, 123456789);
});

test('big-endian classic pcap is read', () => {
  const le = writePcap(corpus.slice(0, 3));
  const be = new Uint8Array(le);
  const dv = new DataView(be.buffer);
  const swap32 = (o: number): void => dv.setUint32(o, new DataView(le.buffer).getUint32(o, true), false);
  const swap16 = (o: number): void => dv.setUint16(o, new DataView(le.buffer).getUint16(o, true), false);
  [0, 8, 12, 16, 20].forEach(swap32);
  [4, 6].forEach(swap16);
  let o = 24;
  for (let i = 0; i < 3; i++) {
    const incl = new DataView(le.buffer).getUint32(o + 8, true);
    [o, o + 4, o + 8, o + 12].forEach(swap32);
    o += 16 + incl;
  }
  const cap = readCapture(be);
  assert.equal(cap.packets.length, 3);
  assert.deepEqual(cap.packets[2].data, corpus[2].data);
});

test('pcapng round trip keeps data, lengths and nanosecond timestamps', () => {
  const pkts = corpus.slice(0, 50).map((p, i) => ({ ...p, tsNsec: i * 7919 }));
  const cap = readCapture(writePcapng(pkts));
  assert.equal(cap.format, 'pcapng');
  assert.equal(cap.packets.length, 50);
  cap.packets.forEach((p, i) => {
    assert.deepEqual(p.data, pkts[i].data);
    assert.equal(p.origLen, pkts[i].origLen);
    assert.equal(p.tsSec, pkts[i].tsSec);
    assert.equal(p.tsNsec, i * 7919);
  });
});

test('pcapng written by tsbpf is read by tcpdump', (t) => {
  if (!hasTcpdump()) return t.skip('tcpdump not installed');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-pcap-'));
  const ng = join(dir, 'in.pcapng');
  writeFileSync(ng, writePcapng(corpus));
  const out = execFileSync('tcpdump', ['-r', ng, '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const cap = readCapture(new Uint8Array(out));
  assert.equal(cap.packets.length, corpus.length);
  assert.deepEqual(cap.packets[10].data, corpus[10].data);
  const text = execFileSync('tcpdump', ['-r', ng, '-nn', '-c', '1', '-tt'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  assert.match(text, new RegExp(`^${corpus[0].tsSec}\\.`));
});

test('truncated and corrupt files give BpfErrors with offsets', () => {
  const good = writePcap(corpus.slice(0, 5));
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), 'E_TRUNCATED'],
    [good.subarray(0, 10), 'E_TRUNCATED'],
    [good.subarray(0, 30), 'E_TRUNCATED'],
    [good.subarray(0, good.length - 3), 'E_TRUNCATED'],
    [new Uint8Array(64).fill(0x41), 'EINVAL'],
  ];
  const huge = new Uint8Array(good);
  new DataView(huge.buffer).setUint32(24 + 8, 0x7fffffff, true);
  cases.push([huge, 'EINVAL']);
  const ng = writePcapng(corpus.slice(0, 3));
  const badLen = new Uint8Array(ng);
  new DataView(badLen.buffer).setUint32(28 + 4, 13, true);
  cases.push([badLen, 'EINVAL'], [ng.subarray(0, ng.length - 5), 'E_TRUNCATED']);
  for (const [bytes, code] of cases) {
    assert.throws(() => readCapture(bytes), (e: unknown) => isBpfError(e) && e.code === code && /offset \d+/.test(e.message));
  }
});

test('lenient read keeps the complete packets before a truncated record', () => {
  const good = writePcap(corpus.slice(0, 5));
  const cap = readCapture(good.subarray(0, good.length - 3), { lenient: true });
  assert.equal(cap.packets.length, 4);
  assert.equal(cap.warning?.code, 'E_TRUNCATED');
});

test('random corruption never escapes as a non-BpfError', () => {
  const r = rng(9);
  const bases = [writePcap(corpus.slice(0, 20)), writePcapng(corpus.slice(0, 20))];
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(bases[n % 2]);
    const flips = 1 + Math.floor(r() * 4);
    for (let i = 0; i < flips; i++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
    const cut = r() < 0.3 ? Math.floor(r() * b.length) : b.length;
    try {
      const cap = readCapture(b.subarray(0, cut), { lenient: r() < 0.5 });
      for (const p of cap.packets) assert.ok(p.data.length <= b.length);
    } catch (e) {
      assert.ok(isBpfError(e), `unexpected ${String(e)}`);
    }
  }
});
