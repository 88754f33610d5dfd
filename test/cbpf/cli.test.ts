/**
 * The `tsbpf cbpf` and `tsbpf pcap` command handlers, with an in-memory CliIo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cbpfCommand } from '../../src/cli/commands/cbpf.js';
import { pcapCommand } from '../../src/cli/commands/pcap.js';
import type { CliIo } from '../../src/cli/io.js';
import { readCapture, writePcap, writePcapng } from '../../src/core/pcap/index.js';
import { compileFilter } from '../../src/core/pcap-filter/index.js';
import { runCbpf, formatDDD, parseCbpf } from '../../src/core/cbpf/index.js';
import { isBpfError } from '../../src/core/errors.js';
import { makeCorpus } from '../pcap/packets.js';

function memIo(files: Record<string, Uint8Array | string>): CliIo & { out: string; err: string; files: Record<string, Uint8Array | string> } {
  const io = {
    out: '', err: '', files,
    stdout(t: string) { io.out += t; },
    stderr(t: string) { io.err += t; },
    readFile(p: string) {
      const f = files[p];
      if (f === undefined) throw new Error(`ENOENT ${p}`);
      return typeof f === 'string' ? new TextEncoder().encode(f) : f;
    },
    writeFile(p: string, d: Uint8Array | string) { files[p] = d; },
    readStdin: () => new Uint8Array(0),
  };
  return io;
}

const corpus = makeCorpus(5, 600);
const expected = (expr: string) => {
  const prog = compileFilter(expr);
  return corpus.filter((p) => runCbpf(prog, p.data, { wireLen: p.origLen }) !== 0);
};

test('pcap filter --count, -w and listing agree with the compiler, on pcap and pcapng, on each engine', async () => {
  const want = expected('tcp or arp');
  for (const input of [writePcap(corpus), writePcapng(corpus)]) {
    for (const engine of ['jit', 'interp', 'js', 'ref']) {
      const io = memIo({ 'in.cap': input });
      assert.equal(await pcapCommand(['filter', 'tcp or arp', 'in.cap', '--count', '--engine', engine], io), 0);
      assert.equal(io.out, `${want.length}\n`);
    }
  }
  const listings: string[] = [];
  for (const engine of ['jit', 'js']) {
    const io = memIo({ 'in.pcap': writePcap(corpus) });
    assert.equal(await pcapCommand(['filter', 'udp port 53', 'in.pcap', '-w', 'out.pcap', '--engine', engine], io), 0);
    const out = readCapture(io.files['out.pcap'] as Uint8Array);
    assert.deepEqual(out.packets.map((p) => p.tsSec), expected('udp port 53').map((p) => p.tsSec));
    assert.deepEqual(out.packets.map((p) => p.data), expected('udp port 53').map((p) => p.data));
    const list = memIo({ 'in.pcap': writePcap(corpus) });
    await pcapCommand(['filter', 'icmp6', 'in.pcap', '--engine', engine], list);
    assert.equal(list.out.trim().split('\n').length, expected('icmp6').length);
    listings.push(list.out);
  }
  assert.equal(listings[0], listings[1]);
});

test('pcap filter: bad expression and corrupt file are errors, not crashes', async () => {
  const io = memIo({ 'in.pcap': writePcap(corpus), 'bad.pcap': new Uint8Array(64).fill(0x41) });
  await assert.rejects(pcapCommand(['filter', 'tcp and (', 'in.pcap'], io), (e: unknown) => isBpfError(e) && e.context.column === 10);
  await assert.rejects(pcapCommand(['filter', 'tcp', 'bad.pcap'], io), (e: unknown) => isBpfError(e) && e.code === 'EINVAL');
  const cut = writePcap(corpus).subarray(0, 5000);
  for (const engine of ['jit', 'js']) {
    const io2 = memIo({ 'cut.pcap': cut });
    assert.equal(await pcapCommand(['filter', '', 'cut.pcap', '--count', '--engine', engine], io2), 1);
    assert.match(io2.err, /truncated/);
    assert.ok(Number(io2.out) > 10);
  }
});

test('pcap filter --via-tcpdump uses libpcap for expressions outside the subset', async (t) => {
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return t.skip('tcpdump not installed');
  }
  const io = memIo({ 'in.pcap': writePcap(corpus) });
  assert.equal(await pcapCommand(['filter', 'ip broadcast or tcp', 'in.pcap', '--count', '--via-tcpdump'], io), 0);
  const io2 = memIo({ 'in.pcap': writePcap(corpus) });
  await pcapCommand(['filter', 'tcp', 'in.pcap', '--count', '--via-tcpdump'], io2);
  assert.equal(io2.out, `${expected('tcp').length}\n`);
  await assert.rejects(pcapCommand(['filter', 'tcp and', 'in.pcap', '--via-tcpdump'], memIo({ 'in.pcap': writePcap(corpus) })), /tcpdump rejected/);
});

test('cbpf compile/disasm/check/run/convert', async () => {
  const io = memIo({});
  assert.equal(await cbpfCommand(['compile', 'tcp', 'port', '80', '--format', 'ddd'], io), 0);
  const prog = parseCbpf(io.out);
  assert.equal(formatDDD(prog), io.out);
  const files = { 'p.ddd': io.out };
  const d = memIo(files);
  await cbpfCommand(['disasm', 'p.ddd'], d);
  assert.match(d.out, /^\(000\) ldh {6}\[12\]/);
  const chk = memIo(files);
  await cbpfCommand(['check', 'p.ddd'], chk);
  assert.match(chk.out, /^ok: \d+ instructions/);
  for (const engine of ['ref', 'interp', 'jit']) {
    const r = memIo({ ...files, 'in.pcap': writePcap(corpus) });
    await cbpfCommand(['run', 'p.ddd', '--pcap', 'in.pcap', '--engine', engine], r);
    assert.equal(r.out, `${expected('tcp port 80').length} of ${corpus.length} packets accepted\n`);
  }
  const one = memIo({ 'a.d': 'ld [proto]\nret a\n' });
  await cbpfCommand(['run', 'a.d', '--data', '00', '--meta', 'protocol=2048', '--engine', 'jit'], one);
  assert.equal(one.out, '2048\n');
  const conv = memIo(files);
  await cbpfCommand(['convert', 'p.ddd'], conv);
  assert.match(conv.out, /exit/);
  const bad = memIo({ 'b.d': 'ld [12]\n' });
  await assert.rejects(cbpfCommand(['check', 'b.d'], bad), (e: unknown) => isBpfError(e) && e.code === 'E_NO_EXIT');
  const back = memIo({ 'b.d': 'ret #0\nja 0\n' });
  await assert.rejects(cbpfCommand(['check', 'b.d'], back), (e: unknown) => isBpfError(e) && /forward/.test(e.message));
});
