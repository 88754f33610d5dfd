/**
 * Flooding inside the WebAssembly loop: VALE-BPF broadcasts (254) and bpf_redirect_map with
 * BPF_F_BROADCAST through the flood table's devmap are copied to every output ring without
 * a punt to JavaScript, and give the JavaScript dispatcher's frames, order and counters,
 * including when copies run out of pool frames or output rings fill up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jit } from '../../src/core/jit/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { SW_NPUNT } from '../../src/switch/dataplane/layout.js';
import { programFromAsm } from '../../src/switch/program.js';
import { switchObject } from '../../src/switch/objects.js';
import type { BpfMap } from '../../src/core/runtime/map.js';
import { drain, exampleBytes, frame } from './util.js';

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const punts = (sw: Switch) => sw.views.refresh().u32[(sw.state + SW_NPUNT) >>> 2];

type Opts = { frames?: number; ringSize?: number };

/** vale runs a VALE-BPF broadcaster (frame byte 0x3b odd: broadcast, else port 1) over `frames` received on port 0. */
function vale(dataplane: 'wasm' | 'js', frames: Uint8Array[], o: Opts = {}) {
  const sw = new Switch({ ports: 4, engine: jit, dataplane, ...o });
  sw.attach(programFromAsm('r2 = *(u64 *)(r1 + 0)\nr0 = *(u8 *)(r2 + 59)\nr0 &= 1\nif r0 == 0 goto +2\nr0 = 254\nexit\nr0 = 1\nexit\n',
    'vale', 'bc'));
  // batches of at most 8 frames, TX rings not drained in between (so small rings fill up)
  let np = 0;
  for (let i = 0; i < frames.length; i += 8) {
    for (const f of frames.slice(i, i + 8)) sw.receive(0, f);
    sw.step();
    np += punts(sw);
  }
  return { out: drain(sw), stats: sw.stats(), punts: np, free: sw.pool.available() === sw.pool.count };
}

test('VALE-BPF broadcast is flooded in Wasm: the JS loop\'s frames and counters', () => {
  const frames = Array.from({ length: 40 }, (_, i) => frame('ff:ff:ff:ff:ff:ff', i, 60 + i));
  const w = vale('wasm', frames), j = vale('js', frames);
  assert.equal(w.punts, 0, 'no frame was punted to JavaScript');
  assert.deepEqual(w.out, j.out);
  assert.deepEqual(w.stats, j.stats);
  assert.equal(w.stats[0].act_broadcast, 20);
  assert.equal(w.out[2].length, 20);
  assert.ok(w.free && j.free);
});

test('flooding out of pool frames and into full rings: counted drops as in the JS dispatcher', () => {
  const frames = Array.from({ length: 24 }, (_, i) => frame('ff:ff:ff:ff:ff:ff', 2 * i + 1));
  for (const o of [{ frames: 40 }, { ringSize: 16 }]) {
    const w = vale('wasm', frames, o), j = vale('js', frames, o);
    assert.deepEqual(w.out, j.out, JSON.stringify(o));
    assert.deepEqual(w.stats, j.stats, JSON.stringify(o));
    const lost = w.stats.reduce((a, s) => a + s.drop_no_frame + s.drop_ring_full, 0);
    assert.ok(lost > 0, `some copies were lost (${JSON.stringify(o)})`);
    assert.ok(w.free);
  }
});

test('learning bridge: unknown destinations are flooded through the devmap in Wasm after the first punt', () => {
  const run = (dataplane: 'wasm' | 'js') => {
    const o = switchObject(exampleBytes('learning_bridge'));
    const sw = new Switch({ ports: 4, engine: jit, dataplane, runtime: o.runtime });
    sw.attach(o.prog);
    const tx = o.coll.maps.tx_ports as BpfMap;
    for (const p of sw.ports) if (p.index !== 3) tx.set(u32(p.ifindex), u32(p.ifindex));
    const np: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 30; i++) sw.receive(round % 2, frame(`02:00:00:00:09:${(i % 10).toString(16).padStart(2, '0')}`, round * 30 + i));
      sw.step();
      np.push(punts(sw));
      sw.run();
    }
    return { out: drain(sw), stats: sw.stats(), np };
  };
  const w = run('wasm'), j = run('js');
  assert.deepEqual(w.out, j.out);
  assert.deepEqual(w.stats, j.stats);
  assert.equal(w.np[0], 30, 'the first broadcast batch is punted (it selects the devmap)');
  assert.deepEqual(w.np.slice(1), [0, 0], 'later ones are flooded in Wasm');
  assert.equal(w.out[3].length, 0, 'port 3 is not in the devmap');
  assert.equal(w.out[2].length, 90);
});
