/**
 * Devmap egress programs (examples/switch/xdp_devmap_egress.c): entries of a devmap whose
 * value is struct bpf_devmap_val { ifindex; bpf_prog.fd } run their program on each frame
 * redirected through them before it is queued on the port — unicast and broadcast, with
 * egress_ifindex set, XDP_DROP dropping, bpf_xdp_adjust_head working — in every loop and on
 * workers; entries without a program are unaffected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jit } from '../../src/core/jit/index.js';
import * as cmd from '../../src/core/runtime/commands.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { programFromObject } from '../../src/switch/program.js';
import { switchObject } from '../../src/switch/objects.js';
import { drain, exampleBytes, frame, MODES } from './util.js';
import { MultiSwitch } from '../../src/switch/workers/multi.js';

const bytes = exampleBytes('xdp_devmap_egress');
const devVal = (ifindex: number, fd: number) => new Uint8Array(new Uint32Array([ifindex, fd]).buffer);
const key = (k: number) => new Uint8Array(new Uint32Array([k]).buffer);

/** stamped is what egress_stamp makes of frame `f` received on ifindex `ing` and sent to `eg`. */
function stamped(f: Uint8Array, ing: number, eg: number): Uint8Array {
  const g = Uint8Array.from(f);
  g[10] = ing;
  g[11] = eg;
  return g[g.length - 1] === 0x7e ? Uint8Array.from([0xee, eg, 0, 0, ...g]) : g;
}

for (const mode of MODES) {
  test(`devmap egress programs run before the frame is queued (${mode.label})`, () => {
    const o = switchObject(bytes, { name: 'devmap_redirect' });
    const sw = new Switch({ ports: 4, ...mode.opts, runtime: o.runtime });
    sw.attach(o.prog);
    const egress = o.runtime.load(mode.opts.engine, programFromObject(bytes, { name: 'egress_stamp' }).insns, { name: 'egress_stamp' });
    const map = o.coll.fds.get('out_ports')!;
    // ifindex 2 and 4 with the egress program, 3 without; 1 (the ingress port) not in the map
    cmd.mapUpdateElem(o.runtime, map, key(2), devVal(2, egress.fd), 0);
    cmd.mapUpdateElem(o.runtime, map, key(3), devVal(3, 0), 0);
    cmd.mapUpdateElem(o.runtime, map, key(4), devVal(4, egress.fd), 0);
    const a = frame('02:00:00:00:00:02', 1);
    const b = frame('02:00:00:00:00:03', 2);
    const c = frame('02:00:00:00:00:04', 3);
    const d = frame('ff:ff:ff:ff:ff:ff', 4);
    const e = frame('02:00:00:00:00:02', 0x7e); // tagged by adjust_head on egress
    const f = frame('ff:ff:ff:ff:ff:ff', 0x7e);
    for (let round = 0; round < 2; round++) { // the second round: the Wasm loop knows the devmap
      for (const x of [a, b, c, d, e, f]) assert.ok(sw.receive(0, x));
      sw.run();
      const out = drain(sw);
      assert.deepEqual(out[0], []);
      assert.deepEqual(out[1], [stamped(a, 1, 2), stamped(d, 1, 2), stamped(e, 1, 2), stamped(f, 1, 2)]);
      assert.deepEqual(out[2], [b, d, f], 'no program on ifindex 3');
      assert.deepEqual(out[3], [], 'the egress program drops everything to ifindex 4');
    }
    const s = sw.stats();
    assert.equal(s[3].drop_program, 2 * 3, 'c, d and f dropped on port 3 by the egress program');
    assert.equal(s[0].act_redirect, 12);
    assert.equal(sw.pool.available(), sw.pool.count);
    // with the program gone from the entry, frames pass untouched
    cmd.mapUpdateElem(o.runtime, map, key(2), devVal(2, 0), 0);
    sw.receive(0, a);
    sw.run();
    assert.deepEqual(drain(sw)[1], [a]);
  });
}

test('the same verdicts from the Wasm loop and the JavaScript loop for every frame size', () => {
  const run = (dataplane: 'wasm' | 'js') => {
    const o = switchObject(bytes, { name: 'devmap_redirect' });
    const sw = new Switch({ ports: 3, engine: jit, dataplane, runtime: o.runtime });
    sw.attach(o.prog);
    const egress = o.runtime.load(jit, programFromObject(bytes, { name: 'egress_stamp' }).insns);
    const map = o.coll.fds.get('out_ports')!;
    cmd.mapUpdateElem(o.runtime, map, key(2), devVal(2, egress.fd), 0);
    cmd.mapUpdateElem(o.runtime, map, key(3), devVal(3, egress.fd), 0);
    for (let i = 0; i < 60; i++) sw.receive(i % 3, frame(i % 4 === 0 ? 'ff:ff:ff:ff:ff:ff' : `02:00:00:00:00:0${1 + (i % 3)}`, i, 60 + i));
    sw.run();
    return { out: drain(sw), stats: sw.stats(), trace: sw.trace };
  };
  assert.deepEqual(run('wasm'), run('js'));
});

test('egress programs on workers: shared with sharePrograms, run by the worker that forwards the frame', { timeout: 60_000 }, async () => {
  const ms = await MultiSwitch.start({ workers: 2, ports: 4, mode: 'io', object: { bytes, select: { name: 'devmap_redirect' } } });
  try {
    const rt = ms.runtime!;
    const egress = rt.load(jit, programFromObject(bytes, { name: 'egress_stamp' }).insns, { name: 'egress_stamp' });
    await ms.sharePrograms();
    const map = ms.coll!.fds.get('out_ports')!;
    cmd.mapUpdateElem(rt, map, key(2), devVal(2, egress.fd), 0);
    cmd.mapUpdateElem(rt, map, key(4), devVal(4, egress.fd), 0);
    const frames = Array.from({ length: 40 }, (_, i) => frame(i % 4 === 3 ? 'ff:ff:ff:ff:ff:ff' : `02:00:00:00:00:0${2 + (i % 4)}`, i));
    for (const f of frames) assert.ok(ms.front.receive(0, f));
    const out: string[][] = [[], [], [], []];
    const hex = (f: Uint8Array) => Buffer.from(f).toString('hex');
    for (let i = 0; i < 2000 && out[1].length + out[2].length < 40; i++) {
      ms.distribute();
      ms.gather();
      for (let p = 0; p < 4; p++) ms.front.transmit(p, (f) => out[p].push(hex(f)));
      await new Promise((r) => setTimeout(r, 1));
    }
    const expect = (p: number) => frames.filter((_, i) => (p === 1 ? i % 4 === 0 || i % 4 === 3 : i % 4 === 1 || i % 4 === 3))
      .map((f) => hex(p === 1 ? stamped(f, 1, 2) : f)).sort();
    assert.deepEqual(out[1].sort(), expect(1), 'ifindex 2: stamped by the egress program');
    assert.deepEqual(out[2].sort(), expect(2), 'ifindex 3: no program');
    assert.deepEqual(out[3], [], 'ifindex 4: dropped by the egress program');
    assert.deepEqual(ms.trace.filter((e) => e.reason === 'egress_prog_missing'), []);
    assert.equal(ms.stats()[3].drop_program, 20);
  } finally {
    await ms.stop();
  }
});
