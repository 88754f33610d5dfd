/**
 * Filtering a capture of 1,000,000 packets with several expressions, side by side with
 * `tcpdump -r IN -w /dev/null EXPR` on the same file, interleaved trials, medians:
 *   - end to end, the user's view: `node bin/tsbpf pcap filter EXPR IN -w /dev/null` as a
 *     fresh process (startup cache warm: one bundled script and its V8 code cache), the same
 *     with TSBPF_NO_CACHE=1 (every module file loaded), and `node -e 0` (Node's own start,
 *     the floor of any Node command), each against a fresh tcpdump process;
 *   - the same end to end for the pcapng copy of the file (tcpdump reads it too);
 *   - in process: filterPcapFile in this process (expression compiled, converted, JIT-compiled,
 *     1 MiB windows read into Wasm memory, scanned by the Wasm loop, selection written);
 *   - CPU time (user + system, from bash's `times`) of the tcpdump and CLI processes, which the
 *     machine's other load disturbs less than wall time.
 * Every selection is checked against tcpdump's first. Rates are million packets/s.
 * Usage: node dist/bench/pcap-filter.js [--packets N] [--trials N] [--json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture, writePcap, writePcapng } from '../src/core/pcap/index.js';
import { compileFilter } from '../src/core/pcap-filter/index.js';
import { filterPcapFile } from '../src/node/pcap/filter-file.js';
import { makeCorpus } from '../test/pcap/packets.js';

const EXPRS = ['tcp port 80', 'udp and dst net 10.0.0.0/8', 'ip6 or arp', 'vlan and tcp[tcpflags] & tcp-syn != 0',
  'host 10.0.0.1 or host 10.0.0.2'];

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt;
const N = opt('--packets', 1_000_000);
const TRIALS = opt('--trials', 7);
/** the repository root (this file is dist/bench/pcap-filter.js) */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'tsbpf');

function makeFiles(dir: string): { pcap: string; pcapng: string } {
  const base = makeCorpus(1, 50_000);
  const pkts = Array.from({ length: N }, (_, i) => ({ ...base[i % base.length], tsSec: 1700000000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1000 }));
  const files = { pcap: join(dir, 'bench.pcap'), pcapng: join(dir, 'bench.pcapng') };
  writeFileSync(files.pcap, writePcap(pkts));
  writeFileSync(files.pcapng, writePcapng(pkts));
  return files;
}

function timeSpawn(cmd: string, args: string[], env?: Record<string, string>, retry = true): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore', env: env && { ...process.env, ...env } });
  // others rebuilding dist/ can break the CLI's imports for a moment: retry once
  if (r.status !== 0 && retry) return timeSpawn(cmd, args, env, false);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return performance.now() - t0;
}

/**
 * cpuSpawn runs a command under bash and returns its user + system CPU milliseconds (bash's
 * `times`: the children's rusage), less sensitive than wall time to the machine's other load.
 */
function cpuSpawn(cmd: string, args: string[], env?: Record<string, string>): number {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1 || exit 99; times', 'bash', cmd, ...args],
    { encoding: 'utf8', env: env && { ...process.env, ...env } });
  const m = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout.trim());
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')} failed under bash (${r.status})`);
  return (Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4])) * 1000;
}

function tcpdumpCount(file: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', file, '-w', '-', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  return readCapture(new Uint8Array(out)).packets.length;
}

function cliCount(file: string, expr: string, env: Record<string, string>): number {
  return Number(execFileSync('node', [BIN, 'pcap', 'filter', expr, file, '--count'], { env: { ...process.env, ...env } }).toString().trim());
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** COLUMNS are the timed runs of a trial, in the order they run. */
const COLUMNS = ['tcpdump', 'cli', 'cliNoCache', 'nodeStart', 'tcpdumpNg', 'cliNg', 'batch', 'tcpdumpCpu', 'cliCpu'] as const;
type Column = typeof COLUMNS[number];

interface Row {
  expr: string;
  selected: number;
  /** median milliseconds per column */
  ms: Record<Column, number>;
}

function measure(files: { pcap: string; pcapng: string }, expr: string, cache: Record<string, string>): Row {
  const want = tcpdumpCount(files.pcap, expr);
  // the first two runs build the startup cache and its code cache; they also check the selection
  for (const file of [files.pcap, files.pcapng, files.pcap]) {
    const got = cliCount(file, expr, cache);
    if (got !== want) throw new Error(`${expr}: tsbpf selected ${got} of ${file}, tcpdump ${want}`);
  }
  if (tcpdumpCount(files.pcapng, expr) !== want) throw new Error(`${expr}: tcpdump's pcapng selection differs`);
  const t = Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as Record<Column, number[]>;
  const cli = (file: string) => ['pcap', 'filter', expr, file, '-w', '/dev/null'];
  for (let trial = 0; trial < TRIALS; trial++) {
    t.tcpdump.push(timeSpawn('tcpdump', ['-r', files.pcap, '-w', '/dev/null', '--', expr]));
    t.cli.push(timeSpawn('node', [BIN, ...cli(files.pcap)], cache));
    t.cliNoCache.push(timeSpawn('node', [BIN, ...cli(files.pcap)], { TSBPF_NO_CACHE: '1' }));
    t.nodeStart.push(timeSpawn('node', ['-e', '0']));
    t.tcpdumpNg.push(timeSpawn('tcpdump', ['-r', files.pcapng, '-w', '/dev/null', '--', expr]));
    t.cliNg.push(timeSpawn('node', [BIN, ...cli(files.pcapng)], cache));
    t.tcpdumpCpu.push(cpuSpawn('tcpdump', ['-r', files.pcap, '-w', '/dev/null', '--', expr]));
    t.cliCpu.push(cpuSpawn('node', [BIN, ...cli(files.pcap)], cache));
    const t0 = performance.now();
    const res = filterPcapFile(files.pcap, (lt) => compileFilter(expr, { linktype: lt }), { write: '/dev/null' });
    t.batch.push(performance.now() - t0);
    if (res.selected !== want) throw new Error(`${expr}: batch selected ${res.selected}, tcpdump ${want}`);
  }
  return { expr, selected: want, ms: Object.fromEntries(COLUMNS.map((c) => [c, median(t[c])])) as Record<Column, number> };
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  const files = makeFiles(dir);
  const cache = { TSBPF_CACHE_DIR: join(dir, 'cache') };
  const load0 = loadavg();
  let rows: Row[];
  try {
    rows = EXPRS.map((e) => measure(files, e, cache));
  } finally {
    rmSync(dir, { recursive: true, force: true }); // 180 MB of captures
  }
  const load1 = loadavg();
  if (argv.includes('--json')) {
    console.log(JSON.stringify({ packets: N, trials: TRIALS, load: [load0, load1], rows }));
    return;
  }
  const rate = (ms: number): string => (N / ms / 1000).toFixed(2);
  const cell = (r: Row, c: Column, vs: Column): string => `${rate(r.ms[c])} (${(r.ms[vs] / r.ms[c]).toFixed(2)}x)`;
  console.log(`${N} packets, median of ${TRIALS} interleaved trials; million packets/s (ratio to tcpdump on the same file); ` +
    `load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end`);
  console.log('| expression | selected | tcpdump ms | tsbpf cli ms | tcpdump | tsbpf cli | cli, no cache | node -e 0 alone | in process | pcapng: tcpdump | pcapng: tsbpf cli | cpu ms: tcpdump | cpu ms: tsbpf cli |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| \`${r.expr}\` | ${r.selected} | ${r.ms.tcpdump.toFixed(0)} | ${r.ms.cli.toFixed(0)} | ${rate(r.ms.tcpdump)} | ${cell(r, 'cli', 'tcpdump')} | ` +
      `${cell(r, 'cliNoCache', 'tcpdump')} | ${cell(r, 'nodeStart', 'tcpdump')} | ${cell(r, 'batch', 'tcpdump')} | ${rate(r.ms.tcpdumpNg)} | ${cell(r, 'cliNg', 'tcpdumpNg')} | ` +
      `${r.ms.tcpdumpCpu.toFixed(0)} | ${r.ms.cliCpu.toFixed(0)} (${(r.ms.tcpdumpCpu / r.ms.cliCpu).toFixed(2)}x) |`);
  }
}

main();
