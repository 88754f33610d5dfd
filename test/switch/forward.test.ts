/**
 * Forwarding correctness of the example programs in the switch (JavaScript loop, both
 * engines): which frames leave which port, byte for byte and in order, and the counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Switch } from '../../src/switch/dataplane/switch.js';
import { jit } from '../../src/core/jit/index.js';
import { drain, example, frame, MODES, type Mode } from './util.js';

const TRUSTED: Mode = { label: 'jit+wasm trusted', opts: { engine: jit, dataplane: 'wasm', checked: false } };

for (const { label, opts } of [...MODES, TRUSTED]) {
  for (const name of ['vale_nologic', 'xdp_nologic']) {
    test(`${name} (${label}): frames from port i leave port i^1 unchanged, in order`, () => {
      const sw = new Switch({ ports: 4, ...opts, batch: 8 });
      sw.attach(example(name));
      const sent: Uint8Array[][] = [[], [], [], []];
      for (let k = 0; k < 20; k++) {
        for (let p = 0; p < 4; p++) {
          const f = frame('02:00:00:00:00:01', p * 100 + k, 60 + k * 7);
          sent[p].push(f);
          assert.ok(sw.receive(p, f));
        }
      }
      assert.equal(sw.run(), 80);
      const out = drain(sw);
      for (let p = 0; p < 4; p++) assert.deepEqual(out[p ^ 1], sent[p], `port ${p} -> ${p ^ 1}`);
      for (const s of sw.stats()) {
        assert.equal(s.rx_packets, 20);
        assert.equal(s.tx_packets, 20);
        assert.equal(s.tx_bytes, sent[s.port ^ 1].reduce((a, f) => a + f.length, 0));
        assert.equal(s[name.startsWith('vale') ? 'act_forward' : 'act_redirect'], 20);
      }
      assert.equal(sw.pool.available(), sw.pool.count, 'every frame went back to the pool');
    });
  }

  test(`xdp_l2_static (${label}): redirect by MAC, TX, PASS to host, drops`, () => {
    const host: Array<[number, Uint8Array]> = [];
    const sw = new Switch({ ports: 4, ...opts, onHost: (p, f) => host.push([p, f]) });
    sw.attach(example('xdp_l2_static'));
    const toP2 = frame('02:00:00:00:00:03', 1);
    const bcast = frame('ff:ff:ff:ff:ff:ff', 2);
    const unknown = frame('04:00:00:00:00:03', 3);
    const self = frame('02:00:00:00:00:02', 4);
    sw.receive(0, toP2);
    sw.receive(0, bcast);
    sw.receive(0, unknown);
    sw.receive(1, self);
    sw.run();
    const out = drain(sw);
    assert.deepEqual(out[2], [toP2]);
    assert.deepEqual(out[1], [self], 'XDP_TX leaves the ingress port');
    assert.deepEqual(out[0], []);
    assert.deepEqual(out[3], []);
    assert.deepEqual(host, [[0, bcast]]);
    const s = sw.stats();
    assert.equal(s[0].act_redirect, 1);
    assert.equal(s[0].act_pass, 1);
    assert.equal(s[0].act_drop, 1);
    assert.equal(s[0].drop_program, 1);
    assert.equal(s[0].host_packets, 1);
    assert.equal(s[1].act_tx, 1);
    assert.equal(sw.pool.available(), sw.pool.count);
  });
}

for (const { label, opts } of MODES) {
test(`VALE broadcast copies a frame to every other port; hairpin and missing ports drop (${label})`, () => {
  const sw = new Switch({ ports: 3, ...opts });
  sw.attach({ kind: 'vale', name: 'bcast', insns: asmProgram('r0 = *(u32 *)(r1 + 16)\nif r0 == 0 goto +2\nr0 = 254\nexit\nr0 = 7\nexit') });
  const f1 = frame('02:00:00:00:00:01', 1);
  const f2 = frame('02:00:00:00:00:01', 2);
  sw.receive(1, f1); // ingress_port 1 -> broadcast to 0 and 2
  sw.receive(0, f2); // ingress_port 0 -> port 7 does not exist
  sw.run();
  const out = drain(sw);
  assert.deepEqual(out, [[f1], [], [f1]]);
  const s = sw.stats();
  assert.equal(s[1].act_broadcast, 1);
  assert.equal(s[0].drop_no_port, 1);
  assert.equal(sw.pool.available(), sw.pool.count);
});
}

import { assemble } from '../../src/core/asm/index.js';
function asmProgram(text: string) {
  return assemble(text);
}

import { HelperRegistry } from '../../src/core/helpers/registry.js';
test('with the JIT, bpf_redirect runs in WebAssembly (its JavaScript form is never called)', () => {
  const helpers = new HelperRegistry();
  const sw = new Switch({ ports: 2, engine: jit, dataplane: 'wasm', helpers });
  const impl = helpers.get(23)!;
  let jsCalls = 0;
  helpers.register(23, (...a) => {
    jsCalls++;
    return impl.fn(...a);
  }, impl.wasm);
  sw.attach(example('xdp_nologic'));
  const f = frame('02:00:00:00:00:01', 1);
  sw.receive(0, f);
  sw.run();
  assert.deepEqual(drain(sw)[1], [f]);
  assert.equal(jsCalls, 0);
});

import { BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS, SW_REDIRECT_FLAGS } from '../../src/switch/dataplane/layout.js';
for (const { label, opts } of MODES) {
  test(`the redirect flags seam: broadcast with and without the ingress port (${label})`, () => {
    // stands in for bpf_redirect_map on a devmap: r1 = flags to record
    const helpers = new HelperRegistry();
    const sw = new Switch({ ports: 3, ...opts, helpers });
    helpers.register(51, (flags, _b, _c, _d, _e, env) => {
      env.space.dv.setUint32(sw.state + SW_REDIRECT_FLAGS, Number(flags), true);
      return 4n;
    });
    sw.attach({ kind: 'xdp', name: 'bc', insns: assemble(`r1 = ${BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS}\ncall 51\nexit`) });
    const f1 = frame('ff:ff:ff:ff:ff:ff', 1);
    sw.receive(1, f1);
    sw.run();
    assert.deepEqual(drain(sw), [[f1], [], [f1]]);
    sw.attach({ kind: 'xdp', name: 'bc', insns: assemble(`r1 = ${BPF_F_BROADCAST}\ncall 51\nexit`) });
    const f2 = frame('ff:ff:ff:ff:ff:ff', 2);
    sw.receive(1, f2);
    sw.run();
    assert.deepEqual(drain(sw), [[f2], [f2], [f2]]);
    assert.equal(sw.pool.available(), sw.pool.count);
  });
}
