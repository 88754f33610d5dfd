/**
 * The multi-worker switch: flows spread over two workers by RSS hash, both shards forward in
 * shared memory, counters add up (every received frame got exactly one verdict, across a
 * program swap), and frames of one flow always go to the same worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTemplates } from '../../src/switch/dataplane/pktgen.js';
import { MultiSwitch } from '../../src/switch/workers/multi.js';
import { flowHash, spreadFlows } from '../../src/switch/workers/rss.js';
import { example, exampleBytes } from './util.js';
import type { PerCpuMap } from '../../src/core/runtime/map.js';
import { dumpMaps } from '../../src/switch/objects.js';
import { programFromAsm } from '../../src/switch/program.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('flowHash depends on the 5-tuple only; spreadFlows deals every flow to one queue', () => {
  const flows = makeTemplates({ flows: 64, srcPort: [1000, 1063] });
  const q = spreadFlows(flows, 2);
  assert.equal(q[0].length + q[1].length, 64);
  assert.ok(q[0].length > 10 && q[1].length > 10, `uneven spread ${q[0].length}/${q[1].length}`);
  const a = Uint8Array.from(flows[0]);
  a[50] ^= 0xff; // payload byte: same flow
  assert.equal(flowHash(a), flowHash(flows[0]));
  a[34] ^= 1; // source port: another flow
  assert.notEqual(flowHash(a), flowHash(flows[0]));
});

test('two workers generate and forward in shared memory; a swap reaches both; counters add up', { timeout: 60_000 }, async () => {
  const ms = await MultiSwitch.start({ workers: 2, ports: 2, prog: example('xdp_nologic'), mode: 'gen',
    templates: makeTemplates({ flows: 64, srcPort: [1000, 1063] }) });
  try {
    assert.deepEqual(ms.flows.reduce((a, b) => a + b, 0), 64);
    await sleep(300);
    await ms.swap(example('vale_nologic'));
    await sleep(300);
  } finally {
    await ms.stop();
  }
  const s = ms.stats();
  const t = ms.totals();
  const per = ms.processed();
  assert.ok(per[0] > 0 && per[1] > 0, `both workers processed frames (${per})`);
  assert.equal(s[0].rx_packets, per[0] + per[1]);
  assert.equal(s[0].act_redirect + s[0].act_forward, s[0].rx_packets, 'one verdict per frame across the swap');
  assert.ok(s[0].act_redirect > 0 && s[0].act_forward > 0, 'both programs ran');
  assert.equal(s[1].tx_packets, s[0].rx_packets, 'everything received on port 0 left port 1');
  assert.equal(t.received, s[1].tx_packets, 'the sinks counted every frame that left');
  assert.ok(t.sent >= t.received && t.sent - t.received <= 2 * 4096, 'the rest is still in flight in the pools');
});

test('a program with maps on two workers: shared hash map, per-CPU array slots per worker', { timeout: 60_000 }, async () => {
  const ms = await MultiSwitch.start({ workers: 2, ports: 2, object: { bytes: exampleBytes('learning_bridge') }, mode: 'gen',
    templates: makeTemplates({ flows: 32, srcMacs: 32, srcPort: [1000, 1031], dstMac: '02:00:00:00:00:01', srcMac: '02:00:00:00:01:00' }) });
  try {
    await sleep(400);
  } finally {
    await ms.stop();
  }
  const per = ms.processed();
  assert.ok(per[0] > 0 && per[1] > 0, `both workers processed frames (${per})`);
  // every source MAC was learned on ifindex 1 (port 0), whichever worker saw it
  const table = dumpMaps(ms.coll!).find((m) => m.name === 'mac_table')!.entries;
  assert.equal(table.length, 32);
  assert.ok(table.every(([, v]) => v === '01000000'));
  // the size histogram has one slot per worker (CPU), each counting that worker's frames
  const hist = (ms.coll!.maps.size_log2 as PerCpuMap).get(new Uint8Array([5, 0, 0, 0]))!;
  const counts = hist.map((v) => Number(new DataView(v.buffer, v.byteOffset).getBigUint64(0, true)));
  assert.deepEqual(counts, per, 'per-CPU slot k counts worker k');
  const s = ms.stats();
  assert.equal(s[0].act_redirect, per[0] + per[1], 'the unknown destination is flooded with bpf_redirect_map (XDP_REDIRECT)');
});

test('trace events of the workers reach the main thread (bad verdicts, with the worker index)', { timeout: 60_000 }, async () => {
  const ms = await MultiSwitch.start({ workers: 2, ports: 2, prog: programFromAsm('r0 = 9\nexit\n', 'xdp', 'bad'), mode: 'gen',
    templates: makeTemplates({ flows: 64, srcPort: [1000, 1063] }) });
  const seen = new Set<number>();
  try {
    // the main thread keeps the last 64 events: watch which workers they come from over time
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      await sleep(25);
      for (const e of ms.trace) seen.add(e.worker);
    }
  } finally {
    await ms.stop();
  }
  assert.ok(ms.trace.length > 0 && ms.trace.length <= 64);
  assert.ok(ms.trace.every((e) => e.reason === 'bad_action' && e.r0 === 9 && e.port === 0));
  assert.deepEqual([...seen].sort(), [0, 1], 'both workers reported');
  const s = ms.stats()[0];
  assert.equal(s.drop_bad_action, s.rx_packets);
});
