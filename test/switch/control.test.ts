/**
 * The control socket of a running switch: stats, map listing, errors, and hot-swap under
 * generator load with nothing lost or processed twice (every generated frame is counted once
 * by exactly one of the two programs, and leaves exactly once).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jit } from '../../src/core/jit/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { makeTemplates } from '../../src/switch/dataplane/pktgen.js';
import { ControlServer, controlRequest } from '../../src/switch/control.js';
import { LiveSwitch } from '../../src/switch/live.js';
import { MemPort } from '../../src/switch/ports/mem.js';
import { formatStatsRows, type StatsRow } from '../../src/switch/stats-format.js';
import { example, exampleBytes } from './util.js';
import type { TraceEvent } from '../../src/switch/dataplane/dispatch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const dataplane of ['wasm', 'js'] as const) {
  test(`hot-swap under load loses and duplicates nothing; stats over the socket (${dataplane} loop)`, { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-ctl-'));
    const path = join(dir, 'switch.sock');
    const sw = new Switch({ ports: 2, engine: jit, dataplane, frames: 4096 });
    sw.attach(example('xdp_nologic'));
    const gen = new MemPort(sw, 0, makeTemplates({ flows: 16, size: 60 }));
    const sink = new MemPort(sw, 1);
    const live = new LiveSwitch(sw, [gen, sink]);
    const ctl = new ControlServer(live, path);
    await ctl.listen();
    live.start();
    try {
      const objects = { vale: exampleBytes('vale_nologic'), xdp: exampleBytes('xdp_nologic') };
      for (let k = 0; k < 8; k++) {
        const which = k % 2 === 0 ? 'vale' : 'xdp';
        const before = gen.sent;
        const res = await controlRequest(path, { cmd: 'swap', object: Buffer.from(objects[which]).toString('base64') });
        assert.equal((res.program as { kind: string }).kind, which);
        while (gen.sent < before + 20_000) await sleep(1); // keep traffic flowing between swaps
      }
      await assert.rejects(controlRequest(path, { cmd: 'swap', object: 'AAAA' }), (e: Error) => /E_ELF|EINVAL|ELF/.test(`${(e as { code?: string }).code} ${e.message}`));
      await assert.rejects(controlRequest(path, { cmd: 'nope' as 'stats' }), /unknown control command/);
      gen.limit = gen.sent; // stop generating, let everything drain
      for (let i = 0; i < 5000 && sink.out.frames < gen.sent; i++) await sleep(1);
      const res = await controlRequest(path, { cmd: 'stats' });
      const ports = res.ports as Array<Record<string, number>>;
      assert.equal(sink.out.frames, gen.sent, 'every generated frame left port 1');
      assert.equal(ports[0].rx_packets, gen.sent, 'every frame was received once');
      assert.equal(ports[0].act_redirect + ports[0].act_forward, gen.sent, 'every frame got exactly one verdict');
      assert.ok(ports[0].act_redirect > 0 && ports[0].act_forward > 0, 'both programs ran');
      assert.equal(ports[1].tx_packets, gen.sent);
      const drops = Object.entries(ports[0]).filter(([k, v]) => k.startsWith('drop_') && v !== 0);
      assert.deepEqual(drops, []);
      assert.equal(res.program && (res.program as { name: string }).name, 'xdp_nologic');
      const text = formatStatsRows(ports as unknown as StatsRow[], res.trace as TraceEvent[]);
      assert.match(text, new RegExp(`act_redirect=${ports[0].act_redirect} act_forward=${ports[0].act_forward}`));
      assert.deepEqual((await controlRequest(path, { cmd: 'maps' })).maps, []);
    } finally {
      await live.stop();
      await ctl.close();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(sw.pool.available(), sw.pool.count);
  });
}

test('controlRequest fails cleanly when nothing listens', async () => {
  await assert.rejects(controlRequest(join(tmpdir(), `tsbpf-none-${process.pid}.sock`), { cmd: 'stats' }), /cannot reach the switch/);
});
