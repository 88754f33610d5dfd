/**
 * tcpdump as the oracle. For generated captures (classic pcap and pcapng: many protocols,
 * VLAN/QinQ, IPv4 fragments, IPv6 extension headers, truncated and runt frames) and every
 * expression of the corpus: `tcpdump -r IN EXPR` and tsbpf's compiled filter select exactly the
 * same packets (reference interpreter and converted on the JIT), and tcpdump's own -ddd program
 * gives the same verdicts in tsbpf's cBPF interpreter and, converted, on the JIT; -d prints back.
 * The batch filter (the WebAssembly record loop calling the JIT-compiled program) runs both
 * programs over the classic file's records as stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture, writePcap, writePcapng } from '../../src/core/pcap/index.js';
import type { CapturedPacket } from '../../src/core/pcap/index.js';
import { checkCbpf, compileCbpfToJs, convertCbpf, formatD, loadConverted, parseCbpf, runCbpf } from '../../src/core/cbpf/index.js';
import type { CbpfProgram } from '../../src/core/cbpf/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { filterPcapRecords } from '../../src/core/pcap-filter/batch.js';
import { jit } from '../../src/core/jit/index.js';
import { EXPRESSIONS } from './expressions.js';
import { makeCorpus } from './packets.js';

function tcpdump(args: string[]): Buffer {
  return execFileSync('tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
}

function available(): boolean {
  try {
    tcpdump(['--version']);
    return true;
  } catch {
    return false;
  }
}

/** selected returns the indices (encoded in the timestamps) of the packets a filter accepts. */
function selected(pkts: CapturedPacket[], verdict: (p: CapturedPacket) => number): string {
  return pkts.filter((p) => verdict(p) !== 0).map((p) => p.tsSec - 1700000000).join(',');
}

function viaTcpdump(file: string, expr: string): string {
  const cap = readCapture(new Uint8Array(tcpdump(['-r', file, '-w', '-', '--', expr])));
  return cap.packets.map((p) => p.tsSec - 1700000000).join(',');
}

/** batchSelected runs the batch filter over the records of a classic pcap file (little-endian). */
function batchSelected(prog: CbpfProgram, bytes: Uint8Array, pkts: CapturedPacket[]): string {
  const sel = filterPcapRecords(prog, bytes, 24, true);
  assert.equal(sel.stop, bytes.length);
  return sel.numbers.map((n) => pkts[n - 1].tsSec - 1700000000).join(',');
}

function oracleRun(t: { skip(msg: string): void }, file: string, label: string): void {
  const bytes = new Uint8Array(execFileSync('cat', [file]));
  const pkts = readCapture(bytes).packets;
  assert.ok(EXPRESSIONS.length >= 200, 'at least 200 expressions');
  const failures: string[] = [];
  for (const expr of EXPRESSIONS) {
    const want = viaTcpdump(file, expr);
    const ours = compileFilter(expr);
    const conv = loadConverted(jit, convertCbpf(ours), undefined, { checked: false });
    const check = (what: string, prog: CbpfProgram | null, got: string): void => {
      if (got !== want) failures.push(`${label} ${what} ${JSON.stringify(expr)}: tcpdump [${want.slice(0, 80)}] tsbpf [${got.slice(0, 80)}]${prog ? '\n' + formatD(prog) : ''}`);
    };
    check('compiled/interp', ours, selected(pkts, (p) => runCbpf(ours, p.data, { wireLen: p.origLen })));
    check('compiled/jit', ours, selected(pkts, (p) => conv.run(p.data, { wireLen: p.origLen })));
    const js = compileCbpfToJs(ours);
    check('compiled/js', ours, selected(pkts, (p) => js(p.data, p.origLen)));
    if (label !== 'pcap') continue; // the -ddd programs and the batch filter's records need the classic container
    check('compiled/batch', ours, batchSelected(ours, bytes, pkts));
    const ddd = parseCbpf(tcpdump(['-ddd', '-y', 'EN10MB', '--', expr]).toString());
    checkCbpf(ddd);
    const dtext = tcpdump(['-d', '-y', 'EN10MB', '--', expr]).toString();
    if (formatD(ddd) !== dtext) failures.push(`-d text differs for ${expr}:\n${formatD(ddd)}\nvs\n${dtext}`);
    const dconv = loadConverted(jit, convertCbpf(ddd), undefined, { checked: false });
    check('tcpdump-ddd/interp', null, selected(pkts, (p) => runCbpf(ddd, p.data, { wireLen: p.origLen })));
    check('tcpdump-ddd/jit', null, selected(pkts, (p) => dconv.run(p.data, { wireLen: p.origLen })));
    check('tcpdump-ddd/batch', null, batchSelected(ddd, bytes, pkts));
  }
  assert.deepEqual(failures, []);
  void t;
}

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-oracle-'));

test('tcpdump oracle: classic pcap, all expressions, all paths', (t) => {
  if (!available()) return t.skip('tcpdump not installed');
  const file = join(dir, 'corpus.pcap');
  writeFileSync(file, writePcap(makeCorpus(7, 2500), { linktype: 1 }));
  oracleRun(t, file, 'pcap');
});

test('tcpdump oracle: pcapng input with another corpus', (t) => {
  if (!available()) return t.skip('tcpdump not installed');
  const file = join(dir, 'corpus.pcapng');
  writeFileSync(file, writePcapng(makeCorpus(3, 2500), { linktype: 1 }));
  oracleRun(t, file, 'pcapng');
});

test('tcpdump oracle: the corpus is varied enough to be meaningful', (t) => {
  if (!available()) return t.skip('tcpdump not installed');
  const file = join(dir, 'corpus.pcap');
  writeFileSync(file, writePcap(makeCorpus(7, 2500), { linktype: 1 }));
  // every class of packet is present, and most expressions select some but not all packets
  for (const expr of ['vlan', 'vlan and vlan', 'ip[6:2] & 0x1fff != 0', 'ip6 proto 0', 'ip6 proto 44', 'arp', 'rarp', 'sctp', 'icmp6', 'igmp']) {
    assert.notEqual(viaTcpdump(file, expr), '', `no packet matches ${expr}`);
  }
  const total = readCapture(new Uint8Array(execFileSync('cat', [file]))).packets.length;
  const truncated = readCapture(new Uint8Array(execFileSync('cat', [file]))).packets.filter((p) => p.data.length < p.origLen).length;
  assert.ok(truncated > 50, 'truncated packets present');
  let discriminating = 0;
  for (const expr of EXPRESSIONS.slice(0, 80)) {
    const n = viaTcpdump(file, expr).split(',').filter((x) => x !== '').length;
    if (n > 0 && n < total) discriminating++;
  }
  assert.ok(discriminating > 70, `only ${discriminating} of 80 expressions discriminate`);
});
