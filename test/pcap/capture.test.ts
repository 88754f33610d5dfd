/**
 * Capture files for switch ports: frames offered in place inside a larger buffer are filtered
 * with tcpdump's verdicts and written as a classic pcap file; the --capture spec parser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCbpf } from '../../src/core/cbpf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { readCapture } from '../../src/core/pcap/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { PcapCaptureFile, parseCaptureSpec } from '../../src/node/pcap/capture.js';
import { makeCorpus } from './packets.js';

test('PcapCaptureFile writes the frames the expression selects, read back by tsbpf and tcpdump', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-capture-'));
  const file = join(dir, 'cap.pcap');
  const corpus = makeCorpus(4, 800).filter((p) => p.data.length === p.origLen);
  const expr = 'udp or (vlan and tcp)';
  const prog = compileFilter(expr);
  const want = corpus.filter((p) => runCbpf(prog, p.data, { wireLen: p.origLen }) !== 0).map((p) => p.data);
  const cap = new PcapCaptureFile(file, expr);
  // frames sit at odd offsets of one shared buffer, as in a switch's frame pool
  const pool = new Uint8Array(70000);
  corpus.forEach((p, i) => {
    const off = 1 + (i * 37) % 1000;
    pool.set(p.data, off);
    cap.offer(pool, off, p.data.length, 1700000000000 + i);
  });
  cap.close();
  assert.equal(cap.seen, corpus.length);
  assert.equal(cap.matched, want.length);
  assert.ok(want.length > 0 && want.length < corpus.length);
  const back = readCapture(new Uint8Array(readFileSync(file)));
  assert.deepEqual(back.packets.map((p) => p.data), want);
  assert.ok(back.nanosecond);
  try {
    const n = execFileSync('tcpdump', ['-r', file, '-w', '-', expr], { stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(readCapture(new Uint8Array(n)).packets.length, want.length);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
});

test('parseCaptureSpec splits PORT:EXPR:FILE with colons inside the expression', () => {
  assert.deepEqual(parseCaptureSpec('0:tcp port 80:web.pcap'), { port: 0, expr: 'tcp port 80', file: 'web.pcap' });
  assert.deepEqual(parseCaptureSpec('3:ip[2:2] > 40 or host fe80::1:x.pcap'), { port: 3, expr: 'ip[2:2] > 40 or host fe80::1', file: 'x.pcap' });
  for (const bad of ['tcp:x.pcap', 'x:tcp:f', '1:tcp:', 'nothing']) {
    assert.throws(() => parseCaptureSpec(bad), (e: unknown) => isBpfError(e) && e.code === 'EINVAL', bad);
  }
});
