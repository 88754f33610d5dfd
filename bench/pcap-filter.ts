/**
 * Filtering a capture of 1,000,000 packets with several expressions, side by side with
 * `tcpdump -r IN -w /dev/null EXPR` on the same file, interleaved trials:
 *   - end to end: `node bin/tsbpf pcap filter EXPR IN -w /dev/null` as a process (default
 *     engine jit), like tcpdump, process start included; and the same with a launcher that
 *     imports only the pcap command (what the CLI would cost if it loaded commands lazily);
 *   - in process: the batch filter on a file (filterPcapFile: windowed reads into Wasm memory,
 *     WebAssembly record loop calling the JIT-compiled program, one write per window), and the
 *     `--engine js` handler (whole file read, JavaScript-compiled classic program);
 *   - loop only: the WebAssembly record loop over records already in memory (no I/O).
 * Every selection is checked against tcpdump's. Rates are million packets/s, best of N.
 * Usage: node dist/bench/pcap-filter.js [--packets N] [--trials N] [--json]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pcapCommand } from '../src/cli/commands/pcap.js';
import type { CliIo } from '../src/cli/io.js';
import { readCapture, writePcap } from '../src/core/pcap/index.js';
import { compileFilter } from '../src/core/pcap-filter/index.js';
import { PcapBatchFilter } from '../src/core/pcap-filter/batch.js';
import { filterPcapFile } from '../src/node/pcap/filter-file.js';
import { makeCorpus } from '../test/pcap/packets.js';

const EXPRS = ['tcp port 80', 'host 10.0.0.1 or host 10.0.0.2', 'vlan and tcp[tcpflags] & tcp-syn != 0',
  'ip6 and udp and port 53', 'net 10.0.0.0/8 and not port 22', 'ip[2:2] - ((ip[0]&0xf)<<2) > 40'];

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : dflt;
const N = opt('--packets', 1_000_000);
const TRIALS = opt('--trials', 5);
/** the repository root (this file is dist/bench/pcap-filter.js) */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function makeFile(dir: string): string {
  const base = makeCorpus(1, 50_000);
  const pkts = Array.from({ length: N }, (_, i) => ({ ...base[i % base.length], tsSec: 1700000000 + Math.floor(i / 1000), tsNsec: (i % 1000) * 1000 }));
  const file = join(dir, 'bench.pcap');
  writeFileSync(file, writePcap(pkts));
  return file;
}

/** memIo gives the js handler the file as a view (no copy) and keeps what it writes. */
function memIo(files: Record<string, Uint8Array>): CliIo {
  return {
    stdout: () => undefined,
    stderr: (t: string) => void process.stderr.write(t),
    readFile: (p: string) => {
      const b = readFileSync(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
    writeFile: (p: string, d: Uint8Array | string) => {
      files[p] = typeof d === 'string' ? new TextEncoder().encode(d) : d;
      writeFileSync(p, d);
    },
    readStdin: () => new Uint8Array(0),
  };
}

function timeSpawn(cmd: string, args: string[], retry = true): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  // others rebuilding dist/ can break the CLI's imports for a moment: retry once
  if (r.status !== 0 && retry) return timeSpawn(cmd, args, false);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
  return performance.now() - t0;
}

/** LAUNCHER imports only the pcap command, as a CLI with lazily loaded commands would. */
function launcher(dir: string): string {
  const file = join(dir, 'pcap-only.mjs');
  writeFileSync(file, `const { pcapCommand } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli/commands/pcap.js'))});
const { processIo } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli/io.js'))});
process.exitCode = await pcapCommand(process.argv.slice(2), processIo);\n`);
  return file;
}

function tcpdumpCount(file: string, expr: string): number {
  const out = execFileSync('tcpdump', ['-r', file, '-w', '-', '--', expr], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  return readCapture(new Uint8Array(out)).packets.length;
}

function cliCount(file: string, expr: string): number {
  return Number(execFileSync('node', [join(ROOT, 'bin/tsbpf'), 'pcap', 'filter', expr, file, '--count']).toString().trim());
}

/** loopOnly times the WebAssembly record loop over the whole file already in memory. */
function loopOnly(bytes: Uint8Array, expr: string): { ms: number; count: number } {
  const f = new PcapBatchFilter(compileFilter(expr), { littleEndian: true });
  const win = f.window(bytes.length);
  f.ctx.space.u8.set(bytes.subarray(24), win);
  const before = f.selected;
  const t0 = performance.now();
  f.scan(win, win + bytes.length - 24, 0);
  return { ms: performance.now() - t0, count: f.selected - before };
}

interface Row {
  expr: string;
  selected: number;
  tcpdump: number;
  cli: number;
  cliLazy: number;
  batch: number;
  js: number;
  loop: number;
  nodeStart: number;
}

async function measure(file: string, bytes: Uint8Array, lazy: string, expr: string): Promise<Row> {
  const want = tcpdumpCount(file, expr);
  const got = cliCount(file, expr);
  if (got !== want) throw new Error(`${expr}: tsbpf CLI selected ${got}, tcpdump ${want}`);
  const t: Record<string, number[]> = { tcpdump: [], cli: [], cliLazy: [], batch: [], js: [], loop: [], nodeStart: [] };
  for (let trial = 0; trial < TRIALS; trial++) {
    t.tcpdump.push(timeSpawn('tcpdump', ['-r', file, '-w', '/dev/null', '--', expr]));
    t.cli.push(timeSpawn('node', [join(ROOT, 'bin/tsbpf'), 'pcap', 'filter', expr, file, '-w', '/dev/null']));
    t.cliLazy.push(timeSpawn('node', [lazy, 'filter', expr, file, '-w', '/dev/null']));
    t.nodeStart.push(timeSpawn('node', ['-e', '0']));
    let t0 = performance.now();
    const res = filterPcapFile(file, (lt) => compileFilter(expr, { linktype: lt }), { write: '/dev/null' });
    t.batch.push(performance.now() - t0);
    if (res?.selected !== want) throw new Error(`${expr}: batch selected ${res?.selected}, tcpdump ${want}`);
    const files: Record<string, Uint8Array> = {};
    t0 = performance.now();
    await pcapCommand(['filter', expr, file, '-w', '/dev/null', '--engine', 'js'], memIo(files));
    t.js.push(performance.now() - t0);
    if (readCapture(files['/dev/null']).packets.length !== want) throw new Error(`${expr}: js engine selection differs`);
    const l = loopOnly(bytes, expr);
    if (l.count !== want) throw new Error(`${expr}: loop selected ${l.count}, tcpdump ${want}`);
    t.loop.push(l.ms);
  }
  const rate = (k: string): number => N / (Math.min(...t[k]) / 1000);
  return {
    expr, selected: want, tcpdump: rate('tcpdump'), cli: rate('cli'), cliLazy: rate('cliLazy'), batch: rate('batch'),
    js: rate('js'), loop: rate('loop'), nodeStart: Math.min(...t.nodeStart),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-bench-'));
  const file = makeFile(dir);
  const bytes = new Uint8Array(readFileSync(file));
  const lazy = launcher(dir);
  const rows: Row[] = [];
  for (const expr of EXPRS) rows.push(await measure(file, bytes, lazy, expr));
  if (argv.includes('--json')) {
    console.log(JSON.stringify(rows));
    return;
  }
  const m = (x: number): string => (x / 1e6).toFixed(2);
  const cell = (r: Row, k: keyof Row): string => `${m(r[k] as number)} (${((r[k] as number) / r.tcpdump).toFixed(2)}x)`;
  console.log(`${N} packets; million packets/s, best of ${TRIALS} (ratio to tcpdump); node -e 0 takes ${Math.min(...rows.map((r) => r.nodeStart)).toFixed(0)} ms`);
  const cols: [string, keyof Row][] = [['cli e2e', 'cli'], ['pcap-only e2e', 'cliLazy'], ['batch in-proc', 'batch'], ['js in-proc', 'js'], ['wasm loop', 'loop']];
  console.log('expression'.padEnd(40) + 'selected'.padStart(9) + 'tcpdump'.padStart(9) + cols.map(([h]) => h.padStart(17)).join(''));
  for (const r of rows) {
    console.log(r.expr.padEnd(40) + String(r.selected).padStart(9) + m(r.tcpdump).padStart(9) + cols.map(([, k]) => cell(r, k).padStart(17)).join(''));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
