/**
 * The multi-worker switch with its port I/O on the main thread ('io' mode): pcap in/out through
 * two workers gives the single-thread switch's frames (per-flow order kept), the control
 * socket reports counters summed over the workers and lists the shared maps, and a hot-swap is
 * atomic across the workers: the old program saw every frame received before the swap, the new
 * one every frame after, none lost or processed twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { switchCommand } from '../../src/cli/commands/switch.js';
import { mapCommand } from '../../src/cli/commands/map.js';
import { readCapture, writePcap } from '../../src/core/pcap/index.js';
import { makeTemplates } from '../../src/switch/dataplane/pktgen.js';
import { ControlServer, controlRequest } from '../../src/switch/control.js';
import { MultiSwitch } from '../../src/switch/workers/multi.js';
import { MultiLive } from '../../src/switch/workers/live-multi.js';
import { MemPort } from '../../src/switch/ports/mem.js';
import { flowHash } from '../../src/switch/workers/rss.js';
import { example, exampleBytes, frame, memoryIo } from './util.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'tsbpf-wio-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('pcap in and out through two workers: the single-thread switch\'s frames, per-flow order kept', { timeout: 60_000 }, async () => {
  const frames: Uint8Array[] = [];
  for (let i = 0; i < 2000; i++) frames.push(frame(i % 3 === 0 ? '02:00:00:00:00:03' : '02:00:00:00:00:02', i % 40, 60 + (i % 90)));
  frames.push(new Uint8Array(9));
  writeFileSync(join(dir, 'in.pcap'), writePcap(frames.map((data) => ({ data }))));
  const outs = async (workers: string[]) => {
    const t = memoryIo();
    const rc = await switchCommand([...workers, '--prog', 'examples/switch/xdp_l2_static.o', '--port', `in=${join(dir, 'in.pcap')}`,
      '--port', `out=${join(dir, 'p1.pcap')}`, '--port', `out=${join(dir, 'p2.pcap')}`], t);
    assert.equal(rc, 0, t.err);
    return { text: t.out, ports: ['p1', 'p2'].map((p) => readCapture(new Uint8Array(readFileSync(join(dir, `${p}.pcap`)))).packets.map((x) => x.data)) };
  };
  const single = await outs([]);
  const multi = await outs(['--workers', '2']);
  assert.match(multi.text, /on 2 workers/);
  const perWorker = /per worker: (\d+) \/ (\d+) frames/.exec(multi.text)!;
  assert.ok(Number(perWorker[1]) > 0 && Number(perWorker[2]) > 0, 'both workers got flows');
  assert.equal(Number(perWorker[1]) + Number(perWorker[2]), 2000);
  assert.match(multi.text, /act_redirect=2000 drop_runt=1/);
  for (let p = 0; p < 2; p++) {
    assert.equal(multi.ports[p].length, single.ports[p].length);
    // frames of one flow keep their order; flows on different workers may interleave
    const byFlow = (fs: Uint8Array[]) => {
      const m = new Map<number, string[]>();
      for (const f of fs) m.set(flowHash(f), [...(m.get(flowHash(f)) ?? []), Buffer.from(f).toString('hex')]);
      return [...m.entries()].sort((a, b) => a[0] - b[0]);
    };
    assert.deepEqual(byFlow(multi.ports[p]), byFlow(single.ports[p]));
  }
});

test('io mode: a swap is atomic across two workers under load; stats over the control socket', { timeout: 60_000 }, async () => {
  const path = join(dir, 'io.sock');
  const ms = await MultiSwitch.start({ workers: 2, ports: 2, prog: example('xdp_nologic'), mode: 'io' });
  const gen = new MemPort(ms.front, 0, makeTemplates({ flows: 64, srcPort: [1000, 1063] }));
  const sink = new MemPort(ms.front, 1);
  const live = new MultiLive(ms, [gen, sink]);
  const ctl = new ControlServer(live, path);
  await ctl.listen();
  live.start();
  try {
    const progs = { vale: example('vale_nologic'), xdp: example('xdp_nologic') };
    // xdp_nologic counts act_redirect, vale_nologic act_forward: a snapshot right after each swap
    // must show the new program's count unchanged since it was swapped out, and the next
    // snapshot the old program's count unchanged since this one
    let prev = { act_redirect: 0, act_forward: 0 };
    let old: 'act_redirect' | 'act_forward' = 'act_redirect';
    for (let k = 0; k < 6; k++) {
      const which = k % 2 === 0 ? 'vale' : 'xdp';
      const before = gen.sent;
      while (gen.sent < before + 20_000) await sleep(1);
      await live.swap(progs[which]);
      const s = ms.stats()[0];
      const now = which === 'vale' ? 'act_forward' : 'act_redirect';
      assert.equal(s[now], prev[now], `swap ${k}: the new program ran no frame before the swap`);
      if (k > 0) assert.ok(s[old] > prev[old], `swap ${k}: the old program ran between the swaps`);
      assert.equal(s.rx_packets, s.act_forward + s.act_redirect, 'every frame dealt before the swap was processed');
      prev = { act_redirect: s.act_redirect, act_forward: s.act_forward };
      old = now;
    }
    const res = await controlRequest(path, { cmd: 'swap', object: Buffer.from(exampleBytes('xdp_nologic')).toString('base64') });
    assert.equal((res.program as { name: string }).name, 'xdp_nologic');
    gen.limit = gen.sent;
    for (let i = 0; i < 5000 && sink.out.frames < gen.sent; i++) await sleep(1);
    const st = await controlRequest(path, { cmd: 'stats' });
    const ports = st.ports as Array<Record<string, number>>;
    assert.equal(sink.out.frames, gen.sent, 'every generated frame left port 1');
    assert.equal(ports[0].rx_packets, gen.sent, 'every frame was received once');
    assert.equal(ports[0].act_redirect + ports[0].act_forward, gen.sent, 'one verdict per frame');
    assert.equal(ports[1].tx_packets, gen.sent);
    assert.deepEqual(Object.entries(ports[0]).filter(([k, v]) => k.startsWith('drop_') && v !== 0), []);
    const per = ms.processed();
    assert.ok(per[0] > 0 && per[1] > 0, `both workers processed frames (${per})`);
    assert.equal((st.program as { name: string }).name, 'xdp_nologic');
  } finally {
    await live.stop();
    await ctl.close();
    await ms.stop();
  }
});

test('--workers 2 with --control: map dump of the shared maps, swap to another object with maps', { timeout: 60_000 }, async () => {
  const sock = join(dir, 'cli.sock');
  const t2 = memoryIo();
  const running = switchCommand(['--workers', '2', '--port', 'gen=8', '--port', 'mem', '--port', 'mem', '--prog',
    'examples/switch/learning_bridge.o', '--control', sock, '--duration', '4'], t2);
  for (let i = 0; i < 200 && !existsSync(sock); i++) await sleep(50);
  await sleep(300);
  try {
    const maps = await controlRequest(sock, { cmd: 'maps' });
    const table = (maps.maps as Array<{ name: string; entries: unknown[] }>).find((m) => m.name === 'mac_table');
    assert.ok(table && table.entries.length >= 1, 'the workers learned MACs in the shared hash map');
    const dump = memoryIo();
    assert.equal(await mapCommand(['dump', 'control', sock, 'name', 'mac_table'], dump), 0, dump.err);
    assert.match(dump.out, /^key: 02 00 00 00 .*value: 01 00 00 00\n/m);
    assert.match(dump.out, /Found \d+ elements?\n$/);
    const missing = memoryIo();
    assert.equal(await mapCommand(['dump', 'control', sock, 'name', 'nope'], missing), 1);
    assert.match(missing.err, /no map "nope"/);
    const st = await controlRequest(sock, { cmd: 'stats' });
    const ports = st.ports as Array<Record<string, number>>;
    assert.ok(ports[0].rx_packets > 0 && ports[0].act_redirect > 0, 'counters of the running workers');
    await controlRequest(sock, { cmd: 'swap', object: Buffer.from(exampleBytes('flow_counter')).toString('base64') });
    await sleep(300);
    const after = (await controlRequest(sock, { cmd: 'maps' })).maps as Array<{ name: string; entries: unknown[] }>;
    const flows = after.find((m) => m.name === 'flows');
    assert.ok(flows && flows.entries.length >= 1, `the swapped-in program's maps are shared and listed (${after.map((m) => m.name)})`);
  } finally {
    assert.equal(await running, 0, t2.err);
  }
  assert.match(t2.out, /program flow_counter \(xdp\) on 2 workers/);
  const per = /per worker: (\d+) \/ (\d+) frames/.exec(t2.out)!;
  const rx = Number(/^0\s+port0\s+1\s+(\d+)/m.exec(t2.out)![1]);
  assert.equal(rx, Number(per[1]) + Number(per[2]), 'port 0 received what the workers processed');
  assert.equal(Number(/act_redirect=(\d+)/.exec(t2.out)![1]), rx, 'one verdict per frame, summed over workers and both programs');
});
