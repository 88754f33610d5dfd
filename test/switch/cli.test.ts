/**
 * The switch commands end to end: pcap in -> switch -> pcap out read back by our reader and by
 * `tcpdump -r` (skipped with the reason when tcpdump is missing), pktgen's progress and totals,
 * and bad arguments as errors rather than crashes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { switchCommand } from '../../src/cli/commands/switch.js';
import { pktgenCommand } from '../../src/cli/commands/pktgen.js';
import { readCapture, writePcap } from '../../src/core/pcap/index.js';
import { frame, memoryIo } from './util.js';

const io = memoryIo;

const dir = mkdtempSync(join(tmpdir(), 'tsbpf-switch-'));
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;

test('switch: pcap in on port 0, l2 static forwarding, pcap out on ports 1 and 2', async () => {
  const frames = [frame('02:00:00:00:00:02', 1), frame('02:00:00:00:00:03', 2, 300), frame('02:00:00:00:00:02', 3, 99),
    frame('06:00:00:00:00:02', 4), new Uint8Array(10)];
  writeFileSync(join(dir, 'in.pcap'), writePcap(frames.map((data) => ({ data }))));
  const t = io();
  const rc = await switchCommand(['--prog', 'examples/switch/xdp_l2_static.o', '--port', `in=${join(dir, 'in.pcap')}`,
    '--port', `out=${join(dir, 'p1.pcap')}`, '--port', `out=${join(dir, 'p2.pcap')}`], t);
  assert.equal(rc, 0, t.err);
  const p1 = readCapture(new Uint8Array(readFileSync(join(dir, 'p1.pcap'))));
  const p2 = readCapture(new Uint8Array(readFileSync(join(dir, 'p2.pcap'))));
  assert.equal(p1.format, 'pcap');
  assert.deepEqual(p1.packets.map((p) => p.data), [frames[0], frames[2]]);
  assert.deepEqual(p2.packets.map((p) => p.data), [frames[1]]);
  assert.match(t.out, /act_drop=1 act_redirect=3 drop_program=1 drop_runt=1/);
});

test('switch output is readable by tcpdump -r', { skip: hasTcpdump ? false : 'tcpdump not installed' }, () => {
  const r = spawnSync('tcpdump', ['-nr', join(dir, 'p1.pcap')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /IP 10\.0\.0\.1\.1001 > 10\.0\.0\.2\.2000: UDP, length 18/);
  assert.match(lines[1], /IP 10\.0\.0\.1\.1003 > 10\.0\.0\.2\.2000: UDP, length 57/);
});

test('switch: bad port specs and missing programs are errors; objects with maps load', async () => {
  await assert.rejects(switchCommand(['--port', 'sideways=1'], io()), /bad port spec/);
  await assert.rejects(switchCommand(['--port', 'null', '--prog', 'examples/switch/learning_bridge.o', '--section', 'nope'], io()),
    /no program matches/);
  const t = io();
  assert.equal(await switchCommand(['--port', 'null', '--prog', 'examples/switch/learning_bridge.o'], t), 0, t.err);
  assert.match(t.out, /program learning_bridge \(xdp\)/);
});

test('switch live with --control: stats, maps (bpftool-style) and swap from the command line', async () => {
  const sock = join(dir, 'ctl.sock');
  const run = switchCommand(['--port', 'gen=4', '--port', 'mem', '--prog', 'examples/switch/learning_bridge.o', '--control', sock,
    '--duration', '1.5'], io());
  await new Promise((r) => setTimeout(r, 700));
  const st = io();
  assert.equal(await switchCommand(['stats', '--control', sock], st), 0);
  assert.match(st.out, /program learning_bridge \(xdp\)/);
  const mp = io();
  assert.equal(await switchCommand(['maps', '--control', sock], mp), 0);
  assert.match(mp.out, /map mac_table .*\nkey: 02 00 00 00 00 01  value: 01 00 00 00\n/);
  const sp = io();
  assert.equal(await switchCommand(['swap', '--control', sock, '--prog', 'examples/switch/xdp_nologic.o'], sp), 0);
  assert.match(sp.out, /swapped in xdp_nologic/);
  const mp2 = io();
  await switchCommand(['maps', '--control', sock], mp2);
  assert.match(mp2.out, /the running program has no maps/);
  assert.equal(await run, 0);
});

test('pktgen: prints progress and totals; every generated frame is accounted for', async () => {
  const t = io();
  const rc = await pktgenCommand(['--duration', '1.3', '--flows', '8', '--size', '60-67', '--json'], t);
  assert.equal(rc, 0, t.err);
  const j = JSON.parse(t.out.slice(t.out.indexOf('{')));
  assert.ok(j.received > 1000, `received ${j.received}`);
  // frames still inside the switch at the end: at most the RX ring + TX rings
  assert.ok(j.sent - j.received >= 0 && j.sent - j.received <= 3 * 1024);
  assert.equal(j.ports[1].tx_packets, j.received);
  assert.equal(j.ports[0].rx_packets, j.ports[1].tx_packets);
  const t2 = io();
  await pktgenCommand(['--duration', '1.1'], t2);
  assert.match(t2.out, /\[ +1\.\d s\] [\d.]+ Mpps \([\d.]+ Mpkts [\d.]+ Gbps in \d+ usec\) sent [\d.]+ Mpps/);
  assert.match(t2.out, /total: sent \d+, received \d+/);
  await assert.rejects(pktgenCommand(['--size', '20'], io()), /below 42/);
});

test('pktgen --workers 2: both workers forward, totals add up', async () => {
  const t = io();
  const rc = await pktgenCommand(['--duration', '1.2', '--flows', '16', '--src-port', '1000-1015', '--workers', '2', '--json'], t);
  assert.equal(rc, 0, t.err);
  const j = JSON.parse(t.out.slice(t.out.indexOf('{')));
  assert.equal(j.workers, 2);
  assert.ok(j.perWorker.every((n: number) => n > 0), `per worker ${j.perWorker}`);
  assert.equal(j.ports[0].rx_packets, j.perWorker[0] + j.perWorker[1]);
  assert.ok(j.received > 0 && j.received <= j.ports[1].tx_packets);
});

test('switch --workers 2: generator port and sink, per-worker counts, map object', async () => {
  const t = io();
  const rc = await switchCommand(['--workers', '2', '--port', 'gen=16', '--port', 'mem', '--duration', '0.8', '--prog',
    'examples/switch/flow_counter.o', '--json'], t);
  assert.equal(rc, 0, t.err);
  const j = JSON.parse(t.out);
  assert.equal(j.program, 'flow_counter');
  assert.ok(j.perWorker.every((n: number) => n > 0));
  assert.equal(j.ports[0].rx_packets, j.perWorker[0] + j.perWorker[1]);
  assert.equal(j.ports[0].act_redirect, j.ports[0].rx_packets);
  await assert.rejects(switchCommand(['--workers', '0', '--port', 'mem'], io()), /--workers must be 1 to 16/);
  await assert.rejects(switchCommand(['--workers', '2', '--port', 'mem', '--capture', '0:udp:/dev/null'], io()), /--capture .*--workers/);
  await assert.rejects(switchCommand(['--workers', '2', '--port', 'in=/dev/null', '--port', 'mem'], io()), /cannot be mixed/);
});
