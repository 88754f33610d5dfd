/**
 * WasmFrameSource: template copies land on the RX ring byte for byte and in template order,
 * bounded by free slots and free frames; the sink returns every frame and counts bytes; both
 * in private and shared memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jit } from '../../src/core/jit/index.js';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { WasmFrameSource } from '../../src/switch/dataplane/gen-wasm.js';
import { frame } from './util.js';

for (const shared of [false, true]) {
  test(`fill and sink in WebAssembly (${shared ? 'shared' : 'private'} memory)`, () => {
    const sw = new Switch({ ports: 2, engine: jit, frames: 16, ringSize: 8, shared });
    const templates = [frame('02:00:00:00:00:01', 1, 60), frame('02:00:00:00:00:02', 2, 99), frame('02:00:00:00:00:03', 3, 1500)];
    const src = new WasmFrameSource(sw.space, sw.pool, templates);
    const rx = sw.ports[0].rx;
    assert.equal(src.fill(rx, 5), 5);
    assert.equal(src.fill(rx), 3, 'ring of 8 slots');
    assert.equal(sw.pool.available(), 8);
    const seen: Uint8Array[] = [];
    for (let k = 0; k < 8; k++) seen.push(sw.space.read(rx.addrAt(k), rx.lenAt(k)));
    assert.deepEqual(seen, [0, 1, 2, 0, 1, 2, 0, 1].map((i) => templates[i]));
    // move them to port 1's TX ring and sink them
    assert.equal(rx.moveTo(sw.ports[1].tx), 8);
    assert.equal(src.sink(sw.ports[1].tx), 8);
    assert.equal(sw.pool.available(), 16);
    assert.deepEqual(src.count(), { frames: 8, bytes: 3 * 60 + 3 * 99 + 2 * 1500 });
    // the pool bounds a fill too; the template cursor continues where it stopped
    const tx = sw.ports[1].tx;
    assert.equal(src.fill(rx, 8), 8);
    rx.moveTo(tx);
    assert.equal(src.fill(rx), 8);
    assert.equal(src.fill(rx), 0, 'no free frames and no free slots');
    assert.deepEqual(sw.space.read(rx.addrAt(0), rx.lenAt(0)), templates[(8 + 8) % 3]);
  });
}
