/**
 * Filtering a capture of 1,000,000 packets with several expressions: `tsbpf pcap filter EXPR
 * IN -w /dev/null` (the command handler, in process) against `tcpdump -r IN -w /dev/null EXPR`,
 * one after the other on the same file. tsbpf is timed with the JS-compiled classic program
 * (--engine js, the fast path) and with the eBPF JIT running the converted program (--engine jit).
 * Times include reading the file and writing the output; tcpdump's also include its process
 * start (a few ms). Every selection is checked against tcpdump's.
 * Usage: node dist/bench/pcap-filter.js [--packets N] [--json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pcapCommand } from '../src/cli/commands/pcap.js';
import type { CliIo } from '../src/cli/io.js';
import { readCapture, writePcap } from '../src/core/pcap/index.js';
import { makeCorpus } from '../test/pcap/packets.js';

const EXPRS = ['tcp port 80', 'host 10.0.0.1 or host 10.0.0.2', 'vlan and tcp[tcpflags] & tcp-syn != 0',
  'ip6 and udp and port 53', 'net 10.0.0.0/8 and not port 22', 'ip[2:2] - ((ip[0]&0xf)<<2) > 40'];

const argv = process.argv.slice(2);
const N = argv.includes('--packets') ? Number(argv[argv.indexOf('--packets') + 1]) : 1_000_000;

function makeFile(dir: string): string {
  const base = makeCorpus(1, 50_000);
  const pkts = Array.from({ length: N }, (_, i) => ({ ...base[i % base.length], tsSec: 1700000000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1000 }));
  const file = join(dir, 'bench.pcap');
  writeFileSync(file, writePcap(pkts));
  return file;
}

function io(files: Record<string, Uint8Array>): CliIo & { out: string } {
  const self = {
    out: '',
    stdout: (t: string) => { self.out += t; },
    stderr: (t: string) => void process.stderr.write(t),
    // a view of the file's bytes, no copy
    readFile: (p: string) => {
      const b = readFileSync(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    writeFile: (p: string, d: Uint8Array | string) => { files[p] = typeof d === 'string' ? new TextEncoder().encode(d) : d; writeFileSync(p, d); },
    readStdin: () => new Uint8Array(0),
  };
  return self;
}

async function timeTsbpf(file: string, expr: string, engine: string): Promise<{ ms: number; count: number }> {
  const files: Record<string, Uint8Array> = {};
  const t0 = performance.now();
  await pcapCommand(['filter', expr, file, '-w', '/dev/null', '--engine', engine], io(files));
  const ms = performance.now() - t0;
  return { ms, count: readCapture(files['/dev/null']).packets.length };
}

function timeTcpdump(file: string, expr: string): number {
  const t0 = performance.now();
  const r = spawnSync('tcpdump', ['-r', file, '-w', '/dev/null', '--', expr], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`tcpdump failed on ${expr}`);
  return performance.now() - t0;
}

function tcpdumpCount(file: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', file, '-w', '-', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  return readCapture(new Uint8Array(out)).packets.length;
}

const best = (xs: number[]): number => Math.min(...xs);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  const file = makeFile(dir);
  const rows: Record<string, number | string>[] = [];
  for (const expr of EXPRS) {
    const want = tcpdumpCount(file, expr);
    const td: number[] = [];
    const js: number[] = [];
    const jit: number[] = [];
    for (let trial = 0; trial < 3; trial++) {
      td.push(timeTcpdump(file, expr));
      const a = await timeTsbpf(file, expr, 'js');
      const b = await timeTsbpf(file, expr, 'jit');
      if (a.count !== want || b.count !== want) throw new Error(`${expr}: tsbpf selected ${a.count}/${b.count}, tcpdump ${want}`);
      js.push(a.ms);
      jit.push(b.ms);
    }
    const rate = (ms: number): number => N / (ms / 1000);
    rows.push({ expr, selected: want, tcpdump: rate(best(td)), js: rate(best(js)), jit: rate(best(jit)) });
  }
  if (argv.includes('--json')) {
    console.log(JSON.stringify(rows));
    return;
  }
  const m = (x: number | string): string => (Number(x) / 1e6).toFixed(2);
  console.log(`${N} packets; million packets/s, best of 3 (ratio to tcpdump)`);
  console.log('expression'.padEnd(42) + 'selected'.padStart(9) + 'tcpdump'.padStart(9) + 'tsbpf js'.padStart(16) + 'tsbpf jit'.padStart(16));
  for (const r of rows) {
    const ratio = (k: string): string => `(${(Number(r[k]) / Number(r.tcpdump)).toFixed(2)}x)`;
    console.log(String(r.expr).padEnd(42) + String(r.selected).padStart(9) + m(r.tcpdump).padStart(9) +
      `${m(r.js)} ${ratio('js')}`.padStart(16) + `${m(r.jit)} ${ratio('jit')}`.padStart(16));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
